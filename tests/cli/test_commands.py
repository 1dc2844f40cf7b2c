"""Every command through the real entry point (subprocess) against SeaweedFS, with boto3 as
the oracle: sha256 of what arrives, exit codes, one-line errors, JSON lines."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import run, sha256_file, sha256_object
from servers import boto3_client

from s3z_core.local_server import LocalS3Server


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small folder: nested files, an excluded kind, a non-ASCII name."""
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "b.txt").write_text("hello\n")
    (root / "sub" / "deeper" / "c.log").write_bytes(os.urandom(1000))
    (root / "résumé.txt").write_text("accent\n")
    return root


def files_of(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in root.rglob("*") if p.is_file()}


def keys_of(client: Any, bucket: str, prefix: str = "") -> dict[str, str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {k[len(prefix) :]: sha256_object(client, bucket, k) for k in keys}


def test_mb_ls_rb(seaweed: LocalS3Server, home: Path) -> None:
    client = boto3_client(seaweed)
    name = f"cli-mb-{os.getpid()}"
    assert run(seaweed, home, "mb", f"s3://{name}").stdout == f"make_bucket: {name}\n"
    listed = run(seaweed, home, "ls", "--json").stdout.splitlines()
    assert name in [json.loads(line)["name"] for line in listed]
    client.put_object(Bucket=name, Key="x", Body=b"1")
    # (SeaweedFS deletes non-empty buckets even without --force, so that refusal is not tested.)
    run(seaweed, home, "rb", "--force", f"s3://{name}")
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert name not in names
    missing = run(seaweed, home, "rb", f"s3://{name}", check=1)
    assert missing.stderr.startswith("s3z-core: error: ")
    assert "NoSuchBucket (HTTP 404)" in missing.stderr
    assert missing.stderr.count("\n") == 1


def test_cp_upload_tree_reads_back_identical_through_boto3(
    seaweed: LocalS3Server, home: Path, tree: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    proc = run(seaweed, home, "cp", "-r", str(tree), f"s3://{b}/up/", "--exclude", "*.log")
    expected = {k: v for k, v in files_of(tree).items() if not k.endswith(".log")}
    assert keys_of(client, b, "up/") == expected
    assert "upload: " in proc.stdout
    assert "\x1b" not in proc.stdout + proc.stderr  # not a TTY: no escape codes
    # A single file into a "folder" keeps its name; mtime is stored for sync.
    run(seaweed, home, "cp", str(tree / "a.bin"), f"s3://{b}/one/")
    assert sha256_object(client, b, "one/a.bin") == sha256_file(tree / "a.bin")
    head = client.head_object(Bucket=b, Key="one/a.bin")
    assert abs(float(head["Metadata"]["mtime"]) - (tree / "a.bin").stat().st_mtime) < 1e-3


def test_boto3_objects_download_identical_through_cli(
    seaweed: LocalS3Server, home: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    blobs = {"d/x.bin": os.urandom(2_000_000), "d/y/z.txt": b"zz\n", "other.txt": b"o"}
    for key, data in blobs.items():
        client.put_object(Bucket=b, Key=key, Body=data)
    out = tmp_path / "out"
    run(seaweed, home, "cp", "-r", f"s3://{b}/d/", f"{out}/")
    assert files_of(out) == {
        "x.bin": hashlib.sha256(blobs["d/x.bin"]).hexdigest(),
        "y/z.txt": hashlib.sha256(b"zz\n").hexdigest(),
    }
    run(seaweed, home, "cp", f"s3://{b}/other.txt", str(tmp_path / "o.txt"))
    assert (tmp_path / "o.txt").read_bytes() == b"o"
    cat = run(seaweed, home, "cat", f"s3://{b}/d/y/z.txt")
    assert cat.stdout == "zz\n"


def test_ls_levels_human_recursive_and_du(
    seaweed: LocalS3Server, home: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    for key, size in (("top.bin", 2048), ("dir/a", 10), ("dir/sub/b", 20)):
        client.put_object(Bucket=b, Key=key, Body=b"x" * size)
    lines = run(seaweed, home, "ls", f"s3://{b}").stdout.splitlines()
    assert lines[0].split() == ["PRE", "dir/"]
    assert lines[1].endswith(" 2048 top.bin")
    sub = run(seaweed, home, "ls", "--human", f"s3://{b}/dir/").stdout.splitlines()
    assert sub[0].split() == ["PRE", "sub/"]
    assert sub[1].endswith("10 B a")
    rec = run(seaweed, home, "ls", "-r", "--json", f"s3://{b}").stdout.splitlines()
    records = [json.loads(line) for line in rec]
    assert {(r["key"], r["size"]) for r in records} == {
        ("top.bin", 2048),
        ("dir/a", 10),
        ("dir/sub/b", 20),
    }
    assert all(r["type"] == "object" for r in records)
    du = json.loads(run(seaweed, home, "du", "--json", f"s3://{b}/dir/").stdout)
    assert (du["bytes"], du["objects"]) == (30, 2)
    assert run(seaweed, home, "du", "-H", f"s3://{b}").stdout.startswith("2.0 KiB in 3 objects")


def test_s3_to_s3_copy_mv_and_local_mv(
    seaweed: LocalS3Server, home: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    b1, b2 = bucket(seaweed), bucket(seaweed)
    client = boto3_client(seaweed)
    data = os.urandom(500_000)
    client.put_object(Bucket=b1, Key="src/k.bin", Body=data)
    run(seaweed, home, "cp", f"s3://{b1}/src/k.bin", f"s3://{b2}/copied/")
    assert sha256_object(client, b2, "copied/k.bin") == hashlib.sha256(data).hexdigest()
    run(seaweed, home, "cp", "-r", f"s3://{b1}/src/", f"s3://{b2}/tree/")
    assert list(keys_of(client, b2, "tree/")) == ["k.bin"]
    run(seaweed, home, "mv", f"s3://{b1}/src/k.bin", f"s3://{b2}/moved.bin")
    assert sha256_object(client, b2, "moved.bin") == hashlib.sha256(data).hexdigest()
    assert keys_of(client, b1) == {}
    local = tmp_path / "m.txt"
    local.write_text("move me")
    run(seaweed, home, "mv", str(local), f"s3://{b1}/m.txt")
    assert not local.exists()
    assert client.get_object(Bucket=b1, Key="m.txt")["Body"].read() == b"move me"


def test_rm_single_recursive_filtered_and_dry_run(
    seaweed: LocalS3Server, home: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    for key in ("keep.txt", "p/a.log", "p/b.txt", "p/c/d.log", "q"):
        client.put_object(Bucket=b, Key=key, Body=b"1")
    run(seaweed, home, "rm", f"s3://{b}/q")
    dry = run(seaweed, home, "rm", "-r", "--dry-run", f"s3://{b}/p/")
    assert dry.stdout.count("(dryrun) delete:") == 3
    assert set(keys_of(client, b)) == {"keep.txt", "p/a.log", "p/b.txt", "p/c/d.log"}
    run(seaweed, home, "rm", "-r", f"s3://{b}/p/", "--exclude", "*", "--include", "*.log")
    assert set(keys_of(client, b)) == {"keep.txt", "p/b.txt"}
    out = run(seaweed, home, "rm", "-r", "--json", f"s3://{b}/p/").stdout.splitlines()
    assert [json.loads(line) for line in out] == [
        {"type": "deleted", "bucket": b, "key": "p/b.txt"}
    ]
    assert set(keys_of(client, b)) == {"keep.txt"}
    refused = run(seaweed, home, "rm", f"s3://{b}/p/", check=2)
    assert "use -r" in refused.stderr


def test_sync_both_directions_dry_run_delete_size_only(
    seaweed: LocalS3Server, home: Path, tree: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    url = f"s3://{b}/mirror/"
    dry = run(seaweed, home, "sync", "--dry-run", str(tree), url)
    assert dry.stdout.count("(dryrun) upload:") == 4
    assert "(new)" in dry.stdout
    assert keys_of(client, b) == {}
    run(seaweed, home, "sync", str(tree), url)
    assert keys_of(client, b, "mirror/") == files_of(tree)
    again = run(seaweed, home, "sync", "--dry-run", str(tree), url)
    assert again.stdout == ""
    assert "0 to copy, 0 to delete, 4 unchanged" in again.stderr
    # Change one file (same size, later mtime), add one, remove one.
    (tree / "sub" / "b.txt").write_text("HELLO\n")
    os.utime(tree / "sub" / "b.txt", (4_000_000_000, 4_000_000_000))
    (tree / "new.txt").write_text("n")
    (tree / "a.bin").unlink()
    size_only = run(seaweed, home, "sync", "--dry-run", "--size-only", "--json", str(tree), url)
    plan = [json.loads(line) for line in size_only.stdout.splitlines()]
    assert [(p["action"], p["reason"]) for p in plan] == [("upload", "new")]
    plan_out = run(seaweed, home, "sync", "--dry-run", "--delete", str(tree), url).stdout
    assert f"(dryrun) upload: {tree / 'new.txt'} -> {url}new.txt (new)" in plan_out
    assert f"-> {url}sub/b.txt (newer)" in plan_out
    assert f"(dryrun) delete: {url}a.bin (not in source)" in plan_out
    run(seaweed, home, "sync", "--delete", str(tree), url)
    assert keys_of(client, b, "mirror/") == files_of(tree)
    # Download direction into an empty folder, then nothing more to do.
    down = tmp_path / "down"
    run(seaweed, home, "sync", url, str(down))
    assert files_of(down) == files_of(tree)
    assert run(seaweed, home, "sync", "--dry-run", url, str(down)).stdout == ""
    (down / "stray.txt").write_text("x")
    run(seaweed, home, "sync", "--delete", url, str(down))
    assert not (down / "stray.txt").exists()


def test_sync_nfd_local_name_matches_nfc_key(
    seaweed: LocalS3Server, home: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    import unicodedata

    nfc = unicodedata.normalize("NFC", "café.txt")
    nfd = unicodedata.normalize("NFD", "café.txt")
    root = tmp_path / "nf"
    root.mkdir()
    (root / nfd).write_text("same")
    os.utime(root / nfd, (1_000_000_000, 1_000_000_000))
    client.put_object(Bucket=b, Key=nfc, Body=b"same")
    plan = run(seaweed, home, "sync", "--dry-run", "--delete", str(root), f"s3://{b}/")
    assert plan.stdout == ""  # same file: nothing to upload, nothing to delete


def test_presign_url_fetches_the_object(
    seaweed: LocalS3Server, home: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    boto3_client(seaweed).put_object(Bucket=b, Key="p r+s.txt", Body=b"presigned!")
    url = run(seaweed, home, "presign", f"s3://{b}/p r+s.txt", "--expires", "120").stdout.strip()
    assert url.startswith(seaweed.endpoint_url)
    assert "X-Amz-Expires=120" in url
    assert seaweed.secret_key not in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"presigned!"


def test_original_s3z_upload_download_shape(
    seaweed: LocalS3Server, home: Path, tree: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    creds = [
        "-e", seaweed.endpoint_url, "--access-key", seaweed.access_key,
        # "=": a random secret may start with "-", which argparse would read as an option
        f"--secret-key={seaweed.secret_key}", "-q",
    ]  # fmt: skip
    proc = run(
        None, home, *creds, "upload", str(tree), str(tree / "a.bin"), "-b", b, "-p", "x",
        "-w", "4", "-c", "2", AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_ENDPOINT_URL="",
    )  # fmt: skip
    assert proc.stdout == ""  # -q
    expected = {f"x/{k}": v for k, v in files_of(tree).items()} | {
        "x/a.bin": sha256_file(tree / "a.bin")
    }
    assert keys_of(client, b) == expected
    dest = tmp_path / "dl"
    run(
        None, home, *creds, "download", "-b", b, "-p", "x/sub/", "-d", str(dest),
        AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_ENDPOINT_URL="",
    )  # fmt: skip
    assert files_of(dest) == {
        k.removeprefix("sub/"): v for k, v in files_of(tree).items() if k.startswith("sub/")
    }


def test_json_transfer_events_follow_the_schema(
    seaweed: LocalS3Server, home: Path, tree: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    proc = run(seaweed, home, "cp", "-r", "--json", str(tree), f"s3://{b}/j/")
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = {r["type"] for r in records}
    assert {"queued", "completed", "progress", "summary"} <= kinds
    queued = [r for r in records if r["type"] == "queued"]
    assert len(queued) == 4
    assert set(queued[0]) == {"type", "id", "direction", "source", "destination", "size"}
    summary = records[-1]
    assert summary["type"] == "summary"
    assert summary["ok"] is True
    assert summary["files_done"] == 4
    assert summary["bytes"] == sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    assert proc.stderr == ""


def test_downloads_are_verified_unless_checksums_are_ignored(
    seaweed: LocalS3Server, home: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    b = bucket(seaweed)
    data = os.urandom(700_000)
    boto3_client(seaweed).put_object(Bucket=b, Key="v.bin", Body=data)

    def verification(*flags: str) -> str:
        out = tmp_path / f"v{len(flags)}.bin"
        proc = run(seaweed, home, "--json", *flags, "cp", f"s3://{b}/v.bin", str(out))
        assert out.read_bytes() == data
        done = [json.loads(line) for line in proc.stdout.splitlines()]
        return str(next(r for r in done if r["type"] == "completed")["verification"])

    assert verification() == "verified-md5"
    assert verification("--ignore-checksum") == "unverified"
