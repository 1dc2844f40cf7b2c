"""Parsers for S3's responses (XML bodies with lxml, HeadObject's headers), returning the
plain records of ``models``.

Namespaces differ between servers (AWS and SeaweedFS use the 2006-03-01 namespace,
some stores none at all), so lookups match on local names only. With
``encoding-type=url`` listings return keys percent-encoded; ``url_decoded`` undoes
it form-style (a space arrives as ``+``; botocore decodes the same way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import unquote_plus

from lxml import etree

from s3z_core.errors import ProtocolError
from s3z_core.models import (
    BucketInfo,
    DamagedEntry,
    DeleteFailure,
    DeleteResult,
    ListPage,
    MultipartUploadInfo,
    ObjectHead,
    ObjectInfo,
    ObjectVersion,
    PartInfo,
    VersionPage,
)
from s3z_core.protocol.dates import parse_http_date
from s3z_core.protocol.listing_columns import listed_objects

META_PREFIX = "x-amz-meta-"  # user metadata travels as headers with this prefix
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def parse_xml(body: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"{what}: malformed XML response ({exc.msg})") from None


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def _children(elem: etree._Element, name: str) -> Iterable[etree._Element]:
    # "{*}" matches any namespace and none, in C: a page of 1,000 keys has 1,000 children.
    return elem.iterchildren(f"{{*}}{name}")


def _child(elem: etree._Element, name: str) -> etree._Element | None:
    return next(iter(_children(elem, name)), None)


def _text(elem: etree._Element, name: str, default: str = "") -> str:
    c = _child(elem, name)
    if c is None or c.text is None:
        return default
    return c.text


def _fields(elem: etree._Element) -> dict[str, str]:
    """Every child's text by local name, in one pass: a listing has a thousand ``Contents``
    of six fields each, and looking each field up separately was most of the CPU a large
    listing cost (profiled on 100,000 keys)."""
    fields: dict[str, str] = {}
    for child in elem:
        tag = child.tag
        if isinstance(tag, str) and child.text is not None:
            fields.setdefault(tag[tag.rfind("}") + 1 :], child.text)
    return fields


def _time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def url_decoded(value: str, encoded: bool) -> str:
    if not encoded or ("%" not in value and "+" not in value):
        return value
    return unquote_plus(value)


def parse_count(value: str, what: str) -> int:
    """A non-negative integer the server sent (a size, a part number, a length).

    Server data that is no such number is a ``ProtocolError`` naming what it was, never a
    bare ``ValueError`` escaping into the caller (one bad answer must fail one file only).
    """
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise ProtocolError(f"{what}: {value[:40]!r} is not a non-negative integer")
    return int(text)


def etag_of(fields: Mapping[str, str]) -> str:
    """The ETag of a response's headers or of a listed entry, without its quotes; empty when
    the server gave none."""
    return fields.get("ETag", "").strip('"')


def _http_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return parse_http_date(value)


def parse_head_object(headers: Mapping[str, str], bucket: str, key: str) -> ObjectHead:
    """HeadObject answers in headers only; what is missing reads as empty (a store may omit
    Content-Type or the storage class), a bad Content-Length as a ``ProtocolError``."""
    etag = etag_of(headers)
    parts = None
    if "-" in etag:
        tail = etag.rsplit("-", 1)[1]
        parts = int(tail) if tail.isascii() and tail.isdigit() else None
    return ObjectHead(
        key=key,
        size=parse_count(
            headers.get("Content-Length", "0"), f"HeadObject s3://{bucket}/{key} Content-Length"
        ),
        etag=etag,
        last_modified=_http_time(headers.get("Last-Modified")),
        content_type=headers.get("Content-Type", ""),
        # Lower-cased: AWS stores names lower-case, but rclone answers with Go's canonical
        # header case (X-Amz-Meta-Mtime), and callers look names up as they wrote them.
        metadata={
            k[len(META_PREFIX) :].lower(): v
            for k, v in headers.items()
            if k.lower().startswith(META_PREFIX)
        },
        storage_class=headers.get("x-amz-storage-class", ""),
        parts_count=parts,
        cache_control=headers.get("Cache-Control", ""),
    )


def is_error_document(body: bytes) -> bool:
    """A 200 response can still carry ``<Error>`` (CompleteMultipartUpload, CopyObject)."""
    head = body.lstrip()[:200]
    if not head.startswith(b"<"):
        return False
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        return False
    return _local(root.tag) == "Error"


def parse_error(body: bytes) -> dict[str, str]:
    """Code, Message, RequestId, Region … of an ``<Error>`` document; empty dict if none."""
    if not body.strip():
        return {}
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        return {}
    if _local(root.tag) != "Error":
        return {}
    return {_local(c.tag): (c.text or "") for c in root}


def _url_encoded(root: etree._Element) -> bool:
    """Whether the server says it percent-encoded the keys (``<EncodingType>url``)."""
    return _text(root, "EncodingType").lower() == "url"


def _common_prefixes(root: etree._Element, encoded: bool) -> list[str]:
    return [url_decoded(_text(p, "Prefix"), encoded) for p in _children(root, "CommonPrefixes")]


def _size(
    fields: dict[str, str], key: str, what: str, damaged: list[DamagedEntry], at: int
) -> int | None:
    """A listed entry's size; None when it does not parse, the entry then kept as damaged
    (``at``: where in the page) so that one bad entry does not fail the whole page."""
    try:
        return parse_count(fields.get("Size") or "0", what)
    except ProtocolError as exc:
        damaged.append(DamagedEntry(key, str(exc), at))
        return None


def parse_list_buckets(body: bytes) -> list[BucketInfo]:
    root = parse_xml(body, "ListBuckets")
    buckets = _child(root, "Buckets")
    if buckets is None:
        return []
    return [
        BucketInfo(name=_text(b, "Name"), created=_time(_text(b, "CreationDate")))
        for b in _children(buckets, "Bucket")
    ]


def parse_list_objects_v2(body: bytes) -> ListPage:
    """One page; an entry whose fields do not parse is ``damaged``, the others are kept."""
    root = parse_xml(body, "ListObjectsV2")
    encoded = _url_encoded(root)
    damaged: list[DamagedEntry] = []
    fast = listed_objects(root, encoded)
    objects: list[ObjectInfo] = fast if fast is not None else []
    for f in map(_fields, _children(root, "Contents") if fast is None else ()):
        key = url_decoded(f.get("Key", ""), encoded)
        if not key:
            damaged.append(DamagedEntry("", "a listed object has no key", len(objects)))
            continue
        size = _size(f, key, f"ListObjectsV2 size of {key!r}", damaged, len(objects))
        if size is None:
            continue
        objects.append(
            ObjectInfo(
                key=key,
                size=size,
                etag=etag_of(f),
                last_modified=_time(f.get("LastModified", "")),
                storage_class=f.get("StorageClass", ""),
            )
        )
    prefixes = _common_prefixes(root, encoded)
    truncated = _text(root, "IsTruncated").lower() == "true"
    token = _text(root, "NextContinuationToken") or None
    return ListPage(
        objects=objects,
        common_prefixes=prefixes,
        is_truncated=truncated,
        next_token=token,
        damaged=damaged,
    )


def parse_list_object_versions(body: bytes) -> VersionPage:
    """One ListObjectVersions page, keys in the server's order and each key's entries newest
    first, its latest one on top. AWS interleaves versions and delete markers that way; moto
    and others send all versions, then all markers, so the order is rebuilt here rather than
    trusted. An entry that does not parse is ``damaged``."""
    root = parse_xml(body, "ListObjectVersions")
    encoded = _url_encoded(root)
    versions: list[ObjectVersion] = []
    damaged: list[DamagedEntry] = []
    for child in root:
        tag = _local(child.tag)
        if tag not in ("Version", "DeleteMarker"):
            continue
        f = _fields(child)
        key = url_decoded(f.get("Key", ""), encoded)
        version_id = f.get("VersionId", "")
        if not key or not version_id:
            damaged.append(DamagedEntry(key, "a listed version has no key or version id"))
            continue
        marker = tag == "DeleteMarker"
        size = 0 if marker else _size(f, key, f"size of {key!r}", damaged, len(versions))
        if size is None:
            continue
        versions.append(
            ObjectVersion(
                key=key,
                version_id=version_id,
                is_latest=f.get("IsLatest", "").lower() == "true",
                delete_marker=marker,
                size=size,
                etag="" if marker else etag_of(f),
                last_modified=_time(f.get("LastModified", "")),
            )
        )
    prefixes = _common_prefixes(root, encoded)
    return VersionPage(
        versions=_newest_first(versions),
        common_prefixes=prefixes,
        is_truncated=_text(root, "IsTruncated").lower() == "true",
        next_key_marker=url_decoded(_text(root, "NextKeyMarker"), encoded) or None,
        next_version_id_marker=_text(root, "NextVersionIdMarker") or None,
        damaged=damaged,
    )


def _newest_first(versions: list[ObjectVersion]) -> list[ObjectVersion]:
    rank: dict[str, int] = {}
    for v in versions:
        rank.setdefault(v.key, len(rank))
    # Stable: entries of one key with the same second keep the server's order.
    return sorted(
        versions,
        key=lambda v: (
            rank[v.key],
            not v.is_latest,
            -(v.last_modified.timestamp() if v.last_modified else 0.0),
        ),
    )


def parse_versioning_status(body: bytes) -> str:
    """``Enabled``, ``Suspended``, or ``""`` for a bucket that was never versioned."""
    return _text(parse_xml(body, "GetBucketVersioning"), "Status")


def parse_initiate_multipart(body: bytes) -> str:
    root = parse_xml(body, "CreateMultipartUpload")
    upload_id = _text(root, "UploadId")
    if not upload_id:
        raise ProtocolError("CreateMultipartUpload: response has no UploadId")
    return upload_id


def parse_complete_multipart(body: bytes) -> str:
    root = parse_xml(body, "CompleteMultipartUpload")
    return _text(root, "ETag").strip('"')


def parse_copy_result(body: bytes, operation: str = "CopyObject") -> str:
    root = parse_xml(body, operation)
    return _text(root, "ETag").strip('"')


def parse_delete_result(body: bytes, encoded: bool = False) -> DeleteResult:
    root = parse_xml(body, "DeleteObjects")
    deleted = [url_decoded(_text(d, "Key"), encoded) for d in _children(root, "Deleted")]
    failures = [
        DeleteFailure(
            key=url_decoded(_text(e, "Key"), encoded),
            code=_text(e, "Code"),
            message=_text(e, "Message"),
        )
        for e in _children(root, "Error")
    ]
    return DeleteResult(deleted=deleted, failures=failures)


def parse_list_multipart_uploads(
    body: bytes,
) -> tuple[list[MultipartUploadInfo], bool, str | None, str | None]:
    """Uploads, is_truncated, next key marker, next upload-id marker."""
    root = parse_xml(body, "ListMultipartUploads")
    encoded = _url_encoded(root)
    uploads = [
        MultipartUploadInfo(
            key=url_decoded(_text(u, "Key"), encoded),
            upload_id=_text(u, "UploadId"),
            initiated=_time(_text(u, "Initiated")),
        )
        for u in _children(root, "Upload")
    ]
    truncated = _text(root, "IsTruncated").lower() == "true"
    next_key = _text(root, "NextKeyMarker") or None
    next_id = _text(root, "NextUploadIdMarker") or None
    if next_key is not None:
        next_key = url_decoded(next_key, encoded)
    return uploads, truncated, next_key, next_id


def parse_list_parts(body: bytes) -> tuple[list[PartInfo], bool, int | None]:
    root = parse_xml(body, "ListParts")
    parts = [
        PartInfo(
            part_number=parse_count(_text(p, "PartNumber", "0"), "ListParts part number"),
            etag=_text(p, "ETag").strip('"'),
            size=parse_count(_text(p, "Size", "0") or "0", "ListParts part size"),
        )
        for p in _children(root, "Part")
    ]
    truncated = _text(root, "IsTruncated").lower() == "true"
    marker = _text(root, "NextPartNumberMarker")
    return parts, truncated, parse_count(marker, "ListParts marker") if marker else None
