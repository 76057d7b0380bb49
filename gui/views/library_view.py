"""The Library tab: the books Audiobookshelf has (as indexed locally), with covers and
how complete their metadata is, so the user sees which books a match would improve.

The view only shows and forwards: refreshing the index, opening a book's details and the
matching itself are the controller's (`refresh_requested`, `details_requested`).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.models.library import (
    COLUMNS,
    LOW_SCORE,
    THUMB_SIZE,
    Column,
    LibraryFilterProxy,
    LibraryModel,
)
from gui.models.palette import BAD
from gui.models.themed import muted_style, status_text
from gui.views.downloads_view import FilterEdit

EMPTY_TEXT = "No books indexed yet. Set Audiobookshelf in Settings, then Refresh."
ROW_PADDING = 8
#: Initial widths; the folder column takes what is left.
COLUMN_WIDTHS = {
    Column.COVER: THUMB_SIZE + 14,
    Column.TITLE: 250,
    Column.AUTHOR: 160,
    Column.SERIES: 170,
    Column.NARRATOR: 160,
    Column.COMPLETENESS: 105,
    Column.DURATION: 75,
}


class _MiddleElided(QStyledItemDelegate):
    """Folder paths differ at their end: "/audiobooks/…/Dune" beats "/audiobooks/Fra…"."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


def summary_text(model: LibraryModel, shown: int) -> str:
    """ "128 books · average completeness 81% · 12 below 60%" (and how many are shown)."""
    count = model.count
    if count == 0:
        return ""
    books = f"{count} book" if count == 1 else f"{count} books"
    if shown != count:
        books = f"{shown} of {books} shown"
    return (
        f"{books} · average completeness {round(model.average_score)}% · "
        f"{model.low_count} below {LOW_SCORE}%"
    )


class LibraryView(QWidget):
    refresh_requested = Signal()
    details_requested = Signal(str)  # Audiobookshelf item id

    def __init__(self, model: LibraryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = LibraryFilterProxy(self)
        self.proxy.setSourceModel(model)

        self.filter = FilterEdit(
            "Filter by title, author, series or narrator…", self._filter_changed, delay_ms=0
        )
        self.refresh_button = QPushButton("Refresh from Audiobookshelf")
        self.refresh_button.setToolTip("Read the Audiobookshelf library again")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.summary = QLabel()
        self.summary.setObjectName("library-summary")
        self.status = QLabel()
        self.status.setObjectName("library-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setStyleSheet(muted_style())
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.table = self._build_table()
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("library-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(muted_style() + "; font-size:11pt; padding:24px")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.refresh_button)
        info = QHBoxLayout()
        info.addWidget(self.summary)
        info.addStretch(1)
        info.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(info)
        layout.addWidget(self.stack, 1)

        self._build_actions()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.loaded):
            signal.connect(self._update_summary)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self._update_summary()
        self._update_actions()

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("library-table")
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        rows = table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(THUMB_SIZE + ROW_PADDING)
        header = table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setSectionResizeMode(Column.COVER, QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(True)
        self._folder_delegate = _MiddleElided(table)
        table.setItemDelegateForColumn(Column.FOLDER, self._folder_delegate)
        table.setSortingEnabled(True)
        table.sortByColumn(Column.AUTHOR, Qt.SortOrder.AscendingOrder)
        table.doubleClicked.connect(lambda _index: self._details())
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._show_menu)
        return table

    def _build_actions(self) -> None:
        self.details_action = QAction("Details…", self)
        self.details_action.setShortcuts(
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)]
        )
        self.details_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.details_action.triggered.connect(self._details)
        self.table.addAction(self.details_action)
        self.copy_path_action = QAction("Copy folder path", self)
        self.copy_path_action.triggered.connect(self._copy_path)

    # ---- what the controller tells -----------------------------------------------------

    def set_status(self, text: str, *, error: bool = False) -> None:
        """ "Indexed 128 items 2 min ago", or why the last refresh failed (in red)."""
        self.status.setText(text)
        self.status.setStyleSheet(f"color:{status_text(BAD).name()}" if error else muted_style())
        self.status.setToolTip(text if error else "")

    def set_refreshing(self, busy: bool) -> None:
        """While the index is read again, a second click would only queue another read."""
        self.refresh_button.setEnabled(not busy)
        self.refresh_button.setText("Refreshing…" if busy else "Refresh from Audiobookshelf")

    # ---- what is selected -------------------------------------------------------------

    def selected_item_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.proxy.item_id_at(rows[0].row()) or None

    def select_item(self, abs_item_id: str) -> None:
        row = self.model.row_of(abs_item_id)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row, Column.TITLE))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    def context_menu(self) -> QMenu:
        """The menu for the selected book (also what tests inspect)."""
        self._update_actions()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.details_action)
        menu.addAction(self.copy_path_action)
        return menu

    def _update_actions(self) -> None:
        item_id = self.selected_item_id()
        book = self.model.book(item_id) if item_id else None
        self.details_action.setEnabled(book is not None)
        self.copy_path_action.setEnabled(book is not None and bool(book.path))

    def _show_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        self.context_menu().popup(self.table.viewport().mapToGlobal(pos))

    # ---- intents ----------------------------------------------------------------------

    def _details(self) -> None:
        item_id = self.selected_item_id()
        if item_id:
            self.details_requested.emit(item_id)

    def _copy_path(self) -> None:
        item_id = self.selected_item_id()
        book = self.model.book(item_id) if item_id else None
        if book is not None and book.path:
            QGuiApplication.clipboard().setText(book.path)

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_summary()

    def _update_summary(self, *_: object) -> None:
        empty = self.model.count == 0
        self.stack.setCurrentWidget(self.empty if empty else self.table)
        self.filter.setEnabled(not empty)
        self.summary.setText(summary_text(self.model, self.proxy.rowCount()))
        self._update_actions()


__all__ = ["COLUMNS", "EMPTY_TEXT", "LibraryView", "summary_text"]
