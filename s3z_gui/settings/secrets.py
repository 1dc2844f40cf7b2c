"""Secret access keys in the system keyring, or for this session only — never in plain text.

Headless machines often have no keyring: ``keyring`` then falls back to a backend that
raises (fail), silently drops (null) or writes base64 to a file (keyrings.alt plaintext).
None of those is a secure store, so ``secure_store_available()`` says no and the UI
offers to keep the secret in memory for this session instead.

Keyring calls block (D-Bus, an unlock prompt), so the GUI uses the ``*_async`` methods, which
run them on the small pool of ``s3z_gui.offload``; the blocking ones are for that pool and tests.
"""

from __future__ import annotations

import contextlib

import keyring
import keyring.errors

from s3z_core.errors import CredentialsError
from s3z_gui.offload import run_blocking

SERVICE = "s3z"

# Backends that are not a secure store (module.class names, matched exactly).
_INSECURE_BACKENDS = frozenset(
    {
        "keyring.backends.fail.Keyring",
        "keyring.backends.null.Keyring",
        "keyrings.alt.file.PlaintextKeyring",
        "keyrings.alt.file.EncryptedKeyring",  # needs a typed password: useless to a GUI
    }
)


class NoSecureStore(CredentialsError):  # noqa: N818 — the name the team agreed on
    """There is no secure credential store on this system."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        super().__init__(
            f"No secure credential store ({backend}). Install or unlock GNOME Keyring/KWallet,"
            " or use the secret for this session only."
        )


def backend_name() -> str:
    backend = keyring.get_keyring()
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def secure_store_available() -> bool:
    """True only for a backend that really keeps secrets (Secret Service, KWallet, test memory)."""
    name = backend_name()
    if name in _INSECURE_BACKENDS:
        return False
    # A chainer picks among its children; it is only secure if one of them is.
    backend = keyring.get_keyring()
    children = getattr(backend, "backends", None)
    if children is not None:
        return any(
            f"{type(c).__module__}.{type(c).__qualname__}" not in _INSECURE_BACKENDS
            for c in children
        )
    return True


class SecretStore:
    """Keyring first; a dict for secrets the user chose to keep for this session only."""

    def __init__(self) -> None:
        self._session: dict[str, str] = {}

    def save(self, profile: str, secret: str, *, session_only: bool = False) -> None:
        """Store ``secret``; raises ``NoSecureStore`` rather than ever writing plain text."""
        if session_only:
            self._session[profile] = secret
            return
        self._save_to_keyring(profile, secret)
        self._session.pop(profile, None)

    def load(self, profile: str) -> str | None:
        if profile in self._session:
            return self._session[profile]
        return self._load_from_keyring(profile)

    @staticmethod
    def _load_from_keyring(profile: str) -> str | None:
        if not secure_store_available():
            return None
        try:
            return keyring.get_password(SERVICE, profile)
        except keyring.errors.KeyringError:
            return None

    def delete(self, profile: str) -> None:
        self._session.pop(profile, None)
        self._delete_from_keyring(profile)

    @staticmethod
    def _delete_from_keyring(profile: str) -> None:
        if not secure_store_available():
            return
        # Nothing stored is fine: deleting is idempotent.
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(SERVICE, profile)

    def is_session_only(self, profile: str) -> bool:
        return profile in self._session

    # the GUI's side: never blocks the loop ------------------------------------------------

    async def save_async(self, profile: str, secret: str, *, session_only: bool = False) -> None:
        if session_only:
            self.save(profile, secret, session_only=True)  # a dict: no keyring call
            return
        await run_blocking(self._save_to_keyring, profile, secret)
        self._session.pop(profile, None)

    @staticmethod
    def _save_to_keyring(profile: str, secret: str) -> None:
        if not secure_store_available():
            raise NoSecureStore(backend_name())
        try:
            keyring.set_password(SERVICE, profile, secret)
        except keyring.errors.KeyringError as exc:
            raise NoSecureStore(f"{backend_name()}: {type(exc).__name__}") from None

    async def load_async(self, profile: str) -> str | None:
        if profile in self._session:
            return self._session[profile]
        return await run_blocking(self._load_from_keyring, profile)

    async def delete_async(self, profile: str) -> None:
        self._session.pop(profile, None)
        await run_blocking(self._delete_from_keyring, profile)


async def secure_store_available_async() -> bool:
    return await run_blocking(secure_store_available)


async def backend_name_async() -> str:
    return await run_blocking(backend_name)
