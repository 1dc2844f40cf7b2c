"""The Qt binding keeps its references to None, True and False (issue 10).

PySide6 6.12.0 on Python 3.11 dropped one reference per call on everyday paths, and the app
died minutes later with ``Fatal Python error: none_dealloc``/``bool_dealloc``. The probe runs in
its own interpreter (a leaking binding may abort it) and reports how far each count moved.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("refcount_probe.py")
CALLS = 300


@pytest.mark.skipif(
    sys.version_info >= (3, 12),
    reason="None/True/False are immortal from Python 3.12 (PEP 683): counts never move there, "
    "so the probe cannot see a leak, and a leak cannot free them either",
)
def test_binding_keeps_references_to_none_true_false() -> None:
    done = subprocess.run(
        [sys.executable, str(PROBE), str(CALLS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"probe died ({done.returncode}):\n{done.stderr[-3000:]}"
    moved = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(moved) == {
        "QModelIndex.data() -> None",
        "QAction.setEnabled(True)",
        "Signal(object).emit(None)",
        "Signal(bool).emit(True)",
    }
    leaks = {path: counts for path, counts in moved.items() if any(d != 0 for d in counts.values())}
    assert not leaks, f"the Qt binding moved singleton reference counts over {CALLS} calls: {leaks}"
