"""The ETag a store gives some bytes, computed as they arrive: the MD5 of each part, fed in
order (downloads verify against it, a relay checks both sides, a resumed download its kept
file). Its own module so an upload's resume code loads no download writer."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from s3z_core.errors import LocalFileError, VerificationError


class PartHasher:
    """MD5 per upload part, fed in order within each part (ranges align with parts)."""

    def __init__(self, size: int, part_size: int, *, composite: bool = False) -> None:
        self.part_size = part_size
        self.composite = composite  # a multipart object: ``md5-N`` even when N == 1
        count = max(1, -(-size // part_size))
        self._md5 = [hashlib.md5(usedforsecurity=False) for _ in range(count)]
        self._next = [i * part_size for i in range(count)]

    def update(self, offset: int, chunks: Sequence[bytes | memoryview]) -> None:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                index = offset // self.part_size
                if index >= len(self._md5):
                    raise VerificationError("received more bytes than the object's size")
                if offset != self._next[index]:
                    raise LocalFileError("internal: part bytes arrived out of order for hashing")
                take = min(len(view), (index + 1) * self.part_size - offset)
                self._md5[index].update(view[:take])
                self._next[index] += take
                offset += take
                view = view[take:]

    def etag(self) -> str:
        """The ETag S3 gives this data: plain MD5 for a single PUT, ``md5-N`` for multipart."""
        if len(self._md5) == 1 and not self.composite:
            return self._md5[0].hexdigest()
        joined = b"".join(m.digest() for m in self._md5)
        return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(self._md5)}"
