"""The wanted queue as a table model, backed by the store.

Edits go to SQLite first (on the store's thread) and into the model only once written, so
what the user sees is what survives a crash.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from gui.store import Book, Store

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Title", "Author", "Narrator", "Series", "#", "State")
STATE_WORDS = {
    "wanted": "Wanted",
    "searching": "Searching",
    "grabbed": "Grabbed",
    "downloading": "Downloading",
    "downloaded": "Downloaded",
    "importing": "Importing",
    "in_library": "In library",
    "failed": "Failed",
}
BOOK_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class QueueModel(QAbstractTableModel):
    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._books: list[Book] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._books)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        book = self._books[index.row()]
        if role == BOOK_ID_ROLE:
            return book.id
        if role == Qt.ItemDataRole.ToolTipRole and book.reason:
            return book.reason
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (
            book.title,
            book.author,
            book.narrator,
            book.series,
            book.position,
            STATE_WORDS.get(book.state, book.state),
        )
        return values[index.column()]

    def book_at(self, row: int) -> Book:
        return self._books[row]

    async def reload(self) -> None:
        books = await self.store.run(self.store.books)
        self.beginResetModel()
        self._books = books
        self.endResetModel()

    async def add(self, book: Book) -> Book:
        saved = await self.store.run(self.store.add_book, book)
        row = len(self._books)
        self.beginInsertRows(QModelIndex(), row, row)
        self._books.append(saved)
        self.endInsertRows()
        return saved

    async def update(self, book: Book) -> None:
        await self.store.run(self.store.update_book, book)
        for row, existing in enumerate(self._books):
            if existing.id == book.id:
                self._books[row] = book
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                return

    async def remove(self, book_id: int) -> None:
        await self.store.run(self.store.remove_book, book_id)
        for row, existing in enumerate(self._books):
            if existing.id == book_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._books[row]
                self.endRemoveRows()
                return
