"""``completion SHELL`` prints a script; ``__complete WORD ARGS…`` answers its ``s3://`` TABs.

The hidden ``__complete`` lists within a deadline of :data:`DEADLINE_S` and one page of at most
:data:`MAX_CANDIDATES` names, with no retries: a TAB that waits on a slow or unreachable
endpoint is worse than no candidates. It prints nothing on any failure (the script discards
stderr too): a completion must never write into the user's prompt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from s3z_core.cli.session import Session

DEADLINE_S = 2.0
MAX_CANDIDATES = 200
EXIT_NO_CANDIDATES = 1


def run_completion(session: Session) -> int:
    from s3z_core.cli.completion_grammar import read_grammar
    from s3z_core.cli.completion_scripts import render

    session.console.out.write(render(session.args.shell, read_grammar()))
    return 0


def _line_options(words: Sequence[str]) -> argparse.Namespace:
    """The connection options typed on the line so far; anything else on it is ignored."""
    import argparse

    from s3z_core.cli.arguments import global_options_parser

    parser = global_options_parser()
    parser.exit_on_error = False
    try:
        options, _rest = parser.parse_known_args(list(words))
    except (SystemExit, argparse.ArgumentError):  # a half-typed value: complete anyway
        options, _rest = parser.parse_known_args([])
    return options


async def remote_candidates(word: str, options: argparse.Namespace) -> list[str]:
    """``s3://`` names that extend ``word``: buckets, or one delimited page of a prefix."""
    import asyncio

    from s3z_core.cli.urls import s3_url
    from s3z_core.config import RetryPolicy
    from s3z_core.engine import Engine

    rest = word.removeprefix("s3://")
    engine = Engine.from_settings(
        profile=options.profile,
        endpoint_url=options.endpoint_url,
        region=options.region,
        access_key=options.access_key,
        secret_key=options.secret_key,
        session_token=options.session_token,
        addressing_style=options.addressing_style,
        verify_ssl=options.verify_ssl,
        retry=RetryPolicy(max_attempts=1),
    )
    found: list[str] = []
    async with engine, asyncio.timeout(DEADLINE_S):
        if "/" not in rest:
            buckets = await engine.list_buckets()
            found = [f"s3://{b.name}/" for b in buckets if b.name.startswith(rest)]
            return found[:MAX_CANDIDATES]
        bucket, _, prefix = rest.partition("/")
        pages = engine.list_objects(bucket, prefix, delimiter="/", page_size=MAX_CANDIDATES)
        async for page in pages:
            found += [s3_url(bucket, common) for common in page.common_prefixes]
            found += [s3_url(bucket, obj.key) for obj in page.objects]
            break  # one page: bounded, whatever the prefix holds
    return [name for name in found if "\n" not in name][:MAX_CANDIDATES]


def run_hidden_complete(argv: Sequence[str]) -> int:
    """``__complete WORD ARGS…``: one candidate per line on stdout; exit 1 when there is none."""
    import asyncio

    from s3z_core.errors import S3zError

    if not argv or not argv[0].startswith("s3://"):
        return EXIT_NO_CANDIDATES
    options = _line_options(argv[1:])
    try:
        found = asyncio.run(remote_candidates(argv[0], options))
    except (S3zError, OSError, TimeoutError):
        return EXIT_NO_CANDIDATES
    sys.stdout.write("".join(f"{name}\n" for name in found))
    return 0 if found else EXIT_NO_CANDIDATES
