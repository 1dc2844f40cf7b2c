"""Soak run: the real app, started fresh, used and quit over and over for N minutes.

    xvfb-run -a .venv/bin/python tests/gui/soak.py --minutes 30      # real X server (xcb)
    .venv/bin/python tests/gui/soak.py --minutes 2                    # offscreen

Each launch is the real ``s3z`` app (``tests/gui/scripted_app.py soak``) in a fresh HOME and
XDG folders kept for the whole run (as one user's machine): it starts its sandbox, then does
rounds of connect, browse, upload/pause/resume/cancel, upload + download with sha256 check,
delete, Test connection and Settings, and quits — alternately by its close button and by
SIGTERM. After every launch the soak checks what a user would trip over:

* crash: an exit code other than 0 (close) / 143 (SIGTERM), ``Fatal Python error``, an
  unexpected-error dialog, a failed script step, or a hang (timeout);
* leftover processes: anything still running on the sandbox folder (weed or its warden);
* leftover uploads: unfinished multipart uploads on the sandbox, seen by a server the soak
  starts on the same folder (and then aborts, so one leftover is not counted twice);
* leftover temp files: anything in the app's TMPDIR, ``*.s3z-part`` files, and weed's
  ``/tmp/seaweedfs-*-grpc-<port>.sock`` for the ports that launch used.

Prints one JSON line per launch and a summary; exits 1 if anything was found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: servers.boto3_client

from servers import boto3_client  # noqa: E402

from s3z_core.local_server import LocalS3Server  # noqa: E402

ROUNDS_PER_LAUNCH = 3
LAUNCH_TIMEOUT_S = 300.0
BIG_FILE_BYTES = 256 * 1024 * 1024
_PORT_FLAG = re.compile(r"^-(s3|master|volume|filer|admin)\.port=(\d+)$")


def fresh_env(base: Path) -> dict[str, str]:
    dirs = {name: base / name for name in ("home", "data", "config", "cache", "runtime", "tmp")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    dirs["runtime"].chmod(0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "AWS_"))}
    env.update(
        HOME=str(dirs["home"]),
        XDG_DATA_HOME=str(dirs["data"]),
        XDG_CONFIG_HOME=str(dirs["config"]),
        XDG_CACHE_HOME=str(dirs["cache"]),
        XDG_RUNTIME_DIR=str(dirs["runtime"]),
        TMPDIR=str(dirs["tmp"]),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        QT_QPA_PLATFORM="xcb" if os.environ.get("DISPLAY") else "offscreen",
    )
    return env


def processes_on(folder: Path) -> list[psutil.Process]:
    """Everything of ours whose command line names ``folder`` (the sandbox's weed, warden)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if proc.pid != os.getpid() and any(str(folder) in a for a in proc.info["cmdline"]):
                found.append(proc)
        except (psutil.Error, TypeError):
            continue
    return found


def weed_sockets(procs: list[psutil.Process]) -> list[Path]:
    """The fixed-path sockets weed makes for the ports on its command line."""
    sockets = []
    for proc in procs:
        try:
            argv = proc.cmdline()
        except psutil.Error:
            continue
        for arg in argv:
            if match := _PORT_FLAG.match(arg):
                role, port = match.group(1), int(match.group(2))
                sockets.append(Path(f"/tmp/seaweedfs-{role}-grpc-{port + 10000}.sock"))
    return sockets


def leftover_uploads(sandbox: Path) -> int:
    """Unfinished multipart uploads on the sandbox; aborted after counting."""
    if not (sandbox / "s3.json").exists():
        return 0
    count = 0
    with LocalS3Server(sandbox) as server:
        client = boto3_client(server)
        for bucket in client.list_buckets()["Buckets"]:
            uploads = client.list_multipart_uploads(Bucket=bucket["Name"]).get("Uploads", [])
            for upload in uploads:
                count += 1
                client.abort_multipart_upload(
                    Bucket=bucket["Name"], Key=upload["Key"], UploadId=upload["UploadId"]
                )
    return count


def launch(env: dict[str, str], work: Path, quit_mode: str) -> dict[str, Any]:
    sandbox = Path(env["XDG_DATA_HOME"]) / "s3z" / "s3z" / "sandbox"
    script = [sys.executable, str(HERE / "scripted_app.py"), "soak", str(work)]
    started = time.monotonic()
    log = work / "app.log"
    with log.open("w") as err:
        app = subprocess.Popen(
            [*script, str(ROUNDS_PER_LAUNCH)],
            env={**env, "SOAK_QUIT": quit_mode},
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=work,
        )
    assert app.stdout is not None
    hung: list[bool] = []
    watchdog = threading.Timer(LAUNCH_TIMEOUT_S, lambda: (hung.append(True), app.kill()))
    watchdog.start()
    events: list[dict[str, Any]] = []
    sockets: list[Path] = []
    rss = 0
    try:
        for line in app.stdout:  # the script's JSON lines, until it exits (or is killed)
            event = json.loads(line)
            events.append(event)
            if event["event"] == "ready":
                sockets = weed_sockets(processes_on(sandbox))
            if event["event"] == "rounds-done":
                rss = psutil.Process(app.pid).memory_info().rss
                if quit_mode == "sigterm":
                    app.send_signal(signal.SIGTERM)
        code = app.wait()
    finally:
        watchdog.cancel()
        app.stdout.close()
    timed_out = bool(hung)
    stderr = log.read_text(errors="replace")
    left = processes_on(sandbox)
    for proc in left:  # ours to stop, by pid, so the next launch starts clean
        proc.kill()
    temp_files = [str(p) for p in Path(env["TMPDIR"]).iterdir()]
    temp_files += [str(p) for p in work.rglob("*.s3z-part")]
    temp_files += [str(p) for p in sockets if p.exists()]
    expected = 0 if quit_mode == "close" else 128 + signal.SIGTERM
    errors = [e for e in events if e["event"] == "script-error"]
    crashed = (
        timed_out
        or code != expected
        or "Fatal Python error" in stderr
        or "unexpected error" in stderr
        or bool(errors)
    )
    if crashed:  # the whole log, for the post-mortem
        log.rename(work.parent / f"crash-{int(time.time())}.log")
    else:
        log.unlink()
    return {
        "quit": quit_mode,
        "exit": code,
        "rounds": sum(1 for e in events if e["event"] == "round"),
        "seconds": round(time.monotonic() - started, 1),
        "crashed": crashed,
        "why": (errors[0]["error"] if errors else "")
        or ("timeout" if timed_out else "")
        or next((ln for ln in stderr.splitlines() if "Fatal Python error" in ln), ""),
        "leftover_processes": len(left),
        "leftover_uploads": leftover_uploads(sandbox),
        "leftover_temp_files": temp_files,
        "rss_mib": round(rss / 2**20, 1),
        "stderr_tail": stderr[-1500:] if crashed else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--dir", type=Path, help="where the fresh HOME etc. go (default: temp)")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="s3z-soak-"))
    env = fresh_env(base)
    work = base / "work"
    work.mkdir(exist_ok=True)
    with (work / "big.bin").open("wb") as big:
        big.truncate(BIG_FILE_BYTES)  # sparse: big enough to be in flight when cancelled
    deadline = time.monotonic() + args.minutes * 60
    results = []
    while time.monotonic() < deadline:
        result = launch(env, work, "close" if len(results) % 2 == 0 else "sigterm")
        results.append(result)
        print(json.dumps(result), flush=True)
        for path in work.glob("download-*"):
            for file in path.iterdir():
                file.unlink()
            path.rmdir()
    summary = {
        "minutes": args.minutes,
        "platform": env["QT_QPA_PLATFORM"],
        "launches": len(results),
        "rounds": sum(r["rounds"] for r in results),
        "crashes": sum(r["crashed"] for r in results),
        "leftover_processes": sum(r["leftover_processes"] for r in results),
        "leftover_uploads": sum(r["leftover_uploads"] for r in results),
        "leftover_temp_files": sum(len(r["leftover_temp_files"]) for r in results),
        "max_rss_mib": max((r["rss_mib"] for r in results), default=0),
        "base": str(base),
    }
    print(json.dumps({"summary": summary}), flush=True)
    bad = ("crashes", "leftover_processes", "leftover_uploads", "leftover_temp_files")
    return 1 if any(summary[k] for k in bad) or not results else 0


if __name__ == "__main__":
    sys.exit(main())
