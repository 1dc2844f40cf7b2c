"""Which commands the journal records, and as what: the argument record that re-runs them.

``cp``, ``mv``, ``upload``, ``download`` and ``sync`` open a batch record in the journal
before they start. Its identity is the command and its arguments (local paths made
absolute, the server named) — not the transfer knobs — so running the same command again,
even with another ``--concurrency``, finds the record an interrupted run left and resumes
it; ``s3z-core resume`` re-runs each record's command. Nothing secret is stored: a resumed
command authenticates as the one running ``resume`` does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine

RESUMABLE_COMMANDS = frozenset({"cp", "mv", "upload", "download", "sync"})
JOURNAL_COMMANDS = RESUMABLE_COMMANDS | {"resume", "uploads"}
# What a record carries besides the command's own arguments (none of them secret).
CONNECTION_FIELDS = ("endpoint_url", "profile", "region", "addressing_style")
KNOB_FIELDS = ("part_size", "concurrency", "workers", "follow_symlinks", "verify_checksums")
_FIELDS = {
    "cp": ("source", "destination", "recursive"),
    "mv": ("source", "destination", "recursive"),
    "sync": ("source", "destination", "size_only", "delete"),
    "upload": ("sources", "bucket", "prefix"),
    "download": ("bucket", "prefix", "dest"),
}
_LOCAL = frozenset({"source", "destination", "sources", "dest"})


def wants_journal(args: argparse.Namespace) -> bool:
    return args.command in JOURNAL_COMMANDS and not getattr(args, "no_journal", False)


def _absolute(value: str) -> str:
    """A local path made absolute (a trailing ``/`` kept: it means "into this folder")."""
    if value.startswith("s3://") or not value:
        return value
    path = os.path.abspath(value)
    return path + "/" if value.endswith(("/", os.sep)) and not path.endswith("/") else path


def command_record(args: argparse.Namespace) -> dict[str, Any] | None:
    """The record that re-runs this command, or None for a command not resumed."""
    fields = _FIELDS.get(args.command)
    if fields is None:
        return None
    record: dict[str, Any] = {"command": args.command, "filters": list(args.filters or [])}
    for name in fields:
        value = getattr(args, name, None)
        if name in _LOCAL:
            value = (
                [_absolute(v) for v in value] if isinstance(value, list) else _absolute(value or "")
            )
        record[name] = value
    for name in (*CONNECTION_FIELDS, *KNOB_FIELDS):
        record[name] = getattr(args, name, None)
    return record


def identity(record: dict[str, Any], endpoint: str) -> str:
    """Same command, same arguments, same server: the same batch."""
    core = {k: v for k, v in record.items() if k not in KNOB_FIELDS and k not in CONNECTION_FIELDS}
    text = json.dumps({"endpoint": endpoint, **core}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


async def open_batch_record(session: Session, engine: Engine) -> int | None:
    """The journal's batch for this command: an interrupted run's, or a new one."""
    journal = engine.journal
    record = command_record(session.args)
    if journal is None or record is None:
        return None
    from s3z_core.engine import journal_endpoint

    batch = await journal.open_batch(
        identity(record, journal_endpoint(engine.client_config)), record
    )
    if batch.items_done:
        session.console.info(
            f"resuming: {batch.items_done} files an earlier run finished are not sent again",
            {"type": "resuming", "batch": batch.id, "items_done": batch.items_done},
        )
    return batch.id


def rerun_args(base: argparse.Namespace, record: dict[str, Any]) -> argparse.Namespace:
    """``base`` (this invocation's output and credential options) running ``record``."""
    args = argparse.Namespace(**vars(base))
    for name, value in record.items():
        if value is None and name in (*CONNECTION_FIELDS, *KNOB_FIELDS):
            continue  # not given then: whatever this invocation says
        setattr(args, name, value)
    args.filters = [tuple(rule) for rule in record.get("filters", [])]
    return args


__all__ = [
    "JOURNAL_COMMANDS",
    "RESUMABLE_COMMANDS",
    "command_record",
    "identity",
    "open_batch_record",
    "rerun_args",
    "wants_journal",
]
