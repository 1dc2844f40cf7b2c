"""The fault proxy itself, exercised with boto3 (an independent client) against real servers."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import os
from email.utils import parsedate_to_datetime

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from fault_proxy import FaultProxy, FaultRule
from servers import boto3_client

MIB = 1024 * 1024


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_passthrough_keeps_host_lengths_and_data(s3_server, bucket):
    name = bucket(s3_server)
    data = os.urandom(5 * MIB + 123)
    with FaultProxy(s3_server.endpoint_url) as proxy:
        client = boto3_client(proxy.endpoint(s3_server))
        client.put_object(Bucket=name, Key="dir/a b+ü.bin", Body=data)
        head = client.head_object(Bucket=name, Key="dir/a b+ü.bin")
        body = client.get_object(Bucket=name, Key="dir/a b+ü.bin")["Body"].read()
        listed = client.list_objects_v2(Bucket=name, Prefix="dir/")["Contents"]
        requests = proxy.requests
        proxy_host = proxy.url.removeprefix("http://")
    assert _sha(body) == _sha(data)
    assert head["ContentLength"] == len(data)
    assert [o["Key"] for o in listed] == ["dir/a b+ü.bin"]
    assert [r.method for r in requests] == ["PUT", "HEAD", "GET", "GET"]
    assert {r.header("host") for r in requests} == {proxy_host}
    put = requests[0]
    assert put.content_length == len(data) == put.body_bytes
    assert not put.chunked
    assert put.path == f"/{name}/dir/a%20b%2B%C3%BC.bin"
    assert all(r.fault is None and r.status == 200 for r in requests)
    assert requests[3].params["prefix"] == "dir%2F"


def test_slow_down_then_success_on_retry(seaweed, bucket):
    name = bucket(seaweed)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        rule = proxy.slow_down(method="PUT", path=r"/obj$")
        boto3_client(proxy.endpoint(seaweed), max_attempts=3).put_object(
            Bucket=name, Key="obj", Body=b"payload"
        )
        attempts = proxy.requests_matching(method="PUT", path=r"/obj$")
    assert rule.fired == 1
    assert [(a.fault, a.status) for a in attempts] == [("error", 503), (None, 200)]
    assert all(a.amz_date for a in attempts)
    body = boto3_client(seaweed).get_object(Bucket=name, Key="obj")["Body"].read()
    assert body == b"payload"


def test_fault_on_one_part_only(seaweed, bucket):
    name = bucket(seaweed)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.internal_error(method="PUT", query="partNumber=3")
        client = boto3_client(proxy.endpoint(seaweed), max_attempts=1)
        upload = client.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
        for number in (1, 2):
            client.upload_part(
                Bucket=name, Key="mp", UploadId=upload, PartNumber=number, Body=b"x" * (5 * MIB)
            )
        with pytest.raises(ClientError) as info:
            client.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=3, Body=b"end")
        client.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=3, Body=b"end")
        parts = proxy.requests_matching(method="PUT", query="uploadId")
    assert info.value.response["Error"]["Code"] == "InternalError"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert [(p.params["partNumber"], p.fault) for p in parts] == [
        ("1", None),
        ("2", None),
        ("3", "error"),
        ("3", None),
    ]


def test_access_denied_and_clock_skew(seaweed, bucket):
    name = bucket(seaweed)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.access_denied(method="GET", nth=1)
        proxy.clock_skew(offset_s=3600, method="GET", nth=2)
        client = boto3_client(proxy.endpoint(seaweed), max_attempts=1)
        with pytest.raises(ClientError) as denied:
            client.list_objects_v2(Bucket=name)
        with pytest.raises(ClientError) as skewed:
            client.list_objects_v2(Bucket=name)
        assert client.list_objects_v2(Bucket=name)["KeyCount"] == 0
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert skewed.value.response["Error"]["Code"] == "RequestTimeTooSkewed"
    headers = skewed.value.response["ResponseMetadata"]["HTTPHeaders"]
    server_date = parsedate_to_datetime(headers["date"])
    sent = proxy.requests[1]
    assert sent.fault == "error"
    assert sent.amz_date is not None
    offset_s = server_date.timestamp() - sent.received_at
    assert 3500 < offset_s < 3700


def test_complete_multipart_error_in_200_is_retried_by_boto3(seaweed, bucket):
    name = bucket(seaweed)
    data = os.urandom(5 * MIB + 1)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        rule = proxy.error_in_200(method="POST", query="uploadId")
        client = boto3_client(proxy.endpoint(seaweed), max_attempts=2)
        upload = client.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
        etags = [
            client.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=n, Body=chunk)[
                "ETag"
            ]
            for n, chunk in ((1, data[: 5 * MIB]), (2, data[5 * MIB :]))
        ]
        client.complete_multipart_upload(
            Bucket=name,
            Key="mp",
            UploadId=upload,
            MultipartUpload={
                "Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]
            },
        )
        completes = proxy.requests_matching(method="POST", query="uploadId")
    assert rule.fired == 1
    assert [(c.fault, c.status) for c in completes] == [("error_200", 200), (None, 200)]
    body = boto3_client(seaweed).get_object(Bucket=name, Key="mp")["Body"].read()
    assert _sha(body) == _sha(data)


def test_reset_response_mid_body(seaweed, bucket):
    name = bucket(seaweed)
    data = os.urandom(MIB)
    boto3_client(seaweed).put_object(Bucket=name, Key="big", Body=data)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.reset_response(method="GET", after_bytes=1000)
        url = boto3_client(proxy.endpoint(seaweed)).generate_presigned_url(
            "get_object", Params={"Bucket": name, "Key": "big"}
        )
        conn = http.client.HTTPConnection(proxy.url.removeprefix("http://"), timeout=30)
        conn.request("GET", url.removeprefix(proxy.url))
        response = conn.getresponse()
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == len(data)
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)) as info:
            response.read()
        conn.close()
        if isinstance(info.value, http.client.IncompleteRead):
            assert info.value.partial == data[: len(info.value.partial)]
            assert len(info.value.partial) <= 1000
        # The next GET is untouched.
        again = boto3_client(proxy.endpoint(seaweed)).get_object(Bucket=name, Key="big")
        assert _sha(again["Body"].read()) == _sha(data)


def test_reset_before_status_loses_the_answer_but_not_the_write(seaweed, bucket):
    name = bucket(seaweed)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.reset_response(method="PUT", after_bytes=0)
        client = boto3_client(proxy.endpoint(seaweed), max_attempts=1)
        with pytest.raises(BotoCoreError):
            client.put_object(Bucket=name, Key="lost-answer", Body=b"stored anyway")
        (put,) = proxy.requests_matching(method="PUT")
    assert put.fault == "reset_response"
    assert put.status is None
    stored = boto3_client(seaweed).get_object(Bucket=name, Key="lost-answer")["Body"].read()
    assert stored == b"stored anyway"


def test_reset_request_mid_upload_reaches_nothing(seaweed, bucket):
    name = bucket(seaweed)
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.reset_request(method="PUT", after_bytes=100 * 1024)
        client = boto3_client(proxy.endpoint(seaweed), max_attempts=1)
        with pytest.raises(BotoCoreError):
            client.put_object(Bucket=name, Key="cut", Body=os.urandom(4 * MIB))
        (put,) = proxy.requests_matching(method="PUT")
    assert put.body_bytes == 100 * 1024
    assert put.content_length == 4 * MIB
    with pytest.raises(ClientError) as info:
        boto3_client(seaweed).head_object(Bucket=name, Key="cut")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delay_still_forwards(rclone_s3, bucket):
    name = bucket(rclone_s3)
    with FaultProxy(rclone_s3.endpoint_url) as proxy:
        proxy.delay(0.2, method="PUT", times=None)
        client = boto3_client(proxy.endpoint(rclone_s3))
        client.put_object(Bucket=name, Key="a", Body=b"1")
        client.put_object(Bucket=name, Key="b", Body=b"2")
        puts = proxy.requests_matching(method="PUT")
    assert [(p.fault, p.status) for p in puts] == [("delay", 200), ("delay", 200)]
    listed = boto3_client(rclone_s3).list_objects_v2(Bucket=name)["Contents"]
    assert [o["Key"] for o in listed] == ["a", "b"]


@pytest.mark.asyncio
async def test_async_mode_with_nth_occurrence(seaweed, bucket):
    name = bucket(seaweed)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.slow_down(method="GET", path=rf"^/{name}/k$", nth=2)
        client = boto3_client(proxy.endpoint(seaweed), max_attempts=2)
        await asyncio.to_thread(client.put_object, Bucket=name, Key="k", Body=b"v")
        for _ in range(2):
            response = await asyncio.to_thread(client.get_object, Bucket=name, Key="k")
            assert response["Body"].read() == b"v"
        gets = proxy.requests_matching(method="GET", path=rf"^/{name}/k$")
    assert [(g.fault, g.status) for g in gets] == [(None, 200), ("error", 503), (None, 200)]


def test_rule_matching_is_by_parameter_not_substring():
    rule = FaultRule("error", method="put", query="partNumber=3")
    assert rule.matches("PUT", "/b/k", "partNumber=3&uploadId=x")
    assert not rule.matches("PUT", "/b/k", "partNumber=30&uploadId=x")
    assert not rule.matches("GET", "/b/k", "partNumber=3")
    assert FaultRule("error", query="uploads").matches("POST", "/b/k", "uploads")
    assert not FaultRule("error", query="uploads").matches("POST", "/b/k", "uploadId=1")
    window = FaultRule("error", nth=2, times=2)
    assert [window.take() for _ in range(5)] == [False, True, True, False, False]
