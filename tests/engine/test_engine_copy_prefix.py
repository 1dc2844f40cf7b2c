"""Engine.copy_prefix: a server-side copy batch of every object under a prefix, with the
event grammar per object, per-object failures in the result, and a destination inside
the source refused before anything runs."""

from __future__ import annotations

import hashlib
import os

import pytest
from enginekit import EventLog, make_engine, sha256_object

from s3z_core.errors import InvalidValueError
from s3z_core.events import TransferQueued


@pytest.mark.asyncio
async def test_copies_every_object_under_the_prefix(s3_server, bucket):
    src, dst = bucket(s3_server), bucket(s3_server)
    blobs = {f"data/{name}": os.urandom(n) for name, n in [("a", 10), ("d/b", 70_000), ("c", 0)]}
    events = EventLog()
    async with make_engine(s3_server, events) as engine:
        for key, body in blobs.items():
            await engine.put_bytes(src, key, body)
        await engine.put_bytes(src, "other/x", b"not copied")
        result = await engine.copy_prefix(src, "data/", dst, "copy/").result()
        copied = sorted([o.key async for o in engine.iter_objects(dst)])
    assert result.ok, result.failed
    assert result.files_done == 3
    assert copied == ["copy/a", "copy/c", "copy/d/b"]
    for key, body in blobs.items():
        dest_key = "copy/" + key.removeprefix("data/")
        assert sha256_object(s3_server, dst, dest_key) == hashlib.sha256(body).hexdigest()
    queued = events.of(TransferQueued)
    assert {e.direction for e in queued} == {"copy"}
    for tid in events.transfer_ids():
        events.check_grammar(tid)


@pytest.mark.asyncio
async def test_missing_bucket_is_the_batch_s_one_typed_failure(seaweed, bucket):
    """The listing is the plan: when it fails, that failure is reported (not raised), named
    after the source, and nothing else runs."""
    from s3z_core.errors import NoSuchBucketError

    dst = bucket(seaweed)
    async with make_engine(seaweed) as engine:
        result = await engine.copy_prefix("no-such-bucket-s3z", "", dst).result()
    (failure,) = result.failed
    assert failure.spec is None
    assert failure.source == "s3://no-such-bucket-s3z/"
    assert isinstance(failure.error, NoSuchBucketError)
    assert result.files_done == 0


def test_destination_inside_the_source_is_refused(seaweed):
    engine = make_engine(seaweed)
    with pytest.raises(InvalidValueError, match="inside the source"):
        engine.copy_prefix("b", "p/", "b", "p/q/")
    with pytest.raises(InvalidValueError, match="inside the source"):
        engine.copy_prefix("b", "", "b", "")
