"""The driver's side of a sharded run: reach a Dask cluster, submit shards, gather reports.

``local:N`` starts a ``distributed.LocalCluster`` of N single-threaded worker processes on
127.0.0.1 (the dashboard on a loopback port when bokeh is installed, else off);
``tcp://HOST:PORT`` joins an existing scheduler. Everything here is synchronous Dask client
code: the CLI runs it in a thread (``asyncio.to_thread``) so its event loop never blocks,
and gets each report back on the loop through ``call_soon_threadsafe``.

A worker lost mid-shard (SIGKILL, OOM, a dead machine) is Dask's to handle: the scheduler
reschedules the shard on another worker (up to ``distributed.scheduler.allowed-failures``
times), where it runs again idempotently (``worker.py``). A shard that still cannot run
reports each of its files as failed with the reason, so the run's exit code says so.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from s3z_core.cluster import require_dask
from s3z_core.cluster.reports import FileFailed, ShardReport
from s3z_core.cluster.shards import ShardTask
from s3z_core.errors import ConfigError
from s3z_core.records import record

_LOCAL = re.compile(r"^local:([0-9]+)$")
MAX_LOCAL_WORKERS = 256


class Submission:
    """A run's handle across threads: the CLI's loop cancels, the Dask thread obeys."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._cancel: Callable[[], None] | None = None

    def on_cancel(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        if self.cancelled.is_set():
            cancel()

    def cancel(self) -> None:
        self.cancelled.set()
        if self._cancel is not None:
            self._cancel()


@record
class ClusterInfo:
    """What the driver tells its user once the cluster answers."""

    workers: tuple[str, ...]
    dashboard: str | None


def check_address(address: str) -> None:
    """Refuse a malformed ``--cluster`` before anything is listed or started."""
    match = _LOCAL.match(address)
    if match:
        if not 1 <= int(match.group(1)) <= MAX_LOCAL_WORKERS:
            raise ConfigError(f"--cluster local:N needs 1 <= N <= {MAX_LOCAL_WORKERS}")
        return
    if not re.match(r"^(tcp|tls)://[^/\s]+:[0-9]+$", address):
        raise ConfigError(
            f"--cluster {address!r}: use local:N (N worker processes here) or "
            "tcp://HOST:PORT (a running Dask scheduler)"
        )


@contextmanager
def cluster_client(address: str) -> Iterator[Any]:
    check_address(address)
    dask = require_dask()
    match = _LOCAL.match(address)
    if match is None:
        with dask.Client(address) as client:
            yield client
        return
    dashboard = "127.0.0.1:0" if importlib.util.find_spec("bokeh") else None
    with (
        dask.LocalCluster(
            n_workers=int(match.group(1)),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=dashboard,
            silence_logs=logging.ERROR,
        ) as cluster,
        dask.Client(cluster) as client,
    ):
        yield client


def _dashboard(client: Any) -> str | None:
    """The dashboard's address, when the scheduler serves one."""
    services = client.scheduler_info().get("services", {})
    return str(client.dashboard_link) if "dashboard" in services else None


def _failed_report(task: ShardTask, exc: BaseException) -> ShardReport:
    """A shard Dask gave up on: each of its files failed, with why."""
    report = ShardReport(task.index, "(none)", 0)
    message = f"the cluster could not run shard {task.index}: {type(exc).__name__}: {exc}"
    report.failed.extend(FileFailed(spec, "TransferError", message) for spec in task.specs)
    if task.kind == "delete":
        from s3z_core.models import DeleteFailure

        report.delete_failures.extend(
            DeleteFailure(key, "ClusterTaskFailed", message) for key in task.keys
        )
    return report


def run_tasks(
    address: str,
    tasks: Sequence[ShardTask],
    *,
    on_ready: Callable[[ClusterInfo], None],
    on_report: Callable[[ShardReport], None],
    submission: Submission | None = None,
    run_started: float | None = None,
) -> None:
    """Submit one task per shard and hand every report over as it comes (blocking)."""
    from s3z_core.cluster.worker import run_shard

    run_id = uuid.uuid4().hex[:12]
    started = time.time() if run_started is None else run_started
    with cluster_client(address) as client:
        workers = tuple(sorted(client.scheduler_info().get("workers", {})))
        on_ready(ClusterInfo(workers, _dashboard(client)))
        by_key = {f"s3z-{run_id}-shard-{task.index}": task for task in tasks}
        futures = [
            client.submit(run_shard, task, run_id, started, key=key, pure=False)
            for key, task in by_key.items()
        ]
        if submission is not None:
            submission.on_cancel(lambda: client.cancel(futures))
        for future in require_dask().as_completed(futures):
            try:
                report = future.result()
            except Exception as exc:  # noqa: BLE001 - whatever ended the shard (KilledWorker, a bug) fails its files, not the run
                report = _failed_report(by_key[future.key], exc)
            on_report(report)
