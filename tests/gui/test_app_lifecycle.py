"""The real ``s3z`` app as a subprocess (offscreen, fresh HOME and XDG folders) signalled or
killed mid-upload: nothing may be left behind, and the next start just works.

* SIGTERM, SIGINT, SIGHUP: closed like the close button — the multipart upload aborted, the
  sandbox stopped, no temp file, exit 128 + n.
* SIGKILL: no cleanup code runs in the app, yet the sandbox's warden stops the server and
  removes its sockets; the next start brings the sandbox up by itself with its data, and
  aborts the upload the killed run left unfinished.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from servers import boto3_client
from soak import fresh_env, processes_on, weed_sockets

from s3z_core.local_server import LocalS3Server

SCRIPTED_APP = Path(__file__).with_name("scripted_app.py")
UPLOAD_BYTES = 1024 * 1024 * 1024  # sparse; big enough to be in flight when the signal lands
READY_TIMEOUT_S = 120.0


def _env(tmp_path: Path) -> dict[str, str]:
    env = fresh_env(tmp_path / "user")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _sandbox(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "s3z" / "s3z" / "sandbox"


def _endpoint(sandbox: Path, url: str) -> SimpleNamespace:
    identity = json.loads((sandbox / "s3.json").read_text())["identities"][0]["credentials"][0]
    return SimpleNamespace(
        endpoint_url=url,
        access_key=identity["accessKey"],
        secret_key=identity["secretKey"],
        region="us-east-1",
    )


def _start_uploading_app(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(UPLOAD_BYTES)
    with (tmp_path / "app.log").open("w") as log:
        app = subprocess.Popen(
            [sys.executable, str(SCRIPTED_APP), "upload", str(big)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=tmp_path,
        )
    assert app.stdout is not None
    watchdog = threading.Timer(READY_TIMEOUT_S, app.kill)
    watchdog.start()
    try:
        line = app.stdout.readline()
    finally:
        watchdog.cancel()
    assert line, f"the app never started its upload:\n{(tmp_path / 'app.log').read_text()[-3000:]}"
    event = json.loads(line)
    assert event["event"] == "uploading"
    return app, event["endpoint"]


def _wait_for(predicate: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _uploads(client: Any, bucket: str = "my-files") -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


def _temp_leftovers(env: dict[str, str], tmp_path: Path, sockets: list[Path]) -> list[str]:
    left = [str(p) for p in Path(env["TMPDIR"]).iterdir()]
    left += [str(p) for p in tmp_path.rglob("*.s3z-part")]
    return left + [str(p) for p in sockets if p.exists()]


def _close(app: subprocess.Popen[str]) -> None:
    if app.stdout is not None:
        app.stdout.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_closes_like_the_close_button(signum: int, tmp_path: Path) -> None:
    env = _env(tmp_path)
    sandbox = _sandbox(env)
    app, url = _start_uploading_app(env, tmp_path)
    try:
        client = boto3_client(_endpoint(sandbox, url))
        _wait_for(lambda: _uploads(client), "the multipart upload to be created")
        servers = processes_on(sandbox)
        assert len(servers) == 2, "the sandbox runs as weed under its warden"
        sockets = weed_sockets(servers)
        app.send_signal(signum)
        code = app.wait(timeout=90)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        _close(app)
    log = (tmp_path / "app.log").read_text()
    assert code == 128 + signum, log[-3000:]
    assert "Fatal Python error" not in log
    assert "unexpected error" not in log
    assert processes_on(sandbox) == [], "the sandbox server outlived the app"
    assert _temp_leftovers(env, tmp_path, sockets) == []
    with LocalS3Server(sandbox) as server:  # what the server kept: no upload, no object
        client = boto3_client(server)
        assert _uploads(client) == [], "the in-flight multipart upload was not aborted"
        listed = client.list_objects_v2(Bucket="my-files").get("Contents", [])
        assert [o["Key"] for o in listed if o["Key"] == "big.bin"] == []


def test_sigkill_leaves_nothing_running_and_the_next_start_just_works(tmp_path: Path) -> None:
    env = _env(tmp_path)
    sandbox = _sandbox(env)
    app, url = _start_uploading_app(env, tmp_path)
    kept = os.urandom(1024 * 1024 + 7)
    try:
        client = boto3_client(_endpoint(sandbox, url))
        client.put_object(Bucket="my-files", Key="kept.bin", Body=kept)
        _wait_for(lambda: _uploads(client), "the multipart upload to be created")
        sockets = weed_sockets(processes_on(sandbox))
        app.kill()  # SIGKILL: no signal handler, no atexit, no finally runs in the app
        app.wait()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        _close(app)
    _wait_for(lambda: not processes_on(sandbox), "the warden to stop the server", 40)
    assert _temp_leftovers(env, tmp_path, sockets) == []

    # The next start, as a user would make it: the real console script, no action of theirs.
    log_path = tmp_path / "second.log"
    with log_path.open("w") as log:
        second = subprocess.Popen(
            [str(Path(sys.executable).with_name("s3z"))],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=tmp_path,
        )
    try:
        started = re.compile(r"sandbox started: LocalS3Server\((http://127\.0\.0\.1:\d+)")
        _wait_for(lambda: started.search(log_path.read_text()), "the sandbox", READY_TIMEOUT_S)
        match = started.search(log_path.read_text())
        assert match is not None
        client = boto3_client(_endpoint(sandbox, match.group(1)))
        body = client.get_object(Bucket="my-files", Key="kept.bin")["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(kept).digest()
        _wait_for(lambda: not _uploads(client), "the killed run's upload to be aborted", 30)
        sockets = weed_sockets(processes_on(sandbox))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=90) == 128 + signal.SIGTERM
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    text = log_path.read_text()
    assert "Fatal Python error" not in text
    assert "unexpected error" not in text
    assert "still serves" not in text
    assert "kill" not in text.lower()
    assert processes_on(sandbox) == []
    assert _temp_leftovers(env, tmp_path, sockets) == []
