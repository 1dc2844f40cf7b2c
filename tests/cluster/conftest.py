"""Two SeaweedFS servers with different credentials (a migration's two ends), and a tree.

The second server (``seaweed_b``) has its own access key and secret: a copy between the two
can only work if each side signs with its own credentials, as between two clouds.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from cli.clirun import run
from clusterkit import FOREIGN, FOREIGN_SIZE, make_tree
from servers import boto3_client, delete_bucket

from s3z_core.local_server import LocalS3Server


@pytest.fixture(scope="session")
def seaweed_b() -> Iterator[LocalS3Server]:
    """A second SeaweedFS, another account: access key ``s3zother``, its own secret."""
    with LocalS3Server(access_key="s3zother", bind_to_parent=True) as server:
        yield server


@pytest.fixture(scope="session")
def source_tree(
    seaweed: LocalS3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """A bucket on server A holding the 3,000-file tree, two s3z multipart objects and one
    boto3 multipart object; yields (bucket, name -> sha256)."""
    root = tmp_path_factory.mktemp("tree")
    sums = make_tree(root)
    name = f"src-{uuid.uuid4().hex[:12]}"
    client = boto3_client(seaweed)
    client.create_bucket(Bucket=name)
    home = tmp_path_factory.mktemp("home")
    run(seaweed, home, "cp", "-r", str(root), f"s3://{name}/", "--no-progress", "-q")
    foreign = hashlib.sha256(b"foreign").digest() * (FOREIGN_SIZE // 32 + 1)
    foreign = foreign[:FOREIGN_SIZE]
    upload = client.create_multipart_upload(Bucket=name, Key=FOREIGN)
    parts = []
    for number, offset in enumerate(range(0, FOREIGN_SIZE, 5 * 2**20), start=1):
        body = foreign[offset : offset + 5 * 2**20]
        etag = client.upload_part(
            Bucket=name, Key=FOREIGN, UploadId=upload["UploadId"], PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    client.complete_multipart_upload(
        Bucket=name, Key=FOREIGN, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    sums[FOREIGN] = hashlib.sha256(foreign).hexdigest()
    yield name, sums
    delete_bucket(seaweed, name)
