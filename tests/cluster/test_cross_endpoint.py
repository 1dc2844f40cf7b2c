"""cp / sync / mv between two endpoints with different credentials: relayed, verified by sha256.

Server A (the session's ``seaweed``) and server B (``seaweed_b``, another access key and
secret) know nothing of each other, so a server-side copy is impossible: every byte goes
through the CLI, which must sign each side with its own profile. boto3 reads both ends back.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli.clirun import cli_env, command, run
from clusterkit import FOREIGN, bucket_sums, open_uploads, profiles_home
from servers import boto3_client

from s3z_core.local_server import LocalS3Server


def sides(a: LocalS3Server, b: LocalS3Server) -> list[str]:
    return [
        "--source-profile",
        "a",
        "--source-endpoint-url",
        a.endpoint_url,
        "--dest-profile",
        "b",
        "--dest-endpoint-url",
        b.endpoint_url,
    ]


def verifications(stdout: str) -> set[str]:
    """How each completed file was verified (JSON ``completed`` records)."""
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {r["verification"] for r in records if r.get("type") == "completed"}


def verification_of(stdout: str, name: str) -> str:
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    ids = {r["id"] for r in records if r.get("type") == "queued" and r["source"].endswith(name)}
    (found,) = [
        r["verification"] for r in records if r.get("type") == "completed" and r["id"] in ids
    ]
    return str(found)


def summary(stdout: str) -> dict[str, Any]:
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return next(r for r in records if r.get("type") == "summary")


def test_cp_and_sync_between_two_accounts(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, source_tree, bucket, tmp_path: Path
) -> None:
    src, sums = source_tree
    dst = bucket(seaweed_b)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    copied = run(
        None,
        home,
        "cp",
        "-r",
        f"s3://{src}/",
        f"s3://{dst}/copy/",
        "--json",
        *sides(seaweed, seaweed_b),
    )
    record = summary(copied.stdout)
    assert record["ok"]
    assert record["files_done"] == len(sums)
    # relayed and checked on both sides: plain MD5 for the small ones, MD5-of-MD5s for the
    # multipart ones s3z wrote; boto3's multipart object (no part size recorded) cannot be
    # recomputed on the source side, so it alone is size-only
    assert verifications(copied.stdout) == {"verified-md5", "verified-composite", "size-only"}
    assert verification_of(copied.stdout, FOREIGN) == "size-only"
    assert bucket_sums(seaweed_b, dst, "copy/") == sums
    assert open_uploads(seaweed_b, dst) == []
    # The destination's ETags are its own (our 8 MiB parts), yet the bytes are the source's.
    big = boto3_client(seaweed_b).head_object(Bucket=dst, Key="copy/big/b.bin")
    assert big["ETag"].strip('"').endswith("-3")

    # sync: on B, 3 objects changed, 2 gone and 2 extra; --delete makes B match A again
    # (A, the session's shared tree, stays as it is)
    b = boto3_client(seaweed_b)
    changed = [f"d00/f{i * 30:05d}.txt" for i in range(3)]
    for i, key in enumerate(changed):
        b.put_object(Bucket=dst, Key=f"copy/{key}", Body=b"changed %d" % i * 50)
    gone = ["d01/f00001.txt", "d02/f00002.txt"]
    for key in gone:
        b.delete_object(Bucket=dst, Key=f"copy/{key}")
    extra = [f"extra/x{i}.txt" for i in range(2)]
    for key in extra:
        b.put_object(Bucket=dst, Key=f"copy/{key}", Body=b"not in the source")
    args = (
        "sync",
        f"s3://{src}/",
        f"s3://{dst}/copy/",
        "--delete",
        "--json",
        *sides(seaweed, seaweed_b),
    )
    planned = run(None, home, *args, "--dry-run")
    plan = [json.loads(line) for line in planned.stdout.splitlines() if line.startswith("{")]
    actions = sorted((p["action"], p["destination"].rsplit("/copy/", 1)[1]) for p in plan)
    assert actions == sorted(
        [("copy", key) for key in changed + gone] + [("delete", key) for key in extra]
    )
    synced = run(None, home, *args)
    assert summary(synced.stdout)["files_done"] == 5
    assert bucket_sums(seaweed_b, dst, "copy/") == sums
    again = run(None, home, *args, "--dry-run")
    assert not [line for line in again.stdout.splitlines() if '"plan"' in line]


def test_mv_between_accounts_deletes_only_what_arrived(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket, tmp_path: Path
) -> None:
    src, dst = bucket(seaweed), bucket(seaweed_b)
    a = boto3_client(seaweed)
    for i in range(5):
        a.put_object(Bucket=src, Key=f"m/{i}.txt", Body=b"move %d" % i)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    run(None, home, "mv", "-r", f"s3://{src}/m/", f"s3://{dst}/m/", *sides(seaweed, seaweed_b))
    assert a.list_objects_v2(Bucket=src).get("KeyCount", 0) == 0
    want = {f"{i}.txt": hashlib.sha256(b"move %d" % i).hexdigest() for i in range(5)}
    assert bucket_sums(seaweed_b, dst, "m/") == want


def test_same_endpoint_stays_server_side(seaweed: LocalS3Server, bucket, tmp_path: Path) -> None:
    """The same endpoint and account on both sides is a server-side copy, never a relay: its
    result is size-only (CopyObject returns no checksum of ours), where a relay's would be
    verified-md5."""
    src, dst = bucket(seaweed), bucket(seaweed)
    data = b"x" * (9 * 2**20)
    boto3_client(seaweed).put_object(Bucket=src, Key="k", Body=data)
    home = profiles_home(tmp_path, a=seaweed)
    proc = run(
        seaweed,
        home,
        "cp",
        f"s3://{src}/k",
        f"s3://{dst}/k",
        "--json",
        "--source-profile",
        "a",
        "--dest-profile",
        "a",
        "--profile",
        "a",
    )
    assert summary(proc.stdout)["ok"]
    assert verifications(proc.stdout) == {"size-only"}
    assert bucket_sums(seaweed, dst) == {"k": hashlib.sha256(data).hexdigest()}


TIME = shutil.which("time", path="/usr/bin:/bin") or "/usr/bin/time"


def relay_peak_rss(a: LocalS3Server, b: LocalS3Server, bucket, tmp_path: Path, size: int) -> float:
    """Copy one ``size``-byte object A → B through the CLI; its peak RSS in MiB."""
    if not Path(TIME).exists():
        pytest.skip("GNU time is not installed (apt-get install -y time)")
    src, dst = bucket(a), bucket(b)
    big = tmp_path / "big.bin"
    block = hashlib.sha256(b"rss").digest() * 32768  # 1 MiB
    with big.open("wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
    home = profiles_home(tmp_path / "home", a=a, b=b)
    run(a, home, "cp", str(big), f"s3://{src}/big.bin", "--no-progress")
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    big.unlink()
    cmd = [
        TIME,
        "-v",
        *command(),
        "cp",
        f"s3://{src}/big.bin",
        f"s3://{dst}/big.bin",
        "--no-progress",
        *sides(a, b),
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=cli_env(None, home),
        cwd=home,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert match, proc.stderr[-2000:]
    assert bucket_sums(b, dst) == {"big.bin": want}
    assert open_uploads(b, dst) == []
    return int(match.group(1)) / 1024


@pytest.mark.bench
def test_relay_of_256_mib_peak_rss(seaweed, seaweed_b, bucket, tmp_path: Path) -> None:
    peak = relay_peak_rss(seaweed, seaweed_b, bucket, tmp_path, 256 * 2**20)
    print(f"\nrelay of 256 MiB between two endpoints: CLI peak RSS {peak:.1f} MiB")
    assert peak <= 80, f"peak RSS {peak:.1f} MiB"


@pytest.mark.slow
@pytest.mark.bench
def test_relay_of_one_gib_peak_rss(seaweed, seaweed_b, bucket, tmp_path: Path) -> None:
    peak = relay_peak_rss(seaweed, seaweed_b, bucket, tmp_path, 2**30)
    print(f"\nrelay of 1 GiB between two endpoints: CLI peak RSS {peak:.1f} MiB")
    assert peak <= 80, f"peak RSS {peak:.1f} MiB"
