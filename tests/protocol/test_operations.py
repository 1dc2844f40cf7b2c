"""Every S3 operation against real servers (SeaweedFS, rclone serve s3, moto), with keys that
hold spaces, ``+``, ``%``, NFC/NFD unicode, ``~`` and ``//``. Contents are checked by sha256
and cross-checked with boto3 (the oracle) in both directions.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from botocore.exceptions import ClientError
from s3z_protocol_helpers import (
    KEYS,
    OpsFactory,
    payload,
    server_kind,
    sha256,
    skip_unstorable,
    storable_keys,
)
from servers import S3Endpoint, boto3_client
from yarl import URL

from s3z_core.errors import NoSuchBucketError, NoSuchKeyError, ProtocolError, ServiceError
from s3z_core.transport.body import FileRange
from s3z_core.transport.messages import StreamHead

MiB = 1024 * 1024
BucketFactory = Callable[[S3Endpoint], str]


def _boto_sha(server: S3Endpoint, bucket: str, key: str) -> str:
    body = boto3_client(server).get_object(Bucket=bucket, Key=key)["Body"].read()
    return sha256(body)


def _boto_keys(server: S3Endpoint, bucket: str) -> list[str]:
    pages = boto3_client(server).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.mark.asyncio
@pytest.mark.parametrize("key_name", list(KEYS))
async def test_put_head_get_delete_round_trip(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    key_name: str,
    request: pytest.FixtureRequest,
) -> None:
    skip_unstorable(request, key_name)
    key = KEYS[key_name]
    name = bucket(any_server)
    ops = make_ops(any_server)
    data = payload(key, 70_001)

    etag = await ops.put_object(
        name, key, data, content_type="text/x-s3z", metadata={"origin": "s3z", "n": "1"}
    )
    assert etag == hashlib.md5(data).hexdigest()

    head = await ops.head_object(name, key)
    assert head.key == key
    assert head.size == len(data)
    assert head.etag == etag
    assert head.content_type == "text/x-s3z"
    assert head.last_modified is not None
    # Names come back lower-case even where the server answers X-Amz-Meta-Origin (rclone).
    assert head.metadata == {"origin": "s3z", "n": "1"}

    got = await ops.get_object_bytes(name, key)
    assert sha256(got) == sha256(data)
    # The oracle reads exactly what we wrote, under exactly the key we meant.
    assert _boto_sha(any_server, name, key) == sha256(data)
    assert _boto_keys(any_server, name) == [key]
    boto_head = boto3_client(any_server).head_object(Bucket=name, Key=key)
    assert {k.lower(): v for k, v in boto_head["Metadata"].items()} == {"origin": "s3z", "n": "1"}

    await ops.delete_object(name, key)
    with pytest.raises(NoSuchKeyError) as info:
        await ops.head_object(name, key)
    assert info.value.key == key
    with pytest.raises(NoSuchKeyError):
        await ops.get_object_bytes(name, key)
    assert _boto_keys(any_server, name) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("key_name", list(KEYS))
async def test_boto3_writes_and_we_read_list_and_stream(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    key_name: str,
    request: pytest.FixtureRequest,
) -> None:
    skip_unstorable(request, key_name)
    key = KEYS[key_name]
    name = bucket(any_server)
    data = payload("boto:" + key, 3 * MiB + 17)
    boto3_client(any_server).put_object(Bucket=name, Key=key, Body=data)
    ops = make_ops(any_server)

    page = await ops.list_objects_v2(name)
    assert [(o.key, o.size) for o in page.objects] == [(key, len(data))]
    assert sha256(await ops.get_object_bytes(name, key)) == sha256(data)

    # Streamed GET, whole and ranged ([start, end) in, an inclusive Range header out).
    streamed = bytearray()
    async for chunk in ops.client.stream(name, key):
        streamed += chunk
    assert sha256(bytes(streamed)) == sha256(data)
    first, last = MiB - 3, 2 * MiB + 5
    heads: list[StreamHead] = []
    part = bytearray()
    async for chunk in ops.client.stream(
        name, key, start=first, end=last + 1, ranged=True, on_head=heads.append
    ):
        part += chunk
    # rclone answers 200 (not 206) to a Range GET, with the right Content-Range and
    # only the range in the body: check those, not the status.
    (head,) = heads
    assert head.status in (200, 206)
    assert head.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    assert head.content_length == last + 1 - first
    assert sha256(bytes(part)) == sha256(data[first : last + 1])


@pytest.mark.asyncio
async def test_put_from_file_range_streams_only_that_range(
    any_server: S3Endpoint, bucket: BucketFactory, make_ops: OpsFactory, tmp_path: Path
) -> None:
    name = bucket(any_server)
    ops = make_ops(any_server)
    data = payload("file", 4 * MiB + 333)
    path = tmp_path / "src.bin"
    path.write_bytes(data)
    offset, length = 123_457, 2 * MiB + 99  # spans several 1 MiB reads, unaligned
    progress: list[int] = []
    key = KEYS["mixed"]
    etag = await ops.put_object(
        name, key, FileRange(str(path), offset, length), progress=progress.append
    )
    want = data[offset : offset + length]
    assert etag == hashlib.md5(want).hexdigest()
    assert sha256(await ops.get_object_bytes(name, key)) == sha256(want)
    assert _boto_sha(any_server, name, key) == sha256(want)
    assert sum(progress) == length
    assert all(n > 0 for n in progress)

    # A zero-byte object (the empty-body hash path).
    await ops.put_object(name, "empty/" + KEYS["space"], b"")
    assert (await ops.head_object(name, "empty/" + KEYS["space"])).size == 0
    assert await ops.get_object_bytes(name, "empty/" + KEYS["space"]) == b""


@pytest.mark.asyncio
async def test_copy_object_between_special_keys(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    request: pytest.FixtureRequest,
) -> None:
    name = bucket(any_server)
    other = bucket(any_server)
    ops = make_ops(any_server)
    keys = list(storable_keys(request).values())
    for i, src in enumerate(keys):
        data = payload(src, 10_000 + i)
        await ops.put_object(name, src, data, metadata={"from": "src"})
        dst = keys[(i + 1) % len(keys)] + ".copy"
        etag = await ops.copy_object(name, src, other, dst)
        assert etag == hashlib.md5(data).hexdigest()
        assert _boto_sha(any_server, other, dst) == sha256(data)
        # COPY directive keeps the source's metadata (rclone adds its own "mtime").
        assert (await ops.head_object(other, dst)).metadata["from"] == "src"
    # REPLACE metadata on a same-bucket copy.
    src = keys[0]
    await ops.copy_object(name, src, name, src + ".meta", metadata={"fresh": "yes"})
    meta = (await ops.head_object(name, src + ".meta")).metadata
    oracle = boto3_client(any_server).head_object(Bucket=name, Key=src + ".meta")["Metadata"]
    assert {k.lower(): v for k, v in oracle.items()} == meta
    if server_kind(request) == "rclone":
        # rclone serve s3 ignores x-amz-metadata-directive: REPLACE adds, never drops.
        assert meta["fresh"] == "yes"
    else:
        assert meta == {"fresh": "yes"}
    with pytest.raises(NoSuchKeyError):
        await ops.copy_object(name, "no/such key", name, "whatever")


@pytest.mark.asyncio
async def test_multipart_upload_list_complete_and_abort(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    name = bucket(any_server)
    ops = make_ops(any_server)
    keys = storable_keys(request)
    part1 = payload("p1", 5 * MiB)
    tail = payload("p2", 777_777)
    src = tmp_path / "tail.bin"
    src.write_bytes(b"junk" + tail + b"junk")

    # Aborted at the end. Top-level on purpose: rclone's abort leaves the key's parent
    # directory behind, and an empty directory makes its bucket undeletable.
    keys["abort"] = "abort me +%~é.bin"
    # None yet: an empty list (rclone answers 404 NoSuchUpload here).
    assert await ops.list_multipart_uploads(name) == []
    ids = {
        kname: await ops.create_multipart_upload(name, key, metadata={"mp": "1"})
        for kname, key in keys.items()
    }
    listed = await ops.list_multipart_uploads(name)
    assert sorted((u.key, u.upload_id) for u in listed) == sorted(
        (keys[k], i) for k, i in ids.items()
    )
    # ... and with a prefix holding a space and unicode.
    only = await ops.list_multipart_uploads(name, prefix="unicode/")
    assert sorted(u.key for u in only) == sorted(
        k for k in keys.values() if k.startswith("unicode/")
    )
    boto_listed = boto3_client(any_server).list_multipart_uploads(Bucket=name)["Uploads"]
    assert sorted(u["Key"] for u in boto_listed) == sorted(keys.values())

    abort_name = "abort"
    for kname, key in keys.items():
        upload_id = ids[kname]
        e1 = await ops.upload_part(name, key, upload_id, 1, part1)
        e2 = await ops.upload_part(name, key, upload_id, 2, FileRange(str(src), 4, len(tail)))
        parts = await ops.list_parts(name, key, upload_id)
        assert [(p.part_number, p.etag, p.size) for p in parts] == [
            (1, hashlib.md5(part1).hexdigest(), len(part1)),
            (2, hashlib.md5(tail).hexdigest(), len(tail)),
        ]
        if kname == abort_name:
            await ops.abort_multipart_upload(name, key, upload_id)
            continue
        etag = await ops.complete_multipart_upload(name, key, upload_id, [(1, e1), (2, e2)])
        composite = hashlib.md5(bytes.fromhex(e1) + bytes.fromhex(e2)).hexdigest()
        assert etag == f"{composite}-2"
        assert _boto_sha(any_server, name, key) == sha256(part1 + tail)
        head = await ops.head_object(name, key)
        assert head.size == len(part1) + len(tail)
        if server_kind(request) == "rclone":
            # rclone stores a plain file: HEAD reports the whole-object MD5, not the
            # composite ETag that CompleteMultipartUpload returned.
            assert head.etag == hashlib.md5(part1 + tail).hexdigest()
            assert head.parts_count is None
        else:
            assert head.etag == etag
            assert head.parts_count == 2
        assert head.metadata["mp"] == "1"

    assert await ops.list_multipart_uploads(name) == []
    assert sorted(_boto_keys(any_server, name)) == sorted(
        k for n, k in keys.items() if n != abort_name
    )


@pytest.mark.asyncio
async def test_upload_part_copy_assembles_ranges_of_a_special_key(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    request: pytest.FixtureRequest,
) -> None:
    if server_kind(request) == "rclone":
        pytest.skip("rclone serve s3 has no UploadPartCopy (see the rclone test below)")
    name = bucket(any_server)
    ops = make_ops(any_server)
    src_key = KEYS["mixed"]
    data = payload("upc", 6 * MiB + 5)
    await ops.put_object(name, src_key, data)
    dst_key = KEYS["nfd"] + ".assembled"
    upload_id = await ops.create_multipart_upload(name, dst_key)
    split = 5 * MiB
    e1 = await ops.upload_part_copy(
        src_bucket=name,
        src_key=src_key,
        bucket=name,
        key=dst_key,
        upload_id=upload_id,
        part_number=1,
        first_byte=0,
        last_byte=split - 1,
    )
    e2 = await ops.upload_part_copy(
        src_bucket=name,
        src_key=src_key,
        bucket=name,
        key=dst_key,
        upload_id=upload_id,
        part_number=2,
        first_byte=split,
        last_byte=len(data) - 1,
    )
    if server_kind(request) == "seaweed":
        # SeaweedFS 4.48 answers with an ETag of its internal chunks ("…-2"), not the MD5
        # of the copied range; the assembled bytes below are what matters.
        assert e1
        assert e2
    else:
        assert e1 == hashlib.md5(data[:split]).hexdigest()
        assert e2 == hashlib.md5(data[split:]).hexdigest()
    await ops.complete_multipart_upload(name, dst_key, upload_id, [(1, e1), (2, e2)])
    assert _boto_sha(any_server, name, dst_key) == sha256(data)


@pytest.mark.asyncio
async def test_rclone_upload_part_copy_fails_typed_not_silently(
    rclone_s3: S3Endpoint, bucket: BucketFactory, make_ops: OpsFactory
) -> None:
    """rclone serve s3 treats UploadPartCopy as an UploadPart with an empty body: 200, no
    CopyPartResult, and a 0-byte part. We must fail, never hand back that part's ETag."""
    name = bucket(rclone_s3)
    ops = make_ops(rclone_s3)
    await ops.put_object(name, "src", b"x" * 100)
    upload_id = await ops.create_multipart_upload(name, "dst")
    try:
        with pytest.raises(ProtocolError, match="malformed XML"):
            await ops.upload_part_copy(
                src_bucket=name,
                src_key="src",
                bucket=name,
                key="dst",
                upload_id=upload_id,
                part_number=1,
                first_byte=0,
                last_byte=99,
            )
        # The evidence that the server did not copy: the part it kept is empty.
        assert [p.size for p in await ops.list_parts(name, "dst", upload_id)] == [0]
    finally:
        await ops.abort_multipart_upload(name, "dst", upload_id)


@pytest.mark.asyncio
async def test_delete_objects_batch_of_special_keys(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    request: pytest.FixtureRequest,
) -> None:
    name = bucket(any_server)
    ops = make_ops(any_server)
    keys = list(storable_keys(request).values())
    extra = [f"bulk/{i:03d} +%~é" for i in range(40)]
    await asyncio.gather(*(ops.put_object(name, k, k.encode()) for k in keys + extra))
    keep = "keep/me too.txt"
    await ops.put_object(name, keep, b"kept")
    missing = "never/existed +%.bin"
    result = await ops.delete_objects(name, [*keys, *extra, missing])
    assert result.failures == []
    # Deleting a missing key succeeds in S3; it is reported deleted too.
    assert sorted(result.deleted) == sorted([*keys, *extra, missing])
    assert _boto_keys(any_server, name) == [keep]


@pytest.mark.asyncio
async def test_bucket_lifecycle(
    s3_server: S3Endpoint,
    make_ops: OpsFactory,
    bucket: BucketFactory,
    request: pytest.FixtureRequest,
) -> None:
    ops = make_ops(s3_server)
    name = "s3z-ops-" + hashlib.sha256(s3_server.endpoint_url.encode()).hexdigest()[:12]
    try:
        await ops.create_bucket(name)
        await ops.head_bucket(name)
        assert name in [b.name for b in await ops.list_buckets()]
        assert name in [b["Name"] for b in boto3_client(s3_server).list_buckets()["Buckets"]]

        await ops.put_object(name, KEYS["space"], b"x")
        if server_kind(request) == "seaweed":
            # SeaweedFS 4.48 deletes a non-empty bucket (AWS answers BucketNotEmpty).
            await ops.delete_bucket(name)
        else:
            with pytest.raises(ServiceError) as info:
                await ops.delete_bucket(name)
            assert info.value.code == "BucketNotEmpty"
            assert not info.value.retryable
            await ops.delete_object(name, KEYS["space"])
            await ops.delete_bucket(name)
    finally:
        try:
            boto3_client(s3_server).delete_object(Bucket=name, Key=KEYS["space"])
            boto3_client(s3_server).delete_bucket(Bucket=name)
        except ClientError:
            pass
    with pytest.raises(NoSuchBucketError):
        await ops.head_bucket(name)
    assert name not in [b.name for b in await ops.list_buckets()]
    with pytest.raises(NoSuchBucketError):
        await ops.list_objects_v2(name)
    # A bucket created by boto3 is visible to us.
    made = bucket(s3_server)
    await ops.head_bucket(made)


@pytest.mark.asyncio
async def test_list_objects_v2_prefix_delimiter_start_after(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    request: pytest.FixtureRequest,
) -> None:
    name = bucket(any_server)
    ops = make_ops(any_server)
    keys = list(storable_keys(request).values())
    await asyncio.gather(*(ops.put_object(name, k, b"") for k in keys))
    boto = boto3_client(any_server)

    page = await ops.list_objects_v2(name, delimiter="/")
    oracle = boto.list_objects_v2(Bucket=name, Delimiter="/")
    assert [o.key for o in page.objects] == [o["Key"] for o in oracle.get("Contents", [])]
    assert page.common_prefixes == [p["Prefix"] for p in oracle["CommonPrefixes"]]
    assert "dir with space/" in page.common_prefixes

    for prefix in ("unicode/", "dir with space/", "a b/+c/", "plus+"):
        got = [o.key for o in (await ops.list_objects_v2(name, prefix=prefix)).objects]
        want = [
            o["Key"] for o in boto.list_objects_v2(Bucket=name, Prefix=prefix).get("Contents", [])
        ]
        assert got == want
        assert got == sorted((k for k in keys if k.startswith(prefix)), key=str.encode)
        assert got

    ordered = sorted(keys, key=str.encode)
    after = ordered[2]
    got = [o.key for o in (await ops.list_objects_v2(name, start_after=after)).objects]
    assert got == ordered[3:]


@pytest.mark.asyncio
async def test_presigned_get_and_put(
    any_server: S3Endpoint,
    bucket: BucketFactory,
    make_ops: OpsFactory,
    request: pytest.FixtureRequest,
) -> None:
    name = bucket(any_server)
    ops = make_ops(any_server)
    key = KEYS["mixed"]
    data = payload("presign", 50_000)
    put_url = ops.client.presign("PUT", name, key, 300)
    async with aiohttp.ClientSession() as session:
        async with session.put(URL(put_url, encoded=True), data=data) as resp:
            assert resp.status == 200, await resp.text()
        assert _boto_sha(any_server, name, key) == sha256(data)
        get_url = ops.client.presign("GET", name, key, 300)
        async with session.get(URL(get_url, encoded=True)) as resp:
            assert resp.status == 200
            assert sha256(await resp.read()) == sha256(data)
        # A tampered signature is refused (moto checks no signatures).
        if server_kind(request) != "moto":
            sig = get_url.rsplit("X-Amz-Signature=", 1)[1]
            forged = get_url[: -len(sig)] + ("0" if sig[0] != "0" else "1") + sig[1:]
            async with session.get(URL(forged, encoded=True)) as resp:
                assert resp.status == 403
