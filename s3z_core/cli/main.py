"""Entry point of ``s3z-core``: parse, run one command on an event loop, map outcomes to exit codes.

Exit codes: 0 ok; 1 some operations failed (each listed on stderr); 2 usage or
configuration error (bad option, bad URL, missing credentials); 130 interrupted by
Ctrl-C after in-flight multipart uploads were aborted and temp files removed;
143 for SIGTERM, which keeps them in the journal for ``s3z-core resume`` instead.
This module holds the CLI's one blind ``except Exception``: anything unexpected becomes
one line (a traceback only with ``--debug``), and every secret the process knows is
scrubbed from stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from s3z_core.cli.render import Console
    from s3z_core.cli.session import Session
    from s3z_core.errors import S3zError
    from s3z_core.loop_lag import EnvProbe

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process killed by SIGPIPE

# command name -> module under s3z_core.cli.commands (imported only when run)
_COMMANDS = {
    "ls": "listing",
    "du": "listing",
    "find": "listing",
    "mb": "buckets",
    "rb": "buckets",
    "cp": "copying",
    "mv": "copying",
    "upload": "copying",
    "download": "copying",
    "rm": "removal",
    "sync": "syncing",
    "presign": "objects",
    "cat": "objects",
    "serve-local": "serving",
    "completion": "completion",
    "whoami": "identity",
    "resume": "resuming",
    "uploads": "uploads",
}
# commands that run without an event loop of their own
_SYNC_COMMANDS = frozenset({"serve-local", "completion"})


def _run_until_signal(
    coro: Coroutine[Any, Any, int], on_signal_first: Callable[[int], str | None] | None = None
) -> int:
    """Run ``coro``; on SIGINT/SIGTERM cancel it, let it clean up, return 130/143.

    A second signal during cleanup exits at once (the user insisted). ``on_signal_first``
    hears the signal before the cancellation (SIGTERM keeps resumable transfers) and says
    what to print instead of the usual line.
    """
    import asyncio
    import os
    import signal

    loop = asyncio.new_event_loop()
    lag_probe: EnvProbe | None = None
    if os.environ.get("S3Z_LOOP_LAG_FILE"):  # the bench measures the loop (loop_lag.ENV_FILE)
        from s3z_core.loop_lag import EnvProbe

        lag_probe = EnvProbe.from_env(loop)
    task = loop.create_task(coro)
    received: list[int] = []
    said: list[str] = []

    def on_signal(signum: int) -> None:
        if received:
            sys.stderr.write("\ns3z-core: interrupted again: exiting without cleanup\n")
            sys.stderr.flush()
            os._exit(EXIT_SIGINT if signum == signal.SIGINT else EXIT_SIGTERM)
        received.append(signum)
        if on_signal_first is not None and (message := on_signal_first(signum)):
            said.append(message)
        task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        if not received:
            raise
        sys.stderr.write(
            f"\ns3z-core: {said[0]}\n"
            if said
            else "\ns3z-core: interrupted: in-flight multipart uploads aborted, partial files "
            "removed\n"
        )
        return EXIT_SIGINT if received[0] == signal.SIGINT else EXIT_SIGTERM
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in leftovers:
            t.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        if lag_probe is not None and (problem := lag_probe.finish()):
            sys.stderr.write(f"s3z-core: warning: {problem}\n")
        loop.close()


def _dispatch(args: argparse.Namespace, session: Session) -> int:
    import importlib

    from s3z_core.collector import settle_collection

    module = importlib.import_module(f"s3z_core.cli.commands.{_COMMANDS[args.command]}")
    run = getattr(module, "run_" + args.command.replace("-", "_"))
    if args.command in _SYNC_COMMANDS:
        settle_collection()
        return int(run(session))
    # The engine (aiohttp and all) is imported before the loop starts, and with it the code
    # the command will run (its module's ``work_of``; ls of one level: nothing more):
    # imports are blocking work like any other, and the loop must only ever wait on sockets
    # and timers. A bad URL is still refused first, without that import (a usage error
    # answers at once).
    from s3z_core.cli.resumable import wants_journal
    from s3z_core.cli.urls import parse_location

    for name in ("url", "source", "destination"):
        value = getattr(args, name, None)
        if isinstance(value, str) and value:
            parse_location(value)
    from s3z_core.engine import prepare

    work_of = getattr(module, "work_of", None)
    prepare(*(work_of(session) if work_of else ()))
    if wants_journal(args):
        prepare("journal")
    settle_collection()  # the imports are done: see s3z_core/collector.py
    return _run_until_signal(run(session), session.interrupted)


def main(argv: Sequence[str] | None = None) -> int:
    own_command_line = argv is None  # the process's entry point, not a caller in-process
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        # Fast path: answer before even importing argparse.
        from s3z_core import __version__

        sys.stdout.write(f"s3z-core {__version__}\n")
        return EXIT_OK
    if argv[:1] == ["__complete"]:
        # The completion scripts' hidden callback for s3:// words (COMPLETE_COMMAND).
        from s3z_core.cli.commands.completion import run_hidden_complete

        return run_hidden_complete(argv[1:])

    from s3z_core.collector import pause_collection

    if own_command_line:
        pause_collection()  # until the command's imports are done (s3z_core/collector.py)
    from s3z_core.cli.arguments import parse_args
    from s3z_core.cli.redaction import SECRETS, RedactingStream

    real_stderr = sys.stderr
    sys.stderr = RedactingStream(real_stderr, SECRETS)
    debug = "--debug" in argv
    try:
        try:
            args = parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        return _run(args)
    except KeyboardInterrupt:  # Ctrl-C outside the event loop (e.g. while parsing)
        sys.stderr.write("\ns3z-core: interrupted\n")
        return EXIT_SIGINT
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as exc:  # noqa: BLE001 - the CLI's one outer edge
        if debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"s3z-core: error: unexpected {type(exc).__name__}: {exc}\n")
        return EXIT_FAILED
    finally:
        sys.stderr.flush()
        sys.stderr = real_stderr


def _run(args: argparse.Namespace) -> int:
    from s3z_core.cli.render import Console
    from s3z_core.cli.session import Session
    from s3z_core.errors import ConfigError, CredentialsError, S3zError

    console = Console(json_lines=bool(args.json), quiet=bool(args.quiet))
    session = Session(args, console, stderr_is_tty=sys.stderr.isatty())
    try:
        code = _dispatch(args, session)
    except S3zError as exc:
        # Bad settings or no usable credentials are usage errors (2); the rest failed (1).
        usage = isinstance(exc, ConfigError | CredentialsError)
        return _report_error(args, console, exc, EXIT_USAGE if usage else EXIT_FAILED)
    sys.stdout.flush()
    return code


def _report_error(args: argparse.Namespace, console: Console, exc: S3zError, code: int) -> int:
    """One line on stderr (a traceback only with --debug), and a JSON record with --json."""
    if args.debug:
        import traceback

        traceback.print_exc(file=sys.stderr)
    console.clear_line()
    sys.stderr.write(f"s3z-core: error: {exc}\n")
    if console.json_lines:
        from s3z_core.cli.render import error_record

        console.emit({"type": "error", "exit_code": code} | error_record(exc))
    return code


def _quiet_broken_pipe() -> int:
    """``s3z-core cat … | head``: the reader left; exit quietly like other Unix tools."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE
