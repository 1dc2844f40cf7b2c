"""A relay when things go wrong between the two stores: a source whose bytes do not give its
ETag, a source GET cut mid-body, a source that stops answering. Each ends with a typed
result, and never with a half object or an unfinished upload on the destination."""

from __future__ import annotations

import hashlib

import pytest
from clusterkit import bucket_sums, open_uploads, relay_engine
from fault_proxy import FaultProxy
from servers import boto3_client

from s3z_core.config import MiB
from s3z_core.errors import AccessDeniedError, VerificationError
from s3z_core.events import Verification
from s3z_core.local_server import LocalS3Server

SIZE = 11 * MiB + 5  # two 8 MiB relay parts on the destination: a multipart upload


def put_multipart(server: LocalS3Server, bucket: str, key: str, data: bytes, **extra) -> str:
    client = boto3_client(server)
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    parts = []
    for number, offset in enumerate(range(0, len(data), 5 * MiB), start=1):
        etag = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=data[offset : offset + 5 * MiB],
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    done = client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    return done["ETag"].strip('"')


def data_of(seed: bytes) -> bytes:
    return (hashlib.sha256(seed).digest() * (SIZE // 32 + 1))[:SIZE]


@pytest.mark.asyncio
async def test_source_bytes_that_do_not_give_its_etag_land_nothing(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket
) -> None:
    """The object says (in s3z's metadata) it was written in 6 MiB parts, but it was 5 MiB:
    the bytes read cannot reproduce its ETag, so the relay aborts before completing."""
    src, dst = bucket(seaweed), bucket(seaweed_b)
    put_multipart(seaweed, src, "k", data_of(b"lie"), Metadata={"s3z-part-size": str(6 * MiB)})
    async with relay_engine(seaweed, seaweed_b) as engine:
        with pytest.raises(VerificationError, match="nothing was written"):
            await engine.copy_object(src, "k", dst, "k").result()
    assert bucket_sums(seaweed_b, dst) == {}
    assert open_uploads(seaweed_b, dst) == []


@pytest.mark.asyncio
async def test_a_source_composite_etag_with_its_part_size_is_checked(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket
) -> None:
    src, dst = bucket(seaweed), bucket(seaweed_b)
    data = data_of(b"true")
    put_multipart(seaweed, src, "k", data, Metadata={"s3z-part-size": str(5 * MiB)})
    async with relay_engine(seaweed, seaweed_b) as engine:
        result = await engine.copy_object(src, "k", dst, "k").result()
    assert result.verification is Verification.VERIFIED_COMPOSITE
    assert result.parts == 2
    assert bucket_sums(seaweed_b, dst) == {"k": hashlib.sha256(data).hexdigest()}


@pytest.mark.asyncio
async def test_a_source_get_cut_mid_body_resumes(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket
) -> None:
    src, dst = bucket(seaweed), bucket(seaweed_b)
    data = data_of(b"cut")
    boto3_client(seaweed).put_object(Bucket=src, Key="k", Body=data)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.reset_response(after_bytes=3 * MiB, method="GET", path=r"/k$")
        async with relay_engine(proxy.endpoint(seaweed), seaweed_b) as engine:
            result = await engine.copy_object(src, "k", dst, "k").result()
        gets = proxy.requests_matching(method="GET", path=r"/k$")
    assert len(gets) == 2  # cut once, resumed from the next byte
    assert result.verification is Verification.VERIFIED_COMPOSITE
    assert bucket_sums(seaweed_b, dst) == {"k": hashlib.sha256(data).hexdigest()}


@pytest.mark.asyncio
async def test_a_source_that_stops_answering_aborts_the_destination_upload(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket
) -> None:
    """Cut after 9 MiB (the destination multipart upload exists by then), and the resumed GET
    is refused: the file fails with the source's typed error and its upload is aborted."""
    src, dst = bucket(seaweed), bucket(seaweed_b)
    boto3_client(seaweed).put_object(Bucket=src, Key="k", Body=data_of(b"deny"))
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.reset_response(after_bytes=9 * MiB, method="GET", path=r"/k$")
        proxy.access_denied(method="GET", path=r"/k$", nth=2, times=None)
        async with relay_engine(proxy.endpoint(seaweed), seaweed_b) as engine:
            with pytest.raises(AccessDeniedError):
                await engine.copy_object(src, "k", dst, "k").result()
    assert bucket_sums(seaweed_b, dst) == {}
    assert open_uploads(seaweed_b, dst) == []
