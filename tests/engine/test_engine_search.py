"""Search a bucket: the query's rule (glob or substring) as a pure unit, then on SeaweedFS
the engine's streamed search against a plain Python filter over boto3's listing (the oracle),
an early stop, and ``s3z-core find``."""

from __future__ import annotations

import json
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from enginekit import make_engine
from hypothesis import given
from hypothesis import strategies as st
from servers import boto3_client

from s3z_core.errors import ConfigError
from s3z_core.search import KeyQuery


def test_plain_text_is_a_case_insensitive_substring():
    q = KeyQuery("Report")
    assert q.matches("2026/q1-report.pdf")
    assert q.matches("REPORTS/x")
    assert not q.matches("rep/ort")
    assert not KeyQuery("Report", case_sensitive=True).matches("report")


def test_a_glob_without_slash_names_a_file_at_any_depth():
    q = KeyQuery("*.jpg")
    assert q.matches("a.jpg")
    assert q.matches("deep/down/b.JPG")
    assert not q.matches("a.jpg.txt")
    rooted = KeyQuery("img/*.png")
    assert rooted.matches("img/x.png")
    assert not rooted.matches("other/img/x.png")


def test_regex_characters_in_plain_text_are_literal_and_empty_is_refused():
    assert KeyQuery("a+b (1)").matches("x/a+b (1).txt")
    assert not KeyQuery("a.b").matches("axb")
    with pytest.raises(ConfigError):
        KeyQuery("")


@given(st.text(alphabet="ab/.*", min_size=1, max_size=6), st.text(alphabet="ab/.", max_size=8))
def test_a_glob_with_slash_is_fnmatch(pattern, key):
    if "/" not in pattern or "*" not in pattern:
        return
    assert KeyQuery(pattern, case_sensitive=True).matches(key) == fnmatchcase(key, pattern)


KEYS = [
    f"photos/{y}/img_{i:03}.{ext}"
    for y in (2024, 2025)
    for i in range(40)
    for ext in ("jpg", "raw")
]
KEYS += ["docs/Report Q1.pdf", "docs/report-q2.PDF", "docs/notes.txt", "top.jpg", "ünï/cödé.jpg"]


@pytest.fixture(scope="module")
def filled(seaweed):
    name = f"search-{__import__('uuid').uuid4().hex[:12]}"
    client = boto3_client(seaweed)
    client.create_bucket(Bucket=name)
    for key in KEYS:
        client.put_object(Bucket=name, Key=key, Body=b"x")
    yield name
    from servers import delete_bucket

    delete_bucket(seaweed, name)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("prefix", "query"),
    [("", "*.jpg"), ("", "report"), ("photos/", "2025/*_01?.raw"), ("docs/", "zzz")],
)
async def test_search_finds_exactly_what_a_filter_over_the_listing_finds(
    seaweed, filled, prefix, query
):
    listed = [
        o["Key"]
        for p in boto3_client(seaweed)
        .get_paginator("list_objects_v2")
        .paginate(Bucket=filled, Prefix=prefix)
        for o in p.get("Contents", [])
    ]
    want = {k for k in listed if KeyQuery(query).matches(k[len(prefix) :])}
    async with make_engine(seaweed, list_concurrency=4) as engine:
        got = [o.key async for o in engine.search(filled, prefix, query)]
    assert len(got) == len(set(got)), "each match once"
    assert set(got) == want
    if query == "*.jpg":
        assert len(want) == 82  # 80 photos, top.jpg, the unicode one


@pytest.mark.asyncio
async def test_stopping_a_search_early_closes_its_listing(seaweed, filled):
    async with make_engine(seaweed, list_concurrency=4) as engine:
        search = engine.search(filled, "", "img_")
        first = [await anext(search) for _ in range(3)]
        await search.aclose()
    assert all("img_" in o.key for o in first)


def test_cli_find_prints_matches_and_exits_1_on_none(seaweed, filled, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
    from clirun import run

    out = run(seaweed, tmp_path, "find", "--json", f"s3://{filled}/docs/", "REPORT").stdout
    assert sorted(json.loads(line)["key"] for line in out.splitlines()) == [
        "docs/Report Q1.pdf",
        "docs/report-q2.PDF",
    ]
    none = run(seaweed, tmp_path, "find", f"s3://{filled}", "no-such-thing", check=1)
    assert none.stdout == ""
    bad = run(seaweed, tmp_path, "find", f"s3://{filled}", "", check=2)
    assert "search needs" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_key_query_decides_glob_or_substring_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``matches`` runs per listed key: the query's shape is decided when it is made, not
    again for every key."""
    import s3z_core.search as search

    calls = 0

    class CountingSet(set[str]):
        def isdisjoint(self, other: object) -> bool:  # type: ignore[override]
            nonlocal calls
            calls += 1
            return super().isdisjoint(other)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "_GLOB", CountingSet("*?["))
    for text in ("*.jpg", "report"):
        calls = 0
        query = search.KeyQuery(text)
        for i in range(100):
            query.matches(f"dir/{i}/report.jpg")
        assert calls == 1, f"{text!r}: decided {calls} times for 100 keys"
