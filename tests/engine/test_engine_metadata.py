"""Editing an object's metadata in place (CopyObject onto itself with REPLACE): what is given
changes, what is not is kept, the bytes stay byte-identical; a copy pinned to an old ETag is
refused rather than undoing a newer upload. boto3's HeadObject is the oracle."""

from __future__ import annotations

import hashlib
import os

import pytest
from enginekit import make_engine
from servers import S3Endpoint, boto3_client

from s3z_core.errors import ObjectChangedError, ServiceError


@pytest.fixture(params=["seaweed", "moto_s3"])
def server(request: pytest.FixtureRequest) -> S3Endpoint:
    found: S3Endpoint = request.getfixturevalue(request.param)
    return found


@pytest.mark.asyncio
async def test_metadata_content_type_and_cache_control_change_and_the_rest_is_kept(server, bucket):
    name = bucket(server)
    client = boto3_client(server)
    body = os.urandom(100_000)
    client.put_object(
        Bucket=name, Key="page.html", Body=body, ContentType="text/html", Metadata={"owner": "ann"}
    )
    async with make_engine(server) as engine:
        head = await engine.update_metadata(name, "page.html", cache_control="max-age=60")
        assert head.cache_control == "max-age=60"
        first = client.head_object(Bucket=name, Key="page.html")
        assert first["ContentType"] == "text/html"
        assert first["Metadata"] == {"owner": "ann"}
        assert first["CacheControl"] == "max-age=60"
        await engine.update_metadata(
            name, "page.html", metadata={"team": "web"}, content_type="text/plain"
        )
    second = client.head_object(Bucket=name, Key="page.html")
    assert second["Metadata"] == {"team": "web"}, "given metadata replaces the old whole"
    assert second["ContentType"] == "text/plain"
    assert second["CacheControl"] == "max-age=60", "not given: kept"
    got = client.get_object(Bucket=name, Key="page.html")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()


@pytest.mark.asyncio
async def test_a_copy_pinned_to_an_older_etag_changes_nothing(server, bucket):
    if getattr(server, "kind", "") == "moto" or "Moto" in type(server).__name__:
        pytest.skip("moto ignores x-amz-copy-source-if-match (copies whatever is there)")
    name = bucket(server)
    client = boto3_client(server)
    old_etag = client.put_object(Bucket=name, Key="k", Body=b"old")["ETag"].strip('"')
    client.put_object(Bucket=name, Key="k", Body=b"newer upload", Metadata={"v": "2"})
    async with make_engine(server) as engine:
        with pytest.raises(ServiceError) as caught:
            await engine.ops.copy_object(
                name, "k", name, "k", metadata={"v": "stale"}, if_match=old_etag
            )
    assert caught.value.status == 412
    assert client.head_object(Bucket=name, Key="k")["Metadata"] == {"v": "2"}
    assert client.get_object(Bucket=name, Key="k")["Body"].read() == b"newer upload"


@pytest.mark.asyncio
async def test_preview_reads_only_the_first_bytes_by_one_range(server, bucket):
    name = bucket(server)
    client = boto3_client(server)
    big, text = os.urandom(1024 * 1024 + 7), "héllo\n".encode() * 10
    client.put_object(Bucket=name, Key="big.bin", Body=big)
    client.put_object(Bucket=name, Key="note.txt", Body=text, ContentType="text/plain")
    client.put_object(Bucket=name, Key="empty", Body=b"")
    async with make_engine(server) as engine:
        part = await engine.preview(name, "big.bin", limit=64 * 1024)
        whole = await engine.preview(name, "note.txt")
        empty = await engine.preview(name, "empty")
    assert part.data == big[: 64 * 1024]
    assert not part.complete
    assert part.head.size == len(big)
    assert whole.data == text
    assert whole.complete
    assert whole.head.content_type == "text/plain"
    assert empty.data == b""
    assert empty.complete


@pytest.mark.asyncio
async def test_an_edit_made_on_an_older_version_is_refused_and_changes_nothing(seaweed, bucket):
    """``expected_etag``: the version a dialog showed; the object replaced since is said as
    ObjectChangedError, and neither its bytes nor its metadata change."""
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    shown = client.put_object(Bucket=name, Key="k", Body=b"old", Metadata={"v": "1"})
    client.put_object(Bucket=name, Key="k", Body=b"new", Metadata={"v": "2"})
    async with make_engine(seaweed) as engine:
        with pytest.raises(ObjectChangedError) as caught:
            await engine.update_metadata(
                name, "k", metadata={"v": "mine"}, expected_etag=shown["ETag"].strip('"')
            )
        assert "nothing was saved" in str(caught.value)
        current = client.head_object(Bucket=name, Key="k")["ETag"].strip('"')
        head = await engine.update_metadata(
            name, "k", metadata={"v": "mine"}, expected_etag=current
        )
    assert head.metadata == {"v": "mine"}
    assert client.head_object(Bucket=name, Key="k")["Metadata"] == {"v": "mine"}
    assert client.get_object(Bucket=name, Key="k")["Body"].read() == b"new"
