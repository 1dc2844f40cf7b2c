"""Two SeaweedFS servers with different credentials (a migration's two ends), and a tree.

The second server (``seaweed_b``) has its own access key and secret: a copy between the two
can only work if each side signs with its own credentials, as between two clouds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from s3z_core.local_server import LocalS3Server


@pytest.fixture(scope="session")
def seaweed_b() -> Iterator[LocalS3Server]:
    """A second SeaweedFS, another account: access key ``s3zother``, its own secret."""
    with LocalS3Server(access_key="s3zother") as server:
        yield server
