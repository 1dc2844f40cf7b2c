"""The FastAPI example under a real uvicorn on 127.0.0.1 against SeaweedFS: streamed uploads
in bounded memory, byte-identical round trips, engine errors as JSON statuses, no orphaned
multipart upload when a client vanishes mid-body, paged listings, background copies, and
OpenAPI docs that render."""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from servers import boto3_client
from service_proc import RssSampler, ServiceProcess, sha256_object, unfinished_uploads

from examples.fastapi_service.errors import error_body, http_status
from s3z_core import errors as e
from s3z_core.config import MiB

RSS_CEILING_MIB = 80


@pytest.fixture(scope="module")
def service(seaweed, tmp_path_factory) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(seaweed, tmp_path_factory.mktemp("service") / "uvicorn.log").start()
    try:
        yield proc
    finally:
        proc.stop()
    assert proc.proc is not None
    assert proc.proc.returncode is not None  # stopped, not left behind


@pytest.fixture
def client(service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=120) as c:
        yield c


def random_blocks(total: int, block: int, digest: hashlib._Hash, seed: int = 5) -> Iterator[bytes]:
    """Generated on the fly: the client never holds the whole body either."""
    rng = random.Random(seed)
    left = total
    while left:
        data = rng.randbytes(min(block, left))
        digest.update(data)
        left -= len(data)
        yield data


def download_sha256(client: httpx.Client, path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", path) as resp:
        assert resp.status_code == 200, resp.read()
        for chunk in resp.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@pytest.fixture
def fresh_service(seaweed, tmp_path) -> Iterator[ServiceProcess]:
    """A service of its own: its memory is measured from a clean start."""
    proc = ServiceProcess(seaweed, tmp_path / "uvicorn.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.bench
def test_200_mib_upload_and_download_stay_under_80_mib_rss(fresh_service, seaweed, bucket):
    service = fresh_service
    client = httpx.Client(base_url=service.url, timeout=120)
    name = bucket(seaweed)
    size = 200 * MiB
    sent = hashlib.sha256()
    with RssSampler(service.pid) as up:
        resp = client.put(
            f"/buckets/{name}/objects/big.bin",
            content=random_blocks(size, MiB, sent),  # chunked: the service sees no length
        )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["size"] == size
    assert body["parts"] == 40  # the service's 5 MiB parts: streamed, not one buffered PUT
    assert sha256_object(seaweed, name, "big.bin") == sent.hexdigest()
    with RssSampler(service.pid) as down:
        digest, got = download_sha256(client, f"/buckets/{name}/objects/big.bin")
    assert (digest, got) == (sent.hexdigest(), size)
    print(
        f"\nservice peak RSS: upload 200 MiB {up.peak_mib:.1f} MiB ({up.samples} samples), "
        f"download {down.peak_mib:.1f} MiB ({down.samples} samples)"
    )
    assert up.samples > 10
    assert up.peak_mib < RSS_CEILING_MIB
    assert down.peak_mib < RSS_CEILING_MIB
    assert unfinished_uploads(seaweed, name) == []
    client.close()


@pytest.mark.parametrize("size", [0, 1, 5 * MiB, 5 * MiB + 1, 17 * MiB + 3])
def test_round_trip_is_byte_identical(client, seaweed, bucket, size):
    name = bucket(seaweed)
    data = random.Random(size).randbytes(size)
    key = "dir/sub/ü n.bin"
    resp = client.put(  # a known length: Content-Length is declared and enforced
        f"/buckets/{name}/objects/{key}", content=data, headers={"Content-Type": "x/test"}
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] == size
    head = client.head(f"/buckets/{name}/objects/{key}")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size)
    assert head.headers["content-type"] == "x/test"
    want = hashlib.sha256(data).hexdigest()
    assert download_sha256(client, f"/buckets/{name}/objects/{key}") == (want, size)
    assert sha256_object(seaweed, name, key) == want


def test_missing_key_is_a_404_with_a_json_body(client, seaweed, bucket):
    name = bucket(seaweed)
    resp = client.get(f"/buckets/{name}/objects/no/such/key")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["error"] == "NoSuchKeyError"
    assert body["code"] == "NoSuchKey"
    assert f"s3://{name}/no/such/key" in body["message"]
    assert client.head(f"/buckets/{name}/objects/nope").status_code == 404
    assert client.delete(f"/buckets/{name}/objects/nope").json()["error"] == "NoSuchKeyError"
    for path in (
        "/buckets/s3z-no-such-bucket/objects",
        "/buckets/s3z-no-such-bucket/objects.ndjson",
    ):
        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.json()["error"] == "NoSuchBucketError"
    unknown = client.get("/copies/nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "NotFound"


def test_client_disconnect_mid_upload_leaves_no_multipart_upload(service, seaweed, bucket):
    name = bucket(seaweed)
    host, port = service.url.removeprefix("http://").split(":")
    block = os.urandom(256 * 1024)
    frame = b"%x\r\n%s\r\n" % (len(block), block)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"PUT /buckets/{name}/objects/torn HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        while not unfinished_uploads(seaweed, name):  # the upload exists: its abort is tested
            for _ in range(8):
                sock.sendall(frame)
            sent += 8 * len(block)
            assert sent < 100 * MiB, "no multipart upload was ever created"
        for _ in range(16):  # a few MiB more, then the client vanishes mid-part
            sock.sendall(frame)
    deadline = time.monotonic() + 30
    while unfinished_uploads(seaweed, name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert unfinished_uploads(seaweed, name) == [], service.log_tail()
    listed = boto3_client(seaweed).list_objects_v2(Bucket=name).get("Contents", [])
    assert listed == []  # nothing committed under the key either


def test_listing_pages_cover_every_entry_once(client, seaweed, bucket):
    name = bucket(seaweed)
    s3 = boto3_client(seaweed)
    keys = ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "e/"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())

    def walk(**params: object) -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(20):
            query = {**params, "limit": 2} | ({"start_after": cursor} if cursor else {})
            page = client.get(f"/buckets/{name}/objects", params=query).json()
            assert len(page["objects"]) + len(page["common_prefixes"]) <= 2
            seen += [o["key"] for o in page["objects"]] + page["common_prefixes"]
            cursor = page["next_start_after"]
            if not page["is_truncated"]:
                assert cursor is None
                return seen
        raise AssertionError(f"listing never ended: {seen}")

    assert sorted(walk()) == sorted(keys)
    assert sorted(walk(delimiter="/")) == ["a/", "b", "c/", "d", "e/"]
    assert sorted(walk(prefix="c/", delimiter="/")) == ["c/x/", "c/y"]
    streamed = client.get(f"/buckets/{name}/objects.ndjson", params={"prefix": "a/"})
    assert streamed.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["key"] for line in streamed.text.splitlines()] == ["a/1", "a/2"]
    assert client.get(f"/buckets/{name}/objects", params={"limit": 0}).status_code == 422


def test_background_copy_of_a_prefix_reports_its_progress(client, seaweed, bucket):
    src, dst = bucket(seaweed), bucket(seaweed)
    s3 = boto3_client(seaweed)
    blobs = {f"p/{i}/f": os.urandom(1000 * i) for i in range(1, 6)}
    for key, body in blobs.items():
        s3.put_object(Bucket=src, Key=key, Body=body)
    s3.put_object(Bucket=src, Key="q/other", Body=b"not copied")
    request = {"source_bucket": src, "source_prefix": "p/", "destination_bucket": dst}
    started = client.post("/copies", json=request | {"destination_prefix": "copy/"})
    assert started.status_code == 202, started.text
    copy_id = started.json()["id"]
    assert started.headers["location"] == f"/copies/{copy_id}"
    deadline = time.monotonic() + 60
    while (status := client.get(f"/copies/{copy_id}").json())["state"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["state"] == "completed", status
    assert status["files_done"] == status["files_queued"] == 5
    assert status["files_failed"] == 0
    assert status["bytes_done"] == sum(len(b) for b in blobs.values())
    for key, body in blobs.items():
        copied = "copy/" + key.removeprefix("p/")
        assert sha256_object(seaweed, dst, copied) == hashlib.sha256(body).hexdigest()
    missing = client.post("/copies", json=request | {"source_bucket": "s3z-no-such-bucket"})
    assert missing.status_code == 404
    inside = client.post(
        "/copies", json=request | {"destination_bucket": src, "destination_prefix": "p/again/"}
    )
    assert inside.status_code == 400
    assert inside.json()["error"] == "InvalidValueError"


def test_presigned_urls_work_against_the_store(client, seaweed, bucket):
    name = bucket(seaweed)
    put = client.post(f"/buckets/{name}/presign", json={"key": "pre", "method": "PUT"}).json()
    assert httpx.put(put["url"], content=b"presigned body").status_code == 200
    get = client.post(f"/buckets/{name}/presign", json={"key": "pre", "expires_s": 60}).json()
    assert get["method"] == "GET"
    assert httpx.get(get["url"]).content == b"presigned body"
    refused = client.post(f"/buckets/{name}/presign", json={"key": "pre", "expires_s": 0})
    assert refused.status_code == 422
    assert client.delete(f"/buckets/{name}/objects/pre").status_code == 204
    assert client.get(f"/buckets/{name}/objects/pre").status_code == 404


def test_buckets_are_listed_and_created(client, seaweed):
    name = f"svc-{os.urandom(6).hex()}"
    try:
        assert client.put(f"/buckets/{name}").status_code == 201
        assert name in [b["name"] for b in client.get("/buckets").json()]
    finally:
        boto3_client(seaweed).delete_bucket(Bucket=name)


def test_openapi_docs_render(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in docs.text
    assert "/openapi.json" in docs.text
    spec = client.get("/openapi.json").json()
    from openapi_spec_validator import validate

    validate(spec)  # raises on an invalid OpenAPI document
    paths = spec["paths"]
    assert {"get", "put", "head", "delete"} <= set(paths["/buckets/{bucket}/objects/{key}"])
    assert "/copies/{copy_id}" in paths
    upload = paths["/buckets/{bucket}/objects/{key}"]["put"]
    assert "application/octet-stream" in upload["requestBody"]["content"]
    assert "ErrorBody" in spec["components"]["schemas"]


def _service_error(cls: type[e.ServiceError], code: str, status: int) -> e.ServiceError:
    return cls(code=code, status=status, operation="GetObject", bucket="b", key="k")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (_service_error(e.NoSuchKeyError, "NoSuchKey", 404), 404),
        (_service_error(e.NoSuchBucketError, "NoSuchBucket", 404), 404),
        (_service_error(e.AccessDeniedError, "AccessDenied", 403), 403),
        (e.ConfigError("bad endpoint"), 400),
        (e.InvalidValueError("workers must be positive"), 400),
        (e.SourceStreamError("the body ended early"), 400),
        (_service_error(e.RetryableServiceError, "SlowDown", 503), 503),
        (e.TransportError("reset", operation="GetObject"), 502),
        (e.ReadTimeoutError("timed out"), 502),
        (_service_error(e.ServiceError, "BucketNotEmpty", 409), 409),
        (_service_error(e.ServiceError, "NotImplemented", 501), 500),
        (e.CredentialsError("no credentials"), 500),
        (e.ProtocolError("bad XML"), 500),
    ],
)
def test_engine_errors_map_to_statuses(error, status):
    assert http_status(error) == status
    body = error_body(error)
    assert body.error == type(error).__name__
    assert body.code == getattr(error, "code", "")
    assert body.message == str(error)
