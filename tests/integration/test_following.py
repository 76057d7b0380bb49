"""Following a series or an author against the Audible catalogue double, and end to end:
follow a series -> a new book appears in the catalogue and at the indexer -> grabbed ->
downloaded from a real seeding qBittorrent -> imported into the library."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gui.clients.metadata_providers import AudibleProvider
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.ranking import RankingPolicy
from gui.services import following as follows
from gui.services.following import MIN_INTERVAL, Follow, FollowList
from gui.services.importing import Importer, ImportOptions
from gui.services.search import TorznabFeed
from gui.services.workflow import Workflow, WorkflowSettings, want_book
from gui.store import Store
from tests.doubles.indexers import fake_release
from tests.doubles.metadata_providers import AudibleDouble
from tests.harness.audiobook import AUTHOR
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtFactory
from tests.harness.swarm import make_swarm
from tests.harness.wait import async_wait_until
from tests.integration.test_workflow import SwarmJackett, fresh, story

SAGA = "The Loopback Saga"
NEW_TITLE = "The Third Echo"
REPO = Path(__file__).resolve().parents[2]


def saga_book(asin: str, title: str, position: str, released: str, **extra: Any) -> dict[str, Any]:
    """An Audnexus ``Book`` (docs/spec/audnexus.yaml) of the test series."""
    book: dict[str, Any] = {
        "asin": asin,
        "authors": [{"asin": "B0TESTAUTH", "name": AUTHOR}],
        "description": f"Book {position} of the saga.",
        "formatType": "unabridged",
        "genres": [{"asin": "18580606011", "name": "Science Fiction & Fantasy", "type": "genre"}],
        "image": f"images/I/{asin}.jpg",
        "isAdult": False,
        "language": "english",
        "narrators": [{"name": "Nora Reader"}],
        "publisherName": "Loopback Press",
        "region": "us",
        "releaseDate": f"{released}T00:00:00.000Z",
        "runtimeLengthMin": 600,
        "seriesPrimary": {"asin": "B0SAGA0000", "name": SAGA, "position": position},
        "summary": f"<p>Book {position} of the saga.</p>",
        "title": title,
    }
    book.update(extra)
    return book


def catalogue() -> dict[str, dict[str, Any]]:
    return {
        "B0SAGA0001": saga_book("B0SAGA0001", "The First Echo", "1", "2019-03-01"),
        "B0SAGA0002": saga_book("B0SAGA0002", "The Second Echo", "2", "2021-06-01"),
        "B0OTHER001": saga_book("B0OTHER001", "A Standalone Tale", "", "2022-01-01",
                                seriesPrimary=None),
    }  # fmt: skip


def tomorrow() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


def provider(double: AudibleDouble) -> AudibleProvider:
    return AudibleProvider(audible_url=double.url, audnexus_url=double.url)


async def test_a_series_is_listed_in_order_and_only_new_releases_are_added(
    store: Store, tmp_path: Path
) -> None:
    async with AudibleDouble(books=catalogue()) as double, provider(double) as catalog:
        follow = Follow("series", SAGA, author=AUTHOR, since=follows.today())
        first = await follows.check(follow, catalog, store)
        assert [i.entry.meta.title for i in first.listed] == ["The First Echo", "The Second Echo"]
        assert [i.status for i in first.listed] == ["older", "older"]  # the back catalogue
        assert store.books() == []  # nothing added unasked
        assert first.follow.next_check >= first.follow.last_checked + MIN_INTERVAL
        request = double.received[-1]
        assert request.query["products_sort_by"] == "-ReleaseDate"
        assert request.query["keywords"] == SAGA and request.query["author"] == AUTHOR

        double.books["B0SAGA0003"] = saga_book("B0SAGA0003", NEW_TITLE, "3", tomorrow())
        second = await follows.check(first.follow, catalog, store)

    assert [(i.entry.meta.title, i.status) for i in second.listed][-1] == (NEW_TITLE, "added")
    (book,) = store.books()
    assert (book.title, book.author, book.series, book.position, book.asin) == (
        NEW_TITLE, AUTHOR, SAGA, "3", "B0SAGA0003"
    )  # fmt: skip
    assert book.duration == 600 * 60  # the catalogue's running time, for the grab's check
    assert "a new release of the followed series" in story(store, book.id or 0)[-1][1]
    third = await _again(second.follow, store)
    assert [i.status for i in third.listed][-1] == "wanted"  # never added twice


async def _again(follow: Follow, store: Store) -> follows.CheckReport:
    catalog_books = {
        **catalogue(),
        "B0SAGA0003": saga_book("B0SAGA0003", NEW_TITLE, "3", tomorrow()),
    }
    async with AudibleDouble(books=catalog_books) as double, provider(double) as catalog:
        return await follows.check(follow, catalog, store)


async def test_list_only_adds_nothing_and_picked_books_are_wanted(store: Store) -> None:
    async with AudibleDouble(books=catalogue()) as double, provider(double) as catalog:
        follow = Follow("author", AUTHOR, new_only=False, since="2000-01-01")
        report = await follows.check(follow, catalog, store)
        assert len(report.listed) == 3 and store.books() == []
        added = await follows.pick(store, report.follow, report, ["b0saga0002"])
    assert [b.title for b in added] == ["The Second Echo"]
    assert [b.title for b in store.books()] == ["The Second Echo"]


async def test_owned_and_queued_books_are_not_added(store: Store) -> None:
    from gui.services.library import OwnedIndex
    from gui.store import OwnedBook

    owned = OwnedIndex(
        [OwnedBook(abs_item_id="x", library_id="lib", title="The First Echo", authors=AUTHOR,
                   asin="B0SAGA0001", path="/lib/1")]
    )  # fmt: skip
    want_book(store, "The Second Echo", AUTHOR)
    async with AudibleDouble(books=catalogue()) as double, provider(double) as catalog:
        follow = Follow("series", SAGA, since="2000-01-01")  # everything counts as new
        report = await follows.check(follow, catalog, store, owned=owned)
    assert [i.status for i in report.listed] == ["owned", "wanted"]
    assert len(store.books()) == 1


async def test_a_failing_catalogue_backs_off_and_due_checks_wait(
    store: Store, tmp_path: Path
) -> None:
    stored = FollowList(tmp_path)
    stored.add(Follow("author", AUTHOR, since=follows.today()))
    now = [1_000_000.0]
    async with (
        AudibleDouble(books=catalogue(), mode="error") as double,
        provider(double) as catalog,
    ):
        (report,) = await follows.check_due(store, stored, catalog, clock=lambda: now[0])
        assert report.error and "500" in report.error
        (saved,) = stored.load()
        assert saved.failures == 1 and saved.next_check >= now[0] + 2 * MIN_INTERVAL
        asked = len(double.received)
        now[0] += MIN_INTERVAL  # not due yet: the catalogue is not asked
        assert await follows.check_due(store, stored, catalog, clock=lambda: now[0]) == []
        assert len(double.received) == asked


async def test_follow_a_series_then_a_new_book_is_grabbed_downloaded_and_imported(
    qbt_factory: QbtFactory, store: Store, tmp_path: Path
) -> None:
    # The new book, seeded elsewhere: three 20 s tracks, the minute its catalogue entry
    # says it runs (the grab's size check and the import's duration check both pass).
    swarm = make_swarm(qbt_factory, tmp_path, NEW_TITLE, seconds=20.0)
    release_title = f"{AUTHOR} - {SAGA} 03 - {NEW_TITLE} [MP3]"
    size = sum(p.stat().st_size for p in swarm.book_dir.rglob("*.mp3"))
    release = fake_release(release_title, seeders=20, size=size)
    library = tmp_path / "library"
    library.mkdir()
    config = QbtConfig(swarm.leecher.url, QBT_USER, QBT_PASSWORD)
    async with (
        AudibleDouble(books=catalogue()) as double,
        provider(double) as catalog,
        SwarmJackett([], served={release_title: swarm.torrent}) as jackett,
        QBittorrentClient(config) as qbt,
    ):
        stored = FollowList(tmp_path / "profile")
        stored.add(Follow("series", SAGA, author=AUTHOR, since=follows.today()))
        assert (await follows.check_due(store, stored, catalog))[0].added == ()

        # Later: the publisher releases book 3 and an uploader posts it.
        double.books["B0SAGA0003"] = saga_book(
            "B0SAGA0003", NEW_TITLE, "3", tomorrow(), runtimeLengthMin=1
        )
        jackett.releases = [release]
        (report,) = await follows.check_due(store, stored, catalog, force=True)
        (added,) = report.added
        assert added.entry.meta.title == NEW_TITLE

        workflow = Workflow(
            store,
            qbt=qbt,
            indexers=[TorznabFeed(jackett.feed_url(), jackett.api_key)],
            library=None,
            policy=RankingPolicy(min_size_mb=None),
            settings=WorkflowSettings(category="audiobooks", pass_interval=0.1),
            importer=Importer(ImportOptions(library_dir=str(library))),
        )
        await workflow.run_once()
        (book,) = store.books()
        assert book.state == "downloading", story(store, book.id or 0)
        assert book.torrent_hash == swarm.info_hash
        swarm.connect(swarm.info_hash)

        async def imported() -> bool:
            await workflow.run_once()
            return fresh(store, book).state == "in_library"

        await async_wait_until(imported, 90, 0.2, what="the followed book to be imported")

    book = fresh(store, book)
    assert book.duration == 60.0  # the catalogue's running time, checked at both ends
    assert book.library_path is not None
    folder = Path(book.library_path)
    assert folder.is_relative_to(library)
    assert SAGA in folder.as_posix() and NEW_TITLE in folder.name
    assert [p.suffix for p in _files(folder)].count(".mp3") == 3  # every track, copied
    kinds = [kind for kind, _ in story(store, book.id or 0)]
    assert kinds[:1] == ["wanted"] and "in_library" in kinds


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file()]


async def _earmark(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    import asyncio
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gui", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        cwd=REPO,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_cli_follow_lists_picks_and_following_shows_it(tmp_path: Path) -> None:
    import json
    import os

    profile = tmp_path / "cli-profile"
    async with AudibleDouble(books=catalogue()) as double:
        env = {
            **os.environ,
            "EARMARK_CONFIG_DIR": str(profile),
            "EARMARK_AUDIBLE_URL": double.url,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        code, out, err = await _earmark(
            env, "follow", AUTHOR, "--series", SAGA, "--pick", "B0SAGA0001", "--json"
        )
        assert code == 0, err
        document = json.loads(out)
        assert [b["title"] for b in document["books"]] == ["The First Echo", "The Second Echo"]
        assert len(document["picked"]) == 1
        code, out, err = await _earmark(env, "following", "--json")
        assert code == 0, err
        (row,) = json.loads(out)
        assert (row["kind"], row["name"], row["author"], row["new_only"]) == (
            "series", SAGA, AUTHOR, True
        )  # fmt: skip
        code, _, err = await _earmark(env, "follow", "--json")
        assert code == 1 and "say whom to follow" in err
    opened = Store.open_in(profile)
    try:
        assert [b.title for b in opened.books()] == ["The First Echo"]
    finally:
        opened.close()
