"""Local paths the folder walk cannot use are failures, never silent skips: an unreadable
folder, a FIFO, a broken link (with --follow-symlinks). ``cp -r``/``upload`` list each one
and exit 1; ``sync --delete`` deletes nothing once the source could not be read completely
(its unread files would otherwise look deleted, and their remote copies would go)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import run
from servers import boto3_client

from s3z_core.filters import EVERYTHING, PathFilter
from s3z_core.local_server import LocalS3Server
from s3z_core.transfer.walk import NOT_FOLLOWED, walk_tree


def keys(client: Any, bucket: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("s3z-core: failed:")]


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.fixture
def with_fifo(tmp_path: Path) -> Path:
    """A folder holding one regular file and one FIFO."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "a.txt").write_text("regular\n")
    os.mkfifo(root / "pipe")
    return root


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A folder with ``top.txt`` and ``sub/inner.txt``; the test may chmod ``sub`` to 000
    (restored afterwards so the temp folder can be removed)."""
    root = tmp_path / "locked"
    (root / "sub").mkdir(parents=True)
    (root / "top.txt").write_text("top\n")
    (root / "sub" / "inner.txt").write_text("inner\n")
    yield root
    (root / "sub").chmod(0o755)


# -- the walker itself (no S3 involved): the engine's one walker, as the CLI uses it ----------


def _walk(root: Path, follow: bool, filters: PathFilter = EVERYTHING) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"files": [], "skips": [], "errors": []}
    for entry in walk_tree(str(root), follow_symlinks=follow, filters=filters):
        if entry.skipped:
            out["skips"].append(f"{Path(entry.path).name}: {entry.skipped}")
        elif entry.error is not None:
            out["errors"].append((entry.relative, str(entry.error)))
        else:
            out["files"].append(entry.relative)
    return out


def test_walk_reports_fifo_and_broken_link_as_errors_but_not_a_link_left_alone(
    tmp_path: Path,
) -> None:
    (tmp_path / "f.txt").write_text("x")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dangling").symlink_to(tmp_path / "absent")
    (tmp_path / "link.txt").symlink_to(tmp_path / "f.txt")
    (tmp_path / "loop").symlink_to(tmp_path)

    walked = _walk(tmp_path, follow=False)
    assert walked["files"] == ["f.txt"]
    assert sorted(walked["skips"]) == [
        f"{n}: {NOT_FOLLOWED}" for n in ("dangling", "link.txt", "loop")
    ]
    assert walked["errors"] == [("pipe", "not a regular file")]

    walked = _walk(tmp_path, follow=True)
    assert walked["files"] == ["f.txt", "link.txt"]
    assert walked["skips"] == []
    assert walked["errors"] == [
        ("dangling", "broken symbolic link"),
        ("loop/", "symbolic link loop"),
        ("pipe", "not a regular file"),
    ]


def test_folder_reached_twice_by_links_is_walked_twice_not_called_a_loop(tmp_path: Path) -> None:
    """Loops are links back to an ancestor; a second way into a sibling folder is not one."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "f").write_text("x")
    (tmp_path / "a_link").symlink_to(tmp_path / "data", target_is_directory=True)
    walked = _walk(tmp_path, follow=True)
    assert walked["files"] == ["a_link/f", "data/f"]
    assert walked["errors"] == []


def test_an_excluded_file_is_no_failure_but_a_folder_that_cannot_be_walked_always_is(
    tmp_path: Path,
) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "loop").symlink_to(tmp_path)
    nothing = PathFilter((("exclude", "*"),))
    # What a folder that could not be walked holds (and whether it is wanted) is unknown.
    assert _walk(tmp_path, follow=True, filters=nothing) == {
        "files": [],
        "skips": [],
        "errors": [("loop/", "symbolic link loop")],
    }


# -- cp -r / upload ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cp", "upload"])
def test_fifo_is_a_listed_failure_and_exit_1(
    seaweed: LocalS3Server, home: Path, with_fifo: Path, bucket: Callable[..., str], how: str
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    args = (
        ["cp", "-r", str(with_fifo), f"s3://{b}/u/"]
        if how == "cp"
        else ["upload", str(with_fifo), "-b", b, "-p", "u"]
    )
    proc = run(seaweed, home, *args, check=1)
    failed = failed_lines(proc.stderr)
    pipe = str(with_fifo / "pipe")
    assert failed == [f"s3z-core: failed: upload {pipe} -> s3://{b}/u/pipe: not a regular file"]
    assert f"{how}: 1 files" in proc.stderr  # the summary counts it
    assert "1 failed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert keys(client, b) == {"u/a.txt"}
    body = client.get_object(Bucket=b, Key="u/a.txt")["Body"].read()
    assert body == b"regular\n"

    js = run(seaweed, home, "--json", *args, check=1)
    out = records(js.stdout)
    failures = [r for r in out if r["type"] == "failure"]
    assert len(failures) == 1
    assert failures[0]["operation"] == "upload"
    assert failures[0]["target"] == f"{pipe} -> s3://{b}/u/pipe"
    assert failures[0]["error"] == {"kind": "LocalFileError", "message": "not a regular file"}
    summary = out[-1]
    assert summary["type"] == "summary"
    assert (summary["ok"], summary["files_done"], summary["files_failed"]) == (False, 1, 1)


def test_excluded_fifo_and_unfollowed_link_are_not_failures(
    seaweed: LocalS3Server, home: Path, with_fifo: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    (with_fifo / "link.txt").symlink_to(with_fifo / "a.txt")
    proc = run(seaweed, home, "cp", "-r", "--exclude", "pipe", str(with_fifo), f"s3://{b}/")
    assert failed_lines(proc.stderr) == []
    assert f"warning: skipping {with_fifo / 'link.txt'}: {NOT_FOLLOWED}" in proc.stderr
    assert keys(boto3_client(seaweed), b) == {"a.txt"}


def test_broken_link_followed_is_a_failure(
    seaweed: LocalS3Server, home: Path, with_fifo: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    (with_fifo / "pipe").unlink()
    (with_fifo / "dangling").symlink_to(with_fifo / "absent")
    proc = run(
        seaweed, home, "cp", "-r", "--follow-symlinks", str(with_fifo), f"s3://{b}/", check=1
    )
    assert failed_lines(proc.stderr) == [
        f"s3z-core: failed: upload {with_fifo / 'dangling'} -> s3://{b}/dangling: "
        "broken symbolic link"
    ]
    assert keys(boto3_client(seaweed), b) == {"a.txt"}


def test_unreadable_folder_in_cp_r_is_a_failure(
    seaweed: LocalS3Server, home: Path, locked: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    (locked / "sub").chmod(0o000)
    proc = run(seaweed, home, "cp", "-r", str(locked), f"s3://{b}/", check=1, modes_apply=True)
    assert failed_lines(proc.stderr) == [
        f"s3z-core: failed: upload {locked / 'sub'} -> s3://{b}/sub/: "
        "cannot read folder: Permission denied"
    ]
    assert keys(boto3_client(seaweed), b) == {"top.txt"}


# -- sync --delete ----------------------------------------------------------------------------


def test_sync_delete_keeps_remote_copies_of_an_unreadable_folder(
    seaweed: LocalS3Server, home: Path, locked: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    url = f"s3://{b}/"
    run(seaweed, home, "sync", str(locked), url)
    client.put_object(Bucket=b, Key="stale.txt", Body=b"not in the source")
    assert keys(client, b) == {"top.txt", "sub/inner.txt", "stale.txt"}

    (locked / "sub").chmod(0o000)
    (locked / "new.txt").write_text("new\n")
    dry = run(seaweed, home, "sync", "--dry-run", "--delete", str(locked), url, check=1,
              modes_apply=True)  # fmt: skip
    assert "(dryrun) delete:" not in dry.stdout
    assert f"(dryrun) upload: {locked / 'new.txt'} -> {url}new.txt (new)" in dry.stdout
    assert "deletions skipped" in dry.stderr
    assert len(failed_lines(dry.stderr)) == 1

    proc = run(seaweed, home, "sync", "--delete", str(locked), url, check=1, modes_apply=True)
    assert failed_lines(proc.stderr) == [
        f"s3z-core: failed: upload {locked / 'sub'} -> {url}sub/: "
        "cannot read folder: Permission denied"
    ]
    assert (
        "s3z-core: warning: deletions skipped: 1 source path(s) could not be read, "
        "so nothing is deleted (2 would have been)"
    ) in proc.stderr
    # Nothing deleted, neither the unread folder's objects nor the genuinely stale one;
    # what could be read was still uploaded.
    assert keys(client, b) == {"top.txt", "sub/inner.txt", "stale.txt", "new.txt"}
    assert client.get_object(Bucket=b, Key="sub/inner.txt")["Body"].read() == b"inner\n"

    js = run(seaweed, home, "--json", "sync", "--delete", str(locked), url, check=1,
             modes_apply=True)  # fmt: skip
    out = records(js.stdout)
    assert [r["type"] for r in out if r["type"] in ("failure", "deleted")] == ["failure"]
    assert out[-1]["type"] == "summary"
    assert out[-1]["ok"] is False

    # Readable again: --delete works as before.
    (locked / "sub").chmod(0o755)
    run(seaweed, home, "sync", "--delete", str(locked), url)
    assert keys(client, b) == {"top.txt", "sub/inner.txt", "new.txt"}


def test_sync_delete_with_a_fifo_in_the_source_deletes_nothing(
    seaweed: LocalS3Server, home: Path, with_fifo: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    client.put_object(Bucket=b, Key="stale.txt", Body=b"x")
    proc = run(seaweed, home, "sync", "--delete", str(with_fifo), f"s3://{b}/", check=1)
    assert failed_lines(proc.stderr) == [
        f"s3z-core: failed: upload {with_fifo / 'pipe'} -> s3://{b}/pipe: not a regular file"
    ]
    assert "deletions skipped" in proc.stderr
    assert keys(client, b) == {"a.txt", "stale.txt"}
