"""Benchmark input data: seeded random files generated once, with a sha256 manifest that
every download is checked against (a fast wrong answer is a failure, not a win)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_CHUNK_BYTES = 1 << 20
_UNITS = {
    "": 1,
    "B": 1,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "K": 1 << 10,
    "M": 1 << 20,
    "G": 1 << 30,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}
_SPEC = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*([A-Za-z]*)\s*$")


class SpecError(ValueError):
    """A --sizes entry that cannot be read."""


@dataclass(frozen=True, slots=True)
class FileSetSpec:
    """``count`` files of ``size_bytes`` each, named ``obj-000000.bin`` upwards."""

    count: int
    size_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.count * self.size_bytes

    @property
    def label(self) -> str:
        return f"{self.count}x{format_size(self.size_bytes)}"

    def names(self) -> list[str]:
        return [object_name(i) for i in range(self.count)]


def object_name(index: int) -> str:
    return f"obj-{index:06d}.bin"


def format_size(size_bytes: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size_bytes >= factor and size_bytes % factor == 0:
            return f"{size_bytes // factor}{unit}"
    return f"{size_bytes}B"


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _UNITS:
        raise SpecError(f"not a size: {text!r} (use e.g. 64KiB, 8MiB, 1GiB)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def parse_file_set(text: str) -> FileSetSpec:
    """Read ``COUNTxSIZE`` such as ``100x8MiB``."""
    match = _SPEC.match(text)
    if not match or match.group(3).upper() not in _UNITS:
        raise SpecError(f"not a file-set spec: {text!r} (use COUNTxSIZE, e.g. 100x8MiB)")
    count = int(match.group(1))
    size = int(match.group(2)) * _UNITS[match.group(3).upper()]
    if count < 1 or size < 1:
        raise SpecError(f"count and size must be positive: {text!r}")
    if count > 999_999:
        raise SpecError(f"at most 999999 files per set: {text!r}")
    return FileSetSpec(count=count, size_bytes=size)


@dataclass(frozen=True, slots=True)
class FileSet:
    """A generated file set on disk plus the sha256 of every file."""

    spec: FileSetSpec
    directory: Path
    sha256: dict[str, str]

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def first_path(self) -> Path:
        return self.directory / object_name(0)


def _generate_file(path: Path, size_bytes: int, rng: random.Random) -> str:
    digest = hashlib.sha256()
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as out:
        remaining = size_bytes
        while remaining:
            chunk = rng.randbytes(min(_CHUNK_BYTES, remaining))
            digest.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
    tmp.replace(path)
    return digest.hexdigest()


def ensure_file_set(root: Path, spec: FileSetSpec, seed: int) -> FileSet:
    """Generate the set under ``root`` unless an intact copy for this seed already exists.

    Random bytes defeat compression and dedup on the server; the seed makes a rerun
    produce the same bytes so results stay comparable.
    """
    directory = root / f"{spec.label}-seed{seed}"
    # The manifest sits beside the folder, not in it: tools upload the folder as a whole.
    manifest_path = root / f"{spec.label}-seed{seed}.manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        hashes: dict[str, str] = manifest.get("sha256", {})
        if (
            manifest.get("seed") == seed
            and sorted(hashes) == spec.names()
            and all(_has_size(directory / n, spec.size_bytes) for n in hashes)
        ):
            return FileSet(spec=spec, directory=directory, sha256=hashes)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{spec.label}")
    hashes = {name: _generate_file(directory / name, spec.size_bytes, rng) for name in spec.names()}
    manifest_path.write_text(json.dumps({"seed": seed, "sha256": hashes}, indent=0))
    return FileSet(spec=spec, directory=directory, sha256=hashes)


def _has_size(path: Path, size_bytes: int) -> bool:
    try:
        return path.stat().st_size == size_bytes
    except FileNotFoundError:
        return False


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(directory: Path) -> dict[str, Path]:
    """Every regular file under ``directory`` by its relative POSIX path."""
    found: dict[str, Path] = {}
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            path = Path(dirpath) / name
            found[path.relative_to(directory).as_posix()] = path
    return found


def verify_download(directory: Path, expected: FileSet) -> str | None:
    """Check that ``directory`` holds exactly the expected files with the expected sha256.

    Returns None when everything matches, else a short description of the first problems.
    """
    found = local_files(directory)
    problems: list[str] = []
    missing = sorted(set(expected.sha256) - set(found))
    extra = sorted(set(found) - set(expected.sha256))
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if extra:
        problems.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
    bad = [
        n
        for n in sorted(set(found) & set(expected.sha256))
        if sha256_of(found[n]) != expected.sha256[n]
    ]
    if bad:
        problems.append(f"{len(bad)} with wrong sha256 (e.g. {bad[0]})")
    return "; ".join(problems) or None


def verify_listing(output: str, expected_names: Iterable[str]) -> str | None:
    """Check that a tool's listing output names every expected key exactly (format-agnostic:
    it looks for the ``obj-NNNNNN.bin`` names in whatever the tool printed)."""
    listed = set(re.findall(r"obj-\d{6}\.bin", output))
    wanted = set(expected_names)
    if listed == wanted:
        return None
    return f"listed {len(listed & wanted)} of {len(wanted)} keys, {len(listed - wanted)} unexpected"
