"""Batched deletes through the engine: per-key results, and keys DeleteObjects can't carry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from enginekit import make_engine
from servers import S3Endpoint, boto3_client


@pytest.mark.asyncio
async def test_delete_objects_batches_and_falls_back_for_control_characters(
    seaweed: S3Endpoint, bucket: Callable[[S3Endpoint], str]
) -> None:
    name = bucket(seaweed)
    oracle = boto3_client(seaweed)
    plain = [f"many/{i:04d}" for i in range(2503)]  # three DeleteObjects batches (1000 max)
    control = ["ctl\x01char", "tab\tkey"]  # SeaweedFS refuses these inside a DeleteObjects XML
    async with make_engine(seaweed) as engine:
        for key in [*plain[:3], *control]:
            await engine.put_bytes(name, key, b"x")
        # The rest through boto3, quickly; the engine only has to delete them.
        for key in plain[3:]:
            oracle.put_object(Bucket=name, Key=key, Body=b"")
        result = await engine.delete_objects(name, [*plain, *control])
        assert result.failures == []
        assert sorted(result.deleted) == sorted([*plain, *control])
        remaining = [o.key async for o in engine.iter_objects(name)]
    assert remaining == []
