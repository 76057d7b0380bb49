"""The history of every book (the store's `events`), newest first, a page at a time.

Years of a busy queue make tens of thousands of events, so the model holds only what was
scrolled to: Qt asks `canFetchMore` / `fetchMore` when the view reaches the bottom, and
the next page is read on the store's thread. New events arrive at the top through
`refresh_newest`, which reads only what is newer than the first row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from gui.models.palette import BAD, GOOD
from gui.models.queue import STATE_WORDS
from gui.models.table import ListTableModel
from gui.models.themed import status_text
from gui.store import Event, Store

Index = QModelIndex | QPersistentModelIndex
Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]

COLUMNS = ("Time", "Book", "Kind", "Message")
KIND_COLUMN = 2
MESSAGE_COLUMN = 3
PAGE = 200
KIND_WORDS = {
    **STATE_WORDS,
    "indexer_failed": "Indexer failed",
    "grab": "Grab",
    "grab_refused": "Grab refused",
    "sent_via_prowlarr": "Sent via Prowlarr",
    "qbittorrent": "qBittorrent",
    "config": "Settings",
    "error": "Error",
    "library": "Library",
    "edited": "Edited",
}


#: Kinds that mean something went wrong, and those that mean a book arrived.
BAD_KINDS = frozenset({"failed", "indexer_failed", "grab_refused", "error"})
GOOD_KINDS = frozenset({"downloaded", "in_library"})


def history_time(at: float) -> str:
    """To the second: a pass writes several events within the same minute."""
    if at <= 0:
        return ""
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind) or kind.replace("_", " ").capitalize()


class HistoryModel(ListTableModel):
    columns = COLUMNS

    def __init__(
        self,
        store: Store,
        parent: QObject | None = None,
        *,
        page: int = PAGE,
        spawn: Spawn | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.page = page
        self.book_id: int | None = None  # None: every book
        self.titles: dict[int, str] = {}
        self._events: list[Event] = []
        self._exhausted = False
        self._loading: asyncio.Future[Any] | None = None
        self._loading_generation = 0
        self._spawn = spawn or asyncio.ensure_future
        self._generation = 0  # bumped by a reload: pages of an older filter are dropped

    # ---- Qt's model interface -------------------------------------------------------

    def rows(self) -> list[Any]:
        return self._events

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._events):
            return None
        event = self._events[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == MESSAGE_COLUMN:
            return event.message
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == KIND_COLUMN:
            if event.kind in BAD_KINDS:
                return status_text(BAD)
            if event.kind in GOOD_KINDS:
                return status_text(GOOD)
            return None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == 0:
            return history_time(event.at)
        if column == 1:
            return self.book_title(event.book_id)
        if column == 2:
            return kind_words(event.kind)
        return event.message

    def book_title(self, book_id: int | None) -> str:
        if book_id is None:
            return "—"
        return self.titles.get(book_id, f"#{book_id}")

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        """Qt's "the view reached the bottom": read the next page in the background."""
        if parent.isValid() or self._exhausted or self.loading:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # Qt events processed outside the app's loop (teardown): nothing to start
        self._loading = self._spawn(self.load_more())
        self._loading_generation = self._generation

    @property
    def loading(self) -> bool:
        """A page of the current filter is on its way (one of an older filter is ignored)."""
        return (
            self._loading is not None
            and not self._loading.done()
            and self._loading_generation == self._generation
        )

    # ---- reading ----------------------------------------------------------------------

    def set_titles(self, titles: dict[int, str]) -> None:
        if titles != self.titles:
            self.titles = dict(titles)
            if self._events:
                self.dataChanged.emit(self.index(0, 1), self.index(len(self._events) - 1, 1))

    async def set_book(self, book_id: int | None) -> None:
        """Show one book's history (None: everyone's), from the newest event."""
        self.book_id = book_id
        await self.reload()

    async def reload(self) -> None:
        self._generation += 1
        generation = self._generation
        events = await self.store.run(self.store.events, book_id=self.book_id, limit=self.page)
        if generation != self._generation:
            return
        self.beginResetModel()
        self._events = events
        self._exhausted = len(events) < self.page
        self.endResetModel()

    async def load_more(self) -> int:
        """Append the next page; returns how many events came."""
        generation = self._generation
        while True:
            offset = len(self._events)
            events = await self.store.run(
                self.store.events, book_id=self.book_id, limit=self.page, offset=offset
            )
            if generation != self._generation:
                return 0  # the filter changed meanwhile: this page is not wanted
            if offset == len(self._events):
                break
            # rows came or went while reading (a reload, new events on top): read again
        self._exhausted = len(events) < self.page
        known = {e.id for e in self._events}
        events = [e for e in events if e.id not in known]  # new events shifted the pages
        if events:
            first = len(self._events)
            self.beginInsertRows(QModelIndex(), first, first + len(events) - 1)
            self._events.extend(events)
            self.endInsertRows()
        return len(events)

    async def refresh_newest(self) -> int:
        """Put events newer than the first row on top; returns how many."""
        if not self._events:
            await self.reload()
            return len(self._events)
        generation = self._generation
        newest = self._events[0]
        events = await self.store.run(self.store.events, book_id=self.book_id, limit=self.page)
        if generation != self._generation:
            return 0
        fresh = []
        for event in events:
            if event.id == newest.id or (event.at, event.id or 0) <= (newest.at, newest.id or 0):
                break
            fresh.append(event)
        if len(fresh) == len(events) and events:
            await self.reload()  # more than a page is new: start again from the top
            return len(events)
        if fresh:
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self._events[:0] = fresh
            self.endInsertRows()
        return len(fresh)
