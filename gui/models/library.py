"""The Audiobookshelf library as indexed locally (the store's `owned` table), one row a book.

The window refreshes this model periodically, so `reload` merges rather than resets:
removed books become row removals, new ones insertions and changed ones `dataChanged`,
and the view keeps its selection, sort and scroll position. Rows are compared on what
ABS said (`OWNED_COLUMNS`), not on the row id or refresh time, which every refresh of the
index rewrites. Everything a paint needs (texts, sort keys, the completeness score) is
computed once per changed book, off the GUI thread: a library of 10,000 books takes a
third of a second to score.

Covers stay on the server. A cover is asked for only when its cell is painted, through the
injected `cover_loader`, with a few requests at a time (the newest wish first, so a fast
scroll does not wait behind rows already gone by), and kept as a small pixmap in an LRU.
A failed or missing cover is remembered: a paint never asks again, only
`invalidate_cover` or `forget_failed_covers` (the controller's "try again") do.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen, QPixmap

from gui.core.metadata import WEIGHTS, BookMetadata, Score, completeness
from gui.models.downloads import RAW_ROLE, RawSortProxy
from gui.models.palette import BAD, BAD_TINT, GOOD, GOOD_TINT, WARN, WARN_TINT
from gui.models.table import ListTableModel
from gui.models.themed import status_text
from gui.services.library import metadata_from_owned, owned_score
from gui.store import OWNED_COLUMNS, OwnedBook, Store

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex
Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]
CoverLoader = Callable[[str], Awaitable[bytes | None]]


#: More changed rows than this are announced as one span (a full refresh after a library
#: scan): hundreds of single-row signals through the sorting proxy stall the window.
SPAN_CHANGES = 32


class Column(IntEnum):
    COVER = 0
    TITLE = 1
    AUTHOR = 2
    SERIES = 3
    NARRATOR = 4
    COMPLETENESS = 5
    DURATION = 6
    FOLDER = 7


COLUMNS = ("Cover", "Title", "Author", "Series", "Narrator", "Completeness", "Duration", "Folder")
SORT_ROLE = RAW_ROLE
"""Plain Python value to sort on (see `gui.models.downloads.raw_less`)."""

#: Thumbnails fit in a square of this side (logical pixels); rows are a little taller.
THUMB_SIZE = 48
#: The width to ask Audiobookshelf for (`/cover?width=`): sharp on a 2x screen.
COVER_REQUEST_WIDTH = 2 * THUMB_SIZE
MAX_COVER_REQUESTS = 4
COVER_CACHE_SIZE = 300
#: Wishes beyond this many are forgotten, oldest first (rows scrolled past long ago);
#: a forgotten row that is painted again simply wishes again.
COVER_QUEUE_LIMIT = 120

#: Completeness bands: below LOW is red, below GOOD amber, the rest green.
LOW_SCORE = 60
GOOD_SCORE = 85
LOW_COLOUR = BAD
MEDIUM_COLOUR = WARN
GOOD_COLOUR = GOOD

SEPARATOR = "; "

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_CENTER = Qt.AlignmentFlag.AlignCenter


def score_band(percent: int) -> tuple[str, str]:
    """(text colour, bar tint) of a completeness score: red, amber or green."""
    if percent < LOW_SCORE:
        return LOW_COLOUR, BAD_TINT
    if percent < GOOD_SCORE:
        return MEDIUM_COLOUR, WARN_TINT
    return GOOD_COLOUR, GOOD_TINT


def hours_minutes(seconds: float) -> str:
    """A book's length as "h:mm" ("" when unknown): minutes are precise enough for a list."""
    if seconds <= 0:
        return ""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def people(joined: str) -> str:
    """ "A; B" as stored, "A, B" as read."""
    return ", ".join(name.strip() for name in joined.split(SEPARATOR) if name.strip())


def series_text(book: OwnedBook) -> str:
    if not book.series:
        return ""
    return f"{book.series} #{book.sequence}" if book.sequence else book.series


def missing_text(score: Score) -> str:
    if not score.missing:
        return "Nothing missing"
    return "Missing: " + ", ".join(score.missing)


@dataclass(frozen=True, slots=True)
class Gain:
    """A missing scored field and what filling it would add to the book's percentage."""

    label: str
    weight: int  # its weight out of 100 (`gui.core.metadata.WEIGHTS`)
    points: int  # percentage points the score would rise by


def _filled(meta: BookMetadata, name: str) -> BookMetadata | None:
    """`meta` with a stand-in value for the scored field `name` (None: not a field)."""
    if name == "identifier":
        return replace(meta, asin="B000000000")
    if name not in BookMetadata.__dataclass_fields__:
        return None
    value = getattr(meta, name)
    stand_in: Any = 2000 if name == "year" else 1.0
    if isinstance(value, tuple):
        stand_in = ("?",)
    elif isinstance(value, str):
        stand_in = "?"
    changes: dict[str, Any] = {name: stand_in}
    return replace(meta, **changes)


def book_score(book: OwnedBook) -> Score:
    """The completeness Audiobookshelf's copy earns (for views, which stay off services)."""
    return owned_score(book)


def missing_gains(book: OwnedBook) -> list[Gain]:
    """Each missing scored field with its worth, most valuable first.

    Worked out by filling the field in and scoring again, so the rules of `completeness`
    (a series position counts only once there is a series) need no copy here."""
    meta = metadata_from_owned(book)
    score = completeness(meta, cover=book.has_cover)
    gains = []
    for name, weight in WEIGHTS.items():
        if name == "cover":
            after = completeness(meta, cover=True)
        else:
            filled = _filled(meta, name)
            if filled is None:
                continue
            after = completeness(filled, cover=book.has_cover)
        labels = [label for label in score.missing if label not in after.missing]
        if labels:
            gains.append(Gain(labels[0], weight, after.percent - score.percent))
    gains.sort(key=lambda gain: -gain.points)
    return gains


def content_key(book: OwnedBook) -> tuple[Any, ...]:
    """What Audiobookshelf said about the book: equal keys, nothing to repaint."""
    return tuple(getattr(book, name) for name in OWNED_COLUMNS)


@dataclass(frozen=True, slots=True)
class LibraryRow:
    """One book with everything a paint, a sort or a filter needs, computed once."""

    book: OwnedBook
    key: tuple[Any, ...]
    score: Score
    texts: tuple[str, ...]
    sort_keys: tuple[Any, ...]
    haystack: str  # casefolded title, subtitle, authors, series and narrators

    @property
    def item_id(self) -> str:
        return self.book.abs_item_id


def make_row(book: OwnedBook) -> LibraryRow:
    """No Qt in here: rows are made on a worker thread."""
    score = owned_score(book)
    authors = people(book.authors)
    narrators = people(book.narrators)
    series = series_text(book)
    texts = (
        "",
        book.title,
        authors,
        series,
        narrators,
        f"{score.percent}%",
        hours_minutes(book.duration),
        book.path,
    )
    title = book.title.casefold()
    sort_keys = (
        int(book.has_cover),
        (title, authors.casefold()),
        (authors.casefold(), book.series.casefold(), _position(book.sequence), title),
        (book.series.casefold(), _position(book.sequence), title),
        (narrators.casefold(), title),
        score.percent,
        book.duration,
        book.path.casefold(),
    )
    haystack = "\n".join((book.title, book.subtitle, authors, series, narrators)).casefold()
    return LibraryRow(book, content_key(book), score, texts, sort_keys, haystack)


def _position(sequence: str) -> tuple[float, str]:
    """Series positions in number order ("2" before "10"), text ones ("1-3") after."""
    try:
        return float(sequence), sequence
    except ValueError:
        return float("inf"), sequence


def make_rows(books: Sequence[OwnedBook], known: dict[str, LibraryRow]) -> list[LibraryRow]:
    """Rows for `books`, reusing the known row of every book that did not change."""
    rows = []
    for book in books:
        old = known.get(book.abs_item_id)
        if old is not None and old.key == content_key(book):
            rows.append(old if old.book == book else _with_book(old, book))
        else:
            rows.append(make_row(book))
    return rows


@dataclass
class ReloadPlan:
    """What a reload changes, worked out off the GUI thread against `base` (the rows then).

    Applying it costs the GUI thread only the changes: a reload of 10,000 books with
    nothing changed does nothing there, one with 5 % changed 500 assignments and a few
    signals (the sort is done here too).
    """

    rows: list[LibraryRow]  # the fresh rows, store order (the synchronous `apply`'s input)
    average: float
    low: int
    removed: list[tuple[int, int]]  # runs of `base` rows to remove, bottom first
    kept: list[LibraryRow]  # `base` less the removed rows, changed ones replaced
    changed: list[int]  # rows of `kept` whose content changed
    added: list[LibraryRow]
    ordered: list[LibraryRow] | None  # the rows in the view's sort, when a sort is due
    row_of: dict[str, int]  # item id -> row, in the final list


def plan_reload(
    base: Sequence[LibraryRow],
    books: Sequence[OwnedBook],
    sort: tuple[int, bool] | None,
) -> ReloadPlan:
    """No Qt in here: runs on a worker thread. `sort` is (column, descending) or None."""
    known = {row.item_id: row for row in base}
    rows = make_rows(books, known)
    scores = [row.score.percent for row in rows]
    average = sum(scores) / len(scores) if scores else 0.0
    low = sum(1 for score in scores if score < LOW_SCORE)
    fresh = {row.item_id: row for row in rows}
    removed: list[tuple[int, int]] = []
    number = len(base) - 1
    while number >= 0:
        if base[number].item_id in fresh:
            number -= 1
            continue
        last = number
        while number > 0 and base[number - 1].item_id not in fresh:
            number -= 1
        removed.append((number, last))
        number -= 1
    kept: list[LibraryRow] = []
    changed: list[int] = []
    for old in base:
        new = fresh.get(old.item_id)
        if new is None:
            continue
        if new is not old and new.key != old.key:
            changed.append(len(kept))
        kept.append(new)
    present = {row.item_id for row in base}
    added = [row for row in rows if row.item_id not in present]
    final = kept + added
    ordered = None
    if sort is not None and (changed or added or not base):
        column, descending = sort
        ordered = sorted(final, key=lambda row: row.sort_keys[column], reverse=descending)
        final = ordered
    row_of = {row.item_id: n for n, row in enumerate(final)}
    return ReloadPlan(rows, average, low, removed, kept, changed, added, ordered, row_of)


def _with_book(row: LibraryRow, book: OwnedBook) -> LibraryRow:
    """Same content, fresh row id and refresh time (every index refresh rewrites them)."""
    return LibraryRow(book, row.key, row.score, row.texts, row.sort_keys, row.haystack)


def _pixel_ratio() -> float:
    app = QGuiApplication.instance()
    return app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0


def _placeholder(text: str, dashed: bool) -> QPixmap:
    """A grey square standing in for a cover that is loading or does not exist."""
    ratio = _pixel_ratio()
    side = round(THUMB_SIZE * ratio)
    pixmap = QPixmap(side, side)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor("#b0bec5"))
    pen.setWidthF(1.0)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(QColor("#f5f7f8" if dashed else "#eceff1"))
    painter.drawRoundedRect(2, 2, THUMB_SIZE - 4, THUMB_SIZE - 4, 4, 4)
    font = QFont(painter.font())
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.7))
    painter.setFont(font)
    painter.setPen(QColor("#78909c"))
    painter.drawText(QRect(0, 0, THUMB_SIZE, THUMB_SIZE), _CENTER, text)
    painter.end()
    return pixmap


def thumbnail(
    data: bytes | QImage, side: int = THUMB_SIZE, *, ratio: float | None = None
) -> QPixmap | None:
    """The image scaled to fit a square of `side` logical pixels, sharp at the pixel ratio
    (the screen's, unless given); None when it is not an image. `data` may be an image
    decoded already (by a caller that wants its size too)."""
    image = data if isinstance(data, QImage) else QImage.fromData(data)
    if image.isNull():
        return None
    ratio = ratio or _pixel_ratio()
    pixels = round(side * ratio)
    scaled = image.scaled(
        pixels,
        pixels,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    pixmap = QPixmap.fromImage(scaled)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


class LibraryModel(ListTableModel):
    columns = COLUMNS

    #: A reload finished (the summary figures may have changed).
    loaded = Signal()

    def __init__(
        self,
        store: Store,
        parent: QObject | None = None,
        *,
        spawn: Spawn | None = None,
        cover_loader: CoverLoader | None = None,
        max_cover_requests: int = MAX_COVER_REQUESTS,
        cover_cache_size: int = COVER_CACHE_SIZE,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.cover_loader = cover_loader
        self.max_cover_requests = max_cover_requests
        self.cover_cache_size = cover_cache_size
        self._spawn = spawn or asyncio.ensure_future
        self._rows: list[LibraryRow] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None  # (column, order) of the view
        self._row_of: dict[str, int] = {}
        self._generation = 0
        self._version = 0  # bumped at every change of the rows or their order
        self._average = 0.0
        self._low = 0
        # covers
        self._covers: OrderedDict[str, QPixmap] = OrderedDict()  # LRU, newest last
        self._failed: set[str] = set()  # no cover, or it could not be had
        self._wanted: OrderedDict[str, None] = OrderedDict()  # queue, newest last
        self._in_flight: dict[str, int] = {}  # item id -> cover epoch of the request
        self._epochs: dict[str, int] = {}  # bumped when a book's cover may have changed
        self._tasks: set[asyncio.Future[Any]] = set()
        self._loading_icon: QPixmap | None = None
        self._missing_icon: QPixmap | None = None

    # ---- Qt's model interface -------------------------------------------------------

    def rows(self) -> list[LibraryRow]:
        return self._rows

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        row_number = index.row()
        if not index.isValid() or row_number >= len(self._rows):
            return None
        row = self._rows[row_number]
        column = index.column()
        if role == _DISPLAY:
            return row.texts[column] or None
        if role == SORT_ROLE:
            return row.sort_keys[column]
        if column == Column.COVER:
            if role == _DECORATION:
                return self._cover(row.book)
            if role == _ALIGNMENT:
                return _CENTER
            if role == _TOOLTIP:
                if not row.book.has_cover:
                    return "Audiobookshelf has no cover for this book"
                if row.item_id in self._failed:
                    return "The cover could not be loaded from Audiobookshelf"
            return None
        if column == Column.COMPLETENESS:
            if role == _FOREGROUND:
                return status_text(score_band(row.score.percent)[0])
            if role == _TOOLTIP:
                return missing_text(row.score)
            if role == _ALIGNMENT:
                return _CENTER
            return None
        if role == _TOOLTIP:
            return self._tooltip(row, column)
        if role == _ALIGNMENT and column == Column.DURATION:
            return _CENTER
        return None

    def _tooltip(self, row: LibraryRow, column: int) -> str | None:
        book = row.book
        if column == Column.TITLE:
            return f"{book.title}: {book.subtitle}" if book.subtitle else book.title or None
        return row.texts[column] or None

    # ---- reading ----------------------------------------------------------------------

    def row_book(self, row: int) -> OwnedBook:
        return self._rows[row].book

    def row_haystack(self, row: int) -> str:
        return self._rows[row].haystack

    def row_of(self, abs_item_id: str) -> int:
        return self._row_of.get(abs_item_id, -1)

    def book(self, abs_item_id: str) -> OwnedBook | None:
        row = self.row_of(abs_item_id)
        return self._rows[row].book if row >= 0 else None

    @property
    def count(self) -> int:
        return len(self._rows)

    @property
    def average_score(self) -> float:
        """The mean completeness in percent (0 for an empty library)."""
        return self._average

    @property
    def low_count(self) -> int:
        """How many books score below `LOW_SCORE`."""
        return self._low

    async def reload(self) -> None:
        """Read the index again and apply only what changed (see the module doc)."""
        self._generation += 1
        generation = self._generation
        books = await self.store.run(self.store.owned)
        version = self._version
        sort = None
        if self._sort is not None:
            sort = (self._sort[0], self._sort[1] == Qt.SortOrder.DescendingOrder)
        plan = await asyncio.to_thread(plan_reload, list(self._rows), books, sort)
        if generation != self._generation:
            return  # a newer reload is on its way: it has fresher rows
        if version == self._version:
            self.apply_plan(plan)
        else:  # the rows moved meanwhile (the user sorted): merge on this thread
            self.apply(plan.rows)
        self.loaded.emit()

    def apply_plan(self, plan: ReloadPlan) -> None:
        """Apply a plan made against the current rows (see `plan_reload`)."""
        self._version += 1
        self._average, self._low = plan.average, plan.low
        if not self._rows:
            self.beginResetModel()
            self._rows = plan.ordered if plan.ordered is not None else plan.kept + plan.added
            self._row_of = plan.row_of
            self.endResetModel()
            return
        for first, last in plan.removed:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        self._rows[:] = plan.kept
        changed = plan.changed
        for number in changed:
            self.invalidate_cover(self._rows[number].item_id, repaint=False)
        last_column = len(COLUMNS) - 1
        if len(changed) > SPAN_CHANGES:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), last_column)
            )
        else:
            for number in changed:
                self.dataChanged.emit(self.index(number, 0), self.index(number, last_column))
        if plan.added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(plan.added) - 1)
            self._rows.extend(plan.added)
            self.endInsertRows()
        if plan.ordered is not None:
            self.layoutAboutToBeChanged.emit()
            old = self._rows
            persistent = self.persistentIndexList()
            self.changePersistentIndexList(
                persistent,
                [
                    self.index(plan.row_of[old[index.row()].item_id], index.column())
                    if 0 <= index.row() < len(old)
                    else QModelIndex()
                    for index in persistent
                ],
            )
            self._rows = plan.ordered
            self._row_of = plan.row_of
            self.layoutChanged.emit()
        self._row_of = plan.row_of

    def apply(self, rows: list[LibraryRow]) -> None:
        self._version += 1
        self._summarise(rows)  # first: the view reads the figures on every row signal
        if not self._rows:
            self.beginResetModel()
            self._rows = list(rows)
            if self._sort is not None:
                column, order = self._sort
                self._rows.sort(
                    key=lambda row: row.sort_keys[column],
                    reverse=order == Qt.SortOrder.DescendingOrder,
                )
            self._reindex()
            self.endResetModel()
            return
        fresh = {row.item_id: row for row in rows}
        # removals, one contiguous block at a time, from the bottom
        row = len(self._rows) - 1
        while row >= 0:
            if self._rows[row].item_id in fresh:
                row -= 1
                continue
            last = row
            while row > 0 and self._rows[row - 1].item_id not in fresh:
                row -= 1
            self.beginRemoveRows(QModelIndex(), row, last)
            del self._rows[row : last + 1]
            self.endRemoveRows()
            row -= 1
        self._reindex()
        # changes in place
        changed = []
        for number, old in enumerate(self._rows):
            new = fresh[old.item_id]
            if new is not old:
                self._rows[number] = new
                if new.key != old.key:
                    changed.append(number)
                    # most often a match, which may well have brought a new cover
                    self.invalidate_cover(new.item_id, repaint=False)
        last_column = len(COLUMNS) - 1
        if len(changed) > SPAN_CHANGES:  # one signal: the sorting proxy pays per signal
            first, last = min(changed), max(changed)
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        else:
            for number in changed:
                self.dataChanged.emit(self.index(number, 0), self.index(number, last_column))
        # additions, at the end (the view sorts)
        new_rows = [row for row in rows if row.item_id not in self._row_of]
        if new_rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new_rows) - 1)
            self._rows.extend(new_rows)
            self._reindex()
            self.endInsertRows()
        if self._sort is not None and (changed or new_rows):
            self.sort(*self._sort)  # changed and new books go where they belong

    def _reindex(self) -> None:
        self._row_of = {row.item_id: number for number, row in enumerate(self._rows)}

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows here, on the keys made with them, in one Python `sorted` (~10 ms
        for 10,000 books); the proxy only filters. Its own sort calls a Python
        `lessThan` some 140,000 times for 10,000 rows: a freeze of over a second."""
        self._sort = (column, order)
        self._version += 1
        if not self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        old = list(self._rows)
        self._rows.sort(
            key=lambda row: row.sort_keys[column],
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        self._reindex()
        moved = {row.item_id: self._row_of[row.item_id] for row in old}
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent,
            [
                self.index(moved[old[index.row()].item_id], index.column())
                if 0 <= index.row() < len(old)
                else QModelIndex()
                for index in persistent
            ],
        )
        self.layoutChanged.emit()

    def _summarise(self, rows: Sequence[LibraryRow]) -> None:
        scores = [row.score.percent for row in rows]
        self._average = sum(scores) / len(scores) if scores else 0.0
        self._low = sum(1 for score in scores if score < LOW_SCORE)

    # ---- covers -----------------------------------------------------------------------

    def cover_pixmap(self, abs_item_id: str) -> QPixmap | None:
        """The cached thumbnail, if any (no request is made)."""
        return self._covers.get(abs_item_id)

    def cover_failed(self, abs_item_id: str) -> bool:
        return abs_item_id in self._failed

    @property
    def cover_requests(self) -> int:
        """Requests under way now."""
        return len(self._in_flight)

    def invalidate_cover(self, abs_item_id: str, *, repaint: bool = True) -> None:
        """The book's cover may have changed (a match): ask again at the next paint."""
        self._covers.pop(abs_item_id, None)
        self._failed.discard(abs_item_id)
        self._wanted.pop(abs_item_id, None)
        self._epochs[abs_item_id] = self._epochs.get(abs_item_id, 0) + 1
        if repaint:
            self._cover_changed(abs_item_id)

    def forget_failed_covers(self) -> None:
        """Try the covers that failed again (Audiobookshelf is back, its key changed)."""
        failed, self._failed = self._failed, set()
        for item_id in failed:
            self._cover_changed(item_id)

    def _cover(self, book: OwnedBook) -> QPixmap:
        item_id = book.abs_item_id
        if not book.has_cover or item_id in self._failed:
            return self._placeholder_missing()
        pixmap = self._covers.get(item_id)
        if pixmap is not None:
            self._covers.move_to_end(item_id)
            return pixmap
        self._wish(item_id)
        return self._placeholder_loading()

    def _placeholder_missing(self) -> QPixmap:
        if self._missing_icon is None:
            self._missing_icon = _placeholder("no\ncover", dashed=False)
        return self._missing_icon

    def _placeholder_loading(self) -> QPixmap:
        if self._loading_icon is None:
            self._loading_icon = _placeholder("…", dashed=True)
        return self._loading_icon

    def _wish(self, item_id: str) -> None:
        if self.cover_loader is None or item_id in self._in_flight:
            return
        self._wanted[item_id] = None
        self._wanted.move_to_end(item_id)
        while len(self._wanted) > COVER_QUEUE_LIMIT:
            self._wanted.popitem(last=False)
        self._pump()

    def _pump(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # painted outside the app's loop (teardown): nothing can be started
        while self._wanted and len(self._in_flight) < self.max_cover_requests:
            item_id, _ = self._wanted.popitem(last=True)  # the latest wish is on screen
            if item_id not in self._row_of:
                continue
            epoch = self._epochs.get(item_id, 0)
            self._in_flight[item_id] = epoch
            task = self._spawn(self._load_cover(item_id, epoch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _load_cover(self, item_id: str, epoch: int) -> None:
        loader = self.cover_loader
        assert loader is not None
        pixmap: QPixmap | None = None
        try:
            data = await loader(item_id)
            pixmap = thumbnail(data) if data else None
            if data and pixmap is None:
                log.info("the cover of Audiobookshelf item %s is not an image", item_id)
        except asyncio.CancelledError:
            self._in_flight.pop(item_id, None)
            raise
        except Exception as error:  # any failure: a placeholder, not a crash in a paint
            log.info("no cover for Audiobookshelf item %s: %s", item_id, error)
        self._in_flight.pop(item_id, None)
        if self._epochs.get(item_id, 0) == epoch:
            if pixmap is None:
                self._failed.add(item_id)
            else:
                self._covers[item_id] = pixmap
                while len(self._covers) > self.cover_cache_size:
                    self._covers.popitem(last=False)
        # an outdated answer is dropped; the repaint then asks for the current cover
        self._cover_changed(item_id)
        self._pump()

    def _cover_changed(self, item_id: str) -> None:
        row = self._row_of.get(item_id, -1)
        if row >= 0:
            index = self.index(row, Column.COVER)
            self.dataChanged.emit(index, index, [_DECORATION])


class LibraryFilterProxy(RawSortProxy):
    """Shows the books whose title, subtitle, authors, series or narrators contain every
    word typed (in any order, ignoring case). Sorting is the `LibraryModel`'s own (see
    `LibraryModel.sort`); over another model it sorts on `SORT_ROLE` itself."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library: LibraryModel | None = None
        self._words: tuple[str, ...] = ()

    def setSourceModel(self, source_model: Any) -> None:
        self._library = source_model if isinstance(source_model, LibraryModel) else None
        super().setSourceModel(source_model)

    @property
    def text(self) -> str:
        return " ".join(self._words)

    def set_text(self, text: str) -> None:
        words = tuple(text.casefold().split())
        if words == self._words:
            return
        self._change_filter(lambda: setattr(self, "_words", words))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self._library is None:
            super().sort(column, order)
            return
        super().sort(-1)  # keep the source's order: it is sorted already
        self._library.sort(column, order)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._words or self._library is None:
            return True
        haystack = self._library.row_haystack(source_row)
        return all(word in haystack for word in self._words)

    def item_id_at(self, proxy_row: int) -> str:
        source = self.mapToSource(self.index(proxy_row, 0))
        if self._library is None or not source.isValid():
            return ""
        return self._library.row_book(source.row()).abs_item_id
