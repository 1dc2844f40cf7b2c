"""Where credentials and settings come from: explicit > env > ~/.aws profiles (temp HOME)."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3z_core.credentials import Credentials, load_profile, resolve_settings
from s3z_core.errors import ConfigError, CredentialsError

CREDENTIALS_FILE = """\
[default]
aws_access_key_id = DEFAULTKEY
aws_secret_access_key = default-secret-value

[work]
aws_access_key_id = WORKKEY
aws_secret_access_key = work-secret-value
aws_session_token = work-session-token

[half]
aws_access_key_id = ONLYKEY
"""

CONFIG_FILE = """\
[default]
region = eu-west-1

[profile work]
region = ap-south-1
endpoint_url = http://127.0.0.1:9000
s3 =
    addressing_style = virtual
    signature_version = s3v4

[profile flat]
region = us-west-2
addressing_style = path

[profile nested-endpoint]
s3 =
  endpoint_url = http://10.0.0.1:8333
  addressing_style = auto
aws_access_key_id = CONFKEY
aws_secret_access_key = conf-secret-value

[profile bad-style]
s3 =
  addressing_style = sideways
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(CREDENTIALS_FILE)
    (aws / "config").write_text(CONFIG_FILE)
    return tmp_path


def test_default_profile_is_used_when_nothing_else_is_set(home: Path) -> None:
    s = resolve_settings(env={"HOME": str(home)})
    assert s.credentials == Credentials("DEFAULTKEY", "default-secret-value")
    assert s.region == "eu-west-1"
    assert s.source == "profile:default"
    assert s.endpoint_url is None


def test_aws_profile_selects_profile_with_nested_s3_block(home: Path) -> None:
    s = resolve_settings(env={"HOME": str(home), "AWS_PROFILE": "work"})
    assert s.credentials is not None
    assert s.credentials.access_key == "WORKKEY"
    assert s.credentials.secret_key == "work-secret-value"
    assert s.credentials.session_token == "work-session-token"
    assert s.region == "ap-south-1"
    assert s.endpoint_url == "http://127.0.0.1:9000"
    assert s.addressing_style == "virtual"
    assert s.profile == "work"
    assert s.source == "profile:work"


def test_flat_addressing_style_and_region(home: Path) -> None:
    creds, region, endpoint, style = load_profile("flat", {"HOME": str(home)})
    assert creds is None  # config-only profile: no keys
    assert region == "us-west-2"
    assert endpoint is None
    assert style == "path"


def test_endpoint_and_keys_inside_config_profile(home: Path) -> None:
    creds, region, endpoint, style = load_profile("nested-endpoint", {"HOME": str(home)})
    assert creds == Credentials("CONFKEY", "conf-secret-value")
    assert region is None
    assert endpoint == "http://10.0.0.1:8333"
    assert style == "auto"


def test_environment_keys_beat_the_default_profile(home: Path) -> None:
    env = {
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "ENVKEY",
        "AWS_SECRET_ACCESS_KEY": "env-secret",
        "AWS_SESSION_TOKEN": "env-token",
        "AWS_REGION": "sa-east-1",
        "AWS_DEFAULT_REGION": "ignored-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1234",
    }
    s = resolve_settings(env=env)
    assert s.credentials == Credentials("ENVKEY", "env-secret", "env-token")
    assert s.source == "environment"
    assert s.region == "sa-east-1"
    assert s.endpoint_url == "http://127.0.0.1:1234"


def test_default_region_env_and_s3_specific_endpoint(home: Path) -> None:
    env = {
        "HOME": str(home),
        "AWS_DEFAULT_REGION": "ca-central-1",
        "AWS_ENDPOINT_URL": "http://generic:1",
        "AWS_ENDPOINT_URL_S3": "http://s3specific:2",
    }
    s = resolve_settings(env=env)
    assert s.region == "ca-central-1"
    assert s.endpoint_url == "http://s3specific:2"


def test_explicit_keys_beat_environment_and_profile(home: Path) -> None:
    env = {
        "HOME": str(home),
        "AWS_PROFILE": "work",
        "AWS_ACCESS_KEY_ID": "ENVKEY",
        "AWS_SECRET_ACCESS_KEY": "env-secret",
    }
    s = resolve_settings(
        access_key="CLIKEY",
        secret_key="cli-secret",
        session_token="cli-token",
        region="us-east-2",
        endpoint_url="http://127.0.0.1:5555",
        env=env,
    )
    assert s.credentials == Credentials("CLIKEY", "cli-secret", "cli-token")
    assert s.source == "explicit"
    assert s.region == "us-east-2"
    assert s.endpoint_url == "http://127.0.0.1:5555"
    # The profile still contributes what the explicit arguments did not say.
    assert s.addressing_style == "virtual"


def test_explicit_profile_beats_environment_keys(home: Path) -> None:
    env = {
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "ENVKEY",
        "AWS_SECRET_ACCESS_KEY": "env-secret",
    }
    s = resolve_settings(profile="work", env=env)
    assert s.credentials is not None
    assert s.credentials.access_key == "WORKKEY"
    assert s.source == "profile:work"


def test_shared_file_locations_can_be_overridden(tmp_path: Path) -> None:
    creds_file = tmp_path / "c.ini"
    conf_file = tmp_path / "f.ini"
    creds_file.write_text("[other]\naws_access_key_id = OK\naws_secret_access_key = os\n")
    conf_file.write_text("[profile other]\nregion = me-south-1\n")
    env = {
        "HOME": str(tmp_path / "nowhere"),
        "AWS_SHARED_CREDENTIALS_FILE": str(creds_file),
        "AWS_CONFIG_FILE": str(conf_file),
        "AWS_PROFILE": "other",
    }
    s = resolve_settings(env=env)
    assert s.credentials == Credentials("OK", "os")
    assert s.region == "me-south-1"


def test_no_files_and_no_env_means_no_credentials(tmp_path: Path) -> None:
    s = resolve_settings(env={"HOME": str(tmp_path)})
    assert s.credentials is None
    assert s.source == "none"
    assert s.region is None


def test_missing_named_profile_is_a_config_error(home: Path) -> None:
    with pytest.raises(ConfigError, match="nope"):
        resolve_settings(env={"HOME": str(home), "AWS_PROFILE": "nope"})


def test_half_a_key_pair_is_an_error(home: Path) -> None:
    with pytest.raises(CredentialsError, match="only one"):
        load_profile("half", {"HOME": str(home)})
    with pytest.raises(CredentialsError):
        resolve_settings(access_key="A", env={"HOME": str(home)})
    with pytest.raises(CredentialsError):
        Credentials("A", "")


def test_bad_addressing_style_is_named(home: Path) -> None:
    with pytest.raises(ConfigError, match="sideways"):
        load_profile("bad-style", {"HOME": str(home)})


def test_unparseable_file_error_does_not_echo_its_contents(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "aws_secret_access_key = leaked-secret-xyz\n[default]\naws_access_key_id = K\n"
    )
    with pytest.raises(ConfigError) as info:
        load_profile("default", {"HOME": str(tmp_path)})
    assert "leaked-secret-xyz" not in str(info.value)
    assert "credentials" in str(info.value)
