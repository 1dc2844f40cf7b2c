"""One invocation's shared state: parsed options, output, and how to build the engine.

Building the engine is the only place the CLI touches ``s3z_core.engine`` (and so
aiohttp): commands that never talk to S3 (``--help``, usage errors) stay fast.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from s3z_core.cli.redaction import SECRETS, remember_secrets
from s3z_core.cli.render import Console, JsonProgress, NoProgress, make_progress
from s3z_core.cli.resumable import open_batch_record, wants_journal
from s3z_core.events import PathSkipped
from s3z_core.filters import PathFilter

if TYPE_CHECKING:
    from s3z_core.auth.connection import ConnectionOptions
    from s3z_core.config import TransferConfig
    from s3z_core.engine import Engine
    from s3z_core.events import TransferEvent
    from s3z_core.journal import Journal
    from s3z_core.specs import UploadOptions


class _EngineOpening:
    """The awaitable context of ``Session.engine()``: connect on enter, close on exit."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._engine: Engine | None = None

    async def __aenter__(self) -> Engine:
        self._engine = await self._session.open_engine()
        try:
            self._session.resume_id = await open_batch_record(self._session, self._engine)
        except BaseException:
            await self.__aexit__()
            raise
        return self._engine

    async def __aexit__(self, *exc: object) -> None:
        if self._engine is not None:
            self._session.current_engine = None
            await self._engine.close()
        if self._session.owns_journal:
            await self._session.close_journal()


class Session:
    def __init__(self, args: argparse.Namespace, console: Console, *, stderr_is_tty: bool) -> None:
        self.args = args
        self.console = console
        self.stderr_is_tty = stderr_is_tty
        self.filters = PathFilter(tuple(args.filters or ()))
        self._progress: NoProgress | JsonProgress | None = None
        self.journal: Journal | None = None
        self.owns_journal = False  # made here, so closed here (``resume`` lends its own)
        self.resume_id: int | None = None  # the journal's record of this command's batch
        self.current_engine: Engine | None = None
        self.suspended = False
        self.delegate: Session | None = None  # ``resume``: the command it is re-running

    async def close_journal(self) -> None:
        journal, self.journal = self.journal, None
        self.owns_journal = False
        if journal is not None:
            import asyncio

            await asyncio.to_thread(journal.close)  # its last writes land before we exit

    def interrupted(self, signum: int) -> str | None:
        """A signal arrived (before the cancellation): SIGTERM — a shutdown, a service
        stop — keeps what can be resumed; Ctrl-C cleans up as always. What to say, if
        anything different from the usual."""
        import signal

        if self.delegate is not None:
            return self.delegate.interrupted(signum)
        engine = self.current_engine
        if signum != signal.SIGTERM or engine is None or engine.journal is None:
            return None
        engine.suspend()
        self.suspended = True
        return "terminated: unfinished transfers kept; `s3z-core resume` continues them"

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
        if getattr(a, "limit_rate", None) is not None:
            knobs["limit_rate"] = a.limit_rate
        if getattr(a, "follow_symlinks", False):
            knobs["follow_symlinks"] = True
        if not getattr(a, "verify_checksums", True):
            knobs["verify"] = False
        return TransferConfig(**knobs)  # type: ignore[arg-type]

    def upload_options(self, *, uploading: bool) -> UploadOptions:
        """``--content-type``, ``--cache-control``, ``--metadata``, checked (a bad value is a
        usage error before anything runs). ``uploading`` False (a copy or a download) with
        any of them given is refused: a copy keeps its source's, a download has none."""
        from s3z_core.errors import ConfigError
        from s3z_core.specs import UploadOptions

        a = self.args
        options = UploadOptions(
            getattr(a, "content_type", None),
            getattr(a, "cache_control", None),
            tuple(getattr(a, "metadata", None) or ()),
        )
        if options and not uploading:
            raise ConfigError(
                "--content-type, --cache-control and --metadata set what an upload writes; "
                "copies keep their source's (and downloads have none)"
            )
        return options

    @property
    def workers(self) -> int:
        return int(self.args.workers or self.transfer_config().workers)

    def engine(self) -> _EngineOpening:
        """``async with session.engine() as engine``: resolved like the AWS CLI, with the first
        credentials fetched (MFA asked, a missing SSO login named) before anything runs."""
        return _EngineOpening(self)

    async def open_engine(self) -> Engine:
        a = self.args
        for value in (a.secret_key, a.session_token):
            if value:
                SECRETS.add(value)
        if not a.verify_ssl:
            self.console.warn(
                "--no-verify-ssl: TLS certificates are NOT verified; anyone on the network "
                "path can read and alter this traffic"
            )
        from s3z_core.engine import Engine

        if self.journal is None and wants_journal(a):
            from s3z_core.journal import Journal

            self.journal = Journal()
            self.owns_journal = True
        dest, source = self.sides()
        engine = await Engine.connect(
            journal=self.journal,
            transfer_config=self.transfer_config(),
            on_event=self.on_event,
            source=source,
            **dest,
        )
        self.current_engine = engine
        return engine

    def sides(self) -> tuple[ConnectionOptions, ConnectionOptions | None]:
        """The engine's connection, and another one copies read from when the two remote
        sides differ (a download's one remote side is its source, an upload's its
        destination: the main connection either way)."""
        a = self.args
        source = self.side_options("source")
        dest = self.side_options("dest")
        if not str(getattr(a, "destination", "s3://")).startswith("s3://"):
            dest = source
        elif not str(getattr(a, "source", "s3://")).startswith("s3://"):
            source = dest
        return dest, (source if source != dest else None)

    def side_options(self, side: str) -> ConnectionOptions:
        """One side's connection: ``--SIDE-profile`` / ``--SIDE-endpoint-url`` over the global
        options. A side with a profile of its own does not take the global keys (they would
        outrank that profile)."""
        a = self.args
        profile = getattr(a, f"{side}_profile", None)
        endpoint = getattr(a, f"{side}_endpoint_url", None)
        own_profile = profile is not None and profile != a.profile
        return {
            "profile": profile or a.profile,
            "endpoint_url": endpoint or a.endpoint_url,
            "region": a.region,
            "access_key": None if own_profile else a.access_key,
            "secret_key": None if own_profile else a.secret_key,
            "session_token": None if own_profile else a.session_token,
            "addressing_style": a.addressing_style,
            "verify_ssl": a.verify_ssl,
            "mfa_prompt": self.ask_mfa_code,
            "on_credentials": remember_secrets,
        }

    async def ask_mfa_code(self, prompt: str) -> str:
        """On a terminal, ask like the AWS CLI (no echo); anywhere else, refuse clearly."""
        import asyncio

        from s3z_core.cli.prompts import read_secret_from_terminal

        self.console.clear_line()
        return await asyncio.to_thread(read_secret_from_terminal, prompt)

    def on_event(self, event: TransferEvent) -> None:
        """Engine events: a path left out is said at once; the rest feed the progress view."""
        if isinstance(event, PathSkipped):
            self.console.warn(f"skipping {event.path}: {event.reason}")
            return
        self.progress(event)
