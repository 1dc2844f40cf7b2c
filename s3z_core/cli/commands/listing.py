"""``ls`` (buckets, one level with PRE rows, or recursive) and ``du`` (size and count)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from s3z_core.cli.units import format_size
from s3z_core.cli.urls import parse_remote, s3_url
from s3z_core.errors import DamagedListingError

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine, Work
    from s3z_core.models import ObjectInfo, ObjectVersion

ROWS_PER_STEP = 256  # ``ls -r`` rows formatted per loop step: ~2 ms, a full page ~20 ms


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: the ranged listing of a whole prefix (``ls`` of
    one level needs nothing more than the engine)."""
    args = session.args
    if args.command == "find":
        return ("search",)
    return ("list",) if args.command == "du" or args.recursive else ()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else " " * 19


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _size(size: int, human: bool) -> str:
    return f"{format_size(size):>10}" if human else f"{size:>12}"


def _object_row(
    bucket: str, obj: ObjectInfo, shown: str, human: bool
) -> tuple[dict[str, object], str]:
    record: dict[str, object] = {
        "type": "object",
        "bucket": bucket,
        "key": obj.key,
        "size": obj.size,
        "etag": obj.etag,
        "last_modified": _iso(obj.last_modified),
        "storage_class": obj.storage_class,
    }
    return record, f"{_when(obj.last_modified)} {_size(obj.size, human)} {shown}"


async def run_ls(session: Session) -> int:
    args = session.args
    console = session.console
    location = parse_remote(args.url) if args.url else None
    async with session.engine() as engine:
        if location is None:
            for info in await engine.list_buckets():
                console.result(
                    {"type": "bucket", "name": info.name, "created": _iso(info.created)},
                    f"{_when(info.created)} {info.name}",
                )
            return 0
        bucket, prefix = location.bucket, location.key
        if args.versions:
            await _list_versions(session, engine, bucket, prefix)
            return 0
        if args.recursive:
            await _list_recursively(session, engine, bucket, prefix)
            return 0
        # One level, like `aws s3 ls`: names shown relative to the prefix's last "/".
        cut = prefix.rfind("/") + 1
        pad = " " * (19 + 1 + (10 if args.human else 12) - 3)
        async for page in engine.list_objects(bucket, prefix, delimiter="/"):
            for common in page.common_prefixes:
                console.result(
                    {"type": "prefix", "bucket": bucket, "prefix": common},
                    f"{pad}PRE {common[cut:]}",
                )
            for obj in page.objects:
                console.result(*_object_row(bucket, obj, obj.key[cut:], args.human))
    return 0


async def _list_recursively(session: Session, engine: Engine, bucket: str, prefix: str) -> None:
    """``ls -r``: in text a page of rows is one write, and a time shared by many keys (a
    folder uploaded at once) is formatted once; JSON lines keep their record per object."""
    console, human = session.console, session.args.human
    batches = engine.iter_object_batches(bucket, prefix)
    if console.json_lines:
        async for batch in batches:
            for obj in batch:
                console.result(*_object_row(bucket, obj, obj.key, human))
        return
    stamps: dict[datetime | None, str] = {}
    async for batch in batches:
        for start in range(0, len(batch), ROWS_PER_STEP):
            if start:
                await asyncio.sleep(0)  # let the loop serve sockets and timers between rows
            rows = []
            for obj in batch[start : start + ROWS_PER_STEP]:
                moment = obj.last_modified
                stamp = stamps.get(moment)
                if stamp is None:
                    if len(stamps) > 4096:
                        stamps.clear()
                    stamp = stamps[moment] = _when(moment)
                rows.append(f"{stamp} {_size(obj.size, human)} {obj.key}")
            console.results_text(rows)


def _version_row(
    bucket: str, v: ObjectVersion, shown: str, human: bool
) -> tuple[dict[str, object], str]:
    record: dict[str, object] = {
        "type": "delete_marker" if v.delete_marker else "version",
        "bucket": bucket,
        "key": v.key,
        "version_id": v.version_id,
        "is_latest": v.is_latest,
        "size": v.size,
        "etag": v.etag,
        "last_modified": _iso(v.last_modified),
    }
    size = f"{'(deleted)':>10}" if v.delete_marker else _size(v.size, human)
    flag = "LATEST " if v.is_latest else "       "
    return record, f"{_when(v.last_modified)} {size} {flag}{v.version_id}  {shown}"


async def _list_versions(session: Session, engine: Engine, bucket: str, prefix: str) -> None:
    """Like ``ls``: one level with PRE rows, or every key with ``-r``; each key's versions
    newest first, delete markers shown as ``(deleted)``."""
    args = session.args
    cut = 0 if args.recursive else prefix.rfind("/") + 1
    delimiter = None if args.recursive else "/"
    damaged: list[tuple[str, str]] = []
    async for page in engine.list_versions(bucket, prefix, delimiter=delimiter):
        damaged.extend((d.key, d.reason) for d in page.damaged)
        for common in page.common_prefixes:
            session.console.result(
                {"type": "prefix", "bucket": bucket, "prefix": common}, f"PRE {common[cut:]}"
            )
        for v in page.versions:
            session.console.result(*_version_row(bucket, v, v.key[cut:], args.human))
    if damaged:  # named after every good row, never dropped
        raise DamagedListingError(f"ListObjectVersions s3://{bucket}/{prefix}", damaged)


async def run_find(session: Session) -> int:
    """Matches as the listing's ranges arrive (not in key order): the first ones show at
    once on a big bucket. Exit 1 when nothing matched, like grep, so scripts can tell."""
    from s3z_core.search import KeyQuery

    args = session.args
    location = parse_remote(args.url)
    query = KeyQuery(args.query, case_sensitive=args.case_sensitive)
    found = 0
    async with session.engine() as engine:
        async for obj in engine.search(location.bucket, location.key, query):
            found += 1
            session.console.result(*_object_row(location.bucket, obj, obj.key, args.human))
    return 0 if found else 1


async def run_du(session: Session) -> int:
    args = session.args
    location = parse_remote(args.url)
    total = count = 0
    async with session.engine() as engine:
        async for obj in engine.iter_objects(location.bucket, location.key, ordered=False):
            total += obj.size
            count += 1
    url = s3_url(location.bucket, location.key)
    size = format_size(total) if args.human else f"{total} bytes"
    session.console.result(
        {"type": "du", "url": url, "bytes": total, "objects": count},
        f"{size} in {count} object{'' if count == 1 else 's'}  {url}",
    )
    return 0
