"""The Audiobookshelf client against the loopback ABS 2.36 double (tests/doubles/audiobookshelf.py).

What the client sent is read back from the double's records; what it received is compared
with the real recordings in tests/fixtures/abs-2.36.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from gui.clients.audiobookshelf import (
    MATCH_PROVIDERS,
    AbsBook,
    AbsClient,
    MatchResult,
    book_from_item,
)
from gui.clients.errors import (
    AuthError,
    ForbiddenError,
    HttpStatusError,
    ProtocolError,
    UnreachableError,
)
from tests.doubles.audiobookshelf import (
    TINY_JPEG,
    AbsServerDouble,
    BookSpec,
    load_recorded,
)
from tests.doubles.services import ProwlarrDouble
from tests.harness.servers import serving
from tests.harness.wait import free_port

RECORDED = load_recorded()
PRE_TAGGED_ID = RECORDED["item"]["id"]


def client_for(double: AbsServerDouble, key: str | None = None) -> AbsClient:
    return AbsClient(double.url, double.admin_key if key is None else key)


async def test_double_serves_the_recorded_answers_byte_for_byte() -> None:
    """Rendering the recorded items from templates gives back exactly what ABS sent, so
    generated items (rendered the same way) are shaped exactly like real ones."""
    async with AbsServerDouble() as double, aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bearer {double.admin_key}"}
        base = f"{double.url}api/libraries/{double.library_id}"
        async with http.get(f"{base}/items", headers=auth) as response:
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
            assert await response.json() == RECORDED["library_items"]
        query = {"limit": "2", "page": "0", "minified": "1"}
        async with http.get(f"{base}/items", headers=auth, params=query) as response:
            assert await response.json() == RECORDED["library_items_minified_limit2"]
        async with http.get(base, headers=auth) as response:
            assert await response.json() == RECORDED["library_get"]
        async with http.get(f"{double.url}api/libraries", headers=auth) as response:
            assert await response.json() == RECORDED["libraries"]
        item_url = f"{double.url}api/items/{PRE_TAGGED_ID}"
        async with http.get(item_url, headers=auth) as response:
            assert await response.json() == RECORDED["item"]
        async with http.get(item_url, headers=auth, params={"expanded": "1"}) as response:
            assert await response.json() == RECORDED["item_expanded"]


async def test_double_pages_and_validates_like_the_library_middleware() -> None:
    async with AbsServerDouble(generated=7) as double, aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bearer {double.admin_key}"}
        url = f"{double.url}api/libraries/{double.library_id}/items"

        async def get(**params: str) -> tuple[int, Any]:
            async with http.get(url, headers=auth, params=params) as response:
                if response.content_type == "application/json":
                    return response.status, await response.json()
                return response.status, await response.text()

        status, body = await get(limit="4", page="2")
        assert status == 200 and body["total"] == 10 and body["offset"] == 8
        assert len(body["results"]) == 2 and (body["limit"], body["page"]) == (4, 2)
        status, body = await get(limit="4", page="9")
        assert status == 200 and body["results"] == [] and body["total"] == 10
        status, body = await get(limit="0")
        assert len(body["results"]) == 10  # 0 means everything
        status, body = await get(limit="abc")  # isNaN -> 0, not an error
        assert status == 200 and len(body["results"]) == 10
        for bad in ({"limit": "1.5"}, {"limit": "-1"}, {"page": "-2"}, {"page": "0.5"}):
            status, body = await get(**bad)
            key = next(iter(bad))
            assert (status, body) == (400, f"Invalid request. {key} must be a positive integer")
        status, body = await get(sort="addedAt", desc="1", limit="1")
        assert body["results"][0]["id"] == double.items_of()[-1]["id"]
        async with http.get(f"{double.url}api/libraries/nope/items", headers=auth) as response:
            assert (response.status, await response.text()) == (404, "Library not found")


# ---- status, user, libraries ----------------------------------------------------------


async def test_status_needs_no_key() -> None:
    async with AbsServerDouble() as double, AbsClient(double.url, "") as client:
        status = await client.status()
    assert status.server_version == "2.36.0"
    assert status.is_init and status.auth_methods == ("local",)
    (request,) = double.received
    assert request.path == "/status" and "Authorization" not in request.headers


async def test_me_tells_an_admin_key_from_a_user_key() -> None:
    async with AbsServerDouble() as double:
        async with client_for(double) as client:
            admin = await client.me()
        async with client_for(double, double.user_key) as client:
            user = await client.me()
    assert admin.type == "root" and admin.is_admin and admin.username == "root"
    assert admin.permissions["update"] is True
    assert user.type == "user" and not user.is_admin
    assert user.permissions["update"] is False and user.permissions["download"] is True


async def test_libraries_are_listed_with_the_key_in_the_header_only() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        libraries = await client.libraries()
        library = await client.library(double.library_id)
    recorded = RECORDED["libraries"]["libraries"][0]
    (listed,) = libraries
    assert listed == library
    assert listed.id == recorded["id"] and listed.name == "Audiobooks" and listed.is_book
    assert [f.full_path for f in listed.folders] == ["/audiobooks"]
    assert listed.last_scan == recorded["lastScan"]
    for request in double.received:
        assert request.headers["Authorization"] == f"Bearer {double.admin_key}"
        assert "token" not in request.query


# ---- items ----------------------------------------------------------------------------


async def test_a_page_of_items_is_the_recorded_page() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        page = await client.items(double.library_id, page=0, limit=2, minified=True)
    recorded = RECORDED["library_items_minified_limit2"]
    assert page.results == recorded["results"]
    assert (page.total, page.limit, page.page) == (3, 2, 0)


async def test_all_items_pages_through_250_items_100_at_a_time() -> None:
    async with AbsServerDouble(generated=247) as double, client_for(double) as client:
        items = [item async for item in client.all_items(double.library_id)]
    assert len(items) == 250
    assert {i["id"] for i in items} == {i["id"] for i in double.items_of()}
    pages = [r.query for r in double.received if r.path.endswith("/items")]
    assert [(q["page"], q["limit"]) for q in pages] == [("0", "100"), ("1", "100"), ("2", "100")]
    assert all(q["sort"] == "addedAt" for q in pages)


async def test_all_items_of_an_empty_library_is_one_request() -> None:
    async with (
        AbsServerDouble(include_recorded=False) as double,
        client_for(double) as client,
    ):
        items = [item async for item in client.all_items(double.library_id)]
    assert items == []
    assert len([r for r in double.received if r.path.endswith("/items")]) == 1


async def test_search_matches_title_and_asin_case_insensitively() -> None:
    spec = BookSpec("Project Hail Mary", authors=("Andy Weir",), asin="B08GB58KD5")
    async with AbsServerDouble(books=[spec], generated=20) as double, client_for(double) as client:
        by_title = await client.search(double.library_id, "pre-TAGGED")
        by_asin = await client.search(double.library_id, "b08gb58")
        nothing = await client.search(double.library_id, "no such book")
    (hit,) = by_title
    assert hit.match_key == "title" and hit.item == RECORDED["item_expanded"]
    assert hit.book.title == "Pre-Tagged Book"
    (hit,) = by_asin
    assert (hit.match_key, hit.match_text) == ("asin", "B08GB58KD5")
    assert hit.book.authors == ("Andy Weir",)
    assert nothing == []


async def test_item_in_both_forms() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        expanded = await client.item(PRE_TAGGED_ID)
        plain = await client.item(PRE_TAGGED_ID, expanded=False)
        with pytest.raises(HttpStatusError, match="has no item nope"):
            await client.item("nope")
    assert expanded == RECORDED["item_expanded"]
    assert plain == RECORDED["item"]


# ---- normalising items ----------------------------------------------------------------


def test_every_recorded_form_normalises_to_the_same_book() -> None:
    expected = AbsBook(
        item_id=PRE_TAGGED_ID,
        library_id=RECORDED["item"]["libraryId"],
        title="Pre-Tagged Book",
        subtitle="Tagged Subtitle",
        authors=("Alice Author",),
        narrators=("Nick Narrator",),
        series="Tag Series",
        sequence="2",
        path="/audiobooks/Folder Author2/Folder Title2",
        year="2021",
        publisher="Tagged Publisher",
        description="A tagged description.",
        genres=("Fantasy",),
        duration=RECORDED["library_items_minified_limit2"]["results"][0]["media"]["duration"],
    )
    minified = RECORDED["library_items_minified_limit2"]["results"][0]
    for form in (minified, RECORDED["item"], RECORDED["item_expanded"]):
        assert book_from_item(form) == expected
    tiny = book_from_item(RECORDED["library_items"]["results"][2])
    assert (tiny.title, tiny.subtitle, tiny.authors, tiny.narrators) == (
        "The Tiny Sine Book",
        "",
        ("Jane Doe",),
        (),
    )
    assert (tiny.series, tiny.sequence, tiny.asin, tiny.isbn) == ("", "", "", "")


@pytest.mark.parametrize(
    ("metadata", "authors", "series", "sequence"),
    [
        (
            {"authorName": "Terry Pratchett, Neil Gaiman"},
            ("Terry Pratchett", "Neil Gaiman"),
            "",
            "",
        ),
        ({"authorName": "Martin Luther King, Jr."}, ("Martin Luther King, Jr.",), "", ""),
        ({"seriesName": "Discworld #1.5"}, (), "Discworld", "1.5"),
        ({"seriesName": "Witches #1, Discworld #6"}, (), "Witches", "1"),
        ({"seriesName": "Standalone Tales"}, (), "Standalone Tales", ""),
        (
            {
                "authors": [{"id": "a", "name": "N. K. Jemisin"}],
                "series": [{"name": "Broken Earth", "sequence": None}],
            },
            ("N. K. Jemisin",),
            "Broken Earth",
            "",
        ),
    ],
)
def test_minified_and_full_fields_are_read(
    metadata: dict[str, Any], authors: tuple[str, ...], series: str, sequence: str
) -> None:
    book = book_from_item({"id": "x", "media": {"metadata": {"title": "T", **metadata}}})
    assert (book.authors, book.series, book.sequence) == (authors, series, sequence)


def test_something_that_is_not_an_item_is_refused() -> None:
    with pytest.raises(ValueError, match="not an Audiobookshelf library item"):
        book_from_item({"results": []})


# ---- scans -----------------------------------------------------------------------------


async def test_an_admin_scan_returns_at_once_and_later_changes_last_scan() -> None:
    new_book = BookSpec("Freshly Imported", authors=("Nora Newcomer",), series=(("Arc", "1"),))
    async with AbsServerDouble() as double, client_for(double) as client:
        double.add_on_disk(new_book)
        double.scan_gate = asyncio.Event()
        before = await client.library(double.library_id)
        await client.scan(double.library_id, force=True)
        # The POST answered while the scan still runs: nothing has changed yet.
        assert double.scans == [(double.library_id, True)]
        during = await client.library(double.library_id)
        assert during.last_scan == before.last_scan
        await client.scan(double.library_id)  # accepted, but no second scan starts
        double.scan_gate.set()
        await double.wait_for_scans(1)
        after = await client.library(double.library_id)
        books = [book_from_item(i) async for i in client.all_items(double.library_id)]
    assert double.scans_finished == 1
    assert before.last_scan is not None and after.last_scan is not None
    assert after.last_scan > before.last_scan
    fresh = [b for b in books if b.title == "Freshly Imported"]
    assert len(fresh) == 1 and fresh[0].series == "Arc" and fresh[0].sequence == "1"
    assert fresh[0].path == "/audiobooks/Nora Newcomer/Arc/Vol. 1 - Freshly Imported"


async def test_a_user_key_may_not_scan() -> None:
    async with AbsServerDouble() as double, client_for(double, double.user_key) as client:
        with pytest.raises(ForbiddenError, match="scanning needs an admin API key") as caught:
            await client.scan(double.library_id)
    assert caught.value.status == 403
    assert double.scans == []


# ---- errors ----------------------------------------------------------------------------


async def test_a_wrong_key_is_named_and_never_shown() -> None:
    key = "expired-or-revoked-api-key"
    async with AbsServerDouble() as double, AbsClient(double.url, key) as client:
        with pytest.raises(AuthError) as caught:
            await client.libraries()
    message = str(caught.value)
    assert "refused the API key" in message and "Settings → API Keys" in message
    assert caught.value.status == 401
    assert key not in message and key not in repr(client)


async def test_no_key_fails_before_sending_anything() -> None:
    async with AbsServerDouble() as double, AbsClient(double.url, "  ") as client:
        with pytest.raises(AuthError, match="no Audiobookshelf API key"):
            await client.me()
    assert double.received == []


async def test_a_library_the_user_may_not_open() -> None:
    async with AbsServerDouble(
        extra_libraries=[("Podcasts", "podcast")], user_libraries=[]
    ) as double:
        other = double.library_named("Podcasts")
        async with client_for(double, double.user_key) as client:
            assert await client.libraries() == []
            with pytest.raises(ForbiddenError, match="may not open library"):
                await client.items(other)
        async with client_for(double) as client:
            names = [(lib.name, lib.is_book) for lib in await client.libraries()]
            with pytest.raises(HttpStatusError, match="has no library nope"):
                await client.items("nope")
    assert names == [("Audiobooks", True), ("Podcasts", False)]


async def test_another_service_at_the_address_is_not_audiobookshelf() -> None:
    async with ProwlarrDouble() as prowlarr, AbsClient(prowlarr.url, "key") as client:
        with pytest.raises(ProtocolError, match="not Audiobookshelf"):
            await client.status()


async def test_a_web_page_at_the_address_is_no_audiobookshelf_api() -> None:
    page = "<!DOCTYPE html><html><body>Welcome to your NAS</body></html>"
    async with serving(page) as url, AbsClient(url, "key") as client:
        with pytest.raises(ProtocolError, match="not Audiobookshelf"):
            await client.status()
        with pytest.raises(ProtocolError, match=r"no Audiobookshelf API at http://127\.0\.0\.1"):
            await client.libraries()
    async with serving(page, status=404) as url, AbsClient(url, "key") as client:
        with pytest.raises(ProtocolError, match="no Audiobookshelf API at"):
            await client.items("74628783-a726-497b-a90b-79e6083bcf7a")


async def test_a_closed_port_is_unreachable() -> None:
    async with AbsClient(f"http://127.0.0.1:{free_port()}/", "key") as client:
        with pytest.raises(UnreachableError, match="connection refused"):
            await client.libraries()


# ---- covers ----------------------------------------------------------------------------


async def test_a_cover_is_the_items_jpeg_asked_for_at_a_width() -> None:
    spec = BookSpec("Covered Book", authors=("Cora Cover",), cover=TINY_JPEG)
    async with AbsServerDouble() as double, client_for(double) as client:
        (item_id,) = double.add_books([spec])
        sized = await client.cover(item_id, width=120)
        default = await client.cover(item_id)
        item = await client.item(item_id)
    assert sized == default == TINY_JPEG
    assert item["media"]["coverPath"] == f"/metadata/items/{item_id}/cover.jpg"
    first, second = [r for r in double.received if r.path.endswith("/cover")]
    assert first.path == f"/api/items/{item_id}/cover"
    assert first.query == {"format": "jpeg", "width": "120"}
    assert second.query == {"format": "jpeg"}  # ABS then scales to 400 px
    assert first.headers["Authorization"] == f"Bearer {double.admin_key}"


async def test_no_cover_and_an_unknown_item_are_none() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        assert RECORDED["item"]["media"]["coverPath"] is None
        assert await client.cover(PRE_TAGGED_ID) is None
        assert await client.cover("no-such-item") is None
        with pytest.raises(ValueError, match="at least 1 pixel"):
            await client.cover(PRE_TAGGED_ID, width=0)


async def test_abs_serves_covers_without_checking_the_key() -> None:
    """ABS 2.36 skips authentication for `GET /api/items/:id/cover` (`Auth.ignorePatterns`):
    a revoked key still gets the cover, and so does a request without any."""
    spec = BookSpec("Open Cover", cover=TINY_JPEG)
    async with AbsServerDouble() as double:
        (item_id,) = double.add_books([spec])
        async with AbsClient(double.url, "revoked-key") as client:
            assert await client.cover(item_id) == TINY_JPEG
        async with aiohttp.ClientSession() as http:
            url = f"{double.url}api/items/{item_id}/cover"
            async with http.get(url, params={"format": "jpeg"}) as response:
                assert response.status == 200 and response.content_type == "image/jpeg"
                assert await response.read() == TINY_JPEG
            async with http.get(f"{double.url}api/items/nope/cover") as response:
                assert (response.status, await response.text()) == (404, "Not Found")


async def test_a_refused_key_on_a_cover_is_named() -> None:
    """Servers (or proxies) that do check the key answer 401: the usual key message."""
    async with (
        serving("Unauthorized", status=401, content_type="text/plain") as url,
        AbsClient(url, "some-key") as client,
    ):
        with pytest.raises(AuthError, match="refused the API key") as caught:
            await client.cover("74628783-a726-497b-a90b-79e6083bcf7a")
    assert caught.value.status == 401 and "some-key" not in str(caught.value)
    async with AbsServerDouble() as double, AbsClient(double.url, "") as client:
        with pytest.raises(AuthError, match="no Audiobookshelf API key"):
            await client.cover(PRE_TAGGED_ID)
    assert double.received == []


async def test_a_web_page_instead_of_a_cover_is_no_image() -> None:
    page = "<!DOCTYPE html><html><body>Sign in to your proxy</body></html>"
    async with serving(page) as url, AbsClient(url, "key") as client:
        with pytest.raises(ProtocolError, match="answered without an image"):
            await client.cover("item")
    async with serving(page, status=404) as url, AbsClient(url, "key") as client:
        with pytest.raises(ProtocolError, match="no Audiobookshelf API at"):
            await client.cover("item")


# ---- matching --------------------------------------------------------------------------


async def test_a_match_fills_the_empty_fields_and_the_missing_cover() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        (item_id,) = double.add_books([BookSpec("Project Hail Mary", publisher="Old House")])
        double.match_results["Project Hail Mary"] = {
            "title": "Project Hail Mary",
            "author": "Andy Weir",
            "narrator": "Ray Porter",
            "publisher": "Ballantine",
            "publishedYear": "2021",
            "asin": "B08G9PRS1K",
            "series": "Standalone",
            "sequence": "1",
            "cover": TINY_JPEG,
        }
        result = await client.match(item_id, provider="audible")
        cover = await client.cover(item_id)
    assert result.updated and result.warning == "" and result.item is not None
    book = book_from_item(result.item)
    assert book.authors == ("Andy Weir",) and book.narrators == ("Ray Porter",)
    assert (book.series, book.sequence, book.asin) == ("Standalone", "1", "B08G9PRS1K")
    assert result.item["media"]["metadata"]["publisher"] == "Old House"  # not empty: kept
    assert result.item["media"]["metadata"]["publishedYear"] == "2021"
    assert cover == TINY_JPEG
    assert double.match_calls == [(item_id, {"provider": "audible"})]


async def test_override_details_replaces_what_the_item_has() -> None:
    spec = BookSpec("Dune", authors=("Frank Herbrt",), publisher="Old House", cover=TINY_JPEG)
    async with AbsServerDouble() as double, client_for(double) as client:
        (item_id,) = double.add_books([spec])
        double.match_results["Dune"] = {"author": "Frank Herbert", "publisher": "Ace"}
        unchanged = await client.match(item_id, provider="google")
        replaced = await client.match(
            item_id, provider="google", override_details=True, override_cover=False
        )
    assert unchanged.updated is False and unchanged.item is not None
    assert book_from_item(unchanged.item).authors == ("Frank Herbrt",)
    assert replaced.updated and replaced.item is not None
    assert book_from_item(replaced.item).authors == ("Frank Herbert",)
    assert replaced.item["media"]["metadata"]["publisher"] == "Ace"
    assert double.match_calls[1] == (
        item_id,
        {"provider": "google", "overrideCover": False, "overrideDetails": True},
    )


async def test_a_match_that_finds_nothing_is_a_warning() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        result = await client.match(PRE_TAGGED_ID, provider="openlibrary")
        custom = await client.match(PRE_TAGGED_ID, provider="custom-my-shelf", title="Elsewhere")
    assert result == MatchResult(updated=False, warning="No openlibrary match found", item=None)
    assert custom.warning == "No custom-my-shelf match found"


async def test_the_search_fields_sent_are_the_non_empty_ones() -> None:
    async with AbsServerDouble() as double, client_for(double) as client:
        double.match_results["The Martian"] = {"language": "English"}
        result = await client.match(
            PRE_TAGGED_ID,
            provider="audible.uk",
            title=" The Martian ",
            author="Andy Weir",
            isbn="",
            asin="B00B5HZGUG",
            override_cover=True,
        )
    assert result.updated and result.item is not None
    assert result.item["media"]["metadata"]["language"] == "English"  # was null: filled
    assert double.match_calls == [
        (
            PRE_TAGGED_ID,
            {
                "provider": "audible.uk",
                "title": "The Martian",
                "author": "Andy Weir",
                "asin": "B00B5HZGUG",
                "overrideCover": True,
            },
        )
    ]


async def test_a_user_without_the_update_permission_may_not_match() -> None:
    async with AbsServerDouble() as double, client_for(double, double.user_key) as client:
        assert (await client.me()).permissions["update"] is False  # ABS's default for "user"
        with pytest.raises(ForbiddenError, match="may not update items") as caught:
            await client.match(PRE_TAGGED_ID, provider="google")
    assert "Audiobookshelf's 'update' permission" in str(caught.value)
    assert caught.value.status == 403
    assert double.match_calls == []


async def test_an_unknown_provider_or_item_is_refused() -> None:
    assert "audible.es" in MATCH_PROVIDERS and "audnexus" not in MATCH_PROVIDERS
    async with AbsServerDouble() as double, client_for(double) as client:
        for provider in ("audnexus", "Google", ""):
            with pytest.raises(ValueError, match="not an Audiobookshelf metadata provider"):
                await client.match(PRE_TAGGED_ID, provider=provider)
        assert double.received == []
        with pytest.raises(HttpStatusError, match="has no item nope"):
            await client.match("nope", provider="google")
