"""Fixtures for the protocol suite: every server kind, and our client for a server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from s3z_protocol_helpers import OpsFactory, client_config
from servers import S3Endpoint

from s3z_core.credentials import Credentials
from s3z_core.operations import S3Operations
from s3z_core.transport.client import S3Client


@pytest.fixture(params=["seaweed", "rclone", "moto"])
def any_server(request: pytest.FixtureRequest) -> S3Endpoint:
    """Seaweed and rclone (the real stores) plus moto for the key shapes they cannot hold."""
    name = {"seaweed": "seaweed", "rclone": "rclone_s3", "moto": "moto_s3"}[request.param]
    server: S3Endpoint = request.getfixturevalue(name)
    return server


@pytest_asyncio.fixture
async def make_ops() -> AsyncIterator[OpsFactory]:
    """``make_ops(server, **config)`` → ``S3Operations`` on a fresh client, closed afterwards."""
    clients: list[S3Client] = []

    def make(
        server: S3Endpoint, credentials: Credentials | None = None, **overrides: Any
    ) -> S3Operations:
        creds = credentials or Credentials(server.access_key, server.secret_key)
        client = S3Client(client_config(server, **overrides), creds)
        clients.append(client)
        return S3Operations(client)

    yield make
    for client in clients:
        await client.close()
