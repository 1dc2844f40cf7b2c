"""The parallel listing on the real servers: what order each lists in (and whether it honours
``start-after`` in it), then 30,000 keys of flat, deep and mixed layouts listed in parallel
and compared with the sequential listing, and a hypothesis run over generated key sets.

What each store can hold differs (probed on this machine, LOCAL_SERVERS.md), so each gets the
keys it can, and ``LIMITS`` says why. Byte order holds on rclone and moto; SeaweedFS lists in
directory-walk order and skips a folder named exactly by ``start-after``; the lister handles
both (ranges.py, parallel.py), which the probe test pins down as facts.
"""

from __future__ import annotations

import asyncio
import itertools
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from listing_servers import client_ops, delete_all, drop_bucket, put_all, run
from servers import S3Endpoint

from s3z_core.listing import iter_objects
from s3z_core.listing.parallel import iter_objects_parallel
from s3z_core.listing.ranges import KeyOrder
from s3z_core.models import ListPage
from s3z_core.operations import S3Operations

BACKENDS = ["seaweed", "rclone", "moto"]
FIXTURES = {"seaweed": "seaweed", "rclone": "rclone_s3", "moto": "moto_s3"}
ORDER = {"seaweed": KeyOrder.PATHS, "rclone": KeyOrder.BYTES, "moto": KeyOrder.BYTES}
LIMITS = {
    "seaweed": (
        "no control characters (its continuation tokens mangle them: a sequential listing "
        "with small pages loops or skips keys), no backslash, '//', '.' or '..' segments "
        "(rewritten or refused), no file beside a folder of the same name"
    ),
    "rclone": (
        "a folder of files: no '//', no trailing '/', no file beside a same-named folder, no "
        "control characters (stored as pictures: a key with \\x01 sometimes lists with U+2401)"
    ),
    "moto": "stores any key verbatim",
}
# moto answers ~350 PUTs/s and a ListObjectsV2 page of a 30,000-key bucket in ~0.5 s (it
# sorts the bucket per request): 30,000 keys would take it minutes, so it gets 5,000 listed
# in pages of 200, which makes as many ranges as 25,000 in pages of 1,000.
COUNT = {"seaweed": 30_000, "rclone": 30_000, "moto": 5_000}
PAGE = {"seaweed": 1000, "rclone": 1000, "moto": 200}
# Where the unordered mode is checked too: the whole bucket where a request is cheap; rclone
# and moto read a whole folder (or bucket) per request, so there a smaller prefix.
UNORDERED = {"seaweed": "", "rclone": "deep/", "moto": "deep/"}
WORDS = [
    "photo",
    "Photo",
    "IMG",
    "report final",
    "r+d",
    "100%",
    "~tilde",
    unicodedata.normalize("NFC", "ñandú"),
    unicodedata.normalize("NFD", "ñandú"),
    "日本",
    "a",
]


# Percent of the keys flat and deep (the rest mixed). rclone reads the whole folder for every
# page of it, so its flat folder is kept smaller and its deep tree (small folders) bigger.
SHARES = {"seaweed": (45, 40), "rclone": (15, 70), "moto": (45, 40)}


def layouts(backend: str, total: int) -> dict[str, list[str]]:
    """Flat (a counter), deep (folders of folders) and mixed (names where '/' meets the
    characters below it, unicode in both normal forms, spaces, '+', '%', '~')."""
    flat_share, deep_share = SHARES[backend]
    flat = [f"flat/obj-{i:06d}.bin" for i in range(total * flat_share // 100)]
    names = itertools.cycle(["f{} x+y%.txt", "é{}", unicodedata.normalize("NFD", "é{}"), "~{}"])
    deep = [
        f"deep/{i // 400:03d}/{i // 20 % 20:02d}/" + next(names).format(i)
        for i in range(total * deep_share // 100)
    ]
    shapes = ["{w}/{v} {i}.jpg", "{w}+{i}", "{w}-{i}/x", "{w}.{i}", "{w} {i}", "{w}/%{i}"]
    mixed = {
        "mixed/" + shapes[i % len(shapes)].format(w=WORDS[i % 11], v=WORDS[i // 11 % 11], i=i)
        for i in range(total - len(flat) - len(deep))
    }
    if backend == "moto":
        mixed |= {f"mixed/ctl\x01{i}\x1f" for i in range(50)}
        mixed |= {f"mixed/a//b{i}" for i in range(20)} | {f"mixed/tie{i}" for i in range(20)}
        mixed |= {f"mixed/tie{i}/x" for i in range(20)} | {f"mixed/dot/./{i}" for i in range(9)}
    return {"flat/": flat, "deep/": deep, "mixed/": sorted(mixed)}


class Loaded:
    """One backend's bucket with its layouts and the sequential listing of each prefix."""

    def __init__(self, backend: str, server: S3Endpoint, bucket: str) -> None:
        self.backend = backend
        self.server = server
        self.bucket = bucket
        self.layouts = layouts(backend, COUNT[backend])
        self.sequential: dict[str, list[str]] = {}

    async def fill(self, ops: S3Operations) -> None:
        await ops.create_bucket(self.bucket)
        keys = [k for keys in self.layouts.values() for k in keys]
        if self.backend == "rclone":
            # rclone serves a folder: write the files there (seconds, where 30,000 PUTs at
            # its ~320/s take 90 s).
            root = Path(self.server.data_dir) / "buckets" / self.bucket  # type: ignore[attr-defined]

            def write(keys: list[str]) -> None:
                for key in keys:
                    path = root / key
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.touch()

            await asyncio.to_thread(write, keys)  # off the loop the other servers' PUTs run on
            keys = []
        await put_all(ops, self.bucket, keys)
        for prefix in [*self.layouts, ""]:
            self.sequential[prefix] = [o.key async for o in iter_objects(ops, self.bucket, prefix)]


@pytest.fixture(scope="module")
def all_loaded(request: pytest.FixtureRequest) -> Iterator[dict[str, Loaded]]:
    """The three backends' buckets, filled at once: moto's PUTs are bound by its own single
    Python process (~125/s on a busy 2-core box) and SeaweedFS's by its own, so filling them
    one after the other left each server idle while the other worked."""
    states = {}
    for backend in BACKENDS:
        server: S3Endpoint = request.getfixturevalue(FIXTURES[backend])
        states[backend] = Loaded(backend, server, f"parallel-{backend}")

    async def fill(state: Loaded) -> None:
        async with client_ops(state.server) as ops:
            await state.fill(ops)

    async def empty(state: Loaded) -> None:
        async with client_ops(state.server) as ops:
            await drop_bucket(ops, state.bucket)

    async def each(step: Callable[[Loaded], Any]) -> None:
        await asyncio.gather(*(step(state) for state in states.values()))

    run(each(fill))
    yield states
    run(each(empty))


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, all_loaded: dict[str, Loaded]) -> Loaded:
    return all_loaded[str(request.param)]


def _path_key(key: str) -> list[str]:
    return key.split("/")


def test_the_servers_store_and_order_the_keys_as_we_say(loaded: Loaded) -> None:
    """The oracle itself: every key written comes back once, sorted in the server's order
    (and SeaweedFS's directory walk really is not byte order on these keys)."""
    everything = loaded.sequential[""]
    written = sorted(k for keys in loaded.layouts.values() for k in keys)
    assert sorted(everything) == written
    assert len(everything) >= COUNT[loaded.backend]
    if ORDER[loaded.backend] is KeyOrder.BYTES:
        assert everything == sorted(everything, key=str.encode)
    else:
        assert everything == sorted(everything, key=_path_key)
        assert everything != sorted(everything, key=str.encode)


@pytest.mark.parametrize("prefix", ["flat/", "deep/", "mixed/", ""])
def test_parallel_lists_exactly_the_sequential_listing(loaded: Loaded, prefix: str) -> None:
    want = loaded.sequential[prefix]

    async def check() -> None:
        async with client_ops(loaded.server) as ops:
            page = PAGE[loaded.backend]
            got = [
                o.key
                async for o in iter_objects_parallel(ops, loaded.bucket, prefix, page_size=page)
            ]
            assert got == want
            if prefix == UNORDERED[loaded.backend]:
                unordered = [
                    o.key
                    async for o in iter_objects_parallel(
                        ops, loaded.bucket, prefix, page_size=page, ordered=False
                    )
                ]
                assert len(unordered) == len(want)
                assert set(unordered) == set(want)

    run(check())


def test_small_pages_recurse_deeper_and_still_match(loaded: Loaded) -> None:
    async def check() -> None:
        async with client_ops(loaded.server) as ops:
            # deep/010/ to deep/019/ (4,000 keys); moto has 2,000 deep keys in all.
            deep = "deep/00" if loaded.backend == "moto" else "deep/01"
            for prefix in (deep, "mixed/"):
                want = [k for k in loaded.sequential["deep/"] if k.startswith(prefix)]
                if prefix == "mixed/":
                    want = loaded.sequential[prefix]
                assert len(want) > 8 * 97  # many pages, so ranges split again
                got = [
                    o.key
                    async for o in iter_objects_parallel(
                        ops, loaded.bucket, prefix, page_size=97, concurrency=8
                    )
                ]
                assert got == want

    run(check())


class _Counting:
    """Counts the ListObjectsV2 requests the lister makes."""

    def __init__(self, ops: S3Operations) -> None:
        self.ops = ops
        self.requests = 0

    async def list_objects_v2(self, bucket: str, **kw: Any) -> ListPage:
        self.requests += 1
        return await self.ops.list_objects_v2(bucket, **kw)


def test_a_small_prefix_is_one_request(loaded: Loaded) -> None:
    prefix = "deep/003/07/"
    want = [k for k in loaded.sequential["deep/"] if k.startswith(prefix)]
    assert len(want) == 20

    async def check() -> None:
        async with client_ops(loaded.server) as ops:
            counting = _Counting(ops)
            lister: Any = counting
            got = [o.key async for o in iter_objects_parallel(lister, loaded.bucket, prefix)]
            assert got == want
            assert counting.requests == 1

    run(check())


# -- what each server does with start-after ------------------------------------------------

PROBE_KEYS = [
    *("a b", "a+b", "a-b", "a.b", "a/b", "a/c/d", "a0", "a~", "aé", "a\ue000", "a😀"),
    *("b+/q", "b.", "b/x", "b/y+", "b/y/z"),
]
PROBE_POINTS = ["a", "a/", "a.c", "a/bz", "a/c", "a1", "b", "b/", "b/y", "b0"]


def _probe_server(request: pytest.FixtureRequest, backend: str) -> S3Endpoint:
    server: S3Endpoint = request.getfixturevalue(FIXTURES[backend])
    return server


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_after_order_per_server(
    request: pytest.FixtureRequest, backend: str, bucket: Callable[[S3Endpoint], str]
) -> None:
    """rclone and moto honour start-after in strict UTF-8 byte order. SeaweedFS does not: it
    lists and resumes in directory-walk order, and a start-after naming a folder exactly
    ("a", "b/y") resumes after that folder's whole subtree. Its fixes would turn the
    SeaweedFS half red: then the lister's backslash-ended split points (ranges.NOT_A_FOLDER)
    can go. Either way, the parallel listing equals the sequential one here."""
    server = _probe_server(request, backend)
    name = bucket(server)
    order = ORDER[backend]
    sort_key: Callable[[str], Any] = str.encode if order is KeyOrder.BYTES else _path_key

    async def check() -> None:
        async with client_ops(server) as ops:
            await put_all(ops, name, PROBE_KEYS)
            listed = [o.key async for o in iter_objects(ops, name)]
            assert listed == sorted(PROBE_KEYS, key=sort_key)
            for point in [*PROBE_KEYS, *PROBE_POINTS]:
                page = await ops.list_objects_v2(name, start_after=point)
                got = [o.key for o in page.objects]
                after = [k for k in listed if sort_key(k) > sort_key(point)]
                skips = backend == "seaweed" and any(k.startswith(point + "/") for k in listed)
                if skips:
                    assert got == [k for k in after if not k.startswith(point + "/")], point
                else:
                    assert got == after, point
            for page_size in (1, 2, 3):
                got = [o.key async for o in iter_objects_parallel(ops, name, page_size=page_size)]
                assert got == listed

    run(check())


# -- generated key sets --------------------------------------------------------------------

PARTS = {
    "seaweed": [*"+-.% ~_09az/", "é", unicodedata.normalize("NFD", "é"), "日", "😀"],
    # No NFD here: under load rclone once kept one key of an NFC/NFD pair PUT at once (seen
    # in tests/protocol too); its layout above has both forms, written to its folder.
    "rclone": [*"+-.% ~_09az/", "é", "ñ", "日", "😀"],
    "moto": [*"+-.% ~_09az/\\", "é", unicodedata.normalize("NFD", "é"), "😀", "\x01"],
}


def _storable(backend: str, keys: set[str]) -> list[str]:
    """Drops what ``LIMITS`` says the backend cannot hold."""
    if backend == "moto":
        return sorted(keys)
    kept = set()
    for key in keys:
        segments = key.split("/")
        if "" in segments or any(s in (".", "..") for s in segments):
            continue  # '//', a leading or trailing '/', '.' and '..' segments
        kept.add(key)
    # No file beside a folder of the same name.
    return sorted(k for k in kept if not any(o.startswith(k + "/") for o in kept))


@st.composite
def _key_sets(draw: st.DrawFn, backend: str) -> list[str]:
    segment = st.lists(st.sampled_from(PARTS[backend]), min_size=1, max_size=5).map("".join)
    keys = set(draw(st.lists(segment, min_size=1, max_size=120)))
    stem = draw(segment)
    keys |= {f"{stem}{i:04d}" for i in range(draw(st.integers(0, 180)))}
    return _storable(backend, keys)


@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_key_sets_list_the_same_in_parallel(
    request: pytest.FixtureRequest, backend: str, bucket: Callable[[S3Endpoint], str]
) -> None:
    server = _probe_server(request, backend)
    name = bucket(server)
    examples = itertools.count()

    @settings(
        max_examples=8,
        derandomize=True,  # the same examples on every run: a server's answer is not a model's
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(keys=_key_sets(backend), page_size=st.integers(3, 40))
    def example(keys: list[str], page_size: int) -> None:
        prefix = f"h{next(examples)}/"

        async def check() -> None:
            async with client_ops(server) as ops:
                await put_all(ops, name, [prefix + k for k in keys])
                want = [o.key async for o in iter_objects(ops, name, prefix)]
                assert sorted(want) == sorted(prefix + k for k in keys)
                got = [
                    o.key
                    async for o in iter_objects_parallel(
                        ops, name, prefix, page_size=page_size, concurrency=8
                    )
                ]
                assert got == want

        run(check())

    try:
        example()
    finally:

        async def empty() -> None:  # in batches: the fixture deletes one key at a time
            async with client_ops(server) as ops:
                await delete_all(ops, name, keep_bucket=True)

        run(empty())
