"""One filter for every entry point: the CLI's ``--exclude/--include`` and the Python API's
``filters=`` select the same files, in every direction (aws-cli order: the last match wins)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import run
from servers import S3Endpoint, boto3_client

from s3z_core.engine import Engine
from s3z_core.filters import FilterKind

RULES: list[tuple[FilterKind, str]] = [("exclude", "*"), ("include", "*.txt")]
FLAGS = ["--exclude", "*", "--include", "*.txt"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for rel in ("a.txt", "b.log", "sub/c.txt", "sub/d.bin", "sub/deep/e.txt", "sub/deep/f"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return root


def _keys(server: S3Endpoint, bucket: str, prefix: str) -> set[str]:
    pages = (
        boto3_client(server).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    )
    return {o["Key"][len(prefix) :] for page in pages for o in page.get("Contents", [])}


def _engine(server: S3Endpoint) -> Engine:
    return Engine.from_settings(
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
    )


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_cli_and_python_api_select_the_same_files_both_ways(
    seaweed: S3Endpoint, tree: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    name = bucket(seaweed)
    home = tmp_path / "home"
    home.mkdir()
    wanted = {"a.txt", "sub/c.txt", "sub/deep/e.txt"}

    run(seaweed, home, "cp", "-r", *FLAGS, str(tree), f"s3://{name}/cli/")

    async def api_upload() -> None:
        async with _engine(seaweed) as engine:
            await engine.upload_paths(
                [tree], name, "api/", filters=RULES, keep_dir_names=False
            ).result()

    asyncio.run(api_upload())
    assert _keys(seaweed, name, "cli/") == _keys(seaweed, name, "api/") == wanted

    # Downloads: everything is uploaded, the same filter picks the files on the way back.
    run(seaweed, home, "cp", "-r", str(tree), f"s3://{name}/all/")
    run(seaweed, home, "cp", "-r", *FLAGS, f"s3://{name}/all/", str(tmp_path / "cli-down"))

    async def api_download() -> None:
        async with _engine(seaweed) as engine:
            await engine.download_prefix(
                name, "all/", tmp_path / "api-down", filters=RULES
            ).result()

    asyncio.run(api_download())
    assert _files(tmp_path / "cli-down") == _files(tmp_path / "api-down") == wanted

    # rm -r: the same rule decides what goes.
    run(seaweed, home, "rm", "-r", *FLAGS, f"s3://{name}/cli/")

    async def api_delete() -> None:
        async with _engine(seaweed) as engine:
            await engine.delete_prefix(name, "api/", filters=RULES)

    asyncio.run(api_delete())
    assert _keys(seaweed, name, "cli/") == _keys(seaweed, name, "api/") == set()


def test_the_order_of_filters_matters_the_same_way_everywhere(
    seaweed: S3Endpoint, tree: Path, tmp_path: Path, bucket: Callable[..., str]
) -> None:
    """``--include '*.txt' --exclude '*'``: the exclude matches last, so nothing is kept."""
    name = bucket(seaweed)
    home = tmp_path / "home"
    home.mkdir()
    run(
        seaweed,
        home,
        "cp",
        "-r",
        "--include",
        "*.txt",
        "--exclude",
        "*",
        str(tree),
        f"s3://{name}/",
    )

    async def api_upload() -> None:
        async with _engine(seaweed) as engine:
            result = await engine.upload_paths(
                [tree], name, "api/", filters=list(reversed(RULES)), keep_dir_names=False
            ).result()
            assert result.files_done == 0

    asyncio.run(api_upload())
    assert _keys(seaweed, name, "") == set()
