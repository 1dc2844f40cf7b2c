"""The size rules of the one-stack issue, kept by a test rather than by memory: no module of
the core or the app over 450 lines, and the Engine a thin facade (its calls live in the
modules mixed into it), so a new feature lands in a module of its own role."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE_LIMIT = 450
FACADE_LIMIT = 300


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("package", ["s3z_core", "s3z_gui"])
def test_no_module_is_over_the_limit(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert len(modules) > 10  # the package is really there, not an empty glob
    over = {str(m.relative_to(ROOT)): n for m in modules if (n := _lines(m)) > MODULE_LIMIT}
    assert over == {}


def test_the_engine_is_a_thin_facade() -> None:
    from s3z_core.engine import Engine
    from s3z_core.engine_batches import BatchCalls
    from s3z_core.engine_transfers import TransferCalls
    from s3z_core.objects import ObjectCalls

    assert _lines(ROOT / "s3z_core" / "engine.py") <= FACADE_LIMIT
    assert issubclass(Engine, BatchCalls)
    assert issubclass(Engine, TransferCalls)
    assert issubclass(Engine, ObjectCalls)
    # the calls users make are where the mixins put them, not redefined on the facade
    for name in ("upload_paths", "download_prefix", "copy_prefix", "run_batch"):
        assert name not in vars(Engine)
        assert name in vars(BatchCalls)
    for name in ("transfer", "upload_file", "download_file", "upload_stream", "restart"):
        assert name not in vars(Engine)
        assert name in vars(TransferCalls)
