"""Requests carry the keys of the provider that supplied them (recorded by ``FaultProxy``).

For each provider, s3z lists and writes through a recording proxy in front of moto's S3:
every request's ``Authorization`` names that provider's access key id, and temporary
credentials add their ``x-amz-security-token``. ``whoami`` answers from moto's STS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from credential_servers import ContainerServer, MetadataServer, SsoPortal, StsReplay, iso
from fault_proxy import FaultProxy
from servers import MotoS3Server, boto3_client
from test_chain_oracle import ROLE, process_script, sso_token

from s3z_core.engine import Engine

pytestmark = pytest.mark.asyncio
Setup = Callable[[dict[str, str], Path, ExitStack, StsReplay], str | None]


def static_env(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    env |= {"AWS_ACCESS_KEY_ID": "AKIASTATICENV", "AWS_SECRET_ACCESS_KEY": "s"}
    return None


def process(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    doc = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESS",
        "SecretAccessKey": "p",
        "SessionToken": "process-token",
        "Expiration": iso(2e9),
    }
    (home / ".aws" / "config").write_text(
        f"[default]\ncredential_process = {process_script(home, doc)}\n"
    )
    return None


def role(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    (home / ".aws" / "config").write_text(
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = rec\n"
        "[profile base]\naws_access_key_id = AKIABASE\naws_secret_access_key = b\n"
    )
    return "r"


def web_identity(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    (home / "token").write_text("jwt")
    env |= {"AWS_WEB_IDENTITY_TOKEN_FILE": str(home / "token"), "AWS_ROLE_ARN": ROLE}
    return None


def sso(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    (home / ".aws" / "config").write_text(
        "[profile s]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n"
        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
    )
    sso_token(home, "corp", "bearer", 3600)
    env["AWS_ENDPOINT_URL_SSO"] = stack.enter_context(SsoPortal("bearer")).url
    return "s"


def container(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    server = stack.enter_context(ContainerServer(auth_token="tok"))
    env |= {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok",
    }
    return None


def imds(env: dict[str, str], home: Path, stack: ExitStack, sts: StsReplay) -> str | None:
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = stack.enter_context(MetadataServer()).url
    del env["AWS_EC2_METADATA_DISABLED"]
    return None


@contextmanager
def recording(moto: MotoS3Server) -> Iterator[FaultProxy]:
    with FaultProxy(moto.endpoint_url) as proxy:
        yield proxy


@pytest.mark.parametrize(
    ("setup", "source", "temporary"),
    [
        (static_env, "env", False),
        (process, "custom-process (profile default)", True),
        (role, "assume-role (profile r)", True),
        (web_identity, "assume-role-with-web-identity (environment)", True),
        (sso, "sso (profile s)", True),
        (container, "container-role", True),
        (imds, "iam-role", True),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
async def test_requests_carry_the_providers_keys(
    moto_s3: MotoS3Server,
    sts: StsReplay,
    env: dict[str, str],
    home: Path,
    setup: Setup,
    source: str,
    temporary: bool,
) -> None:
    bucket = f"rec-{setup.__name__.replace('_', '-')}"
    boto3_client(moto_s3).create_bucket(Bucket=bucket)
    with ExitStack() as stack:
        profile = setup(env, home, stack, sts)
        proxy = stack.enter_context(recording(moto_s3))
        env |= {"AWS_ENDPOINT_URL_S3": proxy.url, "AWS_ENDPOINT_URL_STS": sts.url}
        async with await Engine.connect(env=env, profile=profile) as engine:
            creds = engine._client.addressing.provider.current()  # type: ignore[union-attr]
            assert creds is not None
            await engine.put_bytes(bucket, "k", b"hello")
            assert await engine.get_bytes(bucket, "k") == b"hello"
            who = await engine.whoami()
        assert who.source == source
        assert who.access_key == creds.access_key
        assert who.account == "123456789012"
        recorded = proxy.requests
        assert len(recorded) >= 2
        for request in recorded:
            auth = request.header("Authorization") or ""
            assert f"Credential={creds.access_key}/" in auth
            assert request.header("x-amz-security-token") == creds.session_token
        assert (creds.session_token is not None) == temporary
