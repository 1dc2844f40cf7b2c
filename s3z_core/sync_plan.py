"""What ``sync`` must do, decided from two listings without any I/O (pure, unit-tested).

A source entry is copied when the destination lacks it, when the sizes differ, or —
unless ``size_only`` — when the source is newer than the destination by more than
``tolerance_s`` (S3 times have one-second precision). Names are compared in Unicode
NFC so a macOS NFD name and its NFC twin on S3 are the same file (aws-cli #1639);
the original spellings are kept for the actual transfer.

``restore_changed`` (s3→local): a destination file newer than its source by more than the
tolerance, same size, was changed after the last sync, and is restored — what aws-cli's
download rule and rclone both do. Compared with the source's listed LastModified, which is
never earlier than its stored mtime, so "newer than that" is decided without a HEAD. Where
the two tools disagree we keep our rule: aws-cli never copies a same-size source that is
newer than its destination on download; we do (``newer``).

An S3 object's time is its ``x-amz-meta-mtime`` (written by s3z on upload) when known,
else its LastModified. Listings carry only LastModified, which is never earlier than
the stored mtime, so a pair is decided from the listing when it can be; only a source
object with a LastModified newer than the destination file *might* still be unchanged
(e.g. a file downloaded earlier with its mtime preserved). Those pairs land in
``needs_mtime``; the caller fetches their stored mtimes (HEAD) and calls ``settle``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Literal

from s3z_core.records import record

Reason = Literal["new", "size", "newer", "changed"]


@record
class SyncEntry:
    """One file on either side. ``name`` is relative to the synced root, ``/``-separated.

    ``mtime_is_upper_bound`` marks an S3 LastModified standing in for a stored mtime
    that may be earlier (a source object listed without its metadata).
    """

    name: str
    size: int
    mtime: float
    mtime_is_upper_bound: bool = False


@record
class SyncAction:
    source: SyncEntry
    destination: SyncEntry | None
    reason: Reason


@record(frozen=False)
class SyncPlan:
    copies: list[SyncAction] = field(default_factory=list)
    deletes: list[SyncEntry] = field(default_factory=list)
    needs_mtime: list[SyncAction] = field(default_factory=list)
    unchanged: int = 0
    # Source names that collide once normalized (NFC/NFD twins): only the first is synced.
    twins: list[tuple[str, str]] = field(default_factory=list)


def normalized(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _compare(
    src: SyncEntry, dst: SyncEntry, *, size_only: bool, tolerance_s: float, restore_changed: bool
) -> Reason | Literal["same", "ask"]:
    if src.size != dst.size:
        return "size"
    if size_only:
        return "same"
    if restore_changed and dst.mtime > src.mtime + tolerance_s:
        return "changed"
    if src.mtime <= dst.mtime + tolerance_s:
        return "same"
    return "ask" if src.mtime_is_upper_bound else "newer"


def plan_sync(
    sources: Iterable[SyncEntry],
    destinations: Iterable[SyncEntry],
    *,
    size_only: bool = False,
    delete: bool = False,
    tolerance_s: float = 1.0,
    restore_changed: bool = False,
) -> SyncPlan:
    """Compare the two sides; see the module docstring for the rules."""
    plan = SyncPlan()
    by_name: dict[str, list[SyncEntry]] = {}
    for entry in destinations:  # twins on the destination side all stay listed (for --delete)
        by_name.setdefault(normalized(entry.name), []).append(entry)
    seen: dict[str, str] = {}
    for src in sorted(sources, key=lambda e: e.name):
        norm = normalized(src.name)
        if norm in seen:
            plan.twins.append((seen[norm], src.name))
            continue
        seen[norm] = src.name
        twins = by_name.get(norm)
        if twins is None:
            plan.copies.append(SyncAction(src, None, "new"))
            continue
        dst = twins[0]
        verdict = _compare(
            src, dst, size_only=size_only, tolerance_s=tolerance_s, restore_changed=restore_changed
        )
        if verdict == "same":
            plan.unchanged += 1
        elif verdict == "ask":
            plan.needs_mtime.append(SyncAction(src, dst, "newer"))
        else:
            plan.copies.append(SyncAction(src, dst, verdict))
    if delete:
        plan.deletes = sorted(
            (d for n, ds in by_name.items() if n not in seen for d in ds), key=lambda e: e.name
        )
    return plan


def settle(
    plan: SyncPlan, stored_mtimes: Mapping[str, float | None], *, tolerance_s: float = 1.0
) -> SyncPlan:
    """Decide ``needs_mtime`` pairs from the sources' stored mtimes (keyed by source name).

    A source without a stored mtime keeps its LastModified, i.e. is newer: copied.
    """
    for action in plan.needs_mtime:
        stored = stored_mtimes.get(action.source.name)
        assert action.destination is not None
        if stored is not None and stored <= action.destination.mtime + tolerance_s:
            plan.unchanged += 1
        else:
            plan.copies.append(action)
    plan.copies.sort(key=lambda a: a.source.name)
    plan.needs_mtime = []
    return plan
