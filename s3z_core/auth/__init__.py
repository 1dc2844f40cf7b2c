"""Credential providers that fetch (STS, SSO, IMDS, containers, ``credential_process``) and
the chain that picks among them. Above the transport: it may use HTTP and signing."""

from s3z_core.auth.chain import NO_CREDENTIALS, Chain, ChainContext, credential_chain
from s3z_core.auth.connection import (
    Connection,
    ConnectionOptions,
    Identity,
    open_connection,
    resolve_connection,
    who_am_i,
)
from s3z_core.auth.refresh import RefreshingProvider
from s3z_core.auth.roles import MfaPrompt

__all__ = [
    "NO_CREDENTIALS",
    "Chain",
    "ChainContext",
    "Connection",
    "ConnectionOptions",
    "Identity",
    "MfaPrompt",
    "RefreshingProvider",
    "credential_chain",
    "open_connection",
    "resolve_connection",
    "who_am_i",
]
