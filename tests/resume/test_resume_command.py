"""``s3z-core resume``: continues what a killed run left; ``--discard --all`` cleans it up."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import (
    Attempt,
    MiB,
    assert_nothing_to_resume,
    leftovers,
    run_attempt,
    uploads_in,
    write_random,
)
from servers import boto3_client

from s3z_core.local_server import LocalS3Server


def _after_part(event: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
    return event == "response" and record.params.get("partNumber") == "1"


def _after_bytes(event: str, _record: RecordedRequest, proxy: FaultProxy) -> bool:
    return event == "bytes" and proxy.bytes_out >= 9 * MiB


def _killed_upload_and_download(
    seaweed: LocalS3Server, proxy: FaultProxy, b: str, tmp_path: Path, home: Path, state: Path
) -> tuple[Path, Path]:
    src = tmp_path / "src.bin"
    write_random(src, 12 * MiB, seed=5)
    common = ["--part-size", "5MiB", "--concurrency", "1"]
    run_attempt(proxy, seaweed, home, state, [*common, "cp", str(src), f"s3://{b}/done.bin"])
    proxy.send_buffer = 64 << 10
    dest = tmp_path / "dest"
    dest.mkdir()
    killed, _, _ = run_attempt(
        proxy, seaweed, home, state, [*common, "cp", str(src), f"s3://{b}/up.bin"], _after_part
    )
    assert killed
    proxy.clear()
    killed, _, _ = run_attempt(
        proxy, seaweed, home, state, [*common, "cp", f"s3://{b}/done.bin", f"{dest}/"], _after_bytes
    )
    assert killed
    return src, dest


def test_resume_continues_every_unfinished_command(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    b = bucket(seaweed)
    src, dest = _killed_upload_and_download(seaweed, proxy, b, tmp_path, home, state)
    _, out, _ = run_attempt(proxy, seaweed, home, state, ["--json", "resume", "--list"])
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["kind"] for r in rows) == ["command", "command", "file", "file"]
    proxy.clear()
    run_attempt(proxy, seaweed, home, state, ["resume"])
    client = boto3_client(seaweed)
    assert sha256_object(client, b, "up.bin") == sha256_file(src)
    assert sha256_file(dest / "done.bin") == sha256_file(src)
    assert leftovers(dest) == []
    assert uploads_in(client, b) == []
    assert proxy.bytes_in < 12 * MiB  # the upload's first part was not sent again
    assert proxy.bytes_out < 12 * MiB  # nor the download's first bytes fetched again
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_resume_discard_all_aborts_uploads_and_removes_temp_files(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    b = bucket(seaweed)
    _, dest = _killed_upload_and_download(seaweed, proxy, b, tmp_path, home, state)
    client = boto3_client(seaweed)
    assert len(uploads_in(client, b)) == 1
    assert len(leftovers(dest)) == 1
    run_attempt(proxy, seaweed, home, state, ["resume", "--discard", "--all"])
    assert uploads_in(client, b) == []
    assert list(dest.iterdir()) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_resume_discard_one_command_leaves_the_others(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    """Discarding by id forgets that command and its file (the upload aborted) and nothing
    else: the other killed command still resumes from its kept bytes."""
    b = bucket(seaweed)
    src, dest = _killed_upload_and_download(seaweed, proxy, b, tmp_path, home, state)

    def listed() -> dict[str, dict[str, object]]:
        _, out, _ = run_attempt(proxy, seaweed, home, state, ["--json", "resume", "--list"])
        return {row["id"]: row for row in map(json.loads, out.splitlines())}

    before = listed()
    (upload,) = [r for r in before.values() if r.get("direction") == "upload"]
    (download,) = [r for r in before.values() if r.get("direction") == "download"]
    client = boto3_client(seaweed)
    assert len(uploads_in(client, b)) == 1

    run_attempt(proxy, seaweed, home, state, ["resume", "--discard", str(upload["batch"])])

    assert uploads_in(client, b) == []
    assert sorted(listed()) == sorted([str(download["batch"]), str(download["id"])])
    assert len(leftovers(dest)) == 1  # the other command's kept bytes are untouched
    proxy.clear()
    run_attempt(proxy, seaweed, home, state, ["resume"])
    assert sha256_file(dest / "done.bin") == sha256_file(src)
    assert proxy.bytes_out < 12 * MiB
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=b).get("Contents", [])]
    assert keys == ["done.bin"]  # the discarded upload was not run again
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_resume_discard_keeps_a_job_whose_abort_failed(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    """An abort the server refuses leaves its upload ours to clean: the job stays listed,
    the run names the upload and exits 1, and what could be discarded still is."""
    b = bucket(seaweed)
    _, dest = _killed_upload_and_download(seaweed, proxy, b, tmp_path, home, state)
    client = boto3_client(seaweed)
    proxy.access_denied(method="DELETE", query="uploadId", times=None)

    code, out, err = Attempt(proxy, seaweed, home, state, ["resume", "--discard", "--all"]).wait()

    assert code == 1, err
    assert f"s3://{b}/up.bin" in err
    assert "AccessDenied" in err
    assert len(uploads_in(client, b)) == 1
    assert leftovers(dest) == []  # the download's temp file went all the same
    _, listed, _ = run_attempt(proxy, seaweed, home, state, ["--json", "resume", "--list"])
    rows = [json.loads(line) for line in listed.splitlines()]
    assert [(r["direction"], r["batch"]) for r in rows] == [("upload", None)]
    assert f"discarded: {rows[0]['id']}" not in out
    proxy.clear()
    run_attempt(proxy, seaweed, home, state, ["resume", "--discard", str(rows[0]["id"])])
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)
