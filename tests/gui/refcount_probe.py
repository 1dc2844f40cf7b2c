"""Probe (run in a fresh interpreter): does the Qt binding keep its references to None/True/False?

    .venv/bin/python tests/gui/refcount_probe.py [calls]

PySide6 6.12.0 on Python 3.11 drops one reference to None, True or False per call on a few
everyday paths (a model's ``data()`` returning None, ``QAction.setEnabled``, ``emit(None)``,
``Signal(bool).emit``). Each drop brings the singleton closer to ``none_dealloc`` /
``bool_dealloc``, a fatal error minutes into ordinary use. This prints, as one JSON line, how far
each singleton's reference count moved over ``calls`` calls of each path: 0 for a sound binding,
``-calls`` for the defect. ``tests/gui/test_binding_refcounts.py`` runs it and asserts zeros.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

_BALLAST: list[object] = []


class NoneModel(QAbstractListModel):
    """One row whose every role is None (the usual answer for roles a model does not serve)."""

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return None


class Emitter(QObject):
    anything = Signal(object)
    flag = Signal(bool)


def singleton_counts() -> dict[str, int]:
    gc.collect()
    return {
        "None": sys.getrefcount(None),
        "True": sys.getrefcount(True),
        "False": sys.getrefcount(False),
    }


def moved(call: Callable[[], object], calls: int) -> dict[str, int]:
    """How far each singleton's count moved over ``calls`` calls (after one warm-up round)."""
    for _ in range(calls):  # warm-up: caches, lazily created wrappers, first-call paths
        call()
    before = singleton_counts()
    for _ in range(calls):
        call()
    after = singleton_counts()
    return {name: after[name] - before[name] for name in before}


def main(calls: int) -> dict[str, dict[str, int]]:
    # Ballast: a fresh interpreter holds only a few hundred references to True and False, so a
    # leaking binding would kill the probe with bool_dealloc before it could report numbers.
    _BALLAST.extend([None, True, False] * (20 * calls))  # never freed: see __main__
    app = QApplication.instance() or QApplication([])
    model = NoneModel()
    index = model.index(0, 0)
    action = QAction("probe")
    emitter = Emitter()
    received: list[object] = []
    emitter.anything.connect(lambda value: received.append(value) or received.clear())
    emitter.flag.connect(lambda value: received.append(value) or received.clear())
    results = {
        "QModelIndex.data() -> None": moved(index.data, calls),
        "QAction.setEnabled(True)": moved(lambda: action.setEnabled(True), calls),
        "Signal(object).emit(None)": moved(lambda: emitter.anything.emit(None), calls),
        "Signal(bool).emit(True)": moved(lambda: emitter.flag.emit(True), calls),
    }
    del app
    return results


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(json.dumps(main(count)), flush=True)
    # No interpreter teardown: after a leaking binding, freeing the ballast (or anything else
    # holding the drained singletons) would abort the process after the numbers are out.
    os._exit(0)
