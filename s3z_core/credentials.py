"""Where credentials and connection settings come from: explicit keys, env vars, ~/.aws.

Order, like the AWS CLI: explicit keys > environment > shared credentials/config files
(``AWS_PROFILE`` or ``--profile``). The secret key and session token never appear in
``repr``/``str``, logs or error messages: ``Credentials`` redacts them.
"""

from __future__ import annotations

import configparser
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from s3z_core.config import AddressingStyle
from s3z_core.errors import ConfigError, CredentialsError


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.access_key or not self.secret_key:
            raise CredentialsError("access key id and secret access key must both be set")

    def __repr__(self) -> str:
        token = ", session_token=<redacted>" if self.session_token else ""
        return f"Credentials(access_key={self.access_key!r}, secret_key=<redacted>{token})"

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


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """Everything a profile can say about a connection, after precedence is applied."""

    credentials: Credentials | None
    region: str | None
    endpoint_url: str | None
    addressing_style: AddressingStyle | None
    profile: str | None
    source: str  # "explicit", "environment", "profile:<name>", or "none"


def _aws_dir(env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".aws"


def _read_ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        # The message names the file and the line, never its contents (which hold secrets).
        raise ConfigError(f"cannot parse {path}: {type(exc).__name__}") from None
    return parser


def _addressing(value: str | None, where: str) -> AddressingStyle | None:
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("path", "virtual", "auto"):
        return value  # type: ignore[return-value]
    raise ConfigError(f"{where}: addressing_style must be path, virtual or auto, got {value!r}")


def _nested_s3(section: Mapping[str, str], name: str) -> str | None:
    """``s3 =\\n  addressing_style = path`` is a nested block in ~/.aws/config."""
    raw = section.get("s3")
    if not raw:
        return None
    for line in raw.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip() == name:
            return v.strip()
    return None


def load_profile(
    profile: str, env: Mapping[str, str] | None = None
) -> tuple[Credentials | None, str | None, str | None, AddressingStyle | None]:
    """Read one profile from the shared credentials and config files."""
    env = os.environ if env is None else env
    aws = _aws_dir(env)
    cred_path = Path(env.get("AWS_SHARED_CREDENTIALS_FILE", aws / "credentials"))
    conf_path = Path(env.get("AWS_CONFIG_FILE", aws / "config"))
    creds_ini = _read_ini(cred_path) if cred_path.is_file() else None
    conf_ini = _read_ini(conf_path) if conf_path.is_file() else None
    conf_section_name = profile if profile == "default" else f"profile {profile}"

    cred_section: dict[str, str] = {}
    if creds_ini is not None and creds_ini.has_section(profile):
        cred_section = dict(creds_ini.items(profile))
    conf_section: dict[str, str] = {}
    if conf_ini is not None:
        for name in (conf_section_name, profile):
            if conf_ini.has_section(name):
                conf_section = dict(conf_ini.items(name))
                break
    if not cred_section and not conf_section:
        raise ConfigError(f"profile {profile!r} not found in {cred_path} or {conf_path}")

    merged = {**conf_section, **cred_section}
    access = merged.get("aws_access_key_id")
    secret = merged.get("aws_secret_access_key")
    token = merged.get("aws_session_token")
    creds = None
    if access and secret:
        creds = Credentials(access, secret, token or None)
    elif access or secret:
        raise CredentialsError(
            f"profile {profile!r} sets only one of aws_access_key_id / aws_secret_access_key"
        )
    region = merged.get("region")
    endpoint = merged.get("endpoint_url") or _nested_s3(merged, "endpoint_url")
    style = _addressing(
        merged.get("addressing_style") or _nested_s3(merged, "addressing_style"),
        f"profile {profile!r}",
    )
    return creds, region, endpoint, style


def resolve_settings(
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ResolvedSettings:
    """Apply precedence: explicit arguments, then environment, then the profile."""
    env = os.environ if env is None else env
    if bool(access_key) != bool(secret_key):
        raise CredentialsError("give both --access-key and --secret-key, or neither")

    profile_name = profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    p_creds: Credentials | None = None
    p_region = p_endpoint = None
    p_style: AddressingStyle | None = None
    if profile_name:
        p_creds, p_region, p_endpoint, p_style = load_profile(profile_name, env)
    else:
        with contextlib.suppress(ConfigError):  # no default profile is normal
            p_creds, p_region, p_endpoint, p_style = load_profile("default", env)

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
        creds, source = p_creds, f"profile:{profile_name or 'default'}"
    else:
        creds, source = None, "none"

    return ResolvedSettings(
        credentials=creds,
        region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or p_region,
        endpoint_url=endpoint_url
        or env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL")
        or p_endpoint,
        addressing_style=p_style,
        profile=profile_name,
        source=source,
    )
