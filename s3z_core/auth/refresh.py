"""Temporary credentials that renew themselves ahead of expiry without pausing transfers.

``RefreshingProvider`` wraps one ``fetch`` (an STS call, an IMDS read, a process …) and
keeps two windows before the expiry, like botocore's ``RefreshableCredentials``:

* **advisory** (15 min, or half the credentials' lifetime if that is shorter): one refresh
  starts in the background; every caller keeps signing with the current, still valid keys;
* **mandatory** (10 min, or a quarter of the lifetime): callers wait for the refresh.

So a long transfer never stops: the refresh happens while parts are in flight and each
attempt picks up whatever is current when it is signed. Scaling the windows to the lifetime
matters for short credentials (a 15-minute role session would otherwise refresh on every
request, as botocore does). Only one fetch runs at a time (single flight). A failed
advisory refresh is logged and tried again a little later; a failed mandatory one falls back
to the current keys while they are still valid and raises once they are not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from s3z_core.credentials import Credentials
from s3z_core.errors import CredentialProviderError, CredentialsError, S3zError

log = logging.getLogger("s3z.auth")

Fetch = Callable[[], Awaitable[Credentials]]


class Fetcher(Protocol):
    """One way of getting credentials (an STS call, a metadata read …), named for users."""

    @property
    def source(self) -> str: ...

    async def credentials(self) -> Credentials: ...


CredentialsObserver = Callable[[Credentials], None]

ADVISORY_S = 15 * 60.0
MANDATORY_S = 10 * 60.0
RETRY_AFTER_FAILURE_S = 1.0


class RefreshingProvider:
    """A ``CredentialProvider`` over ``fetch``; see the module docstring."""

    def __init__(
        self,
        source: str,
        fetch: Fetch,
        *,
        clock: Callable[[], float] = time.time,
        on_credentials: CredentialsObserver | None = None,
    ) -> None:
        self._source = source
        self._fetch = fetch
        self._clock = clock
        self._on_credentials = on_credentials
        self._current: Credentials | None = None
        self._lifetime_s = 0.0
        self._task: asyncio.Task[Credentials] | None = None
        self._not_before = 0.0
        self._unwatched = False
        self.refreshes = 0  # fetches that succeeded after the first (for tests and logs)

    def __repr__(self) -> str:
        return f"RefreshingProvider(source={self._source!r}, current={self._current!r})"

    @property
    def source(self) -> str:
        return self._source

    def current(self) -> Credentials | None:
        return self._current

    def _remaining_s(self, now: float) -> float | None:
        creds = self._current
        if creds is None or creds.expiration is None:
            return None
        return creds.expiration.timestamp() - now

    async def credentials(self) -> Credentials:
        now = self._clock()
        creds = self._current
        remaining = self._remaining_s(now)
        if creds is None:
            return await self._join()
        if remaining is None:
            return creds  # no expiry: these never change
        if remaining <= min(MANDATORY_S, self._lifetime_s / 4):
            if remaining > 0 and now < self._not_before:
                return creds  # a refresh just failed: use these while valid, retry shortly
            return await self._join(fallback=creds if remaining > 0 else None)
        if remaining <= min(ADVISORY_S, self._lifetime_s / 2) and now >= self._not_before:
            self._start(background=True)
        return creds

    def _start(self, *, background: bool = False) -> asyncio.Task[Credentials]:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._refresh())
            self._task.add_done_callback(self._finished)
            self._unwatched = background
        return self._task

    async def _join(self, fallback: Credentials | None = None) -> Credentials:
        task = self._start()
        self._unwatched = False  # someone awaits it: its failure reaches them, not the log
        try:
            return await asyncio.shield(task)  # one caller cancelled must not cancel the rest
        except CredentialsError:
            left = self._remaining_s(self._clock())
            if fallback is not None and left is not None and left > 0:
                return fallback  # still valid: keep working, a later call tries again
            raise

    async def _refresh(self) -> Credentials:
        started = self._clock()
        try:
            creds = await self._fetch()
        except S3zError as exc:
            self._not_before = self._clock() + RETRY_AFTER_FAILURE_S
            if isinstance(exc, CredentialsError):
                raise
            raise CredentialProviderError(self._source, str(exc)) from None
        if creds.expiration is not None:
            lifetime = creds.expiration.timestamp() - started
            if lifetime <= 0:
                self._not_before = self._clock() + RETRY_AFTER_FAILURE_S
                raise CredentialProviderError(
                    self._source,
                    f"it handed out credentials that expired at {_shown(creds.expiration)}",
                    "check the clock of this machine and of the credential source",
                )
            self._lifetime_s = lifetime
        if self._current is not None:
            self.refreshes += 1
            log.info("%s: credentials refreshed (valid until %s)", self._source, _shown(creds))
        self._current = creds
        if self._on_credentials is not None:
            self._on_credentials(creds)
        return creds

    def _finished(self, task: asyncio.Task[Credentials]) -> None:
        self._task = None
        if task.cancelled():
            return
        error = task.exception()  # always retrieved, so asyncio never complains about it
        if error is not None and self._unwatched:
            # Never a secret: provider errors carry names, paths and status codes only.
            log.warning("%s: refreshing credentials failed: %s", self._source, error)

    async def aclose(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, CredentialsError):
                await task


def _shown(value: Credentials | datetime | None) -> str:
    when = value.expiration if isinstance(value, Credentials) else value
    return "never" if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
