"""The search dialog: ranked releases from the Prowlarr and Jackett doubles, the score
breakdown, rejected releases and failing indexers, and a grab into a real qBittorrent.

Everything async runs inside qasync's running loop (a `scenario()` coroutine), as the app
does; the doubles are aiohttp servers on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication

from gui.controller import AppController
from gui.core.ranking import RankingPolicy, Wanted, rank
from gui.services.search import ProwlarrSource, TorznabFeed, search_all
from gui.settings import SecretStore, Settings, save_settings
from gui.store import Book, DownloadRecord, ReleaseRecord, Store
from gui.views.search_dialog import REJECTED_GREY, SearchDialog, SearchResults
from tests.doubles.indexers import (
    FakeIndexer,
    JackettDouble,
    ProwlarrDouble,
    fake_release,
    torrent_info_hash,
)
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import until

BEST = "Frank Herbert - Dune (Unabridged) [M4B]"
MP3 = "Frank Herbert - Dune [MP3]"
EPUB = "Frank Herbert - Dune (epub)"
MESSIAH = "Frank Herbert - Dune Messiah [M4B]"
WRONG_KEY = "not-the-key-0000000000000000000000"


def dune_releases() -> list[dict[str, Any]]:
    return [
        fake_release(MP3, seeders=5),
        fake_release(EPUB, seeders=80, size=30 * 1024 * 1024),
        fake_release(BEST, seeders=40),
        fake_release(MESSIAH, seeders=60),
    ]


def titles(dialog: SearchDialog) -> list[str]:
    return [dialog.proxy.index(row, 1).data() for row in range(dialog.proxy.rowCount())]


def row_of(dialog: SearchDialog, title: str) -> int:
    return titles(dialog).index(title)


# ---- the dialog on its own --------------------------------------------------------------------


def test_ranked_results_breakdown_rejections_and_a_failing_indexer(
    qloop: asyncio.AbstractEventLoop,
) -> None:
    async def scenario() -> None:
        async with (
            ProwlarrDouble([FakeIndexer(1, "AudioBook Bay", releases=dune_releases())]) as px,
            JackettDouble(dune_releases()) as jackett,
        ):
            indexers = [
                ProwlarrSource(px.url, px.api_key),
                TorznabFeed(jackett.feed_url(), WRONG_KEY),
            ]

            async def search(wanted: Wanted) -> SearchResults:
                outcome = await search_all(wanted, indexers, per_indexer_timeout=10)
                failures = [(f.indexer, f.reason) for f in outcome.failures]
                ranked = rank(wanted, outcome.releases, RankingPolicy())
                return SearchResults(ranked, failures, outcome.timings)

            dialog = SearchDialog(search, wanted=Wanted("Dune", "Frank Herbert"))
            dialog.show()
            dialog.start_search()
            assert dialog.searching and dialog.progress.isVisible()
            assert not dialog.search_button.isEnabled()
            await until(lambda: not dialog.searching, what="the search")
            assert not dialog.progress.isVisible()

            # best first, rejected ones last with their reason, greyed
            shown = titles(dialog)
            assert shown[0] == BEST
            assert set(shown) == {BEST, MP3, EPUB, MESSIAH}
            model, proxy = dialog.model, dialog.proxy
            epub_row = row_of(dialog, EPUB)
            assert shown.index(MP3) < epub_row and shown.index(MP3) < shown.index(MESSIAH)
            reason = proxy.index(epub_row, 7).data()
            assert "epub" in reason
            colour = proxy.index(epub_row, 1).data(Qt.ItemDataRole.ForegroundRole)
            assert isinstance(colour, QColor) and colour.name() == REJECTED_GREY
            assert proxy.index(0, 7).data() == ""
            assert proxy.index(0, 5).data() == "m4b"
            assert proxy.index(0, 3).data() == "40"
            assert proxy.index(0, 4).data() == "AudioBook Bay"
            assert model.rowCount() == 4

            # the failing feed, with a reason the user can act on
            assert dialog.failures.isVisible()
            assert "wrong API key" in dialog.failures.text()
            assert dialog.status.text().startswith("4 releases (2 acceptable, 2 rejected)")

            # the breakdown of the selected release: every reason with its points
            assert dialog.select_title(BEST)
            lines = dialog.breakdown_lines()
            assert any(line.strip().startswith("+") and "title matches 'Dune'" in line
                       for line in lines), lines  # fmt: skip
            assert any("format m4b (preferred #1)" in line for line in lines), lines
            assert any("unabridged" in line for line in lines), lines
            assert any("40 seeders" in line for line in lines), lines
            assert "Score" in dialog.breakdown_title.text()
            assert dialog.grab_button.text() == "Grab"

            assert dialog.select_title(EPUB)
            lines = dialog.breakdown_lines()
            assert any("rejected: contains 'epub'" in line for line in lines), lines
            assert "rejected" in dialog.breakdown_title.text()
            assert dialog.grab_button.text() == "Grab anyway"

            # sorting by a column (on the raw value)
            dialog.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
            assert titles(dialog)[0] == MP3  # 5 seeders
            dialog.close()

    qloop.run_until_complete(scenario())


def test_closing_the_dialog_cancels_the_search(qloop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        async with JackettDouble(dune_releases(), hang=True) as jackett:
            feed = TorznabFeed(jackett.feed_url(), jackett.api_key)
            started = asyncio.Event()

            async def search(wanted: Wanted) -> SearchResults:
                started.set()
                outcome = await search_all(wanted, [feed], per_indexer_timeout=60)
                return SearchResults(rank(wanted, outcome.releases, RankingPolicy()))

            dialog = SearchDialog(search, wanted=Wanted("Dune", "Frank Herbert"))
            dialog.show()
            dialog.start_search()
            task = dialog._task
            assert task is not None
            await asyncio.wait_for(started.wait(), 5)
            await until(lambda: jackett.searches, what="the request to reach the feed")
            dialog.close()
            await until(task.done, what="the search task to end")
            assert task.cancelled()

    qloop.run_until_complete(scenario())


# ---- through the window, into a real qBittorrent -----------------------------------------


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile"))
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", QBT_PASSWORD)
    monkeypatch.setenv("EARMARK_TORZNAB_API_KEY", WRONG_KEY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return tmp_path / "profile"


@pytest.fixture
def apps(qloop: asyncio.AbstractEventLoop) -> Iterator[list[AppController]]:
    made: list[AppController] = []
    yield made
    qloop.run_until_complete(stop_apps(made))


async def stop_apps(made: list[AppController]) -> None:
    while made:
        app = made.pop()
        await app.shutdown()
        app.window.close()
        app.store.close()


def start_app(
    profile: Path, made: list[AppController], monkeypatch: pytest.MonkeyPatch, **values: Any
) -> AppController:
    monkeypatch.setenv("EARMARK_PROWLARR_API_KEY", str(values.pop("prowlarr_key", "")))
    settings = Settings(qbt_username=QBT_USER, **values)
    save_settings(settings, profile)
    app = AppController(settings, SecretStore(), Store.open_in(profile))
    app.service.min_interval = 0.2
    made.append(app)
    app.start()
    return app


def later_book(store: Store, title: str, author: str) -> Book:
    """A wanted book the background loop leaves alone for now (its next search is due in
    an hour), so what happens to it here is the user's doing."""
    book = store.add_book(Book(title, author, next_search_at=time.time() + 3600))
    assert book.id is not None
    store.add_event(book.id, "wanted", "added to the wanted queue")
    return book


def test_grab_from_the_search_dialog_adds_to_qbittorrent(
    qbt: QbtInstance,
    profile: Path,
    apps: list[AppController],
    qloop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        releases = dune_releases()
        async with (
            ProwlarrDouble([FakeIndexer(1, "AudioBook Bay", releases=releases)]) as px,
            JackettDouble([]) as jackett,
        ):
            store = Store.open_in(profile)
            book = later_book(store, "Dune", "Frank Herbert")
            store.close()
            app = start_app(
                profile,
                apps,
                monkeypatch,
                qbt_url=qbt.url,
                prowlarr_url=px.url,
                prowlarr_key=px.api_key,
                torznab_url=jackett.feed_url(),
            )
            await until(lambda: app.workflow is not None, what="the background workflow")
            await until(lambda: app.queue_model.rowCount() == 1, what="the wanted book")

            dialog = app.open_search(app.queue_model.book_at(0))
            assert dialog.isVisible() and dialog.searching  # a book's search starts at once
            await until(lambda: not dialog.searching, what="the search")
            assert titles(dialog)[0] == BEST
            assert "wrong API key" in dialog.failures.text()  # the Torznab key is wrong

            dialog.select_title(BEST)
            QGuiApplication.clipboard().setText("")
            dialog.magnet_button.click()
            expected_hash = torrent_info_hash(next(r for r in releases if r["title"] == BEST))
            await until(
                lambda: expected_hash in QGuiApplication.clipboard().text().lower(),
                what="the magnet link in the clipboard",
            )
            assert QGuiApplication.clipboard().text().startswith("magnet:?xt=urn:btih:")

            dialog.grab_button.click()
            assert not dialog.grab_button.isEnabled()  # no double grab while it is sent
            await until(lambda: not dialog.grabbing, what="the grab")
            assert "Added to qBittorrent" in dialog.note.text(), dialog.note.text()

            torrent = qbt.admin().torrent(expected_hash)
            assert torrent is not None
            assert torrent["category"] == "audiobooks"
            tags = {t.strip() for t in torrent["tags"].split(",")}
            assert f"earmark-book-{book.id}" in tags and "earmark" in tags

            # recorded like the workflow's own grabs; the wanted view follows
            assert book.id is not None
            stored = app.store.book(book.id)
            assert stored is not None
            assert (stored.state, stored.torrent_hash) == ("downloading", expected_hash)
            [release] = [r for r in app.store.releases(book.id) if r.title == BEST]
            assert release.info_hash == expected_hash and release.reasons
            download = app.store.download_for(book.id, expected_hash)
            assert download is not None and download.release_id == release.id
            kinds = [e.kind for e in app.store.events(book_id=book.id)]
            assert kinds[:2] == ["downloading", "grabbed"]
            await until(
                lambda: app.queue_model.index(0, 5).data() == "Downloading",
                what="the wanted view to show the new state",
            )
            assert "added to qBittorrent" in app.queue_model.index(0, 6).data()

            # a free search: grabbing wants the book first
            free = app.open_search(None)
            assert not free.searching
            free.title_edit.setText("Dune Messiah")
            free.author_edit.setText("Frank Herbert")
            free.start_search()
            await until(lambda: not free.searching, what="the free search")
            assert free.select_title(MESSIAH)
            free.grab_button.click()
            await until(lambda: not free.grabbing, what="the second grab")
            messiah_hash = torrent_info_hash(next(r for r in releases if r["title"] == MESSIAH))
            messiah = qbt.admin().torrent(messiah_hash)
            assert messiah is not None, free.note.text()
            assert free.book is not None and free.book.title == "Dune Messiah"
            assert f"earmark-book-{free.book.id}" in messiah["tags"]
            await until(lambda: app.queue_model.rowCount() == 2, what="the new wanted book")
            dialog.close()
            free.close()
            await stop_apps(apps)

    qloop.run_until_complete(scenario())


def test_a_refused_grab_offers_prowlarr_the_magnet_and_the_doctor(
    qbt: QbtInstance,
    profile: Path,
    apps: list[AppController],
    qloop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        releases = dune_releases()
        async with ProwlarrDouble([FakeIndexer(7, "AudioBook Bay", releases=releases)]) as px:
            store = Store.open_in(profile)
            book = later_book(store, "Dune", "Frank Herbert")
            store.close()
            app = start_app(
                profile,
                apps,
                monkeypatch,
                qbt_url=qbt.url,
                prowlarr_url=px.url,
                prowlarr_key=px.api_key,
            )
            await until(lambda: app.workflow is not None, what="the background workflow")
            assert book.id is not None
            # what the workflow records when qBittorrent refuses: a release from a
            # Prowlarr search (so Prowlarr has it cached), the book grabbed, the reason
            dialog = app.open_search(app.queue_model.book_at(0))
            await until(lambda: not dialog.searching, what="the search")
            dialog.close()
            best = next(r for r in dialog.model._ranked if r.release.title == BEST).release
            magnet = f"magnet:?xt=urn:btih:{'a' * 40}&dn=Dune"
            record = ReleaseRecord(
                book_id=book.id,
                guid=best.guid,
                title=BEST,
                indexer=best.indexer,
                indexer_id=best.indexer_id,
                magnet=magnet,
            )
            app.store.save_releases([record])
            current = app.store.book(book.id)
            assert current is not None
            current.torrent_hash = "a" * 40
            app.store.record_download(DownloadRecord(book.id, "a" * 40, record.id))
            reason = (
                "qBittorrent could not take the torrent: qBittorrent refused the login. "
                "You can: run `earmark doctor` to see why; send the release through "
                "Prowlarr's own download client (Prowlarr keeps it for 30 minutes after the "
                f"search); copy the magnet link into your client: {magnet}. Earmark will "
                "not log in again by itself."
            )
            app.store.set_state(current, "grabbed", reason=reason, event="grab refused")
            app.store.update_book(current)
            await app.queue_model.refresh()
            view = app.queue_view
            view.select_book(book.id)
            menu = view.context_menu()
            words = [a.text() for a in menu.actions() if a.isVisible() and a.isEnabled()]
            assert "Send through Prowlarr" in words
            assert "Copy magnet link" in words
            assert "Run the connection doctor" in words

            QGuiApplication.clipboard().setText("")
            view.magnet_action.trigger()
            await until(lambda: QGuiApplication.clipboard().text() == magnet, what="the magnet")

            view.prowlarr_action.trigger()
            await until(
                lambda: any("Sent through Prowlarr" in n for n in app.window.notices.texts()),
                what="the notice that Prowlarr took it",
            )
            assert px.grabs[0]["guid"] == best.guid and px.grabs[0]["indexerId"] == 7
            kinds = [e.kind for e in app.store.events(book_id=book.id)]
            assert "sent_via_prowlarr" in kinds

            view.doctor_action.trigger()
            await until(
                lambda: [w for w in QApplication.topLevelWidgets()
                         if type(w).__name__ == "DoctorWizard" and w.isVisible()],
                what="the connection doctor",
            )  # fmt: skip
            for widget in QApplication.topLevelWidgets():
                if type(widget).__name__ == "DoctorWizard":
                    widget.close()
            await stop_apps(apps)

    qloop.run_until_complete(scenario())
