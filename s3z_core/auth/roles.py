"""Roles: AssumeRole from a profile's ``role_arn`` and AssumeRoleWithWebIdentity (EKS IRSA).

AssumeRole signs with the *source* credentials (another profile, or the environment /
instance metadata / container named by ``credential_source``) and passes what the profile
says, as botocore does: ``role_session_name`` (default ``s3z-session-<unix time>``),
``external_id``, ``duration_seconds``, and ``mfa_serial`` with a code from the prompt the
caller gave (a terminal in the CLI, a dialog in the GUI). Unlike botocore, which gives up
when MFA-backed credentials expire, the prompt is asked again at each refresh.

Web identity reads the token file afresh for every call (Kubernetes rotates it) and calls
STS unsigned: the token is the proof.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.credentials import CredentialProvider, Credentials
from s3z_core.errors import ConfigError, CredentialProviderError, MfaRequiredError

if TYPE_CHECKING:
    from s3z_core.auth.sts import StsClient

MfaPrompt = Callable[[str], Awaitable[str]]


def _session_name(given: str | None) -> str:
    return given or f"s3z-session-{int(time.time())}"


class AssumeRole:
    def __init__(
        self,
        profile: str,
        section: Mapping[str, str],
        source: CredentialProvider,
        sts: StsClient,
        mfa_prompt: MfaPrompt | None,
    ) -> None:
        self.role_arn = section["role_arn"]
        self.source = f"assume-role (profile {profile})"
        self._source = source
        self._sts = sts
        self._prompt = mfa_prompt
        self._mfa_serial = section.get("mfa_serial") or None
        self._params = {"RoleArn": self.role_arn}
        self._session = section.get("role_session_name") or None
        duration = section.get("duration_seconds")
        if duration:
            if not duration.strip().isdigit():
                raise ConfigError(
                    f"profile {profile!r}: duration_seconds must be whole seconds, got {duration!r}"
                )
            self._params["DurationSeconds"] = str(int(duration))
        if section.get("external_id"):
            self._params["ExternalId"] = section["external_id"]

    def __repr__(self) -> str:
        return f"AssumeRole({self.role_arn!r}, source={self._source.source!r})"

    async def _mfa_code(self, serial: str) -> str:
        if self._prompt is None:
            raise MfaRequiredError(
                self.source,
                f"the role needs an MFA code (mfa_serial {serial}) and nobody can be asked",
                "run s3z-core in a terminal, or connect from the s3z window",
            )
        try:
            code = (await self._prompt(f"Enter MFA code for {serial}: ")).strip()
        except MfaRequiredError as exc:  # the prompt could not ask: name this role instead
            raise MfaRequiredError(self.source, exc.problem, exc.fix) from None
        if not code:
            raise MfaRequiredError(self.source, "no MFA code was entered", "enter the 6-digit code")
        return code

    async def credentials(self) -> Credentials:
        try:
            source = await self._source.credentials()
        except CredentialProviderError as exc:
            raise CredentialProviderError(self.source, f"its source failed: {exc}") from None
        params = dict(self._params)
        params["RoleSessionName"] = _session_name(self._session)
        if self._mfa_serial:  # asked only once the source works: no code typed in vain
            params["SerialNumber"] = self._mfa_serial
            params["TokenCode"] = await self._mfa_code(self._mfa_serial)
        return await self._sts.assume_role(source, params, self.source)


class WebIdentity:
    def __init__(
        self, token_file: str, role_arn: str, session_name: str | None, sts: StsClient, where: str
    ) -> None:
        self.token_file = token_file
        self.role_arn = role_arn
        self.source = f"assume-role-with-web-identity ({where})"
        self._session = session_name
        self._sts = sts

    def __repr__(self) -> str:
        return f"WebIdentity({self.role_arn!r}, token_file={self.token_file!r})"

    def _token(self) -> str:
        try:
            return Path(self.token_file).read_text(encoding="utf-8")  # as is, like botocore
        except OSError as exc:
            raise CredentialProviderError(
                self.source,
                f"cannot read the web identity token file {self.token_file} "
                f"({exc.strerror or type(exc).__name__})",
                "check AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file",
            ) from None

    async def credentials(self) -> Credentials:
        token = await asyncio.to_thread(self._token)
        params = {
            "RoleArn": self.role_arn,
            "RoleSessionName": _session_name(self._session),
            "WebIdentityToken": token,
        }
        return await self._sts.assume_role_with_web_identity(params, self.source)
