"""Key encoding, endpoint parsing, addressing style, and the signer's own guarantees
(secrets never shown, signing key cached, hop-level headers unsigned)."""

from __future__ import annotations

import dataclasses
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from s3z_core.credentials import Credentials
from s3z_core.errors import ConfigError, InvalidValueError
from s3z_core.protocol import signing
from s3z_core.protocol.endpoints import (
    Endpoint,
    build_url,
    parse_endpoint,
    request_target,
    resolve_style,
)
from s3z_core.protocol.keys import encode_key_path, uri_encode
from s3z_core.protocol.signing import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    SigV4Signer,
    canonical_query,
)

LOCAL = Endpoint("http", "127.0.0.1:8333", is_aws=False)
AWS = Endpoint("https", "s3.us-east-1.amazonaws.com", is_aws=True)
NOW = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
SECRET = "Sup3rSecret/Key+With=Chars"
TOKEN = "SessionTokenValue//abc=="

# ---------------------------------------------------------------- key encoding


@pytest.mark.parametrize(
    ("key", "expected_path"),
    [
        ("a//b", "/bkt/a//b"),
        ("a/./b", "/bkt/a/./b"),
        ("a/../b", "/bkt/a/../b"),
        ("/lead", "/bkt//lead"),
        ("trail/", "/bkt/trail/"),
        ("x:y", "/bkt/x%3Ay"),
        ("sp ace", "/bkt/sp%20ace"),
        ("p+l&=.txt", "/bkt/p%2Bl%26%3D.txt"),
        ("\u00e9", "/bkt/%C3%A9"),  # é, NFC: one code point
        ("e\u0301", "/bkt/e%CC%81"),  # é, NFD: e + combining acute; a different key
        ("~", "/bkt/~"),
        ("%41", "/bkt/%2541"),  # never decoded, never double-decoded: encoded exactly once
        ("-_.~AZaz09", "/bkt/-_.~AZaz09"),
        ("q?h#", "/bkt/q%3Fh%23"),
        ("日本", "/bkt/%E6%97%A5%E6%9C%AC"),
        ("", "/bkt/"),
    ],
)
def test_golden_canonical_paths(key: str, expected_path: str) -> None:
    assert request_target(LOCAL, "bkt", key, "path") == ("127.0.0.1:8333", expected_path)


def test_uri_encode_slash_only_kept_for_paths() -> None:
    assert uri_encode("a/b c", keep_slash=True) == "a/b%20c"
    assert uri_encode("a/b c", keep_slash=False) == "a%2Fb%20c"
    assert encode_key_path("a/b") == "a/b"


def test_encoding_is_uppercase_hex_of_utf8_bytes() -> None:
    assert uri_encode("\x00\x7f\u00ff", keep_slash=False) == "%00%7F%C3%BF"


def test_undecodable_key_is_a_clear_error() -> None:
    # A lone surrogate is what os.fsdecode gives for a non-UTF-8 file name.
    with pytest.raises(ConfigError, match="not valid Unicode"):
        encode_key_path("bad\udcff.txt")


# ---------------------------------------------------------------- targets and URLs


def test_path_style_targets() -> None:
    assert request_target(LOCAL, "bkt", None, "path") == ("127.0.0.1:8333", "/bkt")
    assert request_target(LOCAL, None, None, "path") == ("127.0.0.1:8333", "/")
    assert request_target(LOCAL, "bkt", "k/v", "auto") == ("127.0.0.1:8333", "/bkt/k/v")


def test_virtual_style_targets() -> None:
    assert request_target(AWS, "bkt", "k/v w", "virtual") == (
        "bkt.s3.us-east-1.amazonaws.com",
        "/k/v%20w",
    )
    assert request_target(AWS, "bkt", None, "auto") == ("bkt.s3.us-east-1.amazonaws.com", "/")
    assert request_target(AWS, None, None, "auto") == ("s3.us-east-1.amazonaws.com", "/")


def test_key_without_bucket_is_rejected() -> None:
    with pytest.raises(ConfigError, match="needs a bucket"):
        request_target(LOCAL, None, "k", "path")


@pytest.mark.parametrize("bucket", ["", "a/b"])
def test_bad_bucket_is_rejected(bucket: str) -> None:
    with pytest.raises(ConfigError, match="invalid bucket"):
        request_target(LOCAL, bucket, "k", "path")


def test_build_url_sends_the_canonical_query() -> None:
    url = build_url(LOCAL, "127.0.0.1:8333", "/bkt/a%20b", [("uploadId", "x/y+z"), ("b", "")])
    assert url == "http://127.0.0.1:8333/bkt/a%20b?b=&uploadId=x%2Fy%2Bz"
    assert build_url(AWS, "h.example", "/", []) == "https://h.example/"


def test_canonical_query_rules() -> None:
    assert canonical_query([("uploads", "")]) == "uploads="
    assert canonical_query([]) == ""
    assert canonical_query([("b", "2"), ("a", "/+= &"), ("a", "1")]) == (
        "a=%2F%2B%3D%20%26&a=1&b=2"
    )
    # Sorted by the *encoded* names: "%C3%A9" (é) sorts before "Z", unlike the raw text.
    assert canonical_query([("Z", "1"), ("\u00e9", "2")]) == "%C3%A9=2&Z=1"


# ---------------------------------------------------------------- addressing style


@pytest.mark.parametrize(
    ("endpoint", "bucket", "style", "expected"),
    [
        (AWS, "my-bucket", "auto", "virtual"),
        (AWS, "my.bucket", "auto", "path"),  # dots break the *.s3 wildcard certificate
        (AWS, "My_Bucket", "auto", "path"),
        (AWS, "ab", "auto", "path"),  # too short to be a bucket host label
        (AWS, "a" * 64, "auto", "path"),
        (AWS, "-lead", "auto", "path"),
        (AWS, "my-bucket", "path", "path"),
        (AWS, None, "auto", "path"),
        (AWS, "my.bucket", "virtual", "virtual"),
        (LOCAL, "my-bucket", "auto", "path"),  # custom endpoints: path style, like s5cmd
        (LOCAL, "my-bucket", "virtual", "virtual"),
    ],
)
def test_resolve_style(endpoint: Endpoint, bucket: str | None, style: str, expected: str) -> None:
    assert resolve_style(endpoint, bucket, style) == expected


@pytest.mark.parametrize("bucket", ["My_Bucket", "192.168.5.4", "a..b", "a.-b"])
def test_forced_virtual_needs_a_host_name_bucket(bucket: str) -> None:
    with pytest.raises(ConfigError, match="cannot be a host name"):
        resolve_style(AWS, bucket, "virtual")


def test_unknown_style_is_rejected() -> None:
    with pytest.raises(ConfigError, match="auto, path or virtual"):
        resolve_style(AWS, "b", "dns")


# ---------------------------------------------------------------- endpoint parsing


def test_default_endpoint_is_aws_for_the_region() -> None:
    assert parse_endpoint(None, "eu-west-3") == Endpoint(
        "https", "s3.eu-west-3.amazonaws.com", is_aws=True
    )
    with pytest.raises(ConfigError, match="region is required"):
        parse_endpoint(None, "")


@pytest.mark.parametrize(
    ("url", "scheme", "host", "is_aws"),
    [
        ("http://127.0.0.1:8333", "http", "127.0.0.1:8333", False),
        ("http://127.0.0.1:80", "http", "127.0.0.1", False),  # default port dropped
        ("https://minio.test:443/", "https", "minio.test", False),
        ("http://minio.test:443", "http", "minio.test:443", False),  # not default for http
        ("HTTP://Minio.Test:9000", "http", "minio.test:9000", False),
        ("http://[::1]:9000", "http", "[::1]:9000", False),
        ("https://[::1]", "https", "[::1]", False),
        ("  https://s3.eu-west-1.amazonaws.com  ", "https", "s3.eu-west-1.amazonaws.com", True),
        ("https://s3.amazonaws.com", "https", "s3.amazonaws.com", True),
    ],
)
def test_parse_endpoint(url: str, scheme: str, host: str, is_aws: bool) -> None:
    assert parse_endpoint(url, "us-east-1") == Endpoint(scheme, host, is_aws=is_aws)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("localhost:9000", "must start with http"),
        ("ftp://h.test", "must start with http"),
        ("127.0.0.1:8333", "must start with http"),
        ("", "must start with http"),
        ("http://", "no host"),
        ("http://:9000", "no host"),
        ("http://h.test/prefix", "has a path"),
        ("http://h.test//", "has a path"),
        ("http://h.test?x=1", "query or fragment"),
        ("http://h.test/?", "query or fragment"),
        ("http://h.test#frag", "query or fragment"),
        ("http://h.test:99999", "not a valid URL"),
        ("http://h.test:abc", "not a valid URL"),
        ("http://[::1", "not a valid URL"),
    ],
)
def test_bad_endpoint_urls_raise_config_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_endpoint(url, "us-east-1")


@pytest.mark.parametrize(
    "url",
    [
        f"http://admin:{SECRET}@h.test:9000",  # '/' in the password: urlsplit sees a path
        "http://admin:Sup3rSecret@h.test:9000",
        "https://Sup3rSecret@h.test",
        "Sup3rSecret@h.test",  # no scheme at all
    ],
)
def test_endpoint_with_credentials_is_rejected_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigError, match="must not contain credentials") as info:
        parse_endpoint(url, "us-east-1")
    for text in (str(info.value), repr(info.value)):
        assert "Sup3rSecret" not in text
        assert info.value.__cause__ is None


def test_endpoint_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LOCAL.host = "elsewhere"  # type: ignore[misc]


# ---------------------------------------------------------------- signer guarantees


def _signer(token: str | None = TOKEN) -> SigV4Signer:
    return SigV4Signer(Credentials("AKIDTEST", SECRET, token), "us-east-1")


def _sign(signer: SigV4Signer, **overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "method": "GET",
        "host": "127.0.0.1:8333",
        "path": "/bkt/k",
        "query": [],
        "headers": {},
        "payload_hash": EMPTY_SHA256,
        "now": NOW,
    }
    args.update(overrides)
    return signer.sign(**args)  # type: ignore[arg-type]


def test_secret_never_in_repr_or_str_of_the_signer() -> None:
    signer = _signer()
    for text in (repr(signer), str(signer), f"{signer}", repr(signer.with_region("x"))):
        assert SECRET not in text
        assert TOKEN not in text
        assert "AKIDTEST" in text  # the access key id is not a secret and helps debugging
    assert not hasattr(signer, "__dict__")  # slots: no accidental vars() dump of the key


def _raising_calls(signer: SigV4Signer) -> list[tuple[str, type[Exception], object]]:
    def presign(expires: object, query: object = ()) -> object:
        return signer.presign(
            method="GET",
            host="h",
            path="/k",
            query=query,
            expires_s=expires,
            now=NOW,  # type: ignore[arg-type]
        )

    return [
        ("expires 0", InvalidValueError, lambda: presign(0)),
        ("expires too long", InvalidValueError, lambda: presign(604_801)),
        ("expires negative", InvalidValueError, lambda: presign(-5)),
        ("expires bool", InvalidValueError, lambda: presign(True)),
        ("expires float", InvalidValueError, lambda: presign(1.5)),
        ("presign clash", ConfigError, lambda: presign(60, [("X-Amz-Signature", "x")])),
        ("relative path", ConfigError, lambda: _sign(signer, path="bkt/k")),
        ("bad key", ConfigError, lambda: _sign(signer, query=[("k", "\udcff")])),
        (
            "no region",
            ConfigError,
            lambda: SigV4Signer(Credentials("AKIDTEST", SECRET, TOKEN), ""),
        ),
    ]


@pytest.mark.parametrize("index", range(9))
def test_secret_never_in_any_error(index: int) -> None:
    signer = _signer()
    name, error_type, call = _raising_calls(signer)[index]
    with pytest.raises(error_type) as info:
        call()  # type: ignore[operator]
    for text in (str(info.value), repr(info.value), repr(info.value.args)):
        assert SECRET not in text, name
        assert TOKEN not in text, name


def test_presign_expiry_bounds_are_inclusive() -> None:
    signer = _signer(None)
    for expires in (1, 604_800):
        params = signer.presign(
            method="GET", host="h", path="/k", query=[], expires_s=expires, now=NOW
        )
        assert ("X-Amz-Expires", str(expires)) in params
        assert params[-1][0] == "X-Amz-Signature"
        assert all(SECRET not in value for _, value in params)
        assert "X-Amz-Security-Token" not in dict(params)


def test_sign_output_headers() -> None:
    given = {"Content-Type": "text/plain", "x-amz-date": "19990101T000000Z", "Host": "wrong"}
    signed = _sign(_signer(), headers=given)
    assert signed["X-Amz-Date"] == "20240229T235959Z"
    assert signed["Host"] == "127.0.0.1:8333"
    assert signed["X-Amz-Content-SHA256"] == EMPTY_SHA256
    assert signed["X-Amz-Security-Token"] == TOKEN
    assert signed["Content-Type"] == "text/plain"
    # The caller's own x-amz-date / Host are replaced, never sent twice.
    assert {k.lower() for k in signed} == {
        "content-type",
        "x-amz-date",
        "host",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "authorization",
    }
    assert (
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
        in (signed["Authorization"])
    )
    assert all(SECRET not in v for v in signed.values())
    assert given == {
        "Content-Type": "text/plain",
        "x-amz-date": "19990101T000000Z",
        "Host": "wrong",
    }


def test_hop_level_headers_are_sent_but_not_signed() -> None:
    signer = _signer(None)
    plain = _sign(signer, payload_hash=UNSIGNED_PAYLOAD)
    hop = _sign(
        signer,
        payload_hash=UNSIGNED_PAYLOAD,
        headers={"Content-Length": "5", "User-Agent": "s3z/0.1", "Expect": "100-continue"},
    )
    assert hop["Content-Length"] == "5"
    assert hop["Authorization"] == plain["Authorization"]  # same signature: not signed


def test_signed_header_values_are_trimmed_and_collapsed() -> None:
    signer = _signer(None)
    messy = _sign(signer, headers={"X-Amz-Meta-A": "  one   two\tthree  "})
    tidy = _sign(signer, headers={"x-amz-meta-a": "one two three"})
    assert messy["Authorization"] == tidy["Authorization"]
    assert messy["X-Amz-Meta-A"] == "  one   two\tthree  "  # sent as given


def test_time_is_converted_to_utc_and_naive_means_utc() -> None:
    signer = _signer(None)
    aware_utc = _sign(signer)
    naive = _sign(signer, now=NOW.replace(tzinfo=None))
    paris = _sign(signer, now=NOW.astimezone(timezone(timedelta(hours=1))))
    with_micros = _sign(signer, now=NOW.replace(microsecond=999_999))  # isoformat adds .ffffff
    assert aware_utc == naive == paris == with_micros
    assert paris["X-Amz-Date"] == "20240229T235959Z"


def test_method_case_does_not_matter() -> None:
    signer = _signer(None)
    assert _sign(signer, method="get") == _sign(signer, method="GET")


def test_region_switch_changes_the_scope() -> None:
    signer = _signer(None)
    east = _sign(signer)
    moved = signer.with_region("eu-central-1")
    assert moved.region == "eu-central-1"
    assert signer.region == "us-east-1"
    assert "/20240229/eu-central-1/s3/aws4_request" in _sign(moved)["Authorization"]
    signer.region = "eu-central-1"  # the settable form gives the same signature
    assert _sign(signer)["Authorization"] == _sign(moved)["Authorization"]
    assert _sign(signer)["Authorization"] != east["Authorization"]


def test_signing_key_is_derived_once_per_date_and_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real_digest = hmac.digest

    def counting_digest(key: bytes, msg: bytes, digest: str) -> bytes:
        calls.append(1)
        return real_digest(key, msg, digest)

    monkeypatch.setattr(signing.hmac, "digest", counting_digest)
    signer = _signer(None)

    _sign(signer)
    assert len(calls) == 5  # 4 to derive the key + 1 to sign
    _sign(signer, path="/bkt/other")
    _sign(signer, now=NOW.replace(hour=1))  # same day
    assert len(calls) == 7  # cached: one HMAC per signature
    _sign(signer, now=NOW + timedelta(seconds=1))  # next day (2024-03-01)
    assert len(calls) == 12
    signer.region = "eu-west-1"
    _sign(signer)
    assert len(calls) == 17
