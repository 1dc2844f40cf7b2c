"""Running one tool invocation as a fresh process and measuring it: wall time, user+sys CPU
and peak RSS of the client process tree, and the CPU the server spent meanwhile.

Peak RSS and CPU come from GNU ``/usr/bin/time -v`` when it is installed; otherwise from the
``wait4`` rusage of the child (the same kernel numbers GNU time prints). In both cases the
peak RSS is that of the largest single process in the tree, and CPU is the whole tree's.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

GNU_TIME = "/usr/bin/time"
_TIME_FIELDS = {
    "user_s": re.compile(r"User time \(seconds\):\s*([\d.]+)"),
    "sys_s": re.compile(r"System time \(seconds\):\s*([\d.]+)"),
    "rss_kib": re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)"),
}
_STDERR_TAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ProcessMeasurement:
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_bytes: int
    timed_out: bool
    stderr_tail: str


def _gnu_time_available() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run([GNU_TIME, "-v", "true"], capture_output=True, text=True, check=False)
    return probe.returncode == 0 and "Maximum resident set size" in probe.stderr


class ProcessMeter:
    """Runs commands and measures them with one method for a whole run."""

    def __init__(self, prefer_gnu_time: bool = True) -> None:
        self.use_gnu_time = prefer_gnu_time and _gnu_time_available()

    @property
    def method(self) -> str:
        if self.use_gnu_time:
            return "GNU /usr/bin/time -v (peak RSS = largest process in the tree; CPU = tree)"
        return "wait4 rusage (peak RSS = largest process in the tree; CPU = tree)"

    def run(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        stdout_path: Path,
        scratch_dir: Path,
        timeout_s: float,
    ) -> ProcessMeasurement:
        time_path = scratch_dir / "gnu-time.txt"
        stderr_path = scratch_dir / "stderr.txt"
        argv = list(command)
        if self.use_gnu_time:
            argv = [GNU_TIME, "-v", "-o", str(time_path), *argv]
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                argv, env=dict(env), cwd=cwd, stdout=out, stderr=err, start_new_session=True
            )
            # A blocking wait plus a watchdog thread: Popen.wait(timeout=...) polls with
            # sleeps of up to 50 ms, which would quantise every wall time to that grid.
            fired = threading.Event()

            def kill() -> None:
                fired.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

            watchdog = threading.Timer(timeout_s, kill)
            watchdog.start()
            rusage: resource.struct_rusage | None = None
            try:
                if self.use_gnu_time:
                    proc.wait()
                else:
                    _pid, status, rusage = os.wait4(proc.pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(status)
            except BaseException:
                kill()  # Ctrl-C: take the tool's whole process group down with us
                raise
            finally:
                watchdog.cancel()
            timed_out = fired.is_set()
            wall_s = time.perf_counter() - started
        stderr_tail = stderr_path.read_text(errors="replace")[-_STDERR_TAIL_CHARS:]
        user_s = sys_s = 0.0
        rss_bytes = 0
        if self.use_gnu_time and time_path.exists():
            report = time_path.read_text(errors="replace")
            user_s = _field(report, "user_s")
            sys_s = _field(report, "sys_s")
            rss_bytes = int(_field(report, "rss_kib")) * 1024
        elif rusage is not None:
            user_s, sys_s = rusage.ru_utime, rusage.ru_stime
            rss_bytes = rusage.ru_maxrss * 1024
        returncode = proc.returncode if proc.returncode is not None else -1
        return ProcessMeasurement(
            returncode=returncode,
            wall_s=wall_s,
            user_s=user_s,
            sys_s=sys_s,
            peak_rss_bytes=rss_bytes,
            timed_out=timed_out,
            stderr_tail=stderr_tail,
        )


def _field(report: str, name: str) -> float:
    match = _TIME_FIELDS[name].search(report)
    return float(match.group(1)) if match else 0.0


class ServerCpu:
    """CPU seconds (user+sys) spent so far by a server process and its descendants."""

    def __init__(self, pid: int | None) -> None:
        self._process = psutil.Process(pid) if pid is not None else None

    @property
    def available(self) -> bool:
        return self._process is not None

    def total_s(self) -> float | None:
        if self._process is None:
            return None
        try:
            procs = [self._process, *self._process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return None
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total


def which(name: str, *extra_dirs: Path) -> Path | None:
    """Find an executable, looking in ``extra_dirs`` (e.g. the venv's bin) before PATH."""
    for directory in extra_dirs:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None
