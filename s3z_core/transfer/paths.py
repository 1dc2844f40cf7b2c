"""Mapping object keys to local paths without ever escaping the destination folder.

s5cmd (#872), aws-cli (#10579) and the original s3z all let a key such as
``data/../../.bashrc`` write outside the destination. Here a key is checked lexically
(no absolute paths, drive letters, backslashes, ``..`` segments or NULs) and then the
resolved path must still lie under the resolved destination (catches symlinked dirs).
"""

from __future__ import annotations

import re
from pathlib import Path

from s3z_core.errors import UnsafeKeyError

_DRIVE = re.compile(r"^[A-Za-z]:")


def relative_key(key: str, strip_prefix: str) -> str:
    if strip_prefix and key.startswith(strip_prefix):
        return key[len(strip_prefix) :]
    return key


def safe_local_path(dest_dir: Path, key: str, strip_prefix: str = "") -> Path:
    """The path a key downloads to, or ``UnsafeKeyError`` naming why it may not."""
    rel = relative_key(key, strip_prefix)
    if "\x00" in rel:
        raise UnsafeKeyError(key, "contains a NUL byte")
    if rel.startswith("/"):
        raise UnsafeKeyError(key, "absolute path")
    if _DRIVE.match(rel) or "\\" in rel:
        raise UnsafeKeyError(key, "Windows drive or backslash path")
    segments = [s for s in rel.split("/") if s not in ("", ".")]
    if any(s == ".." for s in segments):
        raise UnsafeKeyError(key, "'..' segment would leave the destination")
    if not segments:
        raise UnsafeKeyError(key, "names no file inside the destination")
    try:
        base = dest_dir.resolve()
        target = base.joinpath(*segments)
        resolved = target.resolve()
    except (OSError, RuntimeError):  # 3.11 raises RuntimeError on a symlink loop
        raise UnsafeKeyError(key, "cannot be resolved (symlink loop?)") from None
    if resolved != base and base not in resolved.parents:
        raise UnsafeKeyError(key, "resolves outside the destination (symlink)")
    return target


def is_dir_marker(key: str, size: int) -> bool:
    return key.endswith("/") and size == 0
