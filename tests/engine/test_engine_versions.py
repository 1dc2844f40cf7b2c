"""Versions through the engine: ListObjectVersions paged as boto3 sees it (the oracle),
delete markers shown and removable, an old version restored byte-identical.

On moto and SeaweedFS (rclone serve s3 keeps no versions). Each test empties its bucket's
versions itself: the shared teardown deletes current objects only."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from enginekit import make_engine
from servers import S3Endpoint, boto3_client

from s3z_core.models import ObjectVersion


@pytest.fixture(params=["seaweed", "moto_s3"])
def versioned(request: pytest.FixtureRequest, bucket: Any) -> tuple[S3Endpoint, str]:
    server: S3Endpoint = request.getfixturevalue(request.param)
    name = bucket(server, "v")
    boto3_client(server).put_bucket_versioning(
        Bucket=name, VersioningConfiguration={"Status": "Enabled"}
    )
    yield server, name
    client = boto3_client(server)
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            client.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])


def boto3_versions(server: S3Endpoint, name: str, prefix: str = "") -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    pages = boto3_client(server).get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=name, Prefix=prefix):
        for v in page.get("Versions", []):
            out.add((v["Key"], v["VersionId"], v["IsLatest"], False, v["Size"]))
        for m in page.get("DeleteMarkers", []):
            out.add((m["Key"], m["VersionId"], m["IsLatest"], True, 0))
    return out


def as_tuples(versions: list[ObjectVersion]) -> set[tuple[Any, ...]]:
    return {(v.key, v.version_id, v.is_latest, v.delete_marker, v.size) for v in versions}


@pytest.mark.asyncio
async def test_versions_pages_equal_boto3_and_keep_newest_first(versioned):
    server, name = versioned
    client = boto3_client(server)
    keys = ["a b+%.txt", "dir/é.bin", "dir/sub/x", "z"]
    for round_ in range(3):
        for key in keys:
            client.put_object(Bucket=name, Key=key, Body=os.urandom(10 + round_))
    client.delete_object(Bucket=name, Key="z")  # a delete marker on top
    async with make_engine(server) as engine:
        assert await engine.bucket_versioning(name) == "Enabled"
        pages = [p async for p in engine.list_versions(name, page_size=5)]
    listed = [v for p in pages for v in p.versions]
    assert len(pages) >= 3, "page_size=5 over 13 entries must take several pages"
    assert len(listed) == len(as_tuples(listed)) == 13, "each version exactly once"
    assert as_tuples(listed) == boto3_versions(server, name)
    z = [v for v in listed if v.key == "z"]
    assert z[0].delete_marker
    assert z[0].is_latest
    assert not any(v.is_latest for v in z[1:])
    by_key: dict[str, list[ObjectVersion]] = {}
    for v in listed:
        by_key.setdefault(v.key, []).append(v)
    for entries in by_key.values():  # newest first within a key
        times = [v.last_modified for v in entries]
        assert times == sorted(times, reverse=True)


@pytest.mark.asyncio
async def test_delimiter_gives_one_level(versioned):
    server, name = versioned
    client = boto3_client(server)
    for key in ("top", "dir/a", "dir/b"):
        client.put_object(Bucket=name, Key=key, Body=b"x")
    async with make_engine(server) as engine:
        pages = [p async for p in engine.list_versions(name, delimiter="/")]
    assert {v.key for p in pages for v in p.versions} == {"top"}
    assert [q for p in pages for q in p.common_prefixes] == ["dir/"]


@pytest.mark.asyncio
async def test_restore_an_old_version_and_remove_a_delete_marker(versioned):
    server, name = versioned
    client = boto3_client(server)
    old, new = os.urandom(70_000), os.urandom(1000)
    client.put_object(Bucket=name, Key="doc", Body=old, Metadata={"owner": "ann"})
    client.put_object(Bucket=name, Key="doc", Body=new)
    client.delete_object(Bucket=name, Key="doc")
    async with make_engine(server) as engine:
        (page,) = [p async for p in engine.list_versions(name, "doc")]
        marker, newest, oldest = page.versions
        assert marker.delete_marker
        assert not newest.delete_marker
        await engine.delete_version(name, "doc", marker.version_id)
        assert await engine.get_bytes(name, "doc") == new, "the marker gone, the key is back"
        await engine.restore_version(name, "doc", oldest.version_id)
        restored = await engine.get_bytes(name, "doc")
        (after,) = [p async for p in engine.list_versions(name, "doc")]
    assert hashlib.sha256(restored).digest() == hashlib.sha256(old).digest()
    assert client.head_object(Bucket=name, Key="doc")["Metadata"] == {"owner": "ann"}
    assert [v.is_latest for v in after.versions] == [True, False, False]
    assert {v.version_id for v in after.versions[1:]} == {newest.version_id, oldest.version_id}


@pytest.mark.asyncio
async def test_suspending_versioning_is_reported(versioned):
    server, name = versioned
    async with make_engine(server) as engine:
        await engine.set_bucket_versioning(name, False)
        assert await engine.bucket_versioning(name) == "Suspended"


def test_cli_ls_versions_lists_versions_and_markers(versioned, tmp_path):
    """``s3z-core ls --versions`` (one level and ``-r``) shows what boto3 lists, as JSON."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
    from clirun import run

    server, name = versioned
    client = boto3_client(server)
    for body in (b"1", b"22"):
        client.put_object(Bucket=name, Key="dir/k", Body=body)
    client.put_object(Bucket=name, Key="top", Body=b"t")
    client.delete_object(Bucket=name, Key="top")
    out = run(server, tmp_path, "ls", "--versions", "-r", "--json", f"s3://{name}").stdout
    records = [json.loads(line) for line in out.splitlines()]
    got = {
        (r["key"], r["version_id"], r["is_latest"], r["type"] == "delete_marker", r["size"])
        for r in records
    }
    assert got == boto3_versions(server, name)
    level = run(server, tmp_path, "ls", "--versions", f"s3://{name}/").stdout
    assert "PRE dir/" in level
    assert "(deleted)" in level
    assert "LATEST" in level


@pytest.mark.asyncio
@pytest.mark.parametrize("ranged", [False, True], ids=["one-get", "ranges"])
@pytest.mark.parametrize("listed", [False, True], ids=["head", "listed"])
async def test_download_an_older_version_lands_byte_identical(versioned, tmp_path, ranged, listed):
    """A spec's ``version_id`` goes on every HEAD and GET (``?versionId=``), ranges included:
    the file is the old version's bytes, not the current object's."""
    from s3z_core.specs import TransferSpec

    server, name = versioned
    client = boto3_client(server)
    # Ranges are at least 5 MiB: 12 MiB in 4 streams takes 3 of them.
    old, new = os.urandom((12 << 20) if ranged else 300_000), os.urandom(200_000)
    client.put_object(Bucket=name, Key="d/doc.bin", Body=old)
    client.put_object(Bucket=name, Key="d/doc.bin", Body=new)
    threshold = (1 << 20) if ranged else (64 << 20)
    async with make_engine(server, download_threshold=threshold, concurrency=4) as engine:
        (page,) = [p async for p in engine.list_versions(name, "d/")]
        older = page.versions[-1]
        assert older.size == len(old)
        spec = TransferSpec.download(
            name,
            older.key,
            str(tmp_path / "doc.bin"),
            local_root=str(tmp_path),
            strip_prefix="d/",
            size=older.size if listed else None,
            etag=older.etag if listed else None,
            version_id=older.version_id,
        )
        result = await engine.transfer(spec).result()
    assert result.parts > 1 if ranged else result.parts == 1
    got = (tmp_path / "doc.bin").read_bytes()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(old).hexdigest()
