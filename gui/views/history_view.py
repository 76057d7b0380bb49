"""The History tab: every book's events, newest first, filtered by book or by words.

The book filter asks the store (the controller reloads the model for that book); the
text filter works on what is loaded and, when it leaves the page short, loads further
pages until enough rows match or the history ends, so filtering never says "nothing"
just because the match is older than the first page.
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.models.history import COLUMNS, HistoryModel
from gui.models.themed import muted_style
from gui.views.downloads_view import FilterEdit

#: With a text filter, pages are loaded until this many rows match (or the end).
FILTER_FILL = 60
FILTER_DELAY_MS = 200


class HistoryView(QWidget):
    book_chosen = Signal(object)  # book id, or None for every book

    def __init__(self, model: HistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((150, 220, 110)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)

        self.book = QComboBox()
        self.book.setMinimumContentsLength(24)
        self.book.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.book.addItem("All books", None)
        self.book.currentIndexChanged.connect(self._book_changed)
        self.text = FilterEdit("Filter events…", self._apply, FILTER_DELAY_MS)
        self.count = QLabel()
        self.count.setStyleSheet(muted_style())
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Book:"))
        bar.addWidget(self.book)
        bar.addWidget(self.text, 1)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        for signal in (model.rowsInserted, model.modelReset, self.proxy.layoutChanged):
            signal.connect(self._rows_changed)
        self._rows_changed()

    # ---- the book filter ------------------------------------------------------------

    def set_books(self, books: list[tuple[int, str]]) -> None:
        """The choices of the book filter (id, title), keeping the current choice."""
        current = self.book.currentData()
        wanted = [(None, "All books"), *books]
        have = [(self.book.itemData(i), self.book.itemText(i)) for i in range(self.book.count())]
        if have == wanted:
            return
        self.book.blockSignals(True)
        try:
            self.book.clear()
            for book_id, title in wanted:
                self.book.addItem(title, book_id)
            found = self.book.findData(current)
            self.book.setCurrentIndex(max(found, 0))
        finally:
            self.book.blockSignals(False)
        if current is not None and self.book.findData(current) < 0:
            self.book_chosen.emit(None)  # the book was removed: show everything

    def show_book(self, book_id: int | None) -> None:
        """Filter on one book as if the user picked it."""
        found = self.book.findData(book_id)
        if found < 0:
            found = 0
        if found == self.book.currentIndex():
            self.book_chosen.emit(self.book.itemData(found))
        else:
            self.book.setCurrentIndex(found)

    def _book_changed(self, index: int) -> None:
        self.book_chosen.emit(self.book.itemData(index))

    # ---- the text filter --------------------------------------------------------------

    def apply_text(self) -> None:
        """Filter on the typed words now, without waiting for the typing to pause."""
        self.text.apply_now()

    def _apply(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._rows_changed()

    def _rows_changed(self, *_: object) -> None:
        shown = self.proxy.rowCount()
        loaded = self.model.rowCount()
        more = " (scroll for older)" if self.model.canFetchMore() else ""
        if self.proxy.filterRegularExpression().pattern():
            self.count.setText(f"{shown} of {loaded} events loaded match{more}")
            if shown < FILTER_FILL and self.model.canFetchMore():
                QTimer.singleShot(0, self, self._fetch_more)  # not inside the model's signal
        else:
            self.count.setText(f"{loaded} events{more}")

    def _fetch_more(self) -> None:
        if self.model.canFetchMore():
            self.model.fetchMore()


__all__ = ["COLUMNS", "HistoryView"]
