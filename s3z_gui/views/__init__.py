"""Widgets: the browser, the queue, the chart and the dialogs (no engine calls here)."""
