"""Request bodies S3 expects as XML, built without lxml so the hot path stays light."""

from __future__ import annotations

from collections.abc import Sequence

_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _xml_text(value: str) -> str:
    # XML 1.0 cannot carry most control characters even escaped; S3 accepts them as
    # numeric references in DeleteObjects keys, so encode every one of them. The escaping is
    # xml.sax.saxutils.escape's, written out: importing it pulled in urllib.request,
    # http.client and email, 24 ms of every command's start (``-X importtime``).
    out = value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    out = out.replace('"', "&quot;")
    return "".join(f"&#{ord(ch)};" if ord(ch) < 0x20 or ch == "\r" else ch for ch in out)


def complete_multipart_body(parts: Sequence[tuple[int, str]]) -> bytes:
    """Parts must be in ascending order; the caller sorts, we check (never silently reorder)."""
    numbers = [n for n, _ in parts]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise ValueError("CompleteMultipartUpload parts must be unique and ascending")
    items = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>&quot;{_xml_text(etag.strip(chr(34)))}&quot;"
        "</ETag></Part>"
        for n, etag in parts
    )
    return f'<CompleteMultipartUpload xmlns="{_XMLNS}">{items}</CompleteMultipartUpload>'.encode()


def delete_objects_body(keys: Sequence[str], quiet: bool = True) -> bytes:
    if not 1 <= len(keys) <= 1000:
        raise ValueError("DeleteObjects takes 1 to 1000 keys per request")
    items = "".join(f"<Object><Key>{_xml_text(k)}</Key></Object>" for k in keys)
    q = "<Quiet>true</Quiet>" if quiet else ""
    return f'<Delete xmlns="{_XMLNS}">{q}{items}</Delete>'.encode()


def create_bucket_body(region: str) -> bytes:
    """us-east-1 must send no body; every other region names itself."""
    if region == "us-east-1":
        return b""
    return (
        f'<CreateBucketConfiguration xmlns="{_XMLNS}">'
        f"<LocationConstraint>{_xml_text(region)}</LocationConstraint>"
        "</CreateBucketConfiguration>"
    ).encode()


def versioning_body(enabled: bool) -> bytes:
    """PutBucketVersioning: a bucket once versioned can only be suspended, never unversioned."""
    status = "Enabled" if enabled else "Suspended"
    return (
        f'<VersioningConfiguration xmlns="{_XMLNS}">'
        f"<Status>{status}</Status></VersioningConfiguration>"
    ).encode()
