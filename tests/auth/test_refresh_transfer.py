"""A transfer outlives its credentials: they refresh in flight, no request is refused.

Credentials come from a container endpoint that mints keys valid for a few seconds; S3 is
moto behind ``ExpiringCredentialsProxy``, which rejects any request signed with expired (or
wrong) keys and throttles the bytes so the round trip lasts long enough. The default run
uses 4 s credentials over ~15 s; the ``slow`` one is the acceptance case: 15 s credentials
over at least 60 s.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from credential_servers import ContainerServer, Minter
from expiring_proxy import ExpiringCredentialsProxy
from servers import MotoS3Server, boto3_client

from s3z_core.auth import RefreshingProvider
from s3z_core.config import MiB, TransferConfig
from s3z_core.engine import Engine

pytestmark = pytest.mark.asyncio


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


async def round_trip(
    moto_s3: MotoS3Server,
    tmp_path: Path,
    env: dict[str, str],
    lifetime_s: float,
    size: int,
) -> tuple[float, int, ExpiringCredentialsProxy, Minter]:
    """Upload a folder (one multipart file of ``size / 4``, the rest in 16 small files), one
    file at a time, then download it back: a request every second or two, for
    ``size / rate`` seconds, each signed with whatever the provider holds then."""
    bucket = f"refresh-{os.urandom(4).hex()}"
    boto3_client(moto_s3).create_bucket(Bucket=bucket)
    source = tmp_path / "up"
    (source / "small").mkdir(parents=True)
    (source / "big.bin").write_bytes(os.urandom(size // 4))
    for i in range(16):
        (source / "small" / f"{i:02d}.bin").write_bytes(os.urandom((size - size // 4) // 16))
    minter = Minter(prefix="ASIAEXP", lifetime_s=lifetime_s)
    with (
        ContainerServer(minter) as container,
        ExpiringCredentialsProxy(moto_s3.endpoint_url, minter, rate=1.6 * MiB) as proxy,
    ):
        env |= {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + "/creds",
            "AWS_ENDPOINT_URL_S3": proxy.url,
        }
        config = TransferConfig(
            workers=1,
            concurrency=1,
            multipart_threshold=5 * MiB,
            download_threshold=5 * MiB,
            part_size=5 * MiB,
        )
        started = time.monotonic()
        async with await Engine.connect(env=env, transfer_config=config) as engine:
            up = await engine.upload_paths([source], bucket, keep_dir_names=False).result()
            down = await engine.download_prefix(bucket, "", tmp_path / "down").result()
            provider = engine._client.addressing.provider
            assert isinstance(provider, RefreshingProvider)
            refreshes = provider.refreshes
        elapsed = time.monotonic() - started
    assert not up.failed
    assert not down.failed
    assert tree_digest(tmp_path / "down") == tree_digest(source)  # byte-identical
    assert proxy.verdicts.refused == 0, proxy.verdicts  # no request with expired/wrong keys
    assert proxy.verdicts.accepted > 0
    return elapsed, refreshes, proxy, minter


async def test_short_credentials_refresh_during_a_transfer(
    moto_s3: MotoS3Server, tmp_path: Path, env: dict[str, str]
) -> None:
    elapsed, refreshes, proxy, minter = await round_trip(moto_s3, tmp_path, env, 4.0, 12 * MiB)
    assert elapsed > 3 * 4.0  # the transfer outlived three generations of keys
    assert refreshes >= 3
    assert len(proxy.keys_used) >= 3  # and requests really were signed with the new ones
    print(f"\nrefresh: {elapsed:.1f} s, {refreshes} refreshes, {len(minter.issued)} keys minted")


@pytest.mark.slow
async def test_sixty_second_transfer_with_fifteen_second_credentials(
    moto_s3: MotoS3Server, tmp_path: Path, env: dict[str, str]
) -> None:
    elapsed, refreshes, proxy, minter = await round_trip(moto_s3, tmp_path, env, 15.0, 50 * MiB)
    assert elapsed >= 60.0
    assert refreshes >= 3
    assert len(proxy.keys_used) >= 4
    print(f"\nrefresh: {elapsed:.1f} s, {refreshes} refreshes, {len(minter.issued)} keys minted")
