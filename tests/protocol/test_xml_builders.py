"""CompleteMultipartUpload / DeleteObjects / CreateBucket request bodies: order and escaping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from s3z_core.protocol.requests import (
    complete_multipart_body,
    create_bucket_body,
    delete_objects_body,
)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _parse(body: bytes) -> etree._Element:
    return etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False))


def test_complete_body_lists_parts_in_the_given_ascending_order() -> None:
    parts = [(1, "aaa"), (2, '"bbb"'), (7, "ccc-3")]
    root = _parse(complete_multipart_body(parts))
    assert root.tag == NS + "CompleteMultipartUpload"
    got = [
        (int(p.findtext(NS + "PartNumber") or "0"), p.findtext(NS + "ETag"))
        for p in root.findall(NS + "Part")
    ]
    # ETags are sent quoted exactly once, whether or not the caller's had quotes.
    assert got == [(1, '"aaa"'), (2, '"bbb"'), (7, '"ccc-3"')]


@pytest.mark.parametrize(
    "parts",
    [
        [(2, "b"), (1, "a")],
        [(1, "a"), (1, "a")],
        [(1, "a"), (3, "c"), (2, "b")],
    ],
)
def test_complete_body_refuses_unordered_or_duplicate_parts(parts: list[tuple[int, str]]) -> None:
    with pytest.raises(ValueError, match="ascending"):
        complete_multipart_body(parts)


@given(st.sets(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=60))
def test_complete_body_round_trips_any_ascending_part_set(numbers: set[int]) -> None:
    parts = [(n, f"{n:032x}") for n in sorted(numbers)]
    root = _parse(complete_multipart_body(parts))
    got = [int(p.findtext(NS + "PartNumber") or "0") for p in root.findall(NS + "Part")]
    assert got == sorted(numbers)


def test_complete_body_escapes_markup_in_etags() -> None:
    body = complete_multipart_body([(1, "a&b<c>d")])
    assert b"a&amp;b&lt;c&gt;d" in body
    root = _parse(body)
    assert root.findtext(f"{NS}Part/{NS}ETag") == '"a&b<c>d"'


def test_delete_body_keeps_key_order_and_escapes_markup() -> None:
    keys = ["z", "a&b", "<tag>", "q\"uote'", "sp ace/+%/é", "a//b"]
    body = delete_objects_body(keys, quiet=True)
    assert b"&amp;" in body
    assert b"&lt;tag&gt;" in body
    root = _parse(body)
    assert root.tag == NS + "Delete"
    assert root.findtext(NS + "Quiet") == "true"
    assert [o.findtext(NS + "Key") for o in root.findall(NS + "Object")] == keys


def test_delete_body_not_quiet_has_no_quiet_element() -> None:
    root = _parse(delete_objects_body(["k"], quiet=False))
    assert root.find(NS + "Quiet") is None


def test_delete_body_encodes_control_characters_as_character_references() -> None:
    body = delete_objects_body(["a\x01b", "tab\there", "nl\nx", "cr\ry", "\x1f"])
    for ref in (b"a&#1;b", b"tab&#9;here", b"nl&#10;x", b"cr&#13;y", b"&#31;"):
        assert ref in body
    for raw in (b"\x01", b"\t", b"\n", b"\r", b"\x1f"):
        assert raw not in body
    # Tab/LF/CR are legal XML 1.0 references: a parser gets them back exactly (not
    # whitespace-normalised, which raw characters would risk).
    root = _parse(delete_objects_body(["tab\there", "nl\nx", "cr\ry"]))
    assert [o.findtext(NS + "Key") for o in root.findall(NS + "Object")] == [
        "tab\there",
        "nl\nx",
        "cr\ry",
    ]


@given(
    st.lists(
        st.text(
            alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xD7FF),
            min_size=1,
            max_size=40,
        ),
        min_size=1,
        max_size=30,
    )
)
def test_delete_body_round_trips_printable_keys(keys: list[str]) -> None:
    root = _parse(delete_objects_body(keys))
    assert [o.findtext(NS + "Key") for o in root.findall(NS + "Object")] == keys


@pytest.mark.parametrize("count", [0, 1001])
def test_delete_body_batch_limits(count: int) -> None:
    with pytest.raises(ValueError, match="1000"):
        delete_objects_body([f"k{i}" for i in range(count)])


def test_delete_body_accepts_exactly_1000() -> None:
    root = _parse(delete_objects_body([f"k{i:04d}" for i in range(1000)]))
    assert len(root.findall(NS + "Object")) == 1000


def test_create_bucket_body_per_region() -> None:
    assert create_bucket_body("us-east-1") == b""
    root = _parse(create_bucket_body("eu-west-3"))
    assert root.tag == NS + "CreateBucketConfiguration"
    assert root.findtext(NS + "LocationConstraint") == "eu-west-3"
    assert b"a&amp;b" in create_bucket_body("a&b")
