"""``--content-type``, ``--cache-control`` and ``--metadata`` on cp / upload / sync, as
aws-cli spells them, checked on the objects with boto3's HeadObject; a copy refuses them
(it keeps its source's), and a bad value is a usage error before anything is sent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clirun import run, sha256_file, sha256_object
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

FLAGS = ["--content-type", "text/x-log", "--cache-control", "max-age=300"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "one.bin").write_bytes(os.urandom(200_000))
    (root / "sub" / "two.txt").write_text("two\n")
    return root


def _check(client, name: str, key: str, path: Path, metadata: dict[str, str]) -> None:
    head = client.head_object(Bucket=name, Key=key)
    assert head["ContentType"] == "text/x-log", key
    assert head["CacheControl"] == "max-age=300", key
    for k, v in metadata.items():
        assert head["Metadata"][k] == v, key
    assert sha256_object(client, name, key) == sha256_file(path)


@pytest.mark.parametrize(
    ("metadata_arg", "metadata"),
    [("owner=ann,Team=web", {"owner": "ann", "team": "web"}), ('{"owner": "bo"}', {"owner": "bo"})],
    ids=["shorthand", "json"],
)
def test_cp_file_and_tree_set_headers_and_metadata(
    seaweed: LocalS3Server, bucket, home: Path, tree: Path, metadata_arg: str, metadata
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    run(seaweed, home, "cp", str(tree / "one.bin"), f"s3://{name}/single", *FLAGS,
        "--metadata", metadata_arg)  # fmt: skip
    _check(client, name, "single", tree / "one.bin", metadata)
    run(seaweed, home, "cp", "-r", str(tree), f"s3://{name}/tree/", *FLAGS,
        "--metadata", metadata_arg)  # fmt: skip
    _check(client, name, "tree/one.bin", tree / "one.bin", metadata)
    _check(client, name, "tree/sub/two.txt", tree / "sub" / "two.txt", metadata)


def test_upload_and_sync_set_headers(seaweed: LocalS3Server, bucket, home: Path, tree: Path):
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    run(seaweed, home, "upload", str(tree), "-b", name, "-p", "up", *FLAGS,
        "--metadata", "k=v")  # fmt: skip
    _check(client, name, "up/one.bin", tree / "one.bin", {"k": "v"})
    run(seaweed, home, "sync", str(tree), f"s3://{name}/synced/", *FLAGS, "--metadata", "k=s")
    _check(client, name, "synced/sub/two.txt", tree / "sub" / "two.txt", {"k": "s"})
    plain = client.head_object(Bucket=name, Key="up/one.bin")
    assert "mtime" in plain["Metadata"], "s3z's file time is still stored"


def test_without_flags_the_type_is_guessed(seaweed: LocalS3Server, bucket, home, tree):
    name = bucket(seaweed)
    run(seaweed, home, "cp", str(tree / "sub" / "two.txt"), f"s3://{name}/two.txt")
    head = boto3_client(seaweed).head_object(Bucket=name, Key="two.txt")
    assert head["ContentType"] == "text/plain"
    assert "CacheControl" not in head


def test_copies_refuse_the_flags_and_bad_values_are_usage_errors(
    seaweed: LocalS3Server, bucket, home: Path, tree: Path
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    client.put_object(Bucket=name, Key="src", Body=b"x", ContentType="image/png")
    copied = run(seaweed, home, "cp", f"s3://{name}/src", f"s3://{name}/dst", *FLAGS, check=2)
    assert "copies keep their source's" in copied.stderr
    assert "Contents" not in client.list_objects_v2(Bucket=name, Prefix="dst")
    bad = run(seaweed, home, "cp", str(tree / "one.bin"), f"s3://{name}/bad",
              "--metadata", "bad name=1", check=2)  # fmt: skip
    assert "metadata name 'bad name'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    shape = run(seaweed, home, "cp", str(tree / "one.bin"), f"s3://{name}/bad",
                "--metadata", "novalue", check=2)  # fmt: skip
    assert "not NAME=VALUE" in shape.stderr
    assert "Contents" not in client.list_objects_v2(Bucket=name, Prefix="bad")
