"""What the journal holds is never just forgotten: a relative path finds its job again
from any folder, and a batch that finishes cleans up what an earlier run of it left for a
file it no longer sends. Both once turned a resumable upload into a stranger's orphan
(``uploads ls`` said "not ours") and re-sent the whole file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import MiB, assert_nothing_to_resume, run_attempt, uploads_in, write_random
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

COMMON = ["--part-size", "5MiB", "--concurrency", "1", "--workers", "1"]


def _after_first_part(event: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
    return event == "response" and record.params.get("partNumber") == "1"


def _part_puts(records: list[RecordedRequest]) -> list[int]:
    return [int(r.params["partNumber"]) for r in records if "partNumber" in r.params]


def test_a_relative_path_is_resumed_from_another_folder(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
) -> None:
    b = bucket(seaweed)
    src = home / "big.bin"
    write_random(src, 12 * MiB, seed=11)
    args = [*COMMON, "cp", "big.bin", f"s3://{b}/rel.bin"]  # relative to the run's folder
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, _after_first_part)
    assert killed
    first = len(proxy.requests)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    run_attempt(proxy, seaweed, home, state, ["resume"], cwd=elsewhere)

    client = boto3_client(seaweed)
    assert sha256_object(client, b, "rel.bin") == sha256_file(src)
    again = _part_puts(proxy.requests[first:])
    assert 1 not in again  # the part the server held was not sent again
    assert sorted(again) == [2, 3]
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_a_file_gone_before_the_batch_finishes_leaves_no_upload_behind(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.bin"
    write_random(big, 12 * MiB, seed=12)
    small = {f"small-{i}.txt": f"small {i}\n".encode() for i in range(3)}
    for name, data in small.items():
        (src / name).write_bytes(data)
    args = [*COMMON, "cp", "-r", str(src), f"s3://{b}/pre/"]
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, _after_first_part)
    assert killed
    client = boto3_client(seaweed)
    assert [u["Key"] for u in uploads_in(client, b)] == ["pre/big.bin"]  # what is at stake

    big.unlink()  # the user deletes the file, then runs the same command again
    run_attempt(proxy, seaweed, home, state, args)

    assert uploads_in(client, b) == []  # the deleted file's upload was aborted, not forgotten
    for name, data in small.items():
        assert client.get_object(Bucket=b, Key=f"pre/{name}")["Body"].read() == data
    assert_nothing_to_resume(proxy, seaweed, home, state)
