"""Capture real S3 XML response bodies for the parser tests (run by hand, once per server).

    python tests/protocol/data/capture_responses.py NAME ENDPOINT ACCESS SECRET

writes ``tests/protocol/data/responses/NAME/*.xml`` (raw bodies exactly as received,
through our client so the requests are the ones s3z sends) and ``NAME/expected.json``:
what the script itself put on the server (keys, sizes, MD5 ETags, part numbers), so
the tests compare parsed values with independent facts, not with parser output.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

from yarl import URL

from s3z_core.config import ClientConfig, RetryPolicy
from s3z_core.credentials import Credentials
from s3z_core.errors import ServiceError
from s3z_core.operations import S3Operations
from s3z_core.protocol.endpoints import build_url
from s3z_core.protocol.requests import complete_multipart_body, delete_objects_body
from s3z_core.protocol.signing import EMPTY_SHA256
from s3z_core.transport.client import S3Client

HERE = Path(__file__).parent / "responses"
BUCKET = "s3z-capture"
MiB = 1024 * 1024

# Keys every backend can store (rclone is a filesystem: no control characters here).
LIST_KEYS = [
    "plain.txt",
    "sp ace.txt",
    "plus+sign=eq",
    "pct%41%2F",
    "tilde~x",
    "amp&lt<gt>",
    unicodedata.normalize("NFC", "uni/é.txt"),
    unicodedata.normalize("NFD", "uni/é.txt"),
    "dir/sub/deep.bin",
    "dir/top.bin",
]


def _content(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest() * (1 + len(key) % 5)


async def capture(name: str, endpoint: str, access: str, secret: str) -> None:
    out = HERE / name
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {"bucket": BUCKET}
    cfg = ClientConfig(
        endpoint_url=endpoint, addressing_style="path", retry=RetryPolicy(max_attempts=2)
    )
    client = S3Client(cfg, Credentials(access, secret))
    ops = S3Operations(client)

    async def raw(fname: str, operation: str, method: str, **kw: Any) -> tuple[int, bytes]:
        try:
            resp = await client.request(operation, method, **kw)
            status, body = resp.status, resp.body
        except ServiceError as exc:
            status, body = exc.status, b""
            raise RuntimeError(f"{fname}: {exc}") from exc
        (out / fname).write_bytes(body)
        return status, body

    try:
        try:
            await ops.create_bucket(BUCKET)
        except ServiceError as exc:  # left over from an interrupted run
            if exc.code != "BucketAlreadyOwnedByYou":
                raise
            await _empty_bucket(ops)
            await ops.create_bucket(BUCKET)
        await raw("list_buckets.xml", "ListBuckets", "GET")
        expected["buckets_include"] = [BUCKET]

        sizes: dict[str, int] = {}
        etags: dict[str, str] = {}
        for key in LIST_KEYS:
            data = _content(key)
            await ops.put_object(BUCKET, key, data)
            sizes[key] = len(data)
            etags[key] = hashlib.md5(data).hexdigest()
        expected["objects"] = {"sizes": sizes, "etags": etags}

        base = [("list-type", "2"), ("encoding-type", "url")]
        await raw("list_objects_v2_all.xml", "ListObjectsV2", "GET", bucket=BUCKET, query=base)
        await raw(
            "list_objects_v2_delimiter.xml",
            "ListObjectsV2",
            "GET",
            bucket=BUCKET,
            query=[*base, ("delimiter", "/")],
        )
        await raw(
            "list_objects_v2_truncated.xml",
            "ListObjectsV2",
            "GET",
            bucket=BUCKET,
            query=[*base, ("max-keys", "3")],
        )
        await raw(
            "list_objects_v2_plain.xml",
            "ListObjectsV2",
            "GET",
            bucket=BUCKET,
            query=[("list-type", "2")],
        )

        src = "plain.txt"
        await raw(
            "copy_object.xml",
            "CopyObject",
            "PUT",
            bucket=BUCKET,
            key="copied.txt",
            headers={"x-amz-copy-source": f"/{BUCKET}/{src}"},
        )
        expected["copy_etag"] = etags[src]

        mp_key = "multi part/ü+.bin"
        _, body = await raw(
            "create_multipart_upload.xml",
            "CreateMultipartUpload",
            "POST",
            bucket=BUCKET,
            key=mp_key,
            query=[("uploads", "")],
        )
        upload_id = await ops.create_multipart_upload(BUCKET, mp_key + ".2")  # a second one
        first_id = await ops.list_multipart_uploads(BUCKET, prefix=mp_key)
        part1 = b"a" * (5 * MiB)
        part2 = b"tail-bytes"
        ids = sorted(u.upload_id for u in first_id if u.key == mp_key)
        assert len(ids) == 1, ids
        mp_id = ids[0]
        e1 = await ops.upload_part(BUCKET, mp_key, mp_id, 1, part1)
        e2 = await ops.upload_part(BUCKET, mp_key, mp_id, 2, part2)
        await raw(
            "list_multipart_uploads.xml",
            "ListMultipartUploads",
            "GET",
            bucket=BUCKET,
            query=[("uploads", ""), ("encoding-type", "url")],
        )
        await raw(
            "list_parts.xml",
            "ListParts",
            "GET",
            bucket=BUCKET,
            key=mp_key,
            query=[("uploadId", mp_id)],
        )
        expected["multipart"] = {
            "key": mp_key,
            "second_key": mp_key + ".2",
            "upload_id": mp_id,
            "second_upload_id": upload_id,
            "parts": [[1, e1, len(part1)], [2, e2, len(part2)]],
            "part_md5s": [
                hashlib.md5(part1).hexdigest(),
                hashlib.md5(part2).hexdigest(),
            ],
        }
        await raw(
            "complete_multipart_upload.xml",
            "CompleteMultipartUpload",
            "POST",
            bucket=BUCKET,
            key=mp_key,
            query=[("uploadId", mp_id)],
            body=complete_multipart_body([(1, e1), (2, e2)]),
        )
        composite = hashlib.md5(
            bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))
        ).hexdigest()
        expected["multipart"]["composite_etag"] = f"{composite}-2"
        await ops.abort_multipart_upload(BUCKET, mp_key + ".2", upload_id)

        to_delete = ["copied.txt", "sp ace.txt"]
        body = delete_objects_body(to_delete, quiet=False)
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        await raw(
            "delete_objects_verbose.xml",
            "DeleteObjects",
            "POST",
            bucket=BUCKET,
            query=[("delete", "")],
            headers={"Content-MD5": md5},
            body=body,
        )
        expected["deleted"] = to_delete

        # Error documents, through the typed path: keep the raw body of each.
        for fname, kw in (
            ("error_no_such_key.xml", {"bucket": BUCKET, "key": "missing/key"}),
            ("error_no_such_bucket.xml", {"bucket": "s3z-no-such-bucket", "key": "k"}),
        ):
            resp_body = await _error_body(client, kw)
            (out / fname).write_bytes(resp_body)
        bad = S3Client(cfg, Credentials(access, secret + "-wrong"))
        try:
            # moto does not check signatures: it has no such document to capture.
            if name != "moto":
                (out / "error_signature.xml").write_bytes(
                    await _error_body(bad, {"bucket": BUCKET, "key": "plain.txt"})
                )
        finally:
            await bad.close()
        (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=True))
    finally:
        await _empty_bucket(ops)
        await client.close()


async def _error_body(client: S3Client, kw: dict[str, str]) -> bytes:
    session = client.routes.aiohttp()
    region = client.region_for(kw["bucket"])
    _, host, path = client.addressing.target(kw["bucket"], kw["key"], region)
    signer = await client.addressing.signer(region)
    headers = signer.sign(
        method="GET",
        host=host,
        path=path,
        query=(),
        headers={},
        payload_hash=EMPTY_SHA256,
        now=client.addressing.now(),
    )
    url = URL(build_url(client.endpoint, host, path, ()), encoded=True)
    async with session.get(url, headers=headers) as resp:
        assert resp.status >= 400, resp.status
        return await resp.read()


async def _empty_bucket(ops: S3Operations) -> None:
    for u in await ops.list_multipart_uploads(BUCKET):
        await ops.abort_multipart_upload(BUCKET, u.key, u.upload_id)
    page = await ops.list_objects_v2(BUCKET)
    for obj in page.objects:
        await ops.delete_object(BUCKET, obj.key)
    await ops.delete_bucket(BUCKET)


if __name__ == "__main__":
    asyncio.run(capture(*sys.argv[1:5]))
