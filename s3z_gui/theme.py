"""The app's theme: System (the desktop's style and palette), Light or Dark (issue 15, bug 15).

Light and Dark use the Fusion style, which follows the palette everywhere (native styles may
ignore it); System restores the style and palette the app started with. Widgets that draw
their own colours (the chart, the banner) follow ``PaletteChange`` events, so a switch needs
no restart.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


_started_with: dict[str, object] = {}
_applied: list[Theme] = [Theme.SYSTEM]

_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a",
    QPalette.ColorRole.AlternateBase: "#2a2b2e",
    QPalette.ColorRole.ToolTipBase: "#2a2b2e",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2d2e31",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#3c3d40",
    QPalette.ColorRole.Midlight: "#333437",
    QPalette.ColorRole.Mid: "#4a4b4f",
    QPalette.ColorRole.Dark: "#121314",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#3b82f6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f5f5f6",
    QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#eef0f3",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1f2328",
    QPalette.ColorRole.PlaceholderText: "#6e7781",
    QPalette.ColorRole.Text: "#1f2328",
    QPalette.ColorRole.Button: "#f0f1f3",
    QPalette.ColorRole.ButtonText: "#1f2328",
    QPalette.ColorRole.BrightText: "#d1242f",
    QPalette.ColorRole.Highlight: "#2563eb",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#0969da",
}


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    for role, colour in (_DARK if theme is Theme.DARK else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#7d7f83") if theme is Theme.DARK else QColor("#9ea3a8")
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_theme(theme: Theme, app: QApplication | None = None) -> None:
    """Switch the whole app; a no-op when ``theme`` is already applied (each start)."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    assert isinstance(app, QApplication)
    if theme is _applied[0]:
        return
    _applied[0] = theme
    if not _started_with:
        _started_with["style"] = app.style().name()
        _started_with["palette"] = QPalette(app.palette())
    if theme is Theme.SYSTEM:
        app.setStyle(QStyleFactory.create(str(_started_with["style"])))
        palette = _started_with["palette"]
        assert isinstance(palette, QPalette)
        app.setPalette(palette)
        return
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(palette_for(theme))
