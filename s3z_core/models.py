"""Plain result records returned by the client and the engine (no I/O, no behaviour)."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from s3z_core.errors import S3zError, ServiceError
from s3z_core.events import Verification
from s3z_core.records import record
from s3z_core.specs import TransferSpec


@record
class BucketInfo:
    name: str
    created: datetime | None


@record
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime | None
    storage_class: str = ""


@record
class DamagedEntry:
    """A listed object whose fields did not parse (a size that is no number …): the key,
    when it could be read, and why. The rest of the page is still good."""

    key: str
    reason: str
    good_before: int = 0  # how many good objects precede it on its page (where it stands)


@record
class ListPage:
    objects: list[ObjectInfo]
    common_prefixes: list[str]
    is_truncated: bool
    next_token: str | None
    damaged: list[DamagedEntry] = field(default_factory=list)


@record
class ObjectVersion:
    """One version of a key in a versioned bucket, or a delete marker (which has no bytes:
    ``size`` 0, ``etag`` empty). A key's newest entry is ``is_latest``; when that is a delete
    marker the key looks deleted although its older versions are still there."""

    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    last_modified: datetime | None


@record
class VersionPage:
    """One ListObjectVersions page: versions and delete markers interleaved as the server
    sends them (by key, newest first within a key)."""

    versions: list[ObjectVersion]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None
    damaged: list[DamagedEntry] = field(default_factory=list)


@record
class ObjectHead:
    key: str
    size: int
    etag: str
    last_modified: datetime | None
    content_type: str
    metadata: dict[str, str]
    storage_class: str = ""
    parts_count: int | None = None
    cache_control: str = ""


@record
class Preview:
    """The first bytes of an object for a quick look, and what it is. ``complete``: the
    whole object fit under the limit (a text can be shown whole, an image decoded)."""

    head: ObjectHead
    data: bytes

    @property
    def complete(self) -> bool:
        return len(self.data) == self.head.size


@record
class MultipartUploadInfo:
    key: str
    upload_id: str
    initiated: datetime | None


@record
class PartInfo:
    part_number: int
    etag: str
    size: int


@record
class DeleteFailure:
    key: str
    code: str
    message: str


@record
class DeleteResult:
    deleted: list[str]
    failures: list[DeleteFailure]


@record
class TransferResult:
    """One file that arrived, with how it was verified."""

    transfer_id: int
    source: str
    destination: str
    size: int
    etag: str
    verification: Verification
    parts: int
    elapsed_s: float


@record
class TransferFailure:
    """One file that did not arrive, and why (typed). ``spec`` is None for a failure of the
    plan itself (a listing or walk that broke off), which names its source instead."""

    transfer_id: int
    source: str
    destination: str
    error: S3zError
    spec: TransferSpec | None = None

    @property
    def operation(self) -> str:
        return self.spec.direction if self.spec is not None else "list"


@record(frozen=False)
class BatchResult:
    """Every file of a batch is counted as done or listed as failed: nothing silently skipped.

    ``completed`` holds each ``TransferResult`` only when the batch was asked to keep them
    (``keep_results=True``, the default); a million-file job can turn that off and keep
    memory flat, while the counters still say what arrived.
    """

    completed: list[TransferResult] = field(default_factory=list)
    failed: list[TransferFailure] = field(default_factory=list)
    files_done: int = 0
    bytes_done: int = 0
    # Local paths left out by policy, with why (a symlink while links are not followed):
    # not failures, but named, so a caller can tell its user instead of staying silent.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Items an earlier, interrupted run of the same batch had already finished (resume):
    # neither sent again nor counted in ``files_done``.
    resumed: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def bytes_transferred(self) -> int:
        return self.bytes_done

    def add(self, result: TransferResult, keep: bool) -> None:
        self.files_done += 1
        self.bytes_done += result.size
        if keep:
            self.completed.append(result)


__all__ = [
    "BatchResult",
    "BucketInfo",
    "DamagedEntry",
    "DeleteFailure",
    "DeleteResult",
    "ListPage",
    "MultipartUploadInfo",
    "ObjectHead",
    "ObjectInfo",
    "PartInfo",
    "ServiceError",
    "TransferFailure",
    "TransferResult",
]
