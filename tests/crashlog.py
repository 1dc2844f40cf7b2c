"""Name the test a crashed interpreter was running, with its fatal-error traceback.

A segfault in an xdist worker reaches the console as an all-threads dump in the middle of the
output, and the run's summary (which names the test) only comes if the run ends; a long CI log
is shown cut, which can drop both. With ``S3Z_CRASH_DIR`` set (``make pytest`` sets it), each
process appends the id of every test it starts to ``<dir>/<worker>.log`` and points
``faulthandler`` at the same file, so the file ends with the last test and its crash dump.
``python tests/crashlog.py DIR`` prints what a crashed process left: the test and the crashing
thread's stack, a few lines each.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from pathlib import Path
from typing import IO

import pytest

_open: list[IO[str]] = []  # this process's log, once opened
_TELLING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def start(config: pytest.Config) -> None:
    """Open this process's log and send fatal-error dumps to it (called from pytest_configure,
    after pytest's own faulthandler plugin, which this replaces for the process)."""
    folder = os.environ.get("S3Z_CRASH_DIR")
    if not folder:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    log = open(Path(folder) / f"{worker}.log", "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    _open.append(log)
    faulthandler.enable(file=log, all_threads=True)
    # A worker that dies of SIGTERM or SIGHUP leaves no fatal-error dump, only "node down"
    # (seen: fresh-clone run E, a GUI test's worker gone without a word). Its stacks are
    # written first, then the signal takes its usual course.
    for signum in _TELLING_SIGNALS:
        faulthandler.register(signum, file=log, all_threads=True, chain=True)


def stop() -> None:
    """Hand fatal-error dumps back to stderr and close the log (pytest_unconfigure)."""
    if _open:
        for signum in _TELLING_SIGNALS:
            faulthandler.unregister(signum)
        faulthandler.enable(file=sys.__stderr__ or sys.stderr, all_threads=True)
        _open.pop().close()


def note(nodeid: str, phase: str) -> None:
    for log in _open:
        log.write(f"== {phase} {nodeid}\n")


def report(folder: Path) -> int:
    """Print each crashed process's last test and its crashing thread; the count found.
    Nothing but test names is written to a log, so anything after its last name is a dump:
    a fatal error's, or a closing signal's (no "Fatal Python error" line then)."""
    crashed = 0
    for path in sorted(folder.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        names = [i for i, line in enumerate(lines) if line.startswith("== ")]
        last = names[-1] if names else -1
        dump = lines[last + 1 :]
        if not any(line.strip() for line in dump):
            continue
        crashed += 1
        test = lines[last][3:] if last >= 0 else "(no test)"
        fatal = next((ln for ln in dump if ln.startswith("Fatal Python error")), None)
        why = fatal or "SIGTERM or SIGHUP (stacks below, then the signal's own course)"
        print(f"crash in {path.stem}: {why}; while running {test}")
        marks = (i for i, line in enumerate(dump) if line.startswith("Current thread"))
        current = next(marks, 0)
        for line in dump[current : current + 16]:
            if not line.strip():
                break
            print(f"  {line}")
    return crashed


if __name__ == "__main__":
    sys.exit(1 if report(Path(sys.argv[1])) else 0)
