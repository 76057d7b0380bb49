"""The wanted queue: books the user wants, added, edited and removed by hand."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.models.queue import QueueModel
from gui.store import Book


class BookDialog(QDialog):
    """Non-modal editor of one wanted book; emits `saved` with the edited copy."""

    saved = Signal(object)  # Book

    def __init__(self, book: Book | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.book = book or Book(title="", author="")
        self.setWindowTitle("Edit wanted book" if book and book.id else "Add wanted book")
        self.title = QLineEdit(self.book.title)
        self.author = QLineEdit(self.book.author)
        self.narrator = QLineEdit(self.book.narrator)
        self.series = QLineEdit(self.book.series)
        self.position = QLineEdit(self.book.position)
        self.position.setPlaceholderText("e.g. 1 or 2.5")
        self.position.setMaximumWidth(90)
        form = QFormLayout()
        form.addRow("Title:", self.title)
        form.addRow("Author:", self.author)
        form.addRow("Narrator:", self.narrator)
        form.addRow("Series:", self.series)
        form.addRow("Position in series:", self.position)
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#b00020")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for edit in (self.title, self.author, self.position):
            edit.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        problem = ""
        if not self.title.text().strip():
            problem = "A title is needed."
        elif not self.author.text().strip():
            problem = "An author is needed."
        elif self.position.text().strip() and not _is_position(self.position.text().strip()):
            problem = "The position is a number such as 1, 2.5 or 0.5."
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not problem)

    def _save(self) -> None:
        self.book.title = self.title.text().strip()
        self.book.author = self.author.text().strip()
        self.book.narrator = self.narrator.text().strip()
        self.book.series = self.series.text().strip()
        self.book.position = self.position.text().strip()
        self.saved.emit(self.book)
        self.accept()


def _is_position(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


class QueueView(QWidget):
    add_requested = Signal()
    edit_requested = Signal(object)  # Book
    remove_requested = Signal(list)  # book ids

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self._edit())
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter books…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        add = QPushButton("Add book…")
        add.clicked.connect(self.add_requested)
        edit = QPushButton("Edit…")
        edit.clicked.connect(self._edit)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(add)
        bar.addWidget(edit)
        bar.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table)

    def selected_books(self) -> list[Book]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.book_at(row) for row in sorted(rows)]

    def _edit(self) -> None:
        books = self.selected_books()
        if books:
            self.edit_requested.emit(books[0])

    def _remove(self) -> None:
        ids = [book.id for book in self.selected_books() if book.id is not None]
        if ids:
            self.remove_requested.emit(ids)
