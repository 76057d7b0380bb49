"""The SQLite store: migrations, persistence, refusal to touch what it cannot read."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from gui.store import MIGRATIONS, Book, OwnedBook, PendingAdd, Review, Store, StoreError


def test_books_survive_reopening(tmp_path: Path) -> None:
    store = Store.open_in(tmp_path)
    first = store.add_book(Book("Dune", "Frank Herbert", series="Dune", position="1"))
    second = store.add_book(Book("Emma", "Jane Austen"))
    second.narrator = "Juliet Stevenson"
    store.update_book(second)
    store.close()
    again = Store.open_in(tmp_path)
    books = again.books()
    assert [b.title for b in books] == ["Dune", "Emma"]
    assert books[1].narrator == "Juliet Stevenson"
    again.remove_book(first.id or 0)
    assert [b.title for b in again.books()] == ["Emma"]
    again.close()


def test_pending_adds_round_trip(tmp_path: Path) -> None:
    store = Store.open_in(tmp_path)
    pending = store.add_pending(PendingAdd("magnet:?xt=urn:btih:" + "a" * 40, {"stopped": True}))
    store.set_pending_error(pending.id or 0, "connection refused")
    [loaded] = store.pending()
    assert loaded.options == {"stopped": True} and loaded.last_error == "connection refused"
    store.remove_pending(loaded.id or 0)
    assert store.pending() == []
    store.close()


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    Store.open_in(tmp_path).close()
    path = tmp_path / "earmark.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer Earmark"):
        Store(path)


def test_corrupt_database_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "earmark.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="left untouched"):
        Store(path)
    assert path.read_bytes() == b"this is not a database" * 100


async def test_async_access_runs_on_the_store_thread(tmp_path: Path) -> None:
    store = Store.open_in(tmp_path)
    book = await store.run(store.add_book, Book("Dune", "Frank Herbert"))
    assert (await store.run(store.book, book.id or 0)) is not None
    store.close()


def test_workflow_tables(tmp_path: Path) -> None:
    from gui.store import DownloadRecord, OwnedBook, ReleaseRecord

    store = Store.open_in(tmp_path)
    book = store.add_book(Book("Dune", "Frank Herbert", asin="B002V1A0WE"))
    assert book.id is not None
    store.set_state(book, "searching", event="searching 2 indexers")
    [saved] = store.save_releases(
        [ReleaseRecord(book.id, "guid-1", "Dune [M4B]", score=80.0, reasons=[(40.0, "title")])]
    )
    store.save_releases([ReleaseRecord(book.id, "guid-1", "Dune [M4B]", seeders=9, score=81.0)])
    [again] = store.releases(book.id)
    assert again.id == saved.id and again.seeders == 9 and again.score == 81.0
    first = store.record_download(DownloadRecord(book.id, "a" * 40, release_id=saved.id))
    second = store.record_download(DownloadRecord(book.id, "a" * 40, release_id=saved.id))
    assert first.id == second.id and len(store.downloads(book.id)) == 1
    store.note_progress(first.id or 0, 0.5)
    store.note_progress(first.id or 0, 0.4)  # never goes back
    assert store.downloads(book.id)[0].progress == 0.5
    store.block(info_hash="a" * 40, guid="guid-1", title="Dune [M4B]", reason="stalled")
    assert store.blocked() == {"a" * 40, "guid-1"}
    events = store.events(book_id=book.id)
    assert [e.kind for e in events] == ["searching"]
    assert store.last_events()[book.id].message == "searching 2 indexers"
    store.replace_owned("lib", [OwnedBook("li_1", "lib", "Emma", authors="Jane Austen")])
    store.replace_owned("lib", [OwnedBook("li_2", "lib", "Persuasion", authors="Jane Austen")])
    assert [o.title for o in store.owned()] == ["Persuasion"]
    reopened_books = store.books(state="searching")
    assert reopened_books[0].asin == "B002V1A0WE"
    store.close()


def test_an_update_never_undoes_a_reorder(tmp_path: Path) -> None:
    store = Store.open_in(tmp_path)
    first = store.add_book(Book("Dune", "Frank Herbert"))
    second = store.add_book(Book("Emma", "Jane Austen"))
    stale = store.book(first.id or 0)  # a workflow step read it before the user moved it
    store.move_book(first.id or 0, 10)
    assert stale is not None
    store.set_state(stale, "searching")
    assert [b.title for b in store.books()] == ["Emma", "Dune"]
    del second
    store.close()


def test_a_version_2_database_gains_the_library_and_review_columns(tmp_path: Path) -> None:
    """Schema 3 on top of a database written by the previous release: rows are kept."""
    path = tmp_path / "earmark.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute(
            "INSERT INTO books (title, author, sort_order, created_at, updated_at)"
            " VALUES ('Dune', 'Frank Herbert', 1, 0, 0)"
        )
        db.execute(
            "INSERT INTO owned (abs_item_id, library_id, title, updated_at)"
            " VALUES ('li_1', 'lib', 'Old Book', 0)"
        )
        db.execute("PRAGMA user_version = 2")
    store = Store(path)
    try:
        (book,) = store.books()
        assert (book.title, book.abs_item_id, book.score_before) == ("Dune", None, None)
        old = store.owned_book("li_1")
        assert old is not None and old.title == "Old Book" and old.has_cover is False
        store.replace_owned(
            "lib",
            [
                OwnedBook(
                    "li_2", "lib", "New", genres="Sci-Fi; Classic", has_cover=True, year="1965"
                )
            ],
        )
        assert [b.abs_item_id for b in store.owned()] == ["li_2"]
        new = store.owned_book("li_2")
        assert new is not None and new.has_cover is True and new.genres == "Sci-Fi; Classic"
        assert book.id is not None
        review = Review(book.id, "ab" * 20, before="{}", proposal="{}", proposal_cover=b"\xff\xd8")
        store.save_review(review)
        store.save_review(replace(review, provider="Audible"))  # one per book
        saved = store.review(book.id)
        assert saved is not None and saved.provider == "Audible"
        assert saved.proposal_cover == b"\xff\xd8"
        assert store.reviewed_books() == {book.id}
        store.set_state(book, "importing", reason="metadata waits for your review")
        assert store.reviewed_books() == {book.id}  # the review belongs to this import
        store.set_state(book, "downloaded", reason="import failed: disk full")
        assert store.reviewed_books() == frozenset()  # ...and ends with it
        store.save_review(review)
        store.remove_book(book.id)  # a removed book takes its review along
        assert store.reviewed_books() == frozenset()
    finally:
        store.close()


def test_a_database_held_by_another_program_is_said_so(tmp_path: Path) -> None:
    import sqlite3

    from gui.store import explain_database_error

    path = tmp_path / "earmark.sqlite3"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("BEGIN IMMEDIATE")
        error = explain_database_error(caught.value, path)
        assert error.kind == "busy" and "held by another program" in str(error)
        assert "move" not in str(error)
    finally:
        other.close()
        holder.close()


def test_a_version_3_database_gains_the_running_time(tmp_path: Path) -> None:
    """Schema 4 on top of schema 3: queued books are kept with an unknown (0) running
    time, and a running time given later is stored and read back."""
    path = tmp_path / "earmark.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for script in MIGRATIONS[:3]:
            db.executescript(script)
        db.execute(
            "INSERT INTO books (title, author, sort_order, created_at, updated_at)"
            " VALUES ('Dune', 'Frank Herbert', 1, 0, 0)"
        )
        db.execute("PRAGMA user_version = 3")
    store = Store(path)
    try:
        (book,) = store.books()
        assert (book.title, book.duration) == ("Dune", 0.0)
        book.duration = 21 * 3600 + 8 * 60
        store.update_book(book)
        added = store.add_book(Book("Emma", "Jane Austen", duration=3600.5))
        assert added.id is not None
        assert [b.duration for b in store.books()] == [76080.0, 3600.5]
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 4


def test_a_pending_add_keeps_its_file_priorities(tmp_path: Path) -> None:
    """An add made while qBittorrent is away is sent later with the files the user chose
    in the add dialog (issue 12): the priorities go through the stored options."""
    from gui.clients.qbittorrent import AddOptions
    from gui.services.downloads import options_from_dict, options_to_dict

    options = AddOptions(category="books", tags=("a",), file_priorities=(0, 1, 6))
    store = Store.open_in(tmp_path)
    store.add_pending(PendingAdd("magnet:?xt=urn:btih:" + "b" * 40, options_to_dict(options)))
    [loaded] = store.pending()
    assert options_from_dict(loaded.options) == options
    assert options_from_dict({"stopped": True}).file_priorities == ()  # stored before
    store.close()
