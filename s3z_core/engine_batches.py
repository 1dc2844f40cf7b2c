"""The Engine's batches: folder uploads, prefix downloads and copies are *planned* here
(a local walk or a listing streamed into ``PlanItem``s, ``transfer/plans.py``) and run by
one ``Batch`` with ``workers`` files at a time. The CLI, the GUI, sync and the cluster's
workers all come through these calls: there is no second runner. Mixed into ``Engine``;
no state of its own. The transfer modules load in the call that runs them: an engine that
only lists (``ls``, ``du``, ``rm``) never imports them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3z_core.filters import PathFilter
from s3z_core.handles import BatchHandle
from s3z_core.objects import FilterRules, ObjectCalls
from s3z_core.specs import NO_UPLOAD_OPTIONS, TransferSpec, UploadOptions

if TYPE_CHECKING:
    from s3z_core.transfer.control import TransferContext
    from s3z_core.transfer.paths import DestinationGuard
    from s3z_core.transfer.plans import Listed, PlanItem


class BatchCalls(ObjectCalls):
    _ctx: TransferContext
    _spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]]
    source: BatchCalls | None

    def run_batch(
        self,
        plan: AsyncIterator[PlanItem] | Iterable[TransferSpec],
        *,
        keep_results: bool = True,
        where: str = "",
        guard: DestinationGuard | None = None,
        resume_id: int | None = None,
    ) -> BatchHandle:
        """Run planned items (or plain specs) with ``workers`` files at a time.
        ``resume_id``: the journal's batch record (``journal.open_batch``): what it lists
        as done is not sent again."""
        from s3z_core.transfer.batch import Batch  # here, not at import: start-up of ls
        from s3z_core.transfer.plans import planned

        items = plan if isinstance(plan, AsyncIterator) else planned(plan)
        batch = Batch(self._ctx, self.transfer_config.workers, keep_results, guard, resume_id)
        task: asyncio.Task[Any] = self._spawn(batch.run(items, where))
        return BatchHandle(batch, task)

    def upload_paths(
        self,
        sources: Sequence[str | Path],
        bucket: str,
        prefix: str = "",
        filters: FilterRules = None,
        keep_dir_names: bool = True,
        keep_results: bool = True,
        resume_id: int | None = None,
        options: UploadOptions = NO_UPLOAD_OPTIONS,
    ) -> BatchHandle:
        """Files upload as ``prefix + name``; a folder ``d`` as ``prefix + d/relative/path``
        (``keep_dir_names=False``: its contents go straight under ``prefix``, like ``aws s3
        cp -r``). ``filters``: include/exclude rules; ``options``: Content-Type & co."""
        from s3z_core.transfer.plans import plan_uploads

        cfg = self.transfer_config
        plan = plan_uploads(
            sources,
            bucket,
            prefix,
            keep_dir_names=keep_dir_names,
            filters=PathFilter.of(filters),
            follow_symlinks=cfg.follow_symlinks,
            dir_markers=cfg.create_dir_markers,
            options=options,
        )
        return self.run_batch(
            plan, keep_results=keep_results, where="local walk", resume_id=resume_id
        )

    def download_prefix(
        self,
        bucket: str,
        prefix: str,
        dest_dir: str | Path,
        filters: FilterRules = None,
        keep_results: bool = True,
        strip_prefix: str | None = None,
        resume_id: int | None = None,
    ) -> BatchHandle:
        """Listing pages stream straight into the worker pool: the first file starts
        downloading while later pages are still being listed. Keys land under ``dest_dir``
        without ``strip_prefix`` (default: up to the prefix's last ``/``)."""
        strip = prefix[: prefix.rfind("/") + 1] if strip_prefix is None else strip_prefix
        return self.download_keys(
            bucket,
            self.iter_objects(bucket, prefix, ordered=False),
            dest_dir,
            strip_prefix=strip,
            filters=filters,
            keep_results=keep_results,
            where=f"s3://{bucket}/{prefix}",
            resume_id=resume_id,
        )

    def download_keys(
        self,
        bucket: str,
        objects: Listed,
        dest_dir: str | Path,
        strip_prefix: str = "",
        filters: FilterRules = None,
        keep_results: bool = True,
        where: str = "",
        resume_id: int | None = None,
    ) -> BatchHandle:
        from s3z_core.transfer.paths import DestinationGuard
        from s3z_core.transfer.plans import plan_downloads

        dest_root = Path(dest_dir)
        plan = plan_downloads(
            objects,
            bucket,
            dest_root,
            strip_prefix=strip_prefix,
            filters=PathFilter.of(filters),
        )
        guard = DestinationGuard(dest_root, strip_prefix)
        return self.run_batch(
            plan, keep_results=keep_results, where=where, guard=guard, resume_id=resume_id
        )

    def copy_prefix(
        self,
        src_bucket: str,
        src_prefix: str,
        dst_bucket: str,
        dst_prefix: str = "",
        filters: FilterRules = None,
        keep_results: bool = True,
        resume_id: int | None = None,
    ) -> BatchHandle:
        """Copies of every key under ``src_prefix`` to ``dst_prefix + rest`` (server-side, or
        relayed from ``source``); a destination inside the source is refused at once
        (``InvalidValueError``)."""
        from s3z_core.transfer.copy import check_copy_prefixes
        from s3z_core.transfer.plans import plan_copies

        side = self.source
        if side is None:
            side = self
            check_copy_prefixes(src_bucket, src_prefix, dst_bucket, dst_prefix)
        plan = plan_copies(
            side.iter_objects(src_bucket, src_prefix, ordered=False),
            src_bucket,
            src_prefix,
            dst_bucket,
            dst_prefix,
            filters=PathFilter.of(filters),
        )
        return self.run_batch(
            plan,
            keep_results=keep_results,
            where=f"s3://{src_bucket}/{src_prefix}",
            resume_id=resume_id,
        )
