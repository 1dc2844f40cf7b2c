"""Listing: 2,500 keys across pages (continuation tokens with ``/+=``), the paginator, and
``encoding-type=url`` decoding of keys XML cannot carry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from s3z_protocol_helpers import OpsFactory
from servers import S3Endpoint, boto3_client

from s3z_core.errors import InvalidValueError, ServiceError
from s3z_core.listing import iter_objects, paginate_objects
from s3z_core.models import ListPage
from s3z_core.operations import S3Operations

BucketFactory = Callable[[S3Endpoint], str]
COUNT = 2500
PREFIX = "many/"


def _many_keys() -> list[str]:
    # Reserved characters in every key, so tokens that carry keys (SeaweedFS) hold /+=
    # and opaque base64 tokens (rclone) do too.
    # 28 UTF-8 bytes each: base64 tokens of a key (rclone) end in "==".
    return [f"{PREFIX}{i:05d}/a+b=c/~ é%{i % 7}.bin!" for i in range(COUNT)]


async def _put_all(ops: S3Operations, bucket: str, keys: list[str]) -> None:
    gate = asyncio.Semaphore(32)

    async def one(key: str) -> None:
        async with gate:
            await ops.put_object(bucket, key, key.encode())

    await asyncio.gather(*(one(k) for k in keys))


async def _filled(
    server: S3Endpoint, bucket: BucketFactory, make_ops: OpsFactory
) -> tuple[S3Operations, str]:
    ops = make_ops(server)
    name = bucket(server)
    await _put_all(ops, name, _many_keys())
    await ops.put_object(name, "before", b"")
    await ops.put_object(name, "zzz-after", b"")
    return ops, name


@pytest.mark.asyncio
async def test_2500_keys_all_in_order_across_pages_tokens_start_after_delimiter(
    s3_server: S3Endpoint, bucket: BucketFactory, make_ops: OpsFactory
) -> None:
    ops, name = await _filled(s3_server, bucket, make_ops)
    want = sorted(_many_keys(), key=str.encode)

    tokens: list[str | None] = []
    for page_size in (1000, 333):
        pages: list[ListPage] = [
            p async for p in paginate_objects(ops, name, prefix=PREFIX, page_size=page_size)
        ]
        got = [o.key for p in pages for o in p.objects]
        assert got == want
        assert len(pages) == -(-COUNT // page_size)
        assert all(len(p.objects) <= page_size for p in pages)
        assert all(p.is_truncated for p in pages[:-1])
        assert not pages[-1].is_truncated
        these = [p.next_token for p in pages[:-1]]
        assert all(these)
        assert len(set(these)) == len(these)
        tokens += these
    # The point of the key shape: tokens carry characters the query encoding must escape.
    assert all(any(c in t for c in "/+=") for t in tokens if t), tokens

    # The oracle agrees, and our sizes are right.
    boto = boto3_client(s3_server).get_paginator("list_objects_v2")
    oracle = [o["Key"] for p in boto.paginate(Bucket=name, Prefix=PREFIX) for o in p["Contents"]]
    assert oracle == want
    sizes = {o.key: o.size async for o in iter_objects(ops, name, prefix=PREFIX)}
    assert sizes == {k: len(k.encode()) for k in want}

    await _manual_continuation_and_start_after(ops, name, want)


async def _manual_continuation_and_start_after(
    ops: S3Operations, name: str, want: list[str]
) -> None:
    got: list[str] = []
    token: str | None = None
    while True:
        page = await ops.list_objects_v2(name, prefix=PREFIX, continuation_token=token)
        got += [o.key for o in page.objects]
        if not page.is_truncated:
            break
        token = page.next_token
    assert got == want

    after = want[1234]
    rest = [o.key async for o in iter_objects(ops, name, prefix=PREFIX, start_after=after)]
    assert rest == want[1235:]

    # Delimiter: the 2,500 keys collapse into their first-level prefixes, across pages.
    prefixes = [
        cp
        async for page in paginate_objects(ops, name, prefix=PREFIX, delimiter="/", page_size=700)
        for cp in page.common_prefixes
    ]
    assert prefixes == [f"{PREFIX}{i:05d}/" for i in range(COUNT)]
    everything = [o.key async for o in iter_objects(ops, name)]
    assert everything == ["before", *want, "zzz-after"]


@pytest.mark.asyncio
async def test_page_size_must_be_positive(seaweed: S3Endpoint, make_ops: OpsFactory) -> None:
    ops = make_ops(seaweed)
    with pytest.raises(InvalidValueError):
        async for _ in paginate_objects(ops, "any", page_size=0):
            pass


URL_KEYS = ["ctl\x01char", "pct%41%", "plus+sign", "sp ace", "mix \x01+%20/é\x1f"]


@pytest.fixture(params=["seaweed", "moto"])
def url_server(request: pytest.FixtureRequest) -> tuple[str, S3Endpoint]:
    server: S3Endpoint = request.getfixturevalue(
        "moto_s3" if request.param == "moto" else "seaweed"
    )
    return str(request.param), server


@pytest.mark.asyncio
async def test_encoding_type_url_keys_come_back_equal(
    url_server: tuple[str, S3Endpoint], bucket: BucketFactory, make_ops: OpsFactory
) -> None:
    kind, server = url_server
    name = bucket(server)
    ops = make_ops(server)
    for key in URL_KEYS:
        await ops.put_object(name, key, key.encode())
    page = await ops.list_objects_v2(name)
    assert sorted(o.key for o in page.objects) == sorted(URL_KEYS)
    for obj in page.objects:
        assert await ops.get_object_bytes(name, obj.key) == obj.key.encode()
    # Prefix and delimiter that themselves need encoding.
    if kind == "seaweed":  # moto echoes Prefix/CommonPrefixes unencoded: raw \x01, not XML
        page = await ops.list_objects_v2(name, prefix="mix ", delimiter="/")
        assert page.common_prefixes == ["mix \x01+%20/"]
        page = await ops.list_objects_v2(name, prefix="mix \x01", delimiter="/")
        assert page.common_prefixes == ["mix \x01+%20/"]
    # (moto echoes StartAfter unencoded too, so only printable ones there.)
    for after in ["pct%41%"] + (["ctl\x01char"] if kind == "seaweed" else []):
        page = await ops.list_objects_v2(name, start_after=after)
        assert [o.key for o in page.objects] == sorted(
            (k for k in URL_KEYS if k.encode() > after.encode()), key=str.encode
        )
    printable = [k for k in URL_KEYS if k.isprintable()]
    control = [k for k in URL_KEYS if not k.isprintable()]
    result = await ops.delete_objects(name, printable)
    assert result.failures == []
    # DeleteObjects sends \x01 as "&#1;" (what AWS accepts); SeaweedFS refuses the batch
    # (MalformedXML) and moto fails on it (500), so such keys need DeleteObject there.
    with pytest.raises(ServiceError) as info:
        await ops.delete_objects(name, control)
    assert info.value.code == ("MalformedXML" if kind == "seaweed" else "HTTP500")
    for key in control:
        await ops.delete_object(name, key)
    assert (await ops.list_objects_v2(name)).objects == []
