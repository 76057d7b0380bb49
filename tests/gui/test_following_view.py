"""The Following page: follow a series, its books listed (none added unasked), tick one,
want it; against the Audible catalogue double and a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.clients.metadata_providers import AudibleProvider
from gui.models.following import FollowingModel
from gui.store import Store
from gui.views.following_view import FollowingView
from tests.doubles.metadata_providers import AudibleDouble
from tests.harness.audiobook import AUTHOR
from tests.harness.wait import until
from tests.integration.test_following import SAGA, catalogue


def test_follow_a_series_then_want_a_ticked_book(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with AudibleDouble(books=catalogue()) as double:
            model = FollowingModel(
                store,
                tmp_path,
                lambda: AudibleProvider(audible_url=double.url, audnexus_url=double.url),
            )
            view = FollowingView(model)
            qtbot.addWidget(view)
            view.show()
            view.name.setText(SAGA)
            view.series.setChecked(True)
            view.author.setText(AUTHOR)
            view.follow_button.click()
            await until(lambda: view.books.rowCount() == 2, "the series' books")
            assert view.follows.count() == 1
            assert view.follows.item(0).text() == f"series '{SAGA}' by {AUTHOR}"
            titles = [view.books.item(r, 0).text() for r in range(2)]
            assert titles == ["The First Echo", "The Second Echo"]
            assert store.books() == []  # the back catalogue is only listed

            view.want_button.click()
            assert view.message.text() == "Tick the books to want first."
            view.books.item(1, 0).setCheckState(Qt.CheckState.Checked)
            view.want_button.click()
            await until(lambda: "1 book(s) added" in view.message.text(), "the pick")
            assert [b.title for b in store.books()] == ["The Second Echo"]
            await until(lambda: view.books.item(1, 3).text() == "On the queue", "its new status")

    qloop.run_until_complete(scenario())


def test_the_window_has_a_following_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    from gui.controller import AppController
    from gui.services.following import Follow, FollowList
    from gui.settings import SecretStore, Settings

    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    FollowList(profile).add(Follow("author", AUTHOR, since="2024-01-01"))
    store = Store.open_in(profile)
    app = AppController(Settings(), SecretStore(), store)
    try:
        tabs = app.window.tabs
        titles = [tabs.tabText(i) for i in range(tabs.count())]
        assert titles[-1] == "Following"
        page = tabs.widget(tabs.count() - 1)
        assert isinstance(page, FollowingView)
        assert page.follows.count() == 1 and page.follows.item(0).text() == f"author {AUTHOR}"
    finally:
        qloop.run_until_complete(app.shutdown())
        app.window.close()
        store.close()


def test_the_window_checks_due_follows_by_itself(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from gui.services.following import Follow, FollowList
    from tests.integration.test_following import NEW_TITLE, saga_book

    FollowList(tmp_path).add(Follow("series", SAGA, author=AUTHOR, since="2030-01-01"))

    async def scenario() -> None:
        released = saga_book("B0SAGA0003", NEW_TITLE, "3", "2031-01-01")
        async with AudibleDouble(books={**catalogue(), "B0SAGA0003": released}) as double:
            model = FollowingModel(
                store,
                tmp_path,
                lambda: AudibleProvider(audible_url=double.url, audnexus_url=double.url),
                spawn=asyncio.ensure_future,
                schedule_ms=20,
            )
            ticks: list[int] = []
            checked = model.check_due

            async def counted() -> int:
                ticks.append(await checked())
                return ticks[-1]

            model.check_due = counted  # type: ignore[method-assign]
            try:
                # the check's own return, not its saved last_checked: that is written before
                # the check returns, and a tick counted after it was then taken for a later one
                await until(lambda: any(ticks), "a check")
                assert FollowList(tmp_path).load()[0].last_checked > 0
                assert [b.title for b in store.books()] == [NEW_TITLE]  # the new release
                asked = len(double.received)
                seen = len(ticks)
                await until(lambda: len(ticks) >= seen + 3, "three more ticks")
                assert ticks[seen:] == [0] * (len(ticks) - seen)  # nothing due for 15 minutes
                assert len(double.received) == asked  # the catalogue is not asked again
            finally:
                model.stop()

    qloop.run_until_complete(scenario())


def test_the_model_reads_the_feeds_and_keeps_the_follows_listing(
    store: Store, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from gui.services import following as follows
    from gui.services.new_releases import feeds_of
    from gui.services.search import TorznabFeed
    from tests.doubles.indexers import JackettDouble, fake_release

    title = f"{AUTHOR} - {SAGA}, Book 3 - The Third Echo (2026) [M4B]"

    async def scenario() -> None:
        async with (
            AudibleDouble(books=catalogue()) as double,
            JackettDouble([fake_release(title, publish_date=datetime.now(UTC))]) as jackett,
        ):
            model = FollowingModel(
                store,
                tmp_path,
                lambda: AudibleProvider(audible_url=double.url, audnexus_url=double.url),
                feeds_factory=lambda: feeds_of([TorznabFeed(jackett.feed_url(), jackett.api_key)]),
            )
            follow, _ = model.list.add(follows.Follow("author", AUTHOR, since=follows.today()))
            assert await model.check_due() == 2  # the catalogue's report and the feed's
            assert [b.title for b in store.books()] == ["The Third Echo"]
            listing = model.reports[model.key(follow)]
            assert not listing.feed and len(listing.listed) == 3  # the catalogue's books

    qloop.run_until_complete(scenario())
