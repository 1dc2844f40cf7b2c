"""Blocking calls off the GUI thread: the keyring and small file reads, on one small pool.

Under qasync the event loop is the GUI thread, so a keyring call that waits for D-Bus (or an
unlock prompt) or a read of ``~/.aws`` on a slow home folder would freeze the window. They run
here instead, one at a time: a single worker also keeps keyring backends, which are not all
thread-safe, from seeing two calls at once.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 — one pool per process, made on first use
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3z-blocking")
        return _pool


async def run_blocking(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``call`` on the pool and await its result on the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), functools.partial(call, *args, **kwargs))
