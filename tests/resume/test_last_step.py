"""Killed in the last step: during CompleteMultipartUpload, or around a download's rename.

The journal records which side of the step a job was on ("completing", "landing"), and
the next run settles it without sending the data again. No proxy sits between a process
and its own rename, so the rename cases are set up twice: through the journal API (a
journal and a disk exactly as a kill at that instant leaves them), and by a CLI whose
``os.replace`` SIGKILLs its own process just before or just after the rename, so the
journal is the one the real code wrote.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import cli_env, sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import Attempt, MiB, assert_nothing_to_resume, run_attempt, uploads_in, write_random
from servers import boto3_client

from s3z_core.journal import Journal
from s3z_core.local_server import LocalS3Server


def _complete(event: str) -> Callable[[str, RecordedRequest, FaultProxy], bool]:
    def when(seen: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
        is_complete = record.method == "POST" and "uploadId" in record.params
        return seen == event and is_complete

    return when


@pytest.mark.parametrize("side", ["server_finished", "server_never_heard"])
def test_kill_during_complete_is_recovered_without_resending(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
    side: str,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, 12 * MiB + 5, seed=7)
    args = ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/o"]
    if side == "server_finished":  # Complete went through; the client never heard back
        when = _complete("response")
    else:  # the request never reached the server
        proxy.reset_request(method="POST", query="uploadId")
        when = _complete("request")
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, when)
    assert killed
    client = boto3_client(seaweed)
    pending = uploads_in(client, b)
    assert len(pending) == (0 if side == "server_finished" else 1)
    first = len(proxy.requests)

    killed, _, _ = run_attempt(proxy, seaweed, home, state, args)
    assert not killed
    again = proxy.requests[first:]
    assert [r for r in again if r.method == "PUT"] == [], "parts were sent again"
    assert sha256_object(client, b, "o") == sha256_file(src)
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


def _journal_says_landing(
    state: Path, endpoint: str, bucket: str, dest: Path, size: int, etag: str, tmp: Path
) -> None:
    """What a kill between "landing" and forgetting the job leaves in the journal."""

    async def write() -> None:
        journal = Journal(state / "journal.sqlite3")
        job = await journal.start_job(
            "download", endpoint, bucket, "o", str(dest), size=size, fingerprint=etag,
            part_size=size, temp_path=str(tmp),
        )  # fmt: skip
        journal.record_range(job, 1, size)
        await journal.set_state(job, "landing")
        await asyncio.to_thread(journal.close)

    asyncio.run(write())


@pytest.mark.parametrize("renamed", [True, False])
def test_kill_around_the_rename_is_recovered_without_downloading(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
    renamed: bool,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    size = 12 * MiB + 3
    write_random(src, size, seed=9)
    run_attempt(proxy, seaweed, home, state, ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/o"])
    etag = boto3_client(seaweed).head_object(Bucket=b, Key="o")["ETag"].strip('"')
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    dest = dest_dir / "o"
    tmp = dest_dir / ".o.0badf00d.s3z-part"
    shutil.copyfile(src, dest if renamed else tmp)  # after the rename, or just before it
    _journal_says_landing(state, proxy.url, b, dest, size, etag, tmp)
    proxy.clear()

    killed, _, _ = run_attempt(proxy, seaweed, home, state, ["cp", f"s3://{b}/o", f"{dest_dir}/"])
    assert not killed
    assert proxy.bytes_out < 64 << 10, "the object was downloaded again"
    assert sha256_file(dest) == sha256_file(src)
    assert sorted(p.name for p in dest_dir.iterdir()) == ["o"]
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_a_kept_temp_file_that_was_damaged_fails_verification_then_downloads_fresh(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    """The resumed file is verified whole (composite ETag, read back): bytes kept from an
    earlier run that are wrong fail the file and are not kept again."""
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    size = 12 * MiB + 3
    write_random(src, size, seed=11)
    run_attempt(proxy, seaweed, home, state, ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/o"])
    etag = boto3_client(seaweed).head_object(Bucket=b, Key="o")["ETag"].strip('"')
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    tmp = dest_dir / ".o.0badf00d.s3z-part"
    data = bytearray(src.read_bytes())
    data[100] ^= 0xFF
    tmp.write_bytes(bytes(data))
    _journal_says_landing(state, proxy.url, b, dest_dir / "o", size, etag, tmp)

    code, _, err = Attempt(
        proxy, seaweed, home, state, ["cp", f"s3://{b}/o", f"{dest_dir}/"]
    ).wait()
    assert code == 1
    assert "checksum mismatch" in err
    assert list(dest_dir.iterdir()) == []
    run_attempt(proxy, seaweed, home, state, ["cp", f"s3://{b}/o", f"{dest_dir}/"])
    assert sha256_file(dest_dir / "o") == sha256_file(src)


# The CLI, with a rename of a download's temp file that SIGKILLs the process on the spot.
_KILLED_AT_RENAME = """
import os, signal, sys
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(src).endswith(".s3z-part"):
        if os.environ["KILL_AT_RENAME"] == "after":
            real_replace(src, dst, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
from s3z_core.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_real_kill_at_the_rename_is_recovered_without_downloading(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
    when: str,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, 12 * MiB + 5, seed=13)
    run_attempt(proxy, seaweed, home, state, ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/o"])
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    env = cli_env(proxy.endpoint(seaweed), home, S3Z_STATE_DIR=str(state), KILL_AT_RENAME=when)
    args = ["--no-progress", "cp", f"s3://{b}/o", f"{dest_dir}/"]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AT_RENAME, *args],
        env=env, cwd=home, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    temps = [p.name for p in dest_dir.glob(".o.*.s3z-part")]
    on_disk = sorted(p.name for p in dest_dir.iterdir())
    assert on_disk == (["o"] if when == "after" else temps)  # killed on which side
    assert len(temps) == (0 if when == "after" else 1)
    proxy.clear()

    run_attempt(proxy, seaweed, home, state, ["cp", f"s3://{b}/o", f"{dest_dir}/"])
    assert proxy.bytes_out < 64 << 10, "the object was downloaded again"
    assert sha256_file(dest_dir / "o") == sha256_file(src)
    assert sorted(p.name for p in dest_dir.iterdir()) == ["o"]
    assert_nothing_to_resume(proxy, seaweed, home, state)
