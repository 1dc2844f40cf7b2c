"""Where a download lands: a hidden temporary file beside its final name, renamed when done.

The file is written under ``.<name>.<token>.s3z-part`` in the destination folder and renamed
to its final name only after every byte arrived and was verified; any failure or
cancellation removes it. Every method here blocks (creates, renames, stats) and is run in
the file-system pool, never on the event loop.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from s3z_core.errors import LocalFileError, VerificationError

TEMP_SUFFIX = ".s3z-part"
TEMP_NAME_BYTES = 120  # room for the token and suffix under NAME_MAX (255 bytes)
T = TypeVar("T")
# Temp names need to be unique, not secret: O_EXCL refuses any existing path (a planted
# symlink included) and a taken name is retried. Seeded once from the OS; ``secrets`` would
# make a getrandom call per file, and every call that leaves the interpreter costs the loop
# a GIL round trip when it runs there.
_tokens = random.Random()
_NAME_TRIES = 4


def temp_name(dest: Path) -> Path:
    """Hidden, recognisable, unique, and short enough even when the final name is not."""
    stem = dest.name.encode()[:TEMP_NAME_BYTES].decode(errors="ignore")
    return dest.with_name(f".{stem}.{_tokens.getrandbits(32):08x}{TEMP_SUFFIX}")


def local_call(fn: Callable[..., T], dest: Path, *args: Any) -> T:
    """A local filesystem call whose failure is this file's ``LocalFileError``."""
    try:
        return fn(*args)
    except OSError as exc:
        raise LocalFileError(f"cannot write {dest}: {exc.strerror or exc}") from None


class Landing:
    """One download's temporary file and its descriptor, from creation to rename or removal.

    ``resolve`` (the destination guard's check of a key-derived path) runs in ``open``, in the
    pool and just before the file is created: a symlink planted meanwhile is still caught.
    """

    def __init__(self, dest: Path, resolve: Callable[[], Path] | None = None) -> None:
        self.dest = dest
        self._resolve = resolve
        self._tmp: Path | None = None  # named on first use: after ``resolve``, in the pool
        self.fd = -1
        self._created = False
        self._adopted = False
        self._lock = threading.Lock()  # the pool may run open and discard on two threads

    @property
    def tmp(self) -> Path:
        if self._tmp is None:
            self._tmp = temp_name(self.dest)
        return self._tmp

    @tmp.setter
    def tmp(self, path: Path) -> None:
        self._tmp = path

    def adopt(self, tmp: Path) -> None:
        """Continue in the temp file an earlier run left (a resumed download); no I/O."""
        self.tmp = tmp
        self._adopted = True

    def open(self, size: int | None = None) -> int:
        """Create the folder and the temp file (``size`` preallocates it for ranged writes)."""
        with self._lock:
            if self.fd < 0:
                if self._resolve is not None:
                    self.dest, self._resolve = self._resolve(), None
                    if not self._adopted:
                        self._tmp = None  # named for the resolved destination
                if self._adopted:  # no O_CREAT: it must still be the file we left
                    self.fd = local_call(
                        os.open, self.dest, self.tmp, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW
                    )
                    self._created = True
                    return self.fd
                self.fd = self._create()
                self._created = True
                if size:
                    local_call(os.ftruncate, self.dest, self.fd, size)
            return self.fd

    def _create(self) -> int:
        """The temp file, exclusively; its folder is made only when the open says it is
        missing (a mkdir per file of a thousand in one folder is two wasted syscalls each)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        for _ in range(_NAME_TRIES):
            try:
                return os.open(self.tmp, flags, 0o666)
            except FileNotFoundError:
                try:
                    self.dest.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    reason = exc.strerror or exc
                    raise LocalFileError(
                        f"cannot create folder {self.dest.parent}: {reason}"
                    ) from None
            except FileExistsError:
                self.tmp = temp_name(self.dest)
            except OSError as exc:
                raise LocalFileError(f"cannot write {self.dest}: {exc.strerror or exc}") from None
        return local_call(os.open, self.dest, self.tmp, flags, 0o666)

    def commit(self, size: int, mtime_s: float | None) -> None:
        """Check the length, set the time, and give the file its final name."""
        fd = self.open()
        written = local_call(os.fstat, self.dest, fd).st_size
        if written != size:
            raise VerificationError(f"{self.dest}: expected {size} bytes, the file holds {written}")
        with self._lock:
            self.fd = -1
            local_call(os.close, self.dest, fd)
        if mtime_s is not None:
            local_call(os.utime, self.dest, self.tmp, (mtime_s, mtime_s))
        local_call(os.replace, self.dest, self.tmp, self.dest)
        self._created = False

    def release(self) -> None:
        """Close the temp file but keep it (a suspended download resumes in it)."""
        with self._lock:
            fd, self.fd = self.fd, -1
            self._created = False
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    def discard(self) -> None:
        """Close and remove the temp file (after a failure); never raises for a missing one."""
        with self._lock:
            fd, self.fd = self.fd, -1
            created, self._created = self._created, False
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
