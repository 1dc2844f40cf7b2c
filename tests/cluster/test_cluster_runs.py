"""``--cluster local:2``: the same tree copied by two worker processes, a worker killed with
SIGKILL mid-run, a dry-run that plans what a local one plans, and secrets kept off the wire.

Every run copies between two accounts (server A → server B, relayed), so each worker must
resolve both profiles by itself from the environment it inherited: no credential is sent.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from cli.clirun import cli_env, command, run
from clusterkit import bucket_sums, open_uploads, profiles_home
from servers import boto3_client
from test_cross_endpoint import sides

from s3z_core.local_server import LocalS3Server

pytest.importorskip("distributed")


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def summary_of(stdout: str) -> dict[str, Any]:
    return next(r for r in records(stdout) if r.get("type") == "summary")


def test_cluster_copy_is_identical_and_shared_by_two_workers(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, source_tree, bucket, tmp_path: Path
) -> None:
    src, sums = source_tree
    dst = bucket(seaweed_b)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    proc = run(
        None,
        home,
        "cp",
        "-r",
        f"s3://{src}/",
        f"s3://{dst}/",
        "--json",
        "--cluster",
        "local:2",
        "--shard-files",
        "250",
        *sides(seaweed, seaweed_b),
    )
    summary = summary_of(proc.stdout)
    assert summary["ok"]
    assert summary["files_done"] == len(sums)
    workers = summary["workers"]
    assert len(workers) == 2, workers  # both worker processes did files …
    assert all(n > 0 for n in workers.values()), workers
    assert sum(workers.values()) == len(sums)  # … and every file was done exactly once
    shards = [r for r in records(proc.stdout) if r.get("type") == "shard"]
    assert len({r["pid"] for r in shards}) == 2
    # per-file records as a local run writes them: every file queued, then completed
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in records(proc.stdout):
        by_type.setdefault(r["type"], []).append(r)
    assert len(by_type["queued"]) == len(by_type["completed"]) == len(sums)
    assert {r["id"] for r in by_type["queued"]} == {r["id"] for r in by_type["completed"]}
    assert by_type["progress"][-1]["files_done"] == len(sums)
    assert os.getpid() not in {r["pid"] for r in shards}  # not the test, not the driver
    assert bucket_sums(seaweed_b, dst) == sums
    assert open_uploads(seaweed_b, dst) == []


def kill_in_a_shard(pid: int, ports: set[int | None], killed: list[int]) -> None:
    """SIGKILL ``pid`` (a worker this test's CLI started) once it has an established
    connection to one of ``ports``; give up after a minute (the test then says so)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            links = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            return
        if any(
            c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port in ports for c in links
        ):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.005)


def test_worker_killed_mid_run_still_ends_complete(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, source_tree, bucket, tmp_path: Path
) -> None:
    """SIGKILL one worker process while it is inside a shard: Dask reschedules the lost
    shard, whose re-run skips what arrived.

    "Inside" is observed, not assumed: the worker has reported its first shard and holds an
    open connection to either server, which only a running shard's engine has (each shard
    closes its engine; the worker's own links go to the scheduler). Killing on the first report
    alone raced the next shard's start: a worker killed before that shard marked itself begun
    lost nothing, so nothing ran twice."""
    src, sums = source_tree
    dst = bucket(seaweed_b)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    argv = [
        *command(),
        "cp",
        "-r",
        f"s3://{src}/",
        f"s3://{dst}/",
        "--json",
        "--cluster",
        "local:2",
        "--shard-files",
        "100",
        *sides(seaweed, seaweed_b),
    ]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(None, home),
        cwd=home,
    )
    ports = {urlsplit(seaweed.endpoint_url).port, urlsplit(seaweed_b.endpoint_url).port}
    killer: threading.Thread | None = None
    killed: list[int] = []
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # read on while the killer waits: the pipe must not fill
            lines.append(line)
            if killer is None and '"type": "shard"' in line:
                pid = json.loads(line)["pid"]
                killer = threading.Thread(target=kill_in_a_shard, args=(pid, ports, killed))
                killer.start()
        _, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        if killer is not None:
            killer.join()
    assert proc.returncode == 0, stderr[-3000:]
    assert killed, "the worker never held a server connection after its first shard"
    summary = summary_of("".join(lines))
    assert summary["ok"]
    assert summary["files_done"] == len(sums)
    assert summary["shards_rerun"] >= 1  # the lost shard ran again, somewhere else
    assert bucket_sums(seaweed_b, dst) == sums
    assert open_uploads(seaweed_b, dst) == []


def test_cluster_sync_dry_run_plans_what_a_local_one_plans(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, source_tree, bucket, tmp_path: Path
) -> None:
    src, _ = source_tree
    dst = bucket(seaweed_b)
    b = boto3_client(seaweed_b)
    for i in range(40):  # a destination half in sync: some same, some different, some extra
        b.put_object(Bucket=dst, Key=f"d{i % 30:02d}/f{i:05d}.txt", Body=b"x" * i)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    args = [
        "sync",
        f"s3://{src}/",
        f"s3://{dst}/",
        "--delete",
        "--dry-run",
        "--json",
        *sides(seaweed, seaweed_b),
    ]
    local = [r for r in records(run(None, home, *args).stdout) if r["type"] == "plan"]
    cluster = run(None, home, *args, "--cluster", "local:2")
    planned = [r for r in records(cluster.stdout) if r["type"] == "plan"]
    assert len(local) > 3000
    assert planned == local


def test_no_secret_in_task_payloads(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, source_tree, tmp_path: Path, monkeypatch
) -> None:
    """The driver's real planning path, run in-process up to the submit: every task it
    would send pickles without either account's secret (nor does its repr hold one)."""
    from s3z_core.cli import main as cli_main
    from s3z_core.cluster import driver

    src, _ = source_tree
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    for name, value in cli_env(None, home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)  # a secret in the env too
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_key)
    sent: list[bytes] = []

    def capture(address: str, tasks: Any, **_: Any) -> None:
        sent.extend(pickle.dumps(task) + repr(task).encode() for task in tasks)

    monkeypatch.setattr(driver, "run_tasks", capture)
    code = cli_main.main(
        [
            "cp",
            "-r",
            f"s3://{src}/",
            "s3://elsewhere/",
            "--cluster",
            "local:2",
            "-q",
            *sides(seaweed, seaweed_b),
        ]
    )
    assert code == 0
    assert len(sent) >= 3
    for payload in sent:
        assert seaweed.secret_key.encode() not in payload
        assert seaweed_b.secret_key.encode() not in payload
        assert b"aws_secret" not in payload.lower()


def test_secret_on_the_command_line_is_refused_with_cluster(tmp_path: Path) -> None:
    proc = run(
        None,
        tmp_path,
        "cp",
        "-r",
        "s3://a/",
        "s3://b/",
        "--cluster",
        "local:2",
        "--access-key",
        "AK",
        "--secret-key",
        "SK",
        check=2,
    )
    assert "never sends credentials" in proc.stderr


def test_bad_cluster_address_is_one_line(tmp_path: Path) -> None:
    proc = run(None, tmp_path, "rm", "-r", "s3://a/p/", "--cluster", "lokal:2", check=2)
    assert "use local:N" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_dask_is_one_clear_line(tmp_path: Path) -> None:
    """Without the extra installed (an import of ``distributed`` that fails), one line."""
    blocker = tmp_path / "blocker" / "distributed"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('not installed')\n")
    root = Path(__file__).resolve().parents[2]
    proc = run(
        None,
        tmp_path,
        "cp",
        "-r",
        "s3://a/",
        "s3://b/",
        "--cluster",
        "local:2",
        check=2,
        PYTHONPATH=f"{blocker.parent}{os.pathsep}{root}",
    )
    assert "pip install 's3z[cluster]'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cluster_sync_then_cluster_rm(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket, tmp_path: Path
) -> None:
    """``sync --delete --cluster`` makes B match A (copies on the workers, deletes on the
    driver); ``rm -r --cluster`` then empties B in shards of keys on the workers."""
    src, dst = bucket(seaweed), bucket(seaweed_b)
    a, b = boto3_client(seaweed), boto3_client(seaweed_b)
    for i in range(120):
        a.put_object(Bucket=src, Key=f"s/{i:03d}", Body=b"v%d" % i * (i + 1))
    for i in range(0, 120, 3):  # a third already there, a few of them stale
        body = b"stale" if i % 9 == 0 else b"v%d" % i * (i + 1)
        b.put_object(Bucket=dst, Key=f"s/{i:03d}", Body=body)
    for i in range(5):
        b.put_object(Bucket=dst, Key=f"s/extra{i}", Body=b"gone soon")
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    cluster = ["--cluster", "local:2", "--shard-files", "10"]
    synced = run(
        None,
        home,
        "sync",
        f"s3://{src}/s/",
        f"s3://{dst}/s/",
        "--delete",
        "--json",
        *cluster,
        *sides(seaweed, seaweed_b),
    )
    summary = summary_of(synced.stdout)
    assert summary["ok"]
    assert summary["files_done"] == 80 + 14  # 80 missing, 14 stale (i % 9 == 0)
    assert sum(summary["workers"].values()) == summary["files_done"]
    assert bucket_sums(seaweed_b, dst) == bucket_sums(seaweed, src)
    removed = run(
        None,
        home,
        "rm",
        "-r",
        f"s3://{dst}/s/",
        "--json",
        *cluster,
        "--profile",
        "b",
        "--endpoint-url",
        seaweed_b.endpoint_url,
    )
    deleted = [r for r in records(removed.stdout) if r.get("type") == "deleted"]
    assert len(deleted) == 120
    assert b.list_objects_v2(Bucket=dst).get("KeyCount", 0) == 0
    shards = [r for r in records(removed.stdout) if r.get("type") == "shard"]
    assert len(shards) == 12


def test_ctrl_c_on_a_cluster_run_stops_it_and_leaves_no_upload(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, source_tree, bucket, tmp_path: Path
) -> None:
    """SIGINT to the driver once shards are running: the shards are cancelled, the cluster
    closes, the uploads its workers may have left are aborted, and the exit code is 130."""
    src, sums = source_tree
    dst = bucket(seaweed_b)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    argv = [
        *command(),
        "cp",
        "-r",
        f"s3://{src}/",
        f"s3://{dst}/",
        "--json",
        "--cluster",
        "local:2",
        "--shard-files",
        "100",
        *sides(seaweed, seaweed_b),
    ]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(None, home),
        cwd=home,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if '"type": "shard"' in line:
                proc.send_signal(signal.SIGINT)
                break
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-3000:]
    assert open_uploads(seaweed_b, dst) == []
    assert len(bucket_sums(seaweed_b, dst)) < len(sums)  # it stopped before the end


def test_joins_an_existing_scheduler(
    seaweed: LocalS3Server, seaweed_b: LocalS3Server, bucket, tmp_path: Path
) -> None:
    """``--cluster tcp://HOST:PORT``: a scheduler and a worker started apart from the CLI
    (as on a cluster of machines); the worker has the profiles, the CLI sends none."""
    from s3z_core.server_launch import reserve_ports

    dask = Path(command()[0]).parent / "dask"
    if not dask.exists():
        pytest.skip("the dask command is not installed")
    src, dst = bucket(seaweed), bucket(seaweed_b)
    a = boto3_client(seaweed)
    for i in range(30):
        a.put_object(Bucket=src, Key=f"j/{i:02d}", Body=b"joined %d" % i)
    home = profiles_home(tmp_path, a=seaweed, b=seaweed_b)
    env = cli_env(None, home)
    (port,) = reserve_ports(1)
    address = f"tcp://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            subprocess.Popen(
                [
                    str(dask),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                env=env,
                cwd=home,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        started.append(
            subprocess.Popen(
                [
                    str(dask),
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                env=env,
                cwd=home,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        proc = run(
            None,
            home,
            "cp",
            "-r",
            f"s3://{src}/j/",
            f"s3://{dst}/j/",
            "--json",
            "--cluster",
            address,
            "--shard-files",
            "10",
            *sides(seaweed, seaweed_b),
        )
    finally:
        for child in reversed(started):  # only the processes this test started, by PID
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
    summary = summary_of(proc.stdout)
    assert summary["ok"]
    assert summary["files_done"] == 30
    assert len(summary["workers"]) == 1
    assert bucket_sums(seaweed_b, dst, "j/") == bucket_sums(seaweed, src, "j/")
