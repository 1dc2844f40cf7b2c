"""``uploads ls`` and ``uploads abort``: foreign and own incomplete uploads, told apart.

"Ours" is an upload our journal holds (an s3z run killed mid-upload); "foreign" ones are
made here with boto3. Age: a server reports when an upload was initiated and no server
can be told to make one hours old, so the proxy rewrites the ``Initiated`` time of chosen
uploads in ListMultipartUploads answers (``FaultProxy.rewrite``) — the CLI sees exactly
what a server holding a two-hour-old upload would send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fault_proxy import FaultProxy, RecordedRequest
from killkit import Attempt, MiB, run_attempt, uploads_in, write_random
from servers import boto3_client

from s3z_core.local_server import LocalS3Server


def _age(ids: set[str], hours: float) -> Callable[[RecordedRequest, bytes], bytes]:
    when = (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def rewrite(_record: RecordedRequest, body: bytes) -> bytes:
        def one(match: re.Match[str]) -> str:
            block = match.group(0)
            upload_id = re.search(r"<UploadId>(.*?)</UploadId>", block)
            if upload_id is None or upload_id.group(1) not in ids:
                return block
            return re.sub(r"<Initiated>.*?</Initiated>", f"<Initiated>{when}</Initiated>", block)

        return re.sub(r"<Upload>.*?</Upload>", one, body.decode(), flags=re.S).encode()

    return rewrite


def _foreign(client: Any, bucket: str, key: str) -> str:
    upload_id = str(client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
    client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * 1024)
    return upload_id


def _records(out: str) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in out.splitlines()]
    return {r["key"]: r for r in rows if r.get("key")}


def test_uploads_ls_and_abort_older_than_not_ours(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, 12 * MiB, seed=3)

    def after_first_part(event: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
        return event == "response" and record.params.get("partNumber") == "1"

    killed, _, _ = run_attempt(
        proxy, seaweed, home, state,
        ["--part-size", "5MiB", "--concurrency", "1", "cp", str(src), f"s3://{b}/ours.bin"],
        after_first_part,
    )  # fmt: skip
    assert killed
    ours = uploads_in(client, b)[0]["UploadId"]
    old = _foreign(client, b, "foreign-old.bin")
    new = _foreign(client, b, "foreign-new.bin")
    proxy.rewrite = _age({ours, old}, hours=2)

    _, out, _ = run_attempt(proxy, seaweed, home, state, ["--json", "uploads", "ls", f"s3://{b}"])
    rows = _records(out)
    assert sorted(rows) == ["foreign-new.bin", "foreign-old.bin", "ours.bin"]
    assert rows["ours.bin"]["ours"] is True
    assert rows["ours.bin"]["upload_id"] == ours
    assert rows["ours.bin"]["parts"] >= 1
    assert rows["ours.bin"]["bytes"] == 5 * MiB * rows["ours.bin"]["parts"]
    for key in ("foreign-old.bin", "foreign-new.bin"):
        assert rows[key]["ours"] is False
        assert rows[key]["parts"] == 1
        assert rows[key]["bytes"] == 1024
    assert rows["foreign-old.bin"]["age_s"] > 3600
    assert rows["ours.bin"]["age_s"] > 3600
    assert rows["foreign-new.bin"]["age_s"] < 3600
    _, text, _ = run_attempt(proxy, seaweed, home, state, ["uploads", "ls", f"s3://{b}/foreign-"])
    assert "ours.bin" not in text
    assert text.count("foreign-") == 2

    abort = ["--json", "uploads", "abort", f"s3://{b}", "--older-than", "1h", "--not-ours"]
    _, out, _ = run_attempt(proxy, seaweed, home, state, [*abort, "--dry-run"])
    assert [r["upload_id"] for r in _records(out).values()] == [old]
    assert len(uploads_in(client, b)) == 3  # a dry run aborts nothing

    _, out, _ = run_attempt(proxy, seaweed, home, state, abort)
    assert [(r["type"], r["upload_id"]) for r in _records(out).values()] == [("aborted", old)]
    assert sorted(u["UploadId"] for u in uploads_in(client, b)) == sorted([ours, new])

    # What is left of ours still resumes (its journal entry is intact), and ends clean.
    proxy.rewrite = None
    run_attempt(
        proxy, seaweed, home, state, ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/ours.bin"]
    )
    assert [u["UploadId"] for u in uploads_in(client, b)] == [new]


def test_uploads_bad_input_is_one_line_and_exit_2(
    seaweed: LocalS3Server, proxy: FaultProxy, home: Path, state: Path
) -> None:
    for args in (
        ["uploads", "abort", "s3://b", "--older-than", "1x"],
        ["uploads", "ls", "not-a-url"],
        ["uploads", "ls"],
        ["resume", "--discard"],
        ["resume", "--discard", "b999"],
        ["resume", "--all"],
    ):
        code, _, err = Attempt(proxy, seaweed, home, state, args).wait()
        assert code == 2, (args, err)
        assert "Traceback" not in err
        assert len([line for line in err.splitlines() if "error" in line]) == 1, err
