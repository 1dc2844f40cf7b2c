"""Typed S3 operations (one method each) on top of the signing, retrying ``S3Client``."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import TypedDict, Unpack
from urllib.parse import quote

from s3z_core.errors import ServiceError
from s3z_core.filesystem import cpu_call
from s3z_core.models import (
    BucketInfo,
    DeleteFailure,
    DeleteResult,
    ListPage,
    MultipartUploadInfo,
    ObjectHead,
    PartInfo,
    VersionPage,
)
from s3z_core.protocol import requests as xml_requests
from s3z_core.protocol import responses
from s3z_core.protocol.responses import META_PREFIX
from s3z_core.transport.body import Body, ProgressCallback
from s3z_core.transport.client import S3Client
from s3z_core.transport.messages import RetryCallback, S3Response

PARSE_IN_POOL_BYTES = 32 * 1024  # a page of ~100 keys and more


def _query(selector: tuple[str, str], *pairs: tuple[str, str | None]) -> list[tuple[str, str]]:
    """A listing's query: its selector (``list-type=2``, ``versions``, ``uploads``,
    ``uploadId=…``, kept even when empty: an empty value is a flag), then the parameters
    that have a value, in order."""
    return [selector, *((name, value) for name, value in pairs if value)]


def _page(prefix: str, delimiter: str | None, max_keys: int) -> list[tuple[str, str | None]]:
    """What an object or version listing asks for: url-encoded keys (as botocore does: a key
    may hold characters XML cannot carry), at most ``max_keys`` under ``prefix``."""
    return [
        ("encoding-type", "url"),
        ("max-keys", str(max_keys)),
        ("prefix", prefix),
        ("delimiter", delimiter),
    ]


class ObjectAttributes(TypedDict, total=False):
    """What a new object carries besides its bytes (PutObject, CreateMultipartUpload).
    ``content_type`` None: application/octet-stream."""

    content_type: str | None
    metadata: Mapping[str, str] | None
    cache_control: str | None


def _meta_headers(metadata: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in (metadata or {}).items():
        # Non-ASCII metadata values are not portable across stores: percent-encode them.
        out[META_PREFIX + k.lower()] = v if v.isascii() else quote(v, safe="")
    return out


def _object_headers(attributes: ObjectAttributes) -> dict[str, str]:
    headers = _meta_headers(attributes.get("metadata"))
    headers["Content-Type"] = attributes.get("content_type") or "application/octet-stream"
    if cache_control := attributes.get("cache_control"):
        headers["Cache-Control"] = cache_control
    return headers


def _md5_header(digest: bytes | None) -> dict[str, str]:
    return {} if digest is None else {"Content-MD5": base64.b64encode(digest).decode()}


def _part_query(upload_id: str, part_number: int) -> list[tuple[str, str]]:
    return [("partNumber", str(part_number)), ("uploadId", upload_id)]


class S3Operations:
    def __init__(self, client: S3Client) -> None:
        self.client = client

    # -- buckets -----------------------------------------------------------------------------
    async def list_buckets(self) -> list[BucketInfo]:
        resp = await self.client.request("ListBuckets", "GET")
        return responses.parse_list_buckets(resp.body)

    async def create_bucket(self, bucket: str) -> None:
        body = xml_requests.create_bucket_body(self.client.region)
        await self.client.request("CreateBucket", "PUT", bucket=bucket, body=body or None)

    async def delete_bucket(self, bucket: str) -> None:
        await self.client.request("DeleteBucket", "DELETE", bucket=bucket)

    async def head_bucket(self, bucket: str) -> None:
        await self.client.request("HeadBucket", "HEAD", bucket=bucket)

    # -- objects -----------------------------------------------------------------------------
    async def head_object(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectHead:
        query = [("versionId", version_id)] if version_id else []
        resp = await self.client.request("HeadObject", "HEAD", bucket=bucket, key=key, query=query)
        return responses.parse_head_object(resp.headers, bucket, key)

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        *,
        content_md5: bytes | None = None,
        progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
        unsigned_payload: bool = False,
        **attributes: Unpack[ObjectAttributes],
    ) -> str:
        resp = await self.client.request(
            "PutObject",
            "PUT",
            bucket=bucket,
            key=key,
            headers=_object_headers(attributes) | _md5_header(content_md5),
            body=body,
            progress=progress,
            on_retry=on_retry,
            unsigned_payload=unsigned_payload,
        )
        return resp.etag

    async def get_object_bytes(self, bucket: str, key: str) -> bytes:
        resp = await self.client.request("GetObject", "GET", bucket=bucket, key=key)
        return resp.body

    async def delete_object(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        """Without ``version_id`` a versioned bucket only gains a delete marker; with it, that
        one version (or delete marker) is removed for good."""
        query = [("versionId", version_id)] if version_id else []
        await self.client.request("DeleteObject", "DELETE", bucket=bucket, key=key, query=query)

    async def delete_objects(self, bucket: str, keys: Sequence[str]) -> DeleteResult:
        """One DeleteObjects request (≤ 1000 keys); per-key errors come back, not raised."""
        body = xml_requests.delete_objects_body(keys, quiet=True)
        resp = await self._send_xml(
            "DeleteObjects", "POST", bucket, "delete", body, error_in_200=True
        )
        result = responses.parse_delete_result(resp.body)
        failed = {f.key for f in result.failures}
        # Quiet mode lists only failures: every other key we sent was deleted.
        deleted = [k for k in keys if k not in failed]
        return DeleteResult(deleted=deleted, failures=list(result.failures))

    async def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        src_version_id: str | None = None,
        replace_headers: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> str:
        """Server-side copy. With ``metadata`` the destination gets exactly that metadata and
        ``replace_headers`` (Content-Type, Cache-Control …: REPLACE drops whatever is not
        sent); without, it keeps the source's. ``if_match`` copies only that ETag."""
        source = "/" + src_bucket + "/" + quote(src_key, safe="/")
        if src_version_id:
            source += "?versionId=" + quote(src_version_id, safe="")
        headers = {"x-amz-copy-source": source}
        if metadata is not None:
            headers["x-amz-metadata-directive"] = "REPLACE"
            headers.update(_meta_headers(metadata))
            headers.update(replace_headers or {})
        if if_match:
            headers["x-amz-copy-source-if-match"] = f'"{if_match}"'
        resp = await self.client.request(
            "CopyObject", "PUT", bucket=bucket, key=key, headers=headers, error_in_200=True
        )
        return responses.parse_copy_result(resp.body)

    async def list_objects_v2(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int = 1000,
    ) -> ListPage:
        query = _query(
            ("list-type", "2"),
            *_page(prefix, delimiter, max_keys),
            ("start-after", None if continuation_token else start_after),
            ("continuation-token", continuation_token),
        )
        resp = await self.client.request("ListObjectsV2", "GET", bucket=bucket, query=query)
        if len(resp.body) < PARSE_IN_POOL_BYTES:
            return responses.parse_list_objects_v2(resp.body)
        # A full page (1,000 keys, ~5 ms of CPU) is parsed off the loop: there, pages
        # arriving together from a parallel listing stalled it for tens of milliseconds.
        return await cpu_call(responses.parse_list_objects_v2, resp.body)

    # -- versions ----------------------------------------------------------------------------
    async def list_object_versions(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int = 1000,
    ) -> VersionPage:
        query = _query(
            ("versions", ""),
            *_page(prefix, delimiter, max_keys),
            ("key-marker", key_marker),
            ("version-id-marker", version_id_marker if key_marker else None),
        )
        resp = await self.client.request("ListObjectVersions", "GET", bucket=bucket, query=query)
        return responses.parse_list_object_versions(resp.body)

    async def bucket_versioning(self, bucket: str) -> str:
        resp = await self.client.request(
            "GetBucketVersioning", "GET", bucket=bucket, query=[("versioning", "")]
        )
        return responses.parse_versioning_status(resp.body)

    async def set_bucket_versioning(self, bucket: str, enabled: bool) -> None:
        body = xml_requests.versioning_body(enabled)
        await self._send_xml("PutBucketVersioning", "PUT", bucket, "versioning", body)

    async def _send_xml(
        self,
        operation: str,
        method: str,
        bucket: str,
        subresource: str,
        body: bytes,
        *,
        error_in_200: bool = False,
    ) -> S3Response:
        """A bucket subresource's XML body goes with its MD5 (S3 refuses these without)."""
        md5 = hashlib.md5(body).digest()  # noqa: S324 - S3 requires MD5
        return await self.client.request(
            operation,
            method,
            bucket=bucket,
            query=[(subresource, "")],
            headers=_md5_header(md5) | {"Content-Type": "application/xml"},
            body=body,
            error_in_200=error_in_200,
        )

    # -- multipart ---------------------------------------------------------------------------
    async def create_multipart_upload(
        self, bucket: str, key: str, **attributes: Unpack[ObjectAttributes]
    ) -> str:
        resp = await self.client.request(
            "CreateMultipartUpload",
            "POST",
            bucket=bucket,
            key=key,
            query=[("uploads", "")],
            headers=_object_headers(attributes),
        )
        return responses.parse_initiate_multipart(resp.body)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: Body,
        *,
        content_md5: bytes | None = None,
        progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> str:
        resp = await self.client.request(
            "UploadPart",
            "PUT",
            bucket=bucket,
            key=key,
            query=_part_query(upload_id, part_number),
            headers=_md5_header(content_md5),
            body=body,
            progress=progress,
            on_retry=on_retry,
        )
        etag = resp.etag
        if not etag:
            raise ServiceError(
                code="MissingETag",
                status=resp.status,
                operation="UploadPart",
                bucket=bucket,
                key=key,
                message=f"part {part_number} has no ETag",
            )
        return etag

    async def upload_part_copy(
        self,
        *,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        first_byte: int,
        last_byte: int,
    ) -> str:
        headers = {
            "x-amz-copy-source": "/" + src_bucket + "/" + quote(src_key, safe="/"),
            "x-amz-copy-source-range": f"bytes={first_byte}-{last_byte}",
        }
        resp = await self.client.request(
            "UploadPartCopy",
            "PUT",
            bucket=bucket,
            key=key,
            query=_part_query(upload_id, part_number),
            headers=headers,
            error_in_200=True,
        )
        return responses.parse_copy_result(resp.body, "UploadPartCopy")

    async def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str:
        body = xml_requests.complete_multipart_body(parts)
        resp = await self.client.request(
            "CompleteMultipartUpload",
            "POST",
            bucket=bucket,
            key=key,
            query=[("uploadId", upload_id)],
            headers={"Content-Type": "application/xml"},
            body=body,
            error_in_200=True,
        )
        return responses.parse_complete_multipart(resp.body)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self.client.request(
            "AbortMultipartUpload",
            "DELETE",
            bucket=bucket,
            key=key,
            query=[("uploadId", upload_id)],
        )

    async def list_multipart_uploads(
        self, bucket: str, prefix: str = ""
    ) -> list[MultipartUploadInfo]:
        out: list[MultipartUploadInfo] = []
        key_marker: str | None = None
        id_marker: str | None = None
        while True:
            # No encoding-type=url here (botocore asks for it on object listings only):
            # SeaweedFS 4.48 echoes <EncodingType>url</EncodingType> but sends the keys
            # raw, so decoding them would turn a literal "+" into a space.
            query = _query(
                ("uploads", ""),
                ("prefix", prefix),
                ("key-marker", key_marker),
                ("upload-id-marker", id_marker),
            )
            try:
                resp = await self.client.request(
                    "ListMultipartUploads", "GET", bucket=bucket, query=query
                )
            except ServiceError as exc:
                # rclone serve s3 answers 404 NoSuchUpload when there is nothing to list.
                if exc.code == "NoSuchUpload":
                    return out
                raise
            uploads, truncated, key_marker, id_marker = responses.parse_list_multipart_uploads(
                resp.body
            )
            out.extend(uploads)
            if not truncated or not (key_marker or id_marker):
                return out

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        out: list[PartInfo] = []
        marker: int | None = None
        while True:
            query = _query(
                ("uploadId", upload_id), ("part-number-marker", str(marker) if marker else None)
            )
            resp = await self.client.request(
                "ListParts", "GET", bucket=bucket, key=key, query=query
            )
            parts, truncated, marker = responses.parse_list_parts(resp.body)
            out.extend(parts)
            if not truncated or not marker:
                return out


__all__ = ["DeleteFailure", "S3Operations"]
