"""A local server's life beyond its owner: bound to it (the warden), or recognised when left over.

Each scenario runs the owner as a real child process and kills it with SIGKILL, the one end no
cleanup code sees.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from servers import boto3_client

from s3z_core.local_server import (
    PID_FILE,
    LocalS3Server,
    LocalServerError,
    RcloneS3Server,
)
from s3z_core.server_launch import probe_list_buckets

OWNER = r"""
import json, sys, threading
from s3z_core.local_server import LocalS3Server, RcloneS3Server
cls = {"seaweedfs": LocalS3Server, "rclone": RcloneS3Server}[sys.argv[1]]
server = cls(sys.argv[2], bind_to_parent=sys.argv[3] == "bound")
# Started from a thread that ends at once: the server must not depend on that thread.
starter = threading.Thread(target=server.start)
starter.start()
starter.join()
print(json.dumps({"pid": server.pid, "port": server.s3_port, "secret": server.secret_key,
                  "leftovers": [str(p) for p in server._leftovers()]}), flush=True)
sys.stdin.read()  # until the test kills us
"""


def _start_owner(kind: str, data_dir: Path, mode: str) -> tuple[subprocess.Popen[str], dict]:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, kind, str(data_dir), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    line = owner.stdout.readline()
    assert line, f"the owner process failed to start a {kind} server (exit {owner.wait()})"
    return owner, json.loads(line)


def _kill(owner: subprocess.Popen[str]) -> None:
    owner.kill()
    owner.wait()
    for stream in (owner.stdin, owner.stdout):
        if stream is not None:
            stream.close()


def _group_alive(pgid: int) -> list[int]:
    alive = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


def _wait_group_gone(pgid: int, timeout_s: float = 40.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (alive := _group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _endpoint(info: dict) -> SimpleNamespace:
    return SimpleNamespace(
        endpoint_url=f"http://127.0.0.1:{info['port']}",
        access_key="s3zlocal",
        secret_key=info["secret"],
        region="us-east-1",
    )


@pytest.mark.parametrize("kind", ["seaweedfs", "rclone"])
def test_bound_server_outlives_its_starting_thread_and_dies_with_its_owner(
    kind: str, tmp_path: Path
) -> None:
    owner, info = _start_owner(kind, tmp_path / "box", "bound")
    try:
        time.sleep(0.5)  # the starting thread is long gone
        status = probe_list_buckets(
            "127.0.0.1", info["port"], "s3zlocal", info["secret"], "us-east-1"
        )
        assert status == 200, "the server died with the thread that started it"
        server_group = _group_alive(info["pid"])
        assert len(server_group) == 2, f"warden and server expected, got {server_group}"
        if kind == "seaweedfs":
            assert any(Path(p).exists() for p in info["leftovers"]), "weed made no sockets?"
    finally:
        _kill(owner)
    assert _wait_group_gone(info["pid"]) == [], "the server outlived its SIGKILLed owner"
    assert [p for p in info["leftovers"] if Path(p).exists()] == [], "sockets left behind"
    # The folder is reusable at once, with its data: nothing to clean up by hand.
    with (RcloneS3Server if kind == "rclone" else LocalS3Server)(tmp_path / "box") as again:
        assert again.secret_key == info["secret"]


def test_left_over_server_of_a_killed_cli_is_stopped_and_its_data_served(tmp_path: Path) -> None:
    box = tmp_path / "box"
    cli = Path(sys.executable).with_name("s3z-core")
    first = subprocess.Popen(
        [str(cli), "--json", "serve-local", "--dir", str(box)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None
    started = json.loads(first.stdout.readline())
    data = os.urandom(300_000)
    endpoint = SimpleNamespace(
        endpoint_url=started["endpoint_url"],
        access_key=started["access_key"],
        secret_key=started["secret_key"],
        region=started["region"],
    )
    boto3_client(endpoint).create_bucket(Bucket="kept")
    boto3_client(endpoint).put_object(Bucket="kept", Key="a.bin", Body=data)
    first.kill()  # no cleanup runs: weed keeps serving the folder, orphaned
    first.wait()
    first.stdout.close()
    orphan = psutil.Process(started["pid"])
    assert orphan.is_running()
    assert orphan.status() != psutil.STATUS_ZOMBIE
    try:
        with LocalS3Server(box) as second:
            assert not orphan.is_running() or orphan.status() == psutil.STATUS_ZOMBIE
            body = boto3_client(second).get_object(Bucket="kept", Key="a.bin")["Body"].read()
            assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    finally:
        if orphan.is_running():
            os.killpg(started["pid"], signal.SIGKILL)


def test_pid_file_naming_someone_else_is_ignored_and_they_are_not_signalled(
    tmp_path: Path,
) -> None:
    box = tmp_path / "box"
    box.mkdir()
    # Names the data folder but is not our binary: a reused pid must never be signalled.
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", str(box / "data")],
        start_new_session=True,
    )
    try:
        (box / PID_FILE).write_text(f"{bystander.pid} 1", encoding="ascii")
        with LocalS3Server(box) as server:
            assert server.running
        assert bystander.poll() is None, "a process that is not our server was signalled"
    finally:
        bystander.kill()
        bystander.wait()


def test_server_of_a_running_owner_is_refused_without_asking_to_kill(tmp_path: Path) -> None:
    owner, info = _start_owner("rclone", tmp_path / "box", "bound")
    try:
        with pytest.raises(LocalServerError) as refused:
            RcloneS3Server(tmp_path / "box").start()
        message = str(refused.value)
        assert f"pid {owner.pid}" in message
        assert "in use" in message
        assert "kill" not in message
        assert probe_list_buckets(
            "127.0.0.1", info["port"], "s3zlocal", info["secret"], "us-east-1"
        )
    finally:
        _kill(owner)
    assert _wait_group_gone(info["pid"]) == []


@pytest.mark.parametrize("bound", [True, False])
def test_a_port_taken_before_the_server_binds_it_is_retried_on_fresh_ports(
    bound: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program grabs the S3 port between our check and weed's bind: the next attempt
    must work, also under the warden (which removes the socket folder when weed exits)."""
    import s3z_core.managed_server as managed_server

    real = managed_server.reserve_ports
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    calls: list[list[int]] = []

    def first_one_taken(count: int, *, twin_offset: int | None = None) -> list[int]:
        ports = real(count, twin_offset=twin_offset)
        if not calls:
            ports = [taken, *ports[1:]]
        calls.append(ports)
        return ports

    monkeypatch.setattr(managed_server, "reserve_ports", first_one_taken)
    try:
        with LocalS3Server(tmp_path / "box", bind_to_parent=bound) as server:
            assert len(calls) == 2, "the first attempt should have failed on the taken port"
            assert server.s3_port != taken
            assert boto3_client(server).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        holder.close()
