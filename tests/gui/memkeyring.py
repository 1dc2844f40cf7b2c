"""An in-memory keyring backend for tests: a secure store that forgets on exit.

It notes the thread of every call: the GUI must never call the keyring on its own thread.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.calls: list[tuple[str, threading.Thread]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append(("get", threading.current_thread()))
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append(("set", threading.current_thread()))
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append(("delete", threading.current_thread()))
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
