"""``uploads ls|abort s3://bucket[/prefix]``: the janitor of incomplete multipart uploads.

An upload nobody completes or aborts keeps its parts — and their cost — forever (unless a
lifecycle rule expires it). ``ls`` shows each with its age, part count and bytes held (the
sum of its ``ListParts``), and whether our journal owns it (an interrupted s3z transfer that
``resume`` would continue); ``abort`` removes them, optionally only those older than a
duration and only those not ours. The survey itself is the core's (``uploads_survey.py``),
shared with the GUI's "Incomplete uploads" panel.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from s3z_core.cli.units import format_duration, format_size
from s3z_core.cli.urls import parse_remote, s3_url
from s3z_core.errors import S3zError
from s3z_core.uploads_survey import Incomplete, abort_incomplete, select_uploads, survey_uploads

if TYPE_CHECKING:
    from s3z_core.cli.session import Session


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
        items = await survey_uploads(engine, location.bucket, location.key)
        now = time.time()
        if args.uploads_action == "ls":
            for item in items:
                session.console.result(item.record(location.bucket, now), _line(item, now))
            return 0
        chosen = select_uploads(items, now, older_than_s=args.older_than, not_ours=args.not_ours)
        failed = 0
        for item in chosen:
            url = s3_url(location.bucket, item.key)
            record = item.record(location.bucket, now) | {"type": "aborted"}
            if args.dry_run:
                record["type"] = "plan"
                session.console.result(record, f"(dryrun) abort: {url} {item.upload_id}")
                continue
            try:
                await abort_incomplete(engine, location.bucket, item)
            except S3zError as exc:
                session.console.failure("abort", f"{url} {item.upload_id}", exc)
                failed += 1
                continue
            session.console.result(record, f"abort: {url} {item.upload_id}")
    return 1 if failed else 0
