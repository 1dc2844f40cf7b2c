"""``s3z-core sync --dry-run`` plans what ``aws s3 sync --dryrun`` plans (aws-cli is the
oracle, run in the same test on the same SeaweedFS bucket), both directions, on a tree of
new, resized, older, newer, unchanged, excluded and deleted files.

The one documented difference: s3→local, a same-size object newer than the local file is
downloaded by s3z and missed by aws-cli (its download rule copies only when the local file
is the newer one). Every other row must agree, the restored local change included."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from clirun import cli_env, run
from servers import boto3_client

AWS = shutil.which("aws", path=str(Path(os.sys.executable).parent)) or shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="aws-cli (the bench extra) is not installed")

LINE = re.compile(r"^\(dryrun\) (upload|download|delete): (.+?)(?: (?:to|->) (.+?))?(?: \(.*\))?$")


def planned(output: str, root: str, cwd: Path) -> set[tuple[str, str]]:
    """(operation, name relative to the synced destination root) for every dry-run line."""
    rows = set()
    for line in output.splitlines():
        match = LINE.match(line.strip())
        if not match:
            continue
        op, first, second = match.groups()
        target = second if second else first
        if not target.startswith(("s3://", "/")):  # aws-cli may print a path relative to cwd
            target = os.path.normpath(os.path.join(cwd, target))
        rows.add((op, target.split(root, 1)[1].lstrip("/")))
    return rows


def aws_sync(server, home: Path, *args: str) -> str:
    proc = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint_url, "s3", "sync", *args],
        capture_output=True,
        text=True,
        env=cli_env(server, home),
        cwd=home,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write(path: Path, data: bytes, mtime: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


FILTERS = ("--delete", "--exclude", "*.log")


def test_upload_plans_agree_with_aws_cli(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    tree = tmp_path / "tree"
    base = time.time() - 7200
    for rel in ("same.txt", "resized.txt", "older.txt", "newer.txt", "deleted.txt", "d/e/deep.bin"):
        write(tree / rel, b"v1-" + rel.encode(), base)
    url = f"s3://{name}/p"
    aws_sync(seaweed, tmp_path, str(tree), url)  # the last sync
    (tree / "deleted.txt").unlink()
    write(tree / "new.txt", b"new")
    write(tree / "d/new-deep.txt", b"new too")
    write(tree / "resized.txt", b"a longer body than before")
    os.utime(tree / "older.txt", (base - 3600, base - 3600))
    listed = boto3_client(seaweed).head_object(Bucket=name, Key="p/newer.txt")["LastModified"]
    later = listed.timestamp() + 3600
    os.utime(tree / "newer.txt", (later, later))
    write(tree / "skip.log", b"excluded")

    ours = run(seaweed, tmp_path, "sync", "--dry-run", *FILTERS, str(tree), url).stdout
    theirs = aws_sync(seaweed, tmp_path, "--dryrun", *FILTERS, str(tree), url)
    want = {
        ("upload", "new.txt"),
        ("upload", "d/new-deep.txt"),
        ("upload", "resized.txt"),
        ("upload", "newer.txt"),
        ("delete", "deleted.txt"),
    }
    # The oracle sees the tree as we do.
    assert planned(theirs, f"/{name}/p", tmp_path) == want, theirs
    assert planned(ours, f"/{name}/p", tmp_path) == want, ours


def test_download_plans_agree_with_aws_cli_but_the_documented_case(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    for rel in ("same.txt", "resized.txt", "older.txt", "changed.txt", "gone.txt", "d/deep.bin"):
        client.put_object(Bucket=name, Key=f"p/{rel}", Body=b"v1-" + rel.encode())
    local = tmp_path / "local"
    url = f"s3://{name}/p"
    aws_sync(seaweed, tmp_path, url, str(local))  # the last sync: local times = LastModified
    client.delete_object(Bucket=name, Key="p/gone.txt")
    client.put_object(Bucket=name, Key="p/new.txt", Body=b"new")
    client.put_object(Bucket=name, Key="p/skip.log", Body=b"excluded")
    write(local / "resized.txt", b"changed locally, longer")
    write(local / "extra.txt", b"only here")
    stamp = (local / "older.txt").stat().st_mtime
    os.utime(local / "older.txt", (stamp - 3600, stamp - 3600))  # the object looks newer
    os.utime(local / "changed.txt", (stamp + 3600, stamp + 3600))  # edited after the sync

    ours = run(seaweed, tmp_path, "sync", "--dry-run", *FILTERS, url, str(local)).stdout
    theirs = aws_sync(seaweed, tmp_path, "--dryrun", *FILTERS, url, str(local))
    agreed = {
        ("download", "new.txt"),
        ("download", "resized.txt"),
        ("download", "changed.txt"),  # a local change after the last sync is restored
        ("delete", "extra.txt"),
        ("delete", "gone.txt"),
    }
    root = str(local)
    assert planned(theirs, root, tmp_path) == agreed, theirs
    assert planned(ours, root, tmp_path) == agreed | {("download", "older.txt")}, ours
