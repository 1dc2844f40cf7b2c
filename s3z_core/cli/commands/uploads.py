"""``uploads ls|abort s3://bucket[/prefix]``: the janitor of incomplete multipart uploads.

An upload nobody completes or aborts keeps its parts — and their cost — forever (unless a
lifecycle rule expires it). ``ls`` shows each with its age, part count and bytes held (the
sum of its ``ListParts``), and whether our journal owns it (an interrupted s3z transfer that
``resume`` would continue); ``abort`` removes them, optionally only those older than a
duration and only those not ours.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from s3z_core.cli.units import format_duration, format_size
from s3z_core.cli.urls import parse_remote, s3_url
from s3z_core.errors import S3zError, ServiceError

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine
    from s3z_core.models import MultipartUploadInfo

LIST_PARTS_AT_ONCE = 8


@dataclass(frozen=True, slots=True)
class Incomplete:
    key: str
    upload_id: str
    initiated: datetime | None
    parts: int
    size: int
    ours: bool

    def age_s(self, now: float) -> float | None:
        return None if self.initiated is None else max(0.0, now - self.initiated.timestamp())

    def record(self, bucket: str, now: float) -> dict[str, object]:
        return {
            "type": "upload",
            "bucket": bucket,
            "key": self.key,
            "upload_id": self.upload_id,
            "initiated": self.initiated.isoformat() if self.initiated else None,
            "age_s": None if (age := self.age_s(now)) is None else round(age, 1),
            "parts": self.parts,
            "bytes": self.size,
            "ours": self.ours,
        }


async def _survey(engine: Engine, bucket: str, prefix: str) -> list[Incomplete]:
    from s3z_core.engine import journal_endpoint

    uploads = await engine.list_multipart_uploads(bucket, prefix)
    ours: set[str] = set()
    if engine.journal is not None:
        ours = await engine.journal.upload_ids(journal_endpoint(engine.client_config), bucket)
    gate = asyncio.Semaphore(LIST_PARTS_AT_ONCE)

    async def one(upload: MultipartUploadInfo) -> Incomplete:
        async with gate:
            try:
                parts = await engine.ops.list_parts(bucket, upload.key, upload.upload_id)
            except ServiceError as exc:
                if exc.code != "NoSuchUpload":
                    raise
                parts = []  # finished or aborted since it was listed
        return Incomplete(
            upload.key,
            upload.upload_id,
            upload.initiated,
            len(parts),
            sum(p.size for p in parts),
            upload.upload_id in ours,
        )

    return list(await asyncio.gather(*(one(u) for u in uploads)))


def _line(item: Incomplete, now: float) -> str:
    when = item.initiated.strftime("%Y-%m-%d %H:%M:%S") if item.initiated else "?"
    age = item.age_s(now)
    return (
        f"{when}  {format_duration(age) if age is not None else '?':>9}  {item.parts:>5}  "
        f"{format_size(item.size):>10}  {'ours' if item.ours else '-':4}  {item.upload_id}  "
        f"{item.key}"
    )


async def run_uploads(session: Session) -> int:
    args = session.args
    location = parse_remote(args.url)
    async with session.engine() as engine:
        items = await _survey(engine, location.bucket, location.key)
        now = time.time()
        if args.uploads_action == "ls":
            for item in items:
                session.console.result(item.record(location.bucket, now), _line(item, now))
            return 0
        chosen = [
            i
            for i in items
            if not (args.not_ours and i.ours)
            and (
                args.older_than is None
                or ((age := i.age_s(now)) is not None and age > args.older_than)
            )
        ]
        failed = 0
        for item in chosen:
            url = s3_url(location.bucket, item.key)
            record = item.record(location.bucket, now) | {"type": "aborted"}
            if args.dry_run:
                record["type"] = "plan"
                session.console.result(record, f"(dryrun) abort: {url} {item.upload_id}")
                continue
            try:
                await engine.abort_multipart_upload(location.bucket, item.key, item.upload_id)
            except S3zError as exc:
                session.console.failure("abort", f"{url} {item.upload_id}", exc)
                failed += 1
                continue
            if item.ours and engine.journal is not None:
                await _forget(engine, location.bucket, item)
            session.console.result(record, f"abort: {url} {item.upload_id}")
    return 1 if failed else 0


async def _forget(engine: Engine, bucket: str, item: Incomplete) -> None:
    """An upload of ours aborted by hand: its journal entry would only restart it."""
    assert engine.journal is not None
    for job in await engine.journal.jobs():
        if job.bucket == bucket and job.upload_id == item.upload_id:
            await engine.journal.drop_job(job.id)
