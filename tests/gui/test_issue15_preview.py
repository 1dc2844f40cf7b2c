"""Issue 15, "Preview": a quick look (space bar, or Preview in the context menu) for images
and text under a size limit, fetched with one Range GET; anything else says "No preview"
with its size and type. The session runs through the recording proxy, so the requests
sent (a Range, one GET) are the oracle for "only the range was fetched"; the Settings
Content-Type is checked on the PUT it sends (SeaweedFS re-guesses octet-stream types)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from conftest import app_session, target_for, until
from fault_proxy import FaultProxy
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from servers import boto3_client

from s3z_core.models import ObjectHead, Preview
from s3z_gui.models.history import Location
from s3z_gui.models.preview_content import (
    DECODE_OFF_THREAD,
    IMAGE_LIMIT,
    TEXT_LIMIT,
    PreviewKind,
    preview_content,
)
from s3z_gui.views.preview_dialog import PreviewDialog


@pytest_asyncio.fixture
async def proxied(
    qapp: Any, qsettings: Any, seaweed: Any, tmp_path: Path, memory_keyring: Any
) -> AsyncIterator[tuple[Any, FaultProxy]]:
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed), "SeaweedFS via proxy")
        async with app_session(qapp, qsettings, tmp_path, target) as session:
            yield session, proxy


def _png(width: int, height: int, *, noise: bool) -> bytes:
    if noise:  # random pixels: a PNG that does not compress, so it is big
        raw = os.urandom(width * height * 3)
        image = QImage(raw, width, height, width * 3, QImage.Format.Format_RGB888).copy()
    else:
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor("teal"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


async def _open(session: Any, bucket: str) -> None:
    await session.bridge.refresh_buckets()
    browser = session.window.browser
    await browser.navigate(Location(bucket, ""))
    await until(lambda: not browser.objects.loading, what="the listing")


async def _press_space_on(session: Any, name: str) -> PreviewDialog:
    browser = session.window.browser
    browser.select_names({name})
    session.window.activateWindow()
    browser.table.setFocus()
    await until(lambda: QApplication.focusWidget() is browser.table, what="focus on the table")
    QTest.keyClick(browser.table, Qt.Key.Key_Space)
    dialog = browser.browser_actions.object_actions.preview_dialog
    assert dialog is not None, "space opened no preview"
    assert dialog.key == name
    await until(lambda: dialog.content is not None, what="the preview")
    return dialog


def _gets(proxy: FaultProxy, key: str) -> list[Any]:
    return [r for r in proxy.requests if r.method == "GET" and r.path.endswith("/" + key)]


@pytest.mark.asyncio
async def test_space_previews_a_png_at_its_size(proxied: Any, seaweed: Any, bucket: Any) -> None:
    session, proxy = proxied
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    png = _png(37, 21, noise=False)
    client.put_object(Bucket=name, Key="small.png", Body=png)
    await _open(session, name)
    dialog = await _press_space_on(session, "small.png")
    assert dialog.content is not None
    assert dialog.content.kind is PreviewKind.IMAGE
    assert dialog.pages.currentWidget() is dialog.image_area
    pixmap = dialog.image.pixmap()
    assert (pixmap.width(), pixmap.height()) == (37, 21)
    assert QColor(pixmap.toImage().pixel(5, 5)) == QColor("teal")
    assert "37 × 21 pixels" in dialog.note.text()
    (get,) = _gets(proxy, "small.png")
    assert get.header("range") == f"bytes=0-{len(png) - 1}", "one Range GET, whole"
    QTest.keyClick(dialog, Qt.Key.Key_Space)  # space again closes the quick look
    assert not dialog.isVisible()


@pytest.mark.asyncio
async def test_an_image_without_a_name_is_found_by_its_bytes_and_decoded_off_thread(
    proxied: Any, seaweed: Any, bucket: Any
) -> None:
    """No extension, octet-stream: the first range (text-sized) shows a PNG, which is then
    fetched whole (it fits the image limit) and decoded in the blocking pool."""
    session, proxy = proxied
    name = bucket(seaweed)
    png = _png(500, 400, noise=True)
    assert len(png) > max(TEXT_LIMIT, DECODE_OFF_THREAD)
    boto3_client(seaweed).put_object(
        Bucket=name, Key="scan", Body=png, ContentType="application/octet-stream"
    )
    await _open(session, name)
    dialog = await _press_space_on(session, "scan")
    assert dialog.content is not None
    assert dialog.content.kind is PreviewKind.IMAGE
    assert (dialog.image.pixmap().width(), dialog.image.pixmap().height()) == (500, 400)
    ranges = [r.header("range") for r in _gets(proxy, "scan")]
    assert ranges == [f"bytes=0-{TEXT_LIMIT - 1}", f"bytes=0-{len(png) - 1}"]
    dialog.close()


@pytest.mark.asyncio
async def test_a_text_preview_shows_the_text_and_a_big_one_only_its_range(
    proxied: Any, seaweed: Any, bucket: Any
) -> None:
    session, proxy = proxied
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    text = "héllo wörld — ✓\n" * 40 + "bad byte: "
    client.put_object(Bucket=name, Key="notes.txt", Body=text.encode() + b"\xff end\n")
    line = b"0123456789abcdef" * 4 + b"\n"
    big = line * (3 * 1024 * 1024 // len(line))
    client.put_object(Bucket=name, Key="big.log", Body=big)
    await _open(session, name)
    dialog = await _press_space_on(session, "notes.txt")
    assert dialog.pages.currentWidget() is dialog.text
    assert dialog.text.toPlainText() == text + "\ufffd end\n"
    dialog.close()
    dialog = await _press_space_on(session, "big.log")
    assert dialog.content is not None
    assert dialog.content.kind is PreviewKind.TEXT
    assert dialog.text.toPlainText() == big[:TEXT_LIMIT].decode()
    assert "The first 262 kB of 3.1 MB" in dialog.note.text()
    (get,) = _gets(proxy, "big.log")
    assert get.header("range") == f"bytes=0-{TEXT_LIMIT - 1}"
    dialog.close()


@pytest.mark.asyncio
async def test_binary_and_over_limit_objects_show_no_preview_with_size_and_type(
    proxied: Any, seaweed: Any, bucket: Any
) -> None:
    session, proxy = proxied
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    blob = b"\x00\x01" + os.urandom(5 * 1024 * 1024)
    client.put_object(Bucket=name, Key="disk.img", Body=blob, ContentType="application/x-raw")
    await _open(session, name)
    dialog = await _press_space_on(session, "disk.img")
    assert dialog.pages.currentWidget() is dialog.none
    shown = dialog.none.text()
    assert shown.startswith("No preview")
    assert "application/x-raw" in shown
    assert "5.2 MB" in shown
    (get,) = _gets(proxy, "disk.img")
    assert get.header("range") == f"bytes=0-{TEXT_LIMIT - 1}", "only the range, never it all"
    dialog.close()


@pytest.mark.asyncio
async def test_an_image_over_the_limit_fetches_only_enough_to_say_so(
    proxied: Any, seaweed: Any, bucket: Any
) -> None:
    session, proxy = proxied
    name = bucket(seaweed)
    png = _png(8, 8, noise=False)
    big = png + os.urandom(IMAGE_LIMIT + 1000)  # a PNG by its bytes, too big to show
    boto3_client(seaweed).put_object(Bucket=name, Key="huge.png", Body=big)
    await _open(session, name)
    dialog = await _press_space_on(session, "huge.png")
    assert dialog.pages.currentWidget() is dialog.none
    assert "larger than the 8.4 MB preview limit" in dialog.none.text()
    (get,) = _gets(proxy, "huge.png")
    assert get.header("range") == f"bytes=0-{TEXT_LIMIT - 1}"
    dialog.close()


@pytest.mark.asyncio
async def test_preview_is_in_the_context_menu_and_says_when_nothing_is_selected(
    proxied: Any, seaweed: Any, bucket: Any
) -> None:
    session, _proxy = proxied
    name = bucket(seaweed)
    await _open(session, name)
    browser = session.window.browser
    actions = browser.browser_actions.object_actions
    assert actions.preview_action in browser.table.actions()
    notices: list[str] = []
    session.bridge.notice.connect(notices.append)
    assert actions.preview_selection() is None
    assert notices == ["Select a file to preview"]


@pytest.mark.asyncio
async def test_settings_content_type_octet_stream_is_what_the_upload_sends(
    proxied: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    session, proxy = proxied
    name = bucket(seaweed)
    note = tmp_path / "note.txt"
    note.write_text("hello\n")
    await _open(session, name)
    browser = session.window.browser

    def put_types() -> list[str | None]:
        puts = [r for r in proxy.requests if r.method == "PUT" and r.path.endswith("/note.txt")]
        return [r.header("content-type") for r in puts]

    task = browser.upload([str(note)])
    assert task is not None
    await task
    assert put_types() == ["text/plain"], "the default guesses from the name"
    session.set_preferences(
        dataclasses.replace(session.prefs, upload_content_type="application/octet-stream")
    )
    task = browser.upload([str(note)])
    assert task is not None
    await task
    assert put_types() == ["text/plain", "application/octet-stream"]


def _preview(key: str, data: bytes, ctype: str = "", size: int | None = None) -> Preview:
    head = ObjectHead(key, len(data) if size is None else size, "e", None, ctype, {})
    return Preview(head, data)


def test_what_kind_of_preview_follows_bytes_then_type_then_name() -> None:
    async def kinds() -> list[PreviewKind]:
        cases = [
            _preview("a.bin", b"plain words"),  # untyped UTF-8 reads as text
            _preview("a", b"\x00\x01\x02", "text/plain"),  # a NUL byte is not text
            _preview("data", b'{"a": 1}', "application/json"),
            _preview("empty.txt", b""),
            _preview("cut.png", _png(8, 8, noise=False)[:40], size=10_000_000),
            _preview("broken.png", b"\x89PNG\r\n\x1a\n not really"),
        ]
        return [(await preview_content(p)).kind for p in cases]

    assert asyncio.run(kinds()) == [
        PreviewKind.TEXT,
        PreviewKind.NONE,
        PreviewKind.TEXT,
        PreviewKind.NONE,
        PreviewKind.NONE,
        PreviewKind.NONE,
    ]
