"""The warden: a tiny process between the app and a local S3 server that ties the server to
the app's life, however the app ends.

    python -I -S server_warden.py CLEANUP_JSON STOP_TIMEOUT_S -- COMMAND...

Run as a script by path (stdlib only, no ``s3z_core`` import), it starts COMMAND in its own
process group and waits. Its stdin is a pipe whose write end only the app holds: when the app
exits — closed normally, crashed, or killed with SIGKILL — the kernel closes that end, the
warden reads EOF, stops the server (SIGTERM, SIGKILL after STOP_TIMEOUT_S) and removes the
files the server leaves behind (CLEANUP_JSON: a list of paths; SeaweedFS keeps unix sockets at
fixed ``/tmp`` paths). SIGTERM, SIGINT or SIGHUP to the warden stop it the same way.

Why a pipe and not ``PR_SET_PDEATHSIG`` on the server: the death signal fires when the *thread*
that forked the child exits, not the process (a pool thread's exit would kill the sandbox), it
is Linux-only, and a SIGKILLed parent leaves no one to remove the server's sockets. A pipe's EOF
follows the process and arrives even if the app died before the warden started reading.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from types import FrameType

_POLL_S = 0.2


def _remove(paths: list[str]) -> None:
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):  # gone already (the server removed it) or never made
                os.unlink(path)


def run(cleanup: list[str], stop_timeout_s: float, command: list[str]) -> int:
    stop_asked: list[float] = []  # monotonic time of the first stop request

    def ask_stop(signum: int = 0, frame: FrameType | None = None) -> None:
        if not stop_asked:
            stop_asked.append(time.monotonic())

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, ask_stop)
    try:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # same group as the warden
    except OSError as exc:
        sys.stderr.write(f"s3z warden: cannot run {command[0]}: {exc}\n")
        _remove(cleanup)
        return 127
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    signalled = killed = False
    while child.poll() is None:
        if not stop_asked:
            for _key, _events in selector.select(_POLL_S):
                if not os.read(sys.stdin.fileno(), 4096):  # EOF: the app is gone
                    ask_stop()
                    selector.unregister(sys.stdin.fileno())
            continue
        if not signalled:
            signalled = True
            child.terminate()
        elif not killed and time.monotonic() - stop_asked[0] > stop_timeout_s:
            killed = True
            sys.stderr.write(f"s3z warden: server did not stop in {stop_timeout_s:g} s; killed\n")
            child.kill()
        time.sleep(_POLL_S / 4)
    _remove(cleanup)
    code = child.returncode
    return code if code >= 0 else 128 - code  # killed by signal N: the shell's 128 + N


def main(argv: list[str]) -> int:
    try:
        split = argv.index("--")
        cleanup = [str(p) for p in json.loads(argv[1])]
        stop_timeout_s = float(argv[2])
        command = argv[split + 1 :]
    except (ValueError, IndexError):
        sys.stderr.write("usage: server_warden.py CLEANUP_JSON STOP_TIMEOUT_S -- COMMAND...\n")
        return 2
    if not command:
        sys.stderr.write("s3z warden: no command\n")
        return 2
    return run(cleanup, stop_timeout_s, command)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
