"""SQLite persistence in the profile folder: the wanted queue, pending adds, and later the
workflow's state.

Why SQLite: embedded, transactional (a crash mid-write loses nothing committed), and one
file the user can back up. WAL mode lets the GUI read while the background loop writes.
Migrations are numbered and recorded in `PRAGMA user_version`; a database written by a
newer Earmark, or a corrupt one, is reported and never recreated silently.

Every method is synchronous and short; async callers go through `Store.run`, which runs
them on the store's own thread so the GUI's event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

DB_FILE = "earmark.sqlite3"

P = ParamSpec("P")
T = TypeVar("T")

MIGRATIONS: Sequence[str] = (
    # 1: wanted books and torrents waiting for qBittorrent to come back
    """
    CREATE TABLE books (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        author TEXT NOT NULL,
        narrator TEXT NOT NULL DEFAULT '',
        series TEXT NOT NULL DEFAULT '',
        position TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'wanted',
        reason TEXT,
        torrent_hash TEXT,
        library_path TEXT,
        sort_order INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX books_state ON books(state);
    CREATE TABLE pending_adds (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        options TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_error TEXT
    );
    """,
)

BOOK_STATES = (
    "wanted",
    "searching",
    "grabbed",
    "downloading",
    "downloaded",
    "importing",
    "in_library",
    "failed",
)


class StoreError(Exception):
    """The database cannot be used as it is; the message says why and where."""


@dataclass
class Book:
    title: str
    author: str
    narrator: str = ""
    series: str = ""
    position: str = ""
    state: str = "wanted"
    reason: str | None = None
    torrent_hash: str | None = None
    library_path: str | None = None
    id: int | None = None
    sort_order: int = 0


@dataclass
class PendingAdd:
    """A torrent the user added while qBittorrent was unreachable."""

    source: str
    options: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    last_error: str | None = None


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="earmark-store")
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"the database {path} cannot be opened ({exc}); it was left untouched — "
                "move it aside to start afresh, or restore a backup"
            ) from exc

    @classmethod
    def open_in(cls, directory: Path) -> Store:
        return cls(directory / DB_FILE)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            self._db.close()

    async def run(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store method on the store's thread (one at a time, in order)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: method(*args, **kwargs))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the database {self.path} was written by a newer Earmark (schema {version}, "
                f"this version knows {len(MIGRATIONS)}); update Earmark"
            )
        for number in range(version, len(MIGRATIONS)):
            with self._transaction() as db:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    # ---- books ------------------------------------------------------------------------

    def add_book(self, book: Book) -> Book:
        now = time.time()
        with self._transaction() as db:
            order = db.execute("SELECT COALESCE(MAX(sort_order), 0) + 1 FROM books").fetchone()[0]
            cursor = db.execute(
                "INSERT INTO books (title, author, narrator, series, position, state, reason,"
                " torrent_hash, library_path, sort_order, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    book.title,
                    book.author,
                    book.narrator,
                    book.series,
                    book.position,
                    book.state,
                    book.reason,
                    book.torrent_hash,
                    book.library_path,
                    order,
                    now,
                    now,
                ),
            )
        book.id = cursor.lastrowid
        book.sort_order = order
        return book

    def update_book(self, book: Book) -> None:
        if book.id is None:
            raise ValueError("a book must be added before it is updated")
        with self._transaction() as db:
            db.execute(
                "UPDATE books SET title=?, author=?, narrator=?, series=?, position=?, state=?,"
                " reason=?, torrent_hash=?, library_path=?, sort_order=?, updated_at=?"
                " WHERE id=?",
                (
                    book.title,
                    book.author,
                    book.narrator,
                    book.series,
                    book.position,
                    book.state,
                    book.reason,
                    book.torrent_hash,
                    book.library_path,
                    book.sort_order,
                    time.time(),
                    book.id,
                ),
            )

    def remove_book(self, book_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM books WHERE id=?", (book_id,))

    def books(self) -> list[Book]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM books ORDER BY sort_order, id").fetchall()
        return [_book(row) for row in rows]

    def book(self, book_id: int) -> Book | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM books WHERE id=?", (book_id,)).fetchone()
        return _book(row) if row else None

    # ---- pending adds -----------------------------------------------------------------

    def add_pending(self, pending: PendingAdd) -> PendingAdd:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO pending_adds (source, options, created_at, last_error)"
                " VALUES (?, ?, ?, ?)",
                (pending.source, json.dumps(pending.options), time.time(), pending.last_error),
            )
        pending.id = cursor.lastrowid
        return pending

    def pending(self) -> list[PendingAdd]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM pending_adds ORDER BY id").fetchall()
        return [
            PendingAdd(
                source=row["source"],
                options=json.loads(row["options"]),
                id=row["id"],
                last_error=row["last_error"],
            )
            for row in rows
        ]

    def set_pending_error(self, pending_id: int, error: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE pending_adds SET last_error=? WHERE id=?", (error, pending_id))

    def remove_pending(self, pending_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM pending_adds WHERE id=?", (pending_id,))


def _book(row: sqlite3.Row) -> Book:
    return Book(
        id=row["id"],
        title=row["title"],
        author=row["author"],
        narrator=row["narrator"],
        series=row["series"],
        position=row["position"],
        state=row["state"],
        reason=row["reason"],
        torrent_hash=row["torrent_hash"],
        library_path=row["library_path"],
        sort_order=row["sort_order"],
    )
