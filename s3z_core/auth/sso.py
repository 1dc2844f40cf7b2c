"""IAM Identity Center (SSO) profiles: the token ``aws sso login`` cached, then the portal.

A profile with ``sso_account_id`` / ``sso_role_name`` and either ``sso_session`` (pointing at
an ``[sso-session X]`` section) or the legacy ``sso_start_url`` / ``sso_region`` keys. The
token lives in ``~/.aws/sso/cache/<sha1 of the session name or start URL>.json`` (what the
AWS CLI writes); with it we call the portal's GetRoleCredentials
(``GET /federation/credentials`` with ``x-amz-sso_bearer_token``), unsigned, at
``portal.sso.<region>.amazonaws.com`` or ``AWS_ENDPOINT_URL_SSO``. A missing or expired
token is not something we can fix: the error says which ``aws sso login`` to run.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from s3z_core.config import ClientConfig
from s3z_core.credentials import Credentials
from s3z_core.errors import ConfigError, CredentialProviderError, TransportError
from s3z_core.protocol.sts import parse_json, parse_sso_role_credentials, parse_timestamp
from s3z_core.records import record
from s3z_core.transport.http import HttpClient

SSO_TIMEOUT_S = 30.0


@record
class SsoConfig:
    profile: str
    account_id: str
    role_name: str
    start_url: str
    region: str
    session: str | None  # None: a legacy profile (start URL and region in the profile)

    @property
    def login_hint(self) -> str:
        return (
            f"aws sso login --sso-session {self.session}"
            if self.session
            else f"aws sso login --profile {self.profile}"
        )


def is_sso_profile(section: Mapping[str, str]) -> bool:
    return "sso_account_id" in section or "sso_role_name" in section


def sso_config(
    profile: str, section: Mapping[str, str], sessions: Mapping[str, Mapping[str, str]]
) -> SsoConfig:
    """Validate an SSO profile the way botocore does (missing keys named, conflicts refused)."""
    merged = dict(section)
    session = section.get("sso_session")
    if session is not None:
        if session not in sessions:
            raise ConfigError(f"profile {profile!r}: sso-session {session!r} does not exist")
        for key, value in sessions[session].items():
            if merged.get(key, value) != value:
                raise ConfigError(
                    f"profile {profile!r}: {key} differs between the profile and "
                    f"sso-session {session!r}"
                )
            merged[key] = value
    needed = ("sso_account_id", "sso_role_name", "sso_start_url", "sso_region")
    missing = [k for k in needed if not merged.get(k)]
    if missing:
        raise ConfigError(
            f"profile {profile!r} is configured for SSO but lacks {', '.join(missing)}"
        )
    return SsoConfig(
        profile,
        merged["sso_account_id"],
        merged["sso_role_name"],
        merged["sso_start_url"],
        merged["sso_region"],
        session,
    )


class SsoCredentials:
    source_name = "sso"

    def __init__(
        self, config: SsoConfig, cache_dir: Path, portal_url: str | None, http: ClientConfig
    ) -> None:
        self.config = config
        self.cache_file = cache_dir / (
            hashlib.sha1(
                (config.session or config.start_url).encode(), usedforsecurity=False
            ).hexdigest()
            + ".json"
        )
        self.portal_url = (
            portal_url or f"https://portal.sso.{config.region}.amazonaws.com"
        ).rstrip("/")
        self._http = http
        self.source = f"{self.source_name} (profile {config.profile})"

    def __repr__(self) -> str:
        return f"SsoCredentials(profile={self.config.profile!r}, portal={self.portal_url!r})"

    def _fail(self, problem: str, fix: str = "") -> CredentialProviderError:
        return CredentialProviderError(
            self.source, problem, fix or f"run `{self.config.login_hint}`"
        )

    def _token(self) -> str:
        try:
            raw = self.cache_file.read_bytes()
        except FileNotFoundError:
            raise self._fail(f"no SSO token in {self.cache_file.parent} (not logged in)") from None
        except OSError as exc:
            raise self._fail(
                f"cannot read the SSO token {self.cache_file} ({exc.strerror})"
            ) from None
        doc = parse_json(raw, self.source, f"the SSO token {self.cache_file}")
        token, expires = doc.get("accessToken"), doc.get("expiresAt")
        if not token or not expires:
            raise self._fail(f"the SSO token {self.cache_file} is incomplete")
        expiry = parse_timestamp(str(expires), self.source)
        if expiry.timestamp() <= time.time():
            raise self._fail(f"the SSO token expired at {expiry:%Y-%m-%d %H:%M:%S} UTC")
        return str(token)

    async def credentials(self) -> Credentials:
        token = await asyncio.to_thread(self._token)  # a file read: off the loop
        query = urlencode(
            {"role_name": self.config.role_name, "account_id": self.config.account_id}
        )
        url = f"{self.portal_url}/federation/credentials?{query}"
        try:
            async with HttpClient(self._http) as http:
                answer = await http.request(
                    "GET",
                    url,
                    operation="SSO GetRoleCredentials",
                    headers={"x-amz-sso_bearer_token": token},
                    timeout_s=SSO_TIMEOUT_S,
                )
        except TransportError as exc:
            raise self._fail(
                f"SSO portal {self.portal_url} unreachable ({exc})",
                "check the network or AWS_ENDPOINT_URL_SSO",
            ) from None
        if answer.status in (401, 403):
            raise self._fail(f"the SSO portal refused the cached token (HTTP {answer.status})")
        if answer.status != 200:
            raise self._fail(
                f"SSO GetRoleCredentials for role {self.config.role_name!r} in account "
                f"{self.config.account_id} answered HTTP {answer.status}",
                "check sso_account_id / sso_role_name",
            )
        return parse_sso_role_credentials(answer.body, self.source)
