"""What the object, version and search tables share: their header row and row flags.

All three show S3 objects in columns with one right-aligned Size column; written once so a
change of alignment or selection behaviour reaches every table the user compares.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt

ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def header_cell(
    headers: Sequence[str], size_column: int, section: int, orientation: Qt.Orientation, role: int
) -> object:
    """``headerData`` for a table of objects: the column's title, Size aligned right."""
    if orientation == Qt.Orientation.Horizontal and 0 <= section < len(headers):
        if role == Qt.ItemDataRole.DisplayRole:
            return headers[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == size_column:
            return _RIGHT
    return None
