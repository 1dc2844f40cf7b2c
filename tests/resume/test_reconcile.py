"""A killed upload is continued only on what the server says, and only for the same file.

``transfer/resume.py`` promises three things the happy-path kill tests never exercise:
a source that changed since the killed run aborts the old upload and starts over (a part
of the old bytes reused would commit a torn object that still lists as fine); an upload
the server no longer knows (a janitor, a lifecycle rule) starts over cleanly instead of
failing on every re-run; and the server's ``ListParts`` wins over the journal either way
(a part the journal missed is not sent again, a part the journal names but the server
lacks is). Each is set up for real: a SIGKILL through the proxy, then the disagreement
made with boto3 or in the journal's own sqlite file, then the same command run again.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import MiB, assert_nothing_to_resume, run_attempt, uploads_in, write_random
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

COMMON = ["--part-size", "5MiB", "--concurrency", "1", "--workers", "1"]
SIZE = 12 * MiB  # parts 1-2 of 5 MiB, part 3 of 2 MiB


def _answered(number: int) -> Callable[[str, RecordedRequest, FaultProxy], bool]:
    """Kill the instant the server has answered the PUT of part ``number`` (it holds the
    part; the client has not seen the answer, so its journal may not name it)."""

    def when(event: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
        return event == "response" and record.params.get("partNumber") == str(number)

    return when


def _part_puts(records: list[RecordedRequest]) -> list[tuple[str, int]]:
    return sorted(
        (r.params["uploadId"], int(r.params["partNumber"]))
        for r in records
        if r.method == "PUT" and "partNumber" in r.params
    )


def _held(client: Any, bucket: str, key: str, upload_id: str) -> list[int]:
    listed = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])
    return sorted(p["PartNumber"] for p in listed)


def _killed_upload(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    home: Path,
    state: Path,
    src: Path,
    b: str,
    number: int,
) -> tuple[list[str], str]:
    """``cp`` of ``src`` killed once part ``number`` arrived; (its args, its upload id)."""
    args = [*COMMON, "cp", str(src), f"s3://{b}/obj.bin"]
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, _answered(number))
    assert killed
    uploads = uploads_in(boto3_client(seaweed), b)
    assert [u["Key"] for u in uploads] == ["obj.bin"]
    return args, uploads[0]["UploadId"]


@contextlib.contextmanager
def _journal(state: Path) -> Iterator[sqlite3.Connection]:
    """The journal's sqlite file, opened as the test's own (committed and closed after)."""
    db = sqlite3.connect(state / "journal.sqlite3")
    try:
        with db:
            yield db
    finally:
        db.close()


def _journal_parts(state: Path) -> dict[int, str]:
    with _journal(state) as db:
        return {int(n): str(e) for n, e in db.execute("SELECT number, etag FROM parts")}


@pytest.mark.parametrize("new_size", [SIZE, SIZE + 1 * MiB + 7], ids=["same-size", "resized"])
def test_a_changed_source_aborts_the_old_upload_and_sends_the_new_bytes(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
    new_size: int,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, SIZE, seed=31)
    args, old_id = _killed_upload(seaweed, proxy, home, state, src, b, 2)
    client = boto3_client(seaweed)
    assert _held(client, b, "obj.bin", old_id) == [1, 2]  # what a wrong resume would reuse
    before = os.stat(src)

    write_random(src, new_size, seed=32)  # rewritten in place: same inode, other bytes
    # An editor's save moves the mtime; pinned one second on so the test does not depend
    # on the clock's granularity (a same-size rewrite within one tick is not detectable).
    os.utime(src, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    first = len(proxy.requests)
    run_attempt(proxy, seaweed, home, state, args)

    assert sha256_object(client, b, "obj.bin") == sha256_file(src)
    assert client.head_object(Bucket=b, Key="obj.bin")["ContentLength"] == new_size
    again = proxy.requests[first:]
    puts = _part_puts(again)
    assert old_id not in {upload for upload, _ in puts}, "a part went to the old upload"
    count = -(-new_size // (5 * MiB))
    assert [n for _, n in puts] == list(range(1, count + 1))  # every part sent anew
    aborted = {r.params.get("uploadId") for r in again if r.method == "DELETE"}
    assert old_id in aborted, "the old upload was not aborted"
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_an_upload_the_server_forgot_starts_over_cleanly(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, SIZE, seed=33)
    args, old_id = _killed_upload(seaweed, proxy, home, state, src, b, 2)
    client = boto3_client(seaweed)
    client.abort_multipart_upload(Bucket=b, Key="obj.bin", UploadId=old_id)  # a janitor
    assert uploads_in(client, b) == []
    first = len(proxy.requests)

    run_attempt(proxy, seaweed, home, state, args)

    puts = _part_puts(proxy.requests[first:])
    assert old_id not in {upload for upload, _ in puts}
    assert [n for _, n in puts] == [1, 2, 3]  # nothing of the forgotten upload counted
    assert sha256_object(client, b, "obj.bin") == sha256_file(src)
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_a_part_the_journal_missed_but_the_server_holds_is_not_sent_again(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, SIZE, seed=34)
    args, upload_id = _killed_upload(seaweed, proxy, home, state, src, b, 2)
    client = boto3_client(seaweed)
    assert _held(client, b, "obj.bin", upload_id) == [1, 2]
    with _journal(state) as db:  # the journal lost part 2
        db.execute("DELETE FROM parts WHERE number = 2")
    assert 2 not in _journal_parts(state)
    first = len(proxy.requests)

    run_attempt(proxy, seaweed, home, state, args)

    assert _part_puts(proxy.requests[first:]) == [(upload_id, 3)]
    assert sha256_object(client, b, "obj.bin") == sha256_file(src)
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_a_part_the_journal_names_but_the_server_lacks_is_sent(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, SIZE, seed=35)
    args, upload_id = _killed_upload(seaweed, proxy, home, state, src, b, 1)
    client = boto3_client(seaweed)
    assert _held(client, b, "obj.bin", upload_id) == [1]
    with _journal(state) as db:  # the journal says 1-2 arrived
        (job_id,) = db.execute("SELECT id FROM jobs").fetchone()
        for number in (1, 2):
            db.execute(
                "INSERT OR REPLACE INTO parts (job_id, number, etag) VALUES (?,?,?)",
                (job_id, number, f"{number:032x}"),
            )
    assert sorted(_journal_parts(state)) == [1, 2]
    first = len(proxy.requests)

    run_attempt(proxy, seaweed, home, state, args)

    assert _part_puts(proxy.requests[first:]) == [(upload_id, 2), (upload_id, 3)]
    assert sha256_object(client, b, "obj.bin") == sha256_file(src)
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)
