"""File-type icons for object rows, by name only (issue 15, bug 15: every file looked alike).

The kind comes from the name's extension through Qt's MIME database (``MatchExtension``: no
file is read, nothing touches the disk); the icon is the desktop theme's for that MIME type
when the theme has one, else a small badge drawn in the kind's colour with the extension on
it, so headless and theme-less desktops still tell a photo from an archive. Cached per
extension: a 1,500-key listing paints a handful of pixmaps.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QMimeDatabase, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from s3z_gui.icons import file_icon

KIND_COLOURS = {
    "image": QColor(0x8B, 0x5C, 0xF6),  # violet
    "video": QColor(0xEC, 0x48, 0x99),  # pink
    "audio": QColor(0xF5, 0x9E, 0x0B),  # amber
    "archive": QColor(0x78, 0x71, 0x6C),  # stone
    "text": QColor(0x3B, 0x82, 0xF6),  # blue
    "document": QColor(0xDC, 0x26, 0x26),  # red (pdf, office)
    "code": QColor(0x10, 0xB9, 0x81),  # green
}
_ARCHIVES = ("zip", "tar", "gzip", "x-7z", "x-rar", "x-xz", "x-bzip", "zstd", "x-compressed")
_CODE = ("json", "xml", "javascript", "x-python", "x-sh", "yaml", "toml", "sql", "x-c")


@cache
def _database() -> QMimeDatabase:
    return QMimeDatabase()


def file_kind(name: str) -> str | None:
    """image, video, audio, archive, document, code, text, or None (unknown)."""
    mime = _database().mimeTypeForFile(name, QMimeDatabase.MatchMode.MatchExtension)
    if mime.isDefault():
        return None
    top, _, sub = mime.name().partition("/")
    if top in ("image", "video", "audio"):
        return top
    if any(part in sub for part in _ARCHIVES):
        return "archive"
    if "pdf" in sub or "officedocument" in sub or "opendocument" in sub or "msword" in sub:
        return "document"
    if any(part in sub for part in _CODE):
        return "code"
    if top == "text":
        return "text"
    return None


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def icon_for_name(name: str) -> QIcon:
    return _icon_for(_extension(name), file_kind(name) or "")


@cache
def _icon_for(extension: str, kind: str) -> QIcon:
    if not kind:
        return file_icon()
    mime = _database().mimeTypeForFile(f"x.{extension}", QMimeDatabase.MatchMode.MatchExtension)
    themed = QIcon.fromTheme(mime.iconName())
    if not themed.isNull():
        return themed
    return _badge(extension or kind, KIND_COLOURS[kind])


def _badge(label: str, colour: QColor, size: int = 32) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(QRectF(3, 1, size - 6, size - 2), 4, 4)
    painter.setPen(QColor("white"))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(7, size // (3 if len(label) <= 3 else 4)))
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, label[:4].upper())
    painter.end()
    return QIcon(pixmap)
