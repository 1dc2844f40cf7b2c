"""Content-Type, Cache-Control and user metadata: set on upload (single PUT and multipart,
through ``UploadOptions``), and kept by copies (server-side CopyObject and the relay between
two engines). boto3's HeadObject is the oracle; the bytes are checked by sha256."""

from __future__ import annotations

import hashlib
import os

import pytest
from enginekit import SMALL, make_engine, write_random
from servers import boto3_client

from s3z_core.config import ClientConfig, MiB, TransferConfig
from s3z_core.credentials import Credentials
from s3z_core.engine import Engine
from s3z_core.errors import InvalidValueError
from s3z_core.specs import TransferSpec, UploadOptions

OPTIONS = UploadOptions("text/x-report", "max-age=60, public", (("Owner", "ann"), ("team", "web")))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.asyncio
async def test_upload_options_reach_the_object_single_and_multipart(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    small = tmp_path / "in" / "small.csv"
    sums = {
        "small.csv": write_random(small, 1000),
        "big.csv": write_random(small.parent / "big.csv", 12 * MiB),
    }
    async with make_engine(seaweed, **SMALL) as engine:
        result = await engine.upload_paths([small.parent], name, "up/", options=OPTIONS).result()
    assert result.files_done == 2
    assert not result.failed
    client = boto3_client(seaweed)
    for file, digest in sums.items():
        head = client.head_object(Bucket=name, Key=f"up/in/{file}")
        assert head["ContentType"] == "text/x-report"
        assert head["CacheControl"] == "max-age=60, public"
        assert head["Metadata"]["owner"] == "ann", "names are stored lower-case"
        assert head["Metadata"]["team"] == "web"
        assert "mtime" in head["Metadata"], "s3z's own metadata is kept beside"
        body = client.get_object(Bucket=name, Key=f"up/in/{file}")["Body"].read()
        assert _sha(body) == digest
    assert client.head_object(Bucket=name, Key="up/in/big.csv")["ETag"].endswith('-3"')


@pytest.mark.asyncio
async def test_without_options_the_type_is_guessed_and_no_cache_control(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    write_random(tmp_path / "page.html", 100)
    async with make_engine(seaweed) as engine:
        await engine.upload_paths([tmp_path / "page.html"], name).result()
    head = boto3_client(seaweed).head_object(Bucket=name, Key="page.html")
    assert head["ContentType"] == "text/html"
    assert "CacheControl" not in head


def _seed(client, name: str, key: str, body: bytes, *, multipart: bool) -> None:
    extra = {"ContentType": "image/webp", "CacheControl": "no-cache", "Metadata": {"a": "1"}}
    if not multipart:
        client.put_object(Bucket=name, Key=key, Body=body, **extra)
        return
    upload = client.create_multipart_upload(Bucket=name, Key=key, **extra)["UploadId"]
    half = len(body) // 2
    parts = []
    for number, chunk in ((1, body[:half]), (2, body[half:])):
        etag = client.upload_part(
            Bucket=name, Key=key, UploadId=upload, PartNumber=number, Body=chunk
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    client.complete_multipart_upload(
        Bucket=name, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )


def _assert_kept(client, name: str, key: str, body: bytes) -> None:
    head = client.head_object(Bucket=name, Key=key)
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "no-cache"
    assert head["Metadata"].get("a") == "1"
    assert _sha(client.get_object(Bucket=name, Key=key)["Body"].read()) == _sha(body)


@pytest.mark.asyncio
async def test_server_side_copy_keeps_headers_and_metadata(seaweed, bucket):
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    body = os.urandom(300_000)
    _seed(client, name, "src/pic.webp", body, multipart=False)
    async with make_engine(seaweed) as engine:
        result = await engine.copy_prefix(name, "src/", name, "dst/").result()
    assert result.files_done == 1
    _assert_kept(client, name, "dst/pic.webp", body)


@pytest.mark.asyncio
@pytest.mark.parametrize("multipart", [False, True], ids=["single", "multipart"])
async def test_relayed_copy_keeps_headers_and_metadata(seaweed, bucket, multipart):
    """A relay (another endpoint's engine as the source: here the same server, so the bytes
    go through this process) re-uploads: it must send the source's headers itself."""
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    body = os.urandom(12 * MiB if multipart else 200_000)
    _seed(client, name, "src/pic.webp", body, multipart=multipart)
    here = ClientConfig(seaweed.endpoint_url, seaweed.region, "path")
    keys = Credentials(seaweed.access_key, seaweed.secret_key)
    config = TransferConfig(**SMALL)
    async with Engine(here, keys, config, source=make_engine(seaweed, **SMALL)) as engine:
        result = await engine.copy_prefix(name, "src/", name, "dst/").result()
    assert result.files_done == 1
    assert not result.failed
    _assert_kept(client, name, "dst/pic.webp", body)
    assert client.head_object(Bucket=name, Key="dst/pic.webp")["ETag"].endswith(
        '-3"' if multipart else '"'
    )


def test_options_apply_to_file_uploads_only():
    upload = TransferSpec.upload("/a", "b", "k", metadata=(("mtime", "1.0"), ("team", "old")))
    applied = OPTIONS.apply(upload)
    assert applied.content_type == "text/x-report"
    assert applied.cache_control == "max-age=60, public"
    assert dict(applied.metadata) == {"mtime": "1.0", "team": "web", "owner": "ann"}
    marker = TransferSpec.upload("/d", "b", "d/", marker=True)
    assert OPTIONS.apply(marker) is marker
    copy = TransferSpec.copy("b", "k", "b", "k2")
    assert OPTIONS.apply(copy) is copy
    assert not UploadOptions("", " ", ())


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (lambda: UploadOptions(metadata=(("bad name", "x"),)), "metadata name 'bad name'"),
        (lambda: UploadOptions(metadata=(("a:b", "x"),)), "metadata name 'a:b'"),
        (lambda: UploadOptions(metadata=(("k", "two\r\nlines"),)), "one line"),
        (lambda: UploadOptions(metadata=(("k", "v" * 3000),)), "S3 allows 2048"),
        (lambda: UploadOptions(content_type="text/plain\r\nX-Evil: 1"), "printable ASCII"),
        (lambda: UploadOptions(cache_control="max-age=\u00e9"), "printable ASCII"),
    ],
)
def test_bad_options_are_one_clear_error(options, says):
    with pytest.raises(InvalidValueError) as caught:
        options()
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
