"""Uploads that ask before overwriting: the engine's upload plan, filtered by the answers.

Before a batch starts, the destination keys under each dropped name are listed (the parallel
listing); while the plan streams into the batch, a spec whose key exists waits for the
answer (the dialog, or the Settings default) and is uploaded, skipped or renamed. Files
without a conflict start at once; nothing is asked twice once "apply to all" was ticked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from s3z_core.engine import Engine
from s3z_core.transfer.plans import PlanItem, Planned, Skipped, join_key, plan_uploads
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
    plan: AsyncIterator[PlanItem],
    existing: set[str],
    policy: ConflictPolicy,
    ask: AskConflict | None,
) -> AsyncIterator[PlanItem]:
    """``plan`` with each conflicting spec overwritten, skipped or renamed as answered."""
    standing = policy.choice  # None: ask (until an answer applies to all)
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
        choice = standing
        if choice is None:
            if ask is None:  # no window to ask in: the old behaviour, overwrite
                choice = ConflictChoice.OVERWRITE
            else:
                answer = await ask(Conflict(spec.local_path, spec.bucket, spec.key))
                choice = answer.choice
                if answer.apply_to_all:
                    standing = choice
        if choice is ConflictChoice.SKIP:
            yield Skipped(spec.local_path, f"s3://{spec.bucket}/{spec.key} {SKIPPED_REASON}")
        elif choice is ConflictChoice.KEEP_BOTH:
            key = keep_both_key(spec.key, taken)
            taken.add(key)
            yield Planned(dataclasses.replace(spec, key=key))
        else:
            yield item


def conflict_aware_upload(
    engine: Engine,
    sources: Sequence[Path],
    bucket: str,
    prefix: str,
    existing: set[str],
    policy: ConflictPolicy,
    ask: AskConflict | None,
) -> AsyncIterator[PlanItem]:
    """The plan ``Engine.upload_paths`` runs, with the conflict answers applied."""
    config = engine.transfer_config
    plan = plan_uploads(
        sources,
        bucket,
        prefix,
        follow_symlinks=config.follow_symlinks,
        dir_markers=config.create_dir_markers,
    )
    return resolve_conflicts(plan, existing, policy, ask)
