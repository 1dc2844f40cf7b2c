"""What the browser's right-hand side shows: the folder's objects, its versions, or a search.

A stack of three pages under the navigation bar; the actions that switch between them
(View → Show versions, Ctrl+F), and the bucket's versioning switch of the bucket list's
context menu. The versions page follows the browser's folder while it is shown; the search
page searches the folder that was open when it was asked for.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStackedWidget

from s3z_core.errors import S3zError
from s3z_gui.icons import SP, standard
from s3z_gui.models.bucket_model import BucketNameRole
from s3z_gui.models.history import Location
from s3z_gui.models.listing import parent_prefix
from s3z_gui.views.search_panel import SearchPanel
from s3z_gui.views.versions_view import VersionsView

if TYPE_CHECKING:
    from s3z_gui.views.browser import BrowserView

#: Revealing a search result in a huge folder pages in at most this many listing pages.
REVEAL_PAGES = 50


class BrowserModes(QObject):
    def __init__(self, browser: BrowserView) -> None:
        super().__init__(browser)
        self.browser = browser
        bridge = browser.bridge
        self.versions = VersionsView(bridge, lambda: browser.confirm_deletes)
        self.search = SearchPanel(bridge)
        self.stack = QStackedWidget()
        for page in (browser.table, self.versions, self.search):
            self.stack.addWidget(page)
        self._bucket: str | None = None
        self.last_reveal: asyncio.Task[bool | None] | None = None
        self.versioning_task: asyncio.Task[str | None] | None = None

        self.show_versions_action = QAction(
            standard(SP.SP_FileDialogDetailedView), "Show &versions", browser
        )
        self.show_versions_action.setCheckable(True)
        self.show_versions_action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.show_versions_action.setToolTip("List every version and delete marker here")
        self.show_versions_action.toggled.connect(self._versions_toggled)
        self.search_action = QAction(
            standard(SP.SP_FileDialogContentsView), "Search bucket…", browser
        )
        self.search_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.search_action.triggered.connect(self.show_search)
        self.versioning_action = QAction("Versioning enabled", browser)
        self.versioning_action.setCheckable(True)
        self.versioning_action.setEnabled(False)
        self.versioning_action.triggered.connect(self._versioning_chosen)
        for action in (self.show_versions_action, self.search_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            browser.addAction(action)
        browser.bucket_list.addAction(self.versioning_action)

        browser.locationChanged.connect(self._location_changed)
        self.versions.folderOpened.connect(self._open_folder)
        self.search.resultOpened.connect(self.reveal)
        self.search.closeRequested.connect(self.show_objects)

    # pages --------------------------------------------------------------------------

    def show_objects(self) -> None:
        self.show_versions_action.setChecked(False)
        self.stack.setCurrentWidget(self.browser.table)

    def show_search(self) -> None:
        self.show_versions_action.setChecked(False)
        location = self.browser.location
        self.search.set_scope(location.bucket, location.prefix)
        self.stack.setCurrentWidget(self.search)
        self.search.focus_field()

    def _versions_toggled(self, shown: bool) -> None:
        if shown:
            self.stack.setCurrentWidget(self.versions)
            location = self.browser.location
            self.versions.show_location(location.bucket, location.prefix)
            self.versions.table.setFocus()
        elif self.stack.currentWidget() is self.versions:
            self.stack.setCurrentWidget(self.browser.table)

    def _location_changed(self, _url: str) -> None:
        location = self.browser.location
        if self.stack.currentWidget() is self.versions:
            self.versions.show_location(location.bucket, location.prefix)
        elif self.stack.currentWidget() is self.search:
            self.stack.setCurrentWidget(self.browser.table)  # browsing on leaves the results
        if location.bucket != self._bucket:
            self._bucket = location.bucket
            self._read_versioning(location.bucket)

    def _open_folder(self, key: str) -> None:
        bucket = self.browser.location.bucket
        if bucket:
            self.browser.navigate(Location(bucket, key))

    # a search result in its folder ------------------------------------------------------

    def reveal(self, bucket: str, key: str) -> asyncio.Task[bool | None]:
        """Open the result's folder in the browser and select it (paging in as needed)."""
        self.show_objects()
        self.last_reveal = self.browser.bridge.commands.spawn(
            self._reveal(bucket, key), f"Opening s3://{bucket}/{key}"
        )
        return self.last_reveal

    async def _reveal(self, bucket: str, key: str) -> bool:
        b = self.browser
        prefix = parent_prefix(key)
        await b.navigate(Location(bucket, prefix))
        for _page in range(REVEAL_PAGES):
            if b.location != Location(bucket, prefix):
                return False  # the user went elsewhere meanwhile
            if any(e.key == key for e in b.objects.entries):
                b.select_names({key[len(prefix) :]})
                for index in b.table.selectionModel().selectedRows(0):
                    b.table.scrollTo(index)
                b.table.setFocus()
                return True
            if not b.objects.canFetchMore(QModelIndex()):
                break
            await b.bridge.listing.fetch_more(b.objects, b.objects.generation)
        b.bridge.notice.emit(f"{key} is no longer in s3://{bucket}/{prefix}")
        return False

    # bucket versioning --------------------------------------------------------------

    def _context_bucket(self) -> str | None:
        index = self.browser.bucket_list.currentIndex()
        name = index.data(BucketNameRole) if index.isValid() else self.browser.location.bucket
        return name if isinstance(name, str) else None

    def _read_versioning(self, bucket: str | None) -> None:
        self.versioning_action.setEnabled(False)
        self.versioning_action.setChecked(False)
        if bucket is None or not self.browser.bridge.connected:
            return

        async def run() -> str:
            try:  # quietly: a store without versioning just leaves the switch off
                status = await self.browser.bridge.engine.bucket_versioning(bucket)
            except S3zError:
                return ""
            if self._bucket == bucket:
                self._show_versioning(status)
            return status

        self.versioning_task = self.browser.bridge.commands.spawn(run(), "Versioning")

    def _show_versioning(self, status: str) -> None:
        self.versioning_action.setEnabled(True)
        self.versioning_action.setChecked(status == "Enabled")
        self.versioning_action.setToolTip(f"Versioning: {status or 'never enabled'}")

    def _versioning_chosen(self, enabled: bool) -> None:
        bucket = self._context_bucket()
        if bucket is None:
            return
        task = self.browser.bridge.versions.set_versioning(bucket, enabled)

        def done(_task: object) -> None:
            status = None if task.cancelled() else task.result()
            if bucket != self._bucket:
                return
            if status is None:  # refused (the status bar says why): show what it is now
                self._read_versioning(bucket)
            else:
                self._show_versioning(status)

        task.add_done_callback(done)
        self.versioning_task = task
