"""The Following page: follow an author or a series, see its books, want the picked ones.

Displays `gui.models.following.FollowingModel` and forwards intent (follow, check, want);
the rules (new releases only, never the back catalogue unasked) are the service's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.models.following import FollowingModel
from gui.services.following import Follow

__all__ = ["BOOK_COLUMNS", "FollowingView"]

BOOK_COLUMNS = ("Title", "#", "Released", "Status", "ASIN")
STATUS_WORDS = {
    "owned": "In your library",
    "wanted": "On the queue",
    "added": "Added (new release)",
    "new": "New since last look",
    "older": "—",
}
Spawn = Callable[[Coroutine[Any, Any, Any]], Any]


class FollowingView(QWidget):
    def __init__(
        self,
        model: FollowingModel,
        spawn: Spawn = asyncio.ensure_future,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.spawn = spawn

        self.name = QLineEdit()
        self.name.setPlaceholderText("Author, or series name")
        self.series = QCheckBox("Series")
        self.author = QLineEdit()
        self.author.setPlaceholderText("Series' author (optional)")
        self.new_only = QCheckBox("Add new releases by themselves")
        self.new_only.setChecked(True)
        self.new_only.setToolTip(
            "Books released from today on join the wanted queue. Older books are only "
            "listed: pick the ones you want."
        )
        self.follow_button = QPushButton("Follow")
        form = QHBoxLayout()
        for widget in (self.name, self.series, self.author, self.new_only, self.follow_button):
            form.addWidget(widget)

        self.follows = QListWidget()
        self.books = QTableWidget(0, len(BOOK_COLUMNS))
        self.books.setHorizontalHeaderLabels(BOOK_COLUMNS)
        self.books.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.books.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.check_button = QPushButton("Check now")
        self.want_button = QPushButton("Want the ticked books")
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.want_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.books, 1)
        right_layout.addLayout(buttons)
        split = QSplitter()
        split.addWidget(self.follows)
        split.addWidget(right)
        split.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(split, 1)

        self.follow_button.clicked.connect(self._follow)
        self.name.returnPressed.connect(self._follow)
        self.check_button.clicked.connect(self._check)
        self.want_button.clicked.connect(self._want)
        self.follows.currentRowChanged.connect(lambda _: self._show_books())
        model.changed.connect(self._show_follows)
        model.failed.connect(self.message.setText)
        model.reload()

    # ---- display --------------------------------------------------------------------

    def current(self) -> Follow | None:
        row = self.follows.currentRow()
        return self.model.follows[row] if 0 <= row < len(self.model.follows) else None

    def _show_follows(self) -> None:
        chosen = self.current()
        self.follows.blockSignals(True)
        self.follows.clear()
        for follow in self.model.follows:
            item = QListWidgetItem(follow.label + ("" if follow.new_only else " (list only)"))
            if follow.last_error:
                item.setToolTip(f"last check failed: {follow.last_error}")
            self.follows.addItem(item)
        keys = [self.model.key(f) for f in self.model.follows]
        wanted = self.model.key(chosen) if chosen is not None else None
        self.follows.setCurrentRow(keys.index(wanted) if wanted in keys else len(keys) - 1)
        self.follows.blockSignals(False)
        self._show_books()

    def _show_books(self) -> None:
        follow = self.current()
        report = self.model.report_for(follow) if follow is not None else None
        listed = report.listed if report is not None else ()
        self.books.setRowCount(len(listed))
        for row, item in enumerate(listed):
            meta = item.entry.meta
            cells = (meta.title, meta.position, item.entry.released,
                     STATUS_WORDS[item.status], meta.asin)  # fmt: skip
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column == 0:
                    if item.status in ("new", "older"):
                        cell.setFlags(cell.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                        cell.setCheckState(Qt.CheckState.Unchecked)
                    cell.setData(Qt.ItemDataRole.UserRole, meta.asin)
                self.books.setItem(row, column, cell)
        if follow is not None and report is None:
            self.message.setText(f"{follow.label}: press “Check now” to list its books")

    def ticked(self) -> list[str]:
        out = []
        for row in range(self.books.rowCount()):
            cell = self.books.item(row, 0)
            if cell is not None and cell.checkState() == Qt.CheckState.Checked:
                out.append(str(cell.data(Qt.ItemDataRole.UserRole)))
        return out

    # ---- intent ---------------------------------------------------------------------

    def _follow(self) -> None:
        self.message.setText("")
        self.spawn(
            self.model.follow(
                self.name.text(),
                series=self.series.isChecked(),
                author=self.author.text(),
                new_only=self.new_only.isChecked(),
            )
        )
        self.name.clear()

    def _check(self) -> None:
        follow = self.current()
        if follow is not None:
            self.spawn(self.model.check(follow))

    def _want(self) -> None:
        follow, asins = self.current(), self.ticked()
        if follow is None or not asins:
            self.message.setText("Tick the books to want first.")
            return

        async def want() -> None:
            count = await self.model.pick(follow, asins)
            self.message.setText(f"{count} book(s) added to the wanted queue.")

        self.spawn(want())
