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

from dataclasses import dataclass
from typing import Literal

Direction = Literal["upload", "download", "copy"]


@dataclass(frozen=True, slots=True)
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

    @classmethod
    def upload(
        cls,
        path: str,
        bucket: str,
        key: str,
        *,
        size: int | None = None,
        mtime: float | None = None,
        marker: bool = False,
        content_type: str | None = None,
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> TransferSpec:
        return cls(
            "upload",
            bucket,
            key,
            local_path=path,
            size=size,
            mtime=mtime,
            marker=marker,
            content_type=content_type,
            metadata=metadata,
        )

    @classmethod
    def download(
        cls,
        bucket: str,
        key: str,
        local_path: str,
        *,
        local_root: str = "",
        strip_prefix: str = "",
        size: int | None = None,
        etag: str | None = None,
        mtime: float | None = None,
        marker: bool = False,
        version_id: str = "",
    ) -> TransferSpec:
        return cls(
            "download",
            bucket,
            key,
            local_path=local_path,
            local_root=local_root,
            strip_prefix=strip_prefix,
            size=size,
            etag=etag,
            mtime=mtime,
            marker=marker,
            version_id=version_id,
        )

    @classmethod
    def copy(
        cls,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        size: int | None = None,
        etag: str | None = None,
        mtime: float | None = None,
    ) -> TransferSpec:
        """``etag``/``mtime``: the listed source's, so a re-run can tell what arrived."""
        return cls(
            "copy",
            bucket,
            key,
            source_bucket=source_bucket,
            source_key=source_key,
            size=size,
            etag=etag,
            mtime=mtime,
        )

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
