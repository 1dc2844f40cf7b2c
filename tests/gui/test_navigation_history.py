"""The browser's navigation rules, without a window (models/history.py is Qt-free)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from s3z_gui.models.history import Location, NavigationHistory, parent_location, parse_location

A = Location("a")
A_X = Location("a", "x/")
A_XY = Location("a", "x/y/")
B = Location("b")


def test_history_is_qt_free() -> None:
    # In a fresh interpreter: this one imported Qt long ago.
    probe = (
        "import sys, s3z_gui.models.history; print(sorted(m for m in sys.modules if 'PySide' in m))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_back_and_forward_walk_the_visits_in_order() -> None:
    h = NavigationHistory()
    for place in (A, A_X, A_XY):
        h.visit(place)
    assert (h.can_go_back, h.can_go_forward) == (True, False)
    assert h.back() == A_X
    assert h.back() == A
    assert h.back() is None  # the empty start is never remembered
    assert h.current == A
    assert h.forward() == A_X
    assert h.forward() == A_XY
    assert h.forward() is None
    assert h.current == A_XY


def test_a_new_visit_after_going_back_drops_forward() -> None:
    h = NavigationHistory()
    h.visit(A)
    h.visit(A_X)
    h.back()
    assert h.can_go_forward
    h.visit(B)
    assert not h.can_go_forward
    assert h.back() == A


def test_unremembered_visits_and_revisits_leave_history_alone() -> None:
    h = NavigationHistory()
    h.visit(A)
    h.visit(A_X, remember=False)  # a refresh, or the first bucket after connecting
    h.visit(A_X)  # the same place again
    assert h.current == A_X
    assert h.back() is None
    h.visit(Location(None))  # e.g. the last bucket was deleted
    h.visit(B)
    assert h.back() == A_X  # the empty location in between was not remembered
    assert h.back() is None


def test_up_goes_to_the_parent_folder_and_is_remembered() -> None:
    h = NavigationHistory()
    h.visit(A_XY)
    assert h.can_go_up
    assert h.up() == A_X
    assert h.up() == A
    assert not h.can_go_up
    assert h.up() is None
    assert h.back() == A_X
    assert h.back() == A_XY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://b/p", Location("b", "p/")),
        ("b/p/q/", Location("b", "p/q/")),
        ("  /b  ", Location("b", "")),
        ("s3://", None),
        ("", None),
        ("my bucket/x", None),
    ],
)
def test_parse_location(text: str, expected: Location | None) -> None:
    assert parse_location(text) == expected


def test_parent_location_and_url() -> None:
    assert parent_location(A_XY) == A_X
    assert parent_location(A) is None
    assert parent_location(Location(None)) is None
    assert A_X.url == "s3://a/x/"
    assert Location(None).url == ""
