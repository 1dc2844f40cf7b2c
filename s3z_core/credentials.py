"""Credentials, the provider seam the transport signs through, and the settings of a profile.

``resolve_settings`` applies the AWS CLI's precedence to everything that is *not* fetched:
explicit arguments > environment > shared files (``AWS_PROFILE`` or ``--profile``), for
static keys, region, endpoint, addressing, CA bundle, proxies and the S3 endpoint switches.
Providers that fetch (STS, SSO, IMDS, containers, ``credential_process``) live above the
transport in ``s3z_core.auth``. The secret key and session token never appear in
``repr``/``str``, logs or error messages: ``Credentials`` redacts them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from typing import Protocol

from s3z_core.aws_files import AwsFiles, nested, read_aws_files
from s3z_core.config import AddressingStyle, ProxySettings
from s3z_core.errors import ConfigError, CredentialsError
from s3z_core.records import record


@record
class Credentials:
    """One set of keys; ``expiration`` (aware UTC) is set for temporary credentials only."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expiration: datetime | None = None

    def __post_init__(self) -> None:
        if not self.access_key or not self.secret_key:
            raise CredentialsError("access key id and secret access key must both be set")
        if self.expiration is not None and self.expiration.tzinfo is None:
            raise CredentialsError("credential expiration must carry a time zone")

    def __repr__(self) -> str:
        token = ", session_token=<redacted>" if self.session_token else ""
        until = f", expiration={self.expiration.isoformat()}" if self.expiration else ""
        return f"Credentials(access_key={self.access_key!r}, secret_key=<redacted>{token}{until})"

    __str__ = __repr__


class CredentialProvider(Protocol):
    """Where the transport gets the credentials it signs each attempt with.

    ``credentials()`` returns the credentials valid now, refreshing them first when they are
    about to expire (without blocking the event loop); ``current()`` is the last value
    without any I/O (presigning is synchronous). ``source`` names the provider for users.
    """

    @property
    def source(self) -> str: ...

    async def credentials(self) -> Credentials: ...

    def current(self) -> Credentials | None: ...


class StaticCredentialProvider:
    """Credentials that never change (keys given explicitly, from the environment or a file)."""

    __slots__ = ("_credentials", "_source")

    def __init__(self, credentials: Credentials, source: str = "static") -> None:
        self._credentials = credentials
        self._source = source

    def __repr__(self) -> str:
        return f"StaticCredentialProvider({self._credentials!r}, source={self._source!r})"

    @property
    def source(self) -> str:
        return self._source

    async def credentials(self) -> Credentials:
        return self._credentials

    def current(self) -> Credentials:
        return self._credentials


def as_provider(
    credentials: Credentials | CredentialProvider | None,
) -> CredentialProvider | None:
    """Accept plain credentials wherever a provider is expected."""
    if isinstance(credentials, Credentials):
        return StaticCredentialProvider(credentials)
    return credentials


@record
class ResolvedSettings:
    """Everything a profile can say about a connection, after precedence is applied."""

    credentials: Credentials | None
    region: str | None
    endpoint_url: str | None
    addressing_style: AddressingStyle | None
    profile: str | None
    source: str  # "explicit", "environment", "profile:<name>", or "none"
    ca_bundle: str | None = None
    proxies: ProxySettings = field(default_factory=ProxySettings)
    use_accelerate_endpoint: bool = False
    use_dualstack_endpoint: bool = False
    us_east_1_regional_endpoint: bool = False


def _addressing(value: str | None, where: str) -> AddressingStyle | None:
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("path", "virtual", "auto"):
        return value  # type: ignore[return-value]
    raise ConfigError(f"{where}: addressing_style must be path, virtual or auto, got {value!r}")


def _flag(value: str | None, where: str) -> bool | None:
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ConfigError(f"{where} must be true or false, got {value!r}")


def static_profile_credentials(section: Mapping[str, str], profile: str) -> Credentials | None:
    """The ``aws_access_key_id`` / ``aws_secret_access_key`` pair of a profile section."""
    access = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    if access and secret:
        return Credentials(access, secret, section.get("aws_session_token") or None)
    if access or secret:
        raise CredentialsError(
            f"profile {profile!r} sets only one of aws_access_key_id / aws_secret_access_key"
        )
    return None


def load_profile(
    profile: str, env: Mapping[str, str] | None = None, files: AwsFiles | None = None
) -> tuple[Credentials | None, str | None, str | None, AddressingStyle | None]:
    """Read one profile from the shared credentials and config files."""
    files = files or read_aws_files(os.environ if env is None else env)
    if not files.has_profile(profile):
        raise ConfigError(
            f"profile {profile!r} not found in {files.credentials_path} or {files.config_path}"
        )
    merged = files.profile(profile)
    s3 = nested(merged.get("s3"))
    style = _addressing(
        merged.get("addressing_style") or s3.get("addressing_style"), f"profile {profile!r}"
    )
    endpoint = merged.get("endpoint_url") or s3.get("endpoint_url")
    return static_profile_credentials(merged, profile), merged.get("region"), endpoint, style


def profile_name(profile: str | None, env: Mapping[str, str]) -> str | None:
    """The profile in force: ``--profile``, else ``AWS_PROFILE``, else ``AWS_DEFAULT_PROFILE``."""
    return profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or None


def ignores_configured_endpoints(env: Mapping[str, str], section: Mapping[str, str]) -> bool:
    """``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``: only an explicit ``--endpoint-url`` counts."""
    where = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
    value = _flag(env.get(where), where)
    if value is None:
        value = _flag(
            section.get("ignore_configured_endpoint_urls"), "ignore_configured_endpoint_urls"
        )
    return bool(value)


def configured_endpoint(
    service: str, env: Mapping[str, str], files: AwsFiles, profile: str | None
) -> str | None:
    """An endpoint URL configured for ``service`` (``s3``, ``sts``, ``sso``), botocore's order:
    ``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the profile's ``[services]`` entry,
    the profile's own ``endpoint_url``."""
    name = profile or "default"
    section = files.profile(name) if files.has_profile(name) else {}
    if ignores_configured_endpoints(env, section):
        return None
    found = env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    if not found and section:
        found = files.service_value(name, service, "endpoint_url") or section.get("endpoint_url")
    return found or None


def resolve_settings(
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    env: Mapping[str, str] | None = None,
    files: AwsFiles | None = None,
) -> ResolvedSettings:
    """Apply precedence: explicit arguments, then environment, then the profile."""
    env = os.environ if env is None else env
    files = files or read_aws_files(env)
    if bool(access_key) != bool(secret_key):
        raise CredentialsError("give both --access-key and --secret-key, or neither")

    name = profile_name(profile, env)
    if name and not files.has_profile(name):
        load_profile(name, env, files)  # raises: a named profile must exist
    section = files.profile(name or "default")
    where = f"profile {name or 'default'!r}"
    p_creds = static_profile_credentials(section, name or "default") if section else None
    s3 = nested(section.get("s3"))

    creds: Credentials | None
    if access_key and secret_key:
        creds, source = Credentials(access_key, secret_key, session_token or None), "explicit"
    elif not profile and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        creds = Credentials(
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env.get("AWS_SESSION_TOKEN") or None,
        )
        source = "environment"
    elif p_creds is not None:
        creds, source = p_creds, f"profile:{name or 'default'}"
    else:
        creds, source = None, "none"

    endpoint = endpoint_url or configured_endpoint("s3", env, files, name)
    if not endpoint and not ignores_configured_endpoints(env, section):
        endpoint = s3.get("endpoint_url")  # s3z has long read it from the nested s3 block

    def s3_flag(key: str, env_name: str | None = None, top_level: bool = False) -> bool:
        """Environment first, then the nested ``s3`` block, then a top-level key."""
        for value, named in (
            (env.get(env_name) if env_name else None, env_name or ""),
            (s3.get(key), f"{where} s3.{key}"),
            (section.get(key) if top_level else None, f"{where} {key}"),
        ):
            flag = _flag(value, named)
            if flag is not None:
                return flag
        return False

    regional = (
        (
            env.get("AWS_S3_US_EAST_1_REGIONAL_ENDPOINT")
            or s3.get("us_east_1_regional_endpoint")
            or section.get("s3_us_east_1_regional_endpoint")
            or "legacy"
        )
        .strip()
        .lower()
    )
    if regional not in ("legacy", "regional"):
        raise ConfigError(
            f"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT / us_east_1_regional_endpoint must be "
            f"legacy or regional, got {regional!r}"
        )
    return ResolvedSettings(
        credentials=creds,
        region=region
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or section.get("region"),
        endpoint_url=endpoint,
        addressing_style=_addressing(
            section.get("addressing_style") or s3.get("addressing_style"), where
        ),
        profile=name,
        source=source,
        ca_bundle=env.get("AWS_CA_BUNDLE") or section.get("ca_bundle") or None,
        proxies=ProxySettings.from_env(env),
        use_accelerate_endpoint=s3_flag("use_accelerate_endpoint"),
        use_dualstack_endpoint=s3_flag(
            "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT", top_level=True
        ),
        us_east_1_regional_endpoint=regional == "regional",
    )
