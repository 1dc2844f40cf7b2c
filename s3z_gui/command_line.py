"""What ``s3z`` answers without opening a window: ``--version``, ``--help`` and the menu entry.

These run before the display check and before Qt is imported, so they work over SSH and in
a fresh pipx install. Any other argument goes to Qt (``-platform``, ``-style``, …).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

INSTALL_FLAG = "--install-desktop-entry"
UNINSTALL_FLAG = "--uninstall-desktop-entry"

USAGE = f"""\
usage: s3z [{INSTALL_FLAG} | {UNINSTALL_FLAG} | --version | --help]

Starts the s3z desktop app (the command line is s3z-core).
  {INSTALL_FLAG}    add s3z to the applications menu of this user
  {UNINSTALL_FLAG}  remove exactly what {INSTALL_FLAG} added
"""

_OWN_FLAGS = (INSTALL_FLAG, UNINSTALL_FLAG, "--version", "--help", "-h")


def run_without_window(argv: Sequence[str]) -> int | None:
    """The exit code of a windowless request, or None when the window should start."""
    own = [arg for arg in argv if arg in _OWN_FLAGS]
    if not own:
        return None
    if len(argv) != 1:
        sys.stderr.write(f"s3z: error: {own[0]} takes no other arguments\n{USAGE}")
        return 2
    flag = argv[0]
    if flag == "--version":
        from s3z_core import __version__

        sys.stdout.write(f"s3z {__version__}\n")
        return 0
    if flag in ("--help", "-h"):
        sys.stdout.write(USAGE)
        return 0
    return _desktop_entry(install=flag == INSTALL_FLAG)


def _desktop_entry(*, install: bool) -> int:
    from s3z_gui import desktop_entry

    try:
        if install:
            program = desktop_entry.installed_executable()
            entry, icon = desktop_entry.install(program)
            sys.stdout.write(f"s3z: menu entry {entry} (icon {icon}) starts {program}\n")
            return 0
        removed = desktop_entry.uninstall()
    except desktop_entry.DesktopEntryError as exc:
        sys.stderr.write(f"s3z: error: {exc}\n")
        return 1
    if not removed:
        home = desktop_entry.data_home()
        sys.stdout.write(f"s3z: no menu entry installed by s3z under {home}; nothing removed\n")
    for path in removed:
        sys.stdout.write(f"s3z: removed {path}\n")
    return 0
