"""The wanted queue as a table model, backed by the store.

Edits go to SQLite first (on the store's thread) and into the model only once written, so
what the user sees is what survives a crash. The background workflow changes books
behind the model's back; `refresh` reads the store again and tells the view only what
changed (`dataChanged` per row, a layout change for a new order), so the selection and
the scroll position survive the window's periodic refreshes.

The row order is the queue's priority (`sort_order`, the order the workflow takes books
in): it changes by drag and drop or Move up/down, never by clicking a column header.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from gui.core.formatting import human_size
from gui.models.downloads import PROGRESS_ROLE
from gui.models.palette import (
    BAD,
    BAD_BACKGROUND,
    GOOD,
    GOOD_BACKGROUND,
    INFO,
    INFO_BACKGROUND,
    WARN,
    WARN_BACKGROUND,
)
from gui.models.table import ListTableModel
from gui.models.themed import status_background, status_text
from gui.store import Book, Event, Store

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Title", "Author", "Narrator", "Series", "#", "State", "Last event")
STATE_COLUMN = 5
EVENT_COLUMN = 6
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
#: Subtle: a coloured word in the State column and a faint tint of the row.
STATE_COLOURS = {
    "failed": (BAD, BAD_BACKGROUND),
    "in_library": (GOOD, GOOD_BACKGROUND),
}
#: A book waiting on the user (qBittorrent refused its torrent): amber.
ATTENTION_COLOURS = (WARN, WARN_BACKGROUND)
#: A book whose metadata waits for the user's review: blue, apart from the amber of a
#: refusal (a review is a question about the book, not a problem with qBittorrent).
REVIEW_COLOURS = (INFO, INFO_BACKGROUND)
REVIEW_WORDS = "Review metadata"
BOOK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
MIME_TYPE = "application/x-earmark-book-ids"
#: Words that start a book's reason when qBittorrent would not take its torrent
#: (gui.services.workflow: the refusal offers the doctor, Prowlarr and the magnet).
REFUSAL_START = "qBittorrent could not take the torrent"
AUTH_REFUSAL_START = "qBittorrent refused Earmark"
#: Words that start a book's reason while its metadata waits for the user
#: (gui.services.importing.review_reason); the book stays "importing" meanwhile.
REVIEW_START = "metadata waits for your review"
#: The start of gui.services.workflow.NO_LIBRARY_FOLDER (no import without a folder).
NO_LIBRARY_START = "downloaded; the import needs a library folder"
NO_LIBRARY_WORDS = "Downloaded — set a library folder"


def qbt_refused(book: Book) -> bool:
    """Whether the book waits because qBittorrent refused its torrent (or Earmark)."""
    reason = book.reason or ""
    return reason.startswith((REFUSAL_START, AUTH_REFUSAL_START))


def needs_library_folder(book: Book) -> bool:
    """Whether the finished book waits because no library folder is set."""
    return book.state == "downloaded" and (book.reason or "").startswith(NO_LIBRARY_START)


def awaits_review(book: Book) -> bool:
    """Whether the book's import stopped for the user to review the metadata found."""
    return book.state == "importing" and (book.reason or "").startswith(REVIEW_START)


def state_words(book: Book) -> str:
    """The book's state as the wanted view and the details dialog name it."""
    if awaits_review(book):
        return REVIEW_WORDS
    if needs_library_folder(book):
        return NO_LIBRARY_WORDS
    return STATE_WORDS.get(book.state, book.state)


def state_colours(book: Book) -> tuple[str, str] | None:
    """(text colour, row tint) of a state worth telling apart; None for the others."""
    if qbt_refused(book) or needs_library_folder(book):
        return ATTENTION_COLOURS
    if awaits_review(book):
        return REVIEW_COLOURS
    return STATE_COLOURS.get(book.state)


def import_progress_text(done: int, total: int) -> str:
    """ "Importing 45% · 120.0 MiB of 270.0 MiB": the copy's share and its sizes."""
    percent = int(100 * done / total) if total > 0 else 0
    return f"Importing {percent}% · {human_size(done)} of {human_size(total)}"


def event_time(at: float, now: float | None = None) -> str:
    """Today's events by the clock, older ones by the date: the column stays narrow."""
    if at <= 0:
        return ""
    moment = datetime.fromtimestamp(at)
    today = datetime.fromtimestamp(now if now is not None else time.time()).date()
    return moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")


class QueueModel(ListTableModel):
    columns = COLUMNS

    #: A drop asked to move these books (ids) to before this row of the model.
    reorder_requested = Signal(list, int)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._books: list[Book] = []
        self._events: dict[int, Event] = {}
        #: Book id -> (bytes copied, bytes in all) while its files are being copied.
        self._progress: dict[int, tuple[int, int]] = {}
        self._moving = asyncio.Lock()

    # ---- Qt's model interface -------------------------------------------------------

    def rows(self) -> list[Any]:
        return self._books

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._books):
            return None
        book = self._books[index.row()]
        column = index.column()
        if role == BOOK_ID_ROLE:
            return book.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(book, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(book)
        if role == PROGRESS_ROLE:
            if column != STATE_COLUMN:
                return None
            copied = self._progress.get(book.id or -1)
            return copied[0] / copied[1] if copied is not None else None
        colours = state_colours(book)
        if colours is not None:
            # From the palette in use: a fixed pale row under a dark palette's white text
            # could not be read (gui.models.themed).
            if role == Qt.ItemDataRole.ForegroundRole and column == STATE_COLUMN:
                return status_text(colours[0], status_background(colours[0]))
            if role == Qt.ItemDataRole.BackgroundRole:
                return status_background(colours[0])
        return None

    def _display(self, book: Book, column: int) -> str:
        if column == EVENT_COLUMN:
            event = self._events.get(book.id or -1)
            if event is None:
                return ""
            return f"{event_time(event.at)}  {event.message}"
        values = (
            book.title,
            book.author,
            book.narrator,
            book.series,
            book.position,
            self._state_text(book),
        )
        return values[column]

    def _state_text(self, book: Book) -> str:
        copied = self._progress.get(book.id or -1)
        if copied is not None:
            return import_progress_text(*copied)
        return state_words(book)

    def _tooltip(self, book: Book) -> str | None:
        lines = []
        if book.reason:
            lines.append(book.reason)
        event = self._events.get(book.id or -1)
        if event is not None and event.message != book.reason:
            lines.append(f"Last event ({event_time(event.at)}): {event.message}")
        return "\n\n".join(lines) or None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled  # between rows only

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        ids = [str(self._books[row].id) for row in rows if self._books[row].id is not None]
        mime = QMimeData()
        mime.setData(MIME_TYPE, QByteArray(",".join(ids).encode()))
        return mime

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(MIME_TYPE) and action == Qt.DropAction.MoveAction

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Ask for the move (it is written to the store first); the rows stay put until then."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        raw = bytes(data.data(MIME_TYPE).data()).decode()
        ids = [int(x) for x in raw.split(",") if x.strip().isdigit()]
        if not ids:
            return False
        if row < 0:  # dropped onto a row: before it; onto the empty area: at the end
            row = parent.row() if parent.isValid() else len(self._books)
        self.reorder_requested.emit(ids, row)
        return False  # nothing for the view to remove: the move happens in `move`

    # ---- reading ----------------------------------------------------------------------

    def book_at(self, row: int) -> Book:
        return self._books[row]

    def books(self) -> list[Book]:
        return list(self._books)

    def book(self, book_id: int) -> Book | None:
        return next((b for b in self._books if b.id == book_id), None)

    def row_of(self, book_id: int) -> int:
        return next((row for row, b in enumerate(self._books) if b.id == book_id), -1)

    def last_event(self, book_id: int) -> Event | None:
        return self._events.get(book_id)

    def import_progress(self, book_id: int) -> tuple[int, int] | None:
        """(bytes copied, bytes in all) of the book's running import, if any."""
        return self._progress.get(book_id)

    def running_imports(self) -> dict[int, tuple[int, int]]:
        """Book id -> (bytes copied, bytes in all) of every import being shown."""
        return dict(self._progress)

    # ---- import progress --------------------------------------------------------------

    def set_import_progress(self, book_id: int, done: int, total: int) -> None:
        """Show how far the copy of a book's files is (the workflow's progress listener).

        Only the State cell changes. The model may not have seen the book move to
        "importing" yet (it refreshes periodically), so a downloaded book takes progress
        too; `done == total` ends it, and so does a refresh finding the book elsewhere.
        """
        row = self.row_of(book_id)
        if row < 0:
            return
        if self._books[row].state not in ("downloaded", "importing"):
            return
        if total <= 0 or done >= total:
            if self._progress.pop(book_id, None) is None:
                return
        else:
            copied = (max(0, done), total)
            if self._progress.get(book_id) == copied:
                return
            self._progress[book_id] = copied
        cell = self.index(row, STATE_COLUMN)
        self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole, PROGRESS_ROLE])

    async def reload(self) -> None:
        books, events = await self.store.run(_snapshot, self.store)
        self.beginResetModel()
        self._books = books
        self._events = events
        self._forget_finished_imports()
        self.endResetModel()

    async def refresh(self) -> bool:
        """Read the store again and apply what changed; True when anything did."""
        books, events = await self.store.run(_snapshot, self.store)
        return self.apply(books, events)

    def apply(self, books: list[Book], events: dict[int, Event]) -> bool:
        """Merge a fresh snapshot: rows removed, appended, reordered, changed."""
        changed = False
        fresh = {b.id: b for b in books}
        for row in range(len(self._books) - 1, -1, -1):
            if self._books[row].id not in fresh:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._books[row]
                self.endRemoveRows()
                changed = True
        known = {b.id for b in self._books}
        new = [b for b in books if b.id not in known]
        if new:
            first = len(self._books)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._books.extend(new)
            self.endInsertRows()
            changed = True
        order = [b.id for b in books]
        if [b.id for b in self._books] != order:
            self._reorder(order)
            changed = True
        last = len(COLUMNS) - 1
        for row, book in enumerate(books):
            assert book.id is not None
            old_event = self._events.get(book.id)
            new_event = events.get(book.id)
            ended = book.state != "importing" and book.id in self._progress
            if ended:
                del self._progress[book.id]
            if ended or self._books[row] != book or _event_id(old_event) != _event_id(new_event):
                self._books[row] = book
                self.dataChanged.emit(self.index(row, 0), self.index(row, last))
                changed = True
        self._events = events
        self._forget_finished_imports()
        return changed

    def _forget_finished_imports(self) -> None:
        """Drop the progress of books gone or no longer importing (no repaint needed:
        callers repaint those rows anyway)."""
        importing = {b.id for b in self._books if b.state == "importing"}
        for book_id in [i for i in self._progress if i not in importing]:
            del self._progress[book_id]

    def _reorder(self, order: Sequence[int | None]) -> None:
        """Put the rows in `order` (ids), keeping persistent indexes (the selection)."""
        self.layoutAboutToBeChanged.emit()
        old_ids = [b.id for b in self._books]
        by_id = {b.id: b for b in self._books}
        self._books = [by_id[book_id] for book_id in order]
        new_rows = {b.id: row for row, b in enumerate(self._books)}
        before, after = [], []
        for persistent in self.persistentIndexList():
            row = persistent.row()
            book_id = old_ids[row] if 0 <= row < len(old_ids) else None
            before.append(QModelIndex(persistent))
            after.append(
                self.index(new_rows[book_id], persistent.column())
                if book_id in new_rows
                else QModelIndex()
            )
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    # ---- writing ----------------------------------------------------------------------

    async def add(self, book: Book) -> Book:
        saved = await self.store.run(_add_wanted, self.store, book)
        await self.refresh()
        return saved

    async def add_many(self, books: Sequence[Book]) -> list[Book]:
        saved = await self.store.run(_add_all, self.store, list(books))
        await self.refresh()
        return saved

    async def update(self, book: Book) -> Book | None:
        """Save what the user edited, onto the store's current row: the workflow may have
        moved the book on while the dialog was open, and that must not be undone."""
        saved = await self.store.run(_apply_edit, self.store, book)
        await self.refresh()
        return saved

    async def remove(self, book_id: int) -> None:
        await self.store.run(self.store.remove_book, book_id)
        row = self.row_of(book_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._books[row]
            self.endRemoveRows()
        self._events.pop(book_id, None)
        self._progress.pop(book_id, None)

    async def move(self, book_ids: Sequence[int], before_row: int) -> None:
        """Move these books (in their current order) to before `before_row`, persisted.

        Moves are serialised: two quick clicks are two moves, each from where the last
        one left the rows."""
        async with self._moving:
            await self._move(book_ids, before_row)

    async def _move(self, book_ids: Sequence[int], before_row: int) -> None:
        current = list(self._books)
        ids = set(book_ids)
        moving = [b for b in current if b.id in ids]
        if not moving:
            return
        before_row = max(0, min(before_row, len(current)))
        staying = [b for b in current if b.id not in ids]
        insert_at = sum(1 for b in current[:before_row] if b.id not in ids)
        wanted = staying[:insert_at] + moving + staying[insert_at:]
        changes = _new_orders(current, wanted)
        if not changes:
            return
        await self.store.run(_write_orders, self.store, changes)
        orders = dict(changes)
        self._books = [
            replace(b, sort_order=orders.get(b.id or -1, b.sort_order)) for b in self._books
        ]
        self._reorder([b.id for b in wanted])

    async def move_by(self, book_ids: Sequence[int], step: int, visible: Sequence[int]) -> None:
        """Move up (-1) or down (+1) past the neighbour the user sees (`visible`: the ids
        shown; a filter may hide books in between)."""
        async with self._moving:
            shown = set(visible)
            order = [b.id for b in self._books if b.id is not None and b.id in shown]
            ids = set(book_ids)
            chosen = [i for i in order if i in ids]
            if not chosen:
                return
            if step < 0:
                first = order.index(chosen[0])
                if first == 0:
                    return
                target = self.row_of(order[first - 1])
            else:
                last = order.index(chosen[-1])
                if last == len(order) - 1:
                    return
                target = self.row_of(order[last + 1]) + 1
            await self._move(chosen, target)


def _event_id(event: Event | None) -> int | None:
    return event.id if event is not None else None


def _snapshot(store: Store) -> tuple[list[Book], dict[int, Event]]:
    """Books and their last events in one trip to the store's thread."""
    return store.books(), store.last_events()


def _add_wanted(store: Store, book: Book) -> Book:
    saved = store.add_book(book)
    assert saved.id is not None
    store.add_event(saved.id, "wanted", "added to the wanted queue")
    return saved


def _add_all(store: Store, books: list[Book]) -> list[Book]:
    return [_add_wanted(store, book) for book in books]


EDITABLE = (
    "title",
    "author",
    "narrator",
    "series",
    "position",
    "asin",
    "isbn",
    "language",
    "preferred_format",
)


def _apply_edit(store: Store, edited: Book) -> Book | None:
    if edited.id is None:
        raise ValueError("a book must be added before it is edited")
    current = store.book(edited.id)
    if current is None:
        return None  # removed meanwhile
    changed = [name for name in EDITABLE if getattr(current, name) != getattr(edited, name)]
    if not changed:
        return current
    for name in changed:
        setattr(current, name, getattr(edited, name))
    store.update_book(current)
    words = ", ".join(name.replace("_", " ") for name in changed)
    store.add_event(current.id, "edited", f"edited: {words}")
    return current


def _new_orders(current: Sequence[Book], wanted: Sequence[Book]) -> list[tuple[int, int]]:
    """(book id, sort order) for the books whose order changes.

    The existing order values are handed out again in the new sequence, so only the
    books between the old and the new place are written; if the values are not strictly
    increasing (a database edited by hand), everything is renumbered.
    """
    values = [b.sort_order for b in current]
    if any(b <= a for a, b in itertools.pairwise(values)):
        values = list(range(1, len(current) + 1))
    return [
        (book.id, value)
        for book, value in zip(wanted, values, strict=True)
        if book.id is not None and book.sort_order != value
    ]


def _write_orders(store: Store, changes: Sequence[tuple[int, int]]) -> None:
    for book_id, order in changes:
        store.move_book(book_id, order)
