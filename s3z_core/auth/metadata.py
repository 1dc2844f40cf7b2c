"""Credentials from where the code runs: EC2 instance metadata (IMDSv2) and ECS/EKS containers.

IMDSv2, as botocore does it: ``PUT /latest/api/token`` (TTL header) for a session token, then
``GET /latest/meta-data/iam/security-credentials/`` for the role name and the same path plus
the role for the JSON credentials; a 403/404/405 on the token PUT falls back to IMDSv1 (no
token) unless ``ec2_metadata_v1_disabled``. One attempt, 1 s timeout: off EC2 the answer is
"unreachable", fast. The endpoint is ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` (or the profile's
``ec2_metadata_service_endpoint``); ``AWS_EC2_METADATA_DISABLED=true`` turns it off.

Containers: ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (ECS, on 169.254.170.2) or
``_FULL_URI`` (EKS Pod Identity, Greengrass …), with ``AWS_CONTAINER_AUTHORIZATION_TOKEN``
or ``_TOKEN_FILE`` as the ``Authorization`` header. A plain-HTTP full URI must be loopback
or one of AWS's link-local hosts, so a stray variable cannot send the token elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from s3z_core.config import ClientConfig
from s3z_core.credentials import Credentials
from s3z_core.errors import ConfigError, CredentialProviderError, TransportError
from s3z_core.protocol.sts import credentials_from_document, parse_json
from s3z_core.transport.http import HttpClient

IMDS_URL = "http://169.254.169.254"
IMDS_IPV6_URL = "http://[fd00:ec2::254]"
IMDS_TIMEOUT_S = 1.0
_SESSION_PATH = "/latest/api/token"
_ROLE_PATH = "/latest/meta-data/iam/security-credentials/"
_ZONE_PATH = "/latest/meta-data/placement/availability-zone/"
_SESSION_TTL_S = "21600"

CONTAINER_HOST_URL = "http://169.254.170.2"
_CONTAINER_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"})
CONTAINER_TIMEOUT_S = 2.0
CONTAINER_ATTEMPTS = 3


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def imds_disabled(env: Mapping[str, str]) -> bool:
    return _true(env.get("AWS_EC2_METADATA_DISABLED"))


def imds_url(env: Mapping[str, str], profile: Mapping[str, str]) -> str:
    custom = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or profile.get(
        "ec2_metadata_service_endpoint"
    )
    if custom:
        if urlsplit(custom).scheme not in ("http", "https"):
            raise ConfigError(
                f"AWS_EC2_METADATA_SERVICE_ENDPOINT {custom!r} must be an http(s):// URL"
            )
        return custom.rstrip("/")
    mode = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") or profile.get(
        "ec2_metadata_service_endpoint_mode", ""
    )
    return IMDS_IPV6_URL if mode.strip().lower() == "ipv6" else IMDS_URL


class InstanceMetadata:
    """The EC2 instance metadata service at ``base_url`` (see the module docstring)."""

    source = "iam-role"

    def __init__(self, base_url: str, http: ClientConfig, *, v1_disabled: bool = False) -> None:
        self.base_url = base_url
        self._http = http
        self._v1_disabled = v1_disabled

    def __repr__(self) -> str:
        return f"InstanceMetadata({self.base_url!r})"

    def _fail(self, problem: str) -> CredentialProviderError:
        return CredentialProviderError(
            f"{self.source} (EC2 instance metadata at {self.base_url})",
            problem,
            "run on EC2 with an instance profile attached, or configure credentials "
            "another way (AWS_EC2_METADATA_DISABLED=true skips this lookup)",
        )

    async def _get(self, http: HttpClient, path: str, token: str | None) -> str:
        headers = {"x-aws-ec2-metadata-token": token} if token else {}
        answer = await http.request(
            "GET", self.base_url + path, operation="IMDS", headers=headers, timeout_s=IMDS_TIMEOUT_S
        )
        if answer.status != 200 or not answer.body:
            raise self._fail(f"GET {path} answered HTTP {answer.status}")
        return answer.text()

    async def _token(self, http: HttpClient) -> str | None:
        answer = await http.request(
            "PUT",
            self.base_url + _SESSION_PATH,
            operation="IMDS",
            headers={"x-aws-ec2-metadata-token-ttl-seconds": _SESSION_TTL_S},
            timeout_s=IMDS_TIMEOUT_S,
        )
        if answer.status == 200:
            return answer.text()
        if answer.status in (403, 404, 405) and not self._v1_disabled:
            return None  # an IMDSv1-only service
        raise self._fail(f"the IMDSv2 token request answered HTTP {answer.status}")

    async def _read(self, paths: tuple[str, ...]) -> list[str]:
        try:
            async with HttpClient(self._http) as http:
                token = await self._token(http)
                found: list[str] = []
                for path in paths:
                    found.append(await self._get(http, path.format(*found), token))
                return found
        except TransportError as exc:
            raise self._fail(f"unreachable ({exc})") from None

    async def credentials(self) -> Credentials:
        role, document = await self._read((_ROLE_PATH, _ROLE_PATH + "{0}"))
        role = role.splitlines()[0].strip() if role.strip() else ""
        doc = parse_json(document, self.source, "the instance metadata credentials")
        if doc.get("Code", "Success") != "Success":
            raise self._fail(f"role {role!r} gave no credentials (Code {doc.get('Code')!r})")
        return credentials_from_document(doc, self.source)

    async def region(self) -> str | None:
        """The instance's region (its availability zone less the letter), None if unknown."""
        try:
            (zone,) = await self._read((_ZONE_PATH,))
        except CredentialProviderError:
            return None
        zone = zone.strip()
        return zone[:-1] if len(zone) > 1 and zone[-1].isalpha() else None


def container_configured(env: Mapping[str, str]) -> bool:
    return bool(
        env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    )


class ContainerCredentials:
    """The ECS/EKS container credentials endpoint named by the environment."""

    source = "container-role"

    def __init__(self, env: Mapping[str, str], http: ClientConfig) -> None:
        relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        self.url = (
            CONTAINER_HOST_URL + relative
            if relative
            else env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
        )
        self._token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        self._token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        self._http = http
        if not relative:
            _check_full_uri(self.url)

    def __repr__(self) -> str:
        return f"ContainerCredentials({self.url!r})"

    def _fail(self, problem: str, fix: str = "") -> CredentialProviderError:
        return CredentialProviderError(
            f"{self.source} (container endpoint {self.url})",
            problem,
            fix or "check AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI and the task's role",
        )

    def _authorization(self) -> str | None:
        token = self._token
        if self._token_file:
            try:
                token = Path(self._token_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise self._fail(
                    f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {self._token_file} "
                    f"({exc.strerror or type(exc).__name__})",
                    "mount the token file or unset the variable",
                ) from None
        if token is not None and ("\r" in token or "\n" in token):
            raise self._fail("the authorization token holds a line break", "rewrite the token")
        return token

    async def credentials(self) -> Credentials:
        token = await asyncio.to_thread(self._authorization)  # a file read: off the loop
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = token
        problem = ""
        for attempt in range(CONTAINER_ATTEMPTS):
            if attempt:
                await asyncio.sleep(1.0)
            try:
                async with HttpClient(self._http) as http:
                    answer = await http.request(
                        "GET",
                        self.url,
                        operation="container credentials",
                        headers=headers,
                        timeout_s=CONTAINER_TIMEOUT_S,
                    )
            except TransportError as exc:
                problem = f"unreachable ({exc})"
                continue
            if answer.status == 200:
                doc = parse_json(answer.body, self.source, "the container credentials")
                return credentials_from_document(doc, self.source)
            problem = f"answered HTTP {answer.status}"
            if answer.status in (401, 403):
                break  # a wrong token stays wrong
        raise self._fail(problem)


def _check_full_uri(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not (loopback or host in _CONTAINER_HOSTS):
        raise ConfigError(
            f"AWS_CONTAINER_CREDENTIALS_FULL_URI {url!r} must be https:// or a loopback / "
            "ECS / EKS host (the authorization token must not leave the machine)"
        )
