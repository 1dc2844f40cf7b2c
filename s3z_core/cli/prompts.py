"""Asking the person at the terminal for a secret (an MFA code), or saying why we cannot.

Runs in a worker thread (the event loop never waits on a keyboard). It reads from the
controlling terminal, like ``getpass``, so it works even with stdin or stdout redirected,
and echoes nothing. Without a terminal (CI, cron, a pipe) it fails at once with a
one-line ``MfaRequiredError`` instead of hanging.
"""

from __future__ import annotations

import os
import sys

from s3z_core.errors import MfaRequiredError


def _has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return sys.stdin.isatty()
    os.close(fd)
    return True


def read_secret_from_terminal(prompt: str) -> str:
    if not _has_terminal():
        raise MfaRequiredError(
            "mfa",
            f"{prompt.strip().rstrip(':')} — but there is no terminal to type it in",
            "run s3z-core in a terminal, or use a profile without mfa_serial",
        )
    import getpass

    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise MfaRequiredError("mfa", "no MFA code was entered", "type the 6-digit code") from None
