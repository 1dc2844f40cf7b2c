"""A folder transfer as the command that runs it again: what the saved queue keeps for a
folder row kept for later, so the next launch re-runs the whole folder (issue 14).

Only the files a folder walk or listing had reached have rows; the others would be lost with
the rows alone. The command names the folder, the bucket and prefix and the journal's batch
record (``resume_id``): re-run through the same engine call with it, the engine skips the
files the record lists as done and continues the in-flight ones from the job journal.
Nothing secret is here: a resumed folder runs on the connection it was made on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass

from s3z_core.events import Direction
from s3z_core.specs import TransferSpec, UploadOptions


@dataclass(frozen=True, slots=True)
class FolderCommand:
    direction: Direction
    name: str  # the folder's own name, as its row shows it
    source: str
    destination: str
    bucket: str
    prefix: str  # upload: the key prefix the folder goes under; download: the folder's key
    local: str  # upload: the folder walked; download: the local folder written
    strip_prefix: str = ""  # download: what is cut from the keys under ``local``
    content_type: str | None = None
    cache_control: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    resume_id: int | None = None  # the journal's batch record
    connection: str = ""
    children: tuple[int, ...] = ()  # the saved rows of its files (transfer ids)

    @property
    def options(self) -> UploadOptions:
        return UploadOptions(self.content_type, self.cache_control, self.metadata)

    def identity(self, endpoint: str) -> str:
        """A new record per folder transfer (a nonce): a fresh upload of the same folder is
        never taken for the resume of an earlier one."""
        core = {"gui": self.direction, "endpoint": endpoint, "bucket": self.bucket,
                "prefix": self.prefix, "local": self.local, "nonce": uuid.uuid4().hex}  # fmt: skip
        return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()

    def record(self) -> dict[str, object]:
        """The journal's batch record: ``s3z-core resume`` lists it (and can discard it)
        but leaves its re-run to the app."""
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k != "children"}
        return {"command": f"app-{self.direction}", **fields}


def with_options(command: FolderCommand, options: UploadOptions) -> FolderCommand:
    return dataclasses.replace(
        command,
        content_type=options.content_type,
        cache_control=options.cache_control,
        metadata=options.metadata,
    )


def command_to_json(command: FolderCommand) -> str:
    return json.dumps(dataclasses.asdict(command), sort_keys=True)


def command_from_json(text: str) -> FolderCommand | None:
    """None for a record this version cannot read (a newer one's, or damaged)."""
    try:
        raw = json.loads(text)
        known = {f.name for f in dataclasses.fields(FolderCommand)}
        values = {k: v for k, v in raw.items() if k in known}
        values["metadata"] = tuple((str(k), str(v)) for k, v in values.get("metadata", ()))
        values["children"] = tuple(int(i) for i in values.get("children", ()))
        command = FolderCommand(**values)
    except (ValueError, TypeError, AttributeError):
        return None
    return command if command.direction in ("upload", "download") else None


def file_identity(spec: TransferSpec) -> tuple[str, str, str, str]:
    """A file of the folder, whatever transfer id it runs under."""
    return (spec.direction, spec.bucket, spec.key, spec.local_path)


__all__ = [
    "FolderCommand",
    "command_from_json",
    "command_to_json",
    "file_identity",
    "with_options",
]
