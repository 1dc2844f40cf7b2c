"""Uploads that ask before overwriting: the engine's upload plan, filtered by the answers.

Before a batch starts, the destination keys under each dropped name are listed (the parallel
listing); while the plan streams into the batch, a spec whose key exists waits for the
answer (the dialog, or the Settings default) and is uploaded, skipped or renamed. Files
without a conflict start at once; nothing is asked twice once "apply to all" was ticked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from s3z_core.engine import BatchHandle, Engine
from s3z_core.filesystem import fs_call
from s3z_core.specs import NO_UPLOAD_OPTIONS, UploadOptions
from s3z_core.transfer.paths import DestinationGuard
from s3z_core.transfer.plans import (
    Listed,
    PlanItem,
    Planned,
    Skipped,
    join_key,
    plan_downloads,
    plan_uploads,
)
from s3z_gui.models.conflicts import (
    Conflict,
    ConflictAnswer,
    ConflictChoice,
    ConflictPolicy,
    keep_both_key,
)

#: The user's answer for one conflict (a dialog opened with open(), awaited on the loop).
AskConflict = Callable[[Conflict], Awaitable[ConflictAnswer]]

SKIPPED_REASON = "already exists (skipped)"


class Decider:
    """One command's answers: the Settings default, or the questions (one at a time, even
    when the command runs several batches at once), and an answer given "for all"."""

    def __init__(
        self, policy: ConflictPolicy, ask: AskConflict | None, *, keep_both: bool = True
    ) -> None:
        choice = policy.choice
        self._standing = None if choice is ConflictChoice.KEEP_BOTH and not keep_both else choice
        self._ask = ask
        self._lock = asyncio.Lock()

    async def decide(self, conflict: Conflict) -> ConflictChoice:
        async with self._lock:  # a second batch's question waits for the first answer
            if self._standing is not None:
                return self._standing
            if self._ask is None:  # no window to ask in: the old behaviour, overwrite
                return ConflictChoice.OVERWRITE
            answer = await self._ask(conflict)
            if answer.apply_to_all:
                self._standing = answer.choice
            return answer.choice


async def existing_keys(
    engine: Engine, bucket: str, prefix: str, sources: Sequence[Path]
) -> set[str]:
    """Keys already under each source's destination. Listed by the name's stem, so the
    names "keep both" may choose (``a (1).txt`` beside ``a.txt``) are known too."""
    keys: set[str] = set()
    for source in sources:
        under = join_key(prefix, source.stem or source.name)
        async for info in engine.iter_objects(bucket, under, ordered=False):
            keys.add(info.key)
    return keys


async def resolve_conflicts(
    plan: AsyncIterator[PlanItem], existing: set[str], decider: Decider
) -> AsyncIterator[PlanItem]:
    """``plan`` with each conflicting spec overwritten, skipped or renamed as answered."""
    taken = set(existing)
    async for item in plan:
        if not isinstance(item, Planned) or item.error is not None or item.spec.marker:
            yield item
            continue
        spec = item.spec
        if spec.key not in existing:
            taken.add(spec.key)
            yield item
            continue
        choice = await decider.decide(Conflict(spec.local_path, spec.bucket, spec.key))
        if choice is ConflictChoice.SKIP:
            yield Skipped(spec.local_path, f"s3://{spec.bucket}/{spec.key} {SKIPPED_REASON}")
        elif choice is ConflictChoice.KEEP_BOTH:
            key = keep_both_key(spec.key, taken)
            taken.add(key)
            yield Planned(dataclasses.replace(spec, key=key))
        else:
            yield item


async def _exists(path: str) -> bool:
    return await fs_call(os.path.lexists, path)


async def resolve_download_conflicts(
    plan: AsyncIterator[Planned], decider: Decider
) -> AsyncIterator[PlanItem]:
    """A download plan with each file whose local path exists overwritten or skipped as
    answered. The existence check runs in the file-system pool, never on the loop. A
    download has no "keep both" (its path is derived from the key again on every retry):
    that default asks instead."""
    async for item in plan:
        spec = item.spec
        if item.error is not None or spec.marker or not await _exists(spec.local_path):
            yield item
            continue
        conflict = Conflict(spec.local_path, spec.bucket, spec.key, "download")
        if await decider.decide(conflict) is ConflictChoice.OVERWRITE:
            yield item
        else:
            yield Skipped(spec.local_path, f"{spec.local_path} {SKIPPED_REASON}")


def conflict_aware_download(
    engine: Engine,
    bucket: str,
    objects: Listed,
    dest: Path,
    strip_prefix: str,
    decider: Decider,
    resume_id: int | None = None,
) -> BatchHandle:
    """What ``Engine.download_keys`` runs, with the conflict answers applied (same guard)."""
    plan = plan_downloads(objects, bucket, dest, strip_prefix=strip_prefix)
    return engine.run_batch(
        resolve_download_conflicts(plan, decider),
        where=f"s3://{bucket}",
        resume_id=resume_id,
        guard=DestinationGuard(dest, strip_prefix),
    )


def conflict_aware_upload(
    engine: Engine,
    sources: Sequence[Path],
    bucket: str,
    prefix: str,
    existing: set[str],
    decider: Decider,
    options: UploadOptions = NO_UPLOAD_OPTIONS,
) -> AsyncIterator[PlanItem]:
    """The plan ``Engine.upload_paths`` runs, with the conflict answers applied."""
    config = engine.transfer_config
    plan = plan_uploads(
        sources,
        bucket,
        prefix,
        follow_symlinks=config.follow_symlinks,
        dir_markers=config.create_dir_markers,
        options=options,
    )
    return resolve_conflicts(plan, existing, decider)
