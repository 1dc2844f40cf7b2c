"""Our signer against AWS's published SigV4 vectors (generic suite subset + S3 doc examples).

The expected values come from AWS (see tests/data/sigv4/README.md), never from our code.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from s3z_core.credentials import Credentials
from s3z_core.protocol.endpoints import build_url, parse_endpoint, request_target
from s3z_core.protocol.keys import encode_key_path
from s3z_core.protocol.signing import EMPTY_SHA256, SigV4Signer

DATA = Path(__file__).parent / "data" / "sigv4"
SUITE = DATA / "aws-sig-v4-test-suite"
SUITE_ACCESS_KEY = "AKIDEXAMPLE"
SUITE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_TOKEN_FILE_HEADER = "x-amz-security-token"


def _suite_cases() -> list[str]:
    return sorted(p.name for p in SUITE.iterdir() if p.is_dir())


def _parse_req(text: str) -> tuple[str, str, list[tuple[str, str]], dict[str, str], str]:
    """Split a suite ``.req`` file into method, raw path, raw query pairs, headers, body."""
    head, _, body = text.partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, rest = request_line.split(" ", 1)
    target, _version = rest.rsplit(" ", 1)  # the target may hold spaces (get-space)
    raw_path, _, raw_query = target.partition("?")
    query = [(n, v) for n, _, v in (p.partition("=") for p in raw_query.split("&") if p)]
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        assert name.lower() not in {h.lower() for h in headers}, "duplicate header in a kept vector"
        headers[name] = value
    return method, raw_path, query, headers, body


def _parse_authz(value: str) -> dict[str, str]:
    """``AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`` → fields (any separator)."""
    algorithm, _, rest = value.partition(" ")
    fields = {"Algorithm": algorithm}
    for part in rest.replace(", ", ",").split(","):
        name, _, field_value = part.partition("=")
        fields[name] = field_value
    return fields


def test_suite_subset_is_present() -> None:
    # Guards against the parametrised test silently collecting nothing.
    assert len(_suite_cases()) == 20


@pytest.mark.parametrize("case", _suite_cases())
def test_aws_sigv4_suite(case: str) -> None:
    method, raw_path, query, headers, body = _parse_req(
        (SUITE / case / f"{case}.req").read_text(encoding="utf-8")
    )
    expected = _parse_authz((SUITE / case / f"{case}.authz").read_text(encoding="utf-8").strip())

    lowered = {k.lower(): v for k, v in headers.items()}
    host = lowered["host"]
    now = datetime.strptime(lowered["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    token = lowered.get(SUITE_TOKEN_FILE_HEADER)
    # The signer adds Host, X-Amz-Date and the token itself; give it everything else.
    extra = {
        k: v
        for k, v in headers.items()
        if k.lower() not in {"host", "x-amz-date", SUITE_TOKEN_FILE_HEADER}
    }
    signer = SigV4Signer(
        Credentials(SUITE_ACCESS_KEY, SUITE_SECRET_KEY, token), "us-east-1", service="service"
    )
    # The .req paths are raw text; encoding them once is the canonical URI (no `.`/`..`/`//`
    # in the kept vectors, so normalisation would not change anything).
    signed = signer.sign(
        method=method,
        host=host,
        path=encode_key_path(raw_path),
        query=query,
        headers=extra,
        payload_hash=hashlib.sha256(body.encode()).hexdigest(),
        now=now,
    )

    got = _parse_authz(signed["Authorization"])
    assert got == expected
    assert signed["X-Amz-Date"] == lowered["x-amz-date"]
    # Not an S3 request: no x-amz-content-sha256 header, as in the suite.
    assert "X-Amz-Content-SHA256" not in signed
    if token:
        assert signed["X-Amz-Security-Token"] == token


def _s3_examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "s3_examples.json").read_text(encoding="utf-8"))
    return data


S3 = _s3_examples()
S3_NOW = datetime.strptime(S3["time"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _s3_signer() -> SigV4Signer:
    return SigV4Signer(Credentials(S3["access_key"], S3["secret_key"]), S3["region"])


@pytest.mark.parametrize("example", S3["header_examples"], ids=lambda e: e["name"])
def test_s3_documented_header_signatures(example: dict[str, Any]) -> None:
    endpoint = parse_endpoint(S3["endpoint_url"], S3["region"])
    host, path = request_target(endpoint, S3["bucket"], example["key"], "auto")
    assert (host, path) == (example["expected_host"], example["expected_path"])

    body = example["body"].encode()
    payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    if "expected_payload_hash" in example:
        assert payload_hash == example["expected_payload_hash"]
    query = [(n, v) for n, v in example["query"]]

    signed = _s3_signer().sign(
        method=example["method"],
        host=host,
        path=path,
        query=query,
        headers=example["headers"],
        payload_hash=payload_hash,
        now=S3_NOW,
    )

    assert _parse_authz(signed["Authorization"]) == {
        "Algorithm": "AWS4-HMAC-SHA256",
        "Credential": f"{S3['access_key']}/20130524/us-east-1/s3/aws4_request",
        "SignedHeaders": example["expected_signed_headers"],
        "Signature": example["expected_signature"],
    }
    assert signed["X-Amz-Content-SHA256"] == payload_hash
    assert signed["X-Amz-Date"] == S3["time"]
    assert signed["Host"] == example["expected_host"]
    for name, value in example["headers"].items():
        assert signed[name] == value  # the caller's headers are passed through untouched


def test_s3_documented_presigned_url() -> None:
    example = S3["presign_example"]
    endpoint = parse_endpoint(S3["endpoint_url"], S3["region"])
    host, path = request_target(endpoint, S3["bucket"], example["key"], "auto")

    params = _s3_signer().presign(
        method=example["method"],
        host=host,
        path=path,
        query=[],
        expires_s=example["expires_s"],
        now=S3_NOW,
    )
    url = build_url(endpoint, host, path, params)

    ours, theirs = urlsplit(url), urlsplit(example["expected_url"])
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    # Same parameters, byte for byte once encoded (our URL sends them in canonical order).
    assert sorted(ours.query.split("&")) == sorted(theirs.query.split("&"))
    assert params[-1] == ("X-Amz-Signature", dict(parse_qsl(theirs.query))["X-Amz-Signature"])
