"""The argparse grammar of ``s3z-core``: global options, subcommands, value checks.

Global options are accepted before *or* after the subcommand (``s3z-core ls s3://b
--endpoint-url …``): they live in a parent parser shared by every subparser, whose
defaults are suppressed so a later position never resets an earlier one.
Importing this module costs only argparse: no engine, no aiohttp.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from s3z_core import __version__
from s3z_core.cli.upload_flags import add_upload_flags
from s3z_core.cli.values import (
    OrderedFilter,
    duration,
    part_size,
    positive_int,
    presign_expiry,
    rate,
    size,
)

GLOBAL_DEFAULTS: dict[str, Any] = {
    "endpoint_url": None,
    "profile": None,
    "region": None,
    "access_key": None,
    "secret_key": None,
    "session_token": None,
    "addressing_style": None,
    "concurrency": None,
    "workers": None,
    "part_size": None,
    "limit_rate": None,
    "verify_ssl": True,
    "json": False,
    "quiet": False,
    "progress": True,
    "debug": False,
    "no_journal": False,
}


# The valued transfer knobs: (flag, parser, metavar, help).
_TRANSFER_KNOBS: tuple[tuple[str, Callable[[str], object], str, str], ...] = (
    ("--concurrency", positive_int, "N", "parallel parts/ranges per file (default: by file size)"),
    ("--workers", positive_int, "N", "files transferred at once (default 32)"),
    (
        "--part-size",
        part_size,
        "SIZE",
        "multipart part size: 8MiB, 64M, or bytes (default: by file size)",
    ),
    (
        "--limit-rate",
        rate,
        "RATE",
        "cap all transfers together at RATE bytes/s, uploads and downloads: 20M, 512K",
    ),
)


# The on/off flags after the transfer knobs, in help order: (group, flags, the setting the
# flag clears or None for one it sets, help).
_SWITCHES: tuple[tuple[str, tuple[str, ...], str | None, str], ...] = (
    (
        "transfer",
        ("--ignore-checksum",),
        "verify_checksums",
        "skip the MD5/composite-ETag check of downloads (sizes are still checked)",
    ),
    ("output", ("--json",), None, "JSON lines on stdout (schema in the README)"),
    ("output", ("-q", "--quiet"), None, "print only results and errors"),
    ("output", ("--no-progress",), "progress", "no live progress bar"),
    ("transfer", ("--no-journal",), None, "do not record transfers for resume (README: Resume)"),
    ("output", ("--debug",), None, "show tracebacks for unexpected errors"),
)


def _switch(
    group: argparse._ArgumentGroup,
    flags: tuple[str, ...],
    clears: str | None,
    help_text: str,
    *,
    suppress: bool,
) -> None:
    """A flag that sets its own setting, or clears ``clears``; unset it means the opposite,
    except under ``suppress``, where it is absent so a subcommand never resets the main
    parser's value."""
    group.add_argument(
        *flags,
        dest=clears,
        action="store_true" if clears is None else "store_false",
        default=argparse.SUPPRESS if suppress else clears is not None,
        help=help_text,
    )


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr and exit 2: the whole usage block argparse prints
    first buried the error under a dozen lines of options (``--help`` still shows them)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _global_options(suppress: bool) -> _Parser:
    """The shared options; ``suppress`` hides defaults (used for subparsers)."""
    p = _Parser(add_help=False)
    d = argparse.SUPPRESS if suppress else None
    g = p.add_argument_group("connection")
    g.add_argument(
        "-e",
        "--endpoint-url",
        "--endpoint",
        dest="endpoint_url",
        metavar="URL",
        default=d,
        help="S3 endpoint, e.g. http://127.0.0.1:8333 (env AWS_ENDPOINT_URL)",
    )
    g.add_argument("--profile", default=d, help="profile in ~/.aws/credentials and ~/.aws/config")
    g.add_argument("--region", default=d, help="signing region (default us-east-1)")
    g.add_argument("--access-key", default=d, metavar="ID", help="access key id")
    g.add_argument(
        "--secret-key",
        default=d,
        metavar="KEY",
        help="secret access key (prefer the environment: argv is visible to others)",
    )
    g.add_argument("--session-token", default=d, metavar="TOKEN", help="session token")
    style = g.add_mutually_exclusive_group()
    for flag, const, shape in (
        ("--path-style", "path", "endpoint/bucket"),
        ("--virtual-host", "virtual", "bucket.endpoint"),
    ):
        style.add_argument(
            flag,
            dest="addressing_style",
            action="store_const",
            const=const,
            default=d,
            help=f"address buckets as {shape}",
        )
    _switch(
        g,
        ("--no-verify-ssl",),
        "verify_ssl",
        "do not verify TLS certificates (dangerous; warns on stderr)",
        suppress=suppress,
    )
    t = p.add_argument_group("transfer")
    for flag, kind, metavar, text in _TRANSFER_KNOBS:
        t.add_argument(flag, type=kind, default=d, metavar=metavar, help=text)
    groups = {"transfer": t, "output": p.add_argument_group("output")}
    for group, flags, clears, text in _SWITCHES:
        _switch(groups[group], flags, clears, text, suppress=suppress)
    return p


def _s3z_shape(p: argparse.ArgumentParser, streams: str) -> None:
    """The original s3z's short options (-w, -c, -r) and the filters."""
    for flag, dest, text in (
        ("-w", "workers", "files at once (= --workers)"),
        ("-c", "concurrency", f"{streams} per file (= --concurrency)"),
    ):
        p.add_argument(
            flag,
            dest=dest,
            type=positive_int,
            default=argparse.SUPPRESS,
            metavar="N",
            help=text,
        )
    p.add_argument("-r", dest="region", default=argparse.SUPPRESS, help="region (= --region)")
    _filters(p)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--include",
        action=OrderedFilter,
        metavar="GLOB",
        help="include paths matching GLOB (later filters win)",
    )
    p.add_argument(
        "--exclude",
        action=OrderedFilter,
        metavar="GLOB",
        help="exclude paths matching GLOB (later filters win)",
    )
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="follow symbolic links when walking local folders",
    )


def _endpoints(p: argparse.ArgumentParser) -> None:
    """s3→s3 between two endpoints or accounts: each side may name its own (the global
    options stay the default for both). Different sides relay the bytes through this
    process, never its disk; the same side keeps server-side copies."""
    g = p.add_argument_group("cross-endpoint copies")
    for side in ("source", "dest"):
        g.add_argument(
            f"--{side}-profile",
            dest=f"{side}_profile",
            metavar="NAME",
            help=f"profile for the {side} side (default: --profile)",
        )
        g.add_argument(
            f"--{side}-endpoint-url",
            dest=f"{side}_endpoint_url",
            metavar="URL",
            help=f"S3 endpoint of the {side} side (default: --endpoint-url)",
        )


def _sides(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("source", help=help_text)
    p.add_argument("destination", help=help_text)


def _copy_options(p: argparse.ArgumentParser) -> None:
    """What cp, mv and sync share after their own flags, in help order."""
    _filters(p)
    add_upload_flags(p)
    _endpoints(p)
    cluster_option(p)


def cluster_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="shard the run over a Dask cluster: local:N (N worker processes here) or "
        "tcp://HOST:PORT (an existing scheduler); needs pip install 's3z[cluster]'",
    )
    p.add_argument(
        "--shard-files",
        type=positive_int,
        metavar="N",
        help="files per cluster task (default 1000)",
    )
    p.add_argument(
        "--shard-size",
        dest="shard_bytes",
        type=size,
        metavar="SIZE",
        help="bytes per cluster task (default 1GiB; a bigger file is a task of its own)",
    )


def build_parser() -> argparse.ArgumentParser:
    shared = _global_options(suppress=True)
    parser = _Parser(
        prog="s3z-core",
        description="Fast, safe transfers for S3 and S3-compatible stores.",
        parents=[_global_options(suppress=False)],
        epilog="Exit codes: 0 ok, 1 some operations failed, 2 usage or config error, "
        "130 interrupted. Docs: README.md, section CLI",
    )
    parser.add_argument("--version", action="version", version=f"s3z-core {__version__}")
    parser.add_argument("-r", dest="region", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[shared])

    p = command("ls", "list buckets, or objects one level (PRE rows) or recursively")
    p.add_argument("url", nargs="?", help="s3://bucket[/prefix]; omit to list buckets")
    p.add_argument("-r", "--recursive", action="store_true", help="list every key under the prefix")
    p.add_argument("-H", "--human", action="store_true", help="sizes like 1.5 MiB")
    p.add_argument(
        "--versions",
        action="store_true",
        help="every version and delete marker, newest first per key (versioned buckets)",
    )

    p = command("find", "search a bucket: keys matching a glob (*.jpg) or containing a text")
    p.add_argument("url", help="s3://bucket[/prefix]")
    p.add_argument("query", help="a glob when it has * ? [, else a text the key contains")
    p.add_argument("--case-sensitive", action="store_true", help="match case exactly")
    p.add_argument("-H", "--human", action="store_true", help="sizes like 1.5 MiB")

    p = command("du", "total size and object count under a prefix")
    p.add_argument("url", help="s3://bucket[/prefix]")
    p.add_argument("-H", "--human", action="store_true", help="size like 1.5 GiB")

    p = command("mb", "make a bucket")
    p.add_argument("url", help="s3://bucket")

    p = command("rb", "remove a bucket")
    p.add_argument("url", help="s3://bucket")
    p.add_argument("--force", action="store_true", help="delete every object first")

    for name, text in (
        ("cp", "copy files/objects: local->s3, s3->local, s3->s3 (server-side or relayed)"),
        ("mv", "move: copy, then delete each source that arrived"),
    ):
        p = command(name, text)
        _sides(p, "local path or s3://bucket/key")
        p.add_argument("-r", "--recursive", action="store_true", help="copy folders/prefixes")
        _copy_options(p)

    p = command("rm", "delete objects (batched DeleteObjects, per-key failures listed)")
    p.add_argument("url", help="s3://bucket/key, or s3://bucket/prefix with -r")
    p.add_argument("-r", "--recursive", action="store_true", help="delete everything under prefix")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    _filters(p)
    cluster_option(p)

    p = command("sync", "make the destination match the source (size + mtime)")
    _sides(p, "local folder or s3://bucket/prefix")
    p.add_argument("--size-only", action="store_true", help="compare sizes only")
    p.add_argument("--delete", action="store_true", help="delete destination files not in source")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    _copy_options(p)

    p = command("presign", "print a time-limited URL for an object")
    p.add_argument("url", help="s3://bucket/key")
    p.add_argument(
        "--expires",
        type=presign_expiry,
        default=3600,
        metavar="SECONDS",
        help="validity in seconds (default 3600, at most 604800)",
    )
    p.add_argument("--method", choices=("GET", "PUT"), default="GET", help="HTTP method")

    p = command("cat", "write an object to stdout")
    p.add_argument("url", help="s3://bucket/key")

    p = command("upload", "upload files/folders to a bucket (original s3z shape)")
    p.add_argument("sources", nargs="+", help="files or folders")
    p.add_argument("-b", "--bucket", required=True, help="destination bucket")
    p.add_argument("-p", "--prefix", default="", help="key prefix")
    _s3z_shape(p, "parts")
    add_upload_flags(p)

    p = command("download", "download a prefix into a folder (original s3z shape)")
    p.add_argument("-b", "--bucket", required=True, help="source bucket")
    p.add_argument("-p", "--prefix", default="", help="key prefix")
    p.add_argument("-d", "--dest", default=".", help="destination folder (default .)")
    _s3z_shape(p, "ranges")

    command("whoami", "show the identity the credentials belong to, and where they came from")

    p = command("resume", "continue every unfinished transfer the journal holds")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="show them, change nothing")
    what.add_argument(
        "--discard",
        metavar="ID",
        nargs="*",
        help="forget these (ids from --list; --all: every one): abort their uploads, "
        "remove their temp files",
    )
    p.add_argument("--all", action="store_true", help="with --discard: all of them")

    p = command("uploads", "incomplete multipart uploads: list them, abort them")
    actions = p.add_subparsers(dest="uploads_action", metavar="ACTION", required=True)
    q = actions.add_parser("ls", help="list them", parents=[shared])
    q.add_argument("url", help="s3://bucket[/prefix]")
    q = actions.add_parser("abort", help="abort them", parents=[shared])
    q.add_argument("url", help="s3://bucket[/prefix]")
    q.add_argument(
        "--older-than",
        type=duration,
        metavar="DURATION",
        help="only uploads started longer ago than this (90s, 30m, 1h, 2d, 1w)",
    )
    q.add_argument("--not-ours", action="store_true", help="only uploads our journal does not own")
    q.add_argument("--dry-run", action="store_true", help="list what would be aborted")

    p = command("serve-local", "run a local SeaweedFS S3 server in the foreground (Ctrl-C stops)")
    p.add_argument("--dir", help="data folder (default: a temporary folder, removed on exit)")
    p.add_argument("--port", type=positive_int, help="S3 port (default: a free port)")

    p = command("completion", "print a shell completion script (commands, options, s3:// keys)")
    p.add_argument(
        "shell",
        choices=("bash", "zsh", "fish"),
        help="e.g. source <(s3z-core completion bash) in ~/.bashrc (README: Install)",
    )
    return parser


def global_options_parser() -> argparse.ArgumentParser:
    """The connection/transfer/output options alone: completion reads them off a partial line."""
    return _global_options(suppress=False)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    for name, value in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if not hasattr(args, "filters"):
        args.filters = []
    return args
