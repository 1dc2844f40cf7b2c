"""Sync… : a local folder and the browser's bucket/prefix, which way, options; the core's plan
as a table with a checkbox per row and totals; Run copies and deletes only the ticked rows.

Planning runs as a command (the walk in the core's pool); the table shows the plan exactly
as the core made it (``SyncPlanModel``). Any change to the folder, direction or options
drops the shown plan: Run never executes a plan made for other settings. Opened with
``open()`` (never ``exec()``: a nested Qt loop would stall qasync's).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from s3z_core.sync import PlannedSync, SyncOutcome
from s3z_gui.controllers.sync import SyncController, SyncRequest, parse_patterns
from s3z_gui.icons import SP, standard
from s3z_gui.models.sync_plan_model import SyncColumn, SyncPlanModel, describe_totals

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge
    from s3z_gui.models.history import Location
    from s3z_gui.views.browser import BrowserView


class SyncDialog(QDialog):
    def __init__(
        self,
        bridge: EngineBridge,
        bucket: str,
        prefix: str,
        folder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync")
        self.resize(820, 560)
        self.controller = SyncController(bridge)
        self.bucket, self.prefix = bucket, prefix
        self.planning: asyncio.Task[PlannedSync | None] | None = None
        self.running: asyncio.Task[SyncOutcome | None] | None = None

        self.folder = QLineEdit(folder)
        self.folder.setPlaceholderText("A folder on this computer")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        remote = QLabel(f"s3://{bucket}/{prefix}")
        remote.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.upload = QRadioButton("Upload: local folder → bucket")
        self.download = QRadioButton("Download: bucket → local folder")
        self.upload.setChecked(True)
        directions = QButtonGroup(self)
        directions.addButton(self.upload)
        directions.addButton(self.download)
        direction_row = QHBoxLayout()
        direction_row.addWidget(self.upload)
        direction_row.addWidget(self.download)
        direction_row.addStretch(1)
        self.delete = QCheckBox("Delete files at the destination that the source lacks")
        self.excludes = QLineEdit()
        self.excludes.setPlaceholderText("e.g. *.tmp, .git/*  (globs on the relative path)")
        self.plan_button = QPushButton(standard(SP.SP_BrowserReload), "Compute plan")
        self.plan_button.clicked.connect(self.plan)

        form = QFormLayout()
        form.addRow("Local folder", folder_row)
        form.addRow("Bucket", remote)
        form.addRow("Direction", direction_row)
        form.addRow("", self.delete)
        form.addRow("Exclude", self.excludes)

        self.model = SyncPlanModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(SyncColumn.NAME, QHeaderView.ResizeMode.Stretch)
        for column in (SyncColumn.ACTION, SyncColumn.SIZE, SyncColumn.REASON):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.status = QLabel("Choose a folder, then compute the plan.")
        self.status.setWordWrap(True)
        self.totals = QLabel("")
        tick_all = QPushButton("Tick all")
        tick_all.clicked.connect(lambda: self.model.set_all_ticked(True))
        untick_all = QPushButton("Untick all")
        untick_all.clicked.connect(lambda: self.model.set_all_ticked(False))
        totals_row = QHBoxLayout()
        totals_row.addWidget(self.totals, 1)
        totals_row.addWidget(tick_all)
        totals_row.addWidget(untick_all)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = self.buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        plan_row = QHBoxLayout()
        plan_row.addWidget(self.status, 1)
        plan_row.addWidget(self.plan_button)
        layout.addLayout(plan_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(totals_row)
        layout.addWidget(self.buttons)

        self.model.totalsChanged.connect(self._show_totals)
        for changed in (self.folder.textChanged, self.excludes.textChanged):
            changed.connect(self._settings_changed)
        for toggled in (self.upload.toggled, self.delete.toggled):
            toggled.connect(self._settings_changed)

    def request(self) -> SyncRequest:
        return SyncRequest(
            folder=self.folder.text().strip(),
            bucket=self.bucket,
            prefix=self.prefix,
            direction="upload" if self.upload.isChecked() else "download",
            delete=self.delete.isChecked(),
            excludes=parse_patterns(self.excludes.text()),
        )

    # commands -----------------------------------------------------------------------

    def plan(self) -> asyncio.Task[PlannedSync | None] | None:
        request = self.request()
        if not request.folder:
            self.status.setText("Choose a local folder first.")
            return None
        self._cancel_planning()
        self.model.set_plan(None)
        self.status.setText("Planning… (listing both sides)")
        self.plan_button.setEnabled(False)
        task = self.controller.plan(request)
        self.planning = task
        task.add_done_callback(lambda t: self._planned(t, request))
        return task

    def _planned(self, task: asyncio.Task[PlannedSync | None], request: SyncRequest) -> None:
        if task is not self.planning:
            return  # superseded by a newer plan
        self.planning = None
        self.plan_button.setEnabled(True)
        planned = None if task.cancelled() else task.result()
        if planned is None or request != self.request():
            if planned is None and not task.cancelled():
                self.status.setText("The plan could not be made: the status bar says why.")
            return
        self.model.set_plan(planned)
        self.status.setText(_planning_notes(planned))

    def run(self) -> asyncio.Task[SyncOutcome | None] | None:
        planned = self.model.planned
        if planned is None or self.model.totals().empty:
            return None
        copies, deletes = self.model.ticked_names()
        task = self.controller.run(planned, copies, deletes)
        self.running = task
        self.accept()  # the queue shows the copies from here on
        return task

    def reject(self) -> None:
        self._cancel_planning()
        super().reject()

    # state ----------------------------------------------------------------------------

    def _cancel_planning(self) -> None:
        planning, self.planning = self.planning, None
        if planning is not None and not planning.done():
            planning.cancel()
        self.plan_button.setEnabled(True)

    def _settings_changed(self) -> None:
        if self.model.planned is not None or self.planning is not None:
            self._cancel_planning()
            self.model.set_plan(None)
            self.status.setText("Settings changed: compute the plan again.")

    def _show_totals(self) -> None:
        planned = self.model.planned
        if planned is None:
            self.totals.setText("")
            self.run_button.setEnabled(False)
            return
        totals = self.model.totals()
        self.totals.setText(describe_totals(totals, planned.direction, planned.plan.unchanged))
        self.run_button.setEnabled(not totals.empty)

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Local folder to sync", self.folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()


def _planning_notes(planned: PlannedSync) -> str:
    """What the plan does not show as rows: unreadable and skipped paths, held-back deletes."""
    notes: list[str] = []
    if planned.unreadable:
        first = planned.unreadable[0]
        notes.append(f"{len(planned.unreadable)} path(s) could not be read — {first.error}")
    if planned.withheld_deletes is not None:
        notes.append(
            "nothing is deleted: the source was not read completely "
            f"({planned.withheld_deletes} would have been)"
        )
    if planned.skipped:
        path, why = planned.skipped[0]
        notes.append(f"{len(planned.skipped)} left out — {path}: {why}")
    if planned.plan.twins:
        notes.append(f"{len(planned.plan.twins)} name(s) differ only in Unicode form")
    if not planned.plan.copies and not planned.plan.deletes:
        notes.insert(0, "Already in sync: nothing to do.")
    return "; ".join(notes) or "Untick what should not be copied or deleted, then Run."


class SyncLauncher(QObject):
    """The Sync… action (File menu, toolbar) and the dialog it opened last."""

    def __init__(self, browser: BrowserView) -> None:
        super().__init__(browser)
        self.browser = browser
        self.dialog: SyncDialog | None = None
        self.folder = ""  # the last folder synced, offered again
        self.action = QAction(standard(SP.SP_BrowserReload), "Sync…", browser)
        self.action.setToolTip("Sync a local folder with this bucket folder")
        self.action.triggered.connect(self.open)
        browser.locationChanged.connect(lambda _url: self._update())
        self._update()

    def _update(self) -> None:
        self.action.setEnabled(self.browser.location.bucket is not None)

    def open(self) -> SyncDialog | None:
        location = self.browser.location
        if location.bucket is None:
            self.browser.bridge.notice.emit("Open a bucket to sync with")
            return None
        dialog = SyncDialog(
            self.browser.bridge,
            location.bucket,
            location.prefix,
            self.folder,
            self.browser.window(),
        )
        dialog.accepted.connect(lambda: self._ran(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _ran(self, dialog: SyncDialog) -> None:
        self.folder = dialog.request().folder
        task, location = dialog.running, self.browser.location
        if task is not None:  # the listing shows what the sync changed
            task.add_done_callback(lambda _t: self._refresh_if_at(location))

    def _refresh_if_at(self, location: Location) -> None:
        if self.browser.location == location:
            self.browser.navigate(location, remember=False)
