"""The wanted queue: books the user wants, their state and last event, and what to do next.

A view only: adding, editing, importing, reordering, searching and the alternatives to a
refused grab are forwarded as signals; `gui.controller` does them. Every dialog here is
non-modal (the app runs one qasync loop; a nested `exec()` would stall it).

A book the workflow has taken past the download (importing, in the library, failed) opens
its details on a double-click: there is nothing left to edit in the wanted entry, but
there may be metadata to review or an import to check. Earlier books open the editor.
"""

from __future__ import annotations

import re

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.core.goodreads import FORMATS, ImportPlan
from gui.core.matching import canonical_isbn
from gui.models.downloads import PROGRESS_ROLE
from gui.models.palette import BAD
from gui.models.queue import (
    BOOK_ID_ROLE,
    COLUMNS,
    REFUSAL_START,
    STATE_COLUMN,
    QueueModel,
    awaits_review,
    import_progress_text,
    qbt_refused,
)
from gui.models.themed import on_window
from gui.store import Book
from gui.views.downloads_view import FilterEdit, ProgressDelegate

_ASIN = re.compile(r"^[A-Za-z0-9]{10}$")
#: Books a double-click opens the details of, rather than the wanted entry's editor.
DETAIL_STATES = frozenset({"importing", "in_library", "failed"})
STATE_WIDTH = 95


class ImportProgressDelegate(ProgressDelegate):
    """The State cell: a progress bar while the book's files are copied, else plain text."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if index.data(PROGRESS_ROLE) is None:
            QStyledItemDelegate.paint(self, painter, option, index)
        else:
            super().paint(painter, option, index)


class BookDialog(QDialog):
    """Non-modal editor of one wanted book; emits `saved` with the edited copy."""

    saved = Signal(object)  # Book

    def __init__(self, book: Book | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.book = book or Book(title="", author="")
        self.setWindowTitle("Edit wanted book" if book and book.id else "Add wanted book")
        self.setMinimumWidth(460)
        self.title = QLineEdit(self.book.title)
        self.author = QLineEdit(self.book.author)
        self.narrator = QLineEdit(self.book.narrator)
        self.series = QLineEdit(self.book.series)
        self.position = QLineEdit(self.book.position)
        self.position.setPlaceholderText("e.g. 1 or 2.5")
        self.position.setMaximumWidth(90)
        self.asin = QLineEdit(self.book.asin)
        self.asin.setPlaceholderText("Audible's id, e.g. B002V1A0WE")
        self.isbn = QLineEdit(self.book.isbn)
        self.isbn.setPlaceholderText("10 or 13 digits")
        self.language = QLineEdit(self.book.language)
        self.language.setPlaceholderText("e.g. English or en; empty: any")
        self.format = QComboBox()
        self.format.addItem("Any", "")
        for name in FORMATS:
            self.format.addItem(name, name)
        found = self.format.findData(self.book.preferred_format)
        self.format.setCurrentIndex(max(found, 0))
        form = QFormLayout()
        form.addRow("Title:", self.title)
        form.addRow("Author:", self.author)
        form.addRow("Narrator:", self.narrator)
        form.addRow("Series:", self.series)
        form.addRow("Position in series:", self.position)
        form.addRow("ASIN:", self.asin)
        form.addRow("ISBN:", self.isbn)
        form.addRow("Language:", self.language)
        form.addRow("Preferred format:", self.format)
        self.problem = QLabel()
        self.problem.setStyleSheet(f"color:{on_window(BAD)}")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for edit in (self.title, self.author, self.position, self.asin, self.isbn):
            edit.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        problem = ""
        position = self.position.text().strip()
        asin = self.asin.text().strip()
        isbn = self.isbn.text().strip()
        if not self.title.text().strip():
            problem = "A title is needed."
        elif not self.author.text().strip():
            problem = "An author is needed."
        elif position and not _is_position(position):
            problem = "The position is a number such as 1, 2.5 or 0.5."
        elif asin and not _ASIN.match(asin):
            problem = "An ASIN is 10 letters and digits."
        elif isbn and len(canonical_isbn(isbn)) not in (10, 13):
            problem = "An ISBN has 10 or 13 digits."
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not problem)

    def _save(self) -> None:
        self.book.title = self.title.text().strip()
        self.book.author = self.author.text().strip()
        self.book.narrator = self.narrator.text().strip()
        self.book.series = self.series.text().strip()
        self.book.position = self.position.text().strip()
        self.book.asin = self.asin.text().strip().upper()
        self.book.isbn = self.isbn.text().strip()
        self.book.language = self.language.text().strip()
        self.book.preferred_format = str(self.format.currentData() or "")
        self.saved.emit(self.book)
        self.accept()


def _is_position(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


class ImportReportDialog(QDialog):
    """What a CSV import did, row by row: added, skipped (why), rejected (why)."""

    def __init__(self, file_name: str, plan: ImportPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Import of {file_name}")
        self.resize(720, 460)
        source = "Goodreads export" if plan.kind == "goodreads" else "CSV file"
        self.summary = QLabel(f"<b>{source}:</b> {plan.summary()}.")
        self.tabs = QTabWidget()
        self.added_list = self._list(["Line", "Title", "Author", "Series"])
        for book in plan.add:
            series = f"{book.series} #{book.position}" if book.position else book.series
            self._row(self.added_list, [str(book.line), book.title, book.author, series])
        self.skipped_list = self._list(["Line", "Book", "Why"])
        for skip in plan.skipped:
            self._row(self.skipped_list, [str(skip.book.line), skip.book.describe(), skip.reason])
        self.rejected_list = self._list(["Line", "Row", "Why"])
        for problem in plan.rejected:
            self._row(self.rejected_list, [str(problem.line), problem.text, problem.reason])
        self.tabs.addTab(self.added_list, f"Added ({len(plan.add)})")
        self.tabs.addTab(self.skipped_list, f"Skipped ({len(plan.skipped)})")
        self.tabs.addTab(self.rejected_list, f"Rejected ({len(plan.rejected)})")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

    @staticmethod
    def _list(headers: list[str]) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setRootIsDecorated(False)
        tree.setHeaderLabels(headers)
        tree.setAlternatingRowColors(True)
        tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        tree.setColumnWidth(1, 300)
        tree.setColumnWidth(2, 180)
        return tree

    @staticmethod
    def _row(tree: QTreeWidget, values: list[str]) -> None:
        item = QTreeWidgetItem(values)
        item.setToolTip(len(values) - 1, values[-1])
        tree.addTopLevelItem(item)


class QueueView(QWidget):
    add_requested = Signal()
    edit_requested = Signal(object)  # Book
    remove_requested = Signal(list)  # book ids
    import_requested = Signal(str)  # path of a CSV file
    search_requested = Signal(object)  # Book, or None for a free search
    history_requested = Signal(object)  # Book
    move_requested = Signal(list, int, list)  # book ids, -1 up / +1 down, visible ids
    prowlarr_requested = Signal(object)  # Book: send its release through Prowlarr
    copy_magnet_requested = Signal(object)  # Book
    doctor_requested = Signal()
    details_requested = Signal(object)  # Book: its details, or its metadata review

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        # The row order is the queue's priority: no sorting by column.
        self.table.setSortingEnabled(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setDragEnabled(True)
        self.table.setAcceptDrops(True)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.table.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.table.setDragDropOverwriteMode(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((260, 150, 130, 140, 40, STATE_WIDTH)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.progress_delegate = ImportProgressDelegate(self.table)
        self.table.setItemDelegateForColumn(STATE_COLUMN, self.progress_delegate)
        #: (width before, width given) while the column is widened for an import.
        self._state_widths: tuple[int, int] | None = None
        model.dataChanged.connect(self._fit_state_column)
        model.modelReset.connect(self._fit_state_column)
        self.table.doubleClicked.connect(self._open)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_menu)
        self.search = FilterEdit("Filter books…", self._filter, delay_ms=0)

        self.add_button = QPushButton("Add book…")
        self.add_button.clicked.connect(self.add_requested)
        self.import_button = QPushButton("Import CSV…")
        self.import_button.setToolTip(
            "Add the books of a Goodreads export (its to-read shelf) or of a CSV file with "
            "title and author columns"
        )
        self.import_button.clicked.connect(self.ask_import)
        self.search_button = QPushButton("Search…")
        self.search_button.setToolTip("Search the indexers for the selected book (or anything)")
        self.search_button.clicked.connect(self._search)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self._edit)
        self.up_button = QPushButton("Move up")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button = QPushButton("Move down")
        self.down_button.clicked.connect(lambda: self._move(1))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        for button in (
            self.add_button,
            self.import_button,
            self.search_button,
            self.edit_button,
            self.up_button,
            self.down_button,
            self.remove_button,
        ):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self._build_actions()
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.update_actions())
        self.update_actions()

    def _build_actions(self) -> None:
        self.search_action = QAction("Search now…", self)
        self.search_action.triggered.connect(self._search)
        self.history_action = QAction("Show history", self)
        self.history_action.triggered.connect(self._history)
        self.prowlarr_action = QAction("Send through Prowlarr", self)
        self.prowlarr_action.setToolTip("Let Prowlarr's own download client fetch the release")
        self.prowlarr_action.triggered.connect(self._send_via_prowlarr)
        self.magnet_action = QAction("Copy magnet link", self)
        self.magnet_action.triggered.connect(self._copy_magnet)
        self.doctor_action = QAction("Run the connection doctor", self)
        self.doctor_action.triggered.connect(self.doctor_requested)
        self.details_action = QAction("Details…", self)
        self.details_action.triggered.connect(self._details)
        self.open_action = QAction("Open", self)  # Enter: what a double-click does
        self.open_action.triggered.connect(lambda: self._open(self.table.currentIndex()))
        self.edit_action = QAction("Edit…", self)
        self.edit_action.triggered.connect(self._edit)
        self.remove_action = QAction("Remove", self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        # Delete is the window's Edit → Remove (gui.views.menus), which calls this action:
        # bound here as well, the key would be ambiguous to Qt, which then runs neither.

    # ---- what is selected -----------------------------------------------------------

    def selected_books(self) -> list[Book]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.book_at(row) for row in sorted(rows)]

    def visible_ids(self) -> list[int]:
        ids = []
        for row in range(self.proxy.rowCount()):
            book_id = self.proxy.index(row, 0).data(BOOK_ID_ROLE)
            if book_id is not None:
                ids.append(int(book_id))
        return ids

    def select_book(self, book_id: int) -> None:
        row = self.model.row_of(book_id)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    def update_actions(self) -> None:
        books = self.selected_books()
        one = len(books) == 1
        self.edit_button.setEnabled(one)
        self.remove_button.setEnabled(bool(books))
        self.up_button.setEnabled(bool(books))
        self.down_button.setEnabled(bool(books))
        self.search_button.setText("Search…" if books else "Search anything…")
        self.search_action.setEnabled(one)
        self.history_action.setEnabled(one)
        self.details_action.setEnabled(one)
        review = one and awaits_review(books[0])
        self.details_action.setText("Review metadata…" if review else "Details…")
        self.edit_action.setEnabled(one)
        self.remove_action.setEnabled(bool(books))
        refused = one and qbt_refused(books[0])
        reason = (books[0].reason or "") if one else ""
        grab_refused = refused and reason.startswith(REFUSAL_START)
        self.doctor_action.setVisible(refused)
        self.prowlarr_action.setVisible(grab_refused)
        self.prowlarr_action.setEnabled(grab_refused and "Prowlarr" in reason)
        self.magnet_action.setVisible(grab_refused)
        self.magnet_action.setEnabled(grab_refused and "magnet:" in reason)

    def context_menu(self) -> QMenu:
        """The menu for the current selection (also what tests inspect)."""
        self.update_actions()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        books = self.selected_books()
        menu.addAction(self.details_action)
        if len(books) == 1 and books[0].state in DETAIL_STATES:
            menu.setDefaultAction(self.details_action)  # what a double-click does
        menu.addSeparator()
        menu.addAction(self.search_action)
        menu.addAction(self.history_action)
        if len(books) == 1 and qbt_refused(books[0]):
            menu.addSeparator()
            section = menu.addAction("qBittorrent did not take it:")
            section.setEnabled(False)
            for action in (self.prowlarr_action, self.magnet_action, self.doctor_action):
                if action.isVisible():
                    menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.edit_action)
        if len(books) == 1 and books[0].state not in DETAIL_STATES:
            menu.setDefaultAction(self.edit_action)
        menu.addAction(self.remove_action)
        return menu

    def _show_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        if not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.table.selectRow(index.row())
        self.context_menu().popup(self.table.viewport().mapToGlobal(pos))

    # ---- intents ----------------------------------------------------------------------

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        # Dropping between filtered rows would land between hidden ones: only unfiltered.
        self.table.setDragEnabled(not text)

    def _send_via_prowlarr(self) -> None:
        books = self.selected_books()
        if len(books) == 1:
            self.prowlarr_requested.emit(books[0])

    def _copy_magnet(self) -> None:
        books = self.selected_books()
        if len(books) == 1:
            self.copy_magnet_requested.emit(books[0])

    def _edit(self) -> None:
        books = self.selected_books()
        if books:
            self.edit_requested.emit(books[0])

    def _details(self) -> None:
        books = self.selected_books()
        if books:
            self.details_requested.emit(books[0])

    def _open(self, index: QModelIndex) -> None:
        """Double-click: the details of a book past its download, the editor otherwise."""
        if not index.isValid():
            return
        book = self.model.book_at(self.proxy.mapToSource(index).row())
        if book.state in DETAIL_STATES:
            self.details_requested.emit(book)
        else:
            self.edit_requested.emit(book)

    def _fit_state_column(self, *_: object) -> None:
        """Widen the State column while an import's progress does not fit; give the
        width back when no import runs (unless the user resized the column meanwhile)."""
        header = self.table.horizontalHeader()
        current = header.sectionSize(STATE_COLUMN)
        running = self.model.running_imports()
        if not running:
            if self._state_widths is not None:
                before, widened = self._state_widths
                if current == widened:
                    header.resizeSection(STATE_COLUMN, before)
                self._state_widths = None
            return
        metrics = self.table.fontMetrics()
        needed = 16 + max(
            metrics.horizontalAdvance(import_progress_text(done, total))
            for done, total in running.values()
        )
        if needed > current:
            before = current if self._state_widths is None else self._state_widths[0]
            self._state_widths = (before, needed)
            header.resizeSection(STATE_COLUMN, needed)

    def _search(self) -> None:
        books = self.selected_books()
        self.search_requested.emit(books[0] if books else None)

    def _history(self) -> None:
        books = self.selected_books()
        if books:
            self.history_requested.emit(books[0])

    def _move(self, step: int) -> None:
        ids = [book.id for book in self.selected_books() if book.id is not None]
        if ids:
            self.move_requested.emit(ids, step, self.visible_ids())

    def remove_selected(self) -> None:
        ids = [book.id for book in self.selected_books() if book.id is not None]
        if ids:
            self.remove_requested.emit(ids)

    def ask_import(self) -> QFileDialog:
        """A non-modal file chooser; the chosen file is forwarded as `import_requested`."""
        dialog = QFileDialog(self, "Import wanted books from a CSV file")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["CSV files (*.csv *.txt)", "All files (*)"])
        dialog.fileSelected.connect(self.import_requested)
        dialog.open()
        return dialog

    def show_import_report(self, file_name: str, plan: ImportPlan) -> ImportReportDialog:
        dialog = ImportReportDialog(file_name, plan, self)
        dialog.show()
        return dialog


__all__ = ["COLUMNS", "BookDialog", "ImportReportDialog", "QueueView"]
