"""Incomplete multipart uploads of a bucket, surveyed for the janitor (CLI ``uploads`` and the
GUI's "Incomplete uploads" panel share it).

An upload nobody completes or aborts keeps its parts — and their cost — forever (unless a
lifecycle rule expires it). The survey lists each with its age, part count and bytes held
(the sum of its ``ListParts``) and whether our journal owns it (an interrupted s3z transfer
that a resume would continue). Aborting one of ours also forgets its journal entry, which
would otherwise only restart it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from s3z_core.config import journal_endpoint
from s3z_core.errors import ServiceError
from s3z_core.records import record

if TYPE_CHECKING:
    from s3z_core.engine import Engine
    from s3z_core.models import MultipartUploadInfo

LIST_PARTS_AT_ONCE = 8


@record
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


async def survey_uploads(engine: Engine, bucket: str, prefix: str = "") -> list[Incomplete]:
    """Every incomplete upload under ``prefix``, its ListParts summed (a few at a time)."""
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


def select_uploads(
    items: Iterable[Incomplete],
    now: float,
    *,
    older_than_s: float | None = None,
    not_ours: bool = False,
) -> list[Incomplete]:
    """The ones ``abort --older-than --not-ours`` means (an undated one is never "older")."""
    return [
        i
        for i in items
        if not (not_ours and i.ours)
        and (older_than_s is None or ((age := i.age_s(now)) is not None and age > older_than_s))
    ]


async def abort_incomplete(engine: Engine, bucket: str, item: Incomplete) -> None:
    """Abort the upload; one of ours is forgotten by the journal too."""
    await engine.abort_multipart_upload(bucket, item.key, item.upload_id)
    if item.ours and engine.journal is not None:
        for job in await engine.journal.jobs():
            if job.bucket == bucket and job.upload_id == item.upload_id:
                await engine.journal.drop_job(job.id)


__all__ = ["Incomplete", "abort_incomplete", "select_uploads", "survey_uploads"]
