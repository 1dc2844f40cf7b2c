"""The test files of tests/slow_files.txt, longest first (conftest hands them out first)."""

from __future__ import annotations

from pathlib import Path

SLOW_FILES = Path(__file__).with_name("slow_files.txt")


def slow_files() -> list[str]:
    lines = SLOW_FILES.read_text(encoding="utf-8").splitlines()
    return [line.split()[1] for line in lines if line.strip() and not line.startswith("#")]
