"""The applications-menu entry: ``s3z --install-desktop-entry`` / ``--uninstall-desktop-entry``.

Run as the real console script into a temporary ``XDG_DATA_HOME``; the entry is checked with
``desktop-file-validate`` (desktop-file-utils, installed by .ci/qt-deps.sh test) and its
``Exec`` is read by the spec (tests/desktop_exec.py) and run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from desktop_exec import exec_argv, read_entry

from s3z_gui import desktop_entry
from s3z_gui.desktop_entry import DesktopEntryError, EntryPaths

S3Z = Path(sys.executable).parent / "s3z"
VERSION_LINE = "s3z 0.1.0\n"


def _env(data_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_DATA")}
    return env | {"XDG_DATA_HOME": str(data_home), "XDG_DATA_DIRS": str(data_home / "none")}


def s3z(program: Path, data_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program), *args],
        env=_env(data_home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def validate(desktop: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate (desktop-file-utils) is not installed")
    proc = subprocess.run(
        ["desktop-file-validate", str(desktop)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""  # no hints or warnings either


@pytest.mark.skipif(not S3Z.exists(), reason="the s3z console script is not installed")
def test_install_writes_a_valid_entry_whose_exec_runs_and_uninstall_restores(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (data / "applications").mkdir(parents=True)  # a folder of the user's own: must survive
    (data / "applications" / "other.desktop").write_text("[Desktop Entry]\n")
    before = snapshot(tmp_path)

    proc = s3z(S3Z, data, "--install-desktop-entry")
    assert proc.returncode == 0, proc.stderr
    paths = EntryPaths(data)
    assert str(paths.desktop_file) in proc.stdout
    assert paths.icon_file.read_bytes() == (desktop_entry.RESOURCES / "s3z.svg").read_bytes()
    validate(paths.desktop_file)
    keys = read_entry(paths.desktop_file)
    assert keys["Icon"] == "s3z"  # found by name under icons/hicolor
    assert keys["Type"] == "Application"
    argv = exec_argv(keys["Exec"])
    assert argv == [str(S3Z)]
    assert exec_argv(keys["TryExec"]) == argv
    ran = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stdout) == (0, VERSION_LINE)

    again = s3z(S3Z, data, "--install-desktop-entry")  # idempotent
    assert again.returncode == 0, again.stderr

    proc = s3z(S3Z, data, "--uninstall-desktop-entry")
    assert proc.returncode == 0, proc.stderr
    assert f"removed {paths.desktop_file}" in proc.stdout
    assert snapshot(tmp_path) == before  # exactly what was added is gone, nothing else

    proc = s3z(S3Z, data, "--uninstall-desktop-entry")
    assert proc.returncode == 0
    assert "nothing removed" in proc.stdout


@pytest.mark.skipif(not S3Z.exists(), reason="the s3z console script is not installed")
def test_exec_is_quoted_for_a_program_path_with_spaces_and_dollars(tmp_path: Path) -> None:
    """pipx under a home like '/home/Jo Doe' or a '$' in a folder name still starts."""
    folder = tmp_path / "my apps $HOME 100%"
    folder.mkdir()
    program = folder / "s3z"
    program.symlink_to(S3Z)
    data = tmp_path / "data"
    proc = s3z(program, data, "--install-desktop-entry")
    assert proc.returncode == 0, proc.stderr
    desktop = EntryPaths(data).desktop_file
    validate(desktop)
    argv = exec_argv(read_entry(desktop)["Exec"])
    assert argv == [str(program)]  # the link itself, not what it resolves to
    ran = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=False)
    assert (ran.returncode, ran.stdout) == (0, VERSION_LINE)


def test_a_foreign_entry_is_never_overwritten(tmp_path: Path) -> None:
    paths = EntryPaths(tmp_path)
    paths.desktop_file.parent.mkdir(parents=True)
    paths.desktop_file.write_text("[Desktop Entry]\nName=mine\n")
    env = {"XDG_DATA_HOME": str(tmp_path)}
    with pytest.raises(DesktopEntryError, match="was not installed by s3z"):
        desktop_entry.install(Path("/opt/s3z/bin/s3z"), env)
    assert paths.desktop_file.read_text() == "[Desktop Entry]\nName=mine\n"
    assert not paths.icon_file.exists()
    assert desktop_entry.uninstall(env) == []
    assert paths.desktop_file.exists()


def test_data_home_follows_the_xdg_rules(tmp_path: Path) -> None:
    assert desktop_entry.data_home({"XDG_DATA_HOME": "/x/share", "HOME": "/h"}) == Path("/x/share")
    # a relative XDG_DATA_HOME is invalid by the spec: ignored
    assert desktop_entry.data_home({"XDG_DATA_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.local/share"
    )
    system = tmp_path / "system"
    (system / "applications").mkdir(parents=True)
    env = {"XDG_DATA_HOME": str(tmp_path / "home"), "XDG_DATA_DIRS": str(system)}
    assert not desktop_entry.entry_present(env)
    (system / "applications" / "s3z.desktop").write_text("[Desktop Entry]\n")
    assert desktop_entry.entry_present(env)  # a distribution's package counts


def test_flags_refuse_extra_arguments() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "s3z_gui.app", "--install-desktop-entry", "extra"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "takes no other arguments" in proc.stderr
