"""Where the app connects: a target with its secret resolved, and how an engine is made for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from s3z_core.config import AddressingStyle, ClientConfig, TransferConfig
from s3z_core.credentials import Credentials
from s3z_core.engine import Engine
from s3z_core.errors import CredentialsError
from s3z_core.events import TransferEvent
from s3z_core.journal import Journal


@dataclass(frozen=True, slots=True)
class ConnectionTarget:
    """Where to connect, with the secret already resolved (never logged: see Credentials)."""

    label: str
    endpoint_url: str | None
    region: str
    addressing_style: AddressingStyle
    credentials: Credentials
    is_sandbox: bool = False

    def client_config(self) -> ClientConfig:
        return ClientConfig(
            endpoint_url=self.endpoint_url or None,
            region=self.region,
            addressing_style=self.addressing_style,
        )


class NotConnectedError(CredentialsError):
    """A command arrived before any connection was made (or after the app began to close)."""


EngineFactory = Callable[
    [ConnectionTarget, TransferConfig, Callable[[TransferEvent], None], Callable[[], int]],
    Engine,
]


def make_engine(
    target: ConnectionTarget,
    config: TransferConfig,
    sink: Callable[[TransferEvent], None],
    transfer_ids: Callable[[], int] | None = None,
    *,
    journal: Journal | None = None,
) -> Engine:
    """``transfer_ids``: the app's id source, shared by every engine it builds; ``journal``:
    the app's transfer journal (resumable uploads and downloads), shared the same way."""
    return Engine(
        client_config=target.client_config(),
        credentials=target.credentials,
        transfer_config=config,
        on_event=sink,
        transfer_ids=transfer_ids,
        journal=journal,
    )
