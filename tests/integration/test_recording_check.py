"""Before a grab, the .torrent's file list is checked: an ebook under an audiobook's name is
refused with the reason and the next release is grabbed (real qBittorrent, Jackett double)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gui.services.search import TorznabFeed
from gui.services.workflow import want_book
from gui.store import Store
from tests.doubles.indexers import JackettDouble, fake_release, torrent_info_hash
from tests.harness.qbt import QbtInstance
from tests.integration.test_workflow import fresh, make_workflow, qbt_client, story

MIB = 1024 * 1024
DISGUISED = "Frank Herbert - Dune (Unabridged) [M4B]"
REAL = "Frank Herbert - Dune [MP3]"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


async def test_a_torrent_without_audio_is_refused_before_it_is_added(
    qbt: QbtInstance, store: Store
) -> None:
    disguised = fake_release(
        DISGUISED,
        seeders=90,
        contents=[("Dune/Dune.epub", 2 * MIB), ("Dune/Dune.pdf", 6 * MIB), ("Dune/cover.jpg", MIB)],
    )
    real = fake_release(
        REAL, seeders=5, contents=[(f"Dune/Dune {n:02}.mp3", 30 * MIB) for n in range(1, 5)]
    )
    async with JackettDouble([disguised, real]) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        book, _ = want_book(store, "Dune", "Frank Herbert")
        assert book.id is not None
        for _ in range(4):  # search, refuse and replace, grab the next: a few passes at most
            await workflow.run_once()
            if fresh(store, book).state == "downloading":
                break
        book = fresh(store, book)
        assert book.state == "downloading", story(store, book.id or 0)
        assert book.torrent_hash == torrent_info_hash(real)
        hashes = [t["hash"] for t in qbt.admin().torrents()]
        assert hashes == [torrent_info_hash(real)]  # the ebook never reached qBittorrent

    assert disguised["guid"] in store.blocked()  # never grabbed again
    saved = {r.title: r for r in store.releases(book.id or 0)}
    assert saved[DISGUISED].score > saved[REAL].score  # its title ranked it first
    events = " | ".join(message for _, message in story(store, book.id or 0))
    assert "no audio files in the torrent (1 epub, 1 pdf)" in events


async def test_a_queued_books_running_time_refuses_an_abridged_release(
    qbt: QbtInstance, store: Store
) -> None:
    """The wanted edition runs 21 h (stored with the book): 20 MB of audio cannot hold it,
    so that release is refused and the full one grabbed."""
    abridged = fake_release(
        "Frank Herbert - Dune [MP3]",
        seeders=90,
        contents=[(f"Dune/Dune {n:02}.mp3", 5 * MIB) for n in range(1, 5)],
    )
    full = fake_release(
        "Frank Herbert - Dune [MP3]-2007",
        seeders=5,
        contents=[(f"Dune/Dune {n:02}.mp3", 60 * MIB) for n in range(1, 5)],
    )
    async with JackettDouble([abridged, full]) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        book, _ = want_book(store, "Dune", "Frank Herbert", duration=21 * 3600)
        assert book.id is not None
        for _ in range(4):
            await workflow.run_once()
            if fresh(store, book).state == "downloading":
                break
        book = fresh(store, book)
        assert book.state == "downloading", story(store, book.id or 0)
        assert book.torrent_hash == torrent_info_hash(full)
        assert [t["hash"] for t in qbt.admin().torrents()] == [torrent_info_hash(full)]
    assert abridged["guid"] in store.blocked()
    saved = {r.title: r for r in store.releases(book.id or 0)}
    assert saved[abridged["title"]].score > saved[full["title"]].score  # ranked first
    events = " | ".join(message for _, message in story(store, book.id or 0))
    assert "too little for the wanted 21.0 h" in events


async def test_the_running_time_of_a_book_with_an_asin_comes_from_audible(
    qbt: QbtInstance, store: Store
) -> None:
    """Wanted with an ASIN and no running time: Audnexus's 600 minutes are stored before
    the search, and 20 MB of audio for a 10 h book is refused before the grab."""
    from gui.clients.metadata_providers import AudibleProvider
    from tests.doubles.metadata_providers import AudibleDouble
    from tests.integration.test_following import saga_book

    abridged = fake_release(
        "Test Author - The First Echo [MP3]",
        seeders=90,
        contents=[(f"Echo/Echo {n:02}.mp3", 5 * MIB) for n in range(1, 5)],
    )
    full = fake_release(
        "Test Author - The First Echo [MP3]-2019",
        seeders=5,
        contents=[(f"Echo/Echo {n:02}.mp3", 60 * MIB) for n in range(1, 5)],
    )
    books = {"B0SAGA0001": saga_book("B0SAGA0001", "The First Echo", "1", "2019-03-01")}
    async with (
        AudibleDouble(books=books) as audible,
        AudibleProvider(audible_url=audible.url, audnexus_url=audible.url) as provider,
        JackettDouble([abridged, full]) as jackett,
        qbt_client(qbt) as client,
    ):
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
        workflow.running_time = lambda book: provider.running_time(book.asin)
        book, _ = want_book(store, "The First Echo", "Test Author", asin="B0SAGA0001")
        assert book.id is not None and book.duration == 0
        for _ in range(4):
            await workflow.run_once()
            if fresh(store, book).state == "downloading":
                break
        book = fresh(store, book)
        assert book.state == "downloading", story(store, book.id or 0)
        assert book.duration == 600 * 60
        assert book.torrent_hash == torrent_info_hash(full)
        asked = [r.path for r in audible.received if "B0SAGA0001" in r.path]
        assert len(asked) == 1  # asked once, not at every search
    events = " | ".join(message for _, message in story(store, book.id or 0))
    assert "running time 10.0 h (Audible B0SAGA0001)" in events
    assert "too little for the wanted 10.0 h" in events


async def test_a_failing_catalogue_leaves_the_search_to_go_on(
    qbt: QbtInstance, store: Store
) -> None:
    from gui.clients.errors import UnreachableError

    real = fake_release(
        REAL, seeders=5, contents=[(f"Dune/Dune {n:02}.mp3", 30 * MIB) for n in (1, 2)]
    )
    async with JackettDouble([real]) as jackett, qbt_client(qbt) as client:
        workflow = make_workflow(store, client, [TorznabFeed(jackett.feed_url(), jackett.api_key)])

        async def unreachable(book: Any) -> float | None:
            raise UnreachableError("api.audnex.us cannot be reached", service="Audnexus")

        workflow.running_time = unreachable
        book, _ = want_book(store, "Dune", "Frank Herbert", asin="B002V1A0WE")
        for _ in range(3):
            await workflow.run_once()
            if fresh(store, book).state == "downloading":
                break
        book = fresh(store, book)
        assert book.state == "downloading" and book.duration == 0
    events = " | ".join(message for _, message in story(store, book.id or 0))
    assert "no running time from Audible: Audnexus: api.audnex.us cannot be reached" in events
