"""Memory ceilings (not times) of the Engine in a subprocess, measured by GNU time -v:
1 GiB up and down with default settings under 80 MiB peak RSS; a 10,000-file batch
stays flat (RSS after 10k files within a few MiB of RSS after 1k)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from enginekit import sha256_file, write_random

from s3z_core.config import GiB

CHILD = Path(__file__).with_name("rss_child.py")
TIME = shutil.which("time", path="/usr/bin:/bin") or "/usr/bin/time"
pytestmark = pytest.mark.bench


def run_child(server, bucket: str, *args: str) -> tuple[dict, float]:
    if not Path(TIME).exists():
        pytest.skip("GNU time is not installed (apt-get install -y time)")
    cmd = [
        TIME,
        "-v",
        sys.executable,
        str(CHILD),
        server.endpoint_url,
        server.access_key,
        server.secret_key,
        server.region,
        bucket,
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert match, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), int(match.group(1)) / 1024


def test_one_gib_up_and_down_peak_rss(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "big.bin"
    digest = write_random(src, GiB)
    dest = tmp_path / "back.bin"
    report, peak_mib = run_child(seaweed, name, "big", str(src), str(dest))
    print(f"\n1 GiB upload+download, default settings: peak RSS {peak_mib:.1f} MiB; {report}")
    assert report["up"] == report["down"] == GiB
    assert report["verification"] == "verified-composite"
    assert sha256_file(dest) == digest
    assert peak_mib < 80


def test_ten_thousand_file_batch_stays_flat(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "tiny"
    for i in range(10_000):
        sub = src / f"d{i // 1000}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05d}").write_bytes(i.to_bytes(4, "big"))
    report, peak_mib = run_child(seaweed, name, "many", str(src), str(tmp_path / "back"))
    samples = report["samples"]
    print(f"\n10,000 tiny files up+down: peak RSS {peak_mib:.1f} MiB; samples {samples}")
    assert report["up"] == report["down"] == 10_000
    assert report["up_failed"] == report["down_failed"] == 0
    for phase in ("upload", "download"):
        growth = samples[f"{phase}_10000"] - samples[f"{phase}_1000"]
        # BatchResult keeps every TransferResult (~0.5 KiB each): 9,000 more files may
        # add a few MiB; a leak per file of part buffers or tasks would add far more.
        assert growth < 8, f"{phase}: RSS grew {growth:.1f} MiB from 1k to 10k files"
    back = tmp_path / "back"
    assert (back / "d9" / "f09999").read_bytes() == (9999).to_bytes(4, "big")
    assert sum(1 for p in back.rglob("*") if p.is_file()) == 10_000
