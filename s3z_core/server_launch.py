"""What starting a local S3 server needs before its process exists: the binary, free loopback
ports, and a readiness probe.

SeaweedFS listens on every port + 10000 for gRPC and crashes when that twin is above 65535, so
ports are picked below 55535 with a free twin. Readiness is a *signed* ListBuckets answering 200
(SeaweedFS's S3 port says 403 before its filer is ready). The probe is signed by our own
``SigV4Signer`` and sent with ``http.client``: no aiohttp at import time (the CLI imports this
lazily) and no proxy from the environment can intercept it.
"""

from __future__ import annotations

import datetime
import http.client
import random
import shutil
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from s3z_core.credentials import Credentials
from s3z_core.errors import S3zError
from s3z_core.protocol.signing import EMPTY_SHA256, SigV4Signer

__all__ = [
    "GRPC_OFFSET",
    "LOOPBACK",
    "PORT_HIGH",
    "LocalServerError",
    "find_binary",
    "port_free",
    "probe_list_buckets",
    "release_ports",
    "reserve_ports",
]

LOOPBACK = "127.0.0.1"
# SeaweedFS adds 10000 for gRPC and crashes above 65535: keep both the port and its twin legal.
_PORT_LOW = 20000
PORT_HIGH = 55535
GRPC_OFFSET = 10000

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


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves (Go and rclone set it): a port in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
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
            port = random.randrange(_PORT_LOW, PORT_HIGH)
            group = [port] if twin_offset is None else [port, port + twin_offset]
            if any(p in taken for p in group) or not all(port_free(p) for p in group):
                continue
            chosen.append(port)
            taken.update(group)
        if len(chosen) != count:
            raise LocalServerError(f"could not find {count} free ports on {LOOPBACK}")
        for port in chosen:
            _reserved_ports.add(port)
            if twin_offset is not None:
                _reserved_ports.add(port + twin_offset)
    return chosen


def release_ports(ports: Sequence[int], twin_offset: int | None) -> None:
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
