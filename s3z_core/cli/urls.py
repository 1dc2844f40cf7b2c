"""One location type for ``s3://bucket/key`` URLs and local paths (like s5cmd's storage/url)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from s3z_core.errors import ConfigError
from s3z_core.records import record

# Lenient on purpose: legacy and S3-compatible stores allow upper case and underscores;
# we only refuse what can never be a bucket in a URL path segment.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@record
class Location:
    """Where data lives: an S3 bucket (+ key or prefix), or a local path.

    For S3, ``key`` is whatever followed the bucket, unchanged (it may be a prefix,
    may end with ``/``, may be empty). For local paths ``bucket`` is empty and
    ``path`` holds the path exactly as typed.
    """

    bucket: str = ""
    key: str = ""
    path: str = ""

    @property
    def is_remote(self) -> bool:
        return bool(self.bucket)

    @property
    def is_bucket_only(self) -> bool:
        return self.is_remote and not self.key

    @property
    def looks_like_dir(self) -> bool:
        """True when the user wrote a trailing slash or named a bare bucket."""
        if self.is_remote:
            return self.key == "" or self.key.endswith("/")
        return self.path.endswith(("/", "\\"))

    @property
    def dir_prefix(self) -> str:
        """The key as a "folder" prefix: empty, or ending in exactly the slash written."""
        if not self.key or self.key.endswith("/"):
            return self.key
        return self.key + "/"

    @property
    def basename(self) -> str:
        if self.is_remote:
            return PurePosixPath(self.key).name if self.key else ""
        return PurePosixPath(self.path.replace("\\", "/")).name

    def with_key(self, key: str) -> Location:
        return Location(bucket=self.bucket, key=key)

    def __str__(self) -> str:
        if self.is_remote:
            return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"
        return self.path


def s3_url(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"


def parse_location(text: str) -> Location:
    """Parse a command-line argument; a malformed URL is a ``ConfigError`` (exit 2)."""
    if not text:
        raise ConfigError("empty path or URL")
    scheme_match = _SCHEME.match(text)
    if scheme_match is None:
        return Location(path=text)
    scheme = scheme_match.group(1).lower()
    if scheme != "s3":
        raise ConfigError(f"unsupported URL scheme {scheme!r} in {text!r}: use s3://bucket/key")
    rest = text[scheme_match.end() :]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ConfigError(f"bad URL {text!r}: no bucket name (use s3://bucket/key)")
    if not _BUCKET.match(bucket):
        raise ConfigError(f"bad URL {text!r}: {bucket!r} is not a valid bucket name")
    return Location(bucket=bucket, key=key)


def parse_remote(text: str, *, allow_key: bool = True, need_key: bool = False) -> Location:
    """Parse an argument that must be an ``s3://`` URL."""
    location = parse_location(text)
    if not location.is_remote:
        raise ConfigError(f"expected an s3://bucket URL, got {text!r}")
    if not allow_key and location.key:
        raise ConfigError(f"expected a bucket URL without a key (s3://bucket), got {text!r}")
    if need_key and not location.key:
        raise ConfigError(f"expected an object URL (s3://bucket/key), got {text!r}")
    return location
