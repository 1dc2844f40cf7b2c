"""Our XML parsers on bodies captured from SeaweedFS, rclone serve s3 and moto.

The bodies were captured once by ``data/capture_responses.py`` (raw, as each server sent
them). Each parsed value is checked against ``expected.json`` (what the capture script
itself wrote: keys, sizes, MD5s, part numbers) and against botocore's parser (the oracle)
on the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import botocore.session
import pytest
from botocore.parsers import create_parser

from s3z_core.errors import (
    AccessDeniedError,
    NoSuchBucketError,
    NoSuchKeyError,
    ProtocolError,
)
from s3z_core.protocol import responses
from s3z_core.transport.error_mapping import service_error

DATA = Path(__file__).parent / "data" / "responses"
SERVERS = ["seaweedfs", "rclone", "moto"]


def _body(server: str, name: str) -> bytes:
    return (DATA / server / name).read_bytes()


def _expected(server: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((DATA / server / "expected.json").read_text())
    return result


@cache
def _s3_model() -> Any:
    return botocore.session.get_session().get_service_model("s3")


def _botocore(operation: str, body: bytes) -> dict[str, Any]:
    shape = _s3_model().operation_model(operation).output_shape
    parsed: dict[str, Any] = create_parser("rest-xml").parse(
        {"status_code": 200, "headers": {}, "body": body}, shape
    )
    return parsed


def _s3_order(keys: list[str]) -> list[str]:
    """S3 lists in ascending UTF-8 byte order."""
    return sorted(keys, key=lambda k: k.encode())


@pytest.mark.parametrize("server", SERVERS)
def test_list_buckets(server: str) -> None:
    body = _body(server, "list_buckets.xml")
    ours = responses.parse_list_buckets(body)
    names = [b.name for b in ours]
    for wanted in _expected(server)["buckets_include"]:
        assert wanted in names
    oracle = _botocore("ListBuckets", body)["Buckets"]
    assert names == [b["Name"] for b in oracle]
    assert [b.created for b in ours] == [b["CreationDate"] for b in oracle]
    assert all(b.created is not None for b in ours)


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", ["list_objects_v2_all.xml", "list_objects_v2_plain.xml"])
def test_list_objects_v2_every_key_size_and_etag(server: str, name: str) -> None:
    expected = _expected(server)["objects"]
    body = _body(server, name)
    page = responses.parse_list_objects_v2(body)
    got = {o.key: o for o in page.objects}
    assert set(got) == set(expected["sizes"])
    # NFC and NFD spellings of one name are two distinct keys on every server.
    assert unicodedata.normalize("NFC", "uni/é.txt") in got
    assert unicodedata.normalize("NFD", "uni/é.txt") in got
    for key, obj in got.items():
        assert obj.size == expected["sizes"][key]
        assert obj.etag == expected["etags"][key]
        assert obj.last_modified is not None
    assert [o.key for o in page.objects] == _s3_order([o.key for o in page.objects])
    assert not page.is_truncated
    assert page.next_token is None

    oracle = _botocore("ListObjectsV2", body)
    decode = unquote_plus if oracle.get("EncodingType") == "url" else str
    assert [o.key for o in page.objects] == [decode(c["Key"]) for c in oracle["Contents"]]
    assert [o.size for o in page.objects] == [c["Size"] for c in oracle["Contents"]]
    assert [o.last_modified for o in page.objects] == [
        c["LastModified"] for c in oracle["Contents"]
    ]


@pytest.mark.parametrize("server", SERVERS)
def test_encoded_listing_really_was_encoded(server: str) -> None:
    """The capture is meaningful only if the server did encode: its raw bytes differ."""
    body = _body(server, "list_objects_v2_all.xml")
    assert b"<EncodingType>url</EncodingType>" in body
    assert b"plus%2Bsign%3Deq" in body
    assert b"pct%2541%252F" in body
    assert b"plus+sign=eq" not in body


@pytest.mark.parametrize("server", SERVERS)
def test_list_objects_v2_with_delimiter(server: str) -> None:
    body = _body(server, "list_objects_v2_delimiter.xml")
    page = responses.parse_list_objects_v2(body)
    top = [k for k in _expected(server)["objects"]["sizes"] if "/" not in k]
    assert {o.key for o in page.objects} == set(top)
    assert page.common_prefixes == ["dir/", "uni/"]
    oracle = _botocore("ListObjectsV2", body)
    assert page.common_prefixes == [unquote_plus(p["Prefix"]) for p in oracle["CommonPrefixes"]]


@pytest.mark.parametrize("server", SERVERS)
def test_list_objects_v2_truncated_page(server: str) -> None:
    body = _body(server, "list_objects_v2_truncated.xml")
    page = responses.parse_list_objects_v2(body)
    keys = _s3_order(list(_expected(server)["objects"]["sizes"]))
    assert [o.key for o in page.objects] == keys[:3]
    assert page.is_truncated
    oracle = _botocore("ListObjectsV2", body)
    assert page.next_token == oracle["NextContinuationToken"]
    assert page.next_token


@pytest.mark.parametrize("server", SERVERS)
def test_copy_result(server: str) -> None:
    body = _body(server, "copy_object.xml")
    assert responses.parse_copy_result(body) == _expected(server)["copy_etag"]
    assert (
        _botocore("CopyObject", body)["CopyObjectResult"]["ETag"].strip('"')
        == (_expected(server)["copy_etag"])
    )


@pytest.mark.parametrize("server", SERVERS)
def test_multipart_initiate_parts_and_complete(server: str) -> None:
    mp = _expected(server)["multipart"]
    upload_id = responses.parse_initiate_multipart(_body(server, "create_multipart_upload.xml"))
    assert upload_id == mp["upload_id"]

    body = _body(server, "list_parts.xml")
    parts, truncated, _marker = responses.parse_list_parts(body)
    assert not truncated
    assert [[p.part_number, p.etag, p.size] for p in parts] == mp["parts"]
    assert [p.etag for p in parts] == mp["part_md5s"]
    oracle = _botocore("ListParts", body)["Parts"]
    assert [(p["PartNumber"], p["ETag"].strip('"'), p["Size"]) for p in oracle] == [
        (p.part_number, p.etag, p.size) for p in parts
    ]

    etag = responses.parse_complete_multipart(_body(server, "complete_multipart_upload.xml"))
    composite = hashlib.md5(b"".join(bytes.fromhex(m) for m in mp["part_md5s"])).hexdigest()
    assert etag == f"{composite}-{len(mp['part_md5s'])}" == mp["composite_etag"]


@pytest.mark.parametrize("server", ["rclone", "moto"])
def test_list_multipart_uploads(server: str) -> None:
    mp = _expected(server)["multipart"]
    body = _body(server, "list_multipart_uploads.xml")
    uploads, truncated, _key_marker, _id_marker = responses.parse_list_multipart_uploads(body)
    assert not truncated
    assert sorted((u.key, u.upload_id) for u in uploads) == sorted(
        [(mp["key"], mp["upload_id"]), (mp["second_key"], mp["second_upload_id"])]
    )
    assert all(u.initiated is not None for u in uploads)
    oracle = _botocore("ListMultipartUploads", body)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in oracle] == [(u.key, u.upload_id) for u in uploads]


def test_seaweedfs_claims_url_encoding_of_upload_keys_but_sends_them_raw() -> None:
    """Why ``list_multipart_uploads`` must not ask for ``encoding-type=url``.

    Captured with ``encoding-type=url``: SeaweedFS 4.48 answers ``<EncodingType>url``
    yet sends ``ü+`` raw, so honouring the claim turns the ``+`` into a space.
    """
    mp = _expected("seaweedfs")["multipart"]
    body = _body("seaweedfs", "list_multipart_uploads.xml")
    assert b"<EncodingType>url</EncodingType>" in body
    assert mp["key"].encode() in body  # raw, not percent-encoded
    uploads, *_ = responses.parse_list_multipart_uploads(body)
    assert mp["key"] not in {u.key for u in uploads}  # the server's claim misleads
    assert mp["key"].replace("+", " ") in {u.key for u in uploads}


@pytest.mark.parametrize("server", SERVERS)
def test_delete_result(server: str) -> None:
    body = _body(server, "delete_objects_verbose.xml")
    result = responses.parse_delete_result(body)
    assert sorted(result.deleted) == sorted(_expected(server)["deleted"])
    assert result.failures == []
    oracle = _botocore("DeleteObjects", body)
    assert sorted(d["Key"] for d in oracle["Deleted"]) == sorted(result.deleted)


def test_delete_result_with_per_key_errors() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Deleted><Key>ok+1</Key></Deleted>"
        b"<Error><Key>locked&amp;key</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
        b"<Error><Key>sp%20x</Key><Code>InternalError</Code><Message>try</Message></Error>"
        b"</DeleteResult>"
    )
    result = responses.parse_delete_result(body)
    assert result.deleted == ["ok+1"]
    assert [(f.key, f.code, f.message) for f in result.failures] == [
        ("locked&key", "AccessDenied", "no"),
        ("sp%20x", "InternalError", "try"),
    ]
    encoded = responses.parse_delete_result(body, encoded=True)
    assert encoded.deleted == ["ok 1"]
    assert encoded.failures[1].key == "sp x"


@pytest.mark.parametrize(
    ("server", "name", "cls", "code"),
    [
        *[(s, "error_no_such_key.xml", NoSuchKeyError, "NoSuchKey") for s in SERVERS],
        *[(s, "error_no_such_bucket.xml", NoSuchBucketError, "NoSuchBucket") for s in SERVERS],
        *[
            (s, "error_signature.xml", AccessDeniedError, "SignatureDoesNotMatch")
            for s in ("seaweedfs", "rclone")  # moto does not check signatures
        ],
    ],
)
def test_captured_error_documents(server: str, name: str, cls: type, code: str) -> None:
    body = _body(server, name)
    fields = responses.parse_error(body)
    assert fields["Code"] == code
    assert responses.is_error_document(body)
    status = 403 if code == "SignatureDoesNotMatch" else 404
    err = service_error(
        status=status, body=body, headers={}, operation="GetObject", bucket="b", key="k"
    )
    assert type(err) is cls
    assert err.code == code


@pytest.mark.parametrize("server", SERVERS)
def test_success_documents_are_not_error_documents(server: str) -> None:
    for name in ("complete_multipart_upload.xml", "copy_object.xml", "list_buckets.xml"):
        assert not responses.is_error_document(_body(server, name))
        assert responses.parse_error(_body(server, name)) == {}


@pytest.mark.parametrize(
    "body",
    [
        b"<Error><Code>InternalError</Code><Message>We encountered an internal error</Message>"
        b"</Error>",
        # S3 keeps a CompleteMultipartUpload 200 alive with whitespace before the <Error>.
        b'<?xml version="1.0" encoding="UTF-8"?>\n\n          \n'
        b"<Error><Code>InternalError</Code><Message>x</Message></Error>",
        b"   \n\n<Error xmlns='http://s3.amazonaws.com/doc/2006-03-01/'><Code>SlowDown</Code>"
        b"</Error>",
    ],
)
def test_error_inside_200_is_detected(body: bytes) -> None:
    assert responses.is_error_document(body)
    assert responses.parse_error(body)["Code"] in ("InternalError", "SlowDown")


@pytest.mark.parametrize("body", [b"", b"   ", b"not xml", b"<html><body>x</body></html>"])
def test_not_an_error_document(body: bytes) -> None:
    assert not responses.is_error_document(body)
    assert responses.parse_error(body) == {}


@pytest.mark.parametrize(
    "parse",
    [
        responses.parse_list_objects_v2,
        responses.parse_list_buckets,
        responses.parse_initiate_multipart,
        responses.parse_list_parts,
    ],
)
def test_malformed_xml_is_a_protocol_error(parse: Any) -> None:
    with pytest.raises(ProtocolError, match="malformed XML"):
        parse(b"<ListBucketResult><Contents>")


def test_initiate_without_upload_id_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="UploadId"):
        responses.parse_initiate_multipart(b"<InitiateMultipartUploadResult/>")


def test_entities_are_not_expanded() -> None:
    """An external entity in a response must not be read (XXE)."""
    body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<ListBucketResult><Contents><Key>&x;</Key><Size>1</Size></Contents>"
        b"</ListBucketResult>"
    )
    page = responses.parse_list_objects_v2(body)
    assert all("root:" not in o.key for o in page.objects)


VERSIONS_INTERLEAVED = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>
  <NextKeyMarker>b%2Bc</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>
  <DeleteMarker><Key>a%20x</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-01-03T00:00:00.000Z</LastModified></DeleteMarker>
  <Version><Key>a%20x</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-01-02T00:00:00.000Z</LastModified><ETag>"e2"</ETag><Size>5</Size></Version>
  <Version><Key>b%2Bc</Key><VersionId>v9</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"e9"</ETag><Size>nine</Size></Version>
  <CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes>
</ListVersionsResult>"""

# moto's shape: every Version first, then every DeleteMarker.
VERSIONS_GROUPED = b"""<ListVersionsResult><IsTruncated>false</IsTruncated>
  <Version><Key>k</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-01-02T00:00:00Z</LastModified><Size>1</Size></Version>
  <Version><Key>k</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-01-01T00:00:00Z</LastModified><Size>1</Size></Version>
  <DeleteMarker><Key>k</Key><VersionId>m</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-01-03T00:00:00Z</LastModified></DeleteMarker>
</ListVersionsResult>"""


def test_versions_page_decodes_keys_markers_and_names_a_damaged_size():
    page = responses.parse_list_object_versions(VERSIONS_INTERLEAVED)
    assert [(v.key, v.version_id, v.delete_marker, v.size) for v in page.versions] == [
        ("a x", "m1", True, 0),
        ("a x", "v2", False, 5),
    ]
    assert page.versions[1].etag == "e2"
    assert page.versions[0].etag == ""
    assert [d.key for d in page.damaged] == ["b+c"]
    assert "nine" in page.damaged[0].reason
    assert (page.next_key_marker, page.next_version_id_marker) == ("b+c", "v9")
    assert page.common_prefixes == ["d/"]
    assert page.is_truncated


def test_versions_grouped_by_kind_come_back_newest_first_per_key():
    page = responses.parse_list_object_versions(VERSIONS_GROUPED)
    assert [v.version_id for v in page.versions] == ["m", "v2", "v1"]


def test_versioning_status_of_a_never_versioned_bucket_is_empty():
    assert responses.parse_versioning_status(b"<VersioningConfiguration/>") == ""
    body = b"<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"
    assert responses.parse_versioning_status(body) == "Suspended"


def test_a_truncated_versions_page_that_does_not_move_on_is_a_protocol_error():
    import asyncio

    from s3z_core.listing.versions import paginate_versions

    class Stuck:
        calls = 0

        async def list_object_versions(self, bucket: str, **kw: Any) -> Any:
            self.calls += 1
            return responses.parse_list_object_versions(VERSIONS_INTERLEAVED)

    async def drain(ops: Any) -> int:
        return len([p async for p in paginate_versions(ops, "b")])

    ops = Stuck()
    with pytest.raises(ProtocolError, match="without new markers"):
        asyncio.run(drain(ops))
    assert ops.calls == 2  # the second page repeated the markers: stop, loudly
