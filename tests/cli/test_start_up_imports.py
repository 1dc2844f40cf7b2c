"""What a command imports, pinned without a clock: the real entry point runs each command
against SeaweedFS in a fresh interpreter, which then reports the modules it holds and those
that arrived after the event loop started.

Two rules: a command imports nothing of s3z once its loop runs (the engine's calls import
their code lazily, so main imports what the command's ``work_of`` names before the loop:
imports block it); and it imports only what it uses (``ls`` loads no transfer code, no
journal, no credential provider it did not pick; a download no upload code, an upload no
download code)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import cli_env
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

# Runs ``main(argv)`` and prints, as the last line, every module it ended with and the ones
# imported after _run_until_signal was entered (the loop's start).
_PROBE = """
import json, sys, threading

threads = {}

class Watch:  # notes the thread that imports aiohttp, finds nothing itself
    def find_spec(self, name, path=None, target=None):
        if name == "aiohttp":
            threads.setdefault(name, threading.current_thread().name)

sys.meta_path.insert(0, Watch())
import s3z_core.cli.main as cli

before = set()
run_until_signal = cli._run_until_signal

def probe(*args, **kwargs):
    before.update(sys.modules)
    return run_until_signal(*args, **kwargs)

cli._run_until_signal = probe
code = cli.main(sys.argv[1:])
sys.stdout.flush()
late = sorted(set(sys.modules) - before) if before else []
report = {"code": code, "modules": sorted(sys.modules), "late": late, "threads": threads}
print("\\n" + json.dumps(report))
"""

TRANSFER_STACK = {
    "s3z_core.transfer.batch",
    "s3z_core.transfer.jobs",
    "s3z_core.transfer.plans",
    "s3z_core.transfer.resume",
    "s3z_core.transfer.planning",
    "s3z_core.transfer.download",
    "s3z_core.transfer.writer",
    "s3z_core.transfer.upload",
    "s3z_core.transfer.stream_upload",
    "s3z_core.transfer.relay",
    "s3z_core.transfer.copy",
    "s3z_core.transfer.walk",
    "s3z_core.journal",
    "sqlite3",
}
PROVIDERS = {
    "s3z_core.auth.sts",
    "s3z_core.auth.sso",
    "s3z_core.auth.process",
    "s3z_core.auth.metadata",
    "s3z_core.protocol.sts",
    "s3z_core.transport.http",
}
UPLOAD_CODE = {"s3z_core.transfer.upload", "s3z_core.transfer.sending", "s3z_core.transfer.walk"}
DOWNLOAD_CODE = {
    "s3z_core.transfer.download",
    "s3z_core.transfer.writer",
    "s3z_core.transfer.landing",
}


def imports_of(
    server: LocalS3Server, home: Path, *argv: str, probe: str = _PROBE
) -> tuple[set[str], list[str]]:
    report = probe_run(server, home, *argv, probe=probe)
    modules: set[str] = set(report["modules"])
    assert "s3z_core.engine" in modules  # the probe sees a real run, so the checks can fail
    late = [m for m in report["late"] if m.startswith("s3z_core")]
    return modules, late


def probe_run(server: LocalS3Server, home: Path, *argv: str, probe: str = _PROBE) -> Any:
    proc = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        env=cli_env(server, home),
        cwd=home,
        timeout=120,
        check=False,
    )
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    return report


@pytest.fixture
def filled(seaweed: LocalS3Server, bucket: Callable[[LocalS3Server], str]) -> str:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    for key in ("d/one.txt", "d/two.txt", "top.txt"):
        client.put_object(Bucket=name, Key=key, Body=b"x" * 100)
    return name


@pytest.mark.parametrize(
    "argv",
    [
        ["ls"],
        ["ls", "s3://{b}/"],
        ["ls", "-r", "s3://{b}/"],
        ["du", "s3://{b}/d/"],
        ["find", "s3://{b}/", "one"],
        ["rm", "s3://{b}/top.txt"],
        ["presign", "s3://{b}/top.txt"],
    ],
)
def test_listing_commands_import_no_transfer_code(
    seaweed: LocalS3Server, home: Path, filled: str, argv: list[str]
) -> None:
    modules, late = imports_of(seaweed, home, *(a.format(b=filled) for a in argv))
    assert late == []
    uses = {"s3z_core.transfer.plans"} if argv[0] == "rm" else set()  # deletes' ``each``
    assert modules & TRANSFER_STACK == uses
    assert modules & PROVIDERS == set()  # keys in the environment: no other provider loads
    assert "aiohttp" not in modules  # every request was small: all of them went direct
    if argv[0] in ("ls", "presign") and "-r" not in argv:
        assert "s3z_core.listing.parallel" not in modules
        assert "s3z_core.transfer.deletes" not in modules


def test_a_download_imports_no_upload_code(seaweed: LocalS3Server, home: Path, filled: str) -> None:
    modules, late = imports_of(seaweed, home, "cp", f"s3://{filled}/top.txt", str(home / "t"))
    assert late == []
    assert "s3z_core.transfer.download" in modules
    assert modules & UPLOAD_CODE == set()
    assert modules & {"s3z_core.transfer.relay", "s3z_core.transfer.stream_upload"} == set()
    assert "aiohttp" not in modules
    assert (home / "t").read_bytes() == b"x" * 100

    modules, late = imports_of(seaweed, home, "cp", "-r", f"s3://{filled}/d/", str(home / "d"))
    assert late == []
    assert modules & UPLOAD_CODE == set()


def test_an_upload_imports_no_download_code(
    seaweed: LocalS3Server, home: Path, filled: str
) -> None:
    (home / "up" / "sub").mkdir(parents=True)
    (home / "up" / "sub" / "f.txt").write_text("up\n")
    modules, late = imports_of(seaweed, home, "cp", "-r", str(home / "up"), f"s3://{filled}/up/")
    assert late == []
    assert "s3z_core.transfer.upload" in modules
    assert modules & DOWNLOAD_CODE == set()
    assert modules & {"s3z_core.transfer.relay", "s3z_core.transfer.copy"} == set()
    assert "aiohttp" not in modules


def test_a_big_download_needs_no_aiohttp_and_a_big_upload_imports_it_in_the_pool(
    seaweed: LocalS3Server, home: Path, filled: str
) -> None:
    """GETs of any size go direct; a streamed upload goes through aiohttp, imported when
    first needed by a file-system pool thread (an import on the loop would stall it ~0.2 s)."""
    body = hashlib.sha256(b"big").digest() * (3 * 2**20 // 32)  # 3 MiB: over one chunk
    boto3_client(seaweed).put_object(Bucket=filled, Key="big.bin", Body=body)
    report = probe_run(seaweed, home, "cp", f"s3://{filled}/big.bin", str(home / "big.bin"))
    assert "aiohttp" not in report["modules"]
    got = hashlib.sha256((home / "big.bin").read_bytes()).hexdigest()
    assert got == hashlib.sha256(body).hexdigest()

    report = probe_run(seaweed, home, "cp", str(home / "big.bin"), f"s3://{filled}/up.bin")
    assert "aiohttp" in report["modules"]
    assert [m for m in report["late"] if m.startswith("s3z_core")] == [
        "s3z_core.transport.via_aiohttp"
    ]
    assert report["threads"]["aiohttp"] != "MainThread"
    sent = boto3_client(seaweed).get_object(Bucket=filled, Key="up.bin")["Body"].read()
    assert hashlib.sha256(sent).hexdigest() == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    "argv",
    [
        ["cp", "s3://{b}/top.txt", "s3://{b}/copied.txt"],
        ["mv", "s3://{b}/d/two.txt", "s3://{b}/moved.txt"],
        ["sync", "s3://{b}/d/", "{home}/synced"],
        ["rm", "-r", "s3://{b}/d/"],
        ["rb", "--force", "s3://{b}"],
        ["resume", "--list"],
    ],
)
def test_no_command_imports_on_its_loop(
    seaweed: LocalS3Server, home: Path, filled: str, argv: list[str]
) -> None:
    _, late = imports_of(seaweed, home, *(a.format(b=filled, home=home) for a in argv))
    assert late == []


def test_the_probe_sees_imports_on_the_loop(
    seaweed: LocalS3Server, home: Path, filled: str
) -> None:
    """Without ``prepare`` a download's code arrives on the loop: the check can fail."""
    unprepared = _PROBE.replace(
        "code = cli.main",
        "import s3z_core.engine\ns3z_core.engine.prepare = lambda *work: None\ncode = cli.main",
    )
    assert unprepared != _PROBE
    _, late = imports_of(
        seaweed, home, "cp", f"s3://{filled}/top.txt", str(home / "t"), probe=unprepared
    )
    assert "s3z_core.transfer.download" in late
