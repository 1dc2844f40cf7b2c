"""The secrets this process knows, and the stderr wrapper that scrubs them from every line.

Its own module so that ``main`` installs the wrapper before parsing without importing the
session (and the output and journal code with it): ``--help`` stays a parser and no more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from s3z_core.credentials import Credentials

# Secret values seen in this process; main() scrubs them from everything on stderr.
SECRETS: set[str] = set()


def remember_secrets(credentials: Credentials) -> None:
    """Every credential a provider hands out (refreshes too) joins the scrub list."""
    SECRETS.add(credentials.secret_key)
    if credentials.session_token:
        SECRETS.add(credentials.session_token)


class RedactingStream:
    """Wraps stderr so no known secret is ever written, even inside a --debug traceback."""

    def __init__(self, stream: TextIO, secrets: set[str]) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        for secret in self._secrets:
            if secret and secret in text:
                text = text.replace(secret, "<redacted>")
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
