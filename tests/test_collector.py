"""The collector tuning of the entry points (s3z_core/collector.py), each in a fresh process:
it changes process-wide state that the test process itself must keep at its defaults."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_STATE = (
    "import gc, json; "
    "print(json.dumps([gc.isenabled(), gc.get_threshold()[0], gc.get_freeze_count()]))"
)


def _run(code: str) -> tuple[bool, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    enabled, young, frozen = json.loads(done.stdout.strip().splitlines()[-1])
    return bool(enabled), int(young), int(frozen)


def test_settling_freezes_what_exists_and_collects_young_objects_rarely() -> None:
    code = (
        "from s3z_core import collector; collector.pause_collection(); "
        "import gc; assert not gc.isenabled(); collector.settle_collection(); " + _STATE
    )
    enabled, young, frozen = _run(code)
    assert enabled
    assert young == 10_000
    assert frozen > 1_000  # the interpreter's and the imported modules' objects


def test_settling_without_a_pause_leaves_a_library_users_collector_alone() -> None:
    code = "from s3z_core import collector; collector.settle_collection(); " + _STATE
    assert _run(code) == (True, 700, 0)


@pytest.mark.parametrize(
    ("argv", "tuned"),
    [
        (None, True),  # the process's own command line: the console script
        (["completion", "bash"], False),  # a caller in-process (a test, a script)
    ],
)
def test_only_the_processs_own_command_line_tunes_the_collector(
    argv: list[str] | None, tuned: bool
) -> None:
    code = (
        "import contextlib, io, sys; sys.argv = ['s3z-core', 'completion', 'bash']; "
        "from s3z_core.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({argv!r}) == 0\n" + _STATE
    )
    enabled, young, frozen = _run(code)
    assert enabled  # a command never leaves the collector off
    assert (young, frozen > 0) == ((10_000, True) if tuned else (700, False))
