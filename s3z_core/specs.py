"""What one transfer is, as data: enough to run it, report it, retry it or resume it elsewhere.

A ``TransferSpec`` travels with the ``TransferQueued`` event, so a UI knows which bucket,
key and local folder a row belongs to without re-parsing display strings, and
``Engine.restart(spec)`` runs it again. It holds no secret (a cluster worker may receive
it) and no live object, only plain values.

For a download into a folder, ``local_root`` and ``strip_prefix`` are kept besides
``local_path``: a restart derives the path from the key again through the destination
guard, so a spec edited or replayed later still cannot write outside its folder.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal, TypedDict, Unpack

from s3z_core.errors import InvalidValueError
from s3z_core.records import record

Direction = Literal["upload", "download", "copy"]

# The keywords each constructor below takes, typed here and defaulted once, in TransferSpec.


class _Found(TypedDict, total=False):
    """What the listing or walk that found the item knew of it (None: not known)."""

    size: int | None
    mtime: float | None


class _FoundObject(_Found, total=False):
    etag: str | None


class _UploadFields(_Found, total=False):
    marker: bool
    content_type: str | None
    metadata: tuple[tuple[str, str], ...]
    cache_control: str | None


class _DownloadFields(_FoundObject, total=False):
    local_root: str
    strip_prefix: str
    marker: bool
    version_id: str


@record
class TransferSpec:
    direction: Direction
    bucket: str  # the S3 side: destination of an upload or copy, source of a download
    key: str
    local_path: str = ""  # upload: the file read; download: the file written
    local_root: str = ""  # download into a folder: keys are mapped under it
    strip_prefix: str = ""  # … after cutting this prefix off the key
    source_bucket: str = ""  # copy: where from
    source_key: str = ""
    size: int | None = None  # known before starting (listing, walk), else None
    etag: str | None = None  # download: the listed ETag (pins the version we verify)
    mtime: float | None = None  # epoch seconds: a listed LastModified or a walked file's mtime
    marker: bool = False  # a folder marker: the empty "dir/" object, or the local folder
    content_type: str | None = None  # upload: overrides the guess from the file name
    metadata: tuple[tuple[str, str], ...] = ()  # upload: x-amz-meta-* pairs
    version_id: str = ""  # download: that version (``?versionId=``), not the current one
    cache_control: str | None = None  # upload: the object's Cache-Control header

    @classmethod
    def upload(
        cls, path: str, bucket: str, key: str, **fields: Unpack[_UploadFields]
    ) -> TransferSpec:
        return cls("upload", bucket, key, local_path=path, **fields)

    @classmethod
    def download(
        cls, bucket: str, key: str, local_path: str, **fields: Unpack[_DownloadFields]
    ) -> TransferSpec:
        return cls("download", bucket, key, local_path=local_path, **fields)

    @classmethod
    def copy(
        cls,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        **found: Unpack[_FoundObject],
    ) -> TransferSpec:
        """``etag``/``mtime``: the listed source's, so a re-run can tell what arrived."""
        return cls("copy", bucket, key, source_bucket=source_bucket, source_key=source_key, **found)

    @property
    def remote_url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def source(self) -> str:
        """What users call the source: a local path or an ``s3://`` URL."""
        if self.direction == "upload":
            return self.local_path
        if self.direction == "copy":
            return f"s3://{self.source_bucket}/{self.source_key}"
        return self.remote_url

    @property
    def destination(self) -> str:
        if self.direction == "download":
            return self.local_path or self.local_root
        return self.remote_url


#: AWS's limit for the user metadata of one object (names and values, UTF-8 bytes).
USER_METADATA_LIMIT = 2048
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def _header_value(what: str, value: str) -> str:
    """Sent as an HTTP header: printable ASCII on one line (a CR/LF would split the request)."""
    if not all(" " <= c <= "~" for c in value):
        raise InvalidValueError(f"{what} {value!r}: only printable ASCII fits in a header")
    return value.strip()


def checked_metadata(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """User metadata as S3 stores it (names lower-case), or a one-line error naming the
    pair that cannot be sent: a name must be an HTTP token, a value one line of text."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.strip().lower()
        if not _TOKEN.fullmatch(key):
            raise InvalidValueError(
                f"metadata name {name!r}: use letters, digits and - _ . (no spaces or colons)"
            )
        if any(c < " " or c == "\x7f" for c in value):
            raise InvalidValueError(f"metadata {key}: the value must be one line of text")
        out[key] = value
    total = sum(len(k.encode()) + len(v.encode()) for k, v in out.items())
    if total > USER_METADATA_LIMIT:
        raise InvalidValueError(
            f"metadata is {total} bytes; S3 allows {USER_METADATA_LIMIT} per object"
        )
    return tuple(out.items())


@record
class UploadOptions:
    """What an upload sets on its objects besides the bytes, as ``aws s3 cp --content-type
    --cache-control --metadata`` do (and the window's "Upload with options…"). Checked when
    made, so a bad value fails before any request, not as a row per file. ``content_type``
    None: guessed from each file's name; metadata is added to what s3z stores itself."""

    content_type: str | None = None
    cache_control: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name in ("content_type", "cache_control"):
            value = getattr(self, name)
            if value is not None:
                clean = _header_value(name.replace("_", "-"), value)
                object.__setattr__(self, name, clean or None)
        object.__setattr__(self, "metadata", checked_metadata(self.metadata))

    def __bool__(self) -> bool:
        return bool(self.content_type or self.cache_control or self.metadata)

    def apply(self, spec: TransferSpec) -> TransferSpec:
        """``spec`` with these options (an upload's file, not a folder marker; else as is)."""
        if not self or spec.direction != "upload" or spec.marker:
            return spec
        return dataclasses.replace(
            spec,
            content_type=self.content_type or spec.content_type,
            cache_control=self.cache_control or spec.cache_control,
            metadata=tuple((dict(spec.metadata) | dict(self.metadata)).items()),
        )


NO_UPLOAD_OPTIONS = UploadOptions()

#: An upload's ``local_path`` when its bytes come from a stream (``Engine.upload_stream``):
#: what a stream is called where a file would show its path; such a spec cannot be rerun.
STREAM_SOURCE = "<stream>"


class SpecEnds:
    """``source`` and ``destination`` as the spec names them: a job and the handle to it
    describe a transfer the same way."""

    __slots__ = ()
    spec: TransferSpec

    @property
    def source(self) -> str:
        return self.spec.source

    @property
    def destination(self) -> str:
        return self.spec.destination
