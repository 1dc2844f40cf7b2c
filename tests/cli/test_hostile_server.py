"""The CLI against a hostile server: each lie is one failed line naming its file, exit 1."""

from __future__ import annotations

import hashlib
from pathlib import Path

from adversary import Adversary
from clirun import run

KEYS = [f"d/{name}" for name in ("a.bin", "b c.txt", "ü+%.dat", "deep/e.log", "f")]


def test_cli_against_a_hostile_server_names_each_bad_file_and_exits_1(tmp_path: Path) -> None:
    objects = {k: hashlib.sha256(k.encode()).digest() * 40 for k in KEYS}
    damage = {KEYS[0]: "size_not_a_number", KEYS[3]: "size_wrong", KEYS[4]: "date_garbage"}
    home = tmp_path / "home"
    home.mkdir()
    dest = tmp_path / "out"
    with Adversary(objects=objects, damage=damage) as adv:
        proc = run(adv, home, "cp", "-r", f"s3://{adv.bucket}/d/", str(dest), check=1)
    assert "Traceback" not in proc.stderr
    failed = [line for line in proc.stderr.splitlines() if line.startswith("s3z-core: failed:")]
    assert len(failed) == 2, proc.stderr
    assert any(KEYS[0] in line and "not a non-negative integer" in line for line in failed)
    assert any(KEYS[3] in line for line in failed)
    for key in KEYS:
        path = dest / key.removeprefix("d/")
        if key in (KEYS[0], KEYS[3]):
            assert not path.exists()
        else:
            assert path.read_bytes() == objects[key], key
    assert not [p for p in dest.rglob("*") if p.name.endswith(".s3z-part")]
