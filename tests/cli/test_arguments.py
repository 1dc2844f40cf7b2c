"""Argument validation and exit codes that need no server: usage errors, --version, --help,
missing credentials, bad URLs; and start-up import discipline (no aiohttp/lxml/Qt)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from s3z_core import __version__
from s3z_core.cli.arguments import parse_args
from s3z_core.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aiohttp", "lxml", "PySide6", "qasync", "s3z_gui", "s3z_core.engine")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"s3z-core {__version__}\n"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in (
        "ls",
        "du",
        "mb",
        "rb",
        "cp",
        "mv",
        "rm",
        "sync",
        "presign",
        "cat",
        "upload",
        "download",
        "serve-local",
    ):
        assert command in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--part-size", "0", "ls"], "--part-size: must be positive"),
        (["--part-size=-8MiB", "ls"], "--part-size: must be positive"),
        (["--part-size", "1MiB", "ls"], "at least 5 MiB"),
        (["--part-size", "8 parsecs", "ls"], "unknown unit"),
        (["--workers", "0", "ls"], "--workers: must be positive"),
        (["cp", "a", "s3://b/", "--concurrency", "-1"], "--concurrency: must be positive"),
        (["upload", "f", "-b", "b", "-w", "0"], "must be positive"),
        (["presign", "s3://b/k", "--expires", "999999999"], "at most"),
        (["frobnicate"], "invalid choice"),
        (["cp", "only-one-arg"], "required"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err  # the error alone, not buried under the usage
    assert "--help" in err


def test_global_options_work_before_and_after_the_command() -> None:
    before = parse_args(["--endpoint-url", "http://x", "--workers", "4", "ls", "s3://b"])
    after = parse_args(["ls", "s3://b", "-e", "http://x", "--workers", "4", "--json"])
    assert before.endpoint_url == after.endpoint_url == "http://x"
    assert before.workers == after.workers == 4
    assert after.json
    assert not before.json
    legacy = parse_args(
        ["upload", "a", "b", "-b", "bk", "-p", "x/", "-w", "3", "-c", "2", "-r", "eu-west-1"]
    )
    assert (legacy.workers, legacy.concurrency, legacy.region) == (3, 2, "eu-west-1")
    assert legacy.sources == ["a", "b"]
    ordered = parse_args(["cp", "a", "s3://b/", "--exclude", "*", "--include", "*.txt"])
    assert ordered.filters == [("exclude", "*"), ("include", "*.txt")]
    sized = parse_args(["--part-size", "64M", "ls"])
    assert sized.part_size == 64 << 20


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["ls", "gs://b"], "unsupported URL scheme"),
        (["ls", "s3://"], "no bucket"),
        (["mb", "s3://b/key"], "without a key"),
        (["cat", "s3://b"], "object URL"),
        (["cp", "a", "b"], "must be an s3:// URL"),
        (["sync", "/nonexistent-dir-s3z", "s3://b/"], "existing folder"),
    ],
)
def test_bad_urls_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str], no_credentials: None
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("s3z-core: error: ")
    assert fragment in err
    assert "Traceback" not in err


def test_missing_credentials_exit_2(
    capsys: pytest.CaptureFixture[str], no_credentials: None
) -> None:
    assert main(["ls", "s3://bucket", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "no credentials found" in err
    assert err.count("\n") == 1


def test_half_given_keys_exit_2(capsys: pytest.CaptureFixture[str], no_credentials: None) -> None:
    assert main(["ls", "--access-key", "AK"]) == 2
    assert "--secret-key" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["cp", "--help"]])
def test_start_up_imports_nothing_heavy(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "s3z_core.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "s3z_core.cli.main" in imported  # the check sees our own imports, so it can fail
    heavy = [name for name in imported if name.split(".")[0] in HEAVY or name in HEAVY]
    assert heavy == []


def test_usage_error_path_imports_nothing_heavy(no_credentials: None) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "s3z_core.cli", "ls", "gs://x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "s3z_core.cli.arguments" in imported
    assert not any(name.split(".")[0] in ("aiohttp", "lxml", "PySide6") for name in imported)
