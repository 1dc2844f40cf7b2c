"""Pure units for progress rendering: aggregation, throttled redraws (fake clock), JSON schema."""

from __future__ import annotations

import io
import json

from s3z_core.cli.render import Console, JsonProgress, NoProgress, TtyProgress, make_progress
from s3z_core.errors import NoSuchKeyError
from s3z_core.events import (
    BytesTransferred,
    PartRetried,
    TransferCompleted,
    TransferFailed,
    TransferQueued,
    TransferStarted,
    Verification,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def queued(tid: int, size: int | None = 100) -> TransferQueued:
    return TransferQueued(tid, "upload", f"f{tid}", f"s3://b/f{tid}", size)


def completed(tid: int, size: int = 100) -> TransferCompleted:
    return TransferCompleted(tid, size, Verification.VERIFIED_MD5, '"e"', 0.5)


def consoles(**kw: bool) -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(out=out, err=err, **kw), out, err


def test_tally_aggregates_bytes_files_failures_rate_eta() -> None:
    console, out, _ = consoles()
    clock = FakeClock()
    view = NoProgress(console, clock)
    view(queued(1))
    view(queued(2, None))
    view(TransferStarted(2, 300, 1))
    view(BytesTransferred(1, 50))
    clock.now = 1.0
    view(BytesTransferred(2, 150))
    view(PartRetried(2, 1, 2, "SlowDown", 0.1))
    tally = view.tally
    assert (tally.bytes_done, tally.bytes_total, tally.files_total) == (200, 400, 2)
    assert tally.rate_bps(1.0) == 200.0  # 200 bytes since the first event, one second ago
    assert tally.eta_s(1.0) == 1.0  # 200 bytes left at 200 B/s
    assert tally.retries == 1
    view(completed(1))
    view(TransferFailed(2, NoSuchKeyError(code="NoSuchKey", status=404, key="f2", bucket="b")))
    assert (tally.files_done, tally.files_failed) == (1, 1)
    # A failed transfer's bytes leave both the done and the total counts.
    assert (tally.bytes_done, tally.bytes_total) == (100, 100)
    assert out.getvalue() == "upload: f1 -> s3://b/f1\n"


def test_quiet_hides_per_file_lines() -> None:
    console, out, _ = consoles(quiet=True)
    view = NoProgress(console, FakeClock())
    view(queued(1))
    view(completed(1))
    assert out.getvalue() == ""


def test_tty_bar_redraws_at_most_ten_times_a_second() -> None:
    console, out, err = consoles()
    clock = FakeClock()
    view = TtyProgress(console, clock)
    view(queued(1, 10_000_000))
    for i in range(1000):  # 1000 events over one simulated second
        clock.now = i / 1000
        view(BytesTransferred(1, 10_000))
    assert 9 <= view.draws <= 11
    view(completed(1, 10_000_000))
    view.close()
    text = err.getvalue()
    assert "\r" in text
    assert "files 1/1" in text
    assert text.endswith("\n")
    assert "upload: f1 -> s3://b/f1" in out.getvalue()


def test_plain_progress_writes_no_escape_codes() -> None:
    console, out, err = consoles()
    view = make_progress(console, clock=FakeClock(), show_bar=True, stderr_is_tty=False)
    assert type(view) is NoProgress
    view(queued(1))
    view(BytesTransferred(1, 100))
    view(completed(1))
    view.close()
    assert "\x1b" not in out.getvalue() + err.getvalue()
    assert "\r" not in out.getvalue() + err.getvalue()


def test_json_lines_schema_and_throttled_progress() -> None:
    console, out, _ = consoles(json_lines=True)
    clock = FakeClock()
    view = make_progress(console, clock=clock, show_bar=True, stderr_is_tty=True)
    assert isinstance(view, JsonProgress)
    view(queued(1))
    view(TransferStarted(1, 100, 1))
    for i in range(100):
        clock.now = i / 1000  # 100 events in 0.1 s: one or two progress records, not 100
        view(BytesTransferred(1, 1))
    view(completed(1))
    view(queued(2))
    view(TransferFailed(2, NoSuchKeyError(code="NoSuchKey", status=404, bucket="b", key="k")))
    view.close()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    types = [r["type"] for r in records]
    assert types.count("progress") <= 4
    assert records[0] == {
        "type": "queued",
        "id": 1,
        "direction": "upload",
        "source": "f1",
        "destination": "s3://b/f1",
        "size": 100,
    }
    done = next(r for r in records if r["type"] == "completed")
    assert done["verification"] == "verified-md5"
    failed = next(r for r in records if r["type"] == "failed")
    assert failed["error"]["code"] == "NoSuchKey"
    assert failed["error"]["status"] == 404
    last = records[-1]
    assert last["type"] == "progress"
    assert (last["files_done"], last["files_failed"], last["files_total"]) == (1, 1, 2)


def test_console_failure_line_and_json() -> None:
    console, out, err = consoles(json_lines=True)
    error = NoSuchKeyError(code="NoSuchKey", status=404, operation="GetObject", bucket="b", key="k")
    console.failure("download", "s3://b/k -> ./k", error)
    assert err.getvalue() == (
        "s3z-core: failed: download s3://b/k -> ./k: GetObject s3://b/k: NoSuchKey (HTTP 404)\n"
    )
    record = json.loads(out.getvalue())
    assert record["type"] == "failure"
    assert record["error"]["kind"] == "NoSuchKeyError"
    assert console.failures == 1
