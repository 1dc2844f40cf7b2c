"""The credential chain, in botocore's order, from the environment and the shared files.

1. explicit keys (``--access-key`` …)
2. the environment (``AWS_ACCESS_KEY_ID`` …) — skipped when ``--profile`` was given
3. the profile: ``role_arn`` (AssumeRole, from ``source_profile`` or ``credential_source``)
   → web identity (``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ROLE_ARN``, or the profile's
   ``web_identity_token_file``) → SSO → keys in the credentials file → ``credential_process``
   → keys in the config file
4. container credentials (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` / ``_FULL_URI``)
5. EC2 instance metadata (unless ``AWS_EC2_METADATA_DISABLED``)

Building the chain reads no network and runs nothing: what needs a fetch becomes a
``RefreshingProvider`` that fetches on first use (and again before expiry). A provider's
module (STS, SSO, ``credential_process``, the metadata services) is imported where the
chain picks it: ``ls`` with keys in the environment loads none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from s3z_core.auth.refresh import CredentialsObserver, Fetcher, RefreshingProvider
from s3z_core.auth.roles import AssumeRole, MfaPrompt, WebIdentity
from s3z_core.aws_files import AwsFiles, sso_cache_dir
from s3z_core.config import ClientConfig
from s3z_core.credentials import (
    CredentialProvider,
    Credentials,
    StaticCredentialProvider,
    configured_endpoint,
    static_profile_credentials,
)
from s3z_core.errors import ConfigError, CredentialProviderError, CredentialsError
from s3z_core.records import record

if TYPE_CHECKING:
    from s3z_core.auth.metadata import InstanceMetadata
    from s3z_core.auth.sts import StsClient

NO_CREDENTIALS = (
    "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "use --profile NAME, or pass --access-key/--secret-key"
)


@record
class ChainContext:
    """What every provider may need: the environment, the files, how to reach STS/SSO/IMDS."""

    env: Mapping[str, str]
    files: AwsFiles
    profile: str  # the profile in force (``default`` when none was named)
    region: str | None  # the signing region, also STS's
    http: ClientConfig  # CA bundle and proxies for STS, SSO and the metadata services
    mfa_prompt: MfaPrompt | None = None
    on_credentials: CredentialsObserver | None = None


@record
class Chain:
    provider: CredentialProvider
    instance_metadata: InstanceMetadata | None = None  # set when IMDS is the source


def _static(ctx: ChainContext, creds: Credentials, source: str) -> StaticCredentialProvider:
    if ctx.on_credentials is not None:
        ctx.on_credentials(creds)
    return StaticCredentialProvider(creds, source)


def _refreshing(ctx: ChainContext, fetcher: Fetcher) -> RefreshingProvider:
    return RefreshingProvider(
        fetcher.source, fetcher.credentials, on_credentials=ctx.on_credentials
    )


def _env_credentials(env: Mapping[str, str]) -> Credentials | None:
    access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if access and secret:
        return Credentials(access, secret, env.get("AWS_SESSION_TOKEN") or None)
    return None


def sts_client(ctx: ChainContext) -> StsClient:
    """STS at the endpoint botocore would use for this profile and region."""
    from s3z_core.auth.sts import StsClient, sts_endpoint

    return StsClient(
        sts_endpoint(ctx.env, ctx.files, ctx.profile, ctx.region), ctx.region, ctx.http
    )


def _imds(ctx: ChainContext) -> InstanceMetadata:
    from s3z_core.auth.metadata import InstanceMetadata, imds_url

    profile = ctx.files.profile(ctx.profile)
    v1_off = (
        profile.get("ec2_metadata_v1_disabled") or ctx.env.get("AWS_EC2_METADATA_V1_DISABLED") or ""
    )
    return InstanceMetadata(
        imds_url(ctx.env, profile), ctx.http, v1_disabled=v1_off.lower() == "true"
    )


def credential_chain(
    ctx: ChainContext, *, explicit: Credentials | None = None, profile_explicit: bool = False
) -> Chain:
    """The first provider of the chain that applies (see the module docstring)."""
    if explicit is not None:
        return Chain(_static(ctx, explicit, "explicit"))
    if not profile_explicit:
        env_creds = _env_credentials(ctx.env)
        if env_creds is not None:
            return Chain(_static(ctx, env_creds, "env"))
    name = ctx.profile
    if ctx.files.has_profile(name):
        section = ctx.files.profile(name)
        if _is_role(section):
            return Chain(_assume_role(ctx, name, [name]))
        found = _profile_providers(ctx, name, allow_env=not profile_explicit)
        if found is not None:
            return Chain(found)
    elif not profile_explicit:
        web = _web_identity(ctx, name, {}, allow_env=True)
        if web is not None:
            return Chain(web)
    return _metadata_services(ctx)


def _metadata_services(ctx: ChainContext) -> Chain:
    """The chain's last steps: container credentials, then EC2 instance metadata."""
    from s3z_core.auth.metadata import ContainerCredentials, container_configured, imds_disabled

    if container_configured(ctx.env):
        return Chain(_refreshing(ctx, ContainerCredentials(ctx.env, ctx.http)))
    if imds_disabled(ctx.env):
        raise CredentialsError(NO_CREDENTIALS)
    imds = _imds(ctx)
    return Chain(_refreshing(ctx, _LastResort(imds)), imds)


class _LastResort:
    """Instance metadata at the end of the chain: its failure means "nothing anywhere"."""

    def __init__(self, imds: InstanceMetadata) -> None:
        self._imds = imds
        self.source = imds.source

    async def credentials(self) -> Credentials:
        try:
            return await self._imds.credentials()
        except CredentialProviderError as exc:
            raise CredentialsError(
                f"{NO_CREDENTIALS} (EC2 instance metadata at {self._imds.base_url}: {exc.problem})"
            ) from None


def _is_role(section: Mapping[str, str]) -> bool:
    return "role_arn" in section and "web_identity_token_file" not in section


def _has_static(section: Mapping[str, str]) -> bool:
    return "aws_access_key_id" in section or "aws_secret_access_key" in section


def _web_identity(
    ctx: ChainContext, name: str, section: Mapping[str, str], *, allow_env: bool
) -> CredentialProvider | None:
    def pick(key: str, env_name: str) -> str | None:
        value = ctx.env.get(env_name) if allow_env else None
        return value if value is not None else section.get(key)

    token_file = pick("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE")
    if not token_file:
        return None
    role_arn = pick("role_arn", "AWS_ROLE_ARN")
    if not role_arn:
        raise ConfigError(
            "web identity is configured (AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file) "
            "but no role is: set AWS_ROLE_ARN or role_arn in the profile"
        )
    from_env = allow_env and ctx.env.get("AWS_WEB_IDENTITY_TOKEN_FILE") is not None
    where = "environment" if from_env else f"profile {name}"
    session = pick("role_session_name", "AWS_ROLE_SESSION_NAME")
    return _refreshing(ctx, WebIdentity(token_file, role_arn, session, sts_client(ctx), where))


def _profile_providers(
    ctx: ChainContext, name: str, *, allow_env: bool
) -> CredentialProvider | None:
    """botocore's per-profile providers after AssumeRole: web identity, SSO, files, process."""
    from s3z_core.auth.process import CredentialProcess
    from s3z_core.auth.sso import SsoCredentials, is_sso_profile, sso_config

    section = ctx.files.profile(name)
    web = _web_identity(ctx, name, section, allow_env=allow_env)
    if web is not None:
        return web
    if is_sso_profile(section):
        config = sso_config(name, section, ctx.files.sso_sessions)
        portal = configured_endpoint("sso", ctx.env, ctx.files, ctx.profile)
        return _refreshing(ctx, SsoCredentials(config, sso_cache_dir(ctx.env), portal, ctx.http))
    creds = static_profile_credentials(ctx.files.credentials_profiles.get(name, {}), name)
    if creds is not None:
        return _static(ctx, creds, f"shared-credentials-file (profile {name})")
    command = section.get("credential_process")
    if command:
        return _refreshing(ctx, CredentialProcess(command, name, ctx.env))
    creds = static_profile_credentials(ctx.files.config_profiles.get(name, {}), name)
    if creds is not None:
        return _static(ctx, creds, f"config-file (profile {name})")
    return None


def _assume_role(ctx: ChainContext, name: str, visited: list[str]) -> CredentialProvider:
    section = ctx.files.profile(name)
    source_profile = section.get("source_profile")
    credential_source = section.get("credential_source")
    if source_profile and credential_source:
        raise ConfigError(f"profile {name!r} sets both source_profile and credential_source")
    if credential_source:
        source = _named_source(ctx, name, credential_source)
    elif source_profile:
        source = _source_profile(ctx, name, source_profile, visited)
    else:
        raise ConfigError(
            f"profile {name!r} has role_arn but neither source_profile nor credential_source"
        )
    return _refreshing(ctx, AssumeRole(name, section, source, sts_client(ctx), ctx.mfa_prompt))


def _source_profile(
    ctx: ChainContext, parent: str, name: str, visited: list[str]
) -> CredentialProvider:
    if not ctx.files.has_profile(name):
        raise ConfigError(f"source_profile {name!r} of profile {parent!r} does not exist")
    section = ctx.files.profile(name)
    if name in visited and not (name == parent and _has_static(section)):
        chain = " -> ".join([*visited, name])
        raise ConfigError(f"profiles refer to each other in a loop: {chain}")
    if _has_static(section) or not _is_role(section):
        found = _profile_providers(ctx, name, allow_env=False)
        if found is None:
            raise ConfigError(f"source_profile {name!r} of profile {parent!r} has no credentials")
        return found
    return _assume_role(ctx, name, [*visited, name])


def _named_source(ctx: ChainContext, profile: str, name: str) -> CredentialProvider:
    kind = name.strip().lower()
    if kind == "environment":
        creds = _env_credentials(ctx.env)
        if creds is None:
            raise CredentialProviderError(
                f"env (credential_source of profile {profile})",
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set",
                "export them, or change credential_source",
            )
        return _static(ctx, creds, "env")
    if kind == "ec2instancemetadata":
        return _refreshing(ctx, _imds(ctx))
    if kind == "ecscontainer":
        from s3z_core.auth.metadata import ContainerCredentials, container_configured

        if not container_configured(ctx.env):
            raise CredentialProviderError(
                f"container-role (credential_source of profile {profile})",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI are not set",
                "run inside ECS/EKS, or change credential_source",
            )
        return _refreshing(ctx, ContainerCredentials(ctx.env, ctx.http))
    raise ConfigError(
        f"profile {profile!r}: credential_source {name!r} is not one of "
        "Environment, Ec2InstanceMetadata, EcsContainer"
    )
