"""STS over our own transport: AssumeRole (signed), AssumeRoleWithWebIdentity (unsigned) and
GetCallerIdentity (``whoami``), at the endpoint botocore would use.

Endpoint: ``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL`` / the profile's ``services`` entry
(how tests point it at moto), else the regional ``sts.<region>.amazonaws.com`` (botocore's
default ``sts_regional_endpoints = regional``), else the global ``sts.amazonaws.com``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from s3z_core.aws_files import AwsFiles
from s3z_core.config import ClientConfig
from s3z_core.credentials import Credentials, configured_endpoint
from s3z_core.errors import CredentialProviderError, TransportError
from s3z_core.protocol.endpoints import parse_endpoint
from s3z_core.protocol.signing import SigV4Signer
from s3z_core.protocol.sts import (
    FORM_CONTENT_TYPE,
    CallerIdentity,
    parse_caller_identity,
    parse_role_credentials,
    parse_sts_error,
    sts_form,
)
from s3z_core.transport.http import HttpClient

STS_TIMEOUT_S = 30.0


def sts_endpoint(
    env: Mapping[str, str], files: AwsFiles, profile: str | None, region: str | None
) -> str:
    configured = configured_endpoint("sts", env, files, profile)
    if configured:
        return configured
    mode = (env.get("AWS_STS_REGIONAL_ENDPOINTS") or "").strip().lower()
    if not mode and files.has_profile(profile or "default"):
        mode = files.profile(profile or "default").get("sts_regional_endpoints", "").lower()
    if region and mode != "legacy":
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return f"https://sts.{region}.{suffix}"
    return "https://sts.amazonaws.com"


class StsClient:
    """One STS endpoint; ``provider`` names who is asking in every error."""

    def __init__(self, endpoint_url: str, region: str | None, http: ClientConfig) -> None:
        self.region = region or "us-east-1"
        self.endpoint = parse_endpoint(endpoint_url, self.region)
        self.url = f"{self.endpoint.scheme}://{self.endpoint.host}/"
        self._http = http

    def __repr__(self) -> str:
        return f"StsClient({self.url!r}, region={self.region!r})"

    async def _call(
        self, action: str, params: Mapping[str, str], signer: Credentials | None, provider: str
    ) -> bytes:
        body = sts_form(action, params)
        headers = {"Content-Type": FORM_CONTENT_TYPE}
        if signer is not None:
            headers = SigV4Signer(signer, self.region, service="sts").sign(
                method="POST",
                host=self.endpoint.host,
                path="/",
                query=(),
                headers=headers,
                payload_hash=hashlib.sha256(body).hexdigest(),
                now=datetime.fromtimestamp(time.time(), tz=UTC),
            )
        try:
            async with HttpClient(self._http) as http:
                answer = await http.request(
                    "POST",
                    self.url,
                    operation=f"STS {action}",
                    headers=headers,
                    body=body,
                    timeout_s=STS_TIMEOUT_S,
                )
        except TransportError as exc:
            raise CredentialProviderError(
                provider,
                f"STS at {self.url} unreachable ({exc})",
                "check the network, HTTPS_PROXY, or AWS_ENDPOINT_URL_STS",
            ) from None
        if answer.status >= 300:
            code, message = parse_sts_error(answer.body)
            raise CredentialProviderError(
                provider,
                f"STS {action} refused (HTTP {answer.status}"
                + (f" {code}" if code else "")
                + (f": {message}" if message else "")
                + ")",
                _FIXES.get(action, ""),
            )
        return answer.body

    async def assume_role(
        self, source: Credentials, params: Mapping[str, str], provider: str
    ) -> Credentials:
        body = await self._call("AssumeRole", params, source, provider)
        return parse_role_credentials(body, provider, "AssumeRole")[0]

    async def assume_role_with_web_identity(
        self, params: Mapping[str, str], provider: str
    ) -> Credentials:
        body = await self._call("AssumeRoleWithWebIdentity", params, None, provider)
        return parse_role_credentials(body, provider, "AssumeRoleWithWebIdentity")[0]

    async def get_caller_identity(self, credentials: Credentials, provider: str) -> CallerIdentity:
        body = await self._call("GetCallerIdentity", {}, credentials, provider)
        return parse_caller_identity(body)


_FIXES = {
    "AssumeRole": "check that the source credentials may assume this role "
    "(its trust policy, sts:AssumeRole, external_id, the MFA code)",
    "AssumeRoleWithWebIdentity": "check the role's trust policy for this identity provider "
    "and that the token file is current",
    "GetCallerIdentity": "the credentials are not valid for AWS STS",
}
