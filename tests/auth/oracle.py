"""botocore as the oracle: resolve credentials from the same environment and files as s3z.

``botocore_view`` runs botocore's default chain with ``os.environ`` replaced by the test's
environment (botocore reads ``os.environ`` directly) and the SSO token cache pointed at the
test's home; ``s3z_view`` runs ``open_connection`` with the same environment. Both return
(access key id, session token, expiry): equal tuples mean the same provider won with the
same answer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.credentials
import botocore.session
import botocore.tokens

from s3z_core.auth import open_connection

View = tuple[str, str | None, datetime | None]


def botocore_view(
    env: Mapping[str, str], profile: str | None = None, mfa_code: str | None = None
) -> View:
    cache = str(Path(env["HOME"]) / ".aws" / "sso" / "cache")
    with (
        mock.patch.dict(os.environ, dict(env), clear=True),
        mock.patch.object(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", cache),
        mock.patch.object(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", cache),
    ):
        session = botocore.session.Session(profile=profile)
        if mfa_code is not None:
            resolver = session.get_component("credential_provider")
            resolver.get_provider("assume-role")._prompter = lambda _prompt: mfa_code
        creds: Any = session.get_credentials()
        assert creds is not None, "botocore found no credentials"
        frozen = creds.get_frozen_credentials()
        return frozen.access_key, frozen.token, getattr(creds, "_expiry_time", None)


async def s3z_view(
    env: Mapping[str, str], profile: str | None = None, mfa_code: str | None = None
) -> tuple[View, str]:
    async def prompt(_text: str) -> str:
        assert mfa_code is not None
        return mfa_code

    conn = await open_connection(
        env=env, profile=profile, mfa_prompt=prompt if mfa_code is not None else None
    )
    try:
        creds = conn.provider.current()
        assert creds is not None
        return (creds.access_key, creds.session_token, creds.expiration), conn.provider.source
    finally:
        closer = getattr(conn.provider, "aclose", None)
        if closer is not None:
            await closer()
