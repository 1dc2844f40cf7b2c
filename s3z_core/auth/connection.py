"""From what a user said (flags, a profile, the environment) to a client config and a provider.

``resolve_connection`` reads the shared files and builds the chain (no network: it is what
``Engine.from_settings`` calls); ``open_connection`` runs that in a thread, then fetches the
first credentials so that every problem (a missing SSO login, an MFA code, an unreachable
IMDS) shows up before any transfer starts, and learns the region from instance metadata
when that is where the credentials came from and nothing configured one. ``who_am_i`` is
``aws sts get-caller-identity`` plus the provider's name.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, TypedDict, Unpack

from s3z_core.auth.chain import Chain, ChainContext, credential_chain, sts_client
from s3z_core.auth.refresh import CredentialsObserver
from s3z_core.auth.roles import MfaPrompt
from s3z_core.aws_files import read_aws_files
from s3z_core.config import AddressingStyle, ClientConfig, RetryPolicy
from s3z_core.credentials import (
    CredentialProvider,
    Credentials,
    ResolvedSettings,
    profile_name,
    resolve_settings,
)
from s3z_core.errors import ConfigError
from s3z_core.records import record
from s3z_core.transport.connection import tls_setting

if TYPE_CHECKING:
    from s3z_core.auth.sts import StsClient


class ConnectionOptions(TypedDict, total=False):
    """Everything ``Engine.from_settings`` / ``Engine.connect`` accept about the connection."""

    profile: str | None
    endpoint_url: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None
    session_token: str | None
    addressing_style: str | None
    verify_ssl: bool
    retry: RetryPolicy | None
    env: Mapping[str, str] | None
    mfa_prompt: MfaPrompt | None
    on_credentials: CredentialsObserver | None


@record
class Connection:
    config: ClientConfig
    provider: CredentialProvider
    settings: ResolvedSettings
    chain: Chain
    context: ChainContext  # the profile, region and files STS is reached with

    @property
    def sts(self) -> StsClient:
        """STS for these credentials (``whoami``), made when asked for: ``ls`` never loads it."""
        return sts_client(self.context)


@record
class Identity:
    """Who the credentials belong to; never a secret."""

    account: str
    arn: str
    user_id: str
    access_key: str
    source: str
    expiration: str | None  # ISO 8601 UTC, for temporary credentials


def resolve_connection(
    max_connections: int = 64, **options: Unpack[ConnectionOptions]
) -> Connection:
    """Files and environment only; see the module docstring."""
    env = options.get("env")
    env = os.environ if env is None else env
    files = read_aws_files(env)
    settings = resolve_settings(
        access_key=options.get("access_key"),
        secret_key=options.get("secret_key"),
        session_token=options.get("session_token"),
        profile=options.get("profile"),
        region=options.get("region"),
        endpoint_url=options.get("endpoint_url"),
        env=env,
        files=files,
    )
    style = options.get("addressing_style") or settings.addressing_style or "auto"
    if style not in ("auto", "path", "virtual"):
        raise ConfigError(f"addressing style must be auto, path or virtual, got {style!r}")
    addressing: AddressingStyle = style  # type: ignore[assignment]
    config = ClientConfig(
        endpoint_url=settings.endpoint_url,
        region=settings.region or "us-east-1",
        addressing_style=addressing,
        verify_ssl=options.get("verify_ssl", True),
        max_connections=max_connections,
        retry=options.get("retry") or RetryPolicy(),
        ca_bundle=settings.ca_bundle,
        proxies=settings.proxies,
        use_accelerate_endpoint=settings.use_accelerate_endpoint,
        use_dualstack_endpoint=settings.use_dualstack_endpoint,
        us_east_1_regional_endpoint=settings.us_east_1_regional_endpoint,
    )
    if config.ca_bundle or not (config.endpoint_url or "").startswith("http:"):
        # An https endpoint's context is built (and a CA bundle checked) now, in this worker
        # thread, not on the loop when the session opens; plain http needs none (~20 ms).
        tls_setting(config)
    name = profile_name(options.get("profile"), env) or "default"
    ctx = ChainContext(
        env=env,
        files=files,
        profile=name,
        region=settings.region,
        http=config,
        mfa_prompt=options.get("mfa_prompt"),
        on_credentials=options.get("on_credentials"),
    )
    explicit = settings.credentials if settings.source == "explicit" else None
    chain = credential_chain(ctx, explicit=explicit, profile_explicit=bool(options.get("profile")))
    return Connection(config, chain.provider, settings, chain, ctx)


async def open_connection(
    max_connections: int = 64, **options: Unpack[ConnectionOptions]
) -> Connection:
    """``resolve_connection`` off the loop, then the first credentials and the IMDS region."""
    conn = await asyncio.to_thread(lambda: resolve_connection(max_connections, **options))
    await conn.provider.credentials()
    imds = conn.chain.instance_metadata
    if imds is not None and conn.settings.region is None and conn.settings.endpoint_url is None:
        region = await imds.region()
        if region:
            conn = replace(conn, config=replace(conn.config, region=region))
    return conn


async def who_am_i(conn: Connection) -> Identity:
    creds: Credentials = await conn.provider.credentials()
    found = await conn.sts.get_caller_identity(creds, conn.provider.source)
    return Identity(
        account=found.account,
        arn=found.arn,
        user_id=found.user_id,
        access_key=creds.access_key,
        source=conn.provider.source,
        expiration=creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ") if creds.expiration else None,
    )
