"""Single-object commands: ``cat`` (stream to stdout) and ``presign`` (no request sent)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from s3z_core.cli.urls import parse_remote

if TYPE_CHECKING:
    from s3z_core.cli.session import Session


async def run_cat(session: Session) -> int:
    location = parse_remote(session.args.url, need_key=True)
    out = sys.stdout.buffer
    async with (
        session.engine() as engine,
        engine.open_stream(location.bucket, location.key) as chunks,
    ):
        async for chunk in chunks:
            out.write(chunk)
    out.flush()
    return 0


async def run_presign(session: Session) -> int:
    args = session.args
    location = parse_remote(args.url, need_key=True)
    async with session.engine() as engine:
        url = engine.presign(
            location.bucket, location.key, expires_s=args.expires, method=args.method
        )
    session.console.result(
        {"type": "presigned", "url": url, "expires_s": args.expires, "method": args.method}, url
    )
    return 0
