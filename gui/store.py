"""SQLite persistence in the profile folder: the wanted queue, pending adds, and later the
workflow's state.

Why SQLite: embedded, transactional (a crash mid-write loses nothing committed), and one
file the user can back up. WAL mode lets the GUI read while the background loop writes.
Migrations are numbered and recorded in `PRAGMA user_version`; a database written by a
newer Earmark, or a corrupt one, is reported and never recreated silently.

Nothing secret is written: prose (reasons, events, errors) passes through the redactor,
and the links a grab needs later (a release's guid, magnet and download URL, a pending
add's source) are stored with each configured secret as its placeholder and revealed
again when read. A release's magnet that carries a private tracker's passkey is not
stored when its download link can give it again; one without a download link (a feed
of bare magnets), or a pending add, keeps it: it is the download itself and nothing
else could restore it.

Every method is synchronous and short; async callers go through `Store.run`, which runs
them on the store's own thread so the GUI's event loop never waits on the disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from gui.core.redact import REDACTOR, clean_magnet

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
    # 2: the acquisition workflow: identifiers and back-off on books, releases seen,
    # downloads, blocklist, event history, and the index of the Audiobookshelf library
    """
    ALTER TABLE books ADD COLUMN asin TEXT NOT NULL DEFAULT '';
    ALTER TABLE books ADD COLUMN isbn TEXT NOT NULL DEFAULT '';
    ALTER TABLE books ADD COLUMN language TEXT NOT NULL DEFAULT '';
    ALTER TABLE books ADD COLUMN preferred_format TEXT NOT NULL DEFAULT '';
    ALTER TABLE books ADD COLUMN search_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE books ADD COLUMN next_search_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE books ADD COLUMN state_since REAL NOT NULL DEFAULT 0;
    CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
        guid TEXT NOT NULL,
        indexer TEXT NOT NULL DEFAULT '',
        indexer_id INTEGER,
        title TEXT NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        seeders INTEGER NOT NULL DEFAULT 0,
        leechers INTEGER NOT NULL DEFAULT 0,
        info_hash TEXT,
        magnet TEXT,
        download_url TEXT,
        publish_date TEXT,
        score REAL NOT NULL DEFAULT 0,
        reasons TEXT NOT NULL DEFAULT '[]',
        rejected TEXT,
        seen_at REAL NOT NULL,
        UNIQUE (book_id, guid)
    );
    CREATE TABLE downloads (
        id INTEGER PRIMARY KEY,
        book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
        info_hash TEXT NOT NULL,
        release_id INTEGER REFERENCES releases(id) ON DELETE SET NULL,
        added_at REAL NOT NULL,
        progress REAL NOT NULL DEFAULT 0,
        progress_at REAL NOT NULL,
        finished_at REAL,
        UNIQUE (book_id, info_hash)
    );
    CREATE TABLE blocklist (
        id INTEGER PRIMARY KEY,
        info_hash TEXT,
        guid TEXT,
        title TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX blocklist_hash ON blocklist(info_hash);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        book_id INTEGER REFERENCES books(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX events_book ON events(book_id, at);
    CREATE TABLE owned (
        id INTEGER PRIMARY KEY,
        abs_item_id TEXT NOT NULL UNIQUE,
        library_id TEXT NOT NULL,
        title TEXT NOT NULL,
        subtitle TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '',
        narrators TEXT NOT NULL DEFAULT '',
        series TEXT NOT NULL DEFAULT '',
        sequence TEXT NOT NULL DEFAULT '',
        asin TEXT NOT NULL DEFAULT '',
        isbn TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    """,
    # 3: the library view and the import's review: what completeness is scored on for
    # owned books; the ABS item and scores of imported books; metadata proposals that
    # wait for the user before tags are written
    """
    ALTER TABLE owned ADD COLUMN year TEXT NOT NULL DEFAULT '';
    ALTER TABLE owned ADD COLUMN publisher TEXT NOT NULL DEFAULT '';
    ALTER TABLE owned ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE owned ADD COLUMN genres TEXT NOT NULL DEFAULT '';
    ALTER TABLE owned ADD COLUMN language TEXT NOT NULL DEFAULT '';
    ALTER TABLE owned ADD COLUMN has_cover INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE owned ADD COLUMN duration REAL NOT NULL DEFAULT 0;
    ALTER TABLE books ADD COLUMN abs_item_id TEXT;
    ALTER TABLE books ADD COLUMN score_before INTEGER;
    ALTER TABLE books ADD COLUMN score_after INTEGER;
    CREATE TABLE reviews (
        book_id INTEGER PRIMARY KEY REFERENCES books(id) ON DELETE CASCADE,
        torrent_hash TEXT NOT NULL,
        provider TEXT NOT NULL DEFAULT '',
        confidence REAL NOT NULL DEFAULT 0,
        before TEXT NOT NULL,
        proposal TEXT NOT NULL,
        before_cover BLOB,
        proposal_cover BLOB,
        created_at REAL NOT NULL
    );
    """,
    # 4: the wanted edition's running time (seconds, 0 unknown), so the pre-grab size
    # check and the import's duration check have something to compare with
    """
    ALTER TABLE books ADD COLUMN duration REAL NOT NULL DEFAULT 0;
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
    """The database cannot be used as it is; the message says why and where.

    ``kind``: "full" (the disk is full; the database is intact), "read_only", "busy"
    (another program holds it), "corrupt", "newer" (written by a newer Earmark) or
    "other". Only a corrupt database is ever
    suggested to be moved aside: the others hold the queue intact.
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


#: SQLite's primary result codes (sqlite3.h) that say what is wrong with the file.
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED = 3, 5, 6
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT = 8, 10, 11
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 13, 14, 26
#: Less free space than this when a write failed: the disk is full (SQLite often reports
#: a full disk as a "disk I/O error" while it extends the WAL or its shared memory).
_NEARLY_FULL = 1024 * 1024


def explain_database_error(exc: sqlite3.Error, path: Path, *, opening: bool = False) -> StoreError:
    """A database failure in words that say what happened and what (not) to do."""
    code = int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    verb = "cannot be opened" if opening else "cannot be written"
    if code == _SQLITE_FULL or (code in (_SQLITE_IOERR, _SQLITE_CANTOPEN) and _disk_full(path)):
        return StoreError(
            f"the disk holding Earmark's database {path} is full ({exc}): nothing was lost "
            "and the database is intact — free some space on that disk, then try again",
            "full",
        )
    if code in (_SQLITE_READONLY, _SQLITE_PERM) or (
        code in (_SQLITE_IOERR, _SQLITE_CANTOPEN) and not _writable(path)
    ):
        return StoreError(
            f"Earmark's database {path} is read-only ({exc}): make the file and its folder "
            "writable (or the disk read-write) and try again; the database is intact",
            "read_only",
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreError(
            f"Earmark's database {path} is held by another program ({exc}): another Earmark, "
            "a backup tool or a share that does not support locking — try again once it "
            "lets go; the database is intact",
            "busy",
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreError(
            f"Earmark's database {path} is damaged ({exc}); it was left untouched. Restore a "
            "backup, try `sqlite3 earmark.sqlite3 .recover`, or move the file aside to "
            "start with an empty queue",
            "corrupt",
        )
    return StoreError(
        f"Earmark's database {path} {verb} ({exc}); it was left untouched — check the disk "
        "and the file's permissions, then try again",
    )


def _disk_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL
    except OSError:
        return False


def _writable(path: Path) -> bool:
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return False
    except (OSError, AttributeError):  # Windows has no statvfs
        pass
    target = path if path.exists() else path.parent
    return os.access(target, os.W_OK)


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
    asin: str = ""
    isbn: str = ""
    language: str = ""
    preferred_format: str = ""
    search_attempts: int = 0
    next_search_at: float = 0.0
    state_since: float = 0.0
    abs_item_id: str | None = None
    score_before: int | None = None
    score_after: int | None = None
    #: The wanted edition's running time in seconds (0: unknown), from the catalogue a
    #: follow listed it in, `earmark want --duration` or the metadata providers.
    duration: float = 0.0
    id: int | None = None
    sort_order: int = 0


BOOK_COLUMNS = (
    "title",
    "author",
    "narrator",
    "series",
    "position",
    "state",
    "reason",
    "torrent_hash",
    "library_path",
    "asin",
    "isbn",
    "language",
    "preferred_format",
    "search_attempts",
    "next_search_at",
    "state_since",
    "abs_item_id",
    "score_before",
    "score_after",
    "duration",
    "sort_order",
)


#: What an update writes: the queue order changes only through `move_book`, so a workflow
#: step that spans a user's reorder never writes the old order back.
UPDATE_COLUMNS = tuple(c for c in BOOK_COLUMNS if c != "sort_order")


@dataclass
class ReleaseRecord:
    """A release an indexer returned for a book, with the score it got then."""

    book_id: int
    guid: str
    title: str
    indexer: str = ""
    indexer_id: int | None = None
    size: int = 0
    seeders: int = 0
    leechers: int = 0
    info_hash: str | None = None
    magnet: str | None = None
    download_url: str | None = None
    publish_date: str | None = None
    score: float = 0.0
    reasons: list[tuple[float, str]] = field(default_factory=list)
    rejected: str | None = None
    seen_at: float = 0.0
    id: int | None = None


@dataclass
class DownloadRecord:
    book_id: int
    info_hash: str
    release_id: int | None = None
    added_at: float = 0.0
    progress: float = 0.0
    progress_at: float = 0.0
    finished_at: float | None = None
    id: int | None = None


@dataclass
class Event:
    book_id: int | None
    kind: str
    message: str
    at: float = 0.0
    id: int | None = None


@dataclass
class OwnedBook:
    """One item of the Audiobookshelf library, as indexed locally."""

    abs_item_id: str
    library_id: str
    title: str
    subtitle: str = ""
    authors: str = ""  # "; "-joined names
    narrators: str = ""
    series: str = ""
    sequence: str = ""
    asin: str = ""
    isbn: str = ""
    path: str = ""
    year: str = ""
    publisher: str = ""
    description: str = ""
    genres: str = ""  # "; "-joined
    language: str = ""
    has_cover: bool = False
    duration: float = 0.0
    updated_at: float = 0.0
    id: int | None = None


#: The `owned` columns a refresh writes (all but the row id and the refresh time).
OWNED_COLUMNS = (
    "abs_item_id", "library_id", "title", "subtitle", "authors", "narrators", "series",
    "sequence", "asin", "isbn", "path", "year", "publisher", "description", "genres",
    "language", "has_cover", "duration",
)  # fmt: skip


@dataclass
class Review:
    """Metadata found for an imported book that waits for the user before tags are
    written: what was known (``before``) and the provider's proposal, both as
    `gui.core.metadata.metadata_to_json` text with the covers apart (they are bytes)."""

    book_id: int
    torrent_hash: str
    before: str
    proposal: str
    provider: str = ""
    confidence: float = 0.0
    before_cover: bytes | None = None
    proposal_cover: bytes | None = None
    created_at: float = 0.0


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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the profile folder {path.parent}: {exc.strerror or exc}"
            ) from exc
        self._lock = threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="earmark-store")
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            with contextlib.suppress(Exception):
                self._db.close()
            raise explain_database_error(exc, path, opening=True) from exc

    @classmethod
    def open_in(cls, directory: Path) -> Store:
        return cls(directory / DB_FILE)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            self._db.close()

    async def run(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store method on the store's thread (one at a time, in order)."""
        # Imported here: the store opens before the first paint, asyncio (~40 ms) after it.
        import asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: method(*args, **kwargs))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translated():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back by itself
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._lock, self._translated():
            yield

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """sqlite3's errors as a StoreError that says what happened (disk full, read-only,
        damaged), so no caller shows a traceback for a problem of the disk."""
        try:
            yield
        except sqlite3.Error as exc:
            raise explain_database_error(exc, self.path) from exc

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the database {self.path} was written by a newer Earmark (schema {version}, "
                f"this version knows {len(MIGRATIONS)}); update Earmark",
                "newer",
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
            book.sort_order = order
            book.state_since = book.state_since or now
            columns = ", ".join(BOOK_COLUMNS)
            marks = ", ".join("?" for _ in BOOK_COLUMNS)
            cursor = db.execute(
                f"INSERT INTO books ({columns}, created_at, updated_at) VALUES ({marks}, ?, ?)",
                (*(getattr(book, c) for c in BOOK_COLUMNS), now, now),
            )
        book.id = cursor.lastrowid
        return book

    def update_book(self, book: Book) -> None:
        if book.id is None:
            raise ValueError("a book must be added before it is updated")
        with self._transaction() as db:
            _write_book(db, book, time.time())

    def set_state(
        self, book: Book, state: str, *, reason: str | None = None, event: str | None = None
    ) -> None:
        """Move a book to a state and record why, in one transaction."""
        if state not in BOOK_STATES:
            raise ValueError(f"unknown book state {state!r}")
        now = time.time()
        book.state, book.reason, book.state_since = state, _prose(reason), now
        with self._transaction() as db:
            _write_book(db, book, now)
            _insert_event(db, book.id, state, event or reason or state, now)
            if state != "importing":  # a review belongs to one import of one download
                db.execute("DELETE FROM reviews WHERE book_id=?", (book.id,))

    def move_book(self, book_id: int, new_order: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE books SET sort_order=? WHERE id=?", (new_order, book_id))

    def remove_book(self, book_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM books WHERE id=?", (book_id,))

    def books(
        self,
        *,
        state: str | None = None,
        search: str | None = None,
        limit: int = -1,
        offset: int = 0,
    ) -> list[Book]:
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if search:
            where.append("(title LIKE ? OR author LIKE ? OR series LIKE ?)")
            args.extend([f"%{search}%"] * 3)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._reading():
            rows = self._db.execute(
                f"SELECT * FROM books {clause} ORDER BY sort_order, id LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [_book(row) for row in rows]

    def book(self, book_id: int) -> Book | None:
        with self._reading():
            row = self._db.execute("SELECT * FROM books WHERE id=?", (book_id,)).fetchone()
        return _book(row) if row else None

    # ---- releases seen ------------------------------------------------------------------

    def save_releases(self, records: Sequence[ReleaseRecord]) -> list[ReleaseRecord]:
        """Insert or refresh (same book and guid) the releases of one search."""
        now = time.time()
        with self._transaction() as db:
            for record in records:
                record.seen_at = record.seen_at or now
                values = (
                    record.book_id, _link(record.guid), record.indexer, record.indexer_id,
                    record.title, record.size, record.seeders, record.leechers,
                    record.info_hash, _release_magnet(record), _link(record.download_url),
                    record.publish_date, record.score,
                    json.dumps([(p, REDACTOR.text(t)) for p, t in record.reasons]),
                    _prose(record.rejected), record.seen_at,
                )  # fmt: skip
                db.execute(
                    "INSERT INTO releases (book_id, guid, indexer, indexer_id, title, size,"
                    " seeders, leechers, info_hash, magnet, download_url, publish_date, score,"
                    " reasons, rejected, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (book_id, guid) DO UPDATE SET title=excluded.title,"
                    " size=excluded.size, seeders=excluded.seeders, leechers=excluded.leechers,"
                    " info_hash=COALESCE(excluded.info_hash, info_hash),"
                    " magnet=COALESCE(excluded.magnet, magnet),"
                    " download_url=excluded.download_url, score=excluded.score,"
                    " reasons=excluded.reasons, rejected=excluded.rejected,"
                    " seen_at=excluded.seen_at",
                    values,
                )
                row = db.execute(
                    "SELECT id FROM releases WHERE book_id=? AND guid=?",
                    (record.book_id, _link(record.guid)),
                ).fetchone()
                record.id = int(row[0])
        return list(records)

    def releases(self, book_id: int, *, include_rejected: bool = True) -> list[ReleaseRecord]:
        """Best first, as scored when seen."""
        query = "SELECT * FROM releases WHERE book_id=?"
        if not include_rejected:
            query += " AND rejected IS NULL"
        with self._reading():
            rows = self._db.execute(query + " ORDER BY score DESC, id", (book_id,)).fetchall()
        return [_release(row) for row in rows]

    def release(self, release_id: int) -> ReleaseRecord | None:
        with self._reading():
            row = self._db.execute("SELECT * FROM releases WHERE id=?", (release_id,)).fetchone()
        return _release(row) if row else None

    # ---- downloads ----------------------------------------------------------------------

    def record_download(self, record: DownloadRecord) -> DownloadRecord:
        """Idempotent: the same book and info-hash is one download, however often recorded."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO downloads (book_id, info_hash, release_id, added_at, progress,"
                " progress_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (book_id, info_hash)"
                " DO NOTHING",
                (record.book_id, record.info_hash, record.release_id, now, record.progress, now),
            )
            row = db.execute(
                "SELECT * FROM downloads WHERE book_id=? AND info_hash=?",
                (record.book_id, record.info_hash),
            ).fetchone()
        return _download(row)

    def download_for(self, book_id: int, info_hash: str) -> DownloadRecord | None:
        with self._reading():
            row = self._db.execute(
                "SELECT * FROM downloads WHERE book_id=? AND info_hash=?", (book_id, info_hash)
            ).fetchone()
        return _download(row) if row else None

    def downloads(self, book_id: int) -> list[DownloadRecord]:
        with self._reading():
            rows = self._db.execute(
                "SELECT * FROM downloads WHERE book_id=? ORDER BY id", (book_id,)
            ).fetchall()
        return [_download(row) for row in rows]

    def note_progress(self, download_id: int, progress: float, *, finished: bool = False) -> None:
        """Progress moves the stall clock only when it grows."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "UPDATE downloads SET progress_at = CASE WHEN ? > progress THEN ? ELSE"
                " progress_at END, progress = MAX(progress, ?),"
                " finished_at = CASE WHEN ? THEN COALESCE(finished_at, ?) ELSE finished_at END"
                " WHERE id=?",
                (progress, now, progress, finished, now, download_id),
            )

    # ---- blocklist ----------------------------------------------------------------------

    def block(self, *, info_hash: str | None, guid: str | None, title: str, reason: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO blocklist (info_hash, guid, title, reason, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (info_hash, _link(guid), title, REDACTOR.text(reason), time.time()),
            )

    def blocked(self) -> frozenset[str]:
        """Every blocked info-hash and guid, the form ranking policies take."""
        with self._reading():
            rows = self._db.execute("SELECT info_hash, guid FROM blocklist").fetchall()
        return frozenset(REDACTOR.reveal(value) for row in rows for value in row if value)

    def blocklist(self) -> list[dict[str, Any]]:
        with self._reading():
            rows = self._db.execute("SELECT * FROM blocklist ORDER BY id DESC").fetchall()
        return [dict(row) for row in rows]

    # ---- events -------------------------------------------------------------------------

    def add_event(self, book_id: int | None, kind: str, message: str) -> Event:
        now = time.time()
        message = REDACTOR.text(message)
        with self._transaction() as db:
            event_id = _insert_event(db, book_id, kind, message, now)
        return Event(book_id, kind, message, now, event_id)

    def events(
        self, *, book_id: int | None = None, limit: int = 200, offset: int = 0
    ) -> list[Event]:
        """Newest first, a page at a time."""
        clause, args = ("WHERE book_id=?", [book_id]) if book_id is not None else ("", [])
        with self._reading():
            rows = self._db.execute(
                f"SELECT * FROM events {clause} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [_event(row) for row in rows]

    def last_events(self) -> dict[int, Event]:
        """Each book's latest event, for the wanted view's "last event" column."""
        with self._reading():
            rows = self._db.execute(
                "SELECT e.* FROM events e JOIN (SELECT book_id, MAX(id) AS id FROM events"
                " WHERE book_id IS NOT NULL GROUP BY book_id) last ON e.id = last.id"
            ).fetchall()
        return {row["book_id"]: _event(row) for row in rows}

    # ---- the Audiobookshelf library index ---------------------------------------------

    def replace_owned(self, library_id: str, books: Sequence[OwnedBook]) -> None:
        """A full refresh of one library, in one transaction: what ABS no longer has is
        dropped."""
        with self._transaction() as db:
            db.execute("DELETE FROM owned WHERE library_id=?", (library_id,))
            _upsert_owned(db, [dataclasses.replace(b, library_id=library_id) for b in books])

    def save_owned(self, book: OwnedBook) -> None:
        """One item changed (after a match): the rest of its library stays as indexed."""
        with self._transaction() as db:
            _upsert_owned(db, [book])

    def owned(
        self, *, search: str | None = None, limit: int = -1, offset: int = 0
    ) -> list[OwnedBook]:
        clause, args = ("", [])
        if search:
            clause, args = "WHERE title LIKE ? OR authors LIKE ?", [f"%{search}%"] * 2
        with self._reading():
            rows = self._db.execute(
                f"SELECT * FROM owned {clause} ORDER BY authors, title LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [_owned(row) for row in rows]

    def owned_library_ids(self) -> frozenset[str]:
        """The libraries the index holds books of."""
        with self._reading():
            rows = self._db.execute("SELECT DISTINCT library_id FROM owned").fetchall()
        return frozenset(row["library_id"] for row in rows)

    def owned_book(self, abs_item_id: str) -> OwnedBook | None:
        with self._reading():
            row = self._db.execute(
                "SELECT * FROM owned WHERE abs_item_id=?", (abs_item_id,)
            ).fetchone()
        return _owned(row) if row is not None else None

    # ---- metadata waiting for review --------------------------------------------------

    def save_review(self, review: Review) -> None:
        """One review per book: a new import's proposal replaces an older one."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO reviews (book_id, torrent_hash, provider, confidence,"
                " before, proposal, before_cover, proposal_cover, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (review.book_id, review.torrent_hash, review.provider, review.confidence,
                 review.before, review.proposal, review.before_cover, review.proposal_cover,
                 review.created_at or time.time()),
            )  # fmt: skip

    def review(self, book_id: int) -> Review | None:
        with self._reading():
            row = self._db.execute("SELECT * FROM reviews WHERE book_id=?", (book_id,)).fetchone()
        return Review(**dict(row)) if row is not None else None

    def reviewed_books(self) -> frozenset[int]:
        """The books whose import waits for a review (the workflow leaves them alone)."""
        with self._reading():
            rows = self._db.execute("SELECT book_id FROM reviews").fetchall()
        return frozenset(row["book_id"] for row in rows)

    # ---- pending adds -----------------------------------------------------------------

    def add_pending(self, pending: PendingAdd) -> PendingAdd:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO pending_adds (source, options, created_at, last_error)"
                " VALUES (?, ?, ?, ?)",
                (
                    _link(pending.source),
                    json.dumps(pending.options),
                    time.time(),
                    _prose(pending.last_error),
                ),
            )
        pending.id = cursor.lastrowid
        return pending

    def pending(self) -> list[PendingAdd]:
        with self._reading():
            rows = self._db.execute("SELECT * FROM pending_adds ORDER BY id").fetchall()
        return [
            PendingAdd(
                source=REDACTOR.reveal(row["source"]),
                options=json.loads(row["options"]),
                id=row["id"],
                last_error=row["last_error"],
            )
            for row in rows
        ]

    def set_pending_error(self, pending_id: int, error: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE pending_adds SET last_error=? WHERE id=?",
                (REDACTOR.text(error), pending_id),
            )

    def remove_pending(self, pending_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM pending_adds WHERE id=?", (pending_id,))


def _prose(text: str | None) -> str | None:
    """Text a person reads (a reason, an error): secrets and credentials hidden for good."""
    return REDACTOR.text(text) if text else text


def _link(text: str | None) -> str | None:
    """A link used again later: configured secrets as placeholders (undone on read)."""
    return REDACTOR.conceal_link(text) if text else text


def _release_magnet(record: ReleaseRecord) -> str | None:
    """A release's magnet as stored: none when it carries a tracker credential (a private
    tracker's passkey) and the download link gives it again when the release is grabbed."""
    if record.magnet and record.download_url and clean_magnet(record.magnet) != record.magnet:
        return None
    return _link(record.magnet)


def _release(row: sqlite3.Row) -> ReleaseRecord:
    values = dict(row)
    for name in ("guid", "magnet", "download_url"):
        if values[name]:
            values[name] = REDACTOR.reveal(values[name])
    values["reasons"] = [tuple(r) for r in json.loads(values["reasons"])]
    return ReleaseRecord(**values)


def _download(row: sqlite3.Row) -> DownloadRecord:
    return DownloadRecord(**dict(row))


def _upsert_owned(db: sqlite3.Connection, books: Sequence[OwnedBook]) -> None:
    names = ", ".join(OWNED_COLUMNS)
    marks = ", ".join("?" for _ in OWNED_COLUMNS)
    updates = ", ".join(f"{c}=excluded.{c}" for c in OWNED_COLUMNS if c != "abs_item_id")
    db.executemany(
        f"INSERT INTO owned ({names}, updated_at) VALUES ({marks}, ?)"
        f" ON CONFLICT (abs_item_id) DO UPDATE SET {updates}, updated_at=excluded.updated_at",
        [(*(getattr(b, c) for c in OWNED_COLUMNS), time.time()) for b in books],
    )


def _owned(row: sqlite3.Row) -> OwnedBook:
    values = dict(row)
    values["has_cover"] = bool(values["has_cover"])
    return OwnedBook(**values)


def _book(row: sqlite3.Row) -> Book:
    return Book(id=row["id"], **{c: row[c] for c in BOOK_COLUMNS})


def _write_book(db: sqlite3.Connection, book: Book, now: float) -> None:
    book.reason = _prose(book.reason)
    assignments = ", ".join(f"{c}=?" for c in UPDATE_COLUMNS)
    db.execute(
        f"UPDATE books SET {assignments}, updated_at=? WHERE id=?",
        (*(getattr(book, c) for c in UPDATE_COLUMNS), now, book.id),
    )


def _insert_event(
    db: sqlite3.Connection, book_id: int | None, kind: str, message: str, now: float
) -> int | None:
    cursor = db.execute(
        "INSERT INTO events (book_id, at, kind, message) VALUES (?, ?, ?, ?)",
        (book_id, now, kind, REDACTOR.text(message)),
    )
    return cursor.lastrowid


def _event(row: sqlite3.Row) -> Event:
    return Event(row["book_id"], row["kind"], row["message"], row["at"], row["id"])
