"""One invocation's shared state: parsed options, output, and how to build the engine.

Building the engine is the only place the CLI touches ``s3z_core.engine`` (and so
aiohttp): commands that never talk to S3 (``--help``, usage errors) stay fast.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from s3z_core.cli.render import Console, JsonProgress, NoProgress, make_progress
from s3z_core.errors import CredentialsError
from s3z_core.filters import PathFilter

if TYPE_CHECKING:
    from s3z_core.config import TransferConfig
    from s3z_core.engine import Engine
    from s3z_core.events import TransferEvent

_NO_CREDENTIALS = (
    "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "use --profile NAME, or pass --access-key/--secret-key"
)

# Secret values seen in this process; main() scrubs them from everything on stderr.
SECRETS: set[str] = set()


class Session:
    def __init__(self, args: argparse.Namespace, console: Console, *, stderr_is_tty: bool) -> None:
        self.args = args
        self.console = console
        self.stderr_is_tty = stderr_is_tty
        self.filters = PathFilter(tuple(args.filters or ()))
        self._progress: NoProgress | JsonProgress | None = None

    @property
    def progress(self) -> NoProgress | JsonProgress:
        if self._progress is None:
            self._progress = make_progress(
                self.console,
                clock=time.monotonic,
                show_bar=bool(self.args.progress),
                stderr_is_tty=self.stderr_is_tty,
            )
        return self._progress

    def transfer_config(self) -> TransferConfig:
        from s3z_core.config import TransferConfig

        a = self.args
        knobs: dict[str, object] = {}
        if a.workers is not None:
            knobs["workers"] = a.workers
        if a.concurrency is not None:
            knobs["concurrency"] = a.concurrency
        if a.part_size is not None:
            knobs["part_size"] = a.part_size
        if getattr(a, "follow_symlinks", False):
            knobs["follow_symlinks"] = True
        if not getattr(a, "verify_checksums", True):
            knobs["verify"] = False
        return TransferConfig(**knobs)  # type: ignore[arg-type]

    @property
    def workers(self) -> int:
        return int(self.args.workers or self.transfer_config().workers)

    def engine(self) -> Engine:
        """Resolve settings (explicit > env > profile), refuse to run without credentials."""
        from s3z_core.credentials import resolve_settings

        a = self.args
        for value in (a.secret_key, a.session_token):
            if value:
                SECRETS.add(value)
        settings = resolve_settings(
            access_key=a.access_key,
            secret_key=a.secret_key,
            session_token=a.session_token,
            profile=a.profile,
            region=a.region,
            endpoint_url=a.endpoint_url,
        )
        if settings.credentials is None:
            raise CredentialsError(_NO_CREDENTIALS)
        SECRETS.add(settings.credentials.secret_key)
        if settings.credentials.session_token:
            SECRETS.add(settings.credentials.session_token)
        if not a.verify_ssl:
            self.console.warn(
                "--no-verify-ssl: TLS certificates are NOT verified; anyone on the network "
                "path can read and alter this traffic"
            )
        from s3z_core.engine import Engine

        return Engine.from_settings(
            profile=a.profile,
            endpoint_url=a.endpoint_url,
            region=a.region,
            access_key=a.access_key,
            secret_key=a.secret_key,
            session_token=a.session_token,
            addressing_style=a.addressing_style,
            verify_ssl=a.verify_ssl,
            transfer_config=self.transfer_config(),
            on_event=self.on_event,
        )

    def on_event(self, event: TransferEvent) -> None:
        """Engine events: a path left out is said at once; the rest feed the progress view."""
        from s3z_core.events import PathSkipped

        if isinstance(event, PathSkipped):
            self.console.warn(f"skipping {event.path}: {event.reason}")
            return
        self.progress(event)
