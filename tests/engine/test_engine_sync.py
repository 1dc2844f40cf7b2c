"""The core's sync (``s3z_core.sync``), which the CLI's ``sync`` and the GUI's Sync dialog
both use: plan two sides, narrow the plan to chosen rows, run it. On SeaweedFS, checked
against boto3's listing and sha256 of every object."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from enginekit import make_engine
from servers import boto3_client

from s3z_core.errors import ConfigError
from s3z_core.filters import PathFilter
from s3z_core.sync import SyncOptions, SyncSide, check_sides, plan_between, run_planned


def _objects(server, bucket: str, prefix: str) -> dict[str, str]:
    client = boto3_client(server)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        o["Key"][len(prefix) :]: hashlib.sha256(
            client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        ).hexdigest()
        for o in listed
    }


def test_a_remote_side_is_a_folder_prefix():
    assert SyncSide.remote("b", "photos").prefix == "photos/"
    assert SyncSide.remote("b", "photos/").prefix == "photos/"
    assert SyncSide.remote("b").name_of("x.jpg") == "s3://b/x.jpg"
    assert str(SyncSide.remote("b")) == "s3://b"
    with pytest.raises(ConfigError):
        SyncSide.remote("")


@pytest.mark.asyncio
async def test_two_local_sides_or_a_missing_source_folder_are_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="s3:// URL"):
        await check_sides(SyncSide.local(tmp_path), SyncSide.local(tmp_path / "b"))
    with pytest.raises(ConfigError, match="existing folder"):
        await check_sides(SyncSide.local(tmp_path / "nope"), SyncSide.remote("b"))


@pytest.mark.asyncio
async def test_a_narrowed_plan_copies_and_deletes_only_what_was_chosen(seaweed, bucket):
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    bodies = {k: os.urandom(1000 + i) for i, k in enumerate(("a.bin", "b.bin", "d/c.bin"))}
    for key, body in bodies.items():
        client.put_object(Bucket=name, Key="src/" + key, Body=body)
    client.put_object(Bucket=name, Key="src/skip.tmp", Body=b"excluded")
    for key in ("stale-1.txt", "stale-2.txt"):
        client.put_object(Bucket=name, Key="dst/" + key, Body=b"not in the source")
    source, destination = SyncSide.remote(name, "src"), SyncSide.remote(name, "dst")
    options = SyncOptions(delete=True, filters=PathFilter((("exclude", "*.tmp"),)))
    async with make_engine(seaweed) as engine:
        planned = await plan_between(engine, source, destination, options)
        assert planned.direction == "copy"
        assert [(a.source.name, a.reason) for a in planned.plan.copies] == [
            ("a.bin", "new"),
            ("b.bin", "new"),
            ("d/c.bin", "new"),
        ]
        assert [e.name for e in planned.plan.deletes] == ["stale-1.txt", "stale-2.txt"]
        chosen = planned.only({"a.bin", "d/c.bin", "not-planned.bin"}, {"stale-2.txt"})
        assert len(planned.plan.copies) == 3  # the original plan is left as it was
        outcome = await run_planned(engine, chosen)
    assert outcome.copied.files_done == 2
    assert outcome.copied.failed == []
    assert outcome.deleted.deleted == ["dst/stale-2.txt"]
    want = {k: hashlib.sha256(bodies[k]).hexdigest() for k in ("a.bin", "d/c.bin")}
    stale = hashlib.sha256(b"not in the source").hexdigest()
    assert _objects(seaweed, name, "dst/") == {**want, "stale-1.txt": stale}
