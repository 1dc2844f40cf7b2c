"""Exit codes and error lines through the real entry point: nonexistent bucket, missing
credentials, bad URL, unreadable local file, secrets never printed, Ctrl-C mid-transfer
(exit 130, no orphaned multipart upload, no temp file), serve-local start/stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from clirun import cli_env, command, run, sha256_file, sha256_object
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

BIG = 256 * 1024 * 1024


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with path.open("wb") as f:
        for _ in range(BIG // (8 << 20)):
            f.write(os.urandom(8 << 20))
    return path


def test_nonexistent_bucket_exits_1_with_one_line(
    seaweed: LocalS3Server, home: Path, tmp_path: Path
) -> None:
    proc = run(seaweed, home, "ls", "s3://no-such-bucket-s3z", check=1)
    assert proc.stderr.startswith(
        "s3z-core: error: ListObjectsV2 s3://no-such-bucket-s3z: NoSuchBucket (HTTP 404)"
    )
    assert proc.stderr.count("\n") == 1
    # (An upload would not do: SeaweedFS creates a missing bucket on PutObject.)
    cp = run(seaweed, home, "cp", "s3://no-such-bucket-s3z/f.txt", str(tmp_path), check=1)
    failed = [line for line in cp.stderr.splitlines() if line.startswith("s3z-core: failed:")]
    assert len(failed) == 1
    assert "s3://no-such-bucket-s3z/f.txt" in failed[0]
    assert "404" in failed[0]
    assert "Traceback" not in cp.stderr
    js = run(seaweed, home, "--json", "cat", "s3://no-such-bucket-s3z/k", check=1)
    record = json.loads(js.stdout.splitlines()[-1])
    assert (record["type"], record["code"], record["status"]) == ("error", "NoSuchBucket", 404)


def test_missing_object_exits_1(
    seaweed: LocalS3Server, home: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    proc = run(seaweed, home, "cp", f"s3://{b}/nope.bin", str(home / "x"), check=1)
    assert f"s3://{b}/nope.bin" in proc.stderr
    assert "404" in proc.stderr
    assert not (home / "x").exists()


def test_missing_credentials_and_bad_url_exit_2(seaweed: LocalS3Server, home: Path) -> None:
    proc = run(None, home, "ls", "s3://b", "--endpoint-url", seaweed.endpoint_url, check=2)
    assert proc.stderr.startswith("s3z-core: error: no credentials found")
    assert proc.stdout == ""
    bad = run(seaweed, home, "cp", "x", "gs://b/k", check=2)
    assert bad.stderr == "s3z-core: error: unsupported URL scheme 'gs' in 'gs://b/k': " \
        "use s3://bucket/key\n"  # fmt: skip
    missing = run(seaweed, home, "cp", str(home / "absent.txt"), "s3://b/", check=2)
    assert "source not found" in missing.stderr
    zero = run(seaweed, home, "cp", "--part-size", "0", "a", "s3://b/", check=2)
    assert "--part-size: must be positive" in zero.stderr


def test_unreadable_local_file_is_listed_and_exits_1(
    seaweed: LocalS3Server, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    root = Path(tempfile.mkdtemp(prefix="s3z-cli-unreadable-"))
    try:
        root.chmod(0o755)
        (root / "ok.txt").write_text("fine")
        (root / "ok.txt").chmod(0o644)
        secret = root / "locked.txt"
        secret.write_text("no")
        secret.chmod(0o000)
        # Root reads anything: drop the capabilities that let it ignore file modes.
        proc = run(seaweed, root, "cp", "-r", str(root), f"s3://{b}/u/", check=1, modes_apply=True)
        failed = [line for line in proc.stderr.splitlines() if "failed:" in line]
        assert len(failed) == 1
        assert str(secret) in failed[0]
        assert "Traceback" not in proc.stderr
        client = boto3_client(seaweed)
        assert sha256_object(client, b, "u/ok.txt") == sha256_file(root / "ok.txt")
    finally:
        for path in root.iterdir():
            path.unlink()
        root.rmdir()


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_secret_never_printed(
    seaweed: LocalS3Server, home: Path, tmp_path: Path, debug: list[str]
) -> None:
    secret = "KNOWN-s3cr3t-" + os.urandom(8).hex()
    token = "KNOWN-t0ken-" + os.urandom(8).hex()
    src = tmp_path / "f.txt"
    src.write_text("x")
    for args in (["ls", "s3://any-bucket"], ["cp", str(src), "s3://any-bucket/f"]):
        proc = run(
            None, home, *debug, "--endpoint-url", seaweed.endpoint_url,
            "--access-key", seaweed.access_key, "--secret-key", secret,
            "--session-token", token, *args, check=1,
        )  # fmt: skip
        assert "s3z-core:" in proc.stderr  # it did fail, and said so
        for text in (proc.stdout, proc.stderr):
            assert secret not in text
            assert token not in text
    env_proc = run(
        None, home, *debug, "--endpoint-url", seaweed.endpoint_url, "ls", check=1,
        AWS_ACCESS_KEY_ID=seaweed.access_key, AWS_SECRET_ACCESS_KEY=secret,
    )  # fmt: skip
    assert "SignatureDoesNotMatch" in env_proc.stderr or "AccessDenied" in env_proc.stderr
    assert secret not in env_proc.stdout + env_proc.stderr


def test_no_verify_ssl_warns_loudly(seaweed: LocalS3Server, home: Path) -> None:
    proc = run(seaweed, home, "--no-verify-ssl", "ls")
    assert "warning: --no-verify-ssl" in proc.stderr


def _start(server: Any, home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*command(), "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(server, home),
        cwd=home,
    )


def _records(stream: IO[str]) -> Iterator[dict[str, Any]]:
    for line in stream:
        yield json.loads(line)


def _interrupt_when(proc: subprocess.Popen[str], ready: Callable[[], bool]) -> tuple[int, str]:
    assert proc.stdout is not None
    for record in _records(proc.stdout):
        if record["type"] == "progress" and record["bytes_done"] > 0 and ready():
            proc.send_signal(signal.SIGINT)
            break
    else:
        pytest.fail("the transfer finished before it could be interrupted")
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_sigint_mid_multipart_upload_aborts_it(
    seaweed: LocalS3Server, home: Path, big_file: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    proc = _start(
        seaweed, home, "--part-size", "5MiB", "--concurrency", "1", "cp", str(big_file),
        f"s3://{b}/big.bin",
    )  # fmt: skip

    def upload_in_flight() -> bool:
        return bool(client.list_multipart_uploads(Bucket=b).get("Uploads"))

    code, err = _interrupt_when(proc, upload_in_flight)
    assert code == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert client.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=b).get("KeyCount", 0) == 0


def test_sigint_mid_download_leaves_no_temp_file(
    seaweed: LocalS3Server, home: Path, tmp_path: Path, big_file: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    boto3_client(seaweed).upload_file(str(big_file), b, "big.bin")
    dest = tmp_path / "dest"
    dest.mkdir()
    proc = _start(seaweed, home, "--concurrency", "1", "cp", f"s3://{b}/big.bin", f"{dest}/")
    code, err = _interrupt_when(proc, lambda: True)
    assert code == 130, err
    assert list(dest.iterdir()) == []  # neither a partial file nor a temp file


def test_serve_local_prints_credentials_and_stops_on_ctrl_c(home: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*command(), "--json", "serve-local", "--dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(None, home),
        cwd=home,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["type"] == "server"
        assert info["endpoint_url"].startswith("http://127.0.0.1:")

        class Endpoint:
            endpoint_url = info["endpoint_url"]
            access_key = info["access_key"]
            secret_key = info["secret_key"]
            region = info["region"]

        client = boto3_client(Endpoint())
        client.create_bucket(Bucket="served")
        assert "served" in [b["Name"] for b in client.list_buckets()["Buckets"]]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped" in err
        with pytest.raises(ProcessLookupError):  # the server process is gone
            os.kill(info["pid"], 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cat_into_a_closed_pipe_exits_quietly(
    seaweed: LocalS3Server, home: Path, big_file: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    boto3_client(seaweed).upload_file(str(big_file), b, "big.bin")
    proc = subprocess.Popen(
        [*command(), "cat", f"s3://{b}/big.bin"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(seaweed, home),
        cwd=home,
    )
    assert proc.stdout is not None
    with big_file.open("rb") as f:
        assert proc.stdout.read(10) == f.read(10)
    proc.stdout.close()  # the reader leaves, like `| head -c 10`
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141
    assert err == b""
