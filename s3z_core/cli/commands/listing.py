"""``ls`` (buckets, one level with PRE rows, or recursive) and ``du`` (size and count)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from s3z_core.cli.units import format_size
from s3z_core.cli.urls import parse_remote, s3_url

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.models import ObjectInfo


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
        if args.recursive:
            async for obj in engine.iter_objects(bucket, prefix):
                console.result(*_object_row(bucket, obj, obj.key, args.human))
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
