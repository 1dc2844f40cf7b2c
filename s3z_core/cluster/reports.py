"""What a shard sends back, and how the driver folds the reports into one ``BatchResult``.

Reports are plain values (no exception objects: a typed error travels as its class name and
message and is rebuilt on the driver), so they pickle the same whatever the error was, and
the driver's output, JSON lines and exit code come from the very reporting code of a local
run. Each report names its worker, so the summary can say who did how many files.
"""

from __future__ import annotations

from dataclasses import field

from s3z_core import errors
from s3z_core.events import Verification
from s3z_core.models import (
    BatchResult,
    DeleteFailure,
    DeleteResult,
    TransferFailure,
    TransferResult,
)
from s3z_core.records import record
from s3z_core.specs import TransferSpec


@record
class FileFailed:
    spec: TransferSpec
    error_type: str
    message: str


@record(frozen=False)
class ShardReport:
    index: int
    worker: str  # the Dask worker's address
    pid: int
    retry: bool = False  # a re-run after a lost worker
    completed: list[TransferResult] = field(default_factory=list)
    failed: list[FileFailed] = field(default_factory=list)
    already_there: int = 0  # skipped on a re-run: arrived before the worker was lost
    aborted_uploads: int = 0  # a lost attempt's multipart uploads, aborted
    deleted: list[str] = field(default_factory=list)
    delete_failures: list[DeleteFailure] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.completed) + len(self.deleted)


def rebuild_error(type_name: str, message: str) -> errors.S3zError:
    """The typed error again (its class by name from ``errors``, else ``TransferError``)."""
    cls = getattr(errors, type_name, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.S3zError)):
        cls = errors.TransferError
    try:
        return cls(message)
    except TypeError:  # a richer constructor (MultipartAbortError): keep class and message
        error = cls.__new__(cls)
        Exception.__init__(error, message)
        return error


@record(frozen=False)
class Aggregate:
    """Every shard's report folded together, as a local run would have counted it."""

    result: BatchResult = field(default_factory=BatchResult)
    deletes: DeleteResult = field(default_factory=lambda: DeleteResult([], []))
    per_worker: dict[str, int] = field(default_factory=dict)
    shards_done: int = 0
    retried_shards: int = 0
    already_there: int = 0
    aborted_uploads: int = 0

    def add(self, report: ShardReport) -> None:
        self.shards_done += 1
        self.retried_shards += int(report.retry)
        self.already_there += report.already_there
        self.aborted_uploads += report.aborted_uploads
        self.per_worker[report.worker] = self.per_worker.get(report.worker, 0) + report.files
        for done in report.completed:
            self.result.add(done, keep=True)
        for failed in report.failed:
            error = rebuild_error(failed.error_type, failed.message)
            spec = failed.spec
            self.result.failed.append(
                TransferFailure(0, spec.source, spec.destination, error, spec)
            )
        self.deletes.deleted.extend(report.deleted)
        self.deletes.failures.extend(report.delete_failures)


def arrived_result(spec: TransferSpec, etag: str) -> TransferResult:
    """A file a lost attempt already delivered: done, checked by size (and ETag or time)."""
    return TransferResult(
        transfer_id=0,
        source=spec.source,
        destination=spec.destination,
        size=spec.size or 0,
        etag=etag,
        verification=Verification.SIZE_ONLY,
        parts=0,
        elapsed_s=0.0,
    )
