"""User preferences in QSettings and how they become the engine's ``TransferConfig``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from s3z_core.config import MiB, TransferConfig
from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.theme import Theme

_GROUP = "preferences"


def default_download_dir() -> str:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    return found or str(Path.home() / "Downloads")


@dataclass(frozen=True, slots=True)
class Preferences:
    """``0`` for streams or part size means "let the engine plan it from the file size"."""

    streams_per_file: int = 0
    files_at_once: int = 8
    part_size_mib: int = 0
    download_dir: str = ""
    confirm_deletes: bool = True
    on_conflict: ConflictPolicy = ConflictPolicy.ASK  # an upload's key exists already
    theme: Theme = Theme.SYSTEM
    limit_mbps: float = 0.0  # all transfers together, MB/s (decimal); 0: no limit
    upload_content_type: str = ""  # "": guessed from each file's name (like aws-cli)

    def transfer_config(self) -> TransferConfig:
        return TransferConfig(
            workers=max(1, self.files_at_once),
            concurrency=self.streams_per_file or None,
            # S3 refuses parts under 5 MiB (except the last): round small choices up.
            part_size=max(5, self.part_size_mib) * MiB if self.part_size_mib else None,
            limit_rate=self.limit_rate,
        )

    @property
    def limit_rate(self) -> int | None:
        """The cap in bytes/s for the engine's token bucket, or None."""
        return round(self.limit_mbps * 1_000_000) if self.limit_mbps > 0 else None

    @property
    def effective_download_dir(self) -> str:
        return self.download_dir or default_download_dir()


def _int(settings: QSettings, key: str, default: int, low: int, high: int) -> int:
    raw = settings.value(key, default)
    try:
        value = int(str(raw))
    except ValueError:
        return default
    return min(high, max(low, value))


def _policy(raw: object) -> ConflictPolicy:
    try:
        return ConflictPolicy(str(raw))
    except ValueError:  # an unknown value (a newer version's, or hand-edited): ask
        return ConflictPolicy.ASK


def _float(settings: QSettings, key: str, default: float, low: float, high: float) -> float:
    try:
        value = float(str(settings.value(key, default)))
    except ValueError:
        return default
    return default if math.isnan(value) else min(high, max(low, value))


def _theme(raw: object) -> Theme:
    try:
        return Theme(str(raw))
    except ValueError:
        return Theme.SYSTEM


def _content_type(raw: object) -> str:
    """A hand-edited value that could not be sent as a header falls back to the guess."""
    text = str(raw or "").strip()
    return text if all(" " <= c <= "~" for c in text) else ""


def load_preferences(settings: QSettings) -> Preferences:
    settings.beginGroup(_GROUP)
    try:
        return Preferences(
            streams_per_file=_int(settings, "streams_per_file", 0, 0, 64),
            files_at_once=_int(settings, "files_at_once", 8, 1, 64),
            part_size_mib=_int(settings, "part_size_mib", 0, 0, 5120),
            download_dir=str(settings.value("download_dir", "")),
            confirm_deletes=str(settings.value("confirm_deletes", "true")).lower() == "true",
            on_conflict=_policy(settings.value("on_conflict", ConflictPolicy.ASK.value)),
            theme=_theme(settings.value("theme", Theme.SYSTEM.value)),
            limit_mbps=_float(settings, "limit_mbps", 0.0, 0.0, 100_000.0),
            upload_content_type=_content_type(settings.value("upload_content_type", "")),
        )
    finally:
        settings.endGroup()


def save_preferences(settings: QSettings, prefs: Preferences) -> None:
    settings.beginGroup(_GROUP)
    try:
        settings.setValue("streams_per_file", prefs.streams_per_file)
        settings.setValue("files_at_once", prefs.files_at_once)
        settings.setValue("part_size_mib", prefs.part_size_mib)
        settings.setValue("download_dir", prefs.download_dir)
        settings.setValue("confirm_deletes", "true" if prefs.confirm_deletes else "false")
        settings.setValue("on_conflict", prefs.on_conflict.value)
        settings.setValue("theme", prefs.theme.value)
        settings.setValue("limit_mbps", prefs.limit_mbps)
        settings.setValue("upload_content_type", prefs.upload_content_type)
    finally:
        settings.endGroup()
    settings.sync()
