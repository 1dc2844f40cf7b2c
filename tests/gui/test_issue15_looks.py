"""Issue 15 bug 15: file-type icons, clickable breadcrumb segments, a theme choice."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import until
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from s3z_gui.icons import file_icon
from s3z_gui.models.history import Location
from s3z_gui.settings.preferences import load_preferences
from s3z_gui.theme import Theme


def _icon_keys(session: Any) -> dict[str, int]:
    model = session.window.browser.objects
    return {
        model.index(r, 0).data(): model.index(r, 0).data(Qt.ItemDataRole.DecorationRole).cacheKey()
        for r in range(model.rowCount())
    }


@pytest.mark.asyncio
async def test_file_types_breadcrumbs_and_themes(
    session: Any, seaweed: Any, bucket: Any, qsettings: Any
) -> None:
    name = bucket(seaweed)
    engine = session.bridge.engine
    for key in ("docs/deep/a.jpg", "docs/deep/b.zip", "docs/deep/c.pdf", "docs/deep/d.jpg"):
        await engine.put_bytes(name, key, b"x")
    await session.bridge.refresh_buckets()
    browser = session.window.browser
    await browser.navigate(Location(name, "docs/deep/"))
    await until(lambda: not browser.objects.loading and browser.objects.rowCount() == 4)

    # Icons by file type: photos alike, an archive and a PDF each their own, none generic.
    keys = _icon_keys(session)
    assert keys["a.jpg"] == keys["d.jpg"]
    assert len({keys["a.jpg"], keys["b.zip"], keys["c.pdf"]}) == 3
    assert file_icon().cacheKey() not in keys.values()

    # Breadcrumbs: one button per level; a click opens that level.
    crumbs = browser.breadcrumbs
    assert [b.text() for b in crumbs.buttons] == [name, "docs", "deep"]
    assert browser.path_bar.currentWidget() is crumbs
    crumbs.buttons[1].click()
    await until(lambda: browser.location == Location(name, "docs/"), what="docs/")
    assert [b.text() for b in crumbs.buttons] == [name, "docs"]
    crumbs.buttons[0].click()
    await until(lambda: browser.location == Location(name, ""), what="the bucket's root")
    browser.focus_address()  # Ctrl+L: the field, for typing
    assert browser.path_bar.currentWidget() is browser.address
    browser.address.setText(f"s3://{name}/docs/deep/")
    browser.address.returnPressed.emit()
    await until(lambda: browser.location == Location(name, "docs/deep/"), what="typed address")
    assert browser.path_bar.currentWidget() is crumbs

    # Theme: View ▸ Theme ▸ Dark, saved as a preference, and back to the system's.
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    system = app.palette().color(QPalette.ColorRole.Window).name()
    actions = session.window.theme_actions
    actions[Theme.DARK].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert load_preferences(qsettings).theme is Theme.DARK
    assert actions[Theme.DARK].isChecked()
    actions[Theme.LIGHT].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    actions[Theme.SYSTEM].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).name() == system
    assert load_preferences(qsettings).theme is Theme.SYSTEM
