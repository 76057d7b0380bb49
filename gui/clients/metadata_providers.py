"""Book metadata providers behind one interface, and the enhancement that uses them.

Three catalogues, each asked the way Audiobookshelf asks them, so a book Earmark tags
looks the same when ABS later matches it (`server/providers/*.js` at v2.36):

* **Audible + Audnexus** (`Audible.js`): the Audible catalogue
  ``GET https://api.audible<tld>/1.0/catalog/products?title=&author=&num_results=10&
  products_sort_by=Relevance`` finds ASINs; Audnexus ``GET https://api.audnex.us/books/
  <ASIN>?region=<r>`` gives each book's details (authors, narrators, ``seriesPrimary``,
  ``publisherName``, ``releaseDate``, HTML ``summary``, ``genres`` typed genre/tag,
  ``language``, ``image``, ``isbn``; Audnexus' OpenAPI spec ``docs/spec/audnexus.yaml``).
  With an ASIN, Audnexus is asked directly. Unlike ABS, the catalogue is asked for its
  contributor/series/description response groups too, so that a book still gets details
  when Audnexus is down or does not know it (404).
* **Open Library** (`OpenLibrary.js`, openlibrary.org/dev/docs/api/search):
  ``GET /search.json?title=&author=&fields=...`` gives works (``title``, ``author_name``,
  ``first_publish_year``, ``isbn``, ``publisher``, ``language``, ``cover_i``); the best
  works' ``/works/<id>.json`` give the description (a string or ``{type, value}``). A
  work's ISBN and publisher lists mix every edition, so an ISBN is only taken when it is
  the one asked for and a publisher only when there is a single one.
* **Google Books** (`GoogleBooks.js`, developers.google.com/books): ``GET
  /books/v1/volumes?q=intitle:<t>+inauthor:<a>`` (or ``q=isbn:<n>``) gives
  ``items[].volumeInfo``. ABS reads ``publisherDate`` there, a typo: the field is
  ``publishedDate``.

Base URLs are arguments, so tests point them at local doubles.

**Failures degrade, never abort.** `enhance` asks every provider in parallel, each under
its own deadline; one that is unreachable, rate-limited, broken or silent becomes a
`ProviderFailure` note and the others carry on. A 429 is respected: the provider records
``Retry-After`` (60 s when absent) and refuses further calls until then without sending
anything, instead of retrying in a loop (ABS's Audnexus client retries forever).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import unescape
from html.parser import HTMLParser
from typing import Any, Protocol, runtime_checkable

import aiohttp
from yarl import URL

from gui.clients.errors import ClientError, HttpStatusError, ProtocolError
from gui.clients.http import (
    TRANSPORT_ERRORS,
    HttpOptions,
    SessionOwner,
    checked_get,
    display_url,
    ensure_base_url,
    loads_json,
    parse_retry_after,
    read_capped,
    transport_error,
)
from gui.core.matching import BookKey, canonical_asin, canonical_isbn, match_score
from gui.core.metadata import (
    SOURCE_PROVIDER,
    BookMetadata,
    Score,
    clean_isbn,
    completeness,
    fill_missing,
    image_type,
    score_change,
)
from gui.core.redact import REDACTOR

__all__ = [
    "AUDIBLE_REGIONS",
    "AudibleProvider",
    "BookQuery",
    "Candidate",
    "CatalogEntry",
    "Enhancement",
    "GoogleBooksProvider",
    "MetadataProvider",
    "OpenLibraryProvider",
    "ProviderFailure",
    "ProviderRateLimitedError",
    "auto_apply",
    "enhance",
    "strip_html",
]

#: Audible marketplaces as ABS maps them (`Audible.js` ``regionMap``).
AUDIBLE_REGIONS: Mapping[str, str] = {
    "us": ".com",
    "ca": ".ca",
    "uk": ".co.uk",
    "au": ".com.au",
    "fr": ".fr",
    "de": ".de",
    "jp": ".co.jp",
    "it": ".it",
    "in": ".in",
    "es": ".es",
}
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_COVER_BYTES = 10 * 1024 * 1024
#: When a 429 carries no usable Retry-After: long enough not to hammer, short enough to
#: matter for the next import.
DEFAULT_RETRY_AFTER = 60.0
CATALOG_RESPONSE_GROUPS = "contributors,media,product_attrs,product_desc,series,category_ladders"


# ---- queries and candidates ----------------------------------------------------------------


#: The old name of what every provider is asked: a `BookKey` (identifiers make the answer
#: certain), as `BookMetadata.key()` gives it.
BookQuery = BookKey


@dataclass(frozen=True)
class Candidate:
    """One provider's description of a book, and how well it matches the query (0..1)."""

    provider: str
    meta: BookMetadata
    confidence: float
    cover_url: str = ""
    #: The provider's own id (ASIN, Open Library work key, Google volume id).
    provider_id: str = ""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A book as a catalogue lists it for an author or a series, with its release date
    ("YYYY-MM-DD", "" when unknown): a new release is told apart by it."""

    meta: BookMetadata
    released: str


@runtime_checkable
class MetadataProvider(Protocol):
    """A catalogue Earmark can ask; implementations raise `ClientError`s on failure."""

    name: str

    async def search(self, query: BookKey) -> list[Candidate]:
        """Candidates for the query, best first; an empty list when nothing matched."""
        ...

    async def fetch_cover(self, url: str, *, max_bytes: int = MAX_COVER_BYTES) -> bytes | None:
        """A cover image's bytes, or None when it is missing, too big or not an image."""
        ...

    async def close(self) -> None: ...


class ProviderRateLimitedError(HttpStatusError):
    """HTTP 429, or a call refused locally because the last 429's Retry-After still runs."""

    def __init__(self, message: str, *, retry_after: float | None, **where: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **where)


# ---- HTML descriptions ---------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(text: str) -> str:
    """Plain text with paragraphs kept: tags cannot carry HTML and players show it raw.

    Audnexus summaries and Google descriptions are HTML (``<p><b>...</b></p>``); ABS
    strips them too (`htmlSanitizer.stripAllTags`).
    """
    if "<" not in text:
        return unescape(text).strip()
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n\n".join(line for line in lines if line)


# ---- shared HTTP ---------------------------------------------------------------------------


_COVER_ERRORS: tuple[type[BaseException], ...] = (
    *TRANSPORT_ERRORS,
    aiohttp.ClientError,
    ValueError,
)


class _JsonProvider(SessionOwner):
    """Session, capped JSON GETs, typed errors and the Retry-After gate, shared by all."""

    name = "provider"

    def __init__(
        self,
        *,
        http: HttpOptions = HttpOptions(),  # noqa: B008 - frozen dataclass, never mutated
        max_bytes: int = MAX_JSON_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.max_bytes = max_bytes
        self._clock = clock
        #: Per origin: Audible's catalogue and Audnexus are limited separately.
        self._blocked_until: dict[str, float] = {}

    @property
    def session_options(self) -> HttpOptions:
        return self.http

    @property
    def retry_in(self) -> float:
        """Seconds until every server of this provider may be asked again (0: now)."""
        latest = max(self._blocked_until.values(), default=0.0)
        return max(0.0, latest - self._clock())

    def _wait_for(self, origin: str) -> float:
        return max(0.0, self._blocked_until.get(origin, 0.0) - self._clock())

    async def _get_json(self, url: URL, params: Mapping[str, str], *, endpoint: str) -> Any | None:
        """The decoded answer; None for 404 (the thing asked for does not exist)."""
        shown = display_url(url)
        origin = str(url.origin())
        wait = self._wait_for(origin)
        if wait > 0:
            raise ProviderRateLimitedError(
                f"rate-limited; not asked again for {wait:.0f} s (its Retry-After)",
                retry_after=wait,
                service=self.name,
                url=shown,
                endpoint=endpoint,
            )
        try:
            async with checked_get(
                self.session, url, params=params, headers={"Accept": "application/json"}
            ) as response:
                body = await read_capped(response, self.max_bytes)
                status = response.status
                retry_header = response.headers.get("Retry-After")
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, service=self.name, url=shown, endpoint=endpoint) from exc
        where: dict[str, Any] = {"service": self.name, "url": shown, "endpoint": endpoint}
        if status == 429:
            seconds, _ = parse_retry_after(retry_header)
            delay = DEFAULT_RETRY_AFTER if seconds is None else seconds
            until = self._clock() + delay
            self._blocked_until[origin] = max(self._blocked_until.get(origin, 0.0), until)
            raise ProviderRateLimitedError(
                f"rate-limited (HTTP 429); not asked again for {delay:.0f} s",
                retry_after=delay,
                status=429,
                answer=(body or b"").decode("utf-8", "replace"),
                **where,
            )
        if status == 404:
            return None
        if body is None:
            raise ProtocolError(f"the answer is larger than {self.max_bytes} bytes", **where)
        if not 200 <= status < 300:
            raise HttpStatusError(
                "the service answered with an error",
                status=status,
                answer=body.decode("utf-8", "replace"),
                **where,
            )
        try:
            return loads_json(body)
        except ValueError as exc:
            raise ProtocolError(
                "the answer is not JSON",
                status=status,
                answer=body.decode("utf-8", "replace"),
                **where,
            ) from exc

    async def fetch_cover(self, url: str, *, max_bytes: int = MAX_COVER_BYTES) -> bytes | None:
        """The image at ``url`` if it is a JPEG/PNG/WebP of at most ``max_bytes``.

        A missing cover is not worth failing an import for: every problem is None.
        """
        if URL(url).scheme not in ("http", "https"):
            return None
        try:
            async with checked_get(self.session, URL(url)) as response:
                if response.status != 200:
                    return None
                data = await read_capped(response, max_bytes)
        except _COVER_ERRORS:
            return None
        if not data or image_type(data) is None:
            return None
        return data


def _scored(query: BookKey, meta: BookMetadata) -> float:
    return round(match_score(query, meta.key()), 4)


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int) and str(v).strip()]
    return []


def _names(value: Any) -> tuple[str, ...]:
    """``[{"name": "..."}]`` (Audible, Audnexus) -> names."""
    if not isinstance(value, list):
        return ()
    return tuple(str(item["name"]) for item in value if isinstance(item, dict) and item.get("name"))


def _year(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    match = re.match(r"\s*(\d{4})", str(value or ""))
    return int(match.group(1)) if match else None


_SEQUENCE_NUMBER = re.compile(r"\.\d+|\d+(?:\.\d+)?")


def _series_position(sequence: Any) -> str:
    """ABS's ``cleanSeriesSequence``: "Book 1" -> "1", "2, Dramatized Adaptation" -> "2"."""
    text = str(sequence or "").strip()
    match = _SEQUENCE_NUMBER.search(text)
    return match.group(0) if match else text


# ---- Audible + Audnexus --------------------------------------------------------------------


class AudibleProvider(_JsonProvider):
    """Audible's catalogue for finding ASINs, Audnexus for each book's details."""

    name = "Audible"

    def __init__(
        self,
        *,
        region: str = "us",
        audible_url: str | None = None,
        audnexus_url: str = "https://api.audnex.us/",
        max_results: int = 10,
        max_details: int = 5,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if region not in AUDIBLE_REGIONS:
            raise ValueError(f"unknown Audible region {region!r}; known: {sorted(AUDIBLE_REGIONS)}")
        self.region = region
        self.audible_url = ensure_base_url(
            audible_url or f"https://api.audible{AUDIBLE_REGIONS[region]}/"
        )
        self.audnexus_url = ensure_base_url(audnexus_url)
        self.max_results = max_results
        self.max_details = max_details

    async def search(self, query: BookKey) -> list[Candidate]:
        """By ASIN first (as ABS does), then by title and author through the catalogue."""
        error: ClientError | None = None
        if query.asin:
            try:
                book = await self._audnexus(query.asin)
            except ClientError as exc:
                book, error = None, exc
            if book is not None:
                return [self._candidate(query, book)]
        if not query.title.strip():
            if error is not None:
                raise error
            return []
        params = {
            "num_results": str(self.max_results),
            "products_sort_by": "Relevance",
            "title": query.title,
            "response_groups": CATALOG_RESPONSE_GROUPS,
        }
        if query.authors:
            params["author"] = query.authors[0]
        data = await self._get_json(
            self.audible_url / "1.0" / "catalog" / "products",
            params,
            endpoint="/1.0/catalog/products",
        )
        products = data.get("products") if isinstance(data, dict) else None
        if not isinstance(products, list):
            return []
        wanted = [p for p in products if isinstance(p, dict) and p.get("asin")]
        wanted = wanted[: self.max_details]
        details = await asyncio.gather(
            *(self._audnexus(str(p["asin"])) for p in wanted), return_exceptions=True
        )
        candidates: list[Candidate] = []
        for product, detail in zip(wanted, details, strict=True):
            if isinstance(detail, dict):
                candidates.append(self._candidate(query, detail))
            elif isinstance(detail, BaseException) and not isinstance(detail, ClientError):
                raise detail
            elif product.get("title"):
                # Audnexus does not know it (404) or failed: the catalogue's own fields.
                meta, cover = _from_catalog(product)
                candidates.append(
                    Candidate(
                        provider=self.name,
                        meta=meta,
                        confidence=_scored(query, meta),
                        cover_url=cover,
                        provider_id=meta.asin,
                    )
                )
        if not candidates:
            # Nothing usable: say why rather than "no results" when Audnexus failed.
            error = error or next((d for d in details if isinstance(d, ClientError)), None)
            if error is not None:
                raise error
        candidates.sort(key=lambda c: -c.confidence)
        return candidates

    async def catalog(
        self, *, author: str = "", keywords: str = "", max_results: int = 50
    ) -> list[CatalogEntry]:
        """An author's (or a series') books in the catalogue, newest first, with their
        release dates: what following an author or a series lists.

        ``GET /1.0/catalog/products?author=|keywords=&products_sort_by=-ReleaseDate``
        (audible.readthedocs.io, External Audible API: ``keywords`` and the
        ``-ReleaseDate`` order are documented parameters of this endpoint)."""
        if not author.strip() and not keywords.strip():
            raise ValueError("the catalogue is asked for an author or keywords")
        params = {
            "num_results": str(max_results),
            "products_sort_by": "-ReleaseDate",
            "response_groups": CATALOG_RESPONSE_GROUPS,
        }
        if author.strip():
            params["author"] = author.strip()
        if keywords.strip():
            params["keywords"] = keywords.strip()
        data = await self._get_json(
            self.audible_url / "1.0" / "catalog" / "products",
            params,
            endpoint="/1.0/catalog/products",
        )
        products = data.get("products") if isinstance(data, dict) else None
        entries: list[CatalogEntry] = []
        for product in products if isinstance(products, list) else []:
            if isinstance(product, dict) and product.get("asin") and product.get("title"):
                meta, _ = _from_catalog(product)
                released = str(product.get("release_date") or product.get("issue_date") or "")
                entries.append(CatalogEntry(meta, released[:10]))
        return entries

    async def running_time(self, asin: str) -> float | None:
        """The edition's running time in seconds (Audnexus ``runtimeLengthMin``), or None
        when Audnexus does not know the book or gives none; raises a client error when it
        cannot be asked."""
        book = await self._audnexus(asin)
        return _from_audnexus(book)[0].duration if book is not None else None

    async def _audnexus(self, asin: str) -> dict[str, Any] | None:
        data = await self._get_json(
            self.audnexus_url / "books" / canonical_asin(asin),
            {"region": self.region},
            endpoint="/books/{asin}",
        )
        if isinstance(data, dict) and data.get("asin"):
            return data
        return None

    def _candidate(self, query: BookKey, book: Mapping[str, Any]) -> Candidate:
        meta, cover = _from_audnexus(book)
        return Candidate(
            provider=self.name,
            meta=meta,
            confidence=_scored(query, meta),
            cover_url=cover,
            provider_id=meta.asin,
        )


def _from_audnexus(book: Mapping[str, Any]) -> tuple[BookMetadata, str]:
    """An Audnexus ``Book`` (spec ``components/schemas/Book``) as ABS's ``cleanResult``
    reads it: genres are the entries typed "genre" (the "tag" ones are ABS tags)."""
    series = book.get("seriesPrimary") if isinstance(book.get("seriesPrimary"), dict) else {}
    assert isinstance(series, dict)
    genres = book.get("genres") if isinstance(book.get("genres"), list) else []
    assert isinstance(genres, list)
    runtime = book.get("runtimeLengthMin")
    meta = BookMetadata(
        title=str(book.get("title") or ""),
        subtitle=str(book.get("subtitle") or ""),
        authors=_names(book.get("authors")),
        narrators=_names(book.get("narrators")),
        series=str(series.get("name") or ""),
        position=_series_position(series.get("position")),
        year=_year(book.get("releaseDate")),
        publisher=str(book.get("publisherName") or ""),
        description=strip_html(str(book.get("summary") or book.get("description") or "")),
        genres=tuple(
            str(g["name"])
            for g in genres
            if isinstance(g, dict) and g.get("type") == "genre" and g.get("name")
        ),
        isbn=str(book.get("isbn") or ""),
        asin=str(book.get("asin") or ""),
        language=str(book.get("language") or ""),
        duration=float(runtime) * 60 if isinstance(runtime, int | float) and runtime > 0 else None,
    ).cleaned()
    return meta, str(book.get("image") or "")


def _from_catalog(product: Mapping[str, Any]) -> tuple[BookMetadata, str]:
    """An Audible catalogue product (the fields Audnexus itself builds its books from)."""
    series_list = product.get("series") if isinstance(product.get("series"), list) else []
    assert isinstance(series_list, list)
    first_series = series_list[0] if series_list and isinstance(series_list[0], dict) else {}
    genres: list[str] = []
    for ladder in product.get("category_ladders") or []:
        steps = ladder.get("ladder") if isinstance(ladder, dict) else None
        if ladder.get("root") == "Genres" and isinstance(steps, list) and steps:
            genres.append(str(steps[0].get("name") or ""))
    images = (
        product.get("product_images") if isinstance(product.get("product_images"), dict) else {}
    )
    assert isinstance(images, dict)
    cover = ""
    if images:
        biggest = max(images, key=lambda size: int(size) if str(size).isdigit() else 0)
        cover = str(images[biggest])
    runtime = product.get("runtime_length_min")
    meta = BookMetadata(
        title=str(product.get("title") or ""),
        subtitle=str(product.get("subtitle") or ""),
        authors=_names(product.get("authors")),
        narrators=_names(product.get("narrators")),
        series=str(first_series.get("title") or ""),
        position=_series_position(first_series.get("sequence")),
        year=_year(product.get("release_date") or product.get("issue_date")),
        publisher=str(product.get("publisher_name") or ""),
        description=strip_html(
            str(product.get("publisher_summary") or product.get("merchandising_summary") or "")
        ),
        genres=tuple(genres),
        isbn=str(product.get("isbn") or ""),
        asin=str(product.get("asin") or ""),
        language=str(product.get("language") or ""),
        duration=float(runtime) * 60 if isinstance(runtime, int | float) and runtime > 0 else None,
    ).cleaned()
    return meta, cover


# ---- Open Library --------------------------------------------------------------------------

OPEN_LIBRARY_FIELDS = (
    "key,title,subtitle,author_name,first_publish_year,isbn,publisher,language,"
    "cover_i,cover_edition_key"
)


class OpenLibraryProvider(_JsonProvider):
    """Open Library's work search, with the description from the best works' records."""

    name = "Open Library"

    def __init__(
        self,
        *,
        base_url: str = "https://openlibrary.org/",
        covers_url: str = "https://covers.openlibrary.org/",
        limit: int = 5,
        work_lookups: int = 2,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.base_url = ensure_base_url(base_url)
        self.covers_url = ensure_base_url(covers_url)
        self.limit = limit
        self.work_lookups = work_lookups

    async def search(self, query: BookKey) -> list[Candidate]:
        params = {"fields": OPEN_LIBRARY_FIELDS, "limit": str(self.limit)}
        if query.isbn:
            params["isbn"] = clean_isbn(query.isbn)
        elif query.title.strip():
            params["title"] = query.title
            if query.authors:
                params["author"] = query.authors[0]
        else:
            return []
        data = await self._get_json(self.base_url / "search.json", params, endpoint="/search.json")
        docs = data.get("docs") if isinstance(data, dict) else None
        if not isinstance(docs, list):
            return []
        candidates = [
            self._candidate(query, doc)
            for doc in docs
            if isinstance(doc, dict) and doc.get("title")
        ]
        candidates.sort(key=lambda c: -c.confidence)
        lookups = [c for c in candidates[: self.work_lookups] if c.provider_id]
        works = await asyncio.gather(
            *(self._work(c.provider_id) for c in lookups), return_exceptions=True
        )
        described: dict[str, Candidate] = {}
        for candidate, work in zip(lookups, works, strict=True):
            if isinstance(work, BaseException) and not isinstance(work, ClientError):
                raise work
            if isinstance(work, dict):
                described[candidate.provider_id] = self._with_work(candidate, work)
        return [described.get(c.provider_id, c) for c in candidates]

    def _candidate(self, query: BookKey, doc: Mapping[str, Any]) -> Candidate:
        isbns = _strings(doc.get("isbn"))
        wanted_isbn = canonical_isbn(query.isbn) if query.isbn else ""
        isbn = next((i for i in isbns if wanted_isbn and canonical_isbn(i) == wanted_isbn), "")
        publishers = sorted(set(_strings(doc.get("publisher"))))
        languages = _strings(doc.get("language"))
        cover = ""
        if isinstance(doc.get("cover_i"), int) and doc["cover_i"] > 0:
            cover = str(self.covers_url / "b" / "id" / f"{doc['cover_i']}-L.jpg")
        meta = BookMetadata(
            title=str(doc.get("title") or ""),
            subtitle=str(doc.get("subtitle") or ""),
            authors=tuple(_strings(doc.get("author_name"))),
            year=_year(doc.get("first_publish_year")),
            publisher=publishers[0] if len(publishers) == 1 else "",
            isbn=isbn,
            language=languages[0] if len(languages) == 1 else "",
        ).cleaned()
        return Candidate(
            provider=self.name,
            meta=meta,
            confidence=_scored(query, meta),
            cover_url=cover,
            provider_id=str(doc.get("key") or ""),
        )

    async def _work(self, key: str) -> dict[str, Any] | None:
        path = key if key.startswith("/") else f"/works/{key}"
        url = self.base_url.join(URL(path.lstrip("/") + ".json"))
        data = await self._get_json(url, {}, endpoint="/works/{id}.json")
        return data if isinstance(data, dict) else None

    def _with_work(self, candidate: Candidate, work: Mapping[str, Any]) -> Candidate:
        raw = work.get("description")
        if isinstance(raw, dict):
            raw = raw.get("value")
        description = strip_html(str(raw)) if isinstance(raw, str) else ""
        cover = candidate.cover_url
        covers = [c for c in work.get("covers") or [] if isinstance(c, int) and c > 0]
        if not cover and covers:
            cover = str(self.covers_url / "b" / "id" / f"{covers[0]}-L.jpg")
        meta = candidate.meta
        if description and not meta.description:
            meta = replace(meta, description=description)
        return replace(candidate, meta=meta, cover_url=cover)


# ---- Google Books --------------------------------------------------------------------------

_IMAGE_SIZES = ("extraLarge", "large", "medium", "small", "thumbnail", "smallThumbnail")


class GoogleBooksProvider(_JsonProvider):
    """Google Books' volume search; without an API key Google's shared quota applies."""

    name = "Google Books"

    def __init__(
        self,
        *,
        base_url: str = "https://www.googleapis.com/",
        api_key: str = "",
        max_results: int = 10,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.base_url = ensure_base_url(base_url)
        self.api_key = api_key.strip()
        REDACTOR.add(self.api_key, "google-books-api-key")
        self.max_results = max_results

    async def search(self, query: BookKey) -> list[Candidate]:
        if query.isbn:
            q = f"isbn:{clean_isbn(query.isbn)}"
        elif query.title.strip():
            q = f"intitle:{query.title}"
            if query.authors:
                q += f" inauthor:{query.authors[0]}"
        else:
            return []
        params = {"q": q, "maxResults": str(self.max_results), "printType": "books"}
        if self.api_key:
            params["key"] = self.api_key
        data = await self._get_json(
            self.base_url / "books" / "v1" / "volumes", params, endpoint="/books/v1/volumes"
        )
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []  # {"kind": "books#volumes", "totalItems": 0} has no "items" at all
        candidates = [c for item in items if (c := self._candidate(query, item)) is not None]
        candidates.sort(key=lambda c: -c.confidence)
        return candidates

    def _candidate(self, query: BookKey, item: Any) -> Candidate | None:
        info = item.get("volumeInfo") if isinstance(item, dict) else None
        if not isinstance(info, dict) or not info.get("title"):
            return None
        identifiers = {
            str(i.get("type")): str(i.get("identifier"))
            for i in info.get("industryIdentifiers") or []
            if isinstance(i, dict) and i.get("identifier")
        }
        images = info.get("imageLinks") if isinstance(info.get("imageLinks"), dict) else {}
        assert isinstance(images, dict)
        cover = next((str(images[size]) for size in _IMAGE_SIZES if images.get(size)), "")
        meta = BookMetadata(
            title=str(info.get("title") or ""),
            subtitle=str(info.get("subtitle") or ""),
            authors=tuple(_strings(info.get("authors"))),
            year=_year(info.get("publishedDate")),
            publisher=str(info.get("publisher") or ""),
            description=strip_html(str(info.get("description") or "")),
            genres=tuple(_strings(info.get("categories"))),
            isbn=identifiers.get("ISBN_13") or identifiers.get("ISBN_10") or "",
            language=str(info.get("language") or ""),
        ).cleaned()
        return Candidate(
            provider=self.name,
            meta=meta,
            confidence=_scored(query, meta),
            cover_url=_https_google(cover),
            provider_id=str(item.get("id") or ""),
        )


def _https_google(url: str) -> str:
    """Google hands out ``http://books.google.com/...`` thumbnails; they serve https too."""
    if url.startswith("http://") and URL(url).host in ("books.google.com", "books.googleapis.com"):
        return "https://" + url[len("http://") :]
    return url


# ---- enhancement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderFailure:
    """Why one provider contributed nothing; ``kind`` is one of "unreachable",
    "rate_limited", "http_error", "bad_answer", "timeout", "empty", "no_match", "cover"."""

    provider: str
    kind: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Enhancement:
    """Before and after one enhancement, with the chosen candidate and every note."""

    before: BookMetadata
    after: BookMetadata
    candidate: Candidate | None
    confidence: float
    provenance: Mapping[str, str]
    failures: tuple[ProviderFailure, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    filled: tuple[str, ...] = field(default=())

    @property
    def score_before(self) -> Score:
        return completeness(self.before)

    @property
    def score_after(self) -> Score:
        return completeness(self.after)

    @property
    def summary(self) -> str:
        """ "72% -> 92%"."""
        return score_change(self.before, self.after)


def _failure(provider: str, exc: BaseException) -> ProviderFailure:
    if isinstance(exc, ProviderRateLimitedError):
        return ProviderFailure(provider, "rate_limited", str(exc), exc.retry_after)
    if isinstance(exc, HttpStatusError):
        return ProviderFailure(provider, "http_error", str(exc))
    if isinstance(exc, ProtocolError):
        return ProviderFailure(provider, "bad_answer", str(exc))
    if isinstance(exc, ClientError):
        return ProviderFailure(provider, "unreachable", str(exc))
    return ProviderFailure(provider, "bad_answer", f"{provider}: {type(exc).__name__}: {exc}")


async def _ask(
    provider: MetadataProvider, query: BookKey, deadline: float
) -> tuple[list[Candidate], ProviderFailure | None]:
    """One provider's answer or its failure note; never raises (but lets cancellation out)."""
    try:
        async with asyncio.timeout(deadline):
            found = await provider.search(query)
    except TimeoutError:
        return [], ProviderFailure(
            provider.name, "timeout", f"{provider.name}: no answer within {deadline:g} s"
        )
    except (ClientError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # The last four: an answer whose shape the parser did not expect.
        return [], _failure(provider.name, exc)
    if not found:
        return [], ProviderFailure(provider.name, "empty", f"{provider.name}: no results")
    return found, None


async def enhance(
    meta: BookMetadata,
    providers: Sequence[MetadataProvider],
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 - a deadline per provider, not for the whole call
    min_confidence: float = 0.6,
    overwrite: bool = False,
    locked: Iterable[str] = (),
    provenance: Mapping[str, str] | None = None,
    fetch_cover: bool = True,
    max_cover_bytes: int = MAX_COVER_BYTES,
) -> Enhancement:
    """Ask every provider in parallel, pick the best match, fill what ``meta`` lacks.

    The best candidate has the highest match confidence (a shared ASIN or ISBN is 1.0;
    otherwise title and author similarity, `gui.core.matching.match_score`); ties go to
    the provider listed first, then to the more complete record. Below ``min_confidence``
    nothing is taken: a wrong book is worse than a sparse one. Fields ``meta`` already
    has are kept (they are what the user typed or chose) unless ``overwrite``, and the
    ``locked`` ones are never touched. The cover is downloaded (at most
    ``max_cover_bytes``) only when it will be used.
    """
    meta = meta.cleaned()
    query = meta.key()
    answers = await asyncio.gather(*(_ask(p, query, timeout) for p in providers))
    failures: list[ProviderFailure] = [f for _, f in answers if f is not None]
    order = {p.name: index for index, p in enumerate(providers)}
    everything = [c for found, _ in answers for c in found]
    owners = {
        id(c): provider
        for provider, (found, _) in zip(providers, answers, strict=True)
        for c in found
    }
    everything.sort(
        key=lambda c: (
            -round(c.confidence, 2),
            order.get(c.provider, len(order)),
            -completeness(c.meta).percent,
        )
    )
    trail = dict(provenance or {})
    best = everything[0] if everything and everything[0].confidence >= min_confidence else None
    if best is None:
        if everything:
            top = everything[0]
            failures.append(
                ProviderFailure(
                    top.provider,
                    "no_match",
                    f"no candidate is close enough (best: {top.meta.title!r} from "
                    f"{top.provider}, {top.confidence:.0%} < {min_confidence:.0%})",
                )
            )
        return Enhancement(
            before=meta,
            after=meta,
            candidate=None,
            confidence=0.0,
            provenance=trail,
            failures=tuple(failures),
            candidates=tuple(everything),
        )
    blocked = set(locked)
    extra = best.meta
    wants_cover = (
        fetch_cover
        and bool(best.cover_url)
        and "cover" not in blocked
        and (overwrite or not meta.has("cover"))
    )
    if wants_cover:
        image = await _cover(owners[id(best)], best.cover_url, timeout, max_cover_bytes)
        if image is None:
            failures.append(
                ProviderFailure(
                    best.provider, "cover", f"{best.provider}: the cover could not be downloaded"
                )
            )
        else:
            extra = replace(extra, cover=image, cover_mime=image_type(image) or "image/jpeg")
    after, taken = fill_missing(meta, extra, overwrite=overwrite, locked=blocked)
    label = f"{SOURCE_PROVIDER}:{best.provider}"
    for name in taken:
        trail[name] = label
        if name == "cover":
            trail["cover_mime"] = label
    return Enhancement(
        before=meta,
        after=after,
        candidate=best,
        confidence=best.confidence,
        provenance=trail,
        failures=tuple(failures),
        candidates=tuple(everything),
        filled=taken,
    )


async def _cover(
    provider: MetadataProvider, url: str, deadline: float, max_bytes: int
) -> bytes | None:
    try:
        async with asyncio.timeout(deadline):
            return await provider.fetch_cover(url, max_bytes=max_bytes)
    except TimeoutError:
        return None


def auto_apply(enhancement: Enhancement, threshold: float = 0.9) -> bool:
    """Whether the enhancement may be applied without showing the review dialog.

    Only a confident match (identifiers, or title and author agreeing closely) is applied
    unseen; anything less waits for the user, who can edit every field first.
    """
    return enhancement.candidate is not None and enhancement.confidence >= threshold
