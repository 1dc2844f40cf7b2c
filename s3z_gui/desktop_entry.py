"""The applications-menu entry: the packaged ``.desktop`` file and icon, installed per user.

``s3z --install-desktop-entry`` writes them under ``$XDG_DATA_HOME`` (``~/.local/share``) with
``Exec`` pointing at the absolute path of the installed ``s3z``: a menu does not search the
venv that pipx made. A manifest records every file written and every folder that had to be
created, so ``--uninstall-desktop-entry`` removes exactly those and never a folder or file that
was there before. No Qt here: both commands work without a display, and the first-run offer
(``views/desktop_offer.py``) calls the same functions from a worker thread.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent / "resources"
DESKTOP_NAME = "s3z.desktop"  # matches QGuiApplication.setDesktopFileName("s3z")
ICON_NAME = "s3z.svg"
MANIFEST_NAME = "desktop-entry.json"

# Characters that make the desktop-entry spec require a quoted Exec argument.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopEntryError(Exception):
    """The entry cannot be installed or removed (the message says why and what to do)."""


@dataclass(frozen=True)
class EntryPaths:
    """Where the entry lives for one data home."""

    data_home: Path

    @property
    def desktop_file(self) -> Path:
        return self.data_home / "applications" / DESKTOP_NAME

    @property
    def icon_file(self) -> Path:
        return self.data_home / "icons" / "hicolor" / "scalable" / "apps" / ICON_NAME

    @property
    def manifest(self) -> Path:
        return self.data_home / "s3z" / MANIFEST_NAME


def data_home(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` when set to an absolute path (the spec ignores relative ones)."""
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def data_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """The data home first, then ``$XDG_DATA_DIRS`` (where distribution packages put entries)."""
    env = os.environ if env is None else env
    system = env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [data_home(env), *(Path(d) for d in system.split(":") if os.path.isabs(d))]


def entry_present(env: Mapping[str, str] | None = None) -> bool:
    """Whether some menu entry for s3z exists already (ours or a package's): then never offer."""
    return any((d / "applications" / DESKTOP_NAME).exists() for d in data_dirs(env))


def installed_executable(argv0: str | None = None) -> Path:
    """The ``s3z`` a menu should start: the script running now when it is one, else the one
    beside this interpreter, else the one on PATH. The path is absolute but links are kept:
    pipx's ``~/.local/bin/s3z`` stays valid when pipx rebuilds the venv behind it."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    candidates: list[str | None] = []
    if Path(argv0).name == "s3z":
        candidates.append(argv0)
    candidates += [str(Path(sys.executable).parent / "s3z"), shutil.which("s3z")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Path(os.path.abspath(candidate))
    raise DesktopEntryError(
        "no installed `s3z` command was found to put in the menu; install s3z first "
        "(pipx install s3z) and run `s3z --install-desktop-entry` from there"
    )


def exec_value(program: Path) -> str:
    """``program`` as an Exec argument: quoted by the spec's rules when it must be, ``%``
    doubled (field codes), then backslashes doubled (the string escape of every value)."""
    text = str(program)
    if any(ch in _RESERVED for ch in text):
        inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in text)
        text = f'"{inner}"'
    return text.replace("%", "%%").replace("\\", "\\\\")


def render_entry(template: str, program: Path) -> str:
    """The packaged entry with ``Exec`` and ``TryExec`` aimed at ``program``."""
    value = exec_value(program)
    lines = []
    for line in template.splitlines():
        if line.startswith(("Exec=", "TryExec=")):
            continue
        lines.append(line)
        if line.startswith("Type="):
            lines += [f"TryExec={value}", f"Exec={value}"]
    if not any(line.startswith("Exec=") for line in lines):
        raise DesktopEntryError(f"{RESOURCES / DESKTOP_NAME} has no Type= line")
    return "\n".join(lines) + "\n"


def _read_manifest(paths: EntryPaths) -> dict[str, list[str]]:
    try:
        data = json.loads(paths.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"files": [], "dirs": []}
    except (OSError, ValueError) as exc:
        raise DesktopEntryError(f"cannot read {paths.manifest}: {exc}") from None
    if not isinstance(data, dict):
        raise DesktopEntryError(f"{paths.manifest} is not an s3z manifest; remove it")
    return {"files": list(data.get("files", [])), "dirs": list(data.get("dirs", []))}


def _make_dirs(folder: Path, created: list[str]) -> None:
    """mkdir -p that remembers which folders did not exist (outermost first)."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(str(parent))


def _write(target: Path, data: bytes) -> None:
    """Write next to the target, then rename: a menu never reads half a file."""
    temporary = target.with_name(f".{target.name}.s3z-tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def install(program: Path, env: Mapping[str, str] | None = None) -> tuple[Path, Path]:
    """Write the entry and icon for ``program``; returns the two files written."""
    paths = EntryPaths(data_home(env))
    manifest = _read_manifest(paths)
    ours = set(manifest["files"])
    for target in (paths.desktop_file, paths.icon_file):
        if target.exists() and str(target) not in ours:
            raise DesktopEntryError(
                f"{target} exists and was not installed by s3z; remove it first if it is stale"
            )
    entry = render_entry((RESOURCES / DESKTOP_NAME).read_text(encoding="utf-8"), program)
    icon = (RESOURCES / ICON_NAME).read_bytes()
    created = list(manifest["dirs"])
    try:
        for target, data in ((paths.icon_file, icon), (paths.desktop_file, entry.encode())):
            _make_dirs(target.parent, created)
            _write(target, data)
            ours.add(str(target))
        _make_dirs(paths.manifest.parent, created)
        record = {"files": sorted(ours), "dirs": created}
        _write(paths.manifest, json.dumps(record, indent=1).encode())
    except OSError as exc:
        raise DesktopEntryError(f"cannot install the desktop entry: {exc}") from None
    return paths.desktop_file, paths.icon_file


def uninstall(env: Mapping[str, str] | None = None) -> list[Path]:
    """Remove what :func:`install` wrote, and the folders it created once they are empty."""
    paths = EntryPaths(data_home(env))
    manifest = _read_manifest(paths)
    removed = []
    try:
        for name in manifest["files"]:
            target = Path(name)
            if target.exists():
                target.unlink()
                removed.append(target)
        paths.manifest.unlink(missing_ok=True)
        for name in reversed(manifest["dirs"]):
            folder = Path(name)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    except OSError as exc:
        raise DesktopEntryError(f"cannot remove the desktop entry: {exc}") from None
    return removed
