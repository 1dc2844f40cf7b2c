"""A hostile server cannot get past the engine: whatever it lies about fails only the file it
lied about, with a typed error; every other file arrives byte-identical (``adversary.py``)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
from adversary import DAMAGES, FAILS, Adversary
from enginekit import make_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3z_core.errors import ProtocolError, S3zError, TransportError, VerificationError
from s3z_core.models import BatchResult

KEYS = [f"d/{name}" for name in ("a.bin", "b c.txt", "ü+%.dat", "deep/e.log", "f", "g/h/i")]
LISTING_DAMAGES = [d for d in DAMAGES if d != "head_length_garbage"]


def _objects() -> dict[str, bytes]:
    return {key: hashlib.sha256(key.encode()).digest() * (50 + i) for i, key in enumerate(KEYS)}


async def _download_prefix(adv: Adversary, dest: Path, **config: int) -> BatchResult:
    async with make_engine(adv.endpoint(), **config) as engine:
        return await engine.download_prefix(adv.bucket, "d/", dest).result()


def _arrived(dest: Path, objects: dict[str, bytes], keys: list[str]) -> None:
    for key in keys:
        assert (dest / key.removeprefix("d/")).read_bytes() == objects[key], key
    leftovers = [p for p in dest.rglob("*") if p.name.endswith(".s3z-part")]
    assert leftovers == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(damage=st.dictionaries(st.sampled_from(KEYS), st.sampled_from(LISTING_DAMAGES)))
def test_listing_lies_fail_only_the_files_they_are_about(
    tmp_path_factory: pytest.TempPathFactory, damage: dict[str, str]
) -> None:
    objects = _objects()
    dest = tmp_path_factory.mktemp("dest")
    with Adversary(objects=objects, damage=damage) as adv:
        result = asyncio.run(_download_prefix(adv, dest))
    assert all(isinstance(f.error, S3zError) for f in result.failed)
    assert all(isinstance(f.error, ProtocolError | VerificationError) for f in result.failed)
    failing = sorted("" if d == "no_key" else k for k, d in damage.items() if FAILS[d])
    assert sorted(f.spec.key if f.spec else "?" for f in result.failed) == failing
    healthy = [k for k in KEYS if not FAILS.get(damage.get(k, ""), False)]
    assert result.files_done == len(healthy)
    _arrived(dest, objects, healthy)


def test_a_head_with_a_garbage_length_fails_that_key_only(tmp_path: Path) -> None:
    objects = _objects()
    bad = KEYS[2]

    async def by_key() -> BatchResult:
        async with make_engine(adv.endpoint()) as engine:
            return await engine.download_keys(adv.bucket, KEYS, tmp_path, "d/").result()

    with Adversary(objects=objects, damage={bad: "head_length_garbage"}) as adv:
        result = asyncio.run(by_key())
    (failure,) = result.failed
    assert failure.spec is not None
    assert failure.spec.key == bad
    # aiohttp's parser refuses the answer before our code sees it; retried, then typed.
    assert isinstance(failure.error, TransportError | ProtocolError), repr(failure.error)
    assert "HeadObject" in str(failure.error)
    _arrived(tmp_path, objects, [k for k in KEYS if k != bad])


def test_a_listing_page_that_is_not_xml_ends_the_plan_and_keeps_what_was_listed(
    tmp_path: Path,
) -> None:
    objects = {f"d/{i:02d}": os.urandom(100 + i) for i in range(12)}
    with Adversary(objects=objects, page_size=5, broken_page=1) as adv:  # page after page
        result = asyncio.run(_download_prefix(adv, tmp_path, list_concurrency=1))
    (failure,) = result.failed
    assert failure.spec is None  # the listing itself failed, not a file
    assert failure.operation == "list"
    assert isinstance(failure.error, ProtocolError)
    assert "malformed XML" in str(failure.error)
    first_page = sorted(objects)[:5]
    assert result.files_done == 5
    _arrived(tmp_path, objects, first_page)


def test_the_parallel_listing_names_each_damaged_entry_once(tmp_path: Path) -> None:
    """Key ranges overlap at their edges; an entry that does not parse is still named once,
    however many ranges' pages it appeared on, and every good key arrives."""
    from s3z_core.errors import DamagedListingError
    from s3z_core.listing.parallel import iter_objects_parallel

    objects = {f"d/{i:04d}": b"x" for i in range(600)}
    damage = {f"d/{i:04d}": "size_not_a_number" for i in (3, 149, 150, 151, 420, 599)}
    damage["d/0300"] = "no_key"

    async def listed() -> tuple[list[str], DamagedListingError]:
        async with make_engine(adv.endpoint()) as engine:
            keys: list[str] = []
            listing = iter_objects_parallel(
                engine.ops, adv.bucket, "d/", concurrency=4, page_size=50
            )
            try:
                async for obj in listing:
                    keys.append(obj.key)
            except DamagedListingError as error:
                return keys, error
            raise AssertionError("the damaged entries were not named")

    with Adversary(objects=objects, damage=damage) as adv:
        keys, error = asyncio.run(listed())
    assert keys == sorted(set(objects) - set(damage))
    named = sorted(key for key, _reason in error.entries)
    assert named == sorted("" if d == "no_key" else k for k, d in damage.items())


@pytest.mark.parametrize("list_concurrency", [1, 4])
def test_listing_in_batches_gives_the_keys_in_order_then_names_the_damaged(
    list_concurrency: int,
) -> None:
    """``iter_object_batches`` (``ls -r``'s listing) is ``iter_objects`` a page at a time:
    sequential or in parallel ranges, the same keys in the same order, and entries that do
    not parse named after all the good ones, never dropped."""
    from s3z_core.errors import DamagedListingError

    objects = {f"d/{i:04d}": b"x" for i in range(230)}
    damage = {"d/0007": "size_not_a_number", "d/0150": "size_not_a_number"}

    async def listed() -> tuple[list[list[str]], list[str], DamagedListingError | None]:
        async with make_engine(adv.endpoint(), list_concurrency=list_concurrency) as engine:
            batches: list[list[str]] = []
            error: DamagedListingError | None = None
            try:
                async for batch in engine.iter_object_batches(adv.bucket, "d/"):
                    batches.append([o.key for o in batch])
            except DamagedListingError as exc:
                error = exc
            one_by_one = []
            try:
                async for obj in engine.iter_objects(adv.bucket, "d/"):
                    one_by_one.append(obj.key)
            except DamagedListingError:
                pass
            return batches, one_by_one, error

    with Adversary(objects=objects, damage=damage, page_size=50) as adv:
        batches, one_by_one, error = asyncio.run(listed())
    good = sorted(k for k in objects if k not in damage)
    assert [k for batch in batches for k in batch] == good == one_by_one
    assert all(0 < len(batch) <= 50 for batch in batches)
    assert error is not None
    assert sorted(key for key, _ in error.entries) == sorted(damage)
