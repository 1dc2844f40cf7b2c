"""Icons: the app's own SVGs (package data) and the platform style's standard pixmaps."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

RESOURCES = Path(__file__).resolve().parent / "resources"

SP = QStyle.StandardPixmap


def resource_icon(name: str) -> QIcon:
    """An SVG shipped in ``s3z_gui/resources`` (the app icon, the bucket glyph)."""
    return QIcon(str(RESOURCES / name))


@cache
def app_icon() -> QIcon:
    return resource_icon("s3z.svg")


@cache
def bucket_icon() -> QIcon:
    return resource_icon("bucket.svg")


def standard(pixmap: QStyle.StandardPixmap) -> QIcon:
    """An icon from the running style, so it matches the desktop (and its dark mode)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "icons need a QApplication"
    return app.style().standardIcon(pixmap)


def folder_icon() -> QIcon:
    return standard(SP.SP_DirIcon)


def file_icon() -> QIcon:
    return standard(SP.SP_FileIcon)
