"""A local server left behind by an earlier run: recognised and stopped, never guessed at.

A crashed or SIGKILLed app can leave its server running on a persistent ``data_dir`` (or, with
the warden, still shutting down). Starting a second server on the same files is wrong, and
asking the user to ``kill`` a PID is worse, so a start first looks at ``data_dir/server.pid``
(``"<server pid> <owner pid>"``, written at spawn; older files hold the server pid alone):

* nothing in the server's process group runs our binary on this ``data_dir`` → a stale file
  (the server exited, or its pid now belongs to someone else): ignored;
* the server's parent is still the owner that started it → a running program uses the folder:
  refused with a clear message (two apps on one folder would corrupt it), nothing is signalled;
* otherwise the owner is gone → SIGTERM to the server's group, SIGKILL after a timeout.

"Ours" is proven from ``/proc/<pid>/cmdline`` (our binary and an argument inside ``data_dir``)
and the owning uid, so a reused pid is never signalled. Without ``/proc`` (not Linux) nothing
can be proven and nothing is done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from s3z_core.errors import S3zError
from s3z_core.records import record

_PROC = Path("/proc")
_STOP_TIMEOUT_S = 30.0
_KILL_TIMEOUT_S = 5.0


class StaleServerError(S3zError):
    """The data folder is served by a server another running program owns."""


@record
class _Proc:
    pid: int
    ppid: int
    pgrp: int
    state: str


def _stat(pid: int) -> _Proc | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return _Proc(pid, int(fields[1]), int(fields[2]), fields[0])
    except (IndexError, ValueError):
        return None


def _running(pid: int) -> _Proc | None:
    """The process, unless it is gone or a zombie (it cannot touch files any more)."""
    proc = _stat(pid)
    return None if proc is None or proc.state in ("Z", "X") else proc


def _serves(pid: int, binary_name: str, data_dir: Path) -> bool:
    """``pid`` is ours: same uid, runs ``binary_name`` with an argument inside ``data_dir``."""
    try:
        if (_PROC / str(pid)).stat().st_uid != os.getuid():
            return False
        argv = (_PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    inside = str(data_dir).rstrip(os.sep) + os.sep
    runs_binary = any(Path(arg).name == binary_name for arg in argv)
    return runs_binary and any(inside in arg for arg in argv)


def _group(pgrp: int) -> list[_Proc]:
    """Live members of process group ``pgrp`` (the server and, under a warden, its child)."""
    members = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (proc := _running(int(entry.name))) and proc.pgrp == pgrp:
            members.append(proc)
    return members


def _read_pid_file(pid_file: Path) -> tuple[int, int | None] | None:
    try:
        fields = pid_file.read_text(encoding="ascii").split()
        return int(fields[0]), (int(fields[1]) if len(fields) > 1 else None)
    except (OSError, ValueError, IndexError):
        return None


def _wait_gone(pgrp: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    delay_s = 0.02
    while _group(pgrp):
        if time.monotonic() > deadline:
            return False
        time.sleep(delay_s)
        delay_s = min(delay_s * 1.5, 0.25)
    return True


def reclaim_stale_server(pid_file: Path, binary_name: str, data_dir: Path) -> int | None:
    """Stop the server an earlier run left on ``data_dir``; return its pid (None: there was none).

    Raises ``StaleServerError`` when the server's owner still runs (it is not ours to stop).
    """
    if not _PROC.is_dir():
        return None
    recorded = _read_pid_file(pid_file)
    if recorded is None:
        return None
    pid, owner = recorded
    # The server leads its own group (start_new_session): the group outlives a dead leader.
    members = [p for p in _group(pid) if _serves(p.pid, binary_name, data_dir)]
    if not members:
        with contextlib.suppress(OSError):
            pid_file.unlink()
        return None
    parent = next((p.ppid for p in members if p.pid == pid), members[0].ppid)
    owner_alive = owner is not None and _running(owner) is not None
    if (owner_alive and parent == owner) or (owner is None and parent != 1):
        who = owner if owner is not None else parent
        raise StaleServerError(
            f"{data_dir} is in use by a server (pid {pid}) of another running program "
            f"(pid {who}); close that program, or use another folder"
        )
    for signum, timeout_s in ((signal.SIGTERM, _STOP_TIMEOUT_S), (signal.SIGKILL, _KILL_TIMEOUT_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signum)
        if _wait_gone(pid, timeout_s):
            break
    else:
        raise StaleServerError(f"the server (pid {pid}) left on {data_dir} does not stop")
    with contextlib.suppress(OSError):
        pid_file.unlink()
    return pid
