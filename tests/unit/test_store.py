"""The SQLite store: migrations, persistence, refusal to touch what it cannot read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gui.store import Book, PendingAdd, Store, StoreError


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
    with sqlite3.connect(path) as db:
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
