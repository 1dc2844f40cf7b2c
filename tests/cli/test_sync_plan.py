"""Pure units for the sync planner: size, mtime, --size-only, --delete, NFC/NFD, settle."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from s3z_core.sync_plan import SyncEntry, plan_sync, settle


def names(actions: list) -> list[str]:  # type: ignore[type-arg]
    return [a.source.name for a in actions]


def test_new_changed_newer_unchanged() -> None:
    src = [
        SyncEntry("new.txt", 1, 100.0),
        SyncEntry("size.txt", 2, 100.0),
        SyncEntry("newer.txt", 3, 200.0),
        SyncEntry("same.txt", 4, 100.0),
        SyncEntry("older.txt", 5, 50.0),
        SyncEntry("within-tolerance.txt", 6, 100.9),
    ]
    dst = [
        SyncEntry("size.txt", 20, 100.0),
        SyncEntry("newer.txt", 3, 100.0),
        SyncEntry("same.txt", 4, 100.0),
        SyncEntry("older.txt", 5, 100.0),
        SyncEntry("within-tolerance.txt", 6, 100.0),
        SyncEntry("extra.txt", 7, 100.0),
    ]
    plan = plan_sync(src, dst)
    assert [(a.source.name, a.reason) for a in plan.copies] == [
        ("new.txt", "new"),
        ("newer.txt", "newer"),
        ("size.txt", "size"),
    ]
    assert plan.unchanged == 3
    assert plan.deletes == []  # --delete not given


def test_size_only_ignores_time_and_delete_lists_extras() -> None:
    src = [SyncEntry("a", 1, 999.0), SyncEntry("b", 2, 0.0)]
    dst = [SyncEntry("a", 1, 0.0), SyncEntry("b", 3, 0.0), SyncEntry("z", 1, 0.0)]
    plan = plan_sync(src, dst, size_only=True, delete=True)
    assert [(a.source.name, a.reason) for a in plan.copies] == [("b", "size")]
    assert [d.name for d in plan.deletes] == ["z"]
    assert plan.unchanged == 1


def test_nfc_and_nfd_names_are_the_same_file() -> None:
    nfd = unicodedata.normalize("NFD", "café/résumé.txt")
    nfc = unicodedata.normalize("NFC", "café/résumé.txt")
    assert nfd != nfc
    plan = plan_sync([SyncEntry(nfd, 10, 5.0)], [SyncEntry(nfc, 10, 5.0)], delete=True)
    assert plan.copies == []
    assert plan.deletes == []
    assert plan.unchanged == 1


def test_nfc_nfd_twins_in_source_are_reported_once() -> None:
    nfd = unicodedata.normalize("NFD", "é")
    nfc = unicodedata.normalize("NFC", "é")
    plan = plan_sync([SyncEntry(nfc, 1, 0.0), SyncEntry(nfd, 2, 0.0)], [])
    assert len(plan.copies) == 1
    assert len(plan.twins) == 1


def test_upper_bound_times_are_settled_by_stored_mtime() -> None:
    # s3→local: the object was uploaded (LastModified 500) from a file with mtime 100;
    # the local copy kept mtime 100: unchanged. A second object has no stored mtime: copied.
    src = [SyncEntry("kept", 1, 500.0, True), SyncEntry("plain", 1, 500.0, True)]
    dst = [SyncEntry("kept", 1, 100.0), SyncEntry("plain", 1, 100.0)]
    plan = plan_sync(src, dst)
    assert plan.copies == []
    assert names(plan.needs_mtime) == ["kept", "plain"]
    plan = settle(plan, {"kept": 100.0, "plain": None})
    assert names(plan.copies) == ["plain"]
    assert plan.unchanged == 1
    assert plan.needs_mtime == []


def test_upper_bound_never_asked_when_size_differs_or_dest_newer() -> None:
    src = [SyncEntry("s", 1, 500.0, True), SyncEntry("t", 1, 500.0, True)]
    dst = [SyncEntry("s", 2, 100.0), SyncEntry("t", 1, 600.0)]
    plan = plan_sync(src, dst)
    assert [(a.source.name, a.reason) for a in plan.copies] == [("s", "size")]
    assert plan.needs_mtime == []
    assert plan.unchanged == 1


entries = st.lists(
    st.builds(
        SyncEntry,
        st.text("abé/", min_size=1, max_size=4),
        st.integers(0, 3),
        st.floats(0, 10, allow_nan=False),
    ),
    max_size=12,
)


@given(entries, entries)
def test_every_source_is_accounted_for_once(src: list[SyncEntry], dst: list[SyncEntry]) -> None:
    plan = plan_sync(src, dst, delete=True)
    distinct = {unicodedata.normalize("NFC", e.name) for e in src}
    assert len(plan.copies) + plan.unchanged + len(plan.needs_mtime) == len(distinct)
    dst_names = {unicodedata.normalize("NFC", e.name) for e in dst}
    for action in plan.copies:
        in_dst = unicodedata.normalize("NFC", action.source.name) in dst_names
        assert (action.reason == "new") == (not in_dst)
    for entry in plan.deletes:
        assert unicodedata.normalize("NFC", entry.name) not in distinct
    # Applying the plan makes a second plan empty (idempotence).
    # The destination's first entry per NFC name is the one compared (and overwritten).
    merged: dict[str, SyncEntry] = {}
    for e in dst:
        merged.setdefault(unicodedata.normalize("NFC", e.name), e)
    for action in plan.copies:
        merged[unicodedata.normalize("NFC", action.source.name)] = action.source
    for entry in plan.deletes:
        merged.pop(unicodedata.normalize("NFC", entry.name), None)
    again = plan_sync(src, list(merged.values()), delete=True)
    assert again.copies == []
    assert again.deletes == []


def test_a_destination_changed_after_the_last_sync_is_restored_only_when_asked() -> None:
    src = [SyncEntry("edited.txt", 5, 100.0, mtime_is_upper_bound=True)]
    dst = [SyncEntry("edited.txt", 5, 500.0)]
    assert plan_sync(src, dst).unchanged == 1  # local -> s3 and s3 -> s3: no restore
    plan = plan_sync(src, dst, restore_changed=True)
    assert [(a.source.name, a.reason) for a in plan.copies] == [("edited.txt", "changed")]
    assert plan.needs_mtime == []  # newer than the upper bound: decided without a HEAD
    within = plan_sync(src, [SyncEntry("edited.txt", 5, 100.5)], restore_changed=True)
    assert within.unchanged == 1
    assert plan_sync(src, dst, restore_changed=True, size_only=True).unchanged == 1
