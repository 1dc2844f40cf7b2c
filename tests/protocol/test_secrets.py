"""No secret key or session token in any log line, exception text, traceback or repr."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from s3z_protocol_helpers import client_config
from servers import S3Endpoint

from s3z_core.config import RetryPolicy
from s3z_core.credentials import Credentials, resolve_settings
from s3z_core.errors import S3zError
from s3z_core.operations import S3Operations
from s3z_core.protocol.signing import SigV4Signer
from s3z_core.transport.client import S3Client
from s3z_core.transport.messages import RetryNotice

BucketFactory = Callable[[S3Endpoint], str]
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-s3z"


def _texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), *map(str, exc.args), "".join(traceback.format_exception(exc))]


@pytest.mark.asyncio
async def test_no_secret_in_logs_errors_or_reprs(
    seaweed: S3Endpoint,
    bucket: BucketFactory,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp, asyncio
    secret = seaweed.secret_key
    wrong_secret = secret[::-1] + "-wrong"
    name = bucket(seaweed)
    seen: list[str] = []
    notices: list[RetryNotice] = []

    async with FaultProxy(seaweed.endpoint_url) as proxy:
        endpoint = proxy.endpoint(seaweed)
        fast = RetryPolicy(max_attempts=5, base_delay_s=0.01)
        good = S3Client(
            client_config(endpoint, retry=fast),
            Credentials(seaweed.access_key, secret, TOKEN),
        )
        plain = S3Client(
            client_config(endpoint, retry=fast),
            Credentials(seaweed.access_key, secret),
            on_retry=notices.append,
        )
        bad = S3Client(
            client_config(endpoint, retry=fast), Credentials(seaweed.access_key, wrong_secret)
        )
        ops, plain_ops, bad_ops = S3Operations(good), S3Operations(plain), S3Operations(bad)
        try:
            # Succeeding requests, some after retries.
            proxy.slow_down(method="PUT", times=2)
            proxy.clock_skew(offset_s=300.0, method="PUT", nth=3)
            await plain_ops.put_object(name, "ok", b"fine")
            proxy.reset_response(method="GET", after_bytes=2)
            assert await plain_ops.get_object_bytes(name, "ok") == b"fine"
            await plain_ops.head_object(name, "ok")
            # Failing ones: a fatal code, exhausted retries, a real signature mismatch, a
            # missing key, a token the server does not know, a refused connection.
            failures: list[Callable[[], Any]] = []
            proxy.access_denied(method="DELETE")
            failures.append(lambda: plain_ops.delete_object(name, "ok"))
            proxy.internal_error(method="GET", path="/never$", times=None)
            failures.append(lambda: plain_ops.get_object_bytes(name, "never"))
            failures.append(lambda: bad_ops.list_objects_v2(name))
            failures.append(lambda: plain_ops.head_object(name, "missing"))
            failures.append(lambda: ops.put_object(name, "token", b"x"))
            for attempt in failures:
                with pytest.raises(S3zError) as info:
                    await attempt()
                seen += _texts(info.value)
            presigned = plain.presign("GET", name, "ok", 60)
            seen.append(presigned)
        finally:
            for c in (good, plain, bad):
                seen += [repr(c), str(c), repr(S3Operations(c))]
                await c.close()

    refused = S3Client(
        client_config(
            type("E", (), {"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1"})(),
            retry=RetryPolicy(max_attempts=2, base_delay_s=0.01),
        ),
        Credentials(seaweed.access_key, secret, TOKEN),
    )
    with pytest.raises(S3zError) as info:
        await S3Operations(refused).list_buckets()
    await refused.close()
    seen += _texts(info.value)

    creds = Credentials("AKIDEXAMPLE", secret, TOKEN)
    seen += [repr(creds), str(creds), repr(SigV4Signer(creds, "us-east-1"))]
    seen += [str(SigV4Signer(creds, "us-east-1")), repr(notices)]
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[default]\naws_access_key_id = AKID\naws_secret_access_key = {secret}\n"
        f"aws_session_token = {TOKEN}\n"
    )
    seen.append(repr(resolve_settings(env={"HOME": str(tmp_path)})))
    seen.append(
        repr(
            resolve_settings(
                env={
                    "HOME": str(tmp_path),
                    "AWS_ACCESS_KEY_ID": "AKID",
                    "AWS_SECRET_ACCESS_KEY": secret,
                    "AWS_SESSION_TOKEN": TOKEN,
                }
            )
        )
    )

    # The run really did exercise retries and failures (else this test proves nothing).
    assert [n.reason for n in notices[:4]] == [
        "SlowDown",
        "SlowDown",
        "RequestTimeTooSkewed",
        "TransportError",
    ]
    assert [r.status for r in proxy.requests_matching(method="PUT", path="/ok$")] == [
        503,
        503,
        403,
        200,
    ]
    assert len(proxy.requests) >= 12
    assert any(r.status == 503 for r in proxy.requests)
    assert any("SignatureDoesNotMatch" in s for s in seen)
    assert any("AccessDenied" in s for s in seen)
    assert caplog.records, "DEBUG logging captured nothing"
    assert any(r.name.startswith("s3z") for r in caplog.records)

    logged = [caplog.text] + [
        r.getMessage() + (r.exc_text or "") + repr(r.args) for r in caplog.records
    ]
    for text in seen + logged:
        for value in (secret, wrong_secret, TOKEN):
            assert value not in text, f"secret leaked into: {text[:200]!r}"
    # The presigned URL carries a signature, but neither the key nor the token's absence is
    # at risk: presigning without a token leaves no token behind.
    assert "X-Amz-Signature=" in presigned
    assert "X-Amz-Security-Token" not in presigned
