"""``whoami``: ``aws sts get-caller-identity`` plus where the credentials came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Work


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: the STS client."""
    return ("whoami",)


async def run_whoami(session: Session) -> int:
    async with session.engine() as engine:
        who = await engine.whoami()
    record = {
        "type": "identity",
        "account": who.account,
        "arn": who.arn,
        "user_id": who.user_id,
        "access_key_id": who.access_key,
        "source": who.source,
        "expiration": who.expiration,
    }
    rows = [
        ("Account", who.account),
        ("Arn", who.arn),
        ("UserId", who.user_id),
        ("AccessKeyId", who.access_key),
        ("Source", who.source),
        ("Expires", who.expiration or "never (long-term keys)"),
    ]
    session.console.result(record, "\n".join(f"{name + ':':<13}{value}" for name, value in rows))
    return 0
