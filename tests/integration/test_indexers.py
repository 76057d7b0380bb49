"""Prowlarr and Torznab clients and the parallel search, against loopback doubles.

The doubles (`tests/doubles/indexers.py`) answer as the real servers' source code says;
what a client sent is read back from the double's own records. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from gui.clients.errors import AuthError, HttpStatusError, ProtocolError, UnreachableError
from gui.clients.prowlarr import (
    GrabFailedError,
    NotProwlarrError,
    ProwlarrClient,
    ReleaseNotCachedError,
    book_query,
)
from gui.clients.torrent_fetch import fetch_torrent
from gui.clients.torznab import (
    MalformedFeedError,
    RateLimitedError,
    TorznabAuthError,
    TorznabClient,
    UnsafeXmlError,
)
from gui.core.ranking import RankingPolicy, Release, Wanted, rank
from gui.core.release_title import clear_caches, parse_release_title
from gui.core.torrents import Magnet, TorrentFile
from gui.services.search import (
    Indexer,
    IndexerFailure,
    ProwlarrSource,
    TorznabFeed,
    UnusableIndexer,
    deduplicate,
    indexers_from_settings,
    search_all,
)
from gui.services.search import book_query as wanted_query
from gui.settings import SecretStore, Settings
from tests.doubles.indexers import (
    FakeIndexer,
    JackettDouble,
    ProwlarrDouble,
    fake_release,
    torrent_info_hash,
)
from tests.doubles.services import AUDIO, BOOKS, Caps, Category
from tests.harness.servers import serving
from tests.harness.wait import free_port

DUNE = Wanted(title="Dune", author="Frank Herbert")


def dune_releases(prefix: str = "", n: int = 3) -> list[dict[str, Any]]:
    return [
        fake_release(f"{prefix}Frank Herbert - Dune (Unabridged) [M4B] part {i}", seeders=10 + i)
        for i in range(n)
    ]


async def test_prowlarr_status_and_indexers() -> None:
    indexers = [
        FakeIndexer(3, "MyAnonamouse", privacy="private", priority=10),
        FakeIndexer(1, "AudioBook Bay", caps=Caps(book_params=("q",))),
        FakeIndexer(2, "Disabled One", enable=False),
        FakeIndexer(4, "NZBgeek", protocol="usenet"),
    ]
    async with (
        ProwlarrDouble(indexers, instance_name="Attic") as prowlarr,
        ProwlarrClient(prowlarr.url, prowlarr.api_key) as client,
    ):
        status = await client.status()
        found = await client.indexers()
        everything = await client.indexers(enabled_only=False, protocol=None)
    assert (status.app_name, status.instance_name, status.version) == (
        "Prowlarr",
        "Attic",
        prowlarr.version,
    )
    assert [(ix.id, ix.name) for ix in found] == [(3, "MyAnonamouse"), (1, "AudioBook Bay")]
    mam = found[0]
    assert (mam.protocol, mam.privacy, mam.priority, mam.enabled) == (
        "torrent",
        "private",
        10,
        True,
    )
    assert mam.book_search_params == ("q", "title", "author") and mam.book_search
    assert {3000, 3030, 7000, 7020} <= mam.categories
    assert not found[1].book_search
    assert len(everything) == 4
    for request in prowlarr.received:
        assert request.headers["X-Api-Key"] == prowlarr.api_key
        assert "apikey" not in request.query


async def test_prowlarr_search_normalises_every_field() -> None:
    published = datetime(2023, 2, 3, 4, 5, 6, tzinfo=UTC)
    torrent = fake_release(
        "Frank Herbert - Dune [M4B]", size=1234567, seeders=7, leechers=2, grabs=9, files=4,
        publish_date=published, info_hash="AB" * 20, categories=[3030, 100030],
    )  # fmt: skip
    magnet = fake_release("Dune.Frank.Herbert.MP3", download="magnet", seeders=3, leechers=0)
    async with (
        ProwlarrDouble([FakeIndexer(5, "ABB", releases=[torrent, magnet])]) as prowlarr,
        ProwlarrClient(prowlarr.url, prowlarr.api_key) as client,
    ):
        releases = await client.search("Dune Herbert", indexer_ids=(5,))
    first, second = releases
    assert first.title == "Frank Herbert - Dune [M4B]"
    assert (first.size, first.seeders, first.leechers, first.grabs, first.files) == (
        1234567, 7, 2, 9, 4,
    )  # fmt: skip
    assert (first.indexer, first.indexer_id, first.guid) == ("ABB", 5, torrent["guid"])
    assert first.publish_date == published
    assert first.info_hash == "ab" * 20
    assert first.categories == (3030, 100030)
    assert first.protocol == "torrent"
    assert first.magnet is None
    assert first.download_url is not None
    assert first.download_url.startswith(f"{prowlarr.url}5/download?apikey=")
    # Prowlarr rewrites magnetUrl to its http proxy: a download URL, not a magnet.
    assert second.magnet is None
    assert second.download_url is not None and "/5/download?" in second.download_url
    assert second.info_hash == magnet["info_hash"]
    (seen,) = prowlarr.searches
    assert (seen.type, seen.query, seen.indexer_ids, seen.categories, seen.limit) == (
        "search", "Dune Herbert", (5,), (3030,), 100,
    )  # fmt: skip


async def test_prowlarr_repeats_indexer_ids_and_categories() -> None:
    indexers = [FakeIndexer(i, f"ix{i}", releases=dune_releases(f"[{i}] ")) for i in (1, 2, 3)]
    async with (
        ProwlarrDouble(indexers) as prowlarr,
        ProwlarrClient(prowlarr.url, prowlarr.api_key) as client,
    ):
        releases = await client.search("Dune", indexer_ids=(1, 3), categories=(3030, 7020))
    assert {r.indexer_id for r in releases} == {1, 3}
    (seen,) = prowlarr.searches
    assert seen.indexer_ids == (1, 3) and seen.categories == (3030, 7020)


async def test_prowlarr_book_search_uses_query_tokens() -> None:
    assert book_query("extra", author="Frank {Herbert}", title="Dune") == (
        "{author:Frank Herbert}{title:Dune} extra"
    )
    async with (
        ProwlarrDouble([FakeIndexer(1, "ABB", releases=dune_releases())]) as prowlarr,
        ProwlarrClient(prowlarr.url, prowlarr.api_key) as client,
    ):
        found = await client.search("", type="book", author="Frank Herbert", title="Dune")
    assert len(found) == 3
    (seen,) = prowlarr.searches
    assert (seen.type, seen.author, seen.title, seen.query) == ("book", "Frank Herbert", "Dune", "")


async def test_prowlarr_wrong_key_is_401_with_an_empty_body() -> None:
    async with (
        ProwlarrDouble() as prowlarr,
        ProwlarrClient(prowlarr.url, "wrong-key-0123456789") as client,
    ):
        with pytest.raises(AuthError, match="Prowlarr refused the API key") as caught:
            await client.search("Dune")
    assert caught.value.status == 401
    assert "wrong-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "status", "content_type"),
    [
        ("<html><body>Router login</body></html>", 200, "text/html"),
        ("<html><body>Not Found</body></html>", 404, "text/html"),
        ("", 404, "text/plain"),
    ],
)
async def test_prowlarr_address_that_is_not_prowlarr(
    body: str, status: int, content_type: str
) -> None:
    async with (
        serving(body, status=status, content_type=content_type) as url,
        ProwlarrClient(url, "key") as client,
    ):
        with pytest.raises(NotProwlarrError, match=r"not Prowlarr \(check the URL and base path"):
            await client.status()


async def test_prowlarr_400_message_is_the_error() -> None:
    async with (
        ProwlarrDouble([FakeIndexer(1, "ABB", failure="unavailable")]) as prowlarr,
        ProwlarrClient(prowlarr.url, prowlarr.api_key) as client,
    ):
        with pytest.raises(HttpStatusError) as caught:
            await client.search("Dune", indexer_ids=(1,))
    assert caught.value.status == 400
    assert caught.value.message == "Search failed due to all selected indexers being unavailable"
    assert "NzbDroneClientException" not in str(caught.value)  # the stack trace stays out


async def test_prowlarr_unreachable() -> None:
    async with ProwlarrClient(f"http://127.0.0.1:{free_port()}/", "key") as client:
        with pytest.raises(UnreachableError, match="connection refused"):
            await client.status()


async def test_grab_sends_a_recent_release_and_refuses_an_expired_one() -> None:
    releases = dune_releases(n=2)
    indexers = [
        FakeIndexer(7, "MAM", releases=releases),
        FakeIndexer(8, "Flaky", releases=dune_releases("F "), grab_fails=True),
    ]
    async with (
        ProwlarrDouble(indexers) as prowlarr,
        ProwlarrClient(prowlarr.url, prowlarr.api_key) as client,
    ):
        with pytest.raises(ReleaseNotCachedError, match="search again"):
            await client.grab(releases[0]["guid"], 7)  # never searched
        found = await client.search("Dune")
        mine = next(r for r in found if r.indexer_id == 7)
        await client.grab(mine.guid, 7, download_client_id=2)
        flaky = next(r for r in found if r.indexer_id == 8)
        with pytest.raises(GrabFailedError, match="Getting release from indexer failed"):
            await client.grab(flaky.guid, 8)
        prowlarr.expire_cache()  # thirty minutes later
        with pytest.raises(ReleaseNotCachedError) as caught:
            await client.grab(mine.guid, 7)
        with pytest.raises(HttpStatusError, match="'Guid' must not be empty"):
            await client.grab("", 7)
    assert caught.value.status == 404
    assert prowlarr.grabs == [{"guid": mine.guid, "indexerId": 7, "downloadClientId": 2}]


async def test_prowlarr_download_urls_resolve_to_a_torrent_or_a_magnet() -> None:
    torrent = fake_release("Andy Weir - Project Hail Mary [M4B]")
    magnet = fake_release("Andy Weir - The Martian [MP3]", download="magnet")
    async with ProwlarrDouble([FakeIndexer(2, "ABB", releases=[torrent, magnet])]) as prowlarr:
        async with ProwlarrClient(prowlarr.url, prowlarr.api_key) as client:
            by_title = {r.title: r for r in await client.search("Andy Weir")}
        as_torrent = await fetch_torrent(by_title[torrent["title"]].download_url or "")
        as_magnet = await fetch_torrent(by_title[magnet["title"]].download_url or "")
    assert isinstance(as_torrent, TorrentFile)
    assert as_torrent.info_hash == torrent_info_hash(torrent)
    assert as_torrent.name == torrent["title"]
    assert isinstance(as_magnet, Magnet)
    assert as_magnet.info_hash == magnet["info_hash"]


async def test_large_answers_are_read_whole_and_capped() -> None:
    """Hundreds of kB arrive in many chunks: all of it is read, up to the client's cap."""
    many = [fake_release(f"Frank Herbert - Dune part {i:03d} " + "x" * 200) for i in range(600)]
    async with (
        ProwlarrDouble([FakeIndexer(1, "ABB", releases=many)]) as prowlarr,
        JackettDouble(many) as jackett,
    ):
        async with ProwlarrClient(prowlarr.url, prowlarr.api_key) as client:
            assert len(await client.search("Dune", limit=600)) == 600
        async with TorznabClient(jackett.feed_url(), jackett.api_key) as feed:
            assert len(await feed.search("Dune", limit=600)) == 600
        async with TorznabClient(jackett.feed_url(), jackett.api_key, max_bytes=64_000) as feed:
            with pytest.raises(MalformedFeedError, match=r"answered more than 62\.5 kB"):
                await feed.search("Dune", limit=600)
        async with ProwlarrClient(prowlarr.url, prowlarr.api_key, max_bytes=64_000) as client:
            with pytest.raises(ProtocolError, match=r"answered more than 62\.5 kB"):
                await client.search("Dune", limit=600)


# ---- Jackett and Torznab feeds ---------------------------------------------------------------


async def test_jackett_search_maps_every_field() -> None:
    magnet = fake_release(
        "Frank Herbert - Dune [M4B]", download="magnet", seeders=30, leechers=5, files=3, grabs=11,
        categories=[3030, 100030],
    )  # fmt: skip
    torrent = fake_release("Dune Messiah - Frank Herbert [MP3]", seeders=4, leechers=1)
    async with (
        JackettDouble([magnet, torrent]) as jackett,
        TorznabClient(jackett.feed_url(), jackett.api_key) as client,
    ):
        items = await client.search_items("Dune Herbert", author="Frank Herbert", title="Dune")
        releases = await client.search("Dune Herbert", author="Frank Herbert", title="Dune")
    first, second = releases
    assert first.title == magnet["title"]
    assert first.magnet == magnet["magnet"]
    assert first.info_hash == magnet["info_hash"]
    assert (first.seeders, first.leechers, first.files, first.grabs) == (30, 5, 3, 11)
    assert first.size == magnet["size"]
    assert first.categories == (3030, 100030)
    assert first.indexer == "AudioBook Bay"
    assert first.publish_date == magnet["publish_date"]
    assert first.guid == magnet["guid"]
    assert second.magnet is None and second.info_hash is None
    assert second.download_url is not None and "/dl/audiobookbay/" in second.download_url
    assert items[0].comments == magnet["guid"]
    assert items[0].download_volume_factor == 1.0
    assert items[0].enclosure_type == "application/x-bittorrent"
    assert jackett.received[0].query["t"] == "caps"
    assert len([r for r in jackett.received if r.query.get("t") == "caps"]) == 1  # cached


async def test_caps_decide_between_book_and_free_text_search() -> None:
    async with (
        JackettDouble(dune_releases()) as with_book,
        JackettDouble(dune_releases(), caps=Caps(book_params=("q",))) as without_book,
    ):
        for double in (with_book, without_book):
            async with TorznabClient(double.feed_url(), double.api_key) as client:
                found = await client.search("Dune Herbert", author="Frank Herbert", title="Dune")
            assert len(found) == 3
    (book,) = with_book.searches
    assert (book.type, book.author, book.title, book.query, book.categories) == (
        "book", "Frank Herbert", "Dune", "", (3030,),
    )  # fmt: skip
    (plain,) = without_book.searches
    assert (plain.type, plain.author, plain.title, plain.query) == (
        "search",
        None,
        None,
        "Dune Herbert",
    )


async def test_a_feed_without_audiobooks_is_searched_in_the_parent_category() -> None:
    caps = Caps(categories=(Category(3000, "Audio", ((3010, "Audio/MP3"),)), BOOKS))
    async with (
        JackettDouble(dune_releases(), caps=caps) as jackett,
        TorznabClient(jackett.feed_url(), jackett.api_key) as client,
    ):
        await client.search("Dune Herbert")
    assert jackett.searches[0].categories == (3000,)


async def test_jackett_wrong_key_is_http_200_with_code_100() -> None:
    async with (
        JackettDouble(dune_releases()) as jackett,
        TorznabClient(jackett.feed_url(), "wrong-key-0123456789") as client,
    ):
        with pytest.raises(TorznabAuthError) as caught:
            await client.search("Dune")
    assert (caught.value.code, caught.value.status) == (100, 200)
    assert caught.value.description == "Invalid API Key"
    assert "wrong-key" not in str(caught.value)


async def test_jackett_garbage_is_malformed_xml() -> None:
    async with (
        JackettDouble(dune_releases(), garbage=True) as jackett,
        TorznabClient(jackett.feed_url(), jackett.api_key) as client,
    ):
        with pytest.raises(MalformedFeedError, match="not Torznab XML"):
            await client.search("Dune")


async def test_jackett_rate_limit_says_when_to_retry() -> None:
    async with (
        JackettDouble(dune_releases(), retry_after=600) as jackett,
        TorznabClient(jackett.feed_url(), jackett.api_key) as client,
    ):
        with pytest.raises(RateLimitedError, match="try again in 10 min") as caught:
            await client.search("Dune")
    assert caught.value.retry_after == 600 and caught.value.status == 429


async def test_an_xml_bomb_from_the_network_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><caps><server title="&lol2;"/></caps>'
    )
    async with (
        serving(bomb, content_type="application/xml") as url,
        TorznabClient(url, "key") as client,
    ):
        with pytest.raises(UnsafeXmlError):
            await client.caps()


async def test_jackett_torrent_download_and_magnet_redirect() -> None:
    torrent = fake_release("Project Hail Mary [M4B]")
    magnet = fake_release("The Martian [MP3]", download="magnet")
    async with JackettDouble([torrent, magnet]) as jackett:
        async with TorznabClient(jackett.feed_url(), jackett.api_key) as client:
            found = {r.title: r for r in await client.search("Andy Weir")}
        fetched = await fetch_torrent(found[torrent["title"]].download_url or "")
    assert isinstance(fetched, TorrentFile) and fetched.info_hash == torrent_info_hash(torrent)
    assert found[magnet["title"]].magnet == magnet["magnet"]


async def test_prowlarr_indexer_feed_links_magnets_through_its_proxy() -> None:
    """NewznabResults writes `link` = downloadUrl ?? magnetUrl and no `magneturl`; the
    controller rewrites both to its proxy, which answers a 301 to the magnet."""
    magnet = fake_release("Frank Herbert - Dune [M4B]", download="magnet", seeders=8, leechers=4)
    async with ProwlarrDouble([FakeIndexer(4, "ABB", releases=[magnet])]) as prowlarr:
        async with TorznabClient(f"{prowlarr.url}4/", prowlarr.api_key) as client:
            (release,) = await client.search("Dune Herbert", author="Frank Herbert", title="Dune")
        assert release.download_url is not None and "/4/download?" in release.download_url
        resolved = await fetch_torrent(release.download_url)
        async with TorznabClient(f"{prowlarr.url}4/", "bad-key-0123456789") as client:
            with pytest.raises(AuthError, match="wrong API key") as caught:
                await client.search("Dune")
    assert caught.value.status == 401
    assert release.indexer == "ABB" and release.indexer_id == 4
    assert (release.seeders, release.leechers) == (8, 4)
    assert release.info_hash == magnet["info_hash"]
    assert isinstance(resolved, Magnet) and resolved.info_hash == magnet["info_hash"]
    (seen,) = prowlarr.searches
    assert (seen.type, seen.author, seen.title) == ("book", "Frank Herbert", "Dune")


async def test_prowlarr_indexer_feed_query_limit_is_429_with_retry_after() -> None:
    async with (
        ProwlarrDouble([FakeIndexer(4, "ABB", retry_after=120)]) as prowlarr,
        TorznabClient(f"{prowlarr.url}4/", prowlarr.api_key) as client,
    ):
        with pytest.raises(RateLimitedError, match="Query Limit") as caught:
            await client.search("Dune")
    assert caught.value.retry_after == 120 and caught.value.code == 429


# ---- the parallel search ------------------------------------------------------------------


def test_query_building_strips_punctuation_subtitles_and_initials() -> None:
    query = wanted_query(Wanted(title="Ender's Game: Special Edition", author="Orson Scott Card"))
    assert (query.text, query.title, query.author) == (
        "Enders Game Orson Scott Card", "Enders Game", "Orson Scott Card",
    )  # fmt: skip
    query = wanted_query(Wanted(title="The Hobbit", author="J.R.R. Tolkien & Christopher Tolkien"))
    assert (query.title, query.author) == ("The Hobbit", "Tolkien")


def test_deduplicate_keeps_the_better_seeded_copy() -> None:
    hash_ = "cd" * 20
    weak = Release("Dune [M4B]", seeders=2, indexer="A", download_url="http://a/1", info_hash=hash_)
    strong = Release(
        "Dune (M4B)", seeders=50, indexer="B", magnet=f"magnet:?xt=urn:btih:{hash_.upper()}"
    )
    other = Release("Dune Messiah", seeders=1, indexer="A")
    kept = deduplicate([weak, other, strong])
    assert [r.indexer for r in kept] == ["B", "A"]
    assert kept[0].seeders == 50
    assert kept[0].download_url == "http://a/1"  # the link the other copy had
    assert kept[0].info_hash == hash_


async def test_bad_servers_all_at_once() -> None:
    """A hang, garbage, a wrong key and a good indexer: the good results arrive, the hang
    is cut off at the deadline, and every failure says why."""
    timeout = 2.0
    good = dune_releases("Good ", n=5)
    shared = "ef" * 20
    good.append(
        fake_release(
            "Frank Herbert - Dune [M4B] shared", download="magnet", info_hash=shared, seeders=5
        )
    )
    prowlarr_indexers = [
        FakeIndexer(1, "Hanger", releases=dune_releases("Hang "), hang=True),
        FakeIndexer(2, "Good", releases=good, delay=0.2),
    ]
    async with (
        ProwlarrDouble(prowlarr_indexers) as prowlarr,
        JackettDouble(dune_releases("Garbage "), garbage=True) as garbage,
        JackettDouble(dune_releases("Locked ")) as locked,
        JackettDouble(
            [
                fake_release(
                    "Dune Frank Herbert shared copy",
                    download="magnet",
                    info_hash=shared,
                    seeders=80,
                )
            ],
            indexer_id="tracker2",
        ) as other,
    ):
        indexers: list[Indexer] = [
            ProwlarrSource(prowlarr.url, prowlarr.api_key),
            TorznabFeed(garbage.feed_url(), garbage.api_key, name="Garbage"),
            TorznabFeed(locked.feed_url(), "not-the-key-0123456789", name="Locked"),
            TorznabFeed(other.feed_url(), other.api_key, name="Other"),
        ]
        # The hanger never answers while the doubles run: search_all returns only because
        # its deadline cut the hanger off (the guard is for a hang, bench/deadlines.py
        # measures how close to the deadline the search ends).
        async with asyncio.timeout(timeout + 30):
            outcome = await search_all(DUNE, indexers, per_indexer_timeout=timeout)
        assert prowlarr.hanging == 1  # still waiting to answer: nobody waited for it
    titles = {r.title for r in outcome.releases}
    assert {r["title"] for r in good[:5]} <= titles
    assert not any(t.startswith(("Hang ", "Garbage ", "Locked ")) for t in titles)
    shared_copies = [r for r in outcome.releases if r.info_hash == shared]
    assert len(shared_copies) == 1 and shared_copies[0].seeders == 80
    reasons = {f.indexer: f for f in outcome.failures}
    assert set(reasons) == {"Hanger (Prowlarr)", "Garbage", "Locked"}
    assert reasons["Hanger (Prowlarr)"] == IndexerFailure(
        "Hanger (Prowlarr)", "timed out after 2 s", "timeout"
    )
    assert reasons["Garbage"].kind == "malformed"
    assert reasons["Garbage"].reason.startswith("malformed XML")
    assert reasons["Locked"].kind == "auth"
    assert reasons["Locked"].reason == "wrong API key (Invalid API Key)"
    assert set(outcome.timings) >= {
        "Prowlarr",
        "Good (Prowlarr)",
        "Hanger (Prowlarr)",
        "Garbage",
        "Locked",
        "Other",
    }
    # Each Prowlarr indexer was searched alone.
    assert sorted(s.indexer_ids for s in prowlarr.searches) == [(1,), (2,)]


async def test_search_all_parses_titles_on_arrival() -> None:
    clear_caches()
    async with JackettDouble(dune_releases(n=4)) as jackett:
        outcome = await search_all(DUNE, [TorznabFeed(jackett.feed_url(), jackett.api_key)])
    before = parse_release_title.cache_info().hits
    ranked = rank(DUNE, outcome.releases, RankingPolicy())
    assert len(ranked) == 4
    assert parse_release_title.cache_info().hits - before == 4  # every title from the cache


async def test_prowlarr_indexers_are_listed_once_and_searched_as_books() -> None:
    indexers = [
        FakeIndexer(1, "Books", releases=dune_releases("B ")),
        FakeIndexer(
            2,
            "Plain",
            releases=dune_releases("P "),
            caps=Caps(categories=(AUDIO,), book_params=("q",)),
        ),
    ]
    async with ProwlarrDouble(indexers) as prowlarr:
        source = ProwlarrSource(prowlarr.url, prowlarr.api_key)
        first = await search_all(DUNE, [source])
        second = await search_all(DUNE, [source])
    assert len(first.releases) == len(second.releases) == 6
    assert [r.path for r in prowlarr.received].count("/api/v1/indexer") == 1
    by_id = {s.indexer_ids: s for s in prowlarr.searches[:2]}
    assert (by_id[(1,)].type, by_id[(1,)].author, by_id[(1,)].title) == (
        "book",
        "Frank Herbert",
        "Dune",
    )
    assert (by_id[(2,)].type, by_id[(2,)].query) == ("search", "Dune Frank Herbert")


async def test_prowlarr_without_indexers_is_a_failure_with_a_reason() -> None:
    async with ProwlarrDouble([FakeIndexer(1, "Off", enable=False)]) as prowlarr:
        outcome = await search_all(DUNE, [ProwlarrSource(prowlarr.url, prowlarr.api_key)])
    (failure,) = outcome.failures
    assert failure.indexer == "Prowlarr" and failure.kind == "config"
    assert "no enabled torrent indexer" in failure.reason


async def test_prowlarr_listing_that_fails_is_reported_once() -> None:
    async with ProwlarrDouble() as prowlarr:
        outcome = await search_all(DUNE, [ProwlarrSource(prowlarr.url, "wrong-key-0123456789")])
    assert outcome.failures == [IndexerFailure("Prowlarr", "wrong API key", "auth")]
    assert outcome.releases == []


async def test_indexers_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        ProwlarrDouble([FakeIndexer(1, "ABB", releases=dune_releases("P "))]) as prowlarr,
        JackettDouble(dune_releases("J ")) as jackett,
    ):
        settings = Settings(prowlarr_url=prowlarr.url, torznab_url=jackett.feed_url())
        monkeypatch.setenv("EARMARK_PROWLARR_API_KEY", prowlarr.api_key)
        monkeypatch.setenv("EARMARK_TORZNAB_API_KEY", jackett.api_key)
        indexers = indexers_from_settings(settings, SecretStore())
        assert [type(ix) for ix in indexers] == [ProwlarrSource, TorznabFeed]
        assert [ix.name for ix in indexers] == ["Prowlarr", "audiobookbay (Jackett)"]
        outcome = await search_all(DUNE, indexers)
        assert outcome.failures == []
        assert len(outcome.releases) == 6
        assert set(outcome.timings) == {"Prowlarr", "ABB (Prowlarr)", "audiobookbay (Jackett)"}

        monkeypatch.setenv("EARMARK_TORZNAB_API_KEY", "")
        settings = Settings(prowlarr_url="ftp://nowhere/", torznab_url=jackett.feed_url())
        broken = indexers_from_settings(settings, SecretStore())
        assert all(isinstance(ix, UnusableIndexer) for ix in broken)
        outcome = await search_all(DUNE, broken)
    reasons = {f.indexer: f.reason for f in outcome.failures}
    assert "the address is not usable" in reasons["Prowlarr"]
    assert "no API key is set" in reasons["audiobookbay (Jackett)"]


async def test_nothing_configured_searches_nothing() -> None:
    assert indexers_from_settings(Settings(), SecretStore()) == []
    outcome = await search_all(DUNE, [])
    assert (outcome.releases, outcome.failures, outcome.timings) == ([], [], {})


def test_clients_and_service_never_import_qt() -> None:
    """`gui/clients` and the search service run headless (CLI) and under qasync alike."""
    code = (
        "import sys, gui.clients.prowlarr, gui.clients.torznab, gui.services.search; "
        "sys.exit(any(m.split('.')[0] in ('PySide6', 'qasync') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
