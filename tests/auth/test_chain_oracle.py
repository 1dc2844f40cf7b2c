"""Each provider of the chain against botocore: same environment and files, same answer.

STS is moto's server (behind a replaying proxy, so the same AssumeRole gets the same keys
for both clients); IMDS, the container endpoint and the SSO portal are the small servers of
``credential_servers.py``. Each test asserts the access key id, session token and expiry
match, and that the provider s3z names is the one expected.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from credential_servers import ContainerServer, MetadataServer, SsoPortal, StsReplay, iso
from oracle import botocore_view, s3z_view

pytestmark = pytest.mark.asyncio

ROLE = "arn:aws:iam::123456789012:role/s3z-test"
WriteAws = Callable[[str, str], Path]


def process_script(tmp_path: Path, doc: dict[str, object], name: str = "creds.py") -> str:
    script = tmp_path / name
    script.write_text(f"import json, sys\nprint(json.dumps({doc!r}))\n")
    return f"{sys.executable} {script}"


async def same(env: dict[str, str], profile: str | None = None, **kw: str) -> tuple[object, str]:
    ours, source = await s3z_view(env, profile, **kw)
    theirs = botocore_view(env, profile, **kw)
    assert ours == theirs
    return ours, source


async def test_environment_keys(env: dict[str, str]) -> None:
    env |= {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    view, source = await same(env)
    assert view == ("AKIAENV", "t", None)
    assert source == "env"


async def test_credentials_file_beats_process_which_beats_config_keys(
    env: dict[str, str], write_aws: WriteAws, tmp_path: Path
) -> None:
    command = process_script(
        tmp_path, {"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "p"}
    )
    write_aws(
        "config",
        f"[profile a]\ncredential_process = {command}\naws_access_key_id = AKIACONF\n"
        f"aws_secret_access_key = c\n[profile b]\ncredential_process = {command}\n"
        "[profile c]\naws_access_key_id = AKIACONF\naws_secret_access_key = c\n",
    )
    write_aws("credentials", "[a]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n")
    assert (await same(env, "a"))[1] == "shared-credentials-file (profile a)"
    assert (await same(env, "b"))[1] == "custom-process (profile b)"
    assert (await same(env, "c"))[1] == "config-file (profile c)"


async def test_credential_process_with_expiration(
    env: dict[str, str], write_aws: WriteAws, tmp_path: Path
) -> None:
    doc = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESS",
        "SecretAccessKey": "process-secret",
        "SessionToken": "process-token",
        "Expiration": iso(time.time() + 3 * 3600),
    }
    write_aws("config", f"[default]\ncredential_process = {process_script(tmp_path, doc)}\n")
    view, source = await same(env)
    assert view[0] == "ASIAPROCESS"
    assert view[2] is not None
    assert source == "custom-process (profile default)"


async def test_web_identity_from_the_environment(
    env: dict[str, str], sts: StsReplay, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("eyJ.web-identity.token\n")
    env |= {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE,
        "AWS_ROLE_SESSION_NAME": "irsa-pod",
        "AWS_ENDPOINT_URL_STS": sts.url,
    }
    view, source = await same(env)
    assert view[1]
    assert source == "assume-role-with-web-identity (environment)"
    form = sts.forms[-1]
    assert form["Action"] == "AssumeRoleWithWebIdentity"
    assert form["WebIdentityToken"] == "eyJ.web-identity.token\n"  # sent as is, like botocore
    assert all("Authorization" not in headers for _, _, headers in sts.requests)  # unsigned


async def test_role_from_source_profile_with_every_option(
    env: dict[str, str], write_aws: WriteAws, sts: StsReplay
) -> None:
    # The STS endpoint comes from the profile's services section here (botocore reads it too).
    write_aws(
        "config",
        f"[profile dev]\nrole_arn = {ROLE}\nsource_profile = base\nexternal_id = ext-42\n"
        "role_session_name = s3z-oracle\nduration_seconds = 1800\nservices = local\n"
        f"[profile base]\nservices = local\n[services local]\nsts =\n  endpoint_url = {sts.url}\n",
    )
    write_aws("credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = b\n")
    view, source = await same(env, "dev")
    assert source == "assume-role (profile dev)"
    assert view[0] != "AKIABASE"
    forms = [f for f in sts.forms if f["Action"] == "AssumeRole"]
    assert len(forms) == 2  # one from each client, with the same parameters
    assert forms[0] == forms[1]
    assert forms[0]["ExternalId"] == "ext-42"
    assert forms[0]["DurationSeconds"] == "1800"
    assert "AKIABASE/" in sts.requests[0][2]["Authorization"]  # signed with the source keys


async def test_role_chain_and_credential_source_environment(
    env: dict[str, str], write_aws: WriteAws, sts: StsReplay
) -> None:
    write_aws(
        "config",
        f"[profile outer]\nrole_arn = {ROLE}-outer\nsource_profile = inner\n"
        "role_session_name = outer-session\n"
        f"[profile inner]\nrole_arn = {ROLE}-inner\ncredential_source = Environment\n"
        "role_session_name = inner-session\n",
    )
    env |= {
        "AWS_ENDPOINT_URL_STS": sts.url,
        "AWS_ACCESS_KEY_ID": "AKIAENVSRC",
        "AWS_SECRET_ACCESS_KEY": "e",
    }
    _view, source = await same(env, "outer")
    assert source == "assume-role (profile outer)"
    roles = [f["RoleArn"] for f in sts.forms]
    assert roles[:2] == [f"{ROLE}-inner", f"{ROLE}-outer"]


async def test_role_with_mfa_code(env: dict[str, str], write_aws: WriteAws, sts: StsReplay) -> None:
    serial = "arn:aws:iam::123456789012:mfa/alice"
    write_aws(
        "config",
        f"[profile mfa]\nrole_arn = {ROLE}\nsource_profile = base\nmfa_serial = {serial}\n"
        "role_session_name = mfa-session\n",
    )
    write_aws("credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = b\n")
    env["AWS_ENDPOINT_URL_STS"] = sts.url
    await same(env, "mfa", mfa_code="123456")
    assert {(f["SerialNumber"], f["TokenCode"]) for f in sts.forms} == {(serial, "123456")}


async def test_role_from_instance_metadata(
    env: dict[str, str], write_aws: WriteAws, sts: StsReplay
) -> None:
    write_aws(
        "config",
        f"[profile ec2role]\nrole_arn = {ROLE}\ncredential_source = Ec2InstanceMetadata\n"
        "role_session_name = ec2-session\n",
    )
    with MetadataServer() as imds:
        env |= {"AWS_ENDPOINT_URL_STS": sts.url, "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
        del env["AWS_EC2_METADATA_DISABLED"]
        _, source = await same(env, "ec2role")
        assert source == "assume-role (profile ec2role)"
        signed = [h["Authorization"] for _, _, h in sts.requests]
        assert all("ASIAIMDS00000001/" in a for a in signed)


def sso_token(home: Path, key: str, token: str, expires_in_s: float) -> None:
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(key.encode()).hexdigest() + ".json"
    (cache / name).write_text(
        json.dumps(
            {
                "startUrl": "https://example.awsapps.com/start",
                "region": "eu-west-1",
                "accessToken": token,
                "expiresAt": iso(time.time() + expires_in_s),
            }
        )
    )


@pytest.mark.parametrize("legacy", [False, True], ids=["sso-session", "legacy"])
async def test_sso_profile(
    env: dict[str, str], write_aws: WriteAws, home: Path, legacy: bool
) -> None:
    start = "https://example.awsapps.com/start"
    if legacy:
        config = (
            "[profile sso]\nsso_start_url = " + start + "\nsso_region = eu-west-1\n"
            "sso_account_id = 123456789012\nsso_role_name = Reader\n"
        )
        sso_token(home, start, "bearer-legacy", 8 * 3600)
    else:
        config = (
            "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n"
            "sso_role_name = Reader\n[sso-session corp]\nsso_start_url = " + start + "\n"
            "sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n"
        )
        sso_token(home, "corp", "bearer-session", 8 * 3600)
    write_aws("config", config)
    with SsoPortal("bearer-legacy" if legacy else "bearer-session") as portal:
        env["AWS_ENDPOINT_URL_SSO"] = portal.url
        view, source = await same(env, "sso")
        assert source == "sso (profile sso)"
        assert view[0] == "ASIASSO000000001"
        assert all("role_name=Reader" in path for _, path, _ in portal.requests)


async def test_container_full_uri_with_token_and_token_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    with ContainerServer(auth_token="Bearer pod-identity") as server:
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server.url + "/creds"
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer pod-identity"
        view, source = await same(env)
        assert source == "container-role"
        assert view[0] == "ASIACONT00000001"
        token_file = tmp_path / "token"
        token_file.write_text("Bearer pod-identity")
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong"  # the file wins, as in botocore
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(token_file)
        await same(env)


@pytest.mark.parametrize("v2_only", [True, False], ids=["imdsv2", "imdsv1-fallback"])
async def test_instance_metadata_last_in_the_chain(env: dict[str, str], v2_only: bool) -> None:
    with MetadataServer(v2_only=v2_only) as imds:
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url
        del env["AWS_EC2_METADATA_DISABLED"]
        view, source = await same(env)
        assert source == "iam-role"
        assert view[0] == "ASIAIMDS00000001"
        tokens = [h.get("x-aws-ec2-metadata-token") for m, _, h in imds.requests if m == "GET"]
        assert all(tokens)  # every read carried the IMDSv2 session token
