"""Killing the real CLI with SIGKILL at chosen moments, and running it again.

The CLI talks to a real server through a ``FaultProxy``; the proxy's ``watch`` hook sees
every request and every body chunk on its own thread, so a test can kill the client the
instant a byte count, a request or a server answer is reached (no sleeps, no timing
guesses). The proxy's byte totals are what was really sent over all attempts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR / "cli") not in sys.path:
    sys.path.insert(0, str(TESTS_DIR / "cli"))

from clirun import cli_env, command  # noqa: E402
from fault_proxy import FaultProxy, RecordedRequest  # noqa: E402

MiB = 1 << 20
PART = 5 * MiB


class Attempt:
    """One CLI run that the proxy may kill: ``when(event, record, proxy)`` says when."""

    def __init__(
        self,
        proxy: FaultProxy,
        server: Any,
        home: Path,
        state: Path,
        args: list[str],
        when: Callable[[str, RecordedRequest, FaultProxy], bool] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.proxy = proxy
        self.killed = False
        self._reaped = False  # set by ``wait``: the pid may be reused, never signal it again
        self._lock = threading.Lock()
        env = cli_env(proxy.endpoint(server), home, S3Z_STATE_DIR=str(state))
        self._when = when
        # The proxy may still be reading what a killed attempt left in its socket buffers:
        # those requests are not this attempt's, and must neither kill it nor find it
        # without a process yet (that once set ``killed`` with no kill sent, so a run that
        # was never killed counted as one that was, and a later one ended the series early).
        self._earlier = {id(r) for r in proxy.requests}
        self.proc = subprocess.Popen(
            [*command(), "--no-progress", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd or home,
        )
        proxy.watch = self._watch if when is not None else None

    def _watch(self, event: str, record: RecordedRequest) -> None:
        if self.killed or self._when is None or id(record) in self._earlier:
            return
        if not self._when(event, record, self.proxy):
            return
        with self._lock:
            if not self.killed and not self._reaped:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.killed = True

    def wait(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=120)
        # The kill and ``killed = True`` happen under the lock on the proxy's thread, and
        # the process can be reaped in between (seen once: exit -9 with ``killed`` still
        # False, so a killed run was taken for a failed one). Taking the lock here waits for
        # a kill in flight to be recorded; ``_reaped`` stops any later one.
        with self._lock:
            self._reaped = True
            self.proxy.watch = None
        return self.proc.returncode, out, err


def run_attempt(
    proxy: FaultProxy,
    server: Any,
    home: Path,
    state: Path,
    args: list[str],
    when: Callable[[str, RecordedRequest, FaultProxy], bool] | None = None,
    cwd: Path | None = None,
) -> tuple[bool, str, str]:
    """Run once (in ``cwd``, default ``home``); (was it killed, stdout, stderr). A run not
    killed must succeed."""
    attempt = Attempt(proxy, server, home, state, args, when, cwd)
    code, out, err = attempt.wait()
    # A kill that came as the run was exiting finds it done: then it was not killed.
    killed = attempt.killed and code == -signal.SIGKILL
    assert killed or code == 0, f"exit {code}\n{err}"
    return killed, out, err


def after_bytes(
    limit: int, *, out: bool = False
) -> Callable[[str, RecordedRequest, FaultProxy], bool]:
    """Kill once this attempt has moved ``limit`` body bytes (sent to the server, or with
    ``out`` sent back to the client), counted from when it started."""
    start: list[int] = []

    def when(event: str, record: RecordedRequest, proxy: FaultProxy) -> bool:
        total = proxy.bytes_out if out else proxy.bytes_in
        if not start:
            start.append(total)
        return event == "bytes" and total - start[0] >= limit

    return when


def write_random(path: Path, size: int, seed: int) -> None:
    import random

    rng = random.Random(seed)
    with path.open("wb") as fh:
        left = size
        while left:
            n = min(left, MiB)
            fh.write(rng.randbytes(n))
            left -= n


def leftovers(folder: Path) -> list[str]:
    """Temp files a download left (``.name.token.s3z-part``)."""
    return sorted(p.name for p in folder.rglob("*.s3z-part"))


def uploads_in(client: Any, bucket: str) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    try:
        return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))
    except ClientError as exc:  # rclone: NoSuchUpload when there is none
        if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
            return []
        raise


def assert_nothing_to_resume(proxy: FaultProxy, server: Any, home: Path, state: Path) -> None:
    """The journal forgot every job: ``resume --list`` has nothing to show."""
    import json

    _, out, _ = run_attempt(proxy, server, home, state, ["--json", "resume", "--list"])
    assert [json.loads(line)["type"] for line in out.splitlines()] == ["resumable_none"]
