"""Sharded runs on a Dask cluster: the driver plans, workers run the engine on their shards.

Dask's ``distributed`` scheduler does the distributing (no scheduler of our own): the driver
lists or walks exactly as a local run would, cuts the specs into shards bounded by file
count and bytes (``shards.py``), submits one task per shard (``driver.py``), and each worker
process runs an ``Engine`` on its own event loop over its shard (``worker.py``). Task
payloads hold specs and connection *names* (profile, endpoint), never a secret: workers
resolve their own credentials. ``dask[distributed]`` is the optional ``cluster`` extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from s3z_core.errors import ConfigError

MISSING_DASK = (
    "--cluster needs Dask's distributed scheduler, which is not installed: "
    "pip install 's3z[cluster]'"
)


def require_dask() -> Any:
    """``distributed``, or one clear line instead of an ImportError traceback. Typed ``Any``:
    its client calls are not annotated, and nothing of it leaks past this package."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ConfigError(MISSING_DASK) from None
