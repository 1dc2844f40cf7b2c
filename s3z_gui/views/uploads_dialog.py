"""A bucket's incomplete multipart uploads, and the janitor's Abort buttons.

An upload that was never completed or aborted keeps its parts on the server (and costs
their storage) until someone aborts it. The table shows each one's key, upload id, start,
age, parts and bytes held, and whether it is ours (a transfer s3z keeps to resume: aborting
it also forgets it). The survey is the core's, the same as ``s3z-core uploads ls``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from s3z_core.uploads_survey import Incomplete, select_uploads
from s3z_gui.bridge import EngineBridge
from s3z_gui.units import format_duration, format_size

HEADERS = ("Key", "Upload id", "Initiated", "Age", "Parts", "Bytes held", "Ours")


class IncompleteUploadsDialog(QDialog):
    def __init__(self, bridge: EngineBridge, bucket: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.bucket = bucket
        self.items: list[Incomplete] = []
        self.setWindowTitle(f"Incomplete uploads — {bucket}")
        self.resize(900, 420)
        self.summary = QLabel("Listing…")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.hours = QSpinBox()
        self.hours.setRange(0, 24 * 365)
        self.hours.setValue(24)
        self.hours.setSuffix(" h")
        self.refresh_button = self._button("Refresh", self.refresh)
        self.abort_selected_button = self._button("Abort selected", self.abort_selected)
        self.abort_older_button = self._button("Abort older than", self.abort_older)
        self.abort_foreign_button = self._button("Abort not ours", self.abort_not_ours)
        close = self._button("Close", self.accept)
        buttons = QHBoxLayout()
        for widget in (
            self.refresh_button,
            self.abort_selected_button,
            self.abort_older_button,
            self.hours,
            self.abort_foreign_button,
        ):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._busy: asyncio.Task[object] | None = None
        self._update_buttons()

    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def refresh(self) -> asyncio.Task[list[Incomplete] | None]:
        task = self.bridge.survey_uploads(self.bucket)
        self.summary.setText("Listing…")

        def done(_t: object) -> None:
            found = None if task.cancelled() else task.result()
            if found is None:
                self.summary.setText("The incomplete uploads could not be listed")
                return
            self.show_items(found)

        task.add_done_callback(done)
        return task

    def show_items(self, items: list[Incomplete]) -> None:
        now = time.time()
        self.items = sorted(items, key=lambda i: (i.initiated is None, i.initiated, i.key))
        self.table.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            age = item.age_s(now)
            when = item.initiated.astimezone().strftime("%Y-%m-%d %H:%M") if item.initiated else ""
            cells = (
                item.key,
                item.upload_id,
                when,
                format_duration(age) if age is not None else "?",
                str(item.parts),
                format_size(item.size),
                "ours" if item.ours else "not ours",
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column in (3, 4, 5):
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 6 and item.ours:
                    cell.setToolTip("A transfer s3z keeps to resume: aborting it forgets it")
                self.table.setItem(row, column, cell)
        held = sum(i.size for i in items)
        self.summary.setText(
            f"{len(items)} incomplete upload(s) holding {format_size(held)}"
            if items
            else "No incomplete uploads"
        )
        self._update_buttons()

    def selected_items(self) -> list[Incomplete]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.items[r] for r in rows if 0 <= r < len(self.items)]

    def _abort(self, items: list[Incomplete]) -> asyncio.Task[object] | None:
        if not items:
            self.summary.setText("Nothing to abort")
            return None
        task = self.bridge.abort_incomplete(self.bucket, items)

        async def then() -> object:
            await asyncio.wait([task])
            return await self.refresh()

        self._busy = asyncio.ensure_future(then())
        return self._busy

    def abort_selected(self) -> asyncio.Task[object] | None:
        return self._abort(self.selected_items())

    def abort_older(self) -> asyncio.Task[object] | None:
        hours = self.hours.value()
        return self._abort(select_uploads(self.items, time.time(), older_than_s=hours * 3600.0))

    def abort_not_ours(self) -> asyncio.Task[object] | None:
        return self._abort(select_uploads(self.items, time.time(), not_ours=True))

    def _update_buttons(self) -> None:
        self.abort_selected_button.setEnabled(bool(self.table.selectionModel().selectedRows()))
        self.abort_older_button.setEnabled(bool(self.items))
        self.abort_foreign_button.setEnabled(any(not i.ours for i in self.items))
