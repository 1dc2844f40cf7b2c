"""s3z core: a fast, safe async engine for S3 and S3-compatible stores.

Importing the package is cheap on purpose (the CLI answers ``--version`` in
well under 0.1 s): heavy modules (aiohttp, lxml) load only when ``Engine``
or another public name is first touched.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs start-up time

__version__ = "0.1.0"

__all__ = [
    "ClientConfig",
    "Credentials",
    "Engine",
    "S3zError",
    "TransferConfig",
    "__version__",
]

if TYPE_CHECKING:
    from s3z_core.config import ClientConfig, TransferConfig
    from s3z_core.credentials import Credentials
    from s3z_core.engine import Engine
    from s3z_core.errors import S3zError

_LAZY = {
    "ClientConfig": "s3z_core.config",
    "TransferConfig": "s3z_core.config",
    "Credentials": "s3z_core.credentials",
    "Engine": "s3z_core.engine",
    "S3zError": "s3z_core.errors",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 's3z_core' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
