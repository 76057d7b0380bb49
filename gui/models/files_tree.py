"""A torrent's files as a folder tree with priorities, as qBittorrent's Content tab.

qBittorrent's `torrents/files` answers a flat list whose names carry the folders
("Book/CD1/01.mp3"); this model turns it into folders and files. A refresh with the same
files updates the values in place (`dataChanged` only), so the tree keeps what the user
expanded and selected while the numbers move. Folders add up their files: size, progress
weighted by size, and a priority that reads "Mixed" when the files differ.

The model never changes a priority itself: unticking a file (or choosing a priority in
the view's menu) asks for it with `priority_requested(file_ids, priority)`, and the next
answer from qBittorrent shows what it did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from gui.core.formatting import human_percent, human_size
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.downloads import PROGRESS_ROLE, RAW_ROLE

Index = QModelIndex | QPersistentModelIndex

#: The file ids (`torrents/filePrio`'s `id`) under an index: one for a file, all for a folder.
IDS_ROLE = int(Qt.ItemDataRole.UserRole) + 10

DO_NOT_DOWNLOAD, NORMAL, HIGH, MAXIMUM = 0, 1, 6, 7
PRIORITY_WORDS: Mapping[int, str] = {
    DO_NOT_DOWNLOAD: QT_TRANSLATE_NOOP("FilesTreeModel", "Do not download"),
    NORMAL: QT_TRANSLATE_NOOP("FilesTreeModel", "Normal"),
    HIGH: QT_TRANSLATE_NOOP("FilesTreeModel", "High"),
    MAXIMUM: QT_TRANSLATE_NOOP("FilesTreeModel", "Maximum"),
}
MIXED = -1


def _tr(text: str) -> str:
    return QCoreApplication.translate("FilesTreeModel", text)


class TreeColumn(IntEnum):
    NAME = 0
    SIZE = 1
    PROGRESS = 2
    PRIORITY = 3
    REMAINING = 4
    AVAILABILITY = 5


TREE_HEADERS = (
    QT_TRANSLATE_NOOP("FilesTreeModel", "Name"),
    QT_TRANSLATE_NOOP("FilesTreeModel", "Total Size"),
    QT_TRANSLATE_NOOP("FilesTreeModel", "Progress"),
    QT_TRANSLATE_NOOP("FilesTreeModel", "Download Priority"),
    QT_TRANSLATE_NOOP("FilesTreeModel", "Remaining"),
    QT_TRANSLATE_NOOP("FilesTreeModel", "Availability"),
)


@dataclass(eq=False)
class _Node:
    name: str
    parent: _Node | None
    file_id: int | None = None  # None for a folder
    size: int = 0
    progress: float = 0.0
    priority: int = NORMAL
    availability: float = -1.0
    children: list[_Node] = field(default_factory=list)
    by_name: dict[str, _Node] = field(default_factory=dict)

    @property
    def row(self) -> int:
        return self.parent.children.index(self) if self.parent is not None else 0

    def file_ids(self) -> list[int]:
        if self.file_id is not None:
            return [self.file_id]
        return [i for child in self.children for i in child.file_ids()]


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _file_id(position: int, entry: Mapping[str, Any]) -> int:
    """qBittorrent 4.4+ gives each file its `index`; before that it is the list position."""
    index = entry.get("index")
    return int(index) if isinstance(index, int) and not isinstance(index, bool) else position


_LEFT_COLUMNS = frozenset({TreeColumn.NAME, TreeColumn.PRIORITY})


class FilesTreeModel(QAbstractItemModel):
    priority_requested = Signal(list, int)  # file ids, priority

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", None)
        self._shape: tuple[str, ...] = ()
        self._files: dict[int, _Node] = {}

    # ---- filling ------------------------------------------------------------------

    def set_files(self, files: Sequence[Mapping[str, Any]]) -> None:
        """Show a `torrents/files` answer: in place when the files are the same ones."""
        shape = tuple(str(f.get("name", "")) for f in files)
        if shape != self._shape:
            self.beginResetModel()
            self._build(files)
            self._shape = shape
            self.endResetModel()
            return
        for position, entry in enumerate(files):
            node = self._files.get(_file_id(position, entry))
            if node is not None:
                self._fill(node, entry)
        self._total(self._root)
        self._changed(self._root)

    def clear(self) -> None:
        self.set_files([])

    def _build(self, files: Sequence[Mapping[str, Any]]) -> None:
        self._root = _Node("", None)
        self._files = {}
        for position, entry in enumerate(files):
            parts = [p for p in str(entry.get("name", "")).replace("\\", "/").split("/") if p]
            folder = self._root
            for part in parts[:-1]:
                child = folder.by_name.get(part)
                if child is None or child.file_id is not None:
                    child = _Node(part, folder)
                    folder.by_name[part] = child
                    folder.children.append(child)
                folder = child
            node = _Node(parts[-1] if parts else "", folder, file_id=_file_id(position, entry))
            folder.children.append(node)
            self._fill(node, entry)
            self._files[node.file_id] = node  # type: ignore[index]
        self._sort(self._root)
        self._total(self._root)

    @staticmethod
    def _fill(node: _Node, entry: Mapping[str, Any]) -> None:
        node.size = int(_number(entry.get("size")))
        node.progress = _number(entry.get("progress"))
        node.priority = int(_number(entry.get("priority"), NORMAL))
        node.availability = _number(entry.get("availability"), -1.0)

    def _sort(self, folder: _Node) -> None:
        """Folders first, then files, by name (as qBittorrent's content tree)."""
        folder.children.sort(key=lambda n: (n.file_id is not None, n.name.casefold()))
        for child in folder.children:
            self._sort(child)

    def _total(self, folder: _Node) -> None:
        if folder.file_id is not None:
            return
        for child in folder.children:
            self._total(child)
        kids = folder.children
        folder.size = sum(c.size for c in kids)
        done = sum(c.size * c.progress for c in kids)
        folder.progress = done / folder.size if folder.size else 0.0
        priorities = {c.priority for c in kids}
        folder.priority = priorities.pop() if len(priorities) == 1 else MIXED
        known = [c.availability for c in kids if c.availability >= 0]
        folder.availability = min(known) if known else -1.0

    def _changed(self, folder: _Node) -> None:
        if not folder.children:
            return
        first = self.createIndex(0, 0, folder.children[0])
        last = self.createIndex(
            len(folder.children) - 1, len(TREE_HEADERS) - 1, folder.children[-1]
        )
        self.dataChanged.emit(first, last)
        for child in folder.children:
            self._changed(child)

    # ---- Qt model interface ----------------------------------------------------------

    def _node(self, index: Index) -> _Node:
        if index.isValid():
            node: _Node = index.internalPointer()
            return node
        return self._root

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        folder = self._node(parent)
        if 0 <= row < len(folder.children) and 0 <= column < len(TREE_HEADERS):
            return self.createIndex(row, column, folder.children[row])
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = self._node(index).parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(TREE_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _tr(TREE_HEADERS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == TreeColumn.NAME:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        column = index.column()
        role = int(role)
        if role == int(Qt.ItemDataRole.DisplayRole):
            return self._text(node, column)
        if role == RAW_ROLE:
            return self._raw(node, column)
        if role == PROGRESS_ROLE:
            return node.progress
        if role == IDS_ROLE:
            return node.file_ids()
        if role == int(Qt.ItemDataRole.CheckStateRole) and column == TreeColumn.NAME:
            if node.priority == MIXED:
                return Qt.CheckState.PartiallyChecked
            return (
                Qt.CheckState.Unchecked
                if node.priority == DO_NOT_DOWNLOAD
                else Qt.CheckState.Checked
            )
        if role == int(Qt.ItemDataRole.TextAlignmentRole) and column not in _LEFT_COLUMNS:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == int(Qt.ItemDataRole.ToolTipRole) and column == TreeColumn.NAME:
            return node.name
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """A tick asks for Normal, an untick for Do not download (qBittorrent's rule)."""
        if not index.isValid() or int(role) != int(Qt.ItemDataRole.CheckStateRole):
            return False
        checked = Qt.CheckState(value) if isinstance(value, int) else value
        priority = DO_NOT_DOWNLOAD if checked == Qt.CheckState.Unchecked else NORMAL
        ids = self._node(index).file_ids()
        if ids:
            self.priority_requested.emit(ids, priority)
        return False  # qBittorrent's next answer shows the change

    @staticmethod
    def _text(node: _Node, column: int) -> str:
        if column == TreeColumn.NAME:
            return node.name
        if column == TreeColumn.SIZE:
            return human_size(node.size)
        if column == TreeColumn.PROGRESS:
            return human_percent(node.progress)
        if column == TreeColumn.PRIORITY:
            return (
                "Mixed"
                if node.priority == MIXED
                else PRIORITY_WORDS.get(node.priority, str(node.priority))
            )
        if column == TreeColumn.REMAINING:
            return human_size(int(node.size * (1.0 - node.progress)))
        if node.availability < 0:
            return QCoreApplication.translate("FilesTreeModel", "N/A")
        return human_percent(min(1.0, node.availability))

    @staticmethod
    def _raw(node: _Node, column: int) -> Any:
        values = (
            node.name.casefold(),
            node.size,
            node.progress,
            node.priority,
            node.size * (1.0 - node.progress),
            node.availability,
        )
        return values[column]

    # ---- for the view and tests --------------------------------------------------------

    def file_index(self, name: str) -> QModelIndex:
        """The index of a file or folder by its path ("Book/01.mp3"), or an invalid one."""
        node = self._root
        for part in [p for p in name.split("/") if p]:
            found = next((c for c in node.children if c.name == part), None)
            if found is None:
                return QModelIndex()
            node = found
        return self.createIndex(node.row, 0, node) if node is not self._root else QModelIndex()
