"""Test-side helpers around the real S3 servers: a moto server, a boto3 oracle, bucket cleanup.

boto3 is the oracle here, never the code under test: it creates and empties buckets and reads
back what s3z wrote, so a test can compare sha256 sums against an independent client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from s3z_core.local_server import ManagedS3Server, find_binary
from s3z_core.transfer.deletes import has_control_chars


class S3Endpoint(Protocol):
    """What every server fixture exposes (SeaweedFS, rclone, moto, a fault proxy)."""

    @property
    def endpoint_url(self) -> str: ...
    @property
    def access_key(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def region(self) -> str: ...


class MotoS3Server(ManagedS3Server):
    """``moto_server`` on 127.0.0.1: in-memory, stores any key verbatim (``a/../b``, ``a//b``).

    It is the adversarial server for path-safety tests; it accepts any credentials.
    """

    kind = "moto"

    def _binary(self) -> str:
        return find_binary("moto_server", "pip install 'moto[server]'")

    def _command(self, binary: str, ports: Sequence[int]) -> list[str]:
        return [binary, "-H", "127.0.0.1", "-p", str(ports[0])]


def boto3_client(server: S3Endpoint, *, max_attempts: int = 3, **config: Any) -> Any:
    """A path-style boto3 S3 client for ``server`` (``max_attempts`` counts the first try);
    checksums only when S3 requires them,
    so requests stay plain (no aws-chunked bodies) and every server understands them."""
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            **config,
        ),
    )


def empty_bucket(client: Any, name: str) -> None:
    """Abort unfinished multipart uploads and delete every object (and version) in ``name``."""
    try:
        uploads = client.list_multipart_uploads(Bucket=name).get("Uploads", [])
    except ClientError as exc:
        # rclone serve s3 answers NoSuchUpload when a bucket has no unfinished upload.
        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
            raise
        uploads = []
    for upload in uploads:
        client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [item["Key"] for item in page.get("Contents", [])]
        # One DeleteObjects per page (a 10,000-object bucket took 45 s one key at a time).
        # A key the engine's deletes also send alone (control characters), or one the batch
        # reports as not deleted, goes alone, so that a real failure still raises.
        batch = [k for k in keys if not has_control_chars(k)]
        alone = [k for k in keys if has_control_chars(k)]
        if batch:
            answer = client.delete_objects(
                Bucket=name, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
            alone += [error["Key"] for error in answer.get("Errors", [])]
        for key in alone:
            client.delete_object(Bucket=name, Key=key)


def _has_content(client: Any, name: str) -> bool:
    if client.list_objects_v2(Bucket=name, MaxKeys=1).get("KeyCount", 0):
        return True
    try:
        return bool(client.list_multipart_uploads(Bucket=name).get("Uploads"))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
            return False
        raise


def delete_bucket(server: S3Endpoint, name: str) -> None:
    """Empty and delete ``name``; a bucket that is already gone is fine.

    ``rclone serve s3`` can keep a bucket's empty folders after the last object in them is
    deleted (reproduced: after 16 parallel uploads into shared new folders, under load, one
    leaf folder chain stays; its VFS directory cache still holds an entry, so the pruning
    ``rmdir`` after DeleteObject fails). DeleteBucket then says BucketNotEmpty although, as
    S3 sees it, the bucket is empty. That answer is accepted only when a listing proves no
    object and no upload is left; the folder goes with the server's temporary directory.
    """
    client = boto3_client(server)
    try:
        empty_bucket(client, name)
        client.delete_bucket(Bucket=name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "NoSuchBucket":
            return
        quirk = code == "BucketNotEmpty" and getattr(server, "kind", "") == "rclone"
        if quirk and not _has_content(client, name):
            return
        raise
