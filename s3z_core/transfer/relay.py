"""A copy between two endpoints (or accounts): the source's GET streamed into our PUT.

A server-side copy needs one store to read the other, which two clouds, or an on-premises
MinIO and AWS, never can. So the bytes come through this process — but never through its
disk: the GET body of the source feeds ``upload_stream`` (one PUT, or UploadPart parts
under the multipart abort guard), and every part it holds takes its bytes from the
engine's shared relay budget (``transfer/budget.py``), so memory is bounded by one number
whatever the file count or size.

Verification across the two stores, from one pass over the bytes (MD5 per part on the
loop thread, chunk by chunk: each call is short, and the bytes are in cache anyway):

- the **source side**: when the source ETag is a plain MD5, or a composite whose part size
  the object's s3z metadata records, the bytes read must reproduce it. That is checked
  when the stream ends, which the part reader sees before the last part is sent, so a
  mismatch aborts the upload and nothing lands;
- the **destination side**: the ETag the destination returned must be the one our parts
  give (MD5, or MD5-of-MD5s-N). A mismatch there means the object landed wrong: it is
  deleted (a later ``sync`` would otherwise judge it by size and time and keep it) and
  the file fails with ``VerificationError``. An ETag that is no MD5 at all (SSE-KMS)
  cannot be compared: that side is size-only.

The result says how sure the whole copy is, source to destination: ``verified-md5`` or
``verified-composite`` only when both sides were checked, else ``size-only``.

A source object replaced during the copy is caught by its ETag on every GET attempt.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from s3z_core.errors import S3zError, VerificationError
from s3z_core.events import Verification
from s3z_core.metadata import PART_SIZE_META, stored_part_size
from s3z_core.models import ObjectHead, TransferResult
from s3z_core.operations import S3Operations
from s3z_core.specs import TransferSpec
from s3z_core.transfer.control import TransferContext, TransferControl
from s3z_core.transfer.hashing import PartHasher
from s3z_core.transfer.stream_upload import stream_part_size, upload_stream
from s3z_core.transport.messages import StreamHead

_MD5_ETAG = re.compile(r"^[0-9a-f]{32}(-[0-9]+)?$")


def _md5_like(etag: str) -> bool:
    return bool(_MD5_ETAG.match(etag.lower()))


def source_hasher(head: ObjectHead) -> PartHasher | None:
    """What can reproduce the source's ETag: whole MD5, or its recorded part size."""
    if not _md5_like(head.etag):
        return None
    if "-" not in head.etag:
        return PartHasher(head.size, max(head.size, 1))
    part = stored_part_size(head.metadata)
    return PartHasher(head.size, part, composite=True) if part else None


class RelayDigest:
    """Hashes the relayed bytes once, for both sides' ETags."""

    def __init__(self, head: ObjectHead, part_size: int) -> None:
        self.head = head
        self.ours = PartHasher(head.size, part_size, composite=head.size > part_size)
        self.theirs = source_hasher(head)
        self.offset = 0

    def update(self, chunk: bytes) -> None:
        self.ours.update(self.offset, (chunk,))
        if self.theirs is not None:
            self.theirs.update(self.offset, (chunk,))
        self.offset += len(chunk)

    def check_source(self, bucket: str, key: str) -> None:
        if self.theirs is not None and self.theirs.etag() != self.head.etag:
            raise VerificationError(
                f"s3://{bucket}/{key}: the bytes read give ETag {self.theirs.etag()}, "
                f"the source says {self.head.etag}; nothing was written"
            )


async def _source_bytes(
    source: S3Operations, bucket: str, key: str, digest: RelayDigest
) -> AsyncIterator[bytes]:
    def pinned(stream: StreamHead) -> None:
        etag = stream.etag
        if etag and etag != digest.head.etag:
            raise VerificationError(
                f"s3://{bucket}/{key} changed while copying (ETag {digest.head.etag} became {etag})"
            )

    async for chunk in source.client.stream(bucket, key, on_head=pinned):
        digest.update(chunk)
        yield chunk
    digest.check_source(bucket, key)  # seen before the last part is sent: an abort


async def relay_object(
    ctx: TransferContext, control: TransferControl, spec: TransferSpec
) -> TransferResult:
    """Copy ``spec``'s source, on the source endpoint, to its destination here."""
    src_bucket, src_key, bucket, key = spec.source_bucket, spec.source_key, spec.bucket, spec.key
    source = ctx.source_ops
    if source is None:
        raise S3zError("internal: a relay needs the source endpoint's operations")
    head = await source.head_object(src_bucket, src_key)
    digest = RelayDigest(head, stream_part_size(head.size, ctx.config))
    metadata = {k: v for k, v in head.metadata.items() if k != PART_SIZE_META}
    chunks = _source_bytes(source, src_bucket, src_key, digest)
    result = await upload_stream(
        ctx,
        control,
        chunks,
        bucket,
        key,
        size=head.size,
        content_type=head.content_type or None,
        metadata=metadata,
        budget=ctx.relay_budget,
        cache_control=head.cache_control or None,
    )
    verification = await _check_destination(ctx, digest, result.etag, bucket, key)
    if digest.theirs is None and verification is not Verification.UNVERIFIED:
        verification = Verification.SIZE_ONLY  # end to end, only as sure as the weaker side
    return TransferResult(
        transfer_id=result.transfer_id,
        source=spec.source,
        destination=result.destination,
        size=result.size,
        etag=result.etag,
        verification=verification,
        parts=result.parts,
        elapsed_s=result.elapsed_s,
    )


async def _check_destination(
    ctx: TransferContext, digest: RelayDigest, etag: str, bucket: str, key: str
) -> Verification:
    if not ctx.config.verify:
        return Verification.UNVERIFIED
    if not _md5_like(etag):
        return Verification.SIZE_ONLY
    expected = digest.ours.etag()
    if etag.lower() != expected:
        await ctx.ops.delete_object(bucket, key)
        raise VerificationError(
            f"s3://{bucket}/{key} arrived with ETag {etag}, the bytes sent give {expected}; "
            "the copy was deleted"
        )
    return Verification.VERIFIED_COMPOSITE if "-" in expected else Verification.VERIFIED_MD5
