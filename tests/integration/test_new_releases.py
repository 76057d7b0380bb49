"""New releases of followed authors from the indexers' own feeds (Torznab ``t=search``
without ``q``), against the Jackett and Prowlarr doubles: found and wanted, read at most
once per 15 minutes per indexer, and backed off after a failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gui.services import following as follows
from gui.services.following import MIN_INTERVAL, Follow, FollowList
from gui.services.new_releases import FeedSchedule, check_feeds, feeds_of
from gui.services.search import ProwlarrSource, TorznabFeed
from gui.store import Store
from tests.doubles.indexers import FakeIndexer, JackettDouble, ProwlarrDouble, fake_release
from tests.doubles.metadata_providers import AudibleDouble
from tests.integration.test_following import provider

AUTHOR = "Ada Tester"
NEW = f"{AUTHOR} - The Loopback Saga, Book 3 - The Third Echo (2026) [M4B]"
OLD = f"{AUTHOR} - The Loopback Saga, Book 1 - The First Echo (2019) [M4B]"
OTHER = "Somebody Else - Another Book (2020) MP3"


def fresh_release(title: str) -> dict[str, Any]:
    """A release uploaded now, as a feed of latest releases has it."""
    return fake_release(title, publish_date=datetime.now(UTC))


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


async def test_a_followed_authors_new_release_in_the_feed_becomes_wanted(
    store: Store, tmp_path: Path
) -> None:
    stored = FollowList(tmp_path)
    stored.add(Follow("author", AUTHOR, since=follows.today()))
    stored.add(Follow("author", "Somebody Else", new_only=False))  # lists only: never adds
    releases = [
        fresh_release(NEW),
        fresh_release(OTHER),
        fresh_release(OLD),  # the back catalogue, uploaded again: never added unasked
        fake_release(  # uploaded before the follow was made
            f"{AUTHOR} - A Forgotten Tale [M4B]",
            publish_date=datetime.now(UTC) - timedelta(days=400),
        ),
    ]
    async with (
        JackettDouble(releases) as jackett,
        AudibleDouble(books={}) as audible,
        provider(audible) as catalog,
    ):
        feeds = feeds_of([TorznabFeed(jackett.feed_url(), jackett.api_key)])
        reports = await follows.check_due(store, stored, catalog, feeds=feeds)
    (search,) = jackett.searches  # one feed request for both follows
    assert search.type == "search" and search.query == ""
    assert not any("q" in r.query for r in jackett.received)
    (found,) = [r for r in reports if r.feed]
    assert found.follow.name == AUTHOR and found.feed == "audiobookbay (Jackett)"
    (book,) = store.books()
    assert (book.title, book.author, book.series, book.position, book.state) == (
        "The Third Echo",
        AUTHOR,
        "The Loopback Saga",
        "3",
        "wanted",
    )
    assert book.id is not None
    (event,) = [e for e in store.events(book_id=book.id) if "feed" in e.message]
    assert event.kind == "wanted"
    assert event.message == (
        f"a new release in the audiobookbay (Jackett) feed of the followed author {AUTHOR}"
    )


async def test_a_second_check_within_15_minutes_asks_no_indexer(
    store: Store, tmp_path: Path
) -> None:
    followed = [Follow("author", AUTHOR, since=follows.today())]
    schedule = FeedSchedule(tmp_path)
    now = [2_000_000.0]
    indexers = [FakeIndexer(1, "AudioBook Bay", releases=[fresh_release(NEW)]),
                FakeIndexer(2, "MyAnonamouse", releases=[fake_release(OTHER)]),
                FakeIndexer(3, "Search Only", releases=[fresh_release(NEW)],
                            supports_rss=False)]  # fmt: skip
    async with ProwlarrDouble(indexers) as prowlarr:
        source = ProwlarrSource(prowlarr.url, prowlarr.api_key)
        checks = await check_feeds(
            store, followed, feeds_of([source]), schedule, clock=lambda: now[0]
        )
        assert [c.error for c in checks] == ["", ""]
        assert sorted(s.indexer_ids for s in prowlarr.searches) == [(1,), (2,)]
        assert {s.type for s in prowlarr.searches} == {"search"}
        assert len(store.books()) == 1
        asked = len(prowlarr.received)
        now[0] += MIN_INTERVAL - 1  # a fresh start (new clients): the schedule is on disk
        fresh = feeds_of([ProwlarrSource(prowlarr.url, prowlarr.api_key)])
        again = await check_feeds(store, followed, fresh, schedule, clock=lambda: now[0])
        assert [c.skipped for c in again] == [True]
        assert len(prowlarr.received) == asked
        now[0] += 1  # 15 minutes on: read again, nothing wanted twice
        await check_feeds(store, followed, fresh, schedule, clock=lambda: now[0])
        assert len(prowlarr.searches) == 4
        assert len(store.books()) == 1


async def test_a_failing_feed_backs_off_and_retry_after_is_honoured(
    store: Store, tmp_path: Path
) -> None:
    followed = [Follow("author", AUTHOR, since=follows.today())]
    schedule = FeedSchedule(tmp_path)
    now = [3_000_000.0]
    async with JackettDouble([fresh_release(NEW)], garbage=True) as jackett:
        feeds = feeds_of([TorznabFeed(jackett.feed_url(), jackett.api_key)])
        (check,) = await check_feeds(store, followed, feeds, schedule, clock=lambda: now[0])
        assert check.error
        state = schedule.load()["audiobookbay (Jackett)"]
        assert state.failures == 1 and state.next_check == now[0] + 2 * MIN_INTERVAL
        asked = len(jackett.received)
        now[0] += MIN_INTERVAL  # the usual interval is not enough after a failure
        (check,) = await check_feeds(store, followed, feeds, schedule, clock=lambda: now[0])
        assert check.skipped and len(jackett.received) == asked
        now[0] += MIN_INTERVAL
        await check_feeds(store, followed, feeds, schedule, clock=lambda: now[0])
        state = schedule.load()["audiobookbay (Jackett)"]
        assert state.failures == 2 and state.next_check == now[0] + 4 * MIN_INTERVAL
        jackett.garbage = False
        now[0] = state.next_check
        await check_feeds(store, followed, feeds, schedule, clock=lambda: now[0])
        assert schedule.load()["audiobookbay (Jackett)"].failures == 0
        assert len(store.books()) == 1
    limited = FakeIndexer(1, "AudioBook Bay", releases=[fresh_release(NEW)], retry_after=7200)
    async with ProwlarrDouble([limited]) as prowlarr:
        feeds = feeds_of([ProwlarrSource(prowlarr.url, prowlarr.api_key)])
        checks = await check_feeds(store, followed, feeds, schedule, clock=lambda: now[0])
        (failed,) = [c for c in checks if c.error]
        assert "rate-limited" in failed.error or "Query Limit" in failed.error
        state = schedule.load()[failed.feed]
        assert state.next_check == now[0] + 7200  # Retry-After beats 2 x 15 minutes


async def test_cli_following_check_reads_the_configured_feed(tmp_path: Path) -> None:
    import json
    import os

    from tests.integration.test_following import _earmark

    profile = tmp_path / "cli-profile"
    async with JackettDouble([fresh_release(NEW)]) as jackett, AudibleDouble(books={}) as audible:
        env = {
            **os.environ,
            "EARMARK_CONFIG_DIR": str(profile),
            "EARMARK_AUDIBLE_URL": audible.url,
            "EARMARK_TORZNAB_URL": jackett.feed_url(),
            "EARMARK_TORZNAB_API_KEY": jackett.api_key,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        FollowList(profile).add(Follow("author", AUTHOR, since=follows.today()))
        code, out, err = await _earmark(env, "following", "--check", "--json")
        assert code == 0, err
        (row,) = json.loads(out)
        assert row["added"] == ["The Third Echo"]
        assert [s.query for s in jackett.searches] == [""]
        code, out, err = await _earmark(env, "following", "--check", "--json")
        assert code == 0, err
        assert json.loads(out)[0]["added"] == []
        assert len(jackett.searches) == 1  # within 15 minutes: the feed is not asked again
    assert json.loads((profile / "feeds.json").read_text())[0]["name"] == "audiobookbay (Jackett)"
