"""tests/slow_files.txt (the order xdist hands out the long files in) names files that exist,
once each, longest first: a renamed file would silently lose its early start."""

from __future__ import annotations

from pathlib import Path

from slow_order import SLOW_FILES, slow_files

ROOT = Path(__file__).resolve().parents[1]


def test_slow_files_exist_once_each_longest_first() -> None:
    names = slow_files()
    assert names
    assert len(set(names)) == len(names)
    assert [n for n in names if not (ROOT / n).is_file()] == []
    text = SLOW_FILES.read_text(encoding="utf-8")
    seconds = [int(line.split()[0]) for line in text.splitlines() if line[:1].isdigit()]
    assert seconds == sorted(seconds, reverse=True)
