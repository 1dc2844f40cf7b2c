"""The bucket side list: a flat Qt list over ``BucketInfo`` records."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from s3z_core.models import BucketInfo
from s3z_gui.icons import bucket_icon

BucketNameRole = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


class BucketListModel(QAbstractListModel):
    """Buckets sorted by name; replaced wholesale on refresh (a handful of rows)."""

    def __init__(self) -> None:
        super().__init__()
        self._buckets: list[BucketInfo] = []

    def set_buckets(self, buckets: list[BucketInfo]) -> None:
        self.beginResetModel()
        self._buckets = sorted(buckets, key=lambda b: b.name)
        self.endResetModel()

    def bucket_names(self) -> list[str]:
        return [b.name for b in self._buckets]

    def row_of(self, name: str) -> int:
        for row, bucket in enumerate(self._buckets):
            if bucket.name == name:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._buckets)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._buckets):
            return None
        bucket = self._buckets[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, BucketNameRole):
            return bucket.name
        if role == Qt.ItemDataRole.DecorationRole:
            return bucket_icon()
        if role == Qt.ItemDataRole.ToolTipRole:
            created = f"\nCreated {bucket.created:%Y-%m-%d %H:%M}" if bucket.created else ""
            return f"s3://{bucket.name}{created}"
        return None
