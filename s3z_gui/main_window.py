"""The main window: composes the browser, queue, chart, menus and status bar. No logic.

Decisions (which connection, dialogs, sandbox) belong to ``session.py``; the window
only raises signals for them and shows what the bridge reports.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from s3z_gui.bridge import EngineBridge
from s3z_gui.icons import SP, app_icon, standard
from s3z_gui.models.bucket_model import BucketNameRole
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.theme import Theme
from s3z_gui.views.banner import Banner
from s3z_gui.views.browser import BrowserView
from s3z_gui.views.chart import ThroughputChart
from s3z_gui.views.queue import QueueView
from s3z_gui.views.sync_dialog import SyncLauncher

DEFAULT_SIZE = QSize(1280, 800)

# The quit question's answers.
KEEP_FOR_LATER = "Keep for later"
CANCEL_AND_QUIT = "Cancel transfers and quit"
KEEP_OPEN = "Keep the window open"


class MainWindow(QMainWindow):
    closed = Signal()
    profileChosen = Signal(str)
    sandboxChosen = Signal()
    newConnectionRequested = Signal()
    editConnectionRequested = Signal()
    removeConnectionRequested = Signal()
    settingsRequested = Signal()
    propertiesRequested = Signal(str, str)
    themeChosen = Signal(str)  # a Theme value
    keepForLaterChosen = Signal()  # closing keeps unfinished transfers for the next launch
    incompleteUploadsRequested = Signal(str)  # a bucket's name

    def __init__(self, bridge: EngineBridge, queue_model: TransferQueueModel) -> None:
        super().__init__()
        self.setWindowTitle("s3z")
        self.setWindowIcon(app_icon())
        self.resize(DEFAULT_SIZE)
        self.bridge = bridge
        self._docks_sized = False
        self._quitting = False
        self.quit_box: QMessageBox | None = None

        self.banner = Banner()
        self.browser = BrowserView(bridge)
        self.sync = SyncLauncher(self.browser)
        self.queue = QueueView(queue_model, bridge)
        self.chart = ThroughputChart()
        queue_model.ticked.connect(self.chart.record)
        self.browser.propertiesRequested.connect(self.propertiesRequested)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.browser, 1)
        self.setCentralWidget(central)

        self.queue_dock = self._dock("Transfers", self.queue, "transfers")
        self.chart_dock = self._dock("Throughput", self.chart, "throughput")
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.queue_dock)
        self.splitDockWidget(self.queue_dock, self.chart_dock, Qt.Orientation.Horizontal)

        self.connection_label = QLabel()
        self.totals_label = QLabel("No transfers")
        self.statusBar().addPermanentWidget(self.totals_label)
        self.statusBar().addPermanentWidget(self.connection_label)
        self.queue.totalsChanged.connect(self.totals_label.setText)
        bridge.failed.connect(self.show_error)
        bridge.notice.connect(lambda text: self.statusBar().showMessage(text, 6000))
        bridge.connectionChanged.connect(self._connection_changed)

        self.incomplete_uploads_action = QAction("Incomplete uploads…", self)
        self.incomplete_uploads_action.triggered.connect(self._incomplete_uploads)
        self.browser.bucket_list.addAction(self.incomplete_uploads_action)

        self._build_menus()
        self._build_toolbar()

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        return dock

    def _build_menus(self) -> None:
        b = self.browser.browser_actions
        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        self.connections_menu = QMenu("&Connect to", self)
        file_menu.addMenu(self.connections_menu)
        self.new_connection_action = file_menu.addAction("&New connection…")
        self.new_connection_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_connection_action.triggered.connect(self.newConnectionRequested)
        self.edit_connection_action = file_menu.addAction("&Edit connection…")
        self.edit_connection_action.triggered.connect(self.editConnectionRequested)
        self.remove_connection_action = file_menu.addAction("&Remove connection")
        self.remove_connection_action.triggered.connect(self.removeConnectionRequested)
        file_menu.addSeparator()
        file_menu.addAction(b.upload_files_action)
        file_menu.addAction(b.upload_folder_action)
        file_menu.addAction(self.sync.action)
        file_menu.addAction(b.object_actions.upload_with_options_action)
        file_menu.addSeparator()
        settings_action = file_menu.addAction("&Settings…")
        settings_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences))
        settings_action.triggered.connect(self.settingsRequested)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)

        edit_menu = menu_bar.addMenu("&Edit")
        for action in (
            b.download_action,
            b.new_folder_action,
            b.delete_action,
            None,
            b.copy_url_action,
            b.copy_presigned_action,
            None,
            b.object_actions.preview_action,
            b.properties_action,
        ):
            if action is None:
                edit_menu.addSeparator()
            else:
                edit_menu.addAction(action)

        go_menu = menu_bar.addMenu("&Go")
        for action in (b.back_action, b.forward_action, b.up_action, b.refresh_action):
            go_menu.addAction(action)
        go_menu.addAction(b.address_action)
        go_menu.addSeparator()
        go_menu.addAction(b.new_bucket_action)
        go_menu.addAction(b.delete_bucket_action)
        go_menu.addAction(self.browser.modes.versioning_action)
        go_menu.addAction(self.incomplete_uploads_action)

        transfers_menu = menu_bar.addMenu("&Transfers")
        q = self.queue
        for action in (q.resume_all_action, None, q.pause_action, q.resume_action):
            if action is None:
                transfers_menu.addSeparator()
            else:
                transfers_menu.addAction(action)
        transfers_menu.addAction(q.cancel_action)
        transfers_menu.addAction(q.retry_action)
        transfers_menu.addSeparator()
        transfers_menu.addMenu(q.priority_menu)
        transfers_menu.addAction(q.clear_action)

        view_menu = menu_bar.addMenu("&View")
        view_menu.addAction(self.queue_dock.toggleViewAction())
        view_menu.addAction(self.chart_dock.toggleViewAction())
        view_menu.addSeparator()
        modes = self.browser.modes
        view_menu.addAction(modes.show_versions_action)
        view_menu.addAction(modes.search_action)
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("&Theme")
        group = QActionGroup(theme_menu)
        self.theme_actions: dict[Theme, QAction] = {}
        for theme in Theme:
            action = theme_menu.addAction(theme.value.capitalize())
            action.setCheckable(True)
            group.addAction(action)
            action.triggered.connect(lambda _c=False, t=theme: self.themeChosen.emit(t.value))
            self.theme_actions[theme] = action

        help_menu = menu_bar.addMenu("&Help")
        about = help_menu.addAction("&About s3z")
        about.triggered.connect(
            lambda: self.statusBar().showMessage(
                "s3z — fast, verified transfers for S3 and S3-compatible stores", 6000
            )
        )

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(18, 18))
        b = self.browser.browser_actions
        connect_action = QAction(standard(SP.SP_DriveNetIcon), "Connect", self)
        connect_action.setMenu(self.connections_menu)
        connect_action.triggered.connect(self.newConnectionRequested)
        toolbar.addAction(connect_action)
        toolbar.addSeparator()
        for action in (b.upload_files_action, b.download_action, b.new_folder_action):
            toolbar.addAction(action)
        toolbar.addAction(b.delete_action)
        toolbar.addAction(self.sync.action)
        toolbar.addSeparator()
        toolbar.addAction(self.browser.modes.show_versions_action)
        toolbar.addAction(self.browser.modes.search_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def set_connections(self, names: list[str], current: str) -> None:
        """Rebuild the Connect menu: saved profiles, then the local sandbox."""
        self.connections_menu.clear()
        group = QActionGroup(self.connections_menu)
        for name in names:
            action = self.connections_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == current)
            group.addAction(action)
            action.triggered.connect(lambda _checked=False, n=name: self.profileChosen.emit(n))
        if names:
            self.connections_menu.addSeparator()
        sandbox = self.connections_menu.addAction(standard(SP.SP_ComputerIcon), "Local sandbox")
        sandbox.triggered.connect(self.sandboxChosen)
        self.connections_menu.addSeparator()
        add = self.connections_menu.addAction("New connection…")
        add.triggered.connect(self.newConnectionRequested)
        has_profile = current in names
        self.edit_connection_action.setEnabled(has_profile)
        self.remove_connection_action.setEnabled(has_profile)

    def show_error(self, message: str) -> None:
        # Errors stay longer than notices; the text carries the S3 code, never a traceback.
        self.statusBar().showMessage("⚠ " + message, 15000)

    def _connection_changed(self, label: str) -> None:
        self.connection_label.setText(f"  {label}  " if label else "  Not connected  ")
        self.setWindowTitle(f"{label} — s3z" if label else "s3z")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._docks_sized:
            # Proportions only mean something once the window has its real size.
            self._docks_sized = True
            width = self.width()
            self.resizeDocks(
                [self.queue_dock, self.chart_dock],
                [width * 62 // 100, width * 38 // 100],
                Qt.Orientation.Horizontal,
            )
            self.resizeDocks(
                [self.queue_dock], [self.height() * 36 // 100], Qt.Orientation.Vertical
            )

    def _incomplete_uploads(self) -> None:
        index = self.browser.bucket_list.currentIndex()
        name = index.data(BucketNameRole) if index.isValid() else self.browser.location.bucket
        if isinstance(name, str) and name:
            self.incompleteUploadsRequested.emit(name)

    def closeEvent(self, event: QCloseEvent) -> None:
        """With transfers still running, ask first (issue 15, bug 2): keep them for later
        (they resume at the next launch), cancel them and quit, or keep the window open.
        Signals and scripts close through ``quit_now``."""
        if not self._quitting and self.bridge.transfers.busy():
            event.ignore()
            self.ask_quit()
            return
        self._quitting = True
        self.closed.emit()
        event.accept()

    def ask_quit(self) -> QMessageBox:
        running = self.bridge.transfers.running()
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Quit s3z",
            f"{running} transfer(s) are not finished. Keep them for later: they are paused "
            "and continue where they stopped when s3z starts again. Or cancel them: "
            "unfinished uploads are aborted and partial downloads removed now.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        later = box.addButton(KEEP_FOR_LATER, QMessageBox.ButtonRole.AcceptRole)
        quit_button = box.addButton(CANCEL_AND_QUIT, QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(KEEP_OPEN, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(later)
        box.setEscapeButton(keep)
        box.buttonClicked.connect(
            lambda button: self._quit_answered(button is quit_button, button is later)
        )
        self.quit_box = box
        box.open()  # never exec(): a nested loop would stall the asyncio loop
        return box

    def _quit_answered(self, quit_: bool, later: bool = False) -> None:
        if later:
            self.keepForLaterChosen.emit()  # before closing: the cancels that follow keep
            self.quit_now()
        elif quit_:
            self.quit_now()

    def quit_now(self) -> None:
        """Close without asking (the question was answered, or a signal arrived)."""
        self._quitting = True
        self.close()
