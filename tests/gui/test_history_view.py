"""The History tab: events newest first, paged on scroll, filtered by book and by words,
new events arriving on top; and the wanted view's "Show history" shortcut."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.controller import AppController
from gui.models.history import HistoryModel
from gui.settings import SecretStore, Settings
from gui.store import Book, Store
from gui.views.history_view import HistoryView
from gui.views.main_window import HISTORY_TAB, LIBRARY_TAB
from tests.harness.wait import until


def history(store: Store) -> tuple[Book, Book]:
    """Two books with 30 events between them, oldest first; the oldest mention "ancient"."""
    dune = store.add_book(Book("Dune", "Frank Herbert"))
    emma = store.add_book(Book("Emma", "Jane Austen"))
    for n in range(30):
        book = dune if n % 3 else emma
        word = "ancient" if n < 2 else "step"
        store.add_event(book.id, "searching" if n % 2 else "indexer_failed", f"{word} {n}")
    store.add_event(None, "library", "the Audiobookshelf library was not refreshed: timeout")
    return dune, emma


def messages(view: HistoryView) -> list[str]:
    return [view.proxy.index(r, 3).data() for r in range(view.proxy.rowCount())]


def test_newest_first_paged_on_scroll_and_filtered(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    dune, emma = history(store)

    async def scenario() -> None:
        model = HistoryModel(store, page=10)
        model.set_titles({dune.id or 0: "Dune", emma.id or 0: "Emma"})
        view = HistoryView(model)
        qtbot.addWidget(view)
        view.book_chosen.connect(lambda book_id: asyncio.ensure_future(model.set_book(book_id)))
        view.set_books([(dune.id or 0, "Dune"), (emma.id or 0, "Emma")])
        view.resize(900, 300)
        view.show()
        await model.reload()
        shown = messages(view)
        assert len(shown) == 10
        assert shown[0].startswith("the Audiobookshelf library")  # the newest event
        assert shown[1:4] == ["step 29", "step 28", "step 27"]
        assert view.proxy.index(0, 1).data() == "—"  # not about a book
        assert view.proxy.index(1, 1).data() == "Dune"
        assert view.proxy.index(1, 2).data() == "Searching"
        assert view.proxy.index(2, 2).data() == "Indexer failed"
        assert view.proxy.index(3, 1).data() == "Emma"
        assert "scroll for older" in view.count.text()

        # scrolling to the bottom loads the next page (Qt's fetchMore), as often as needed
        def scrolled_to(rows: int) -> bool:
            view.table.scrollToBottom()
            return model.rowCount() >= rows

        await until(lambda: scrolled_to(20), "the second page")
        await until(lambda: scrolled_to(31), "every event")
        assert model.rowCount() == 31
        await until(lambda: not model.canFetchMore(), "the end of the history")
        assert messages(view)[-1] == "ancient 0"

        # one book
        view.show_book(emma.id)
        await until(lambda: model.book_id == emma.id and model.rowCount() == 10, "Emma's events")
        assert {view.proxy.index(r, 1).data() for r in range(view.proxy.rowCount())} == {"Emma"}
        assert messages(view)[0] == "step 27"
        view.show_book(None)
        await until(lambda: model.book_id is None and model.rowCount() == 10, "everyone again")

        # words: matches older than the first page are fetched until found
        view.text.setText("ANCIENT")
        view.apply_text()
        await until(lambda: len(messages(view)) == 2, "the old matches", limit=10)
        assert messages(view) == ["ancient 1", "ancient 0"]
        assert "2 of 31 events loaded match" in view.count.text()
        view.text.setText("")
        view.apply_text()

        # a new event comes in on top, without reloading the rest
        resets: list[bool] = []
        model.modelReset.connect(lambda: resets.append(True))
        store.add_event(dune.id, "grabbed", "chose 'Dune [M4B]'")
        assert await model.refresh_newest() == 1
        assert messages(view)[0] == "chose 'Dune [M4B]'"
        assert not resets
        assert await model.refresh_newest() == 0

    qloop.run_until_complete(scenario())


def test_the_history_tab_and_show_history_from_the_wanted_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    store = Store.open_in(profile)
    _, emma = history(store)
    app = AppController(Settings(), SecretStore(), store)

    async def scenario() -> None:
        app.start()
        tabs = app.window.tabs
        assert tabs.isTabEnabled(HISTORY_TAB) and tabs.isTabEnabled(LIBRARY_TAB)
        assert tabs.widget(HISTORY_TAB) is app.history_view
        await until(lambda: app.queue_model.rowCount() == 2, "the wanted queue")
        await until(lambda: app.history_model.rowCount() == 31, "the history")
        app.queue_view.select_book(emma.id or 0)
        menu = app.queue_view.context_menu()
        [show] = [a for a in menu.actions() if a.text() == "Show history"]
        show.trigger()
        assert tabs.currentIndex() == HISTORY_TAB
        await until(lambda: app.history_model.book_id == emma.id, "Emma's history")
        await until(
            lambda: (
                app.history_model.rowCount() == 10
                and {app.history_view.proxy.index(r, 1).data() for r in range(10)} == {"Emma"}
            ),
            "only Emma's events",
        )
        assert app.history_view.book.currentText() == "Emma"
        # the window's periodic refresh brings new events to the top
        store.add_event(emma.id, "grabbed", "chose 'Emma [M4B]'")
        await until(
            lambda: app.history_view.proxy.index(0, 3).data() == "chose 'Emma [M4B]'",
            "the new event on top",
        )
        await until(lambda: "chose 'Emma [M4B]'" in (app.queue_model.index(1, 6).data() or ""),
                    "the wanted view's last event")  # fmt: skip
        await app.shutdown()

    try:
        qloop.run_until_complete(scenario())
    finally:
        qloop.run_until_complete(app.shutdown())
        app.window.close()
        store.close()
