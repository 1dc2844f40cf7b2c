"""Typed request and response bodies: what /docs shows and what the service promises."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(description="The engine's error class, e.g. NoSuchKeyError")
    code: str = Field(description="The S3 error code when the store sent one, else empty")
    message: str = Field(description="The engine's message: operation and object named")


class Bucket(BaseModel):
    name: str
    created: datetime | None


class ObjectEntry(BaseModel):
    key: str
    size: int
    etag: str
    last_modified: datetime | None
    storage_class: str = ""


class ObjectPage(BaseModel):
    bucket: str
    prefix: str
    delimiter: str | None
    objects: list[ObjectEntry]
    common_prefixes: list[str]
    is_truncated: bool
    next_start_after: str | None = Field(
        description="Pass as start_after for the next page; null on the last page"
    )


class UploadResult(BaseModel):
    bucket: str
    key: str
    size: int
    etag: str
    parts: int
    elapsed_s: float


class PresignRequest(BaseModel):
    key: str = Field(min_length=1)
    method: Literal["GET", "PUT"] = "GET"
    expires_s: int = Field(3600, ge=1, le=7 * 24 * 3600)


class PresignResult(BaseModel):
    url: str
    method: Literal["GET", "PUT"]
    expires_s: int


class CopyRequest(BaseModel):
    source_bucket: str = Field(min_length=1)
    source_prefix: str = ""
    destination_bucket: str = Field(min_length=1)
    destination_prefix: str = ""


class CopyFailure(BaseModel):
    source: str
    error: ErrorBody


class CopyStatus(BaseModel):
    id: str
    state: Literal["running", "completed", "failed", "cancelled"]
    source: str
    destination: str
    files_queued: int = Field(description="Objects listed and queued so far")
    files_done: int
    files_failed: int
    files_cancelled: int
    bytes_done: int
    failures: list[CopyFailure] = Field(description="The first failures, at most 100")
    error: ErrorBody | None = Field(description="Why the whole copy stopped, if it did")
