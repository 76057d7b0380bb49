"""Loopback doubles of the metadata providers: Audible + Audnexus, Open Library, Google Books.

**Why.** There is no internet here, yet `gui.clients.metadata_providers` must be shown the
answers the real services give, failures included. Each double answers only the routes
below, in the real services' shapes; anything else is **501** `not modelled by the
double`, so a test needing more fails loudly instead of passing against an invented answer.

**Where each shape comes from.**

* **Audible catalogue** ``GET /1.0/catalog/products`` (`api.audible.<tld>`): parameters
  as ABS sends them (`advplyr/audiobookshelf` ``server/providers/Audible.js``: ``title``,
  ``author``, ``num_results``, ``products_sort_by``) and as audible.readthedocs.io
  "External Audible API" lists them (``response_groups``; "responses will often provide
  very little info without response_groups", so without them a product is only its
  ``asin``; ``keywords`` matched against title and series; ``products_sort_by`` of
  ``-ReleaseDate``/``ReleaseDate`` orders by ``release_date``). The answer is
  ``{"products": [...], "response_groups": [...], "total_results": n}``; the product
  field names (``authors[{asin,name}]``,
  ``narrators[{name}]``, ``publisher_name``, ``release_date``, ``language``,
  ``product_images {"500": url}``, ``series[{asin,sequence,title}]``,
  ``publisher_summary``, ``merchandising_summary``, ``category_ladders``,
  ``runtime_length_min``, ``isbn``) are those of the recorded product in
  `laxamentumtech/audnexus` ``tests/datasets/audible/books/api.ts`` (B08G9PRS1K).
* **Audnexus** ``GET /books/<ASIN>?region=``: the ``Book`` schema and its example in
  `laxamentumtech/audnexus` ``docs/spec/audnexus.yaml`` (B08G9PRS1K, Project Hail Mary,
  copied with the summary shortened) and ``tests/datasets/helpers/books.ts``
  (B079LRSMNN, Galaxy's Edge, with ``seriesPrimary``). Errors are Fastify's
  ``{statusCode, error, message}`` (the spec's 400 example "Bad ASIN"); 429 is what
  ``@fastify/rate-limit`` sends (``retry-after`` header; README: 100 requests a minute).
* **Open Library** ``GET /search.json``: openlibrary.org/dev/docs/api/search (``start``,
  ``num_found``, ``docs`` with ``cover_i``, ``title``, ``author_name``,
  ``first_publish_year``, ``key``...; the Lord of the Rings document is the docs' own
  example) plus the current top-level fields (``numFound``, ``numFoundExact``,
  ``documentation_url``, ``q``, ``offset``) and ``key`` as ``/works/OL...W`` as
  recorded in public client tests; ``fields=`` limits a document's keys. ``GET
  /works/<id>.json``: the work record, whose ``description`` is either a string or
  ``{"type": "/type/text", "value": ...}`` (ABS ``OpenLibrary.js`` handles both). Covers
  ``GET /b/id/<n>-L.jpg`` as on covers.openlibrary.org. Its 429/500 are nginx HTML pages.
* **Google Books** ``GET /books/v1/volumes?q=``: developers.google.com/books "Using the
  API" (``{"kind": "books#volumes", "totalItems", "items": [{"kind": "books#volume",
  "id", "etag", "selfLink", "volumeInfo": {...}}]}``; no ``items`` key at all when
  nothing matched). ``volumeInfo`` fields as in the published volume resource
  (``industryIdentifiers [{type, identifier}]``, ``imageLinks {smallThumbnail,
  thumbnail}``...; the Tolstoy volume is a public example response). The 429 body is
  Google's quota error as users reported it (bdlukaa/books_finder#26: "Quota exceeded
  for quota metric 'Queries' ...", reason ``rateLimitExceeded``); Google sends no
  Retry-After, so neither does this double unless asked.

Values for books not in those sources (the Project Hail Mary work and volume, the decoys)
are illustrative, not recordings. Cover images are real JPEGs made by ffmpeg, one colour
per provider so a test can tell whose cover was taken.

**Modes**, per double (per route for Audible): ``normal``, ``empty`` (a valid answer
with no results), ``rate_limited`` (429 + ``Retry-After`` when set), ``error`` (500),
``hang`` (never answers until the double stops).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from copy import deepcopy
from functools import lru_cache
from typing import Any, Self

from aiohttp import web

from tests.doubles.services import _Double, _not_modelled
from tests.harness.tools import require_tool

__all__ = [
    "AUDNEXUS_BOOKS",
    "GOOGLE_VOLUMES",
    "MODES",
    "OPEN_LIBRARY_DOCS",
    "OPEN_LIBRARY_WORKS",
    "AudibleDouble",
    "GoogleBooksDouble",
    "OpenLibraryDouble",
    "cover_jpeg",
]

MODES = ("normal", "empty", "rate_limited", "error", "hang")
#: Cover colours: which provider's cover a test got.
COVER_COLOURS = {"audible": "red", "openlibrary": "green", "google": "blue"}


@lru_cache(maxsize=16)
def cover_jpeg(colour: str, size: int = 64, *, pattern: bool = False) -> bytes:
    """A real JPEG (ffmpeg's ``color`` source), so players and ffprobe can decode it.

    ``pattern``: ffmpeg's ``testsrc2`` picture instead, which compresses like artwork
    (a 600x600 one is tens of kB) rather than to a few hundred bytes.
    """
    ffmpeg = require_tool("ffmpeg")
    source = f"testsrc2=s={size}x{size}" if pattern else f"color=c={colour}:s={size}x{size}"
    result = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-f",
            "lavfi",
            "-i",
            source,
            "-frames:v",
            "1",
            "-q:v",
            "2",
            "-f",
            "image2pipe",
            "-c:v",
            "mjpeg",
            "-",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return result.stdout


# ---- data ----------------------------------------------------------------------------------

#: Audnexus ``Book`` records by ASIN. ``image`` is a path; the double serves it itself.
AUDNEXUS_BOOKS: dict[str, dict[str, Any]] = {
    # docs/spec/audnexus.yaml, example B08G9PRS1K (summary shortened).
    "B08G9PRS1K": {
        "asin": "B08G9PRS1K",
        "authors": [{"asin": "B00G0WYW92", "name": "Andy Weir"}],
        "copyright": 2021,
        "description": (
            "Ryland Grace is the sole survivor on a desperate, last-chance mission - and "
            "if he fails, humanity and the Earth itself will perish. Except that right now, "
            "he doesn't know that. He can't even remember his own name, let alone the "
            "nature of his assignment or how to complete it...."
        ),
        "formatType": "unabridged",
        "genres": [
            {"asin": "18580606011", "name": "Science Fiction & Fantasy", "type": "genre"},
            {"asin": "18580628011", "name": "Science Fiction", "type": "tag"},
            {"asin": "18580629011", "name": "Adventure", "type": "tag"},
            {"asin": "18580639011", "name": "Hard Science Fiction", "type": "tag"},
            {"asin": "18580645011", "name": "Space Opera", "type": "tag"},
        ],
        "image": "images/I/91vS2L5YfEL.jpg",
        "isAdult": False,
        "isbn": "9781603935470",
        "language": "english",
        "literatureType": "fiction",
        "narrators": [{"name": "Ray Porter"}],
        "publisherName": "Audible Studios",
        "rating": "4.9",
        "region": "us",
        "releaseDate": "2021-05-04T00:00:00.000Z",
        "runtimeLengthMin": 970,
        "summary": (
            "<p><b><i>Winner of the 2022 Audie Awards' Audiobook of the Year</i></b></p> "
            "<p>Ryland Grace is the sole survivor on a desperate, last-chance mission - and "
            "if he fails, humanity and the Earth itself will perish.</p> <p>Part scientific "
            "mystery, part dazzling interstellar journey, <i>Project Hail Mary</i> is a tale "
            "of discovery, speculation, and survival to rival <i>The Martian</i>.</p>"
        ),
        "title": "Project Hail Mary",
    },
    # tests/datasets/helpers/books.ts, parsedBook (B079LRSMNN).
    "B079LRSMNN": {
        "asin": "B079LRSMNN",
        "authors": [
            {"asin": "B012DQ3BCM", "name": "Jason Anspach"},
            {"asin": "B004W47QXE", "name": "Nick Cole"},
        ],
        "copyright": 2017,
        "description": (
            "On the edge of the galaxy, a diplomatic mission to an alien planet takes a turn "
            "when the Legionnaires, an elite special fighting force, find themselves ambushed "
            "and stranded behind enemy lines...."
        ),
        "formatType": "unabridged",
        "genres": [
            {"asin": "18580606011", "name": "Science Fiction & Fantasy", "type": "genre"},
            {"asin": "18580628011", "name": "Science Fiction", "type": "tag"},
            {"asin": "18580641011", "name": "Military", "type": "tag"},
        ],
        "image": "images/I/91spdScZuIL.jpg",
        "isAdult": False,
        "isbn": "9781772305241",
        "language": "english",
        "narrators": [{"name": "R.C. Bray"}],
        "publisherName": "Podium Audio",
        "rating": "4.5",
        "region": "us",
        "releaseDate": "2018-02-20T00:00:00.000Z",
        "runtimeLengthMin": 1042,
        "seriesPrimary": {"asin": "B079YXK1GL", "name": "Galaxy's Edge Series", "position": "1-2"},
        "summary": (
            "<p><i>Galaxy's Edge </i>contains <i>Legionnaire </i>through to the end of "
            "<i>Galactic Outlaws</i>. </p> <p>On the edge of the galaxy, a diplomatic mission "
            "to an alien planet takes a turn when the Legionnaires, an elite special fighting "
            "force, find themselves ambushed and stranded behind enemy lines.</p>"
        ),
        "title": "Galaxy's Edge",
    },
    # Illustrative decoy: same title words, another book.
    "B0DECOY001": {
        "asin": "B0DECOY001",
        "authors": [{"asin": "B0DECOYA01", "name": "Bookworm Summaries"}],
        "formatType": "unabridged",
        "genres": [{"asin": "18571910011", "name": "Literature & Fiction", "type": "genre"}],
        "image": "images/I/decoy.jpg",
        "isbn": "",
        "language": "english",
        "narrators": [{"name": "Text To Speech"}],
        "publisherName": "Bookworm Summaries",
        "region": "us",
        "releaseDate": "2021-06-01T00:00:00.000Z",
        "runtimeLengthMin": 41,
        "summary": "<p>A summary of the novel.</p>",
        "title": "Summary of Project Hail Mary",
    },
}

#: Open Library search documents.
OPEN_LIBRARY_DOCS: list[dict[str, Any]] = [
    # openlibrary.org/dev/docs/api/search, the example document (key in today's form).
    {
        "cover_i": 258027,
        "has_fulltext": True,
        "edition_count": 120,
        "title": "The Lord of the Rings",
        "author_name": ["J. R. R. Tolkien"],
        "first_publish_year": 1954,
        "key": "/works/OL27448W",
        "author_key": ["OL26320A"],
        "public_scan_b": True,
        "language": ["eng", "ger", "spa"],
        "publisher": ["Allen & Unwin", "Houghton Mifflin"],
        "isbn": ["9780618640157", "0618640150"],
    },
    # Illustrative.
    {
        "cover_i": 12345678,
        "has_fulltext": False,
        "edition_count": 41,
        "title": "Project Hail Mary",
        "author_name": ["Andy Weir"],
        "first_publish_year": 2021,
        "key": "/works/OL21745884W",
        "author_key": ["OL7234434A"],
        "public_scan_b": False,
        "language": ["eng"],
        "publisher": ["Ballantine Books"],
        "isbn": ["9780593135204", "0593135202", "9781603935470"],
    },
    {
        "cover_i": 8235363,
        "has_fulltext": False,
        "edition_count": 60,
        "title": "The Martian",
        "author_name": ["Andy Weir"],
        "first_publish_year": 2011,
        "key": "/works/OL17091839W",
        "author_key": ["OL7234434A"],
        "public_scan_b": False,
        "language": ["eng", "fre"],
        "publisher": ["Crown", "Del Rey"],
        "isbn": ["9780553418026"],
    },
]

#: Open Library work records by key (both description forms appear).
OPEN_LIBRARY_WORKS: dict[str, dict[str, Any]] = {
    "/works/OL27448W": {
        "title": "The Lord of the Rings",
        "key": "/works/OL27448W",
        "authors": [{"author": {"key": "/authors/OL26320A"}, "type": {"key": "/type/author_role"}}],
        "type": {"key": "/type/work"},
        "description": "The Fellowship of the Ring, The Two Towers and The Return of the King.",
        "covers": [258027],
        "subjects": ["Fiction", "Fantasy"],
        "latest_revision": 30,
        "revision": 30,
        "created": {"type": "/type/datetime", "value": "2009-10-15T11:34:21.437031"},
        "last_modified": {"type": "/type/datetime", "value": "2023-09-01T10:00:00.000000"},
    },
    "/works/OL21745884W": {
        "title": "Project Hail Mary",
        "key": "/works/OL21745884W",
        "authors": [
            {"author": {"key": "/authors/OL7234434A"}, "type": {"key": "/type/author_role"}}
        ],
        "type": {"key": "/type/work"},
        "description": {
            "type": "/type/text",
            "value": (
                "Ryland Grace is the sole survivor on a desperate, last-chance mission, and "
                "if he fails, humanity and the earth itself will perish."
            ),
        },
        "covers": [12345678],
        "subjects": ["Science fiction", "Space flight"],
        "latest_revision": 12,
        "revision": 12,
        "created": {"type": "/type/datetime", "value": "2020-11-04T12:00:00.000000"},
        "last_modified": {"type": "/type/datetime", "value": "2024-01-10T12:00:00.000000"},
    },
}

#: Google Books volumes (``imageLinks`` are paths the double serves).
GOOGLE_VOLUMES: list[dict[str, Any]] = [
    # Illustrative.
    {
        "kind": "books#volume",
        "id": "PHMvolume01",
        "etag": "Zk3s9pXkQ1E",
        "volumeInfo": {
            "title": "Project Hail Mary",
            "subtitle": "A Novel",
            "authors": ["Andy Weir"],
            "publisher": "Ballantine Books",
            "publishedDate": "2021-05-04",
            "description": (
                "<p><b>THE #1 NEW YORK TIMES BESTSELLER</b></p><p>Ryland Grace is the sole "
                "survivor on a desperate, last-chance mission&mdash;and if he fails, humanity "
                "and the earth itself will perish.</p>"
            ),
            "industryIdentifiers": [
                {"type": "ISBN_10", "identifier": "0593135202"},
                {"type": "ISBN_13", "identifier": "9780593135204"},
            ],
            "readingModes": {"text": True, "image": False},
            "pageCount": 496,
            "printType": "BOOK",
            "categories": ["Fiction"],
            "maturityRating": "NOT_MATURE",
            "allowAnonLogging": True,
            "contentVersion": "1.4.4.0.preview.2",
            "imageLinks": {
                "smallThumbnail": "books/content?id=PHMvolume01&printsec=frontcover&img=1&zoom=5",
                "thumbnail": "books/content?id=PHMvolume01&printsec=frontcover&img=1&zoom=1",
            },
            "language": "en",
            "previewLink": "http://books.google.com/books?id=PHMvolume01&hl=&source=gbs_api",
            "infoLink": "http://books.google.com/books?id=PHMvolume01&hl=&source=gbs_api",
            "canonicalVolumeLink": "https://books.google.com/books/about/?id=PHMvolume01",
        },
    },
    # A public example response (Tolstoy, "Childhood and Youth").
    {
        "kind": "books#volume",
        "id": "xyYVAAAAYAAJ",
        "etag": "6SJoInDUy3Y",
        "volumeInfo": {
            "title": "Childhood and Youth",
            "subtitle": "A Tale",
            "authors": ["graf Leo Tolstoy"],
            "publishedDate": "1862",
            "readingModes": {"text": False, "image": True},
            "contentVersion": "1.0.1.0.full.1",
            "imageLinks": {
                "smallThumbnail": "books/content?id=xyYVAAAAYAAJ&printsec=frontcover&img=1&zoom=5",
                "thumbnail": "books/content?id=xyYVAAAAYAAJ&printsec=frontcover&img=1&zoom=1",
            },
            "language": "en",
        },
    },
]


# ---- shared ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) > 2 or w.isdigit()}


def _title_matches(query: str, *titles: str) -> bool:
    """Loose relevance, as the services' searches are: every query word in the title."""
    wanted = _words(query)
    return bool(wanted) and any(wanted <= _words(t) for t in titles if t)


def _author_matches(query: str, names: Iterable[str]) -> bool:
    wanted = _words(query)
    return not wanted or any(wanted & _words(name) for name in names)


class _ProviderDouble(_Double):
    """Modes shared by the three doubles; subclasses give the failure bodies."""

    def __init__(self, *, mode: str = "normal", retry_after: str | None = "30") -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {MODES}")
        self.mode = mode
        self.retry_after = retry_after
        self.covers_served = 0
        self._closing: asyncio.Event | None = None

    async def __aenter__(self) -> Self:
        self._closing = asyncio.Event()
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._closing is not None:
            self._closing.set()  # hanging handlers return, so cleanup does not wait
        await super().__aexit__(*exc_info)

    async def _misbehave(self, mode: str) -> web.StreamResponse | None:
        """The answer a failure mode gives, or None to answer normally."""
        if mode == "hang":
            assert self._closing is not None
            await self._closing.wait()
            return web.Response(status=503)
        if mode == "rate_limited":
            response = self._too_many()
            if self.retry_after is not None:
                response.headers["Retry-After"] = self.retry_after
            return response
        if mode == "error":
            return self._server_error()
        return None

    def _too_many(self) -> web.Response:
        raise NotImplementedError

    def _server_error(self) -> web.Response:
        raise NotImplementedError

    def _cover(self, colour: str) -> web.Response:
        self.covers_served += 1
        return web.Response(body=cover_jpeg(colour), content_type="image/jpeg")


def _json(data: Any, *, status: int = 200, charset: str = "utf-8") -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        charset=charset,
    )


def _nginx_page(status: int, reason: str) -> web.Response:
    html = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return web.Response(status=status, text=html, content_type="text/html")


# ---- Audible + Audnexus ------------------------------------------------------------------


def catalog_product(book: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """An Audnexus book in the Audible catalogue's own field names (see the docstring)."""
    series = book.get("seriesPrimary")
    genres = [g for g in book.get("genres", []) if g.get("type") == "genre"]
    tags = [g for g in book.get("genres", []) if g.get("type") == "tag"]
    return {
        "asin": book["asin"],
        "authors": deepcopy(book.get("authors", [])),
        "category_ladders": [
            {
                "ladder": [{"id": g["asin"], "name": g["name"]} for g in genres + tags[:1]],
                "root": "Genres",
            }
        ]
        if genres
        else [],
        "content_delivery_type": "MultiPartBook" if series else "SinglePartBook",
        "content_type": "Product",
        "format_type": book.get("formatType", "unabridged"),
        "is_adult_product": bool(book.get("isAdult", False)),
        "isbn": book.get("isbn", ""),
        "issue_date": str(book.get("releaseDate", ""))[:10],
        "language": book.get("language", "english"),
        "merchandising_summary": f"<p>{book.get('description', '')}</p>",
        "narrators": deepcopy(book.get("narrators", [])),
        "product_images": {"500": base_url + str(book["image"])},
        "publisher_name": book.get("publisherName", ""),
        "publisher_summary": book.get("summary", ""),
        "release_date": str(book.get("releaseDate", ""))[:10],
        "runtime_length_min": book.get("runtimeLengthMin", 0),
        "series": [
            {
                "asin": series["asin"],
                "sequence": series["position"],
                "title": series["name"],
                "url": f"/pd/{series['asin']}",
            }
        ]
        if series
        else [],
        "sku": f"BK_{book['asin']}",
        "sku_lite": f"BK_{book['asin']}",
        "title": book["title"],
    }


class AudibleDouble(_ProviderDouble):
    """The Audible catalogue and Audnexus on one port (their paths do not overlap).

    ``catalog_mode`` and ``books_mode`` default to ``mode``; ``unknown_to_audnexus``
    lists ASINs the catalogue has but Audnexus answers 404 for.
    """

    def __init__(
        self,
        *,
        mode: str = "normal",
        catalog_mode: str | None = None,
        books_mode: str | None = None,
        retry_after: str | None = "30",
        books: Mapping[str, Mapping[str, Any]] | None = None,
        unknown_to_audnexus: Iterable[str] = (),
    ) -> None:
        super().__init__(mode=mode, retry_after=retry_after)
        for value in (catalog_mode, books_mode):
            if value is not None and value not in MODES:
                raise ValueError(f"unknown mode {value!r}")
        self.catalog_mode = catalog_mode or mode
        self.books_mode = books_mode or mode
        self.books: dict[str, dict[str, Any]] = deepcopy(
            {k: dict(v) for k, v in (books or AUDNEXUS_BOOKS).items()}
        )
        self.unknown_to_audnexus = set(unknown_to_audnexus)

    def _too_many(self) -> web.Response:
        return _json(
            {
                "statusCode": 429,
                "error": "Too Many Requests",
                "message": "Rate limit exceeded, retry in 1 minute",
            },
            status=429,
        )

    def _server_error(self) -> web.Response:
        return _json(
            {"statusCode": 500, "error": "Internal Server Error", "message": "upstream failed"},
            status=500,
        )

    def _book(self, asin: str) -> dict[str, Any]:
        book = deepcopy(self.books[asin])
        book["image"] = self.url + str(book["image"])
        return book

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if request.method != "GET":
            return _not_modelled(request)
        if parts == ["1.0", "catalog", "products"]:
            return await self._catalog(request)
        if len(parts) == 2 and parts[0] == "books":
            return await self._audnexus(parts[1])
        if len(parts) == 3 and parts[:2] == ["images", "I"]:
            return self._cover(COVER_COLOURS["audible"])
        return _not_modelled(request)

    async def _catalog(self, request: web.Request) -> web.StreamResponse:
        failure = await self._misbehave(self.catalog_mode)
        if failure is not None:
            return failure
        query = request.query
        number = query.get("num_results", "10")
        if not number.isdigit():
            # The documented validation message (External Audible API).
            return _json(
                {
                    "message": f"1 validation error detected: Value '{number}' at 'numResults' "
                    "failed to satisfy constraint: Member must satisfy regular expression "
                    "pattern: ^\\d+$"
                },
                status=400,
            )
        groups = [g for g in query.get("response_groups", "").split(",") if g]
        found: list[dict[str, Any]] = []
        if self.catalog_mode != "empty":
            for book in self.books.values():
                names = [a["name"] for a in book.get("authors", [])]
                series = book.get("seriesPrimary") or {}
                # An absent parameter filters nothing (an author's whole catalogue).
                if (
                    ("title" not in query or _title_matches(query["title"], book["title"]))
                    and _author_matches(query.get("author", ""), names)
                    and (
                        "keywords" not in query
                        or _title_matches(
                            query["keywords"], book["title"], str(series.get("name", ""))
                        )
                    )
                ):
                    product = catalog_product(book, self.url)
                    found.append(product if groups else {"asin": product["asin"]})
        if query.get("products_sort_by") in ("-ReleaseDate", "ReleaseDate"):
            newest = query["products_sort_by"] == "-ReleaseDate"
            found.sort(key=lambda p: str(p.get("release_date", "")), reverse=newest)
        found = found[: int(number)]
        return _json(
            {
                "products": found,
                "response_groups": ["always-returned", *groups],
                "total_results": len(found),
            }
        )

    async def _audnexus(self, asin: str) -> web.StreamResponse:
        failure = await self._misbehave(self.books_mode)
        if failure is not None:
            return failure
        if not re.fullmatch(r"[0-9A-Z]{10}", asin):
            return _json(
                {"statusCode": 400, "error": "Bad Request", "message": "Bad ASIN"}, status=400
            )
        if self.books_mode == "empty" or asin not in self.books or asin in self.unknown_to_audnexus:
            return _json(
                {"statusCode": 404, "error": "Not Found", "message": f"Book {asin} not found"},
                status=404,
            )
        return _json(self._book(asin))


# ---- Open Library ------------------------------------------------------------------------


class OpenLibraryDouble(_ProviderDouble):
    """``/search.json``, ``/works/<id>.json`` and covers (point both base URLs here)."""

    def __init__(
        self,
        *,
        mode: str = "normal",
        retry_after: str | None = "30",
        docs: Iterable[Mapping[str, Any]] | None = None,
        works: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(mode=mode, retry_after=retry_after)
        self.docs = [dict(d) for d in (docs if docs is not None else OPEN_LIBRARY_DOCS)]
        self.works = {k: dict(v) for k, v in (works or OPEN_LIBRARY_WORKS).items()}

    def _too_many(self) -> web.Response:
        return _nginx_page(429, "Too Many Requests")

    def _server_error(self) -> web.Response:
        return _nginx_page(500, "Internal Server Error")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            return _not_modelled(request)
        if re.fullmatch(r"/b/id/\d+-[SML]\.jpg", request.path):
            return self._cover(COVER_COLOURS["openlibrary"])
        failure = await self._misbehave(self.mode)
        if failure is not None:
            return failure
        if request.path == "/search.json":
            return self._search(request)
        match = re.fullmatch(r"/works/(OL\d+W)\.json", request.path)
        if match:
            work = self.works.get(f"/works/{match.group(1)}")
            if work is None:
                return _json({"error": "notfound", "key": request.path[:-5]}, status=404)
            return _json(work)
        return _not_modelled(request)

    def _search(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            limit = 100
        fields = [f for f in query.get("fields", "").split(",") if f]
        found: list[dict[str, Any]] = []
        if self.mode != "empty":
            for doc in self.docs:
                if "isbn" in query:
                    ok = query["isbn"] in doc.get("isbn", [])
                else:
                    ok = _title_matches(query.get("title", ""), doc["title"]) and _author_matches(
                        query.get("author", ""), doc.get("author_name", [])
                    )
                if ok:
                    found.append({k: v for k, v in doc.items() if not fields or k in fields})
        page = found[:limit]
        return _json(
            {
                "numFound": len(found),
                "start": 0,
                "numFoundExact": True,
                "num_found": len(found),
                "documentation_url": "https://openlibrary.org/dev/docs/api/search",
                "q": "",
                "offset": None,
                "docs": page,
            }
        )


# ---- Google Books ------------------------------------------------------------------------


class GoogleBooksDouble(_ProviderDouble):
    """``/books/v1/volumes`` and the ``/books/content`` cover images."""

    def __init__(
        self,
        *,
        mode: str = "normal",
        retry_after: str | None = None,
        volumes: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(mode=mode, retry_after=retry_after)
        self.volumes = [deepcopy(dict(v)) for v in (volumes or GOOGLE_VOLUMES)]

    def _too_many(self) -> web.Response:
        message = (
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service "
            "'books.googleapis.com' for consumer 'project_number:624717413613'."
        )
        return _json(
            {
                "error": {
                    "code": 429,
                    "message": message,
                    "errors": [
                        {"message": message, "domain": "global", "reason": "rateLimitExceeded"}
                    ],
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
            status=429,
            charset="UTF-8",
        )

    def _server_error(self) -> web.Response:
        return _json(
            {
                "error": {
                    "code": 500,
                    "message": "Backend Error",
                    "errors": [
                        {"message": "Backend Error", "domain": "global", "reason": "backendError"}
                    ],
                    "status": "INTERNAL",
                }
            },
            status=500,
            charset="UTF-8",
        )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            return _not_modelled(request)
        if request.path == "/books/content":
            return self._cover(COVER_COLOURS["google"])
        if request.path != "/books/v1/volumes":
            return _not_modelled(request)
        failure = await self._misbehave(self.mode)
        if failure is not None:
            return failure
        q = request.query.get("q", "")
        if not q:
            return _json(
                {
                    "error": {
                        "code": 400,
                        "message": "Missing query.",
                        "errors": [
                            {
                                "message": "Missing query.",
                                "domain": "global",
                                "reason": "queryRequired",
                            }
                        ],
                        "status": "INVALID_ARGUMENT",
                    }
                },
                status=400,
            )
        terms = dict(
            re.findall(r"(intitle|inauthor|isbn):(.+?)(?=\s+(?:intitle|inauthor|isbn):|$)", q)
        )
        items: list[dict[str, Any]] = []
        if self.mode != "empty":
            for volume in self.volumes:
                info = volume["volumeInfo"]
                if "isbn" in terms:
                    ids = [i["identifier"] for i in info.get("industryIdentifiers", [])]
                    ok = terms["isbn"].strip() in ids
                else:
                    ok = _title_matches(
                        terms.get("intitle", q), info["title"], info.get("subtitle", "")
                    ) and _author_matches(terms.get("inauthor", ""), info.get("authors", []))
                if ok:
                    items.append(self._served(volume))
        if not items:
            return _json({"kind": "books#volumes", "totalItems": 0}, charset="UTF-8")
        return _json(
            {"kind": "books#volumes", "totalItems": len(items), "items": items}, charset="UTF-8"
        )

    def _served(self, volume: Mapping[str, Any]) -> dict[str, Any]:
        served = deepcopy(dict(volume))
        served["selfLink"] = f"{self.url}books/v1/volumes/{served['id']}"
        links = served["volumeInfo"].get("imageLinks", {})
        for size, path in links.items():
            links[size] = self.url + path
        return served
