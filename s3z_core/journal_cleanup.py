"""Forgetting a transfer the journal keeps for a resume: its multipart upload is aborted, its
download's temp file removed, its entry dropped (a GUI's Cancel on a row of an earlier run,
which no engine is running: the same cleanup a cancel does for a live transfer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3z_core.config import journal_endpoint
from s3z_core.transfer.resume import discard_journalled

if TYPE_CHECKING:
    from s3z_core.engine import Engine
    from s3z_core.journal import JobRecord
    from s3z_core.specs import TransferSpec


async def discard_job(engine: Engine, job: JobRecord) -> None:
    """Clean up what ``job`` left (an upload already gone counts as aborted) and forget it."""
    assert engine.journal is not None
    await discard_journalled(engine.ops, engine.journal, job)


async def discard_for(engine: Engine, spec: TransferSpec) -> bool:
    """Discard the journal's entry for this spec on this engine's server; False if none."""
    journal = engine.journal
    if journal is None or spec.direction not in ("upload", "download"):
        return False
    endpoint = journal_endpoint(engine.client_config)
    job = await journal.find_job(spec.direction, endpoint, spec.bucket, spec.key, spec.local_path)
    if job is None:
        return False
    await discard_job(engine, job)
    return True


__all__ = ["discard_for", "discard_job"]
