"""A fuller Audiobookshelf 2.36 double: libraries, paged items, search, items, scans.

Every answer is built from the real 2.36.0 answers recorded in ``tests/fixtures/abs-2.36``
(see its README): the recorded items are served as recorded, and every other item is
rendered from the recorded ones as templates (same keys, same order), so a generated item
is shaped exactly like a real one. ``test_audiobookshelf.py`` checks that rendering the
recorded items reproduces the recordings byte for byte.

Behaviour, with its source in advplyr/audiobookshelf:

* ``GET /status`` needs no token (`status_after_init.json`).
* ``/api`` needs ``Authorization: Bearer <token>`` or ``?token=`` (`server/Auth.js`);
  anything else is passport's **401** ``Unauthorized``. Tokens map to users of type
  root, admin or user; ``GET /api/me`` is `me.json` with that user's type and the
  default permissions of the type (`User.getDefaultPermissionsForUserType`).
* ``/api/libraries/:id/*`` runs `LibraryController.middleware` first: **403** (``Forbidden``)
  when the user may not open the library, **404** ``Library not found`` (sent by
  ``res.send``, so ``text/html``), then ``limit``/``page`` become numbers (not numeric ->
  0) and anything negative or fractional is **400** ``Invalid request. <key> must be a
  positive integer``.
* ``GET /api/libraries/:id/items``: ``{results, total, limit, page, sortBy, sortDesc,
  mediaType, minified, collapseseries, include, offset}``; ``limit=0`` means all; the
  results have the minified shape with or without ``minified=1`` (as recorded). Sorts:
  title (the default, ASCII case-insensitive like SQLite's NOCASE) and ``addedAt``;
  ``desc=1`` reverses.
* ``GET /api/libraries/:id/search?q=``: ``q`` missing is **400**; the query is trimmed
  and ASCII-lowercased, a book matches when its title, subtitle, ASIN or ISBN contains
  it (first matching key wins); ``book`` entries carry the expanded item; ``limit``
  defaults to 12 (`libraryItemsBookFilters.search`).
* ``GET /api/items/:id[?expanded=1]``: `item.json` / `item_expanded.json` shapes;
  unknown id **404** ``Not Found``.
* ``POST /api/libraries/:id/scan[?force=1]``: **403** unless root/admin; otherwise 200
  ``OK`` at once, then, after ``scan_delay`` seconds, the books placed "on disk" with
  ``add_on_disk`` become items and the library's ``lastScan`` changes (a test can hold a
  scan open with ``scan_gate``). A scan asked for while one runs is accepted and does
  nothing (`LibraryScanner.scan`).
* ``GET /api/items/:id/cover``: no token checked at all (`Auth.ignorePatterns`; the route
  has no `LibraryItemController.middleware`, so no library check either). An unknown id or
  an item without a cover is **404** ``Not Found`` (`CacheManager.handleCoverCache`);
  otherwise the item's JPEG (`BookSpec.cover`, kept at ``/metadata/items/<id>/cover.jpg``
  as ABS keeps covers it downloaded). ABS picks WebP unless ``format`` says otherwise and
  the ``Accept`` header lacks ``image/webp`` and is not ``*/*`` (`reqSupportsWebp`); the
  double stores JPEG only, so it serves ``format=jpeg`` (or ``raw=1``) and answers 501 to
  anything else. ``width``/``height`` are not applied (the image is served unscaled).
* ``POST /api/items/:id/match``: `LibraryItemController.middleware` first (**404**
  unknown id, **403** a library the user may not open, **403** a user without the
  ``update`` permission, which type "user" lacks by default), then `match` and
  `Scanner.quickMatchLibraryItem`: the body is recorded in ``match_calls``; the search
  title (``title`` or the item's) is looked up in ``match_results``; nothing there is
  ``{"warning": "No <provider> match found"}``; a result fills the item's empty fields
  (all of them with ``overrideDetails``, the cover with ``overrideCover``) and answers
  ``{"updated", "libraryItem"}`` with the expanded item. With neither flag sent,
  ``prefer_matched_metadata`` (the server's ``scannerPreferMatchedMetadata``) sets both.

**Not modelled** (answered 501 or left empty, never faked): filters and collapsed series
on the items list, ``include=filterdata``, the ``series``/``authors`` parts of a search
(always empty lists) and tags, podcasts' own settings (an extra podcast library reuses the
book library's settings), login, API-key management, item updates, cover scaling and
formats other than JPEG, and match results with keys other than those in `MATCH_KEYS`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.doubles.services import ABS_RESPONSES, _Double

VERSION = "2.36.0"
ADMIN_KEY = "abs-admin-api-key-for-tests"
USER_KEY = "abs-user-api-key-for-tests"
ADMIN_TYPES = ("root", "admin")
RECORDED_FILES = (
    "status_after_init",
    "me",
    "libraries",
    "library_get",
    "library_create",
    "library_items",
    "library_items_minified_limit2",
    "item",
    "item_expanded",
)
#: ABS's default `sortingPrefixes` server setting.
SORTING_PREFIXES = ("the", "a")
_NAMESPACE = uuid.UUID("6f1d3c1e-2f0a-4e4e-9d55-0a6b1f3c2b10")
_JS_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DIGITS = re.compile(r"\d+")
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
#: A real 8x8 baseline JPEG (written by Qt), for items that have a cover.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAZABkAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxO"
    "QERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEB"
    "AQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKB"
    "kaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1"
    "dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl"
    "5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcF"
    "BAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0"
    "tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCjRRRXnn0R/9k="
)
#: Book fields a provider result fills (`quickMatchBookBuildUpdatePayload`) -> `_Item` names.
_MATCH_DETAILS = {
    "title": "title",
    "subtitle": "subtitle",
    "description": "description",
    "publisher": "publisher",
    "publishedYear": "published_year",
    "language": "language",
    "asin": "asin",
    "isbn": "isbn",
}
#: The keys of a `match_results` entry the double understands ("cover" is JPEG bytes here,
#: where a real provider gives a URL that ABS downloads).
MATCH_KEYS = frozenset(
    {*_MATCH_DETAILS, "narrator", "genres", "author", "series", "sequence", "cover"}
)


def load_recorded(responses: Path = ABS_RESPONSES) -> dict[str, Any]:
    """Every recorded answer the double needs, by file stem."""
    recorded: dict[str, Any] = {}
    for name in RECORDED_FILES:
        path = responses / f"{name}.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"the recorded Audiobookshelf answer {path} is missing "
                "(set EARMARK_ABS_RESPONSES to the folder of recordings)"
            )
        recorded[name] = json.loads(path.read_text(encoding="utf-8"))
    return recorded


def _id(*parts: object) -> str:
    """Stable UUIDs, so generated catalogues are the same on every run."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


def _ascii_lower(text: str) -> str:
    """SQLite's NOCASE/LIKE and ABS's `asciiOnlyToLowerCase` fold ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def _js_number(values: list[str]) -> float:
    """`!isNaN(v) ? Number(v) : 0` from LibraryController.middleware."""
    if len(values) != 1:  # express gives an array, and isNaN([..]) is true
        return 0
    text = values[0].strip()
    if not text:
        return 0  # Number("") is 0
    if _JS_NUMBER.match(text):
        return float(text)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return float(int(text, 16))
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return float(text.replace("Infinity", "inf"))
    return 0


def _js(number: float) -> float | int:
    """A JavaScript number as JSON.stringify writes it: 0, not 0.0."""
    return int(number) if float(number).is_integer() else number


def _title_ignore_prefix(title: str) -> str:
    """`getTitleIgnorePrefix`: "The Tiny Sine Book" -> "Tiny Sine Book, The"."""
    for prefix in SORTING_PREFIXES:
        if title.lower().startswith(prefix + " "):
            return f"{title[len(prefix) + 1 :]}, {title[: len(prefix)]}"
    return title


def _comma_list(text: str) -> list[str]:
    """ABS's `.split(',').map(trim).filter(Boolean)` for provider strings."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _last_first(name: str) -> str:
    parts = name.split()
    if len(parts) < 2:
        return name
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


# ---- what a catalogue holds ------------------------------------------------------------


@dataclass(frozen=True)
class BookSpec:
    """A book to put in the library; everything else about the item is derived."""

    title: str
    authors: Sequence[str] = ()
    narrators: Sequence[str] = ()
    series: Sequence[tuple[str, str | None]] = ()  # (name, sequence)
    subtitle: str | None = None
    asin: str | None = None
    isbn: str | None = None
    genres: Sequence[str] = ()
    published_year: str | None = None
    publisher: str | None = None
    description: str | None = None
    language: str | None = None
    tracks: int = 1
    #: Relative to the library folder; default Author/Series/Title or Author/Title.
    rel_path: str | None = None
    #: JPEG bytes of the item's cover (e.g. `TINY_JPEG`); None: no cover (`coverPath` null).
    cover: bytes | None = None


@dataclass
class _File:
    audio: dict[str, Any]  # an `audioFiles[]` entry
    library_file: dict[str, Any]  # its `libraryFiles[]` entry


@dataclass
class _Item:
    """Every fact an item's three renderings need."""

    id: str
    ino: str
    library_id: str
    folder_id: str
    path: str
    rel_path: str
    mtime: int
    ctime: int
    birthtime: int
    added_at: int
    updated_at: int
    last_scan: int
    media_id: str
    title: str
    subtitle: str | None
    authors: list[tuple[str, str]]  # (id, name)
    narrators: list[str]
    series: list[tuple[str, str, str | None]]  # (id, name, sequence)
    genres: list[str]
    published_year: str | None
    published_date: str | None
    publisher: str | None
    description: str | None
    isbn: str | None
    asin: str | None
    language: str | None
    files: list[_File]
    chapters: list[dict[str, Any]]
    is_missing: bool = False
    cover: bytes | None = None

    @property
    def cover_path(self) -> str | None:
        """Where ABS keeps a cover it downloaded (`CoverManager`, default settings)."""
        return f"/metadata/items/{self.id}/cover.jpg" if self.cover is not None else None

    @property
    def duration(self) -> float | int:
        return _js(sum(f.audio["duration"] for f in self.files))

    @property
    def size(self) -> int:
        return int(sum(f.audio["metadata"]["size"] for f in self.files))

    def author_name(self) -> str:
        return ", ".join(name for _, name in self.authors)

    def series_name(self) -> str:
        return ", ".join(f"{n} #{s}" if s else n for _, n, s in self.series)


@dataclass
class _Library:
    facts: dict[str, Any]  # rendered as GET /api/libraries/:id answers
    items: list[_Item] = field(default_factory=list)
    on_disk: list[BookSpec] = field(default_factory=list)
    scanning: bool = False

    @property
    def id(self) -> str:
        return str(self.facts["id"])

    @property
    def media_type(self) -> str:
        return str(self.facts["mediaType"])


# ---- rendering ---------------------------------------------------------------------------


class _Renderer:
    """Items and libraries in the recorded shapes: a template's copy with values replaced,
    so keys and their order are the real server's."""

    def __init__(self, recorded: Mapping[str, Any]) -> None:
        self.list_template = recorded["library_items"]["results"][0]
        self.item_template = recorded["item"]
        self.expanded_template = recorded["item_expanded"]
        self.audio_template = recorded["item"]["media"]["audioFiles"][0]
        self.library_file_template = recorded["item"]["libraryFiles"][0]
        self.library_template = recorded["library_get"]
        self.new_library_template = recorded["library_create"]

    def _top(self, out: dict[str, Any], item: _Item) -> None:
        values = {
            "id": item.id,
            "ino": item.ino,
            "oldLibraryItemId": None,
            "libraryId": item.library_id,
            "folderId": item.folder_id,
            "path": item.path,
            "relPath": item.rel_path,
            "isFile": False,
            "mtimeMs": item.mtime,
            "ctimeMs": item.ctime,
            "birthtimeMs": item.birthtime,
            "addedAt": item.added_at,
            "updatedAt": item.updated_at,
            "lastScan": item.last_scan,
            "scanVersion": VERSION,
            "isMissing": item.is_missing,
            "isInvalid": False,
            "mediaType": "book",
            "numFiles": len(item.files),
            "size": item.size,
        }
        for key in out:
            if key in values:
                out[key] = values[key]

    def _metadata(self, out: dict[str, Any], item: _Item) -> None:
        values = {
            "title": item.title,
            "titleIgnorePrefix": _title_ignore_prefix(item.title),
            "subtitle": item.subtitle,
            "authors": [{"id": i, "name": n} for i, n in item.authors],
            "narrators": list(item.narrators),
            "series": [{"id": i, "name": n, "sequence": s} for i, n, s in item.series],
            "authorName": item.author_name(),
            "authorNameLF": ", ".join(_last_first(n) for _, n in item.authors),
            "narratorName": ", ".join(item.narrators),
            "seriesName": item.series_name(),
            "genres": list(item.genres),
            "publishedYear": item.published_year,
            "publishedDate": item.published_date,
            "publisher": item.publisher,
            "description": item.description,
            "descriptionPlain": re.sub(r"<[^>]*>", "", item.description or "") or None,
            "isbn": item.isbn,
            "asin": item.asin,
            "language": item.language,
            "explicit": False,
            "abridged": False,
        }
        for key in out:
            if key in values:
                out[key] = values[key]

    def _media(self, out: dict[str, Any], item: _Item, *, tracks: bool) -> None:
        audio = [copy.deepcopy(f.audio) for f in item.files]
        values: dict[str, Any] = {
            "id": item.media_id,
            "libraryItemId": item.id,
            "coverPath": item.cover_path,
            "tags": [],
            "numTracks": len(audio),
            "numAudioFiles": len(audio),
            "numChapters": len(item.chapters),
            "duration": item.duration,
            "size": item.size,
            "audioFiles": audio,
            "chapters": copy.deepcopy(item.chapters),
            "ebookFile": None,
        }
        if tracks:
            offset = 0.0
            rendered = []
            for entry in audio:
                track = copy.deepcopy(entry)
                track["title"] = entry["metadata"]["filename"]
                track["startOffset"] = _js(offset)
                track["contentUrl"] = f"/api/items/{item.id}/file/{entry['ino']}"
                offset += float(entry["duration"])
                rendered.append(track)
            values["tracks"] = rendered
        for key in out:
            if key in values:
                out[key] = values[key]
        self._metadata(out["metadata"], item)

    def minified(self, item: _Item) -> dict[str, Any]:
        """A `GET /api/libraries/:id/items` result."""
        out: dict[str, Any] = copy.deepcopy(self.list_template)
        self._top(out, item)
        self._media(out["media"], item, tracks=False)
        return out

    def full(self, item: _Item) -> dict[str, Any]:
        """`GET /api/items/:id`."""
        out: dict[str, Any] = copy.deepcopy(self.item_template)
        self._top(out, item)
        self._media(out["media"], item, tracks=False)
        out["libraryFiles"] = [copy.deepcopy(f.library_file) for f in item.files]
        return out

    def expanded(self, item: _Item) -> dict[str, Any]:
        """`GET /api/items/:id?expanded=1` (also the `libraryItem` of a search hit)."""
        out: dict[str, Any] = copy.deepcopy(self.expanded_template)
        self._top(out, item)
        self._media(out["media"], item, tracks=True)
        out["libraryFiles"] = [copy.deepcopy(f.library_file) for f in item.files]
        return out

    def library(self, library: _Library) -> dict[str, Any]:
        facts = library.facts
        scanned = facts.get("lastScan") is not None
        out: dict[str, Any] = copy.deepcopy(
            self.library_template if scanned else self.new_library_template
        )
        for key in out:
            if key in facts:
                out[key] = copy.deepcopy(facts[key])
        return out

    def audio_file(
        self,
        *,
        index: int,
        ino: str,
        item_path: str,
        filename: str,
        size: int,
        duration: float,
        time_ms: int,
        tags: Mapping[str, str],
    ) -> _File:
        audio = copy.deepcopy(self.audio_template)
        audio["index"] = index
        audio["ino"] = ino
        meta = audio["metadata"]
        meta.update(
            filename=filename,
            ext="." + filename.rsplit(".", 1)[-1],
            path=f"{item_path}/{filename}",
            relPath=filename,
            size=size,
            mtimeMs=time_ms,
            ctimeMs=time_ms,
            birthtimeMs=time_ms,
        )
        audio["addedAt"] = time_ms
        audio["updatedAt"] = time_ms
        digits = _DIGITS.findall(filename)
        audio["trackNumFromFilename"] = int(digits[0]) if digits else None
        audio["duration"] = duration
        audio["metaTags"] = dict(tags)
        library_file = copy.deepcopy(self.library_file_template)
        library_file["ino"] = ino
        library_file["metadata"] = copy.deepcopy(meta)
        library_file["addedAt"] = time_ms
        library_file["updatedAt"] = time_ms
        return _File(audio, library_file)


def _tags(spec: BookSpec, part: int) -> dict[str, str]:
    """ID3 tags as ABS reports them (`metaTags`, in the recorded key order), values from the
    spec; empty ones left out as ffprobe does."""
    series = spec.series[0] if spec.series else None
    values = {
        "tagAlbum": spec.title,
        "tagArtist": ", ".join(spec.authors),
        "tagGenre": "/".join(spec.genres),
        "tagTitle": f"Part {part}",
        "tagSeries": series[0] if series else "",
        "tagSeriesPart": (series[1] or "") if series else "",
        "tagSubtitle": spec.subtitle or "",
        "tagAlbumArtist": ", ".join(spec.authors),
        "tagDate": spec.published_year or "",
        "tagComposer": ", ".join(spec.narrators),
        "tagPublisher": spec.publisher or "",
        "tagComment": spec.description or "",
        "tagEncoder": "Lavf59.27.100",
    }
    return {key: value for key, value in values.items() if value}


# ---- catalogue ---------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Ada Ben Clara Dmitri Elena Farid Greta Hiro Ines Jonas Kemi Liam Maya Nikolai Olga "
    "Pablo Quinn Rosa Sven Tomoko Umar Vera Wen Xavier Yara Zoltan"
)
_LAST = _words(
    "Abbott Brennan Castillo Delacroix Eriksen Fontaine Grimaldi Hartmann Ivanova Jaeger "
    "Kowalski Lindqvist Moreau Nakamura Okafor Petrov Quintero Rasmussen Sato Thorne "
    "Underwood Valdez Whitlock Xu Yilmaz Zimmermann Achebe Bergstrom Calloway Dunmore"
)
_ADJECTIVES = _words(
    "Silent Burning Hollow Crimson Distant Broken Golden Hidden Iron Last Lost Midnight "
    "Northern Pale Quiet Restless Shattered Sunken Twisted Wandering"
)
_NOUNS = _words(
    "Harbor Crown Orchard Lantern Meridian Cartographer Engine Garden Tide Archive Citadel "
    "Compass Ember Frontier Glacier Horizon Labyrinth Monsoon Observatory Reckoning"
)


def generated_books(count: int, *, start: int = 1) -> list[BookSpec]:
    """Distinct, plausible books: every third in a series, every other with an ASIN."""
    books: list[BookSpec] = []
    for n in range(start, start + count):
        author = f"{_FIRST[n % len(_FIRST)]} {_LAST[(n // len(_FIRST)) % len(_LAST)]}"
        title = f"The {_ADJECTIVES[n % len(_ADJECTIVES)]} {_NOUNS[(n // 7) % len(_NOUNS)]} {n}"
        series: tuple[tuple[str, str | None], ...] = ()
        if n % 3 == 0:
            series = ((f"{_NOUNS[n % len(_NOUNS)]} Cycle", str(n % 9 + 1)),)
        books.append(
            BookSpec(
                title=title,
                authors=(author,),
                narrators=(f"{_FIRST[(n + 5) % len(_FIRST)]} {_LAST[(n + 3) % len(_LAST)]}",),
                series=series,
                asin=f"B0{n:08d}" if n % 2 == 0 else None,
                isbn=f"978{n:010d}" if n % 5 == 0 else None,
                genres=("Fantasy",),
                published_year=str(1990 + n % 35),
            )
        )
    return books


# ---- the server ------------------------------------------------------------------------


class AbsServerDouble(_Double):
    """Audiobookshelf 2.36 on 127.0.0.1 with a configurable catalogue (see module docs)."""

    def __init__(
        self,
        *,
        books: Sequence[BookSpec] = (),
        generated: int = 0,
        include_recorded: bool = True,
        keys: Mapping[str, str] | None = None,
        user_libraries: Sequence[str] | None = None,
        extra_libraries: Sequence[tuple[str, str]] = (),
        scan_delay: float = 0.05,
        responses: Path = ABS_RESPONSES,
    ) -> None:
        super().__init__()
        self.recorded = load_recorded(responses)
        self.render = _Renderer(self.recorded)
        #: token -> user type (root, admin, user)
        self.keys: dict[str, str] = dict(keys or {ADMIN_KEY: "root", USER_KEY: "user"})
        #: Libraries a "user"-type key may open; None: all (accessAllLibraries).
        self.user_libraries = list(user_libraries) if user_libraries is not None else None
        self.scan_delay = scan_delay
        #: When set to an unset Event, scans stay "running" until the test sets it.
        self.scan_gate: asyncio.Event | None = None
        #: (library id, force) of every scan accepted, in order.
        self.scans: list[tuple[str, bool]] = []
        self.scans_finished = 0
        self._scan_done = asyncio.Condition()
        #: Search title -> the provider's first result (keys in `MATCH_KEYS`); a title not
        #: here is a search that finds nothing.
        self.match_results: dict[str, dict[str, Any]] = {}
        #: (item id, JSON body) of every match request that passed the permission checks.
        self.match_calls: list[tuple[str, dict[str, Any]]] = []
        #: The server setting `scannerPreferMatchedMetadata` (off by default).
        self.prefer_matched_metadata = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._clock = 0
        self._serial = 0
        recorded_library = self.recorded["library_get"]
        self.libraries: dict[str, _Library] = {}
        main = _Library(copy.deepcopy(recorded_library))
        self.libraries[main.id] = main
        self.library_id = main.id
        for name, media_type in extra_libraries:
            self._add_library(name, media_type)
        items = self.recorded["library_items"]["results"]
        if include_recorded:
            for entry in items:
                full = self.recorded["item"] if entry["id"] == self.recorded["item"]["id"] else None
                main.items.append(self._item_from_recorded(entry, full))
        self._clock = max([int(recorded_library["lastUpdate"])] + [e["addedAt"] for e in items])
        self.add_books([*books, *generated_books(generated)])

    async def __aenter__(self) -> AbsServerDouble:
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().__aexit__(*exc_info)

    @property
    def admin_key(self) -> str:
        return next(k for k, t in self.keys.items() if t in ADMIN_TYPES)

    @property
    def user_key(self) -> str:
        return next(k for k, t in self.keys.items() if t not in ADMIN_TYPES)

    # ---- catalogue ---------------------------------------------------------------------

    def _tick(self) -> int:
        """A millisecond clock that always moves forward (ids and times stay distinct)."""
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def _add_library(self, name: str, media_type: str) -> _Library:
        facts = copy.deepcopy(self.recorded["library_create"])
        library_id = _id("library", name)
        now = self._tick()
        folder = {
            **facts["folders"][0],
            "id": _id("folder", name),
            "fullPath": f"/{re.sub(r'[^a-z0-9]+', '-', name.lower())}",
            "libraryId": library_id,
            "addedAt": now,
        }
        facts.update(
            id=library_id,
            name=name,
            folders=[folder],
            mediaType=media_type,
            displayOrder=len(self.libraries) + 1,
            createdAt=now,
            lastUpdate=now,
        )
        library = _Library(facts)
        self.libraries[library.id] = library
        return library

    def library_named(self, name: str) -> str:
        return next(lib.id for lib in self.libraries.values() if lib.facts["name"] == name)

    def _item_from_recorded(
        self, entry: Mapping[str, Any], full: Mapping[str, Any] | None
    ) -> _Item:
        """Facts of a recorded item: from its full recording when there is one, else
        derived from the list entry (ids of authors and series made up, stably)."""
        meta = entry["media"]["metadata"]
        library_id = entry["libraryId"]
        if full is not None:
            fmeta = full["media"]["metadata"]
            authors = [(a["id"], a["name"]) for a in fmeta["authors"]]
            narrators = list(fmeta["narrators"])
            series = [(s["id"], s["name"], s["sequence"]) for s in fmeta["series"]]
            files = [
                _File(copy.deepcopy(a), copy.deepcopy(lf))
                for a, lf in zip(full["media"]["audioFiles"], full["libraryFiles"], strict=True)
            ]
            chapters = copy.deepcopy(full["media"]["chapters"])
            last_scan = int(full["lastScan"])
        else:
            names = [n for n in (meta["authorName"] or "").split(", ") if n]
            authors = [(_id("author", library_id, n), n) for n in names]
            narrators = [n for n in (meta["narratorName"] or "").split(", ") if n]
            series = []
            for chunk in filter(None, (meta["seriesName"] or "").split(", ")):
                name, _, sequence = chunk.partition(" #")
                series.append((_id("series", library_id, name), name, sequence or None))
            spec = BookSpec(
                title=meta["title"],
                authors=names,
                narrators=narrators,
                series=[(n, s) for _, n, s in series],
                subtitle=meta["subtitle"],
                published_year=meta["publishedYear"],
                publisher=meta["publisher"],
                description=meta["description"],
                genres=meta["genres"],
            )
            files, chapters = self._files(
                spec,
                item_ino=entry["ino"],
                item_path=entry["path"],
                count=entry["media"]["numAudioFiles"],
                size=entry["media"]["size"],
                duration=entry["media"]["duration"],
                time_ms=entry["mtimeMs"],
            )
            last_scan = int(entry["addedAt"]) - 1
        return _Item(
            id=entry["id"],
            ino=entry["ino"],
            library_id=library_id,
            folder_id=entry["folderId"],
            path=entry["path"],
            rel_path=entry["relPath"],
            mtime=entry["mtimeMs"],
            ctime=entry["ctimeMs"],
            birthtime=entry["birthtimeMs"],
            added_at=entry["addedAt"],
            updated_at=entry["updatedAt"],
            last_scan=last_scan,
            media_id=entry["media"]["id"],
            title=meta["title"],
            subtitle=meta["subtitle"],
            authors=authors,
            narrators=narrators,
            series=series,
            genres=list(meta["genres"]),
            published_year=meta["publishedYear"],
            published_date=meta["publishedDate"],
            publisher=meta["publisher"],
            description=meta["description"],
            isbn=meta["isbn"],
            asin=meta["asin"],
            language=meta["language"],
            files=files,
            chapters=chapters,
            is_missing=entry["isMissing"],
        )

    def _files(
        self,
        spec: BookSpec,
        *,
        item_ino: str,
        item_path: str,
        count: int,
        size: int,
        duration: float,
        time_ms: int,
    ) -> tuple[list[_File], list[dict[str, Any]]]:
        """Audio files splitting a size and duration; one chapter per file when several
        (as ABS builds chapters from the files of a multi-file book)."""
        count = max(1, count)
        files: list[_File] = []
        chapters: list[dict[str, Any]] = []
        start = 0.0
        for n in range(1, count + 1):
            part_duration = duration / count
            filename = f"part{n}.mp3"
            files.append(
                self.render.audio_file(
                    index=n,
                    ino=str(int(item_ino) + n),
                    item_path=item_path,
                    filename=filename,
                    size=size // count + (size % count if n == count else 0),
                    duration=part_duration,
                    time_ms=time_ms,
                    tags=_tags(spec, n),
                )
            )
            if count > 1:
                chapters.append(
                    {
                        "id": n - 1,
                        "start": start,
                        "end": start + part_duration,
                        "title": filename.rsplit(".", 1)[0],
                    }
                )
            start += part_duration
        return files, chapters

    def _item_from_spec(self, spec: BookSpec, library: _Library) -> _Item:
        now = self._tick()
        first_author = spec.authors[0] if spec.authors else "Unknown Author"
        parts = [first_author]
        if spec.series:
            name, sequence = spec.series[0]
            parts += [name, f"Vol. {sequence} - {spec.title}" if sequence else spec.title]
        else:
            parts.append(spec.title)
        rel_path = spec.rel_path or "/".join(p.replace("/", "_") for p in parts)
        folder = library.facts["folders"][0]
        path = f"{folder['fullPath'].rstrip('/')}/{rel_path}"
        self._serial += 1
        item_id = _id("item", library.id, rel_path, self._serial)
        ino = str(3_000_000 + (now % 1_000_000) * 10)
        files, chapters = self._files(
            spec,
            item_ino=ino,
            item_path=path,
            count=spec.tracks,
            size=21840 * max(1, spec.tracks),
            duration=5.067755 * max(1, spec.tracks),
            time_ms=now,
        )
        return _Item(
            id=item_id,
            ino=ino,
            library_id=library.id,
            folder_id=folder["id"],
            path=path,
            rel_path=rel_path,
            mtime=now,
            ctime=now,
            birthtime=now,
            added_at=now,
            updated_at=now,
            last_scan=now,
            media_id=_id("media", item_id),
            title=spec.title,
            subtitle=spec.subtitle,
            authors=[(_id("author", library.id, a), a) for a in spec.authors],
            narrators=list(spec.narrators),
            series=[(_id("series", library.id, n), n, s) for n, s in spec.series],
            genres=list(spec.genres),
            published_year=spec.published_year,
            published_date=None,
            publisher=spec.publisher,
            description=spec.description,
            isbn=spec.isbn,
            asin=spec.asin,
            language=spec.language,
            files=files,
            chapters=chapters,
            cover=spec.cover,
        )

    def add_books(self, specs: Iterable[BookSpec], library_id: str | None = None) -> list[str]:
        """Put books in a library now (as if scanned long ago); returns their item ids."""
        library = self.libraries[library_id or self.library_id]
        added = []
        for spec in specs:
            item = self._item_from_spec(spec, library)
            library.items.append(item)
            added.append(item.id)
        return added

    def add_on_disk(self, spec: BookSpec, library_id: str | None = None) -> None:
        """A book that is on disk but not yet scanned: the next scan of the library adds it."""
        self.libraries[library_id or self.library_id].on_disk.append(spec)

    def remove(self, item_id: str) -> None:
        for library in self.libraries.values():
            library.items = [i for i in library.items if i.id != item_id]

    def items_of(self, library_id: str | None = None) -> list[dict[str, Any]]:
        """The library's items in the list shape (what a client should end up with)."""
        library = self.libraries[library_id or self.library_id]
        return [self.render.minified(i) for i in library.items]

    async def wait_for_scans(self, count: int, within: float = 10.0) -> None:
        """Until `count` scans have finished in total (an event, not a sleep)."""
        async with asyncio.timeout(within), self._scan_done:
            await self._scan_done.wait_for(lambda: self.scans_finished >= count)

    # ---- users -------------------------------------------------------------------------

    def _user_type(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        return self.keys.get(token or request.query.get("token", ""))

    def _me(self, user_type: str) -> dict[str, Any]:
        me: dict[str, Any] = copy.deepcopy(self.recorded["me"])
        admin = user_type in ADMIN_TYPES
        if user_type != "root":
            me["id"] = _id("user", user_type)
            me["username"] = "admin" if admin else "listener"
        me["type"] = user_type
        me["permissions"] = {
            "download": True,
            "update": admin,
            "delete": user_type == "root",
            "upload": admin,
            "createEreader": admin,
            "accessAllLibraries": admin or self.user_libraries is None,
            "accessAllTags": True,
            "accessExplicitContent": admin,
            "selectedTagsNotAccessible": False,
        }
        me["librariesAccessible"] = [] if admin else list(self.user_libraries or [])
        return me

    def _may_open(self, user_type: str, library_id: str) -> bool:
        if user_type in ADMIN_TYPES or self.user_libraries is None:
            return True
        return library_id in self.user_libraries

    # ---- HTTP ----------------------------------------------------------------------------

    @staticmethod
    def _json(value: Any, status: int = 200) -> web.Response:
        """express's `res.json`: compact, `application/json; charset=utf-8`."""
        return web.Response(
            status=status,
            body=json.dumps(value, separators=(",", ":")).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    @staticmethod
    def _send_status(status: int) -> web.Response:
        """express's `res.sendStatus`: the reason phrase as text/plain."""
        return web.Response(status=status, text=_REASONS[status], content_type="text/plain")

    @staticmethod
    def _send_text(status: int, text: str) -> web.Response:
        """express's `res.status(n).send(string)`: text/html."""
        return web.Response(status=status, text=text, content_type="text/html")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.path == "/status":
            return self._json(self.recorded["status_after_init"])
        if not request.path.startswith("/api/"):
            return web.Response(status=501, text=f"not modelled by the double: {request.path}")
        parts = [p for p in request.path.split("/") if p][1:]
        if request.method == "GET" and len(parts) == 3 and parts[::2] == ["items", "cover"]:
            return self._cover(request, parts[1])  # before the token check, as Auth.js does
        user_type = self._user_type(request)
        if user_type is None:
            return web.Response(status=401, body=b"Unauthorized")
        if request.method == "GET" and parts == ["me"]:
            return self._json(self._me(user_type))
        if request.method == "GET" and parts == ["libraries"]:
            visible = [
                self.render.library(lib)
                for lib in self.libraries.values()
                if self._may_open(user_type, lib.id)
            ]
            return self._json({"libraries": visible})
        if len(parts) in (2, 3) and parts[0] == "libraries":
            return await self._library_route(request, user_type, parts)
        if request.method == "GET" and len(parts) == 2 and parts[0] == "items":
            return self._item_route(request, user_type, parts[1])
        if request.method == "POST" and len(parts) == 3 and parts[::2] == ["items", "match"]:
            return await self._match(request, user_type, parts[1])
        return web.Response(status=501, text=f"not modelled by the double: {request.path}")

    async def _library_route(
        self, request: web.Request, user_type: str, parts: list[str]
    ) -> web.StreamResponse:
        # LibraryController.middleware
        library_id = parts[1]
        if not self._may_open(user_type, library_id):
            return self._send_status(403)
        library = self.libraries.get(library_id)
        if library is None:
            return self._send_text(404, "Library not found")
        numbers: dict[str, float] = {}
        for key in ("limit", "page"):
            if key in request.query:
                value = _js_number(request.query.getall(key))
                if not float(value).is_integer() or value < 0:
                    return self._send_text(
                        400, f"Invalid request. {key} must be a positive integer"
                    )
                numbers[key] = value
        action = parts[2] if len(parts) == 3 else ""
        if request.method == "GET" and action == "":
            if request.query.get("include"):
                return web.Response(status=501, text="include= is not modelled by the double")
            return self._json(self.render.library(library))
        if request.method == "GET" and action == "items":
            return self._items(request, library, numbers)
        if request.method == "GET" and action == "search":
            return self._search(request, library, numbers)
        if request.method == "POST" and action == "scan":
            if user_type not in ADMIN_TYPES:
                return self._send_status(403)
            self.scans.append((library.id, request.query.get("force") == "1"))
            if not library.scanning:
                library.scanning = True
                task = asyncio.create_task(self._scan(library))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return self._send_status(200)
        return web.Response(status=501, text=f"not modelled by the double: {request.path}")

    def _items(
        self, request: web.Request, library: _Library, numbers: Mapping[str, float]
    ) -> web.Response:
        query = request.query
        if query.get("filter") or query.get("collapseseries") == "1":
            return web.Response(status=501, text="filters are not modelled by the double")
        limit = int(numbers.get("limit", 0))
        page = int(numbers.get("page", 0))
        sort = query.get("sort")
        items = list(library.items)
        if sort in (None, "", "media.metadata.title"):
            items.sort(key=lambda i: _ascii_lower(i.title))
        elif sort == "addedAt":
            items.sort(key=lambda i: i.added_at)
        if query.get("desc") == "1":
            items.reverse()
        offset = page * limit
        chosen = items[offset : offset + limit] if limit else items
        include = [v.strip().lower() for v in query.get("include", "").split(",") if v.strip()]
        payload = {
            "results": [self.render.minified(i) for i in chosen],
            "total": len(items),
            "limit": limit,
            "page": page,
            "sortBy": sort or "media.metadata.title",
            "sortDesc": query.get("desc") == "1",
            "mediaType": library.media_type,
            "minified": query.get("minified") == "1",
            "collapseseries": False,
            "include": ",".join(include),
            "offset": offset,
        }
        return self._json(payload)

    def _search(
        self, request: web.Request, library: _Library, numbers: Mapping[str, float]
    ) -> web.Response:
        text = request.query.get("q")
        if not text:
            return self._send_text(400, 'Invalid request. Query param "q" must be a string')
        limit = int(numbers.get("limit", 0)) or 12
        query = _ascii_lower(text.strip())
        books = []
        for item in library.items:
            for key in ("title", "subtitle", "asin", "isbn"):
                value = getattr(item, key)
                if value and query in _ascii_lower(value):
                    books.append(
                        {
                            "matchText": value,
                            "matchKey": key,
                            "libraryItem": self.render.expanded(item),
                        }
                    )
                    break
            if len(books) >= limit:
                break
        counts: dict[str, int] = {}
        for item in library.items:
            for narrator in item.narrators:
                if query in _ascii_lower(narrator):
                    counts[narrator] = counts.get(narrator, 0) + 1
        narrators = [{"name": n, "numBooks": c} for n, c in sorted(counts.items())][:limit]
        return self._json(
            {"book": books, "narrators": narrators, "tags": [], "series": [], "authors": []}
        )

    def _item_route(self, request: web.Request, user_type: str, item_id: str) -> web.Response:
        for library in self.libraries.values():
            for item in library.items:
                if item.id != item_id:
                    continue
                if not self._may_open(user_type, library.id):
                    return self._send_status(403)
                if request.query.get("expanded") == "1":
                    return self._json(self.render.expanded(item))
                return self._json(self.render.full(item))
        return self._send_status(404)

    def _find(self, item_id: str) -> tuple[_Library, _Item] | None:
        for library in self.libraries.values():
            for item in library.items:
                if item.id == item_id:
                    return library, item
        return None

    def _cover(self, request: web.Request, item_id: str) -> web.Response:
        """`LibraryItemController.getCover` and `CacheManager.handleCoverCache`, JPEG only."""
        found = self._find(item_id)
        cover = found[1].cover if found else None
        if cover is None:
            return self._send_status(404)  # no cover path for the id: res.sendStatus(404)
        if request.query.get("raw"):  # `if (raw)`: any non-empty value; res.sendFile(cover.jpg)
            return web.Response(body=cover, content_type="image/jpeg")
        accept = request.headers.get("Accept", "")
        webp = "image/webp" in accept or accept == "*/*"
        image_format = request.query.get("format") or ("webp" if webp else "jpeg")
        if image_format != "jpeg":
            return web.Response(
                status=501, text=f"format {image_format} is not modelled by the double"
            )
        return web.Response(body=cover, content_type="image/jpeg")

    async def _match(self, request: web.Request, user_type: str, item_id: str) -> web.Response:
        """`LibraryItemController.middleware`, `.match` and `Scanner.quickMatchLibraryItem`."""
        found = self._find(item_id)
        if found is None:
            return self._send_status(404)
        library, item = found
        if not self._may_open(user_type, library.id):
            return self._send_status(403)
        if not self._me(user_type)["permissions"]["update"]:  # a POST needs req.user.canUpdate
            return self._send_status(403)
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return self._send_status(400)  # express.json's parse error
        body = body if isinstance(body, dict) else {}
        self.match_calls.append((item_id, body))
        # LibraryItemController.match keeps non-empty strings and `!!` of the flags sent.
        options = {
            key: body[key]
            for key in ("provider", "title", "author", "isbn", "asin")
            if isinstance(body.get(key), str) and body[key]
        }
        cover_flag = bool(body["overrideCover"]) if "overrideCover" in body else None
        details_flag = bool(body["overrideDetails"]) if "overrideDetails" in body else None
        provider = options.get("provider", "google")
        result = self.match_results.get(options.get("title") or item.title)
        if result is None:
            return self._json({"warning": f"No {provider} match found"})
        if set(result) - MATCH_KEYS or not isinstance(result.get("cover", b""), bytes):
            return web.Response(status=501, text="this match result is not modelled by the double")
        if cover_flag is None and details_flag is None and self.prefer_matched_metadata:
            cover_flag = details_flag = True
        updated = self._apply_match(item, library, result, bool(cover_flag), bool(details_flag))
        if updated:
            item.updated_at = self._tick()
        return self._json({"updated": updated, "libraryItem": self.render.expanded(item)})

    @staticmethod
    def _apply_match(
        item: _Item,
        library: _Library,
        result: Mapping[str, Any],
        override_cover: bool,
        override_details: bool,
    ) -> bool:
        """What `quickMatchBookBuildUpdatePayload` changes: an empty field (every field with
        `override_details`), the cover when there is none (or `override_cover`); authors and
        series by name, case-insensitively, keeping the ids of those already there."""
        updated = False
        cover = result.get("cover")
        if cover and (item.cover is None or override_cover):
            item.cover = cover
            updated = True  # ABS marks coverPath changed even when it is the same file
        for key, attribute in _MATCH_DETAILS.items():
            value = result.get(key)
            current = getattr(item, attribute)
            if value and (not current or override_details) and value != current:
                setattr(item, attribute, value)
                updated = True
        lists = (("narrator", "narrators"), ("genres", "genres"))
        for key, attribute in lists:
            value = result.get(key)
            if value and (not getattr(item, attribute) or override_details):
                names = value if isinstance(value, list) else _comma_list(value)
                if names != getattr(item, attribute):
                    setattr(item, attribute, list(names))
                    updated = True
        author = result.get("author")
        if author and (not item.authors or override_details):
            names = author if isinstance(author, list) else _comma_list(author)
            wanted = {n.lower() for n in names}
            authors = [(i, n) for i, n in item.authors if n.lower() in wanted]
            for name in names:
                if name.lower() not in {n.lower() for _, n in authors}:
                    authors.append((_id("author", library.id, name), name))
            if authors != item.authors:
                item.authors = authors
                updated = True
        series = result.get("series")
        if series and (not item.series or override_details):
            entries = (
                [(e["series"], e.get("sequence")) for e in series]
                if isinstance(series, list)
                else [(series, result.get("sequence"))]
            )
            sequences = {name.lower(): sequence for name, sequence in entries}
            kept = [
                (i, n, sequences[n.lower()]) for i, n, _ in item.series if n.lower() in sequences
            ]
            for name, sequence in entries:
                if name.lower() not in {n.lower() for _, n, _ in kept}:
                    kept.append((_id("series", library.id, name), name, sequence))
            if kept != item.series:
                item.series = kept
                updated = True
        return updated

    async def _scan(self, library: _Library) -> None:
        """What LibraryScanner does for the double: later, the new books appear."""
        try:
            if self.scan_gate is not None:
                await self.scan_gate.wait()
            await asyncio.sleep(self.scan_delay)  # emulated scan time, not test synchronisation
            for spec in library.on_disk:
                library.items.append(self._item_from_spec(spec, library))
            library.on_disk.clear()
            finished = self._tick()
            library.facts.update(lastScan=finished, lastScanVersion=VERSION, lastUpdate=finished)
        finally:
            library.scanning = False
        async with self._scan_done:
            self.scans_finished += 1
            self._scan_done.notify_all()
