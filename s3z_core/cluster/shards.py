"""What a cluster task carries, and how a run is cut into them (pure: no I/O, no Dask).

A shard is a run of specs sorted by destination key, bounded by file count and bytes, so a
re-run of one shard after a lost worker can list exactly its own destination key range
(one LIST per 1,000 keys, not a HEAD per file) to skip what already arrived. An object
bigger than the byte bound is a shard of its own: it is relayed or copied as one file by
one worker (its parts run side by side there).

A ``ShardTask`` holds no secret: connection options are names and addresses only
(profile, endpoint URL, region). Workers resolve credentials themselves — from their
environment, their profile files or an instance role — and ``local:N`` workers inherit
the driver's environment. The tests pickle tasks and look for the secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import Literal

from s3z_core.config import GiB, TransferConfig
from s3z_core.records import record
from s3z_core.specs import TransferSpec

SHARD_FILES = 1_000
SHARD_BYTES = 1 * GiB
# The connection fields a task may carry: nothing here is ever a secret.
PUBLIC_OPTIONS = ("profile", "endpoint_url", "region", "addressing_style", "verify_ssl")

Kind = Literal["transfer", "delete"]


@record
class Side:
    """Where one side connects, by name only (see the module docstring)."""

    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str | None = None
    verify_ssl: bool = True

    def options(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in PUBLIC_OPTIONS}


@record
class ShardTask:
    """One Dask task: a shard of specs (or of keys to delete) and where to run it."""

    index: int
    kind: Kind
    dest: Side
    source: Side | None = None  # another endpoint or account copies read from (relayed)
    config: TransferConfig = field(default_factory=TransferConfig)
    specs: tuple[TransferSpec, ...] = ()
    bucket: str = ""  # delete: the bucket of ``keys``
    keys: tuple[str, ...] = ()
    after: str | None = None  # the destination key just before this shard (a LIST start)

    @property
    def files(self) -> int:
        return len(self.specs) or len(self.keys)

    @property
    def bytes(self) -> int:
        return sum(s.size or 0 for s in self.specs)


def destination_key(spec: TransferSpec) -> str:
    """What a shard is sorted by: the key written (upload/copy) or read (download)."""
    return spec.key


def cut(
    items: Iterable[TransferSpec], *, max_files: int = SHARD_FILES, max_bytes: int = SHARD_BYTES
) -> Iterator[tuple[TransferSpec, ...]]:
    """Specs sorted by destination key, in shards of at most ``max_files`` files and
    ``max_bytes`` bytes (a single bigger file is a shard alone)."""
    shard: list[TransferSpec] = []
    size = 0
    for spec in sorted(items, key=lambda s: (s.bucket, destination_key(s))):
        length = spec.size or 0
        if shard and (len(shard) >= max_files or size + length > max_bytes):
            yield tuple(shard)
            shard, size = [], 0
        shard.append(spec)
        size += length
    if shard:
        yield tuple(shard)


def cut_keys(keys: Iterable[str], *, max_files: int = SHARD_FILES) -> Iterator[tuple[str, ...]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), max_files):
        yield tuple(ordered[start : start + max_files])


def transfer_tasks(
    specs: Iterable[TransferSpec],
    *,
    dest: Side,
    source: Side | None,
    config: TransferConfig,
    max_files: int = SHARD_FILES,
    max_bytes: int = SHARD_BYTES,
) -> list[ShardTask]:
    tasks: list[ShardTask] = []
    after: str | None = None
    for index, shard in enumerate(cut(specs, max_files=max_files, max_bytes=max_bytes)):
        tasks.append(ShardTask(index, "transfer", dest, source, config, specs=shard, after=after))
        after = destination_key(shard[-1])
    return tasks


def delete_tasks(
    bucket: str, keys: Iterable[str], *, dest: Side, config: TransferConfig, max_files: int
) -> list[ShardTask]:
    return [
        ShardTask(index, "delete", dest, None, config, bucket=bucket, keys=shard)
        for index, shard in enumerate(cut_keys(keys, max_files=max_files))
    ]
