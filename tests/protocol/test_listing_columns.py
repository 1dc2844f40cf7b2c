"""The column-wise reading of a ListObjectsV2 page (``protocol/listing_columns.py``) gives
exactly what reading it entry by entry gives, on the three servers' captured pages and on
generated pages of every odd shape; where it cannot vouch for a page it steps aside."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from s3z_core.models import ListPage
from s3z_core.protocol import responses
from s3z_core.protocol.listing_columns import S3_NAMESPACE, listed_objects

DATA = Path(__file__).parent / "data" / "responses"
SERVERS = ["seaweedfs", "rclone", "moto"]
PAGES = [
    "list_objects_v2_all.xml",
    "list_objects_v2_plain.xml",
    "list_objects_v2_delimiter.xml",
    "list_objects_v2_truncated.xml",
]


def _entry_by_entry(body: bytes, monkeypatch: pytest.MonkeyPatch) -> ListPage:
    with monkeypatch.context() as patch:
        patch.setattr(responses, "listed_objects", lambda root, encoded: None)
        return responses.parse_list_objects_v2(body)


def _root(body: bytes) -> etree._Element:
    return responses.parse_xml(body, "test")


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", PAGES)
def test_captured_pages_read_the_same_both_ways(
    server: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (DATA / server / name).read_bytes()
    assert responses.parse_list_objects_v2(body) == _entry_by_entry(body, monkeypatch)


@pytest.mark.parametrize("server", SERVERS)
def test_a_plain_page_is_read_by_columns(server: str) -> None:
    """The fast path really runs on what real servers send (and is not always stepping aside)."""
    body = (DATA / server / "list_objects_v2_plain.xml").read_bytes()
    root = _root(body)
    objects = listed_objects(root, responses._url_encoded(root))
    assert objects is not None
    assert len(objects) >= 5


FIELDS = ["Key", "Size", "ETag", "LastModified", "StorageClass"]
_texts = {
    "Key": st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12
    ),
    "Size": st.sampled_from(["0", "1", "65536", "", " 7", "-1", "x", "²", "12345678901234"]),
    "ETag": st.sampled_from(['"abc"', "abc", '""', "", '"d41d8cd98f00b204e9800998ecf8427e-3"']),
    "LastModified": st.sampled_from(
        ["2026-12-02T22:16:43Z", "2026-12-02T22:16:43.123Z", "", "yesterday", "2026-13-40"]
    ),
    "StorageClass": st.sampled_from(["STANDARD", "GLACIER", ""]),
}


@st.composite
def _entries(draw: st.DrawFn) -> str:
    """One ``<Contents>``: fields in any order, some missing, some twice, some empty."""
    names = draw(st.lists(st.sampled_from(FIELDS), min_size=0, max_size=7))
    if draw(st.booleans()):
        names = FIELDS + names[:1]  # mostly regular entries, so the fast path gets its turn
    parts = []
    for name in names:
        text = draw(_texts[name])
        parts.append(f"<{name}/>" if text == "" else f"<{name}>{escape(text)}</{name}>")
    return "<Contents>" + "".join(parts) + "</Contents>"


@st.composite
def _pages(draw: st.DrawFn) -> bytes:
    namespace = draw(st.sampled_from([S3_NAMESPACE, None, "urn:other"]))
    attribute = f' xmlns="{namespace}"' if namespace else ""
    encoding = "<EncodingType>url</EncodingType>" if draw(st.booleans()) else ""
    entries = draw(st.lists(_entries(), max_size=8))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult{attribute}>'
        f"<Name>b</Name>{encoding}<IsTruncated>false</IsTruncated>{''.join(entries)}"
        "</ListBucketResult>"
    ).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_pages())
def test_generated_pages_read_the_same_both_ways(body: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        fast = responses.parse_list_objects_v2(body)
        careful = _entry_by_entry(body, patch)
    assert fast == careful
    root = _root(body)
    if listed_objects(root, responses._url_encoded(root)) is not None:
        assert not careful.damaged, "the columns only vouch for pages with nothing damaged"


# Every field but the key, as a regular entry gives them.
_REST = (
    "<Size>1</Size><ETag>e</ETag><LastModified>2026-12-02T22:16:43Z</LastModified>"
    "<StorageClass>STANDARD</StorageClass>"
)


def _s3_page(contents: str) -> bytes:
    return f'<ListBucketResult xmlns="{S3_NAMESPACE}">{contents}</ListBucketResult>'.encode()


def test_an_entry_in_another_namespace_is_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _s3_page(
        f"<Contents><Key>a</Key>{_REST}</Contents>"
        f'<Contents xmlns="urn:other"><Key>b</Key>{_REST}</Contents>'
    )
    assert listed_objects(_root(body), False) is None
    page = responses.parse_list_objects_v2(body)
    assert [o.key for o in page.objects] == ["a", "b"]
    assert page == _entry_by_entry(body, monkeypatch)


def test_one_entrys_two_keys_never_stand_in_for_anothers_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = _s3_page(
        f"<Contents><Key>a</Key><Key>b</Key>{_REST}</Contents><Contents>{_REST}</Contents>"
    )
    assert listed_objects(_root(body), False) is None
    page = responses.parse_list_objects_v2(body)
    assert [o.key for o in page.objects] == ["a"]
    assert [d.reason for d in page.damaged] == ["a listed object has no key"]
    assert page == _entry_by_entry(body, monkeypatch)


def test_an_empty_cdata_key_is_a_damaged_entry_not_an_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An empty CDATA section is a text node of its own: it fills the key column with ''."""
    body = _s3_page(f"<Contents><Key><![CDATA[]]></Key>{_REST}</Contents>")
    assert listed_objects(_root(body), False) is None
    page = responses.parse_list_objects_v2(body)
    assert page.objects == []
    assert [d.reason for d in page.damaged] == ["a listed object has no key"]
    assert page == _entry_by_entry(body, monkeypatch)
