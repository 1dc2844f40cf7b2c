"""Helpers for the engine suite: an Engine on a server fixture, random files, sha256 sums,
and an event recorder that checks the per-transfer event grammar of docs/ENGINE_API.md."""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from servers import S3Endpoint, boto3_client

from s3z_core.config import MiB, RetryPolicy, TransferConfig
from s3z_core.engine import Engine
from s3z_core.events import (
    BytesTransferred,
    PartRetried,
    RequestRetried,
    TransferCancelled,
    TransferCompleted,
    TransferEvent,
    TransferFailed,
    TransferPaused,
    TransferQueued,
    TransferResumed,
    TransferStarted,
)

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay_s=0.01, max_delay_s=0.05)

# Small thresholds so a few MiB already take the multipart and ranged paths.
SMALL = {"multipart_threshold": 5 * MiB, "download_threshold": 5 * MiB, "part_size": 5 * MiB}

TERMINAL = (TransferCompleted, TransferFailed, TransferCancelled)


def make_engine(
    server: S3Endpoint,
    events: EventLog | None = None,
    retry: RetryPolicy | None = FAST_RETRY,
    **transfer: Any,
) -> Engine:
    """An Engine for ``server`` (or a FaultProxy endpoint) with path-style addressing."""
    return Engine.from_settings(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
        addressing_style="path",
        transfer_config=TransferConfig(**transfer),
        on_event=events if events is not None else None,
        retry=retry,
    )


def write_random(path: Path, size: int, chunk: int = 4 * MiB) -> str:
    """Write ``size`` random bytes (streamed, never held whole); return their sha256."""
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left:
            block = os.urandom(min(chunk, left))
            fh.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(4 * MiB):
            digest.update(block)
    return digest.hexdigest()


def sha256_object(server: S3Endpoint, bucket: str, key: str) -> str:
    """The oracle's view: boto3 reads the object back."""
    body = boto3_client(server).get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for block in body.iter_chunks(1 << 20):
        digest.update(block)
    return digest.hexdigest()


def unfinished_uploads(server: S3Endpoint, bucket: str) -> list[dict[str, Any]]:
    """ListMultipartUploads through boto3 (rclone answers NoSuchUpload when there are none)."""
    from botocore.exceptions import ClientError

    try:
        return list(boto3_client(server).list_multipart_uploads(Bucket=bucket).get("Uploads", []))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
            return []
        raise


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


class EventLog:
    """An event sink that records everything and checks the grammar per transfer."""

    def __init__(self) -> None:
        self.events: list[TransferEvent] = []
        self.by_id: dict[int, list[TransferEvent]] = defaultdict(list)

    def __call__(self, event: TransferEvent) -> None:
        self.events.append(event)
        tid = getattr(event, "transfer_id", None)
        if tid is not None:
            self.by_id[tid].append(event)

    def of(self, kind: type[Any], transfer_id: int | None = None) -> list[Any]:
        pool = self.events if transfer_id is None else self.by_id[transfer_id]
        return [e for e in pool if isinstance(e, kind)]

    def bytes_sum(self, transfer_id: int) -> int:
        return sum(e.delta for e in self.of(BytesTransferred, transfer_id))

    def terminal(self, transfer_id: int) -> TransferEvent:
        ends = [e for e in self.by_id[transfer_id] if isinstance(e, TERMINAL)]
        assert len(ends) == 1, f"transfer {transfer_id}: terminal events {ends}"
        return ends[0]

    def check_grammar(self, transfer_id: int) -> None:
        """Queued → Started → (Bytes | PartRetried | Paused | Resumed)* → one terminal;
        a job that failed in planning may go Queued → Failed/Cancelled directly."""
        seq = self.by_id[transfer_id]
        assert seq, f"no events for transfer {transfer_id}"
        assert isinstance(seq[0], TransferQueued), seq[:3]
        assert isinstance(seq[-1], TERMINAL), seq[-3:]
        assert sum(isinstance(e, TERMINAL) for e in seq) == 1, seq
        middle = seq[1:-1]
        if middle:
            assert isinstance(middle[0], TransferStarted), middle[:3]
            allowed = (BytesTransferred, PartRetried, TransferPaused, TransferResumed)
            for event in middle[1:]:
                assert isinstance(event, allowed), event
        else:
            assert not isinstance(seq[-1], TransferCompleted), (
                f"transfer {transfer_id} completed without TransferStarted: {seq}"
            )

    def transfer_ids(self) -> list[int]:
        return sorted(self.by_id)

    def request_retries(self) -> list[RequestRetried]:
        return self.of(RequestRetried)
