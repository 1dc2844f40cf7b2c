"""``mb`` and ``rb [--force]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3z_core.cli.urls import parse_remote

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Work


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: ``rb --force`` lists and deletes the bucket's keys."""
    return ("delete", "list") if getattr(session.args, "force", False) else ()


async def run_mb(session: Session) -> int:
    bucket = parse_remote(session.args.url, allow_key=False).bucket
    async with session.engine() as engine:
        await engine.create_bucket(bucket)
    session.console.result({"type": "bucket_created", "bucket": bucket}, f"make_bucket: {bucket}")
    return 0


async def run_rb(session: Session) -> int:
    bucket = parse_remote(session.args.url, allow_key=False).bucket
    async with session.engine() as engine:
        await engine.delete_bucket(bucket, force=bool(session.args.force))
    session.console.result({"type": "bucket_removed", "bucket": bucket}, f"remove_bucket: {bucket}")
    return 0
