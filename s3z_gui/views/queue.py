"""The transfer queue pane: the table, its actions, and the totals line for the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from s3z_gui.bridge import EngineBridge
from s3z_gui.icons import SP, standard
from s3z_gui.models.transfer_model import GroupRole, RowRole, TransferQueueModel
from s3z_gui.models.transfer_store import (
    Column,
    Priority,
    Status,
    TickChanges,
    Totals,
    TransferGroup,
    TransferRow,
)
from s3z_gui.offload import run_blocking
from s3z_gui.units import format_duration, format_rate, format_size
from s3z_gui.views.progress_delegate import ProgressDelegate


def totals_text(totals: Totals) -> str:
    """The status bar's summary: what runs, how fast, how long still."""
    if not (
        totals.active
        or totals.queued
        or totals.paused
        or totals.failed
        or totals.completed
        or totals.cancelled
    ):
        return "No transfers"
    parts: list[str] = []
    if totals.active or totals.queued or totals.paused:
        paused = f", {totals.paused} paused" if totals.paused else ""
        parts.append(f"{totals.active} running{paused}, {totals.queued} queued")
    if totals.upload_bps > 0:
        parts.append(f"↑ {format_rate(totals.upload_bps)}")
    if totals.download_bps > 0:
        parts.append(f"↓ {format_rate(totals.download_bps)}")
    rate = totals.upload_bps + totals.download_bps
    if totals.remaining_bytes and rate > 0:
        remaining = format_size(totals.remaining_bytes)
        parts.append(f"{remaining} left, {format_duration(totals.remaining_bytes / rate)}")
    if totals.completed:
        parts.append(f"{totals.completed} done")
    if totals.failed:
        parts.append(f"{totals.failed} failed")
    if totals.cancelled:
        parts.append(f"{totals.cancelled} cancelled")
    return " · ".join(parts)


class QueueView(QWidget):
    totalsChanged = Signal(str)

    def __init__(self, model: TransferQueueModel, bridge: EngineBridge) -> None:
        super().__init__()
        self.model = model
        self.bridge = bridge
        self.table = QTreeView()  # a folder is one row; its files open beneath it
        self.table.setModel(model)
        self.table.setRootIsDecorated(True)
        self.table.setUniformRowHeights(True)
        self.table.setItemsExpandable(True)
        self.table.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.doubleClicked.connect(self._open_folder_of)
        # Drag rows to reorder: which queued transfer starts next follows the order (and
        # each row's priority). The model moves the rows; nothing is dropped from outside.
        self.table.setDragEnabled(True)
        self.table.setAcceptDrops(True)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.table.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (Column.DIRECTION, 26),
            (Column.SIZE, 72),
            (Column.PROGRESS, 110),
            (Column.SPEED, 84),
            (Column.ETA, 76),
            (Column.STATUS, 130),
        ):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)

        self.toolbar = QToolBar()
        self.toolbar.setIconSize(self.toolbar.iconSize() * 0.75)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.pause_action = self._action("Pause", SP.SP_MediaPause, self.pause_selected)
        self.resume_action = self._action("Resume", SP.SP_MediaPlay, self.resume_selected)
        self.cancel_action = self._action("Cancel", SP.SP_MediaStop, self.cancel_selected)
        self.retry_action = self._action("Retry", SP.SP_BrowserReload, self.retry_selected)
        self.resume_all_action = self._action("Resume all", SP.SP_MediaSeekForward, self.resume_all)
        self.resume_all_action.setToolTip(
            "Resume every paused transfer, the last session's too (from where it stopped)"
        )
        self.priority_menu = QMenu("Priority", self)
        self.priority_actions: dict[Priority, QAction] = {}
        for priority in Priority:
            action = self.priority_menu.addAction(priority.label)
            action.setCheckable(True)
            action.triggered.connect(lambda _c=False, p=priority: self.set_priority(p))
            self.priority_actions[priority] = action
        self.clear_action = self._action(
            "Remove finished", SP.SP_DialogResetButton, self.remove_finished
        )
        self.open_folder_action = self._action(
            "Open folder", SP.SP_DirOpenIcon, self.open_selected_folder
        )
        self.cancel_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        for action in (
            self.pause_action,
            self.resume_action,
            self.cancel_action,
            self.retry_action,
        ):
            self.toolbar.addAction(action)
            self.table.addAction(action)
        self.toolbar.addAction(self.resume_all_action)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.open_folder_action)
        self.toolbar.addAction(self.clear_action)
        self.table.addAction(self.open_folder_action)
        self.table.addAction(self.priority_menu.menuAction())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.table)

        model.ticked.connect(self._ticked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self._update_actions()

    def _action(self, text: str, icon: SP, slot: Callable[[], object]) -> QAction:
        action = QAction(standard(icon), text, self)
        action.triggered.connect(slot)
        return action

    def selected_rows(self) -> list[TransferRow]:
        """The selected transfers; a selected folder row stands for all of its files."""
        rows: list[TransferRow] = []
        seen: set[int] = set()
        for index in self.table.selectionModel().selectedRows(0):
            group = index.data(GroupRole)
            found = group.children if isinstance(group, TransferGroup) else [index.data(RowRole)]
            for row in found:
                if isinstance(row, TransferRow) and row.transfer_id not in seen:
                    seen.add(row.transfer_id)
                    rows.append(row)
        return rows

    def select_transfer(self, transfer_id: int) -> None:
        index = self.model.index_of(transfer_id)
        if not index.isValid():
            return
        if index.parent().isValid():
            self.table.expand(index.parent())
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().setCurrentIndex(index, flags)

    def _ids(self, *statuses: Status) -> list[int]:
        return [r.transfer_id for r in self.selected_rows() if r.status in statuses]

    def pause_selected(self) -> int:
        return self.bridge.transfers.pause(self._ids(Status.QUEUED, Status.RUNNING))

    def resume_selected(self) -> int:
        return self.bridge.transfers.resume(self._ids(Status.PAUSED))

    def cancel_selected(self) -> int:
        return self.bridge.transfers.cancel(self._ids(Status.QUEUED, Status.RUNNING, Status.PAUSED))

    def retry_selected(self) -> int:
        return self.bridge.transfers.retry(self._ids(Status.FAILED, Status.CANCELLED))

    def remove_finished(self) -> int:
        return self.model.remove_finished()

    def resume_all(self) -> int:
        return self.bridge.transfers.resume_all()

    def set_priority(self, priority: Priority) -> None:
        """The selected rows (a folder: all of its files) start in this priority's turn."""
        rows = [r for r in self.selected_rows() if not r.status.finished]
        if rows:
            self.model.set_priority(rows, priority)
        self._update_actions()

    def open_selected_folder(self) -> None:
        rows = self.selected_rows()
        if rows:
            self._open_folder(rows[0])

    def _open_folder_of(self, index: QModelIndex) -> None:
        row = index.data(RowRole)
        if isinstance(row, TransferRow):
            self._open_folder(row)

    def _open_folder(self, row: TransferRow) -> None:
        folder = Path(row.local_path).parent

        async def run() -> None:  # is_dir asks the disk: never on the GUI thread
            if await run_blocking(folder.is_dir):
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

        self.bridge.commands.spawn(run(), "Open folder", bound=False)

    def _ticked(self, _changes: TickChanges) -> None:
        self.totalsChanged.emit(totals_text(self.model.store.totals()))
        self._update_actions()

    def _update_actions(self) -> None:
        rows = self.selected_rows()
        statuses = {r.status for r in rows}
        self.pause_action.setEnabled(bool(statuses & {Status.QUEUED, Status.RUNNING}))
        self.resume_action.setEnabled(Status.PAUSED in statuses)
        self.cancel_action.setEnabled(
            bool(statuses & {Status.QUEUED, Status.RUNNING, Status.PAUSED})
        )
        retryable = any(r.retryable for r in rows)
        refusal = next((r.retry_refusal for r in rows if r.retry_refusal), "")
        self.retry_action.setEnabled(retryable)
        # A refused row says why on the button, not only in its status tooltip.
        self.retry_action.setToolTip(refusal if refusal and not retryable else "Retry")
        self.open_folder_action.setEnabled(bool(statuses))
        store_rows = self.model.store.rows
        self.resume_all_action.setEnabled(any(r.status == Status.PAUSED for r in store_rows))
        waiting = [r for r in rows if not r.status.finished]
        self.priority_menu.setEnabled(bool(waiting))
        chosen = {r.priority for r in waiting}
        for priority, action in self.priority_actions.items():
            action.setChecked(chosen == {priority})
