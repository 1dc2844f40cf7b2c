"""What a direct request gets back (``direct.py``): the answer, read as it arrives, and the
failures a connection can end in, each a ``ConnectionError`` the error mapping types.

``DirectResponse`` has the part of aiohttp's ClientResponse the client uses (``status``,
``headers``, ``content_length``, ``content.readchunk()``, ``read()``, ``release()``), so
the client reads both alike. The connection stops reading its socket while more than
``PAUSE_BYTES`` wait unread, and a whole answer read at once is capped: a hostile server
cannot fill memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from multidict import CIMultiDict, CIMultiDictProxy

if TYPE_CHECKING:
    from s3z_core.transport.direct import Link

ANSWER_LIMIT_BYTES = 64 * 1024 * 1024  # a whole answer read at once (a listing page: ~1 MiB)
PAUSE_BYTES = 1024 * 1024  # received, not yet read: stop reading the socket


class BrokenResponseError(ConnectionError):
    """The server's answer was cut short or malformed: retryable, like aiohttp's."""


class CannotConnectError(ConnectionError):
    """The TCP (or TLS) connection could not be made."""


class CertificateRejectedError(ConnectionError):
    """The server's certificate failed verification (never skipped)."""


class ClosedError(BrokenResponseError):
    """A connection ended before any byte of the answer (a reused one may be stale)."""


class DirectResponse:
    """One answer: its status and headers at once, the body as it arrives (``readchunk``),
    with the part of aiohttp's ClientResponse the client uses (``content`` is itself)."""

    __slots__ = (
        "_chunks",
        "_error",
        "_link",
        "_waiter",
        "buffered",
        "content_length",
        "done",
        "headers",
        "status",
    )

    def __init__(self, link: Link, status: int, headers: CIMultiDict[str]) -> None:
        self._link: Link | None = link
        self.status = status
        self.headers = CIMultiDictProxy(headers)
        length = headers.get("Content-Length")
        self.content_length = int(length) if length and length.isdigit() else None
        self._chunks: deque[bytes] = deque()
        self.buffered = 0
        self.done = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def content(self) -> DirectResponse:
        return self

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self.buffered += len(chunk)
        self._wake()

    def ended(self, error: BaseException | None = None) -> None:
        if error is None:
            self.done = True
        elif not self.done:
            self._error = error
        self._wake()

    async def readchunk(self) -> tuple[bytes, bool]:
        """The next piece of the body (``b""`` at its end), as aiohttp's reader returns it."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self.done:
                return b"", False
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        chunk = self._chunks.popleft()
        self.buffered -= len(chunk)
        if self._link is not None and self.buffered < PAUSE_BYTES // 2:
            self._link.resume()
        return chunk, False

    async def read(self) -> bytes:
        """The whole body; a hostile server's endless one fails at ANSWER_LIMIT_BYTES."""
        parts = []
        total = 0
        while chunk := (await self.readchunk())[0]:
            parts.append(chunk)
            total += len(chunk)
            if total > ANSWER_LIMIT_BYTES:
                raise BrokenResponseError(
                    f"malformed response: its body is over {ANSWER_LIMIT_BYTES // 2**20} MiB"
                )
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def release(self) -> None:
        """Give the connection back when the answer was read to its end, else close it."""
        link, self._link = self._link, None
        if link is not None:
            link.finished(self.done and not self._chunks and self._error is None)
