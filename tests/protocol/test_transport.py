"""The transport: a lazy session (no I/O in the constructor), closing, config validation,
and TLS verification on by default (checked end to end through a TLS front of ours)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from s3z_protocol_helpers import client_config
from servers import S3Endpoint

from s3z_core.config import ClientConfig, RetryPolicy
from s3z_core.credentials import Credentials
from s3z_core.errors import ConnectError, CredentialsError, InvalidValueError, TransportError
from s3z_core.operations import S3Operations
from s3z_core.transport.body import FileRange
from s3z_core.transport.client import S3Client


def _creds(server: S3Endpoint) -> Credentials:
    return Credentials(server.access_key, server.secret_key)


def test_constructor_outside_a_loop_opens_nothing(seaweed: S3Endpoint) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    client = S3Client(client_config(seaweed), _creds(seaweed))
    assert client.routes.session is None
    # Closing a client that never sent anything is fine, and leaves no session behind.
    asyncio.run(client.close())
    assert client.routes.session is None


@pytest.mark.asyncio
async def test_session_is_created_on_first_request_and_closed(seaweed: S3Endpoint) -> None:
    """aiohttp's session (``direct_requests=False`` sends every request through it)."""
    config = client_config(seaweed, max_connections=3, direct_requests=False)
    client = S3Client(config, _creds(seaweed))
    assert client.routes.session is None
    ops = S3Operations(client)
    await ops.list_buckets()
    session = client.routes.session
    assert session is not None
    assert not session.closed
    assert session.connector is not None
    assert session.connector.limit == 3
    assert session.connector.limit_per_host == 3
    await ops.list_buckets()
    assert client.routes.session is session  # one session, reused
    await client.close()
    assert session.closed
    assert client.routes.session is None
    await client.close()  # idempotent
    # A closed client can be used again: it makes a new session lazily.
    async with client:
        await ops.list_buckets()
        assert client.routes.session is not None
        assert client.routes.session is not session
    assert client.routes.session is None


@pytest.mark.parametrize("field", ["max_connections", "connect_timeout_s", "read_timeout_s"])
@pytest.mark.parametrize("value", [0, -1])
def test_zero_or_negative_knobs_are_refused(field: str, value: int) -> None:
    with pytest.raises(InvalidValueError, match=field):
        ClientConfig(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["max_attempts", "base_delay_s", "max_delay_s"])
def test_zero_retry_knobs_are_refused(field: str) -> None:
    with pytest.raises(InvalidValueError, match=field):
        RetryPolicy(**{field: 0})


def test_bad_addressing_and_region_are_refused() -> None:
    with pytest.raises(InvalidValueError):
        ClientConfig(addressing_style="sideways")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        ClientConfig(region="")


def test_tls_verification_is_on_by_default() -> None:
    assert ClientConfig().verify_ssl is True


@pytest.mark.asyncio
async def test_no_credentials_fails_before_sending(seaweed: S3Endpoint) -> None:
    client = S3Client(client_config(seaweed), None)
    try:
        with pytest.raises(CredentialsError):
            await S3Operations(client).list_buckets()
        with pytest.raises(CredentialsError):
            client.presign("GET", "b", "k", 60)
    finally:
        await client.close()


# -- TLS, end to end -------------------------------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(tz=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsFront:
    """Terminates TLS (self-signed) on 127.0.0.1 and pipes bytes to a real server."""

    def __init__(self, upstream: S3Endpoint, ctx: ssl.SSLContext) -> None:
        host_port = upstream.endpoint_url.removeprefix("http://").rstrip("/")
        host, _, port = host_port.rpartition(":")
        self.upstream = (host, int(port))
        self.ctx = ctx
        self.handshakes = 0
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ctx)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        tasks = [
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ]
        self._tasks.update(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.difference_update(tasks)


@pytest_asyncio.fixture
async def tls_endpoint(seaweed: S3Endpoint, tmp_path: Path) -> AsyncIterator[S3Endpoint]:
    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    front = TlsFront(seaweed, ctx)
    port = await front.start()

    class Endpoint:
        endpoint_url = f"https://127.0.0.1:{port}"
        access_key = seaweed.access_key
        secret_key = seaweed.secret_key
        region = seaweed.region

    try:
        yield Endpoint()
    finally:
        await front.stop()


@pytest.mark.asyncio
async def test_tls_certificate_is_verified_unless_disabled(tls_endpoint: S3Endpoint) -> None:
    strict = S3Client(
        client_config(tls_endpoint, retry=RetryPolicy(max_attempts=1)), _creds(tls_endpoint)
    )
    lax = S3Client(client_config(tls_endpoint, verify_ssl=False), _creds(tls_endpoint))
    try:
        with pytest.raises(ConnectError):
            await S3Operations(strict).list_buckets()
        # The same endpoint works once verification is explicitly off: it is the cert.
        assert isinstance(await S3Operations(lax).list_buckets(), list)
    finally:
        await strict.close()
        await lax.close()


def test_importing_the_transport_reads_no_ca_store_and_weakens_nothing() -> None:
    """aiohttp's import-time TLS contexts are left trusting nothing (fail closed); the context
    s3z builds for an https endpoint verifies against the system roots."""
    import subprocess
    import sys
    import textwrap

    probe = textwrap.dedent(
        """
        import ssl
        import s3z_core.transport.connection as connection
        import s3z_core.transport.via_aiohttp  # the one import of aiohttp by the client
        import aiohttp.connector as c
        from s3z_core.config import ClientConfig
        placeholder = c._SSL_CONTEXT_VERIFIED
        ours = connection.tls_setting(ClientConfig())
        required = ssl.CERT_REQUIRED
        print(placeholder.cert_store_stats()["x509_ca"], placeholder.verify_mode == required,
              placeholder.check_hostname, ours.cert_store_stats()["x509_ca"] > 0,
              ours.verify_mode == required, ours.check_hostname,
              ssl.create_default_context().cert_store_stats()["x509_ca"] > 0)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["0", "True", "True", "True", "True", "True", "True"]


def test_a_body_sent_whole_is_small_enough_for_aiohttp_raw_bytes() -> None:
    """Bodies up to UPLOAD_CHUNK_BYTES are handed to aiohttp as bytes (no copy); aiohttp
    warns about raw bytes over its limit, so the chunk size must stay under it."""
    import aiohttp.payload

    from s3z_core.config import UPLOAD_CHUNK_BYTES

    assert UPLOAD_CHUNK_BYTES <= aiohttp.payload.TOO_LARGE_BYTES_BODY


def test_concurrent_first_uses_of_aiohttp_all_get_the_whole_module() -> None:
    """aiohttp is imported on first use in the pool; requests that need it while that import
    runs must wait for it, never take the half-initialised module from sys.modules."""
    import subprocess
    import sys
    import textwrap

    probe = textwrap.dedent(
        """
        import asyncio, sys
        from s3z_core.transport.routes import load_aiohttp

        async def use():  # what a request does with it: at once
            return hasattr(await load_aiohttp(), "fetch_once")

        async def main():
            loaded = "aiohttp" in sys.modules
            first = asyncio.ensure_future(use())
            while "s3z_core.transport.via_aiohttp" not in sys.modules:  # its import began
                await asyncio.sleep(0.0005)
            complete = await asyncio.gather(first, *(use() for _ in range(8)))
            print(loaded, all(complete))

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["False", "True"]


class _DeafServer:
    """Accepts, reads a request's head, then never reads again: a streamed body stalls in
    the client's buffers, as it did against SeaweedFS when an upload was cancelled at quit."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port: int = self._listener.getsockname()[1]
        self.heads = threading.Event()
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._listener.accept()
                self._accepted.append(conn)
                seen = b""
                while b"\r\n\r\n" not in seen:
                    chunk = conn.recv(1)
                    if not chunk:
                        break
                    seen += chunk
                self.heads.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        for conn in self._accepted:
            conn.close()
        self._thread.join(timeout=5)


def _held_connections(port: int) -> int:
    """Sockets of this process connected to 127.0.0.1:``port`` (its descriptors, not the
    kernel's closing sockets): a connection the client gave up but still holds counts."""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/self/fd/{fd}")
            if link.startswith("socket:["):
                ours.add(link[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[9] in ours:
            held += 1
    return held


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["cancelled", "client closed"])
async def test_a_streamed_upload_given_up_lets_go_of_its_connection(
    how: str, tmp_path: Path
) -> None:
    """aiohttp closes a given-up request's connection gracefully: asyncio kept the socket
    until the server read the buffered body, which a stalled server never does. Such a
    connection is aborted instead (before: held, and garbage-collected open after the loop)."""
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(64 * 1024**2)  # sparse
    server = _DeafServer()
    config = ClientConfig(
        endpoint_url=f"http://127.0.0.1:{server.port}",
        region="us-east-1",
        addressing_style="path",
        retry=RetryPolicy(max_attempts=1),
        read_timeout_s=60,
    )
    client = S3Client(config, Credentials("deaf", "deaf-secret"))
    ops = S3Operations(client)
    try:
        upload = asyncio.create_task(
            ops.put_object("b", "big.bin", FileRange(str(big), 0, 64 * 1024**2))
        )
        assert await asyncio.to_thread(server.heads.wait, 10), "the request never came"
        await asyncio.sleep(0.5)  # the stalled body fills the socket's and asyncio's buffers
        assert _held_connections(server.port) == 1
        if how == "cancelled":
            upload.cancel()
            with pytest.raises(asyncio.CancelledError):
                await upload
        else:
            async with asyncio.timeout(30):  # before: the session waited for good (it hung)
                await client.close()
            with pytest.raises(TransportError):  # a typed failure of that upload
                await upload
        for _ in range(200):
            if _held_connections(server.port) == 0:
                break
            await asyncio.sleep(0.01)
        assert _held_connections(server.port) == 0
    finally:
        await client.close()
        server.close()
