"""A second release for a book already downloading is grabbed only after asking, and
removing a wanted book's torrent says that its release is blocklisted (issue 12,
defect 5: both happened without a word)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from gui.controller import AppController
from gui.core.ranking import RankingPolicy, Release, Wanted, rank
from gui.settings import SecretStore, Settings
from gui.store import Book, Store
from tests.harness.wait import until

HASH = "c" * 40


@pytest.fixture
def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> Iterator[AppController]:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    controller = AppController(Settings(), SecretStore(), Store.open_in(profile))
    yield controller
    qloop.run_until_complete(controller.shutdown())
    controller.window.close()
    controller.store.close()


def downloading(store: Store) -> Book:
    book = store.add_book(Book("Dune", "Frank Herbert"))
    book.torrent_hash = HASH
    store.set_state(book, "downloading", event="added to qBittorrent")
    return book


def open_boxes(app: AppController, name: str) -> list[QMessageBox]:
    return [b for b in app.window.findChildren(QMessageBox) if b.objectName() == name]


def test_a_second_grab_asks_first(
    app: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = downloading(app.store)
    grabbed: list[str] = []

    async def grab(book: Book | None, ranked: object, wanted: object = None) -> Book:
        grabbed.append(ranked.release.title)  # type: ignore[attr-defined]
        assert book is not None
        return book

    monkeypatch.setattr(app, "grab", grab)
    wanted = Wanted(title="Dune", author="Frank Herbert")
    [ranked] = rank(wanted, [Release("Frank Herbert - Dune [M4B]", seeders=5)], RankingPolicy())

    async def scenario() -> None:
        dialog = app.open_search(book)
        dialog.grab_requested.emit(ranked)
        await until(lambda: open_boxes(app, "second-grab"), what="the question")
        [box] = open_boxes(app, "second-grab")
        assert "already downloading" in box.text()
        assert grabbed == []  # nothing added before the answer
        cancel = box.button(QMessageBox.StandardButton.Cancel)
        cancel.click()
        assert grabbed == []
        dialog.grab_requested.emit(ranked)
        await until(
            lambda: [b for b in open_boxes(app, "second-grab") if b.isVisible()], what="again"
        )
        [box] = [b for b in open_boxes(app, "second-grab") if b.isVisible()]
        [yes] = [b for b in box.buttons() if b.text() == "Grab this release"]
        yes.click()
        await until(lambda: grabbed == ["Frank Herbert - Dune [M4B]"], what="the grab")

    qloop.run_until_complete(scenario())


def test_removing_a_wanted_books_torrent_says_it_blocklists(
    app: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloading(app.store)

    async def scenario() -> None:
        await app.queue_model.reload()
        monkeypatch.setattr(app.downloads_view, "selected_hashes", lambda: [HASH])
        app.downloads_view.request_remove()
        box = app.downloads_view.remove_dialog
        assert box is not None
        assert "“Dune” is a wanted book" in box.informativeText()
        assert "blocklists this release" in box.informativeText()
        box.close()

    qloop.run_until_complete(scenario())
