"""Connection details users expect: proxies, CA bundles, and the S3 endpoint switches."""

from __future__ import annotations

import contextlib
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from network_helpers import ForwardProxy, TlsFront, make_ca
from servers import MotoS3Server, boto3_client

from s3z_core.auth import resolve_connection
from s3z_core.config import ClientConfig, ProxySettings
from s3z_core.engine import Engine
from s3z_core.errors import ConfigError, TLSVerificationError
from s3z_core.transport.client import S3Client
from s3z_core.transport.connection import proxy_for

KEYS = {"AWS_ACCESS_KEY_ID": "AKIACONN", "AWS_SECRET_ACCESS_KEY": "s"}


@pytest.mark.asyncio
async def test_http_proxy_and_no_proxy(moto_s3: MotoS3Server, env: dict[str, str]) -> None:
    boto3_client(moto_s3).create_bucket(Bucket="via-proxy")
    async with ForwardProxy() as proxy:
        env |= KEYS | {"AWS_ENDPOINT_URL_S3": moto_s3.endpoint_url, "HTTP_PROXY": proxy.url}
        async with await Engine.connect(env=env) as engine:
            await engine.put_bytes("via-proxy", "k", b"proxied")
            assert await engine.get_bytes("via-proxy", "k") == b"proxied"
        assert any(
            line.startswith(f"PUT {moto_s3.endpoint_url}/via-proxy/k") for line in proxy.lines
        )
        seen = len(proxy.lines)
        env["NO_PROXY"] = "localhost,127.0.0.1"
        async with await Engine.connect(env=env) as engine:
            assert await engine.get_bytes("via-proxy", "k") == b"proxied"
        assert len(proxy.lines) == seen  # bypassed


@pytest.mark.asyncio
async def test_ca_bundle_through_an_https_proxy(
    moto_s3: MotoS3Server, env: dict[str, str], tmp_path: Path, write_aws: object
) -> None:
    boto3_client(moto_s3).create_bucket(Bucket="tls")
    ca, cert, key = make_ca(tmp_path)
    with TlsFront(moto_s3.endpoint_url, cert, key) as front:
        env |= KEYS | {"AWS_ENDPOINT_URL_S3": front.url}
        async with await Engine.connect(env=env) as engine:  # our CA is not trusted yet
            with pytest.raises(TLSVerificationError):
                await engine.list_buckets()
        (tmp_path / ".aws").mkdir(exist_ok=True)
        (Path(env["HOME"]) / ".aws" / "config").write_text(f"[default]\nca_bundle = {ca}\n")
        async with ForwardProxy() as proxy:
            env["HTTPS_PROXY"] = proxy.url
            async with await Engine.connect(env=env) as engine:
                assert "tls" in {b.name for b in await engine.list_buckets()}
            assert proxy.lines[0] == f"CONNECT 127.0.0.1:{front.port} HTTP/1.1"
        env["AWS_CA_BUNDLE"] = str(tmp_path / "missing.pem")  # the variable beats the profile
        with pytest.raises(ConfigError, match=r"missing\.pem"):
            await Engine.connect(env=env)


def test_proxy_choice_and_secret_free_repr() -> None:
    proxies = ProxySettings(
        https="http://user:pw@proxy:3128", http=None, no_proxy=".corp,10.0.0.0/8"
    )
    assert proxy_for("https://s3.amazonaws.com/b", proxies) == "http://user:pw@proxy:3128"
    assert proxy_for("https://x.corp/b", proxies) is None
    assert proxy_for("https://10.1.2.3/b", proxies) is None
    assert proxy_for("http://s3.amazonaws.com/b", proxies) is None
    assert "pw" not in repr(proxies)


@pytest.mark.parametrize(
    ("s3_config", "region"),
    [
        ({}, "us-east-1"),
        ({}, "eu-west-1"),
        ({"use_dualstack_endpoint": True}, "us-east-1"),
        ({"use_accelerate_endpoint": True}, "eu-west-1"),
        ({"use_accelerate_endpoint": True, "use_dualstack_endpoint": True}, "eu-west-1"),
        ({"us_east_1_regional_endpoint": "regional"}, "us-east-1"),
    ],
)
def test_aws_hosts_match_botocore(
    s3_config: dict[str, object], region: str, env: dict[str, str], write_aws: object
) -> None:
    lines = "".join(f"  {k} = {str(v).lower()}\n" for k, v in s3_config.items())
    (Path(env["HOME"]) / ".aws" / "config").write_text(
        f"[default]\nregion = {region}\ns3 =\n{lines}"
    )
    conn = resolve_connection(env=env | KEYS)
    client = S3Client(conn.config, None)
    ours = []
    for operation, bucket in (("ListObjectsV2", "mybucket"), ("ListBuckets", None)):
        _, host, path = client.addressing.target(bucket, None, region, operation)
        ours.append(f"https://{host}{path}")
    theirs: list[str] = []
    boto = boto3.client(
        "s3",
        region_name=region,
        aws_access_key_id="a",
        aws_secret_access_key="b",
        config=Config(s3=s3_config),
    )

    def capture(request: object, **_: object) -> object:
        from botocore.awsrequest import AWSResponse

        theirs.append(str(request.url).split("?")[0])  # type: ignore[attr-defined]
        return AWSResponse(theirs[-1], 200, {}, None)

    boto.meta.events.register("before-send", capture)
    for call in (lambda: boto.list_objects_v2(Bucket="mybucket"), boto.list_buckets):
        with contextlib.suppress(Exception):
            call()
    assert ours == theirs
    assert isinstance(conn.config, ClientConfig)
