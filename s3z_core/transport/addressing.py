"""Where a request goes and how it is signed: the bucket's region, its host, the signer, the clock.

The region of a bucket is learned from the server's answer and kept per bucket, so two buckets
in two regions are served from one client without flip-flopping; an AWS endpoint is served per
region at its own host. Signers are cached per region and dropped as soon as the credential
provider hands out new credentials. The clock offset is what the server's ``Date`` said we are
off by; it is changed only when the retry decision says so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from s3z_core.config import ClientConfig
from s3z_core.credentials import CredentialProvider, Credentials, as_provider
from s3z_core.errors import CredentialsError
from s3z_core.protocol.endpoints import (
    Endpoint,
    accelerate_endpoint,
    build_url,
    parse_endpoint,
    request_target,
    resolve_style,
)
from s3z_core.protocol.signing import SigV4Signer

NO_CREDENTIALS = (
    "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use --profile, "
    "or pass --access-key/--secret-key"
)


class Addressing:
    def __init__(
        self, config: ClientConfig, credentials: Credentials | CredentialProvider | None
    ) -> None:
        self.config = config
        self.endpoint = self._parse(config.endpoint_url, config.region)
        self.provider = as_provider(credentials)
        self.clock_offset_s = 0.0
        self._signed_with: Credentials | None = None
        self._signers: dict[str, SigV4Signer] = {}
        self._bucket_regions: dict[str, str] = {}
        self._endpoints: dict[str, Endpoint] = {config.region: self.endpoint}

    def now(self) -> datetime:
        """Our clock, corrected by what the server told us."""
        return datetime.fromtimestamp(time.time() + self.clock_offset_s, tz=UTC)

    def region_for(self, bucket: str | None) -> str:
        """The region requests for ``bucket`` are signed for: learned, else configured."""
        if bucket:
            return self._bucket_regions.get(bucket, self.config.region)
        return self.config.region

    def learn_region(self, bucket: str | None, region: str) -> None:
        if bucket:
            self._bucket_regions[bucket] = region

    def _parse(self, endpoint_url: str | None, region: str) -> Endpoint:
        return parse_endpoint(
            endpoint_url,
            region,
            dualstack=self.config.use_dualstack_endpoint,
            global_us_east_1=not self.config.us_east_1_regional_endpoint,
        )

    def _endpoint_for(self, region: str) -> Endpoint:
        """AWS serves each region at its own host; any other endpoint is region-agnostic."""
        endpoint = self._endpoints.get(region)
        if endpoint is None:
            endpoint = self._parse(None, region) if self.endpoint.is_aws else self.endpoint
            self._endpoints[region] = endpoint
        return endpoint

    def target(
        self, bucket: str | None, key: str | None, region: str, operation: str = ""
    ) -> tuple[Endpoint, str, str]:
        """The endpoint, Host header and canonical path of a request (S3 Transfer
        Acceleration, when asked for, serves the object operations that support it)."""
        endpoint = self._endpoint_for(region)
        style = self.config.addressing_style
        if self.config.use_accelerate_endpoint and endpoint.is_aws:
            fast = accelerate_endpoint(
                bucket, operation, dualstack=self.config.use_dualstack_endpoint
            )
            if fast is not None:
                endpoint, style = fast, "virtual"
        host, path = request_target(endpoint, bucket, key, resolve_style(endpoint, bucket, style))
        return endpoint, host, path

    def _signer_for(self, credentials: Credentials, region: str) -> SigV4Signer:
        if credentials is not self._signed_with:  # refreshed: the cached signing keys are stale
            self._signers.clear()
            self._signed_with = credentials
        signer = self._signers.get(region)
        if signer is None:
            signer = self._signers[region] = SigV4Signer(credentials, region)
        return signer

    async def signer(self, region: str) -> SigV4Signer:
        """A signer with the credentials valid *now* (the provider refreshes them)."""
        if self.provider is None:
            raise CredentialsError(NO_CREDENTIALS)
        return self._signer_for(await self.provider.credentials(), region)

    async def sign(
        self,
        method: str,
        bucket: str | None,
        key: str | None,
        operation: str,
        region: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        payload_hash: str,
    ) -> tuple[str, dict[str, str]]:
        """The URL and signed headers of one attempt, signed *now* for ``region`` (the
        operation decides whether Transfer Acceleration serves it)."""
        endpoint, host, path = self.target(bucket, key, region, operation)
        signer = await self.signer(region)
        signed = signer.sign(
            method=method,
            host=host,
            path=path,
            query=query,
            headers=headers,
            payload_hash=payload_hash,
            now=self.now(),
        )
        return build_url(endpoint, host, path, query), signed

    def presign(
        self,
        method: str,
        bucket: str,
        key: str,
        expires_s: int,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        credentials = self.provider.current() if self.provider is not None else None
        if credentials is None:
            fetched = f" ({self.provider.source} has not fetched any yet)" if self.provider else ""
            raise CredentialsError(f"presigning needs credentials{fetched}")
        region = self.region_for(bucket)
        endpoint, host, path = self.target(bucket, key, region, "GetObject")
        full = self._signer_for(credentials, region).presign(
            method=method,
            host=host,
            path=path,
            query=list(query),
            expires_s=expires_s,
            now=self.now(),
        )
        return build_url(endpoint, host, path, full)
