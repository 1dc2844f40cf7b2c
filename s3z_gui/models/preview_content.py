"""What a quick look shows for an object: an image, the start of a text, or "No preview".

The decision is made from the bytes first (magic numbers, a NUL byte), then the
Content-Type, then the name, because uploads often carry ``application/octet-stream``
whatever they are. Only the first bytes are fetched (``Engine.preview``: one Range GET):
an image is shown only when it came whole (a cut image does not decode), a text is shown
as far as it came. Decoding a large image runs off the GUI thread (``QImage`` may be built
on any thread; only a ``QPixmap`` needs the GUI thread, and the view makes that).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtGui import QImage

from s3z_core.models import Preview
from s3z_gui.offload import run_blocking
from s3z_gui.units import format_size

#: Images up to this size are fetched whole and shown.
IMAGE_LIMIT = 8 * 1024 * 1024
#: Text (and anything not named like an image) is fetched and shown up to this much.
TEXT_LIMIT = 256 * 1024
#: Images bigger than this decode in the blocking pool, not on the GUI thread.
DECODE_OFF_THREAD = 512 * 1024

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_IMAGE_NAMES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".ico", ".svg"}
_TEXT_NAMES = {
    ".txt", ".md", ".csv", ".tsv", ".json", ".xml", ".html", ".htm", ".css", ".js", ".ts",
    ".py", ".sh", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".log", ".sql", ".rst",
}  # fmt: skip
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "+xml", "+json")


class PreviewKind(StrEnum):
    IMAGE = "image"
    TEXT = "text"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class PreviewContent:
    kind: PreviewKind
    note: str  # what the view says under (or instead of) the content
    image: QImage | None = None
    text: str = ""


def _suffix(key: str) -> str:
    return posixpath.splitext(key.lower())[1]


def fetch_limit(key: str, size: int | None = None) -> int:
    """How many bytes to ask for: an image must come whole, a text only its start. An image
    the listing already says is over the limit gets only the text's range (enough to say
    what it is), not megabytes that cannot be shown."""
    if _suffix(key) in _IMAGE_NAMES and (size is None or size <= IMAGE_LIMIT):
        return IMAGE_LIMIT
    return TEXT_LIMIT


def _looks_like_image(data: bytes, content_type: str, key: str) -> bool:
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return True
    return content_type.startswith("image/") or _suffix(key) in _IMAGE_NAMES


def _looks_like_text(data: bytes, content_type: str, key: str) -> bool:
    if b"\x00" in data[:8192]:
        return False
    if content_type.startswith("text/") or any(t in content_type for t in _TEXT_TYPES):
        return True
    if _suffix(key) in _TEXT_NAMES:
        return True
    try:  # unnamed and untyped: text if it is UTF-8 (a cut last character is fine)
        data[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data[:8192]) - 3
    return True


def needs_whole(preview: Preview) -> bool:
    """An image that came cut (its name did not say it was one) but fits the image limit:
    worth a second, whole fetch."""
    head = preview.head
    return (
        not preview.complete
        and head.size <= IMAGE_LIMIT
        and _looks_like_image(preview.data, head.content_type.lower(), head.key)
    )


def _decode_image(data: bytes) -> QImage:
    image = QImage()
    image.loadFromData(data)
    return image


def _no_preview(preview: Preview, why: str) -> PreviewContent:
    head = preview.head
    what = head.content_type or "unknown type"
    return PreviewContent(
        PreviewKind.NONE, f"No preview — {why} ({what}, {format_size(head.size)})"
    )


async def preview_content(preview: Preview) -> PreviewContent:
    head, data = preview.head, preview.data
    if not head.size:
        return _no_preview(preview, "the object is empty")
    ctype = head.content_type.lower()
    if _looks_like_image(data, ctype, head.key):
        if not preview.complete:
            return _no_preview(preview, f"larger than the {format_size(IMAGE_LIMIT)} preview limit")
        if len(data) > DECODE_OFF_THREAD:
            image = await run_blocking(_decode_image, data)
        else:
            image = _decode_image(data)
        if image.isNull():
            return _no_preview(preview, "this image could not be decoded")
        note = f"{image.width()} × {image.height()} pixels, {format_size(head.size)}"
        return PreviewContent(PreviewKind.IMAGE, note, image=image)
    if _looks_like_text(data, ctype, head.key):
        shown = data[:TEXT_LIMIT]
        text = shown.decode("utf-8", errors="replace")
        if len(shown) < head.size:
            note = f"The first {format_size(len(shown))} of {format_size(head.size)}"
        else:
            note = format_size(head.size)
        return PreviewContent(PreviewKind.TEXT, note, text=text)
    return _no_preview(preview, "not an image or a text")
