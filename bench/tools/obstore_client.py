"""The obstore peer as a skilled user would write it: Rust ``object_store`` behind a Python
API, driven by asyncio. Run as a fresh process by the bench:

    python obstore_client.py upload|download|list ENDPOINT BUCKET PREFIX [PATH]

Credentials and region come from the standard AWS environment variables.

obstore has no directory transfer and no download-to-file helper, so this script supplies
what a user would: a fixed number of worker coroutines over the file list (64 for small
files), ``put_async`` from a path (multipart with concurrent parts above the part size), and
for big objects ranged GETs in parallel written in place with ``os.pwrite`` from worker
threads (ANCHORS.md snippet (a)). Every file is written completely before the script exits
0; the harness checks the sha256 of each.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import obstore as obs
from obstore.store import S3Store

T = TypeVar("T")

PART_BYTES = 8 << 20  # range / multipart part size; objects up to this size: one request
PARTS_IN_FLIGHT = 8  # per big object, like s3z-core's 8 ranged GETs
SMALL_FILE_BYTES = 1 << 20
SMALL_FILES_IN_FLIGHT = 64
LARGE_FILES_IN_FLIGHT = 8
LIST_PAGE = 1000


def _store(endpoint_url: str, bucket: str) -> S3Store:
    return S3Store(
        bucket,
        endpoint=endpoint_url,
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ.get("AWS_REGION", "us-east-1"),
        virtual_hosted_style_request=False,
        # The 30 s default is for the whole request: a 1 GiB part stream on a busy 2-core
        # box can take longer, so the timeout is raised as obstore's docs advise.
        client_options={"allow_http": True, "timeout": "600s"},
    )


async def _each(items: Iterable[T], workers: int, job: Callable[[T], Awaitable[None]]) -> None:
    """Run ``job`` over ``items`` with at most ``workers`` in flight (no task per item)."""
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await job(item)

    await asyncio.gather(*(worker() for _ in range(workers)))


def _in_flight(size: int, count: int) -> int:
    return min(count, SMALL_FILES_IN_FLIGHT if size <= SMALL_FILE_BYTES else LARGE_FILES_IN_FLIGHT)


async def upload(store: S3Store, prefix: str, files: list[tuple[Path, int]]) -> None:
    biggest = max((size for _, size in files), default=0)

    async def put(item: tuple[Path, int]) -> None:
        await obs.put_async(
            store,
            prefix + item[0].name,
            item[0],
            chunk_size=PART_BYTES,
            max_concurrency=PARTS_IN_FLIGHT,
        )

    await _each(files, _in_flight(biggest, len(files)), put)


def _local_files(local: Path) -> list[tuple[Path, int]]:
    paths = [local] if local.is_file() else sorted(p for p in local.iterdir() if p.is_file())
    return [(p, p.stat().st_size) for p in paths]


def _write_whole(path: Path, data: Any, nested: bool) -> None:
    view = memoryview(data)
    if nested:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _pwrite_all(fd: int, data: Any, offset: int) -> None:
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


def _open_sized(path: Path, size: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    return fd


async def _get_ranged(store: S3Store, key: str, size: int, target: Path) -> None:
    fd = await asyncio.to_thread(_open_sized, target, size)
    try:

        async def part(offset: int) -> None:
            end = min(offset + PART_BYTES, size)
            data = await obs.get_range_async(store, key, start=offset, end=end)
            if len(data) != end - offset:
                raise OSError(f"{key}: short range {offset}-{end}: {len(data)} bytes")
            await asyncio.to_thread(_pwrite_all, fd, data, offset)

        await _each(range(0, size, PART_BYTES), PARTS_IN_FLIGHT, part)
    finally:
        os.close(fd)


async def download(store: S3Store, prefix: str, dest: Path) -> None:
    objects: list[tuple[str, int]] = []
    async for batch in obs.list(store, prefix, chunk_size=LIST_PAGE):
        objects.extend((m["path"], m["size"]) for m in batch)
    biggest = max((size for _, size in objects), default=0)

    async def get(item: tuple[str, int]) -> None:
        key, size = item
        relative = key[len(prefix) :]
        target = dest / relative
        if size > PART_BYTES:
            await _get_ranged(store, key, size, target)
            return
        result = await obs.get_async(store, key)
        data = await result.bytes_async()
        await asyncio.to_thread(_write_whole, target, data, "/" in relative)

    # One big object: its ranges are the parallelism; many objects: one worker per object.
    workers = 1 if biggest > PART_BYTES * PARTS_IN_FLIGHT else _in_flight(biggest, len(objects))
    await _each(objects, max(1, workers), get)


def list_keys(store: S3Store, prefix: str) -> None:
    out = sys.stdout
    for batch in obs.list(store, prefix, chunk_size=LIST_PAGE):
        out.write("".join(f"{m['size']:>12} {m['path']}\n" for m in batch))


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    action, endpoint_url, bucket, prefix = argv[:4]
    store = _store(endpoint_url, bucket)
    if action == "list":
        list_keys(store, prefix)
        return 0
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    local = Path(argv[4])
    if action == "upload":
        asyncio.run(upload(store, prefix, _local_files(local)))
        return 0
    if action == "download":
        local.mkdir(parents=True, exist_ok=True)
        asyncio.run(download(store, prefix, local))
        return 0
    print(f"unknown action {action!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter finalisation: a tokio thread handing a finished future back to the
    # (already finished) asyncio loop can be re-taking the GIL while Python finalises, and
    # CPython then ends that thread with pthread_exit, whose forced unwind through Rust
    # frames aborts the process (SIGABRT in ~1 of 10 uploads here, after every file was
    # written). Every file is closed and every stream flushed by now.
    os._exit(code)
