"""RefreshingProvider's windows and single flight, on a clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from s3z_core.auth import RefreshingProvider
from s3z_core.credentials import Credentials
from s3z_core.errors import CredentialProviderError, CredentialsError

pytestmark = pytest.mark.asyncio


class Source:
    """Hands out keys valid ``lifetime`` seconds from the fake clock; can be made to fail."""

    def __init__(self, lifetime: float) -> None:
        self.now = 1_000_000.0
        self.lifetime = lifetime
        self.calls = 0
        self.fail = False
        self.gate: asyncio.Event | None = None

    def clock(self) -> float:
        return self.now

    async def fetch(self) -> Credentials:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise CredentialProviderError("test", "source down", "bring it back")
        expiry = datetime.fromtimestamp(self.now + self.lifetime, tz=UTC)
        return Credentials(f"AK{self.calls}", "s", "t", expiry)


def provider(source: Source) -> RefreshingProvider:
    return RefreshingProvider("test", source.fetch, clock=source.clock)


async def test_advisory_refresh_runs_in_the_background() -> None:
    source = Source(lifetime=3600)
    p = provider(source)
    assert (await p.credentials()).access_key == "AK1"
    source.now += 3600 - 14 * 60  # inside 15 min: advisory, not mandatory
    source.gate = asyncio.Event()
    assert (await p.credentials()).access_key == "AK1"  # returned at once, refresh pending
    await asyncio.sleep(0)
    assert source.calls == 2
    assert (await p.credentials()).access_key == "AK1"  # still the old keys meanwhile
    source.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert (await p.credentials()).access_key == "AK2"
    assert p.refreshes == 1


async def test_mandatory_refresh_waits_and_is_single_flight() -> None:
    source = Source(lifetime=3600)
    p = provider(source)
    await p.credentials()
    source.now += 3600 - 5 * 60  # inside 10 min: everyone waits for the new keys
    got = await asyncio.gather(*(p.credentials() for _ in range(20)))
    assert {c.access_key for c in got} == {"AK2"}
    assert source.calls == 2  # twenty callers, one fetch


async def test_windows_scale_with_short_lifetimes() -> None:
    source = Source(lifetime=16)
    p = provider(source)
    await p.credentials()
    source.now += 7  # 9 s left of 16: above half, nothing to do
    await p.credentials()
    assert source.calls == 1
    source.now += 1.5  # 7.5 s left: advisory (half the lifetime)
    await p.credentials()
    await asyncio.sleep(0)
    assert source.calls == 2


async def test_failed_refresh_keeps_valid_keys_and_raises_once_expired() -> None:
    source = Source(lifetime=3600)
    p = provider(source)
    await p.credentials()
    source.fail = True
    source.now += 3600 - 60  # mandatory, but the keys still hold for a minute
    assert (await p.credentials()).access_key == "AK1"
    source.now += 120  # now they are expired
    with pytest.raises(CredentialsError, match="source down"):
        await p.credentials()
    source.fail = False
    assert (await p.credentials()).access_key.startswith("AK")


async def test_already_expired_answer_is_refused() -> None:
    source = Source(lifetime=-5)
    with pytest.raises(CredentialProviderError, match="expired"):
        await provider(source).credentials()


async def test_no_expiry_means_one_fetch() -> None:
    async def fetch() -> Credentials:
        nonlocal calls
        calls += 1
        return Credentials("AKSTATIC", "s3cr3t-value")

    calls = 0
    p = RefreshingProvider("static-process", fetch)
    for _ in range(3):
        assert (await p.credentials()).access_key == "AKSTATIC"
    assert calls == 1
    assert "s3cr3t-value" not in repr(p)  # the secret never shows
