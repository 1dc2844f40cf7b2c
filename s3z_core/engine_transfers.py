"""The Engine's single transfers and the queue's buttons: a ``TransferSpec`` becomes a job
(``transfer/jobs.py``) started as a task on the running loop, and a handle to await, cancel,
pause or resume it. Mixed into ``Engine``, which owns the context and the task set; no
state of its own, so the facade stays the one place that builds and closes things. The
transfer modules load in the call that starts one: an engine that only lists never imports
them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3z_core.errors import InvalidValueError
from s3z_core.handles import TransferHandle
from s3z_core.specs import STREAM_SOURCE, TransferSpec

if TYPE_CHECKING:
    from s3z_core.transfer.control import TransferContext, TransferControl
    from s3z_core.transfer.jobs import Runner


class TransferCalls:
    _ctx: TransferContext
    _spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]]

    # -- transfer control by id (the GUI queue's buttons) -----------------------------------
    def cancel_transfer(self, transfer_id: int) -> bool:
        return self._ctx.cancel(transfer_id)

    def pause_transfer(self, transfer_id: int) -> None:
        self._ctx.pause(transfer_id)

    def resume_transfer(self, transfer_id: int) -> None:
        self._ctx.resume(transfer_id)

    def rank_transfers(self, ranks: dict[int, float]) -> None:
        """Queued transfers of a batch start lowest rank first (a GUI's row order)."""
        self._ctx.ranks.update({tid: r for tid, r in ranks.items() if tid in self._ctx.controls})

    # -- single transfers --------------------------------------------------------------------
    def transfer(self, spec: TransferSpec) -> TransferHandle:
        """Run one spec now. A download into a folder (``local_root`` set) has its path
        derived from the key again and checked by the destination guard (``build_job``)."""
        from s3z_core.transfer.jobs import build_job  # here, not at import: start-up of ls

        job = build_job(self._ctx, spec)
        assert job.run is not None
        return self._start(job.control, spec, job.run)

    def _start(self, control: TransferControl, spec: TransferSpec, run: Runner) -> TransferHandle:
        from s3z_core.transfer.batch import run_tracked, track_task

        task: asyncio.Task[Any] = self._spawn(run_tracked(self._ctx, control, run))
        track_task(self._ctx, control, task)
        return TransferHandle(self._ctx, control, task, spec)

    def upload_stream(
        self,
        chunks: AsyncIterable[bytes],
        bucket: str,
        key: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> TransferHandle:
        """Upload bytes as they arrive (an HTTP body, another store's GET) in a few parts'
        memory; a failing or cancelled source aborts it. See ``transfer/stream_upload.py``.
        Its spec names no local file: such a transfer cannot be restarted from the spec."""
        from s3z_core.transfer.jobs import queue_job
        from s3z_core.transfer.stream_upload import upload_stream

        meta = tuple((metadata or {}).items())
        spec = TransferSpec.upload(
            STREAM_SOURCE, bucket, key, size=size, content_type=content_type, metadata=meta
        )
        control = queue_job(self._ctx, spec)
        return self._start(
            control,
            spec,
            lambda: upload_stream(
                self._ctx,
                control,
                chunks,
                bucket,
                key,
                size=size,
                content_type=content_type,
                metadata=metadata,
            ),
        )

    def restart(self, spec: TransferSpec) -> TransferHandle:
        """Run a spec again (a failed or cancelled row's Retry): a new transfer of the same."""
        if spec.direction == "upload" and spec.local_path == STREAM_SOURCE:
            raise InvalidValueError("an upload from a stream cannot be restarted: resend it")
        return self.transfer(spec)

    def upload_file(
        self,
        path: str | Path,
        bucket: str,
        key: str,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> TransferHandle:
        meta = tuple((metadata or {}).items())
        spec = TransferSpec.upload(str(path), bucket, key, content_type=content_type, metadata=meta)
        return self.transfer(spec)

    def download_file(
        self, bucket: str, key: str, dest_path: str | Path, size: int | None = None,
        etag: str | None = None,
    ) -> TransferHandle:  # fmt: skip
        return self.transfer(
            TransferSpec.download(bucket, key, str(dest_path), size=size, etag=etag)
        )

    def copy_object(
        self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str
    ) -> TransferHandle:
        return self.transfer(TransferSpec.copy(src_bucket, src_key, dst_bucket, dst_key))
