"""S3 servers the bench can run against: the embedded SeaweedFS (default), ``rclone serve
s3``, any endpoint given on the command line, and the docker-compose services.

The compose table here is the single source of the ports and test credentials the bench
expects; ``tests/test_bench_compose.py`` checks ``docker-compose.yml`` against it.
"""

from __future__ import annotations

import os
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH_BUCKET = "s3z-bench"
# Documented, throwaway test credentials shared by every compose service. The access key
# has Garage's key-id shape (GK + 24 hex digits) so one pair works everywhere.
COMPOSE_ACCESS_KEY = "GK" + "0" * 24
COMPOSE_SECRET_KEY = "0" * 64


class BackendError(RuntimeError):
    """A backend could not be selected or started (message is safe to print)."""


@dataclass(frozen=True, slots=True)
class ComposeService:
    """A service in docker-compose.yml as the bench reaches it from the host."""

    name: str
    port: int
    region: str
    image: str

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


COMPOSE_SERVICES: dict[str, ComposeService] = {
    s.name: s
    for s in (
        ComposeService("minio", 9000, "us-east-1", "minio/minio"),
        ComposeService("rustfs", 9300, "us-east-1", "rustfs/rustfs"),
        ComposeService("seaweedfs", 9500, "us-east-1", "chrislusf/seaweedfs"),
        ComposeService("garage", 9700, "garage", "dxflrs/garage"),
    )
}
BACKEND_NAMES = ("embedded", "rclone", "endpoint", *COMPOSE_SERVICES)


@dataclass(frozen=True, slots=True)
class Backend:
    """Where a run sends its requests. ``server_pid`` is set only when the bench started
    the server itself, so its CPU can be measured."""

    name: str
    endpoint_url: str
    region: str
    access_key: str
    secret_key: str = field(repr=False)
    server_pid: int | None
    description: str
    # SeaweedFS keeps deleted data on disk until a vacuum: a full run uploads tens of GiB.
    vacuum_url: str | None = None

    def describe(self) -> dict[str, str | int | None]:
        """What goes into the run's JSON: everything but the secret."""
        return {
            "name": self.name,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "server_pid": self.server_pid,
            "description": self.description,
        }

    def reclaim_space(self) -> None:
        """Compact away deleted objects (untimed, between samples) where the server needs it;
        the call returns once the vacuum is done, so it never overlaps a measurement."""
        if self.vacuum_url is None:
            return
        try:
            with urllib.request.urlopen(self.vacuum_url, timeout=600) as response:
                response.read()
        except OSError as exc:
            raise BackendError(f"SeaweedFS vacuum failed: {exc}") from exc


@contextmanager
def open_backend(
    name: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    work_dir: Path | None = None,
) -> Iterator[Backend]:
    """Start (or point at) the chosen backend for the duration of the ``with`` block."""
    if name in ("embedded", "rclone"):
        with _owned_server(name, work_dir) as backend:
            yield backend
        return
    if name == "endpoint":
        if not endpoint_url:
            raise BackendError("--backend endpoint needs --endpoint-url")
        access = os.environ.get("AWS_ACCESS_KEY_ID")
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not access or not secret:
            raise BackendError(
                "--endpoint-url needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "in the environment"
            )
        yield Backend(
            name="endpoint",
            endpoint_url=endpoint_url,
            region=region or os.environ.get("AWS_REGION", "us-east-1"),
            access_key=access,
            secret_key=secret,
            server_pid=None,
            description=f"external endpoint {endpoint_url}",
        )
        return
    service = COMPOSE_SERVICES.get(name)
    if service is None:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    yield Backend(
        name=service.name,
        endpoint_url=endpoint_url or service.endpoint_url,
        region=region or service.region,
        access_key=COMPOSE_ACCESS_KEY,
        secret_key=COMPOSE_SECRET_KEY,
        server_pid=None,
        description=f"docker compose service {service.name} ({service.image})",
    )


@contextmanager
def _owned_server(name: str, work_dir: Path | None) -> Iterator[Backend]:
    try:
        from s3z_core.errors import S3zError
        from s3z_core.local_server import LocalS3Server, RcloneS3Server
    except ImportError as exc:
        raise BackendError(f"s3z_core.local_server is not available: {exc}") from exc
    server_cls = LocalS3Server if name == "embedded" else RcloneS3Server
    with tempfile.TemporaryDirectory(prefix=f"s3z-bench-{name}-", dir=work_dir) as tmp:
        try:
            server = server_cls(data_dir=Path(tmp), access_key="s3zbench").start()
        except S3zError as exc:
            raise BackendError(f"could not start the {name} server: {exc}") from exc
        try:
            kind = "embedded SeaweedFS" if name == "embedded" else "rclone serve s3"
            yield Backend(
                name=name,
                endpoint_url=server.endpoint_url,
                region=server.region,
                access_key=server.access_key,
                secret_key=server.secret_key,
                server_pid=server.pid,
                description=f"{kind} on 127.0.0.1, started by the bench (pid {server.pid})",
                vacuum_url=_seaweed_vacuum_url(server.pid) if name == "embedded" else None,
            )
        finally:
            server.stop()


def _seaweed_vacuum_url(pid: int | None) -> str | None:
    """The master's vacuum endpoint, read from the server's own command line."""
    import psutil

    if pid is None:
        return None
    try:
        argv = psutil.Process(pid).cmdline()
    except psutil.Error:
        return None
    for arg in argv:
        if arg.startswith("-master.port="):
            port = arg.split("=", 1)[1]
            return f"http://127.0.0.1:{port}/vol/vacuum?garbageThreshold=0.0001"
    return None
