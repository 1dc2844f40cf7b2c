"""The pieces under a sharded, relayed run: shard cutting, the relay byte budget, a shard's
re-run after a lost worker, and a relay's bounded memory — each on its own."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest
from clusterkit import bucket_sums, open_uploads, profiles_home, relay_engine
from servers import boto3_client

from s3z_core.cluster.shards import ShardTask, Side, cut, transfer_tasks
from s3z_core.cluster.worker import common_prefix, run_shard_async
from s3z_core.config import MiB, TransferConfig
from s3z_core.local_server import LocalS3Server
from s3z_core.specs import TransferSpec
from s3z_core.transfer.budget import ByteBudget


def test_shards_are_bounded_by_files_and_bytes_and_sorted() -> None:
    specs = [TransferSpec.copy("s", f"k{i:03d}", "d", f"k{i:03d}", size=10) for i in range(25)]
    specs.append(TransferSpec.copy("s", "k999", "d", "k010x", size=1000))  # bigger than a shard
    shards = list(cut(reversed(specs), max_files=10, max_bytes=100))
    assert [len(s) for s in shards] == [10, 1, 1, 10, 4]
    keys = [spec.key for shard in shards for spec in shard]
    assert keys == sorted(keys)
    assert all(sum(s.size or 0 for s in shard) <= 100 for shard in shards if len(shard) > 1)
    tasks = transfer_tasks(
        specs, dest=Side(), source=None, config=TransferConfig(), max_files=10, max_bytes=100
    )
    assert [t.after for t in tasks] == [None] + [t.specs[-1].key for t in tasks[:-1]]


def test_common_prefix() -> None:
    assert common_prefix(["a/b/c", "a/b/d", "a/bx"]) == "a/b"
    assert common_prefix([]) == ""


@pytest.mark.asyncio
async def test_byte_budget_waits_in_order_and_lets_an_oversized_part_through() -> None:
    budget = ByteBudget(100)
    await budget.acquire(60)
    order: list[str] = []

    async def take(name: str, size: int) -> None:
        await budget.acquire(size)
        order.append(name)

    first = asyncio.ensure_future(take("first", 50))
    second = asyncio.ensure_future(take("second", 10))  # fits, but waits its turn
    await asyncio.sleep(0)
    assert order == []
    budget.release(60)
    await asyncio.gather(first, second)
    assert order == ["first", "second"]
    assert budget.used == 60
    budget.release(60)
    await budget.acquire(500)  # more than the whole budget: alone, it still goes
    assert budget.peak == 500
    budget.release(500)
    assert budget.used == 0


@pytest.mark.asyncio
async def test_cancelled_waiter_leaves_the_budget_whole() -> None:
    budget = ByteBudget(10)
    await budget.acquire(10)
    waiter = asyncio.ensure_future(budget.acquire(5))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    budget.release(10)
    assert budget.used == 0


@pytest.mark.asyncio
async def test_relays_share_one_budget(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket
) -> None:
    """Eight 12 MiB objects relayed at once through a 24 MiB budget: never more held."""
    src, dst = bucket(seaweed), bucket(seaweed_b)
    a = boto3_client(seaweed)
    want = {}
    for i in range(8):
        data = hashlib.sha256(b"%d" % i).digest() * (12 * MiB // 32)
        a.put_object(Bucket=src, Key=f"o{i}", Body=data)
        want[f"o{i}"] = hashlib.sha256(data).hexdigest()
    config = TransferConfig(relay_memory=24 * MiB)

    engine = relay_engine(seaweed, seaweed_b, config)
    async with engine:
        result = await engine.copy_prefix(src, "", dst, "").result()
        budget = engine._ctx.relay_budget
    assert result.files_done == 8
    assert not result.failed
    assert 8 * MiB <= budget.peak <= 24 * MiB
    assert budget.used == 0
    assert bucket_sums(seaweed_b, dst) == want


@pytest.mark.asyncio
async def test_rerun_shard_skips_what_arrived_and_aborts_the_lost_upload(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket, tmp_path: Path, monkeypatch
) -> None:
    """What a rescheduled shard does, run directly: 3 of 6 files arrived before the worker
    was lost, and it left an unfinished multipart upload on one of the others."""
    src, dst = bucket(seaweed), bucket(seaweed_b)
    a, b = boto3_client(seaweed), boto3_client(seaweed_b)
    run_started = time.time()
    bodies = {f"k/{i}": b"body %d" % i * 100 for i in range(6)}
    for key, body in bodies.items():
        a.put_object(Bucket=src, Key=key, Body=body)
    for key in ["k/0", "k/2", "k/4"]:  # delivered by the lost attempt
        b.put_object(Bucket=dst, Key=key, Body=bodies[key])
    b.create_multipart_upload(Bucket=dst, Key="k/5")  # the lost attempt's leftover
    b.create_multipart_upload(Bucket=dst, Key="other")  # not this shard's: left alone
    listed = a.list_objects_v2(Bucket=src)["Contents"]
    specs = tuple(
        TransferSpec.copy(
            src,
            o["Key"],
            dst,
            o["Key"],
            size=o["Size"],
            etag=o["ETag"].strip('"'),
            mtime=o["LastModified"].timestamp(),
        )
        for o in listed
    )
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    task = ShardTask(
        0,
        "transfer",
        Side("b", seaweed_b.endpoint_url),
        Side("a", seaweed.endpoint_url),
        TransferConfig(),
        specs=specs,
    )
    report = await run_shard_async(task, retry=True, run_started=run_started)
    assert report.already_there == 3
    assert report.aborted_uploads == 1
    assert len(report.completed) == 6
    assert not report.failed
    assert [u["Key"] for u in open_uploads(seaweed_b, dst)] == ["other"]
    want = {k: hashlib.sha256(v).hexdigest() for k, v in bodies.items()}
    assert bucket_sums(seaweed_b, dst, "k/") == {k[2:]: v for k, v in want.items()}
