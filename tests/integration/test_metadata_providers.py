"""Metadata providers and enhancement against loopback doubles of the real services.

The doubles (`tests/doubles/metadata_providers.py`) answer in the shapes of each service's
published documentation and public examples (their docstring says which, per answer).
Hangs are bounded by the enhancement's own deadline; nothing sleeps to synchronise and
nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from gui.clients.errors import HttpStatusError, ProtocolError, UnreachableError
from gui.clients.metadata_providers import (
    AudibleProvider,
    BookQuery,
    Candidate,
    Enhancement,
    GoogleBooksProvider,
    MetadataProvider,
    OpenLibraryProvider,
    ProviderRateLimitedError,
    auto_apply,
    enhance,
    strip_html,
)
from gui.core.metadata import BookMetadata, completeness, from_release, from_wanted, merge
from gui.core.release_title import parse_release_title
from tests.doubles.metadata_providers import (
    AUDNEXUS_BOOKS,
    AudibleDouble,
    GoogleBooksDouble,
    OpenLibraryDouble,
    cover_jpeg,
)
from tests.harness.wait import free_port

HAIL_MARY = BookQuery(title="Project Hail Mary", authors=("Andy Weir",))
SHORT = 0.5  # the deadline for a hanging double: long for loopback, short for the suite


class Clock:
    """A hand-driven monotonic clock for the Retry-After gate."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def audible(double: AudibleDouble, **options: Any) -> AudibleProvider:
    return AudibleProvider(audible_url=double.url, audnexus_url=double.url, **options)


def open_library(double: OpenLibraryDouble, **options: Any) -> OpenLibraryProvider:
    return OpenLibraryProvider(base_url=double.url, covers_url=double.url, **options)


def google(double: GoogleBooksDouble, **options: Any) -> GoogleBooksProvider:
    return GoogleBooksProvider(base_url=double.url, **options)


@asynccontextmanager
async def all_three(
    audible_mode: str = "normal",
    openlibrary_mode: str = "normal",
    google_mode: str = "normal",
    **audible_options: Any,
) -> AsyncIterator[
    tuple[list[MetadataProvider], AudibleDouble, OpenLibraryDouble, GoogleBooksDouble]
]:
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(AudibleDouble(mode=audible_mode, **audible_options))
        o = await stack.enter_async_context(OpenLibraryDouble(mode=openlibrary_mode))
        g = await stack.enter_async_context(GoogleBooksDouble(mode=google_mode))
        providers: list[MetadataProvider] = [audible(a), open_library(o), google(g)]
        for provider in providers:
            stack.push_async_callback(provider.close)
        yield providers, a, o, g


# ---- Audible + Audnexus -------------------------------------------------------------------


async def test_audible_finds_asins_in_the_catalogue_and_details_in_audnexus() -> None:
    async with AudibleDouble() as double, audible(double) as provider:
        found = await provider.search(HAIL_MARY)
    assert [c.provider_id for c in found] == ["B08G9PRS1K"]
    best = found[0]
    assert best.provider == "Audible" and best.confidence == pytest.approx(1.0)
    meta = best.meta
    assert (meta.title, meta.authors, meta.narrators) == (
        "Project Hail Mary",
        ("Andy Weir",),
        ("Ray Porter",),
    )
    assert (meta.publisher, meta.year, meta.language) == ("Audible Studios", 2021, "English")
    # ABS keeps only the genres typed "genre"; "tag" entries are ABS tags.
    assert meta.genres == ("Science Fiction & Fantasy",)
    assert (meta.isbn, meta.asin) == ("9781603935470", "B08G9PRS1K")
    assert meta.duration == 970 * 60
    assert "<p>" not in meta.description and "Ryland Grace is the sole survivor" in meta.description
    assert best.cover_url == double.url + "images/I/91vS2L5YfEL.jpg"
    catalog, details = double.received
    assert catalog.path == "/1.0/catalog/products"
    assert catalog.query["title"] == "Project Hail Mary"
    assert catalog.query["author"] == "Andy Weir"
    assert (catalog.query["num_results"], catalog.query["products_sort_by"]) == ("10", "Relevance")
    assert "contributors" in catalog.query["response_groups"].split(",")
    assert (details.path, details.query) == ("/books/B08G9PRS1K", {"region": "us"})


async def test_an_asin_goes_straight_to_audnexus_and_series_positions_are_cleaned() -> None:
    async with AudibleDouble() as double, audible(double) as provider:
        found = await provider.search(BookQuery(title="whatever", asin="b079lrsmnn"))
    assert [r.path for r in double.received] == ["/books/B079LRSMNN"]
    meta = found[0].meta
    assert found[0].confidence == 1.0  # the same ASIN settles it, whatever the title
    assert (meta.series, meta.position) == ("Galaxy's Edge Series", "1")  # "1-2", as ABS
    assert meta.authors == ("Jason Anspach", "Nick Cole")


@pytest.mark.parametrize("books_mode", ["error", "empty", "rate_limited"])
async def test_without_audnexus_the_catalogue_fields_are_used(books_mode: str) -> None:
    async with AudibleDouble(books_mode=books_mode) as double, audible(double) as provider:
        found = await provider.search(HAIL_MARY)
    meta = found[0].meta
    assert (meta.asin, meta.narrators, meta.publisher) == (
        "B08G9PRS1K",
        ("Ray Porter",),
        "Audible Studios",
    )
    assert meta.genres == ("Science Fiction & Fantasy",)
    assert found[0].cover_url.endswith("images/I/91vS2L5YfEL.jpg")


async def test_an_empty_catalogue_is_an_empty_answer() -> None:
    async with AudibleDouble(catalog_mode="empty") as double, audible(double) as provider:
        assert await provider.search(HAIL_MARY) == []


# ---- Open Library ------------------------------------------------------------------------


async def test_open_library_search_and_work_description() -> None:
    async with OpenLibraryDouble() as double, open_library(double) as provider:
        found = await provider.search(HAIL_MARY)
    assert [c.provider_id for c in found] == ["/works/OL21745884W"]
    meta = found[0].meta
    assert (meta.title, meta.authors, meta.year) == ("Project Hail Mary", ("Andy Weir",), 2021)
    assert (meta.language, meta.publisher) == ("English", "Ballantine Books")
    assert meta.isbn == ""  # a work's ISBNs are every edition's: none was asked for
    assert meta.description.startswith("Ryland Grace is the sole survivor")  # {type, value}
    assert found[0].cover_url == double.url + "b/id/12345678-L.jpg"
    search, work = double.received
    assert search.query["title"] == "Project Hail Mary" and search.query["author"] == "Andy Weir"
    assert "cover_i" in search.query["fields"].split(",")
    assert work.path == "/works/OL21745884W.json"


async def test_open_library_by_isbn_and_the_plain_string_description() -> None:
    async with OpenLibraryDouble() as double, open_library(double) as provider:
        by_isbn = await provider.search(BookQuery(title="", isbn="978-1-60393-547-0"))
        rings = await provider.search(BookQuery(title="The Lord of the Rings"))
    assert by_isbn[0].meta.isbn == "9781603935470" and by_isbn[0].confidence == 1.0
    assert double.received[0].query["isbn"] == "9781603935470"
    lotr = rings[0].meta
    assert lotr.description.startswith("The Fellowship of the Ring")  # a plain string
    assert (lotr.language, lotr.publisher) == ("", "")  # several: none is this edition's


# ---- Google Books ------------------------------------------------------------------------


async def test_google_books_volume_fields() -> None:
    async with GoogleBooksDouble() as double, google(double, api_key="k3y") as provider:
        found = await provider.search(HAIL_MARY)
    assert [c.provider_id for c in found] == ["PHMvolume01"]
    meta = found[0].meta
    assert (meta.title, meta.subtitle, meta.year) == ("Project Hail Mary", "A Novel", 2021)
    assert (meta.isbn, meta.genres, meta.language) == ("9780593135204", ("Fiction",), "English")
    assert meta.publisher == "Ballantine Books"
    assert "mission—and if he fails" in meta.description and "<b>" not in meta.description
    assert found[0].cover_url.endswith(
        "books/content?id=PHMvolume01&printsec=frontcover&img=1&zoom=1"
    )
    query = double.received[0].query
    assert query["q"] == "intitle:Project Hail Mary inauthor:Andy Weir"
    assert query["key"] == "k3y"


async def test_google_books_without_items_is_an_empty_answer() -> None:
    async with GoogleBooksDouble(mode="empty") as double, google(double) as provider:
        assert await provider.search(HAIL_MARY) == []


# ---- failures ----------------------------------------------------------------------------


async def test_a_429_is_respected_until_its_retry_after_has_passed() -> None:
    clock = Clock()
    async with (
        AudibleDouble(mode="rate_limited", retry_after="30") as double,
        audible(double, clock=clock) as provider,
    ):
        with pytest.raises(ProviderRateLimitedError) as first:
            await provider.search(BookQuery(title="x", asin="B08G9PRS1K"))
        # Audnexus said 429; the catalogue (same origin here) was then not even asked.
        assert [r.path for r in double.received] == ["/books/B08G9PRS1K"]
        assert first.value.retry_after == 30.0
        asked = len(double.received)
        clock.now += 29
        with pytest.raises(ProviderRateLimitedError) as second:
            await provider.search(HAIL_MARY)
        assert len(double.received) == asked  # refused locally: nothing was sent
        assert second.value.retry_after == pytest.approx(1.0)
        double.mode = double.catalog_mode = double.books_mode = "normal"
        clock.now += 2
        assert (await provider.search(HAIL_MARY))[0].provider_id == "B08G9PRS1K"


async def test_a_429_without_retry_after_waits_a_minute() -> None:
    clock = Clock()
    async with GoogleBooksDouble(mode="rate_limited") as double, google(double, clock=clock) as p:
        with pytest.raises(ProviderRateLimitedError) as caught:
            await p.search(HAIL_MARY)
        assert caught.value.retry_after == 60.0
        assert "Quota exceeded" in (caught.value.answer or "")
        assert p.retry_in == 60.0


async def test_server_errors_and_unreachable_servers_are_typed() -> None:
    async with OpenLibraryDouble(mode="error") as double, open_library(double) as provider:
        with pytest.raises(HttpStatusError) as caught:
            await provider.search(HAIL_MARY)
        assert caught.value.status == 500
    nowhere = GoogleBooksProvider(base_url=f"http://127.0.0.1:{free_port()}/")
    async with nowhere:
        with pytest.raises(UnreachableError):
            await nowhere.search(HAIL_MARY)


async def test_an_answer_that_is_not_json_is_a_protocol_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A captive portal or maintenance page: HTML with 200.
    def maintenance_page(self: OpenLibraryDouble) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    monkeypatch.setattr(OpenLibraryDouble, "_server_error", maintenance_page)
    async with OpenLibraryDouble(mode="error") as double, open_library(double) as provider:
        with pytest.raises(ProtocolError):
            await provider.search(HAIL_MARY)


# ---- enhancement -------------------------------------------------------------------------


async def test_a_sparse_record_is_completed_from_the_best_match() -> None:
    wanted = from_wanted(title="Galaxy's Edge", author="Jason Anspach")
    release = from_release(
        parse_release_title("Jason Anspach - Galaxy's Edge [2018] {R.C. Bray} MP3")
    )
    sparse = merge(("wanted", wanted), ("release", release))
    before = completeness(sparse.meta)
    async with all_three() as (providers, a, o, g):
        result = await enhance(sparse.meta, providers, provenance=sparse.provenance)
    assert before.percent == 47  # title, author, narrator, year: 45 of 96
    assert result.score_before.percent == 47
    assert result.score_after.percent == 100
    assert result.summary == "47% -> 100%"
    assert result.candidate is not None and result.candidate.provider_id == "B079LRSMNN"
    after = result.after
    # What the user chose stays as typed; the rest is filled from Audible.
    assert after.authors == ("Jason Anspach",)
    assert (after.series, after.position) == ("Galaxy's Edge Series", "1")
    assert (after.publisher, after.isbn, after.asin) == (
        "Podium Audio",
        "9781772305241",
        "B079LRSMNN",
    )
    assert after.cover == cover_jpeg("red") and after.cover_mime == "image/jpeg"
    assert result.provenance["title"] == "wanted"
    assert result.provenance["narrators"] == "release"
    assert result.provenance["publisher"] == "provider:Audible"
    assert result.provenance["cover"] == "provider:Audible"
    assert set(result.filled) >= {"series", "position", "publisher", "description", "cover"}
    # Open Library and Google have no such book: a note each, nothing else.
    assert {(f.provider, f.kind) for f in result.failures} == {
        ("Open Library", "empty"),
        ("Google Books", "empty"),
    }
    assert a.covers_served == 1 and o.covers_served == g.covers_served == 0
    assert auto_apply(result, threshold=0.9)


async def test_the_right_book_is_chosen_and_a_look_alike_ignored() -> None:
    query = BookMetadata(title="Project Hail Mary")  # no author: the decoy is found too
    async with all_three() as (providers, *_):
        result = await enhance(query, providers)
    assert result.candidate is not None
    assert result.candidate.meta.asin == "B08G9PRS1K"
    titles = [c.meta.title for c in result.candidates]
    assert "Summary of Project Hail Mary" in titles
    decoy = next(c for c in result.candidates if c.meta.asin == "B0DECOY001")
    assert decoy.confidence < result.confidence
    assert result.after.narrators == ("Ray Porter",)


async def test_only_a_wrong_book_found_means_nothing_is_applied() -> None:
    decoy_only = {"B0DECOY001": AUDNEXUS_BOOKS["B0DECOY001"]}
    meta = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    async with AudibleDouble(books=decoy_only) as double, audible(double) as provider:
        # The double's author filter would hide the decoy; ask without one.
        result = await enhance(BookMetadata(title=meta.title), [provider])
        result_with_author = await enhance(meta, [provider])
    assert result.candidate is None or result.candidate.meta.asin != "B08G9PRS1K"
    # With the author known, the decoy ("Bookworm Summaries") is not close enough.
    assert result_with_author.candidate is None
    assert result_with_author.after == meta.cleaned()
    assert not auto_apply(result_with_author)


async def test_an_isbn_match_is_certain() -> None:
    meta = BookMetadata(title="PHM", isbn="9780593135204")  # a mangled title, a good ISBN
    async with all_three() as (providers, *_):
        result = await enhance(meta, providers)
    assert result.candidate is not None and result.confidence == 1.0
    # Open Library's work lists that ISBN too; both are certain, the one listed first wins.
    certain = {c.provider for c in result.candidates if c.confidence == 1.0}
    assert certain == {"Open Library", "Google Books"}
    assert result.candidate.provider == "Open Library"
    assert result.after.title == "PHM"  # typed by the user: kept
    assert result.after.authors == ("Andy Weir",)


@pytest.mark.parametrize(
    ("modes", "kinds"),
    [
        (("rate_limited", "error", "hang"), {"rate_limited", "http_error", "timeout"}),
        (("hang", "hang", "hang"), {"timeout"}),
        (("error", "rate_limited", "empty"), {"http_error", "rate_limited", "empty"}),
    ],
)
async def test_when_every_provider_fails_the_record_is_unchanged(
    modes: tuple[str, str, str], kinds: set[str]
) -> None:
    meta = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    async with all_three(*modes) as (providers, *_):
        result = await enhance(meta, providers, timeout=SHORT)
    assert result.candidate is None and result.after == result.before == meta.cleaned()
    assert {f.kind for f in result.failures} == kinds
    assert len(result.failures) == 3
    assert not auto_apply(result)


async def test_failing_providers_leave_the_others_working() -> None:
    meta = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    async with all_three("hang", "normal", "rate_limited") as (providers, _, o, _g):
        result = await enhance(meta, providers, timeout=SHORT)
    assert result.candidate is not None and result.candidate.provider == "Open Library"
    assert result.after.description.startswith("Ryland Grace")
    assert result.after.cover == cover_jpeg("green") and o.covers_served == 1
    failures = {f.provider: f for f in result.failures}
    assert failures["Audible"].kind == "timeout"
    assert failures["Google Books"].kind == "rate_limited"
    assert failures["Google Books"].retry_after == 60.0  # Google sends no Retry-After


async def test_an_unreachable_provider_is_a_note() -> None:
    meta = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    async with GoogleBooksDouble() as double, google(double) as working:
        nowhere = AudibleProvider(
            audible_url=f"http://127.0.0.1:{free_port()}/",
            audnexus_url=f"http://127.0.0.1:{free_port()}/",
        )
        async with nowhere:
            result = await enhance(meta, [nowhere, working])
    assert result.candidate is not None and result.candidate.provider == "Google Books"
    assert [(f.provider, f.kind) for f in result.failures] == [("Audible", "unreachable")]


async def test_typed_fields_are_kept_unless_overwrite_and_locked_ones_always() -> None:
    meta = BookMetadata(title="project hail mary", authors=("A. Weir",), publisher="Mine")
    async with AudibleDouble() as double, audible(double) as provider:
        kept = await enhance(meta, [provider])
        replaced = await enhance(meta, [provider], overwrite=True, locked={"publisher"})
    assert (kept.after.title, kept.after.publisher) == ("project hail mary", "Mine")
    assert kept.after.narrators == ("Ray Porter",)
    assert replaced.after.title == "Project Hail Mary"
    assert replaced.after.authors == ("Andy Weir",)
    assert replaced.after.publisher == "Mine"


async def test_an_oversized_cover_is_skipped_with_a_note() -> None:
    meta = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    async with AudibleDouble() as double, audible(double) as provider:
        result = await enhance(meta, [provider], max_cover_bytes=100)
        existing = await enhance(
            BookMetadata(title=meta.title, authors=meta.authors, cover=b"\xff\xd8\xffmine"),
            [provider],
        )
    assert result.after.cover is None
    assert [(f.provider, f.kind) for f in result.failures] == [("Audible", "cover")]
    assert result.after.narrators == ("Ray Porter",)  # the rest is still applied
    assert existing.after.cover == b"\xff\xd8\xffmine"  # a cover already there is kept
    assert double.covers_served == 1  # and the provider's was not even downloaded


def test_auto_apply_threshold() -> None:
    candidate_meta = BookMetadata(title="X")

    def made(confidence: float) -> Enhancement:
        return Enhancement(
            before=BookMetadata(),
            after=candidate_meta,
            candidate=Candidate("Audible", candidate_meta, confidence),
            confidence=confidence,
            provenance={},
        )

    assert auto_apply(made(0.95), threshold=0.9)
    assert not auto_apply(made(0.85), threshold=0.9)
    assert auto_apply(made(0.85), threshold=0.8)


def test_html_descriptions_become_plain_paragraphs() -> None:
    assert strip_html("<p><b>Bold</b> start.</p> <p>Second &amp; last.</p>") == (
        "Bold start.\n\nSecond & last."
    )
    assert strip_html("Plain &amp; simple") == "Plain & simple"
