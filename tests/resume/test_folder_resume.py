"""A 200-file folder upload killed halfway: the next run sends only what is missing.

The kill lands when the server has answered 100 single-PUT uploads. The journal then
lists the files it knows arrived; the re-run of the same command must send none of them
again, nor any part the server already holds of the big files in flight, and end with
every object byte-identical and no multipart upload left over.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import MiB, run_attempt, uploads_in, write_random
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

SMALL = 196
BIG = 4  # 12 MiB each: three 5 MiB parts


def _tree(root: Path) -> dict[str, Path]:
    rng = random.Random(200)
    files: dict[str, Path] = {}
    for i in range(SMALL):
        path = root / f"d{i % 7}" / f"small-{i:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randrange(1, 64 << 10)))
        files[f"{path.parent.name}/{path.name}"] = path
    for i in range(BIG):
        path = root / f"big-{i}.bin"
        write_random(path, 12 * MiB + i, seed=i)
        files[path.name] = path
    return files


def _key(record: RecordedRequest, bucket: str) -> str:
    return unquote(record.path)[len(f"/{bucket}/") :]


def test_folder_upload_killed_halfway_sends_only_what_is_missing(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    b = bucket(seaweed)
    files = _tree(tmp_path / "src")
    args = [
        "--workers", "4", "--concurrency", "1", "--part-size", "5MiB",
        "cp", "-r", str(tmp_path / "src"), f"s3://{b}/pre/",
    ]  # fmt: skip
    answered: list[RecordedRequest] = []

    def halfway(event: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
        single = record.method == "PUT" and "partNumber" not in record.params
        if event == "response" and single and record.status == 200:
            answered.append(record)
        return len(answered) >= (SMALL + BIG) // 2

    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, halfway)
    assert killed
    first = len(proxy.requests)

    with sqlite3.connect(state / "journal.sqlite3") as db:
        items = [row[0] for row in db.execute("SELECT item FROM done")]
    done = {item.split("\0")[1].split("/", 1)[1] for item in items}  # bucket/pre/… → pre/…
    assert 50 <= len(done) <= 150, len(done)
    client = boto3_client(seaweed)
    held = {
        (u["Key"], p["PartNumber"])
        for u in uploads_in(client, b)
        for p in client.list_parts(Bucket=b, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", [])
    }

    killed, out, _ = run_attempt(proxy, seaweed, home, state, args)
    assert not killed
    assert f"resuming: {len(done)} files" in out  # and said so
    again = proxy.requests[first:]
    singles = {_key(r, b) for r in again if r.method == "PUT" and "partNumber" not in r.params}
    parts = {
        (_key(r, b), int(r.params["partNumber"]))
        for r in again
        if r.method == "PUT" and "partNumber" in r.params
    }
    assert not singles & done, "a file the journal had as arrived was sent again"
    assert not parts & held, "a part the server held was sent again"
    assert len(singles) + len({k for k, _ in parts}) <= SMALL + BIG - len(done)

    listed = {
        o["Key"]: o["ETag"].strip('"')
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=b)
        for o in page.get("Contents", [])
    }
    assert sorted(listed) == sorted(f"pre/{name}" for name in files)
    for name, path in files.items():
        if name.startswith("big-"):
            assert sha256_object(client, b, f"pre/{name}") == sha256_file(path)
        else:  # a single PUT: its ETag is the MD5 of the bytes
            assert listed[f"pre/{name}"] == hashlib.md5(path.read_bytes()).hexdigest()
    assert uploads_in(client, b) == []
