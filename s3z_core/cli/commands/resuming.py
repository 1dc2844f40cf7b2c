"""``resume``: continue, list or discard what interrupted runs left in the journal.

Every unfinished command (``cp``, ``upload``…) is a batch record: ``resume`` re-runs it,
and the engine sends only what is missing (``transfer/resume.py``). A file job without a
batch (an ``Engine`` user's single transfer) is resumed as a transfer of its own. Ids are
``b<n>`` for a command and ``j<n>`` for one file, as ``--list`` shows them.
"""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

from s3z_core.cli.main import _COMMANDS
from s3z_core.cli.outcome import report_outcome
from s3z_core.cli.resumable import RESUMABLE_COMMANDS, rerun_args
from s3z_core.cli.units import format_size
from s3z_core.errors import ConfigError, S3zError
from s3z_core.handles import finish
from s3z_core.journal import BatchRecord, JobRecord, Journal
from s3z_core.specs import TransferSpec
from s3z_core.transfer.resume import discard_journalled, forget_local

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Work


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: any command may run again, so every kind of work."""
    from s3z_core.engine import WORK_MODULES

    return tuple(WORK_MODULES)


def _describe(record: dict[str, Any]) -> str:
    name = record.get("command", "?")
    if name in ("app-upload", "app-download"):  # a folder transfer of the GUI's
        return f"{name} {record.get('source')} -> {record.get('destination')}"
    if name == "upload":
        return f"upload {' '.join(record.get('sources') or [])} -> s3://{record.get('bucket')}"
    if name == "download":
        return (
            f"download s3://{record.get('bucket')}/{record.get('prefix')} -> {record.get('dest')}"
        )
    flag = " -r" if record.get("recursive") else ""
    return f"{name}{flag} {record.get('source')} {record.get('destination')}"


def _job_line(job: JobRecord) -> tuple[str, str]:
    remote = f"s3://{job.bucket}/{job.key}"
    source, dest = (
        (job.local_path, remote) if job.direction == "upload" else (remote, job.local_path)
    )
    return source, dest


async def _list(session: Session, batches: list[BatchRecord], jobs: list[JobRecord]) -> int:
    console = session.console
    now = time.time()
    for b in batches:
        console.result(
            {
                "type": "resumable",
                "id": f"b{b.id}",
                "kind": "command",
                "command": b.command,
                "items_done": b.items_done,
                "created": b.created,
            },
            f"b{b.id}  {_describe(b.command)}  ({b.items_done} files done, "
            f"{(now - b.created) / 60:.0f} min ago)",
        )
    for j in jobs:
        source, dest = _job_line(j)
        console.result(
            {
                "type": "resumable",
                "id": f"j{j.id}",
                "kind": "file",
                "batch": f"b{j.batch_id}" if j.batch_id is not None else None,
                "direction": j.direction,
                "source": source,
                "destination": dest,
                "size": j.size,
                "bytes_done": j.bytes_done,
                "state": j.state,
                "upload_id": j.upload_id,
            },
            f"j{j.id}  {j.direction}: {source} -> {dest}  "
            f"{format_size(j.bytes_done)} of {format_size(j.size)} ({j.state})",
        )
    if not batches and not jobs:
        console.info("nothing to resume", {"type": "resumable_none"})
    return 0


def _session_for(session: Session, endpoint: str, record: dict[str, Any] | None) -> Session:
    from s3z_core.cli.session import Session

    args = rerun_args(session.args, record or {"command": session.args.command})
    if endpoint.startswith(("http://", "https://")):
        args.endpoint_url = endpoint
    sub = Session(args, session.console, stderr_is_tty=session.stderr_is_tty)
    sub.journal = session.journal  # lent: the sub-session never closes it
    return sub


async def _discard(
    session: Session, journal: Journal, batches: list[BatchRecord], jobs: list[JobRecord]
) -> int:
    args = session.args
    wanted = set(args.discard or [])
    if not wanted and not args.all:
        raise ConfigError("resume --discard: give ids from `resume --list`, or --all")
    known = {f"b{b.id}" for b in batches} | {f"j{j.id}" for j in jobs}
    if unknown := sorted(wanted - known):
        raise ConfigError(f"resume --discard: no such id {unknown[0]!r} (see `resume --list`)")
    chosen = {b.id for b in batches if args.all or f"b{b.id}" in wanted}
    doomed = [j for j in jobs if args.all or f"j{j.id}" in wanted or j.batch_id in chosen]
    failed = 0
    kept: set[int] = set()
    for endpoint in sorted({j.endpoint for j in doomed if j.upload_id}):
        async with _session_for(session, endpoint, None).engine() as engine:
            for job in (j for j in doomed if j.endpoint == endpoint and j.upload_id):
                try:  # the same cleanup as a batch's end and the app's Cancel
                    await discard_journalled(engine.ops, journal, job)
                except S3zError as exc:
                    session.console.failure("abort", f"s3://{job.bucket}/{job.key}", exc)
                    kept.add(job.id)
                    failed += 1
    for job in doomed:
        if not job.upload_id:
            await forget_local(journal, job)
    for b in batches:
        if b.id in chosen:
            await journal.close_batch(b.id)
    gone = [*(f"b{b}" for b in sorted(chosen)), *(f"j{j.id}" for j in doomed if j.id not in kept)]
    for item in gone:
        session.console.info(f"discarded: {item}", {"type": "discarded", "id": item})
    return 1 if failed else 0


async def _rerun(session: Session, batches: list[BatchRecord], jobs: list[JobRecord]) -> int:
    code = 0
    for b in batches:
        if b.command.get("command") not in RESUMABLE_COMMANDS:  # the app's folder: resumed there
            session.console.info(
                f"b{b.id} {_describe(b.command)}: resume it in the app, or --discard it",
                {"type": "not_resumed", "batch": f"b{b.id}"},
            )
            continue
        sub = _session_for(session, "", b.command)
        run = getattr(
            importlib.import_module(f"s3z_core.cli.commands.{_COMMANDS[sub.args.command]}"),
            "run_" + sub.args.command,
        )
        session.delegate = sub
        try:
            code = max(code, int(await run(sub)))
        except S3zError as exc:
            session.console.failure("resume", _describe(b.command), exc)
            code = max(code, 1)
        finally:
            session.delegate = None
    batch_ids = {b.id for b in batches}
    orphans = [j for j in jobs if j.batch_id is None or j.batch_id not in batch_ids]
    for endpoint in sorted({j.endpoint for j in orphans}):
        specs = [
            TransferSpec.upload(j.local_path, j.bucket, j.key)
            if j.direction == "upload"
            else TransferSpec.download(j.bucket, j.key, j.local_path)
            for j in orphans
            if j.endpoint == endpoint
        ]
        sub = _session_for(session, endpoint, None)
        started = time.monotonic()
        session.delegate = sub
        try:
            async with sub.engine() as engine:
                try:
                    result = await finish(engine.run_batch(specs, keep_results=False))
                finally:
                    sub.progress.close()
        finally:
            session.delegate = None
        elapsed = time.monotonic() - started
        code = max(code, report_outcome(session.console, "resume", result, elapsed))
    if not batches and not orphans:
        session.console.info("nothing to resume", {"type": "resumable_none"})
    return code


async def run_resume(session: Session) -> int:
    args = session.args
    if args.all and args.discard is None:
        raise ConfigError("resume --all goes with --discard (to resume everything: `resume`)")
    if session.journal is None:
        session.journal = Journal()
        session.owns_journal = True
    journal = session.journal
    try:
        batches = await journal.batches()
        jobs = [j for j in await journal.jobs() if j.state != "done"]
        if args.list:
            return await _list(session, batches, jobs)
        if args.discard is not None:
            return await _discard(session, journal, batches, jobs)
        return await _rerun(session, batches, jobs)
    finally:
        await session.close_journal()
