"""Search the indexers for one book (or anything) and pick a release by hand.

Non-modal. The search itself is a coroutine handed in by the controller (indexers from
the settings, `search_all`, then `rank`), run as a task of the app's loop while the
dialog shows that it is busy; closing the dialog cancels it. Every release is listed,
rejected ones too (greyed, with the reason), because the user deciding by hand may want
exactly the one the policy turned down: "Grab" then says "Grab anyway". The selected
release's score is broken down into its reasons, the same sentences the workflow logs.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.core.formatting import counted, human_size
from gui.core.ranking import Ranked, Wanted
from gui.core.redact import REDACTOR
from gui.models.downloads import RAW_ROLE, RawSortProxy
from gui.models.palette import BAD, GOOD
from gui.models.table import ListTableModel
from gui.models.themed import on_base, on_window
from gui.store import Book

Index = QModelIndex | QPersistentModelIndex
Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]

COLUMNS = ("Score", "Title", "Size", "Seeders", "Indexer", "Format", "Age", "Rejected because")
SORT_ROLE = RAW_ROLE
"""Plain Python value to sort on (`RawSortProxy`: sizes past 2 GiB sort as numbers)."""
REJECTED_GREY = "#8a8a8a"


@dataclass
class SearchResults:
    """What one search found: ranked releases (best first) and the indexers that failed."""

    ranked: list[Ranked]
    failures: list[tuple[str, str]] = field(default_factory=list)  # (indexer, reason)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per indexer


SearchFunction = Callable[[Wanted], Awaitable[SearchResults]]


def points_text(points: float) -> str:
    """+40, -5, +3.9: whole points without decimals, others with one."""
    if abs(points - round(points)) < 0.05:
        return f"{round(points):+d}"
    return f"{points:+.1f}"


def age_text(published: datetime | None, now: datetime | None = None) -> str:
    if published is None:
        return ""
    days = _age_days(published, now)
    if days < 1:
        return "today"
    if days < 60:
        return f"{days:.0f} d"
    if days < 730:
        return f"{days / 30.44:.0f} mo"
    return f"{days / 365.25:.0f} y"


def _age_days(published: datetime | None, now: datetime | None = None) -> float:
    """Days since `published` (a time without a zone is UTC); infinity when unknown."""
    if published is None:
        return float("inf")
    moment = published if published.tzinfo is not None else published.replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - moment).total_seconds() / 86400


def _display(ranked: Ranked, column: int) -> str:
    """The text of one cell (only the column asked for is worked out)."""
    release = ranked.release
    if column == 0:
        return f"{ranked.score:.0f}"
    if column == 1:
        return release.title
    if column == 2:
        return human_size(release.size) if release.size > 0 else ""
    if column == 3:
        return str(release.seeders)
    if column == 4:
        return release.indexer
    if column == 5:
        return ranked.parsed.format or ""
    if column == 6:
        return age_text(release.publish_date)
    return ranked.rejected or ""


def _sort_value(ranked: Ranked, column: int) -> Any:
    """What one cell sorts on (see `gui.models.downloads.raw_less`)."""
    release = ranked.release
    if column == 0:
        return ranked.score
    if column == 1:
        return release.title.casefold()
    if column == 2:
        return release.size
    if column == 3:
        return release.seeders
    if column == 4:
        return release.indexer.casefold()
    if column == 5:
        return ranked.parsed.format or ""
    if column == 6:
        return _age_days(release.publish_date)
    return ranked.rejected or ""


class ReleasesModel(ListTableModel):
    """Ranked releases; the row order is the ranking until the user sorts a column."""

    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ranked: list[Ranked] = []

    def set_ranked(self, ranked: list[Ranked]) -> None:
        self.beginResetModel()  # a new search: every row is new
        self._ranked = list(ranked)
        self.endResetModel()

    def ranked_at(self, row: int) -> Ranked:
        return self._ranked[row]

    def rows(self) -> list[Any]:
        return self._ranked

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._ranked):
            return None
        ranked = self._ranked[index.row()]
        release = ranked.release
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(ranked, column)
        if role == SORT_ROLE:
            return _sort_value(ranked, column)
        if role == Qt.ItemDataRole.ForegroundRole and ranked.rejected:
            return QColor(REJECTED_GREY)
        if role == Qt.ItemDataRole.ToolTipRole:
            if ranked.rejected:
                return f"Rejected: {ranked.rejected}\n{release.title}"
            return release.title
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class SearchDialog(QDialog):
    grab_requested = Signal(object)  # Ranked
    copy_magnet_requested = Signal(object)  # Ranked

    def __init__(
        self,
        search: SearchFunction,
        *,
        book: Book | None = None,
        wanted: Wanted | None = None,
        spawn: Spawn | None = None,
        grab_problem: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.search_function = search
        self.book = book
        self.wanted = wanted or Wanted(title="", author="")
        self._spawn = spawn or asyncio.ensure_future
        self._task: asyncio.Future[Any] | None = None
        self._started = 0.0
        self.grab_problem = grab_problem  # why Grab cannot work now (qBittorrent away)
        self.grabbing = False
        title = f"Search — {book.title}" if book is not None else "Search the indexers"
        self.setWindowTitle(title)
        self.resize(1100, 640)

        self.title_edit = QLineEdit(self.wanted.title)
        self.title_edit.setPlaceholderText("Title (or any words)")
        self.author_edit = QLineEdit(self.wanted.author)
        self.author_edit.setPlaceholderText("Author (optional for a free search)")
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.start_search)
        self.title_edit.returnPressed.connect(self.start_search)
        self.author_edit.returnPressed.connect(self.start_search)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_search)
        self.cancel_button.setEnabled(False)
        query = QHBoxLayout()
        form = QFormLayout()
        form.addRow("Title:", self.title_edit)
        form.addRow("Author:", self.author_edit)
        query.addLayout(form, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.cancel_button)
        query.addLayout(buttons)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: search_all answers all at once
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel("")
        self.failures = QLabel("")
        self.failures.setWordWrap(True)
        self.failures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.failures.setStyleSheet(f"color:{on_window(BAD)}")
        self.failures.hide()
        self._tick = QTimer(self)
        self._tick.setInterval(250)
        self._tick.timeout.connect(self._show_elapsed)

        self.model = ReleasesModel(self)
        self.proxy = RawSortProxy(self)  # sorts on SORT_ROLE
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.DescendingOrder)  # the ranking's own order
        self.table.setSortingEnabled(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((55, 430, 80, 65, 170, 60, 55)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.table.doubleClicked.connect(lambda _index: self._grab())

        self.breakdown_title = QLabel("Select a release to see how its score was made.")
        self.breakdown_title.setWordWrap(True)
        self.breakdown_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.breakdown = QListWidget()
        self.breakdown.setAlternatingRowColors(True)
        fixed = QFont("monospace")
        fixed.setStyleHint(QFont.StyleHint.Monospace)
        self.breakdown.setFont(fixed)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.breakdown_title)
        detail_layout.addWidget(self.breakdown, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grab_button = QPushButton("Grab")
        self.grab_button.setToolTip("Send this release to qBittorrent for this book")
        self.grab_button.clicked.connect(self._grab)
        self.magnet_button = QPushButton("Copy magnet link")
        self.magnet_button.clicked.connect(self._copy_magnet)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.close)
        actions = QHBoxLayout()
        actions.addWidget(self.note, 1)
        actions.addWidget(self.magnet_button)
        actions.addWidget(self.grab_button)
        actions.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(query)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.failures)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        self.finished.connect(lambda _result: self.cancel_search())
        self._update_buttons()

    # ---- searching ----------------------------------------------------------------------

    @property
    def searching(self) -> bool:
        return self._task is not None and not self._task.done()

    def current_wanted(self) -> Wanted:
        """The book searched for: the wanted book's details with the edited title/author."""
        return replace(
            self.wanted,
            title=self.title_edit.text().strip(),
            author=self.author_edit.text().strip(),
        )

    def start_search(self) -> None:
        wanted = self.current_wanted()
        if not wanted.title:
            self.status.setText("Type a title or some words to search for.")
            return
        self.cancel_search()
        self._started = time.monotonic()
        self.status.setText("Searching…")
        self.failures.hide()
        self.progress.show()
        self._tick.start()
        self.search_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._task = self._spawn(self._run(wanted))

    def cancel_search(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            self.status.setText("Search cancelled.")
        self._search_ended()

    async def _run(self, wanted: Wanted) -> None:
        try:
            results = await self.search_function(wanted)
        except asyncio.CancelledError:
            raise  # the dialog may be gone: touch no widget
        except Exception as exc:  # shown in the dialog: the user asked for this search
            self._search_ended()
            self.status.setText(f"<span style='color:{on_window(BAD)}'>Search failed: "
                                f"{html.escape(str(exc))}</span>")  # fmt: skip
            return
        self._search_ended()
        self.show_results(results, time.monotonic() - self._started)

    def _search_ended(self) -> None:
        self._tick.stop()
        self.progress.hide()
        self.search_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _show_elapsed(self) -> None:
        self.status.setText(f"Searching… {time.monotonic() - self._started:.0f} s")

    def show_results(self, results: SearchResults, seconds: float = 0.0) -> None:
        self.model.set_ranked(results.ranked)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.DescendingOrder)
        self.proxy.sort(-1)
        accepted = sum(1 for r in results.ranked if r.accepted)
        rejected = len(results.ranked) - accepted
        answered = len(results.timings) - len(results.failures)
        releases = counted(len(results.ranked), "release")
        words = [f"{releases} ({accepted} acceptable, {rejected} rejected)"]
        if results.timings:
            words.append(f"from {max(answered, 0)} of {counted(len(results.timings), 'indexer')}")
        words.append("in under 0.1 s" if seconds < 0.1 else f"in {seconds:.1f} s")
        self.status.setText(" ".join(words) + ".")
        self.status.setToolTip(
            "\n".join(f"{name}: {took:.1f} s" for name, took in sorted(results.timings.items()))
        )
        if results.failures:
            lines = [
                f"<b>{html.escape(name)}</b> failed: {html.escape(REDACTOR.text(reason))}"
                for name, reason in results.failures
            ]
            self.failures.setText("<br>".join(lines))
            self.failures.show()
        else:
            self.failures.hide()
        if results.ranked:
            self.table.selectRow(0)
        else:
            self._selected()

    # ---- the selected release ---------------------------------------------------------

    def selected_ranked(self) -> Ranked | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.ranked_at(self.proxy.mapToSource(rows[0]).row())

    def select_title(self, title: str) -> bool:
        """Select the release with this title (what a user's click does); True if found."""
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 1).data() == title:
                self.table.selectRow(row)
                return True
        return False

    def breakdown_lines(self) -> list[str]:
        return [self.breakdown.item(i).text() for i in range(self.breakdown.count())]

    def _selected(self) -> None:
        ranked = self.selected_ranked()
        self.breakdown.clear()
        if ranked is None:
            self.breakdown_title.setText("Select a release to see how its score was made.")
            self._update_buttons()
            return
        verdict = (
            f"<span style='color:{on_window(BAD)}'>rejected: {html.escape(ranked.rejected)}</span>"
            if ranked.rejected
            else f"<span style='color:{on_window(GOOD)}'>acceptable</span>"
        )
        self.breakdown_title.setText(
            f"<b>{html.escape(ranked.release.title)}</b><br>Score {ranked.score:.1f} — {verdict}"
        )
        for reason in ranked.reasons:
            item = QListWidgetItem(f"{points_text(reason.points):>5}  {reason.text}")
            if reason.points < 0:
                item.setForeground(on_base(BAD))
            elif reason.points > 0:
                item.setForeground(on_base(GOOD))
            self.breakdown.addItem(item)
        if ranked.rejected:
            item = QListWidgetItem(f"{'✗':>5}  rejected: {ranked.rejected}")
            item.setForeground(on_base(BAD))
            self.breakdown.addItem(item)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ranked = self.selected_ranked()
        release = ranked.release if ranked is not None else None
        can_grab = ranked is not None and self.grab_problem is None and not self.grabbing
        self.grab_button.setEnabled(can_grab)
        self.grab_button.setText("Grab anyway" if ranked and ranked.rejected else "Grab")
        self.grab_button.setToolTip(
            self.grab_problem or "Send this release to qBittorrent for this book"
        )
        self.magnet_button.setEnabled(
            release is not None
            and bool(release.magnet or release.info_hash or release.download_url)
        )

    # ---- intents and their outcome ------------------------------------------------------

    def _grab(self) -> None:
        ranked = self.selected_ranked()
        if ranked is None or self.grab_problem is not None or self.grabbing:
            return
        self.grabbing = True
        self.show_note(f"Sending '{ranked.release.title}' to qBittorrent…")
        self._update_buttons()
        self.grab_requested.emit(ranked)

    def grab_finished(self, ok: bool, message: str) -> None:
        self.grabbing = False
        self.show_note(message, "success" if ok else "error")
        self._update_buttons()

    def _copy_magnet(self) -> None:
        ranked = self.selected_ranked()
        if ranked is not None:
            self.copy_magnet_requested.emit(ranked)

    def show_note(self, text: str, level: str = "info") -> None:
        colour = {"success": GOOD, "error": BAD}.get(level)
        escaped = html.escape(REDACTOR.text(text))
        self.note.setText(
            f"<span style='color:{on_window(colour)}'>{escaped}</span>" if colour else escaped
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel_search()
        super().closeEvent(event)


__all__ = [
    "COLUMNS",
    "ReleasesModel",
    "SearchDialog",
    "SearchFunction",
    "SearchResults",
    "age_text",
    "points_text",
]
