"""The example FastAPI service as a real uvicorn process on 127.0.0.1 for the tests, with a
sampler of its resident memory. Stopped by its PID; never left behind."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from botocore.exceptions import ClientError
from servers import S3Endpoint, boto3_client

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    def __init__(self, store: S3Endpoint, log_path: Path) -> None:
        self.store = store
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ServiceProcess:
        # The listening socket is made here and inherited: no port race with other servers.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.store.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.store.access_key,
            "AWS_SECRET_ACCESS_KEY": self.store.secret_key,
            "AWS_REGION": self.store.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        env.pop("AWS_PROFILE", None)
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "examples.fastapi_service.app:create_app",
            "--fd",
            str(sock.fileno()),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
                start_new_session=True,
            )
        sock.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the service did not answer within 60 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


class RssSampler:
    """The peak resident set size of one process, sampled every few milliseconds."""

    def __init__(self, pid: int, interval_s: float = 0.005) -> None:
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0
        self.samples = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self.samples += 1
            self._stop.wait(self._interval_s)

    def __enter__(self) -> RssSampler:
        self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak / (1 << 20)


def sha256_object(store: S3Endpoint, bucket: str, key: str) -> str:
    """The oracle's view: boto3 reads the object back."""
    body = boto3_client(store).get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for block in body.iter_chunks(1 << 20):
        digest.update(block)
    return digest.hexdigest()


def unfinished_uploads(store: S3Endpoint, bucket: str) -> list[dict[str, Any]]:
    try:
        return list(boto3_client(store).list_multipart_uploads(Bucket=bucket).get("Uploads", []))
    except ClientError as exc:  # rclone answers NoSuchUpload when there are none
        if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
            return []
        raise
