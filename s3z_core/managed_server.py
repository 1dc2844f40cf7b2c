"""The life of one local S3 server process: ports, spawn, readiness, stop — shared by the
SeaweedFS and rclone servers in ``local_server.py``.

Each server runs in its own session (process group) so it never receives the terminal's Ctrl-C
before we stop it, and ``stop`` signals only that group. ``atexit`` stops a forgotten server; a
SIGKILLed parent cannot, so ``bind_to_parent=True`` (the GUI sandbox) runs the server under a
warden (``server_warden.py``) that stops it and removes its sockets when this process ends,
however it ends. A server left by an earlier run on the same ``data_dir`` (its owner gone) is
recognised by its pid file and ``/proc`` and stopped before a new one starts; one whose owner
still runs is refused, never killed. The secret never appears in ``repr``, argv or errors.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from s3z_core.server_launch import (
    LOOPBACK,
    PORT_HIGH,
    LocalServerError,
    port_free,
    probe_list_buckets,
    release_ports,
    reserve_ports,
)
from s3z_core.stale_server import StaleServerError, reclaim_stale_server

__all__ = ["PID_FILE", "ManagedS3Server"]
_STOP_TIMEOUT_S = 30.0
_LOG_TAIL_BYTES = 2000

PID_FILE = "server.pid"
# How a server says a port we picked was taken meanwhile (bind, or weed mini's own check).
# How each server says its port was taken (compared lower-cased: moto writes "Address already
# in use", weed "address already in use").
_PORT_TAKEN = ("address already in use", "port allocation failed", "is in use by another program")
_WARDEN = Path(__file__).with_name("server_warden.py")


def port_taken(log_tail: str) -> bool:
    """The server died because its port was taken between our check and its bind: a start
    on fresh ports will do (two test runs on one machine met this with moto)."""
    lowered = log_tail.lower()
    return any(sign in lowered for sign in _PORT_TAKEN)


class ManagedS3Server:
    """One S3 server child process on 127.0.0.1: ports, process group, readiness, cleanup.

    Subclasses say how to lay out ``data_dir`` and which command to run; this class owns the
    process lifecycle so every server stops the same way (SIGTERM to its own group, SIGKILL after
    a timeout) and is stopped at interpreter exit if the caller forgot.
    """

    #: A short name for logs and the temporary folder.
    kind = "s3"
    #: SeaweedFS needs ``port + 10000`` free as well.
    twin_offset: int | None = None
    #: How many ports ``_command`` needs; the first one is the S3 port.
    port_count = 1
    #: Start attempts when a port was grabbed by someone else between the check and the bind.
    start_attempts = 3

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        access_key: str = "s3zlocal",
        secret_key: str | None = None,
        region: str = "us-east-1",
        s3_port: int | None = None,
        startup_timeout_s: float = 60.0,
        bind_to_parent: bool = False,
    ) -> None:
        if not access_key:
            raise LocalServerError("access_key must not be empty")
        if startup_timeout_s <= 0:
            raise LocalServerError("startup_timeout_s must be positive")
        if s3_port is not None and not 0 < s3_port < (PORT_HIGH if self.twin_offset else 65536):
            raise LocalServerError(f"s3_port {s3_port} is out of range for {self.kind}")
        self._owns_data_dir = data_dir is None
        self._data_dir: Path | None = None if data_dir is None else Path(data_dir).resolve()
        self.access_key = access_key
        self._secret_key = secret_key
        self.region = region
        self._requested_s3_port = s3_port
        self.startup_timeout_s = startup_timeout_s
        self.bind_to_parent = bind_to_parent
        self._process: subprocess.Popen[bytes] | None = None
        self._ports: list[int] = []
        self._reserved: list[int] = []
        self._log_file: Path | None = None

    # -- public surface -------------------------------------------------------------------

    @property
    def secret_key(self) -> str:
        if self._secret_key is None:
            raise LocalServerError(f"{self.kind} server: the secret key is known once started")
        return self._secret_key

    @property
    def s3_port(self) -> int:
        if not self._ports:
            raise LocalServerError(f"{self.kind} server is not running")
        return self._ports[0]

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.s3_port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise LocalServerError(f"{self.kind} server has no data folder until started")
        return self._data_dir

    @property
    def log_file(self) -> Path | None:
        return self._log_file

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        where = self.endpoint_url if self._ports else "not started"
        return (
            f"{type(self).__name__}({where}, access_key={self.access_key!r}, "
            f"region={self.region!r}, pid={self.pid})"
        )

    __str__ = __repr__

    def start(self) -> Self:
        """Spawn the server and return once a signed ListBuckets answers 200."""
        if self._process is not None:
            raise LocalServerError(f"{self.kind} server already started (pid {self.pid})")
        binary = self._binary()
        try:
            if self._data_dir is None:
                self._data_dir = Path(tempfile.mkdtemp(prefix=f"s3z-{self.kind}-"))
            self._data_dir.mkdir(parents=True, exist_ok=True)
            reclaim_stale_server(self.data_dir / PID_FILE, Path(binary).name, self.data_dir)
            self._secret_key = self._load_or_make_secret(self._secret_key)
        except OSError as exc:
            raise LocalServerError(
                f"{self.kind} server: cannot prepare data folder {self._data_dir}: {exc.strerror}"
            ) from None
        except StaleServerError as exc:
            raise LocalServerError(f"{self.kind} server: {exc}") from None
        atexit.register(self.stop)
        try:
            for attempt in range(1, self.start_attempts + 1):
                self._pick_ports()
                self._spawn(binary)
                if self._wait_ready(last_attempt=attempt == self.start_attempts):
                    return self
                self._kill_process()
                self._forget_ports()
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable: _wait_ready raises on the last attempt")

    def stop(self) -> None:
        """Stop our process group (SIGTERM, then SIGKILL), release ports; safe to call twice."""
        atexit.unregister(self.stop)
        self._kill_process()
        self._forget_ports()
        if self._owns_data_dir and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None
        self._cleanup_extra()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- hooks for subclasses -------------------------------------------------------------

    def _binary(self) -> str:
        raise NotImplementedError

    def _command(self, binary: str, ports: Sequence[int]) -> list[str]:
        raise NotImplementedError

    def _environment(self) -> Mapping[str, str]:
        return {}

    def _load_or_make_secret(self, given: str | None) -> str:
        return given if given is not None else secrets.token_urlsafe(24)

    def _cleanup_extra(self) -> None:
        """Remove anything the subclass created outside ``data_dir``."""

    def _leftovers(self) -> list[Path]:
        """Files the server leaves behind outside ``data_dir`` (``_ports`` names its ports)."""
        return []

    def _after_exit(self) -> None:
        """The process is gone and ``_ports`` still names its ports: tidy what it left."""
        for path in self._leftovers():
            with contextlib.suppress(OSError):
                path.unlink()

    # -- machinery --------------------------------------------------------------------------

    def _pick_ports(self) -> None:
        extra = self.port_count - (1 if self._requested_s3_port else 0)
        self._reserved = reserve_ports(extra, twin_offset=self.twin_offset) if extra else []
        if self._requested_s3_port is None:
            self._ports = list(self._reserved)
            return
        port = self._requested_s3_port
        twins = [port] if self.twin_offset is None else [port, port + self.twin_offset]
        if not all(port_free(p) for p in twins):
            release_ports(self._reserved, self.twin_offset)
            self._reserved = []
            raise LocalServerError(f"{self.kind} server: port {port} (or its twin) is in use")
        self._ports = [port, *self._reserved]

    def _forget_ports(self) -> None:
        release_ports(self._reserved, self.twin_offset)
        self._reserved = []
        self._ports = []

    def _spawn(self, binary: str) -> None:
        log_dir = self.data_dir / "log"
        log_dir.mkdir(exist_ok=True)
        self._log_file = log_dir / f"{self.kind}.out"
        env = {**os.environ, **self._environment()}
        try:
            command = self._command(binary, self._ports)
            if self.bind_to_parent:
                # The warden stops the server when our end of its stdin pipe closes (we exit).
                leftovers = json.dumps([str(p) for p in self._leftovers()])
                grace = f"{_STOP_TIMEOUT_S - 5:g}"  # it kills the server before we would
                warden = [sys.executable, "-I", "-S", str(_WARDEN), leftovers, grace, "--"]
                command = [*warden, *command]
            with self._log_file.open("ab") as log:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE if self.bind_to_parent else subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.data_dir,
                    env=env,
                    start_new_session=True,  # own process group: stop() signals only this group
                )
            # The owner's pid tells a later start whether this server was left behind.
            (self.data_dir / PID_FILE).write_text(
                f"{self._process.pid} {os.getpid()}", encoding="ascii"
            )
        except OSError as exc:
            raise LocalServerError(f"{self.kind} server: cannot run {binary}: {exc}") from None

    def _wait_ready(self, *, last_attempt: bool) -> bool:
        """True when ready; False to retry on fresh ports; raises when hopeless."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        delay_s = 0.02
        while True:
            status = probe_list_buckets(
                LOOPBACK, self.s3_port, self.access_key, self.secret_key, self.region
            )
            if status == 200:
                return True
            code = self._process.poll()
            if code is not None:
                tail = self._log_tail()
                if not last_attempt and port_taken(tail):
                    return False
                raise LocalServerError(
                    f"{self.kind} server exited with code {code} while starting; "
                    f"log {self._log_file}:\n{tail}"
                )
            if time.monotonic() > deadline:
                why = "no answer" if status is None else f"HTTP {status}"
                raise LocalServerError(
                    f"{self.kind} server on {self.endpoint_url} not ready after "
                    f"{self.startup_timeout_s:g} s (signed ListBuckets: {why}); "
                    f"log {self._log_file}:\n{self._log_tail()}"
                )
            time.sleep(delay_s)
            delay_s = min(delay_s * 1.5, 0.25)

    def _kill_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdin is not None:
            process.stdin.close()
        self._after_exit()
        if self._data_dir is not None:
            with contextlib.suppress(OSError):
                (self._data_dir / PID_FILE).unlink()

    def _log_tail(self) -> str:
        if self._log_file is None or not self._log_file.exists():
            return "(no log)"
        with self._log_file.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - _LOG_TAIL_BYTES))
            text = log.read().decode("utf-8", "replace")
        if self._secret_key:
            text = text.replace(self._secret_key, "<redacted>")
        return text
