"""The acquisition workflow end to end: real qbittorrent-nox, indexer and ABS doubles.

Want a book -> search -> the best release grabbed into qBittorrent with category and tag
-> a real transfer from a seeding instance -> `downloaded`; plus the detours: a book the
library owns, no results (back-off), a stalled download (blocklisted, next best), a
release qBittorrent already has (linked), qBittorrent down or refusing at grab time.
Nothing leaves 127.0.0.1; waits are conditions with deadlines.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import pytest
from aiohttp import web

from gui.clients.audiobookshelf import AbsClient
from gui.clients.prowlarr import ProwlarrClient
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.ranking import RankingPolicy
from gui.services.library import LibraryIndex
from gui.services.search import ProwlarrSource, TorznabFeed
from gui.services.workflow import (
    ALLOWED_TRANSITIONS,
    NO_LIBRARY_FOLDER,
    Workflow,
    WorkflowSettings,
    book_tag,
    linked_tag,
    want_book,
)
from gui.store import BOOK_STATES, Book, Store
from tests.doubles.audiobookshelf import ADMIN_KEY, AbsServerDouble, BookSpec
from tests.doubles.indexers import (
    FakeIndexer,
    JackettDouble,
    ProwlarrDouble,
    fake_release,
    torrent_bytes,
    torrent_info_hash,
)
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtFactory, QbtInstance
from tests.harness.swarm import Swarm, make_swarm
from tests.harness.wait import async_wait_until, free_port

REPO = Path(__file__).resolve().parents[2]
BEST = "Frank Herbert - Dune (Unabridged) [M4B]"
MP3 = "Frank Herbert - Dune [MP3]"
EPUB = "Frank Herbert - Dune (epub)"
MESSIAH = "Frank Herbert - Dune Messiah [M4B]"


# ---- helpers shared with test_workflow_crash.py -------------------------------------------


class SwarmJackett(JackettDouble):
    """The Jackett double, except that the releases named in `served` download as the
    given .torrent bytes (the swarm's real torrent) instead of the double's generated ones."""

    def __init__(self, releases: Sequence[Mapping[str, Any]], *, served: dict[str, bytes]):
        super().__init__(releases)
        self.served = served
        self.downloads: list[str] = []

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        return self

    def _download(self, indexer: str, request: web.Request) -> web.StreamResponse:
        title = request.query.get("file", "")
        self.downloads.append(title)
        body = self.served.get(title)
        if body is not None and request.query.get("jackett_apikey") == self.api_key:
            return web.Response(body=body, content_type="application/x-bittorrent")
        return super()._download(indexer, request)


def dune_releases() -> list[dict[str, Any]]:
    """The best release (m4b, unabridged, most seeders among acceptable ones) and decoys:
    an mp3 with fewer seeders, an epub, and the wrong book of the series."""
    return [
        fake_release(MP3, seeders=5),
        fake_release(EPUB, seeders=80, size=30 * 1024 * 1024),
        fake_release(BEST, seeders=40),
        fake_release(MESSIAH, seeders=60),
    ]


def qbt_client(instance: QbtInstance, password: str = QBT_PASSWORD) -> QBittorrentClient:
    return QBittorrentClient(QbtConfig(instance.url, QBT_USER, password))


def story(store: Store, book_id: int) -> list[tuple[str, str]]:
    """The book's events, oldest first, as (kind, message)."""
    return [(e.kind, e.message) for e in reversed(store.events(book_id=book_id, limit=1000))]


def state_path(store: Store, book_id: int) -> list[str]:
    return [kind for kind, _ in story(store, book_id) if kind in BOOK_STATES]


def assert_continuous(store: Store, book_id: int) -> list[str]:
    """Every state event follows from the one before: no gap, no impossible jump."""
    path = state_path(store, book_id)
    assert path and path[0] == "wanted", path
    for before, after in itertools.pairwise(path):
        assert after in ALLOWED_TRANSITIONS.get(before, frozenset()), (before, after, path)
    return path


def fresh(store: Store, book: Book) -> Book:
    assert book.id is not None
    found = store.book(book.id)
    assert found is not None
    return found


def tags_of(torrent: Mapping[str, Any]) -> set[str]:
    return {t.strip() for t in str(torrent.get("tags", "")).split(",") if t.strip()}


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def make_workflow(
    store: Store,
    qbt: QBittorrentClient,
    indexers: Sequence[Any],
    *,
    library: LibraryIndex | None = None,
    clock: Clock | None = None,
    prowlarr: Any = None,
    **settings: Any,
) -> Workflow:
    values: dict[str, Any] = {"category": "audiobooks", "pass_interval": 0.1}
    values.update(settings)
    return Workflow(
        store,
        qbt=qbt,
        indexers=list(indexers),
        library=library,
        policy=RankingPolicy(),
        settings=WorkflowSettings(**values),
        clock=clock or Clock(),
        prowlarr=prowlarr,
    )


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


@pytest.fixture
def swarm(qbt_factory: QbtFactory, tmp_path: Path) -> Swarm:
    return make_swarm(qbt_factory, tmp_path, "Dune")


def nowhere() -> QBittorrentClient:
    """A qBittorrent client for tests that must never reach qBittorrent."""
    return QBittorrentClient(QbtConfig(f"http://127.0.0.1:{free_port()}/", "x", "y"))


# ---- end to end ---------------------------------------------------------------------------


async def test_want_search_grab_and_real_download(swarm: Swarm, store: Store) -> None:
    releases = dune_releases()
    async with (
        SwarmJackett(releases, served={BEST: swarm.torrent}) as jackett,
        qbt_client(swarm.leecher) as qbt,
    ):
        feed = TorznabFeed(jackett.feed_url(), jackett.api_key)
        workflow = make_workflow(store, qbt, [feed])
        book, added = want_book(store, "Dune", "Frank Herbert")
        assert added and book.id is not None
        book_id = book.id

        report = await workflow.run_once()
        moves = [(t.from_state, t.to_state) for t in report.transitions]
        assert moves == [
            ("wanted", "searching"),
            ("searching", "grabbed"),
            ("grabbed", "downloading"),
        ], report
        book = fresh(store, book)
        assert book.state == "downloading"
        assert book.torrent_hash == swarm.info_hash
        assert jackett.downloads == [BEST]  # only the chosen release was fetched

        leecher = swarm.leecher_admin()
        torrents = leecher.torrents()
        assert [t["hash"] for t in torrents] == [swarm.info_hash]
        assert torrents[0]["category"] == "audiobooks"
        assert {"earmark", book_tag(book_id)} <= tags_of(torrents[0])

        # every result was saved with its score and reasons; decoys rejected or lower
        saved = {r.title: r for r in store.releases(book_id)}
        assert set(saved) == {BEST, MP3, EPUB, MESSIAH}
        assert "epub" in (saved[EPUB].rejected or "")
        assert saved[MESSIAH].rejected is not None
        assert saved[MP3].rejected is None and saved[MP3].score < saved[BEST].score
        assert saved[BEST].reasons and saved[BEST].info_hash == swarm.info_hash
        assert swarm.info_hash in (saved[BEST].magnet or "")

        swarm.connect(swarm.info_hash)

        async def downloaded() -> bool:
            await workflow.run_once()
            return fresh(store, book).state == "downloaded"

        await async_wait_until(downloaded, 60, 0.2, what="the book to be downloaded")

    book = fresh(store, book)
    assert book.reason == NO_LIBRARY_FOLDER  # this workflow has no library folder to import to
    done = swarm.leecher_admin().torrent(swarm.info_hash)
    assert done is not None and done["progress"] == 1
    assert (Path(done["save_path"]) / "Dune").is_dir()
    assert assert_continuous(store, book_id) == [
        "wanted",
        "searching",
        "grabbed",
        "downloading",
        "downloaded",
    ]
    events = dict(story(store, book_id))
    assert BEST in events["grabbed"] and "score" in events["grabbed"]
    assert "added to qBittorrent" in events["downloading"]
    assert "download complete" in events["downloaded"] and "Dune" in events["downloaded"]
    download = store.download_for(book_id, swarm.info_hash)
    assert download is not None and download.finished_at is not None
    assert download.release_id == saved[BEST].id


# ---- detours ------------------------------------------------------------------------------


async def test_a_book_the_library_owns_is_not_searched(store: Store) -> None:
    owned = BookSpec("Dune", authors=["Frank Herbert"], narrators=["Scott Brick"])
    async with (
        AbsServerDouble(books=[owned]) as abs_double,
        JackettDouble(dune_releases()) as jackett,
        nowhere() as qbt,
    ):
        library = LibraryIndex(store, lambda: AbsClient(abs_double.url, ADMIN_KEY))
        workflow = make_workflow(
            store, qbt, [TorznabFeed(jackett.feed_url(), jackett.api_key)], library=library
        )
        book, _ = want_book(store, "Dune", "Frank Herbert")
        other, _ = want_book(store, "Children of Dune", "Frank Herbert")
        jackett.releases = []  # the other book finds nothing: only it is searched
        report = await workflow.run_once()

    assert report.library is not None and "indexed" in report.library
    assert (report.transitions[0].book_id, report.transitions[0].to_state) == (
        book.id,
        "in_library",
    )
    book = fresh(store, book)
    assert book.state == "in_library"
    assert book.library_path and "Dune" in book.library_path
    assert (
        "already in your Audiobookshelf library" in dict(story(store, book.id or 0))["in_library"]
    )
    assert fresh(store, other).state == "wanted"  # searched, nothing found
    assert len(jackett.searches) >= 1
    assert all("Children" in (s.title or s.query) for s in jackett.searches)
    assert store.releases(book.id or 0) == []


async def test_no_result_backs_off_then_gives_up(store: Store) -> None:
    clock = Clock()
    async with JackettDouble([]) as jackett, nowhere() as qbt:
        workflow = make_workflow(
            store,
            qbt,
            [TorznabFeed(jackett.feed_url(), jackett.api_key)],
            clock=clock,
            backoff_minutes=10,
            backoff_max_minutes=15,
            max_search_attempts=3,
        )
        book, _ = want_book(store, "Dune", "Frank Herbert")

        await workflow.run_once()
        book = fresh(store, book)
        assert (book.state, book.search_attempts) == ("wanted", 1)
        assert book.next_search_at == pytest.approx(clock() + 600, abs=5)
        assert book.reason and "no results" in book.reason
        searches = len(jackett.searches)

        await workflow.run_once()  # not due yet: no search
        assert len(jackett.searches) == searches
        assert fresh(store, book).state == "wanted"

        clock.offset += 601
        await workflow.run_once()
        book = fresh(store, book)
        assert book.search_attempts == 2
        assert book.next_search_at == pytest.approx(clock() + 900, abs=5)  # 20 min, capped

        clock.offset += 901
        await workflow.run_once()
        book = fresh(store, book)
        assert book.state == "failed"
        assert book.reason and "no release found after 3 searches" in book.reason
        assert len(jackett.searches) > searches

        clock.offset += 10_000
        await workflow.run_once()  # failed is final: no more searching
        assert fresh(store, book).state == "failed"
    path = assert_continuous(store, book.id or 0)
    assert path == ["wanted", "searching", "wanted", "searching", "wanted", "searching", "failed"]


async def test_indexers_all_failing_do_not_count_as_a_search(store: Store) -> None:
    async with JackettDouble([], api_key="right") as jackett, nowhere() as qbt:
        feed = TorznabFeed(jackett.feed_url(), "wrong")
        workflow = make_workflow(store, qbt, [feed], max_search_attempts=1)
        book, _ = want_book(store, "Dune", "Frank Herbert")
        await workflow.run_once()
    book = fresh(store, book)
    assert (book.state, book.search_attempts) == ("wanted", 0)
    assert book.reason and "every indexer failed" in book.reason
    kinds = [kind for kind, _ in story(store, book.id or 0)]
    assert "indexer_failed" in kinds


async def test_a_stalled_download_is_blocklisted_and_the_next_best_tried(
    qbt: QbtInstance, store: Store
) -> None:
    # No seeder anywhere: every torrent stalls at 0%.
    first = fake_release(BEST, seeders=40)
    second = fake_release(MP3, seeders=5)
    clock = Clock()
    async with JackettDouble([first, second]) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(
            store,
            client,
            [TorznabFeed(jackett.feed_url(), jackett.api_key)],
            clock=clock,
            stall_minutes=5,
        )
        book, _ = want_book(store, "Dune", "Frank Herbert")
        await workflow.run_once()
        book = fresh(store, book)
        assert (book.state, book.torrent_hash) == ("downloading", torrent_info_hash(first))

        async def settled() -> bool:
            torrent = await client.torrent(torrent_info_hash(first))
            return torrent is not None and torrent["state"] == "stalledDL"

        await async_wait_until(settled, 20, what="the torrent to settle as stalled")
        await workflow.run_once()  # seen stalled, but not for 5 minutes yet
        assert fresh(store, book).state == "downloading"

        # Six minutes pass for the first torrent (the store's stall clock is wall time, so
        # the workflow's clock jumps instead); then time runs normally for the next one.
        clock.offset += 6 * 60
        stalled = await workflow.step(book)
        clock.offset = 0
        added = await workflow.step(book)

    assert stalled is not None and (stalled.from_state, stalled.to_state) == (
        "downloading",
        "grabbed",
    )
    assert added is not None and added.to_state == "downloading"
    book = fresh(store, book)
    assert book.state == "downloading"
    assert book.torrent_hash == torrent_info_hash(second)
    blocked = store.blocklist()
    assert [b["info_hash"] for b in blocked] == [torrent_info_hash(first)]
    assert "stalled" in blocked[0]["reason"] and "at 0%" in blocked[0]["reason"]
    admin = qbt.admin()
    hashes = {t["hash"] for t in admin.torrents()}
    assert hashes == {torrent_info_hash(second)}  # the stalled one (Earmark's) removed
    grabbed = [m for k, m in story(store, book.id or 0) if k == "grabbed"]
    assert "stalled 6 minutes at 0%" in grabbed[-1] and MP3 in grabbed[-1]
    assert_continuous(store, book.id or 0)


async def test_a_torrent_removed_by_the_user_goes_to_the_next_release(
    qbt: QbtInstance, store: Store
) -> None:
    first = fake_release(BEST, seeders=40)
    async with JackettDouble([first]) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        book, _ = want_book(store, "Dune", "Frank Herbert")
        await workflow.run_once()
        assert fresh(store, book).state == "downloading"
        await client.delete([torrent_info_hash(first)], delete_files=True)
        jackett.releases = []  # nothing else exists: a new search finds nothing
        await workflow.run_once()
    book = fresh(store, book)
    assert book.state == "wanted" and book.torrent_hash is None
    assert store.blocked() >= {torrent_info_hash(first)}
    texts = [m for k, m in story(store, book.id or 0) if k == "searching"]
    assert "removed from qBittorrent" in texts[-1]


async def test_a_release_already_in_qbittorrent_is_linked_not_added_twice(
    qbt: QbtInstance, store: Store
) -> None:
    best = fake_release(BEST, seeders=40)
    admin = qbt.admin()
    admin.add_torrent(torrent_bytes(best), category="mine", paused=True)
    admin.wait_for_torrent(torrent_info_hash(best))
    async with JackettDouble([best]) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        book, _ = want_book(store, "Dune", "Frank Herbert")
        await workflow.run_once()
        await workflow.run_once()
    book = fresh(store, book)
    assert (book.state, book.torrent_hash) == ("downloading", torrent_info_hash(best))
    torrents = admin.torrents()
    assert len(torrents) == 1
    assert torrents[0]["category"] == "mine"  # the user's torrent keeps its category
    assert linked_tag(book.id or 0) in tags_of(torrents[0])
    assert book_tag(book.id or 0) not in tags_of(torrents[0])  # never deleted by Earmark
    assert "linked (not added twice)" in dict(story(store, book.id or 0))["downloading"]


async def test_a_torrent_added_just_before_a_crash_is_found_not_added_again(
    qbt: QbtInstance, store: Store
) -> None:
    """The state a kill leaves between `torrents/add` and the `downloading` row: the book
    is `grabbed` with its hash persisted, and qBittorrent already has Earmark's torrent."""
    best = fake_release(BEST, seeders=40)
    best["info_hash"] = torrent_info_hash(best)  # published by the indexer: known at once
    async with SwarmJackett([best], served={}) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        book, _ = want_book(store, "Dune", "Frank Herbert")
        first = await workflow.step(book)
        assert first is not None and first.to_state == "searching"
        await workflow.step(book)
        assert (book.state, book.torrent_hash) == ("grabbed", torrent_info_hash(best))
        admin = qbt.admin()
        tags = f"earmark,{book_tag(book.id or 0)}"
        admin.add_torrent(torrent_bytes(best), category="audiobooks", tags=tags)
        admin.wait_for_torrent(torrent_info_hash(best))
        moved = await workflow.step(book)  # "the restart"
    assert moved is not None and moved.to_state == "downloading"
    assert "already in qBittorrent, added by Earmark earlier" in moved.message
    assert [t["hash"] for t in admin.torrents()] == [torrent_info_hash(best)]
    assert jackett.downloads == []  # nothing fetched again
    assert_continuous(store, book.id or 0)


async def test_a_prowlarr_link_redirecting_to_a_magnet_is_added_as_that_magnet(
    qbt: QbtInstance, store: Store
) -> None:
    magnet = fake_release(BEST, seeders=40, download="magnet")
    async with (
        ProwlarrDouble([FakeIndexer(3, "AudioBook Bay", releases=[magnet])]) as prowlarr,
        qbt_client(qbt) as client,
    ):
        source = ProwlarrSource(prowlarr.url, prowlarr.api_key)
        workflow = make_workflow(store, client, [source])
        book, _ = want_book(store, "Dune", "Frank Herbert")
        await workflow.run_once()
    book = fresh(store, book)
    assert (book.state, book.torrent_hash) == ("downloading", magnet["info_hash"])
    (torrent,) = qbt.admin().torrents()
    assert torrent["hash"] == magnet["info_hash"]
    assert book_tag(book.id or 0) in tags_of(torrent)
    (saved,) = store.releases(book.id or 0)
    assert saved.magnet and magnet["info_hash"] in saved.magnet  # kept to copy


async def test_qbittorrent_down_at_grab_offers_alternatives_then_recovers(
    qbt: QbtInstance, store: Store
) -> None:
    best = fake_release(BEST, seeders=40)
    indexer = FakeIndexer(7, "AudioBook Bay", releases=[best])
    async with ProwlarrDouble([indexer]) as prowlarr, qbt_client(qbt) as client:
        source = ProwlarrSource(prowlarr.url, prowlarr.api_key)
        workflow = make_workflow(
            store,
            client,
            [source],
            prowlarr=lambda: ProwlarrClient(prowlarr.url, prowlarr.api_key),
        )
        book, _ = want_book(store, "Dune", "Frank Herbert")
        qbt.stop()
        await workflow.run_once()
        book = fresh(store, book)
        assert book.state == "grabbed"
        reason = book.reason or ""
        assert "earmark doctor" in reason
        assert "Prowlarr's own download client" in reason
        assert f"magnet:?xt=urn:btih:{torrent_info_hash(best)}" in reason
        assert "tries again on its next pass" in reason
        assert book.torrent_hash == torrent_info_hash(best)  # persisted before adding
        refusals = [k for k, _ in story(store, book.id or 0) if k == "grab_refused"]
        assert refusals == ["grab_refused"]

        await workflow.run_once()  # still down: same reason, no new event
        refusals = [k for k, _ in story(store, book.id or 0) if k == "grab_refused"]
        assert refusals == ["grab_refused"]

        alternatives = await workflow.grab_alternatives(book)
        assert alternatives.prowlarr and alternatives.magnet
        await workflow.send_via_prowlarr(book)
        assert prowlarr.grabs == [{"guid": best["guid"], "indexerId": 7}]

        qbt.restart()
        await workflow.run_once()
    book = fresh(store, book)
    assert book.state == "downloading" and book.reason is None
    assert [t["hash"] for t in qbt.admin().torrents()] == [torrent_info_hash(best)]
    assert assert_continuous(store, book.id or 0) == [
        "wanted",
        "searching",
        "grabbed",
        "downloading",
    ]


async def test_a_refused_login_is_not_retried_every_pass(qbt: QbtInstance, store: Store) -> None:
    best = fake_release(BEST, seeders=40)
    async with (
        JackettDouble([best]) as jackett,
        qbt_client(qbt, password="wrong password") as client,
    ):
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        book, _ = want_book(store, "Dune", "Frank Herbert")
        other, _ = want_book(store, "Dune Messiah", "Frank Herbert")
        jackett.releases = [best, fake_release(MESSIAH, seeders=60)]
        for _ in range(3):
            await workflow.run_once()
        assert client.login_attempts == 1  # one login for all books and all passes
    book = fresh(store, book)
    assert book.state == "grabbed"
    assert book.reason and "will not log in again by itself" in book.reason
    assert fresh(store, other).state == "grabbed"
    assert qbt.admin().torrents() == []


# ---- the CLI ------------------------------------------------------------------------------


async def cli(env: Mapping[str, str], *args: str) -> tuple[int, str, str]:
    """`python -m gui ARGS` without blocking the loop that serves the doubles."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gui",
        *args,
        env=dict(env),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def cli_env(tmp_path: Path, jackett: JackettDouble, qbt_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "EARMARK_CONFIG_DIR": str(tmp_path / "cli-profile"),
        "EARMARK_QBT_URL": qbt_url,
        "EARMARK_QBT_USERNAME": QBT_USER,
        "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
        "EARMARK_TORZNAB_URL": jackett.feed_url(),
        "EARMARK_TORZNAB_API_KEY": jackett.api_key,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


async def test_cli_search_prints_ranked_releases(tmp_path: Path) -> None:
    async with JackettDouble(dune_releases()) as jackett:
        env = cli_env(tmp_path, jackett, f"http://127.0.0.1:{free_port()}/")
        code, out, err = await cli(env, "search", "Dune", "--author", "Frank Herbert", "--json")
        assert code == 0, err
        rows = json.loads(out)
        text_code, text, _ = await cli(env, "search", "Dune", "--author", "Frank Herbert")
    assert [row["title"] for row in rows][:2] == [BEST, MP3]  # accepted first, best first
    assert {row["title"] for row in rows} == {BEST, MP3, EPUB, MESSIAH}
    for row in rows:
        assert set(row) == {
            "title",
            "size",
            "seeders",
            "indexer",
            "score",
            "magnet",
            "download_url",
        }
    assert rows[0]["seeders"] == 40 and rows[0]["score"] > rows[1]["score"]
    assert text_code == 0 and "REJECTED" in text and jackett.api_key not in text


async def test_cli_search_without_a_working_indexer_exits_1(tmp_path: Path) -> None:
    async with JackettDouble([], api_key="the-right-key") as jackett:
        env = cli_env(tmp_path, jackett, f"http://127.0.0.1:{free_port()}/")
        env["EARMARK_TORZNAB_API_KEY"] = "a-wrong-key"
        code, out, err = await cli(env, "search", "Dune", "--json")
    assert (code, out) == (1, "")
    assert "API key" in err and "a-wrong-key" not in err


async def test_cli_want_then_run_once(qbt: QbtInstance, tmp_path: Path) -> None:
    async with JackettDouble(dune_releases()) as jackett:
        env = cli_env(tmp_path, jackett, qbt.url)
        code, out, err = await cli(env, "want", "Dune", "--author", "Frank Herbert", "--json")
        assert code == 0, err
        book = json.loads(out)
        code, out, err = await cli(env, "run", "--once", "--json")
        assert code == 0, err
        report = json.loads(out)
        code, out, err = await cli(env, "queue", "--json")
    assert code == 0, err
    assert [(t["from"], t["to"]) for t in report["transitions"]] == [
        ("wanted", "searching"),
        ("searching", "grabbed"),
        ("grabbed", "downloading"),
    ]
    (queued,) = json.loads(out)
    best = next(r for r in dune_releases() if r["title"] == BEST)
    assert queued == {**book, "state": "downloading", "hash": torrent_info_hash(best)}
    assert QBT_PASSWORD not in out + err
