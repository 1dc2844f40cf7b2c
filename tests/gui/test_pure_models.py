"""The row stores under the Qt models, tested without Qt: events in, dirty cells out."""

from __future__ import annotations

from datetime import UTC, datetime

from s3z_core.errors import NoSuchKeyError
from s3z_core.events import (
    BytesTransferred,
    PartRetried,
    RequestRetried,
    TransferCancelled,
    TransferCompleted,
    TransferFailed,
    TransferPaused,
    TransferQueued,
    TransferStarted,
    Verification,
)
from s3z_core.models import ListPage, ObjectInfo
from s3z_gui.models.listing import Listing, parent_prefix
from s3z_gui.models.throughput import ThroughputHistory
from s3z_gui.models.transfer_store import (
    ALL_COLUMNS,
    PROGRESS_COLUMNS,
    Column,
    MarkerKind,
    Status,
    TickChanges,
    TransferStore,
)
from s3z_gui.units import format_duration, format_rate, format_size


def queued(tid: int, size: int = 1000, direction: str = "upload") -> TransferQueued:
    return TransferQueued(tid, direction, f"/home/u/file{tid}.bin", f"s3://b/k/file{tid}.bin", size)  # type: ignore[arg-type]


def tick(store: TransferStore, now_s: float) -> TickChanges:
    """What the Qt model does each tick: take the changes, publish the new rows."""
    changes = store.tick(now_s)
    store.publish(changes)
    return changes


def test_rows_appear_on_the_tick_not_per_event() -> None:
    store = TransferStore()
    store.apply(queued(1), 0.0)
    store.apply(queued(2), 0.0)
    assert store.published_rows == 0
    changes = tick(store, 0.1)
    assert (changes.first_new_row, changes.new_row_count) == (0, 2)
    assert store.published_rows == 2
    assert changes.changed == {}  # new rows are inserted, not "changed"


def test_progress_marks_only_progress_columns_and_counts_bytes() -> None:
    store = TransferStore()
    store.apply(queued(1), 0.0)
    tick(store, 0.0)
    store.apply(TransferStarted(1, 1000, 1), 0.0)
    tick(store, 0.05)
    for _ in range(4):
        store.apply(BytesTransferred(1, 100), 0.1)
    changes = tick(store, 1.0)
    assert changes.changed == {0: PROGRESS_COLUMNS}
    assert changes.upload_bytes == 400
    row = store.rows[0]
    assert row.done_bytes == 400
    assert row.fraction == 0.4
    assert 0 < row.rate_bps <= 400 / 0.95
    assert row.eta_s is not None
    assert row.eta_s > 0
    # nothing happened since: the rate window still moves, but no bytes are reported
    assert tick(store, 1.1).upload_bytes == 0


def test_terminal_events_set_status_text_and_all_columns() -> None:
    store = TransferStore()
    for tid in (1, 2, 3):
        store.apply(queued(tid), 0.0)
    tick(store, 0.0)
    store.apply(TransferCompleted(1, 1000, Verification.VERIFIED_MD5, "e", 1.0), 0.1)
    store.apply(
        TransferFailed(2, NoSuchKeyError(code="NoSuchKey", status=404, operation="GetObject")), 0.1
    )
    store.apply(TransferCancelled(3), 0.1)
    changes = tick(store, 0.2)
    assert changes.changed == {0: ALL_COLUMNS, 1: ALL_COLUMNS, 2: ALL_COLUMNS}
    assert [r.status for r in store.rows] == [Status.COMPLETED, Status.FAILED, Status.CANCELLED]
    assert store.rows[0].status_text == "Verified"
    assert store.rows[1].status_text == "Failed: NoSuchKey"
    assert store.rows[1].error.startswith("NoSuchKey")
    assert "Traceback" not in store.rows[1].error


def test_pause_stops_rate_and_retries_become_markers() -> None:
    store = TransferStore()
    store.apply(queued(1), 0.0)
    store.apply(TransferStarted(1, 1000, 2), 0.0)
    tick(store, 0.0)
    store.apply(PartRetried(1, 2, 1, "SlowDown (HTTP 503)", 0.2, throttled=True), 0.5)
    store.apply(RequestRetried("ListObjectsV2", 1, "ConnectError", 0.1), 0.5)
    store.apply(TransferPaused(1), 0.6)
    changes = tick(store, 0.7)
    assert [m.kind for m in changes.markers] == [MarkerKind.THROTTLE, MarkerKind.RETRY]
    assert store.rows[0].status == Status.PAUSED
    assert store.rows[0].rate_bps == 0.0
    assert store.rows[0].retries == 1
    assert tick(store, 0.8).markers == ()


def test_remove_finished_returns_ranges_and_keeps_the_index() -> None:
    store = TransferStore()
    for tid in range(1, 7):
        store.apply(queued(tid), 0.0)
    tick(store, 0.0)
    for tid in (1, 2, 4, 6):
        store.apply(TransferCancelled(tid), 0.1)
    store.apply(BytesTransferred(5, 10), 0.1)  # a pending change on a surviving row
    ranges = store.remove_finished()
    assert ranges == [(5, 5), (3, 3), (0, 1)]
    assert [r.transfer_id for r in store.rows] == [3, 5]
    assert store.published_rows == 2
    row = store.row_for(5)
    assert row is not None
    assert row.done_bytes == 10
    assert tick(store, 0.2).changed == {1: ALL_COLUMNS}


def test_unknown_and_duplicate_events_are_ignored() -> None:
    store = TransferStore()
    store.apply(BytesTransferred(99, 5), 0.0)
    store.apply(queued(1), 0.0)
    store.apply(queued(1), 0.0)
    assert len(store) == 1
    assert tick(store, 0.0).upload_bytes == 0


def test_totals_count_states_and_rates() -> None:
    store = TransferStore()
    store.apply(queued(1, 1000), 0.0)
    store.apply(queued(2, 500, "download"), 0.0)
    store.apply(queued(3, 10), 0.0)
    tick(store, 0.0)
    store.apply(TransferStarted(1, 1000, 1), 0.0)
    store.apply(BytesTransferred(1, 250), 0.5)
    store.apply(TransferCompleted(3, 10, Verification.VERIFIED_MD5, "e", 0.1), 0.5)
    tick(store, 1.0)
    totals = store.totals()
    assert (totals.active, totals.queued, totals.completed, totals.failed) == (1, 1, 1, 0)
    assert totals.remaining_bytes == 750 + 500
    assert totals.upload_bps > 0
    assert totals.download_bps == 0


def _obj(key: str, size: int = 1) -> ObjectInfo:
    return ObjectInfo(key, size, "etag", datetime(2024, 1, 2, tzinfo=UTC), "STANDARD")


def test_listing_folds_prefixes_objects_and_skips_the_marker_and_duplicates() -> None:
    listing = Listing("b", "photos/")
    first = listing.add_page(
        ListPage([_obj("photos/"), _obj("photos/a.jpg", 5)], ["photos/2024/"], True, "t")
    )
    assert [(e.name, e.is_folder) for e in first] == [("2024", True), ("a.jpg", False)]
    assert listing.has_more
    second = listing.add_page(
        ListPage([_obj("photos/a.jpg", 5), _obj("photos/empty/")], ["photos/2024/"], False, None)
    )
    assert [(e.name, e.is_folder) for e in second] == [("empty", True)]
    assert not listing.has_more
    assert len(listing.entries) == 3


def test_parent_prefix() -> None:
    assert parent_prefix("a/b/c/") == "a/b/"
    assert parent_prefix("a/") == ""
    assert parent_prefix("") == ""


def test_throughput_bins_rates_peaks_and_window() -> None:
    history = ThroughputHistory(bin_s=0.5, window_s=10.0)
    assert not history.record(0.0, 0, 0)
    history.record(0.2, 1_000_000, 0)
    history.record(0.4, 1_000_000, 500_000)
    assert history.record(0.6, 0, 0)  # the first bin closed
    assert history.points[0].upload_bps == 4_000_000
    assert history.points[0].download_bps == 1_000_000
    assert history.peak_upload_bps == 4_000_000
    history.record(30.0, 0, 0)  # a long idle stretch: old bins leave the window
    assert all(p.at_s >= 20.0 for p in history.points)
    assert len(history.points) <= 10.0 / 0.5 + 2
    assert history.current() == (0.0, 0.0)
    assert history.peak_upload_bps == 4_000_000  # the peak is remembered


def test_units_are_human() -> None:
    assert format_size(None) == "—"
    assert format_size(1) == "1 byte"
    assert format_size(999) == "999 bytes"
    assert format_size(1_500_000) == "1.5 MB"
    assert format_size(250_000_000_000) == "250 GB"
    assert format_rate(0) == ""
    assert format_rate(2_000_000) == "2.0 MB/s"
    assert format_duration(None) == ""
    assert format_duration(42) == "42 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(7800) == "2 h 10 min"
    assert Column.PROGRESS in PROGRESS_COLUMNS


def test_counts_read_as_english() -> None:
    """A one-file folder upload said "models (1 files)" in the queue."""
    from s3z_gui.units import count_of

    assert count_of(1, "file") == "1 file"
    assert count_of(0, "file") == "0 files"
    assert count_of(4, "file") == "4 files"
