"""Hostile or broken HTTP answers end in a typed error, never a traceback or a memory blow-up.

Every server here is a real aiohttp server on loopback answering what a misbehaving or
malicious server could: gzip bombs on error pages, redirects to `file:` or into loopback,
nesting bombs, unknown charsets, odd maindata shapes.
"""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from yarl import URL

from gui.clients.audiobookshelf import AbsClient
from gui.clients.errors import ClientError, HttpStatusError, ProtocolError
from gui.clients.http import HttpOptions, make_session, read_capped, redirect_refusal
from gui.clients.prowlarr import NotProwlarrError, ProwlarrClient
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.clients.torrent_fetch import fetch_torrent
from tests.harness.servers import serving_routes

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: 64 MiB of zeros, about 64 kB compressed: what a hostile server sends as a "page".
BOMB = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)


def _bomb(status: int) -> Handler:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(
            status=status,
            body=BOMB,
            headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
        )

    return answer


async def test_an_error_page_that_is_a_gzip_bomb_is_not_inflated() -> None:
    async with serving_routes(_bomb(500)) as url:
        tracemalloc.start()
        try:
            with pytest.raises(HttpStatusError) as caught:
                await fetch_torrent(url + "book.torrent")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.status == 500
    assert peak < 16 * 1024 * 1024, f"{peak} bytes allocated for a 64 kB answer"


async def test_a_gzip_bomb_of_a_success_answer_stops_at_the_cap() -> None:
    async with (
        serving_routes(_bomb(200)) as url,
        make_session(HttpOptions()) as session,
        session.get(url) as response,
    ):
        assert await read_capped(response, 1024 * 1024) is None


async def test_gzip_and_deflate_answers_are_decoded() -> None:
    text = b'{"appName": "x"}' * 1000

    async def answer(request: web.Request) -> web.Response:
        if request.path == "/gzip":
            return web.Response(body=gzip.compress(text), headers={"Content-Encoding": "gzip"})
        import zlib

        raw = zlib.compressobj(wbits=-15)
        body = raw.compress(text) + raw.flush() if "raw" in request.path else zlib.compress(text)
        return web.Response(body=body, headers={"Content-Encoding": "deflate"})

    async with serving_routes(answer) as url, make_session(HttpOptions()) as session:
        for path in ("gzip", "deflate", "rawdeflate"):
            async with session.get(url + path) as response:
                assert await read_capped(response, len(text)) == text


async def test_an_unknown_content_encoding_is_a_typed_error() -> None:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=b"\x00" * 10, headers={"Content-Encoding": "br"})

    async with serving_routes(answer) as url:
        with pytest.raises(ProtocolError, match="unsupported encoding"):
            await fetch_torrent(url + "x.torrent")


def _redirect(location: str) -> Handler:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    return answer


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://127.0.0.1/book.torrent", "gopher://example.org/"],
)
async def test_a_redirect_to_another_scheme_is_refused(location: str) -> None:
    async with serving_routes(_redirect(location)) as url:
        with pytest.raises(ProtocolError, match="only http and https"):
            await fetch_torrent(url + "book.torrent")


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.2", "[::1]", "0.0.0.0", "[::ffff:127.0.0.1]", "a.localhost"]
)
async def test_a_redirect_into_loopback_is_refused(host: str) -> None:
    async with serving_routes(_redirect(f"http://{host}:9/latest/meta-data")) as url:
        with pytest.raises(ProtocolError, match="address on this machine"):
            await fetch_torrent(url + "book.torrent")


@pytest.mark.parametrize(
    ("origin", "target", "refused"),
    [
        ("http://indexer.example/", "http://169.254.169.254/latest/meta-data", True),
        ("http://indexer.example/", "http://[fe80::1%25eth0]/", True),
        ("http://127.0.0.1:9696/", "http://127.0.0.1:9117/x", False),  # its own host
        ("http://indexer.example/", "https://tracker.example:8443/x", False),
        ("http://indexer.example/", "http://192.168.1.5/x.torrent", False),
        ("http://indexer.example/", "data:text/plain,x", True),
    ],
)
async def test_redirect_rules(origin: str, target: str, refused: bool) -> None:
    # Checked without connecting: nothing in a test may leave this machine.
    reason = await redirect_refusal(URL(origin), URL(target, encoded="%25" in target))
    assert (reason is not None) is refused, reason


async def test_a_redirect_to_the_links_own_host_is_followed() -> None:
    async def answer(request: web.Request) -> web.Response:
        if request.path == "/final":
            return web.Response(status=404, text="gone")
        return web.Response(status=302, headers={"Location": "/final"})

    async with serving_routes(answer) as url:
        with pytest.raises(HttpStatusError) as caught:
            await fetch_torrent(url + "book.torrent")
    assert caught.value.status == 404 and "final" in str(caught.value.url)


NESTING_BOMB = "[" * 200_000 + "]" * 200_000


def _text(body: str, content_type: str = "application/json") -> Handler:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=body.encode(), content_type=content_type)

    return answer


async def test_deeply_nested_json_from_prowlarr_is_not_prowlarr() -> None:
    async with serving_routes(_text(NESTING_BOMB)) as url, ProwlarrClient(url, "k") as client:
        with pytest.raises(NotProwlarrError):
            await client.status()


async def test_deeply_nested_json_from_audiobookshelf_is_a_typed_error() -> None:
    async with serving_routes(_text(NESTING_BOMB)) as url, AbsClient(url, "k") as client:
        with pytest.raises(ClientError):
            await client.status()


async def test_an_unknown_charset_is_read_as_utf8() -> None:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(
            body=b'{"serverVersion": "2.36.0", "isInit": true}',
            headers={"Content-Type": "application/json; charset=x-no-such-charset"},
        )

    async with serving_routes(answer) as url, AbsClient(url, "k") as client:
        status = await client.status()
    assert status.server_version == "2.36.0"


def _fake_qbittorrent(maindata: bytes, *, gzip_it: bool = False) -> Handler:
    """Just enough of qBittorrent for a login and one sync: the answer under test."""

    async def answer(request: web.Request) -> web.Response:
        if request.path.endswith("auth/login"):
            return web.Response(text="Ok.", headers={"Set-Cookie": "SID=abc; path=/"})
        if request.path.endswith("app/webapiVersion"):
            return web.Response(text="2.8.19")
        if request.path.endswith("sync/maindata"):
            body = gzip.compress(maindata) if gzip_it else maindata
            headers = {"Content-Encoding": "gzip"} if gzip_it else {}
            return web.Response(body=body, content_type="application/json", headers=headers)
        return web.Response(status=404)

    return answer


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"text"',
        b'{"rid": "x"}',
        b'{"rid": 1, "torrents": []}',
        b'{"rid": 1, "torrents": {"aa": 5}}',
        b'{"rid": 1, "torrents": {"aa": {"state": ["x"]}}}',
        b'{"rid": 1, "torrents_removed": {"a": 1}}',
        b'{"rid": 1, "categories": {"c": "x"}}',
        b'{"rid": 1, "tags": [1, 2]}',
        b'{"rid": 1, "server_state": []}',
        NESTING_BOMB.encode(),
        b"{" * 10,
    ],
)
async def test_odd_maindata_shapes_are_a_protocol_error(body: bytes) -> None:
    async with (
        serving_routes(_fake_qbittorrent(body)) as url,
        QBittorrentClient(QbtConfig(url, "admin", "pw")) as client,
    ):
        with pytest.raises(ProtocolError, match="sync/maindata"):
            await client.sync()
        assert client.mirror.torrents == {} and client.mirror.rid == 0


async def test_a_huge_maindata_body_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    import gui.clients.qbittorrent as qbittorrent

    monkeypatch.setattr(qbittorrent, "MAX_ANSWER_BYTES", 1024 * 1024)
    endless = b'{"rid": 1, "torrents": {"' + b"a" * (8 * 1024 * 1024) + b'": {}}}'
    async with (
        serving_routes(_fake_qbittorrent(endless, gzip_it=True)) as url,
        QBittorrentClient(QbtConfig(url, "admin", "pw")) as client,
    ):
        with pytest.raises(ProtocolError, match="larger than 1 MB"):
            await client.sync()


def _huge_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Frank Herbert - Dune {i} [M4B]</title>"
        f'<enclosure url="http://127.0.0.1:1/dl/{i}.torrent" length="1" type="x" />'
        f'<torznab:attr name="infohash" value="{i:040x}" />'
        f'<torznab:attr name="seeders" value="{i % 50}" /></item>'
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel>'
        f"{items}</channel></rss>"
    ).encode()


async def test_a_60000_item_feed_is_parsed_and_ranked_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A feed of 60,000 items used to be parsed and ranked on the loop (seconds without a
    repaint, and the per-indexer timeout cannot interrupt it): here every step that grows
    with the feed is seen running in a worker thread."""
    import threading

    import gui.clients.torznab as torznab
    import gui.core.ranking as ranking
    import gui.services.search as search
    from gui.clients.torznab import TorznabClient
    from gui.core.ranking import RankingPolicy, Wanted

    threads: dict[str, set[str]] = {}

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            small = isinstance(args[0], bytes) and len(args[0]) < 1000  # the caps answer
            if not small:
                threads.setdefault(name, set()).add(threading.current_thread().name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    spy(torznab, "parse_xml")
    spy(torznab, "parse_feed")
    spy(search, "_settle")
    spy(search, "rank")
    body = _huge_feed(60_000)

    async def answer(request: web.Request) -> web.Response:
        if request.query.get("t") == "caps":
            return web.Response(status=200, body=b"<error code='202' description='x'/>")
        return web.Response(body=body, content_type="application/rss+xml")

    class Feed:
        name = "flood"

        def __init__(self, client: TorznabClient) -> None:
            self.client = client

        async def search(self, wanted: Wanted) -> list[ranking.Release]:
            return await self.client.search(wanted.title, limit=100)

    async with serving_routes(answer) as url, TorznabClient(url, "k") as client:
        wanted = Wanted("Dune", "Frank Herbert")
        outcome = await search.search_all(wanted, [Feed(client)])
        ranked = await search.rank_off_loop(wanted, outcome.releases, RankingPolicy())
    assert len(outcome.releases) == torznab.MAX_FEED_ITEMS
    assert len(ranked) == torznab.MAX_FEED_ITEMS
    main = threading.main_thread().name
    for name in ("parse_xml", "parse_feed", "_settle", "rank"):
        assert threads.get(name) and main not in threads[name], (name, threads.get(name))


async def test_a_metadata_provider_redirecting_into_loopback_is_refused() -> None:
    from gui.clients.metadata_providers import OpenLibraryProvider
    from gui.core.matching import BookKey

    async with serving_routes(_redirect("http://localhost:9/admin")) as url:
        provider = OpenLibraryProvider(base_url=url)
        try:
            with pytest.raises(ProtocolError, match="address on this machine"):
                await provider.search(BookKey("Dune", ("Frank Herbert",)))
            assert await provider.fetch_cover(url + "cover.jpg") is None
        finally:
            await provider.close()


async def test_a_metadata_provider_redirect_on_its_own_host_is_followed() -> None:
    from gui.clients.metadata_providers import OpenLibraryProvider
    from gui.core.matching import BookKey

    async def answer(request: web.Request) -> web.Response:
        if request.path == "/search.json":
            return web.Response(status=301, headers={"Location": "/v2/search.json"})
        return web.json_response({"docs": []})

    async with serving_routes(answer) as url:
        provider = OpenLibraryProvider(base_url=url)
        try:
            assert await provider.search(BookKey("Dune", ("Frank Herbert",))) == []
        finally:
            await provider.close()


async def test_doctor_names_preferences_of_an_odd_shape() -> None:
    """A server answering `app/preferences` with JSON that is not an object: the doctor
    says so in its step instead of stopping on an AttributeError ("unexpected")."""
    from gui.clients.doctor import diagnose

    async def answer(request: web.Request) -> web.Response:
        if request.path.endswith("auth/login"):
            return web.Response(text="Ok.", headers={"Set-Cookie": "SID=abc; path=/"})
        if request.cookies.get("SID") != "abc":
            return web.Response(status=403, text="Forbidden")
        texts = {"app/version": "v4.5.2", "app/webapiVersion": "2.8.19", "app/preferences": "[]"}
        for tail, text in texts.items():
            if request.path.endswith(tail):
                return web.Response(text=text)
        return web.Response(text="{}", content_type="application/json")

    async with serving_routes(answer) as url:
        diagnosis = await diagnose(QbtConfig(url, "admin", "pw"))
    assert diagnosis.verdict != "unexpected", diagnosis.steps
    steps = {step.name: step for step in diagnosis.steps}
    assert not steps["preferences"].ok
    assert "did not answer a JSON object" in steps["preferences"].detail
