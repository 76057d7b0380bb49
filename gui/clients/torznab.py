"""A Torznab feed client: Jackett's per-indexer feeds and Prowlarr's per-indexer feeds.

The user pastes the feed URL Jackett ("Copy Torznab Feed") or Prowlarr (an indexer's
Torznab URL) shows; `torznab_endpoint` turns it into the API URL. The feed is asked for its
capabilities once (`t=caps`), then searched with `t=book` when the indexer takes the
book-search parameters Earmark has (author, title), else with `t=search` and free text,
the same fallback Prowlarr's own Torznab indexer makes
(`src/NzbDrone.Core/Indexers/Definitions/Torznab/TorznabRequestGenerator.cs`).

What the servers answer, read from their sources:

* Results (`rss/channel/item`, Jackett `src/Jackett.Common/Models/ResultPage.cs`, Prowlarr
  `src/NzbDrone.Core/IndexerSearch/NewznabResults.cs`): `title, guid, link, comments,
  pubDate, size, enclosure(url, length, type)` and `<torznab:attr name value>` in the
  namespace `http://torznab.com/schemas/2015/feed`: `category` (repeated), `seeders`,
  `peers` (seeders + leechers), `infohash`, `magneturl`, `files`, `grabs`,
  `downloadvolumefactor`... Jackett writes `files`/`grabs` as plain elements and emits
  `magneturl`; Prowlarr writes them as attributes and puts a magnet in `link`/`enclosure`.
* Errors are `<error code description/>`. Jackett answers its filters' errors (bad key =
  code 100, unknown indexer or unsupported query = 201) with **HTTP 200**, its own errors
  with 400, and a tracker's rate limit with code 900 and **HTTP 429** + `Retry-After`
  (`src/Jackett.Server/Controllers/ResultsController.cs`). Prowlarr answers 200-202 with
  HTTP 400, a disabled indexer with 410, a query or grab limit with 429 + `Retry-After`,
  and a bad key with **401 and an empty body** (`src/Prowlarr.Api.V1/Indexers/
  NewznabController.cs`, `src/Prowlarr.Http/Authentication`). Spec codes
  (torznab.github.io, spec 1.3 draft): 100 bad credentials, 101 suspended, 102 no
  privileges, 200 missing parameter, 201 incorrect parameter, 202 no such function,
  203 function not available, 300 no such item, 900 unknown error, 910 API disabled.

XML from the network is parsed without a DOCTYPE: a document declaring one (entity
definitions: billion laughs, external entities) is refused before anything is expanded,
and answers are capped at `MAX_FEED_BYTES`.
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from yarl import URL

from gui.clients.errors import (
    AuthError,
    ClientError,
    HttpStatusError,
    ProtocolError,
    short_answer,
)
from gui.clients.http import (
    TRANSPORT_ERRORS,
    HttpOptions,
    SessionOwner,
    display_url,
    ensure_base_url,
    loads_json,
    parse_http_date,
    parse_retry_after,
    read_capped,
    transport_error,
)
from gui.core.ranking import Release
from gui.core.redact import REDACTOR
from gui.core.torrents import magnet_info_hash, normalize_info_hash

__all__ = [
    "AUDIOBOOK_CATEGORY",
    "MAX_FEED_BYTES",
    "MAX_FEED_ITEMS",
    "TORZNAB_NS",
    "FeedItem",
    "MalformedFeedError",
    "RateLimitedError",
    "SearchFunction",
    "TorznabApiError",
    "TorznabAuthError",
    "TorznabCaps",
    "TorznabCategory",
    "TorznabClient",
    "UnsafeXmlError",
    "choose_categories",
    "magnet_info_hash",
    "normalize_info_hash",
    "parse_caps",
    "parse_feed",
    "parse_feed_bytes",
    "parse_xml",
    "torznab_endpoint",
]

TORZNAB_NS = "http://torznab.com/schemas/2015/feed"
NEWZNAB_NS = "http://www.newznab.com/DTD/2010/feeds/attributes/"
_ATTR_TAGS = (f"{{{TORZNAB_NS}}}attr", f"{{{NEWZNAB_NS}}}attr")
#: A search of 100 results is ~100 kB; anything near this is not a Torznab answer.
MAX_FEED_BYTES = 20 * 1024 * 1024
#: Items read from one answer (a search asks for 100); the rest of a flood is ignored.
MAX_FEED_ITEMS = 10_000
#: Answers larger than this are parsed in a worker thread, not on the event loop.
LARGE_FEED_BYTES = 256 * 1024
AUDIOBOOK_CATEGORY = 3030
#: Path endings that already name a Torznab/Newznab endpoint (Jackett's
#: `.../results/torznab[/api]`, Prowlarr's `/{id}/api` and `/api/v1/indexer/{id}/newznab`).
TORZNAB_ENDPOINT_NAMES = ("api", "torznab", "newznab")
#: Spec 1.3: the key is the problem (bad credentials, suspended, insufficient privileges).
KEY_ERROR_CODES = frozenset({100, 101, 102})
SERVICE = "Torznab feed"

_FEED_SLICE = 64 * 1024
_DOCTYPE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


# ---- errors ------------------------------------------------------------------------------


class TorznabAuthError(AuthError):
    """`<error code="100|101|102">`: the feed refused the key (Jackett says so with HTTP 200)."""

    def __init__(self, message: str, *, code: int, description: str, **where: Any) -> None:
        self.code = code
        self.description = description
        super().__init__(message, **where)


class TorznabApiError(HttpStatusError):
    """Any other `<error code description>`: a parameter, a function, the indexer itself."""

    def __init__(self, message: str, *, code: int, description: str, **where: Any) -> None:
        self.code = code
        self.description = description
        super().__init__(message, **where)


class RateLimitedError(HttpStatusError):
    """HTTP 429: an indexer's query or grab limit; `retry_after` says when to try again."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None,
        retry_at: datetime | None,
        code: int | None = None,
        description: str = "",
        **where: Any,
    ) -> None:
        self.retry_after = retry_after
        self.retry_at = retry_at
        self.code = code
        self.description = description
        super().__init__(message, **where)


class MalformedFeedError(ProtocolError):
    """The answer is not Torznab XML at all (HTML, broken XML, JSON...)."""


class UnsafeXmlError(MalformedFeedError):
    """The XML declares a DOCTYPE/entities: refused unparsed (XML bombs, external entities)."""


# ---- safe XML ------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised from inside expat when the document starts a DOCTYPE."""


class _NoDoctypeBuilder(ElementTree.TreeBuilder):
    """A tree builder that stops the parser at the start of a DOCTYPE declaration.

    Expat calls the target's `doctype` at the *start* of the declaration, before the
    internal subset (where entities are declared) is read, so nothing gets expanded.
    Without a DOCTYPE no entity can be declared: only the five predefined ones exist.
    """

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Refused(name)


def _declares_doctype(data: bytes) -> bool:
    """`_DOCTYPE.search(data)`, but fast on 20 MB: a case-insensitive regex scan of the whole
    answer holds the GIL for a long time, so only the places that start `<!` are tried."""
    at = data.find(b"<!")
    while at >= 0:
        if _DOCTYPE.match(data, at):
            return True
        at = data.find(b"<!", at + 2)
    return False


def parse_xml(data: bytes) -> ElementTree.Element:
    """Parse untrusted XML: DOCTYPE/ENTITY refused (`UnsafeXmlError`), errors typed.

    The byte scan catches the common (ASCII-compatible) case before expat runs; the
    builder's `doctype` hook catches any other encoding.
    """
    if _declares_doctype(data):
        raise UnsafeXmlError(
            "the feed's XML declares a DOCTYPE or entities, which Earmark refuses to "
            "expand (an XML bomb or an external-entity attack looks like this)",
            service=SERVICE,
        )
    try:
        parser = ElementTree.XMLParser(target=_NoDoctypeBuilder())
        # Fed in slices: expat holds the GIL for a whole feed() call, so one 20 MB call
        # run in a worker thread would still freeze the event loop for seconds.
        for start in range(0, len(data), _FEED_SLICE):
            parser.feed(data[start : start + _FEED_SLICE])
        root: ElementTree.Element = parser.close()
    except (LookupError, ValueError) as exc:
        # expat: "unknown encoding: x-foo", "multi-byte encodings are not supported"
        raise MalformedFeedError(
            f"the feed's XML declares an encoding Earmark cannot read ({exc})", service=SERVICE
        ) from exc
    except _Refused as exc:
        raise UnsafeXmlError(
            "the feed's XML declares a DOCTYPE, which Earmark refuses to parse",
            service=SERVICE,
        ) from exc
    except ElementTree.ParseError as exc:
        raise MalformedFeedError(
            f"the feed answered something that is not Torznab XML ({exc})", service=SERVICE
        ) from exc
    return root


def size_text(count: int) -> str:
    """Bytes for a message: "20 MB", "64 kB"."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.3g} MB"
    return f"{count / 1024:.3g} kB"


def _looks_like_xml(data: bytes) -> bool:
    head = data.lstrip()[:64]
    return head.startswith((b"<", b"\xef\xbb\xbf<", b"\xff\xfe", b"\xfe\xff"))


# ---- capabilities ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFunction:
    """One `<searching>` entry: `search`, `book-search`... with its parameters."""

    name: str
    available: bool
    params: tuple[str, ...]


@dataclass(frozen=True)
class TorznabCategory:
    """A category with its sub-categories (`NewznabStandardCategory.cs`; custom ids >= 100000)."""

    id: int
    name: str
    subcats: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class TorznabCaps:
    """`t=caps`: what the feed can search and in which categories."""

    server_title: str | None
    limits_max: int | None
    limits_default: int | None
    functions: Mapping[str, SearchFunction]
    categories: tuple[TorznabCategory, ...]

    @property
    def category_ids(self) -> frozenset[int]:
        ids = {cat.id for cat in self.categories}
        ids.update(sid for cat in self.categories for sid, _ in cat.subcats)
        return frozenset(ids)

    def available(self, function: str) -> bool:
        found = self.functions.get(function)
        return found is not None and found.available

    def params(self, function: str) -> tuple[str, ...]:
        found = self.functions.get(function)
        return found.params if found is not None and found.available else ()

    @property
    def book_params(self) -> tuple[str, ...]:
        """`book-search`'s parameters when available (e.g. `("q", "title", "author")`)."""
        return self.params("book-search")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):
            return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def parse_caps(root: ElementTree.Element) -> TorznabCaps:
    """Read a `<caps>` document (Jackett `TorznabCapabilities.GetXDocument`, Prowlarr
    `IndexerCapabilities.GetXDocument`); tolerant of missing parts."""
    if root.tag != "caps":
        raise MalformedFeedError(
            f"the feed answered <{root.tag}>, not Torznab capabilities", service=SERVICE
        )
    server = root.find("server")
    limits = root.find("limits")
    functions: dict[str, SearchFunction] = {}
    searching = root.find("searching")
    if searching is not None:
        for entry in searching:
            params = tuple(
                p.strip().lower() for p in (entry.get("supportedParams") or "").split(",")
            )
            functions[entry.tag] = SearchFunction(
                name=entry.tag,
                available=(entry.get("available") or "no").strip().lower() == "yes",
                params=tuple(p for p in params if p),
            )
    categories: list[TorznabCategory] = []
    holder = root.find("categories")
    for cat in holder.findall("category") if holder is not None else []:
        cat_id = _int(cat.get("id"))
        if cat_id is None:
            continue
        subcats = tuple(
            (sub_id, sub.get("name") or "")
            for sub in cat.findall("subcat")
            if (sub_id := _int(sub.get("id"))) is not None
        )
        categories.append(TorznabCategory(cat_id, cat.get("name") or "", subcats))
    return TorznabCaps(
        server_title=server.get("title") if server is not None else None,
        limits_max=_int(limits.get("max")) if limits is not None else None,
        limits_default=_int(limits.get("default")) if limits is not None else None,
        functions=functions,
        categories=tuple(categories),
    )


def choose_categories(wanted: Iterable[int], available: Iterable[int]) -> tuple[int, ...]:
    """The categories to ask for, given what the indexer lists.

    An indexer that does not list a category answers nothing for it (Jackett even refuses
    the query with error 201; Prowlarr skips the indexer, `ReleaseSearchService.Dispatch`),
    so: the wanted ids it lists; else their parents (3000 for 3030) if listed, which the
    ranking then narrows; else no category filter at all. An empty `available` (caps not
    known) keeps the wanted ids.
    """
    wanted = tuple(dict.fromkeys(wanted))
    listed = frozenset(available)
    if not listed or not wanted:
        return wanted
    exact = tuple(cat for cat in wanted if cat in listed)
    if exact:
        return exact
    parents = tuple(dict.fromkeys(cat // 1000 * 1000 for cat in wanted if cat < 100000))
    return tuple(cat for cat in parents if cat in listed)


# ---- results ----------------------------------------------------------------------------


def _is_magnet(url: str | None) -> bool:
    return url is not None and url.strip().lower().startswith("magnet:")


def _is_http(url: str | None) -> bool:
    return url is not None and url.strip().lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class FeedItem:
    """One `<item>`, every field the feeds send that Earmark may use."""

    title: str
    guid: str = ""
    link: str | None = None
    comments: str | None = None
    publish_date: datetime | None = None
    size: int | None = None
    enclosure_url: str | None = None
    enclosure_length: int | None = None
    enclosure_type: str | None = None
    categories: tuple[int, ...] = ()
    seeders: int | None = None
    peers: int | None = None
    leechers: int | None = None
    info_hash: str | None = None
    magnet_url: str | None = None
    files: int | None = None
    grabs: int | None = None
    download_volume_factor: float | None = None
    upload_volume_factor: float | None = None
    author: str | None = None
    book_title: str | None = None
    #: `<jackettindexer id>` / `<prowlarrindexer id>`: the tracker inside an aggregate feed.
    origin_id: str | None = None
    origin_name: str | None = None
    attrs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def magnet(self) -> str | None:
        """Jackett's `magneturl`, else a magnet Prowlarr put in `link`/`enclosure`."""
        for candidate in (self.magnet_url, self.link, self.enclosure_url):
            if _is_magnet(candidate):
                return candidate
        return None

    @property
    def download_url(self) -> str | None:
        """The `<enclosure>`: Torznab's download. `<link>` is often the release's details
        page (AnimeTosho, many RSS feeds) and fetching that as a torrent only fails."""
        return self.enclosure_url if _is_http(self.enclosure_url) else None

    def to_release(self, indexer: str) -> Release:
        """The ranking's view; `indexer` names the feed when the item names no tracker."""
        magnet = self.magnet
        seeders = self.seeders if self.seeders is not None else 0
        leechers = self.leechers
        if leechers is None and self.peers is not None:
            leechers = self.peers - seeders  # peers = seeders + leechers (spec, both servers)
        origin = _int(self.origin_id) if self.origin_id else None
        return Release(
            title=self.title,
            size=self.size or self.enclosure_length or 0,
            seeders=max(seeders, 0),
            leechers=max(leechers or 0, 0),
            indexer=self.origin_name or indexer,
            indexer_id=origin,
            guid=self.guid or self.download_url or magnet or "",
            publish_date=self.publish_date,
            info_hash=self.info_hash or magnet_info_hash(magnet),
            magnet=magnet,
            download_url=self.download_url,
            categories=self.categories,
            protocol="torrent",
            grabs=self.grabs,
            files=self.files,
        )


def _text(item: ElementTree.Element, tag: str) -> str | None:
    found = item.find(tag)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def _item(element: ElementTree.Element) -> FeedItem | None:
    title = _text(element, "title")
    if not title:
        return None  # Jackett's IsValidRelease drops untitled releases too
    attrs: dict[str, list[str]] = {}
    for tag in _ATTR_TAGS:
        for attr in element.iter(tag):
            name = (attr.get("name") or "").strip().lower()
            value = attr.get("value")
            if name and value is not None:
                attrs.setdefault(name, []).append(value.strip())

    def first(name: str) -> str | None:
        values = attrs.get(name)
        return values[0] if values else None

    categories = [c for v in attrs.get("category", []) if (c := _int(v)) is not None]
    if not categories:  # plain <category> elements: RSS's own, both servers write them too
        categories = [c for el in element.findall("category") if (c := _int(el.text)) is not None]
    enclosure = element.find("enclosure")
    origin = element.find("jackettindexer")
    if origin is None:
        origin = element.find("prowlarrindexer")
    size = _int(_text(element, "size"))
    if size is None:
        size = _int(first("size"))
    # Jackett writes files/grabs as elements, Prowlarr as attributes.
    files = _int(first("files")) if "files" in attrs else _int(_text(element, "files"))
    grabs = _int(first("grabs")) if "grabs" in attrs else _int(_text(element, "grabs"))
    origin_name = (origin.text or "").strip() if origin is not None else ""
    return FeedItem(
        title=title,
        guid=_text(element, "guid") or "",
        link=_text(element, "link"),
        comments=_text(element, "comments"),
        publish_date=parse_http_date(_text(element, "pubDate")),
        size=size,
        enclosure_url=enclosure.get("url") if enclosure is not None else None,
        enclosure_length=_int(enclosure.get("length")) if enclosure is not None else None,
        enclosure_type=enclosure.get("type") if enclosure is not None else None,
        categories=tuple(dict.fromkeys(categories)),
        seeders=_int(first("seeders")),
        peers=_int(first("peers")),
        leechers=_int(first("leechers")),
        info_hash=normalize_info_hash(first("infohash")),
        magnet_url=first("magneturl"),
        files=files,
        grabs=grabs,
        download_volume_factor=_float(first("downloadvolumefactor")),
        upload_volume_factor=_float(first("uploadvolumefactor")),
        author=first("author"),
        book_title=first("booktitle"),
        origin_id=origin.get("id") if origin is not None else None,
        origin_name=origin_name or None,
        attrs={name: tuple(values) for name, values in attrs.items()},
    )


def parse_feed(root: ElementTree.Element) -> list[FeedItem]:
    """Items of an `<rss>` answer; untitled items are skipped, nothing else is judged here."""
    if root.tag != "rss":
        raise MalformedFeedError(
            f"the feed answered <{root.tag}>, not a Torznab result list", service=SERVICE
        )
    channel = root.find("channel")
    if channel is None:
        raise MalformedFeedError("the feed's <rss> has no <channel>", service=SERVICE)
    items: list[FeedItem] = []
    for element in channel.iterfind("item"):
        item = _item(element)
        if item is not None:
            items.append(item)
            if len(items) >= MAX_FEED_ITEMS:
                break
    return items


def parse_feed_bytes(data: bytes) -> list[FeedItem]:
    """`parse_feed(parse_xml(data))`, what a worker thread runs for a large answer."""
    return parse_feed(parse_xml(data))


# ---- errors in answers ------------------------------------------------------------------


def _when(seconds: float | None, at: datetime | None) -> str:
    if seconds is None:
        return "later"
    if seconds < 120:
        text = f"in {seconds:.0f} s"
    elif seconds < 2 * 3600:
        text = f"in {seconds / 60:.0f} min"
    else:
        text = f"in {seconds / 3600:.1f} h"
    if at is not None:
        text += f" (after {at.astimezone().strftime('%H:%M')})"
    return text


def _first_line(text: str) -> str:
    """Jackett's code 900 carries a .NET stack trace; its first line says what happened."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return short_answer(line, 200)


def error_from_xml(
    root: ElementTree.Element,
    *,
    status: int,
    retry_after: str | None,
    service: str,
    url: str,
    endpoint: str,
) -> ClientError:
    """The typed error for an `<error code description>` answer."""
    code = _int(root.get("code")) or 0
    description = _first_line(root.get("description") or "") or "no description"
    where: dict[str, Any] = {"service": service, "url": url, "endpoint": endpoint}
    if code in KEY_ERROR_CODES:
        return TorznabAuthError(
            f"the feed refused the API key (wrong API key): {description} (Torznab error {code})",
            code=code,
            description=description,
            status=status,
            **where,
        )
    if status == 429 or code == 429:
        seconds, at = parse_retry_after(retry_after)
        return RateLimitedError(
            f"the indexer is rate-limited: {description}; try again {_when(seconds, at)}",
            retry_after=seconds,
            retry_at=at,
            code=code,
            description=description,
            status=status,
            **where,
        )
    meaning = {
        101: "account suspended",
        102: "insufficient privileges",
        200: "missing parameter",
        201: "incorrect parameter",
        202: "no such function",
        203: "function not available",
        300: "no such item",
        410: "the indexer is disabled",
        900: "unknown error",
        910: "API disabled",
    }.get(code)
    text = f"Torznab error {code}: {description}"
    if meaning and meaning.lower() not in description.lower():
        text += f" ({meaning})"
    return TorznabApiError(text, code=code, description=description, status=status, **where)


# ---- endpoint and client ----------------------------------------------------------------


def torznab_endpoint(url: str) -> URL:
    """The feed's API URL: used as given when it names one, else with `api` appended.

    Jackett's "Copy Torznab Feed" gives `.../results/torznab/`, Prowlarr shows `/{id}/`
    (whose API is `/{id}/api`), and *arr apps append `/api` the same way. A pasted
    `?apikey=` is dropped: the key is kept apart from the address.
    """
    base = ensure_base_url(url)
    path = base.path.rstrip("/")
    if path.rsplit("/", 1)[-1].lower() in TORZNAB_ENDPOINT_NAMES:
        return base.with_path(path)
    return base.with_path(f"{path}/api")


def feed_name(endpoint: URL) -> str:
    """A readable name for a feed from its URL: `audiobookbay (Jackett)`, `Prowlarr #3`."""
    parts = [p for p in endpoint.path.split("/") if p]
    if "indexers" in parts and "results" in parts:
        index = parts.index("indexers")
        if index + 1 < len(parts):
            return f"{parts[index + 1]} (Jackett)"
    if len(parts) >= 2 and parts[-1] == "api" and parts[-2].isdigit():
        return f"Prowlarr indexer {parts[-2]}"
    if len(parts) >= 2 and parts[-1] == "newznab" and parts[-2].isdigit():
        return f"Prowlarr indexer {parts[-2]}"
    return endpoint.host or "Torznab feed"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str
    retry_after: str | None
    location: str


class TorznabClient(SessionOwner):
    """One Torznab feed; `async with` owns an HTTP session (or call `close()`).

    The key travels as `apikey=` in the query, the only way Jackett takes it
    (`RequiresApiKey`); every URL shown in an error goes through `display_url`, which
    drops the query.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        name: str | None = None,
        http: HttpOptions = HttpOptions(),  # noqa: B008 - frozen dataclass, never mutated
        max_bytes: int = MAX_FEED_BYTES,
    ) -> None:
        self.endpoint = torznab_endpoint(url)
        self.api_key = api_key.strip()
        REDACTOR.add(self.api_key, "torznab-api-key")
        self.name = name or feed_name(self.endpoint)
        self.http = http
        self.max_bytes = max_bytes
        self.shown = display_url(self.endpoint)
        self._caps: TorznabCaps | None = None

    @property
    def session_options(self) -> HttpOptions:
        return self.http

    async def _get(self, params: Mapping[str, str]) -> _Answer:
        query = {**params, "apikey": self.api_key}
        try:
            async with self.session.get(
                self.endpoint, params=query, allow_redirects=False
            ) as response:
                body = await read_capped(response, self.max_bytes)
                if body is None:
                    raise MalformedFeedError(
                        f"the feed answered more than {size_text(self.max_bytes)}",
                        service=self.name,
                        url=self.shown,
                        endpoint=f"t={params.get('t')}",
                        status=response.status,
                    )
                return _Answer(
                    status=response.status,
                    body=body,
                    content_type=response.content_type,
                    retry_after=response.headers.get("Retry-After"),
                    location=response.headers.get("Location", ""),
                )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(
                exc, service=self.name, url=self.shown, endpoint=f"t={params.get('t')}"
            ) from exc

    async def _xml(self, params: Mapping[str, str]) -> ElementTree.Element:
        """GET and parse; every non-result answer becomes the typed error it means."""
        endpoint = f"t={params.get('t')}"
        answer = await self._get(params)
        where: dict[str, Any] = {"service": self.name, "url": self.shown, "endpoint": endpoint}
        if answer.status == 401 and not answer.body.strip():
            # Prowlarr's key check (every route, Torznab ones too): 401, empty body.
            raise AuthError("the feed refused the API key (wrong API key)", status=401, **where)
        if 300 <= answer.status < 400:
            target = display_url(answer.location) if answer.location else "nowhere"
            raise ProtocolError(
                f"the feed redirects to {target} instead of answering: check http/https "
                "and the URL base (sub-path) in the address",
                status=answer.status,
                **where,
            )
        root: ElementTree.Element | None = None
        if _looks_like_xml(answer.body):
            try:
                root = (
                    await asyncio.to_thread(parse_xml, answer.body)
                    if len(answer.body) > LARGE_FEED_BYTES
                    else parse_xml(answer.body)
                )
            except MalformedFeedError as exc:
                if answer.status == 200 or isinstance(exc, UnsafeXmlError):
                    raise type(exc)(exc.message, status=answer.status, **where) from exc
        if root is not None and root.tag == "error":
            raise error_from_xml(
                root, status=answer.status, retry_after=answer.retry_after, **where
            )
        if answer.status == 429:
            seconds, at = parse_retry_after(answer.retry_after)
            raise RateLimitedError(
                f"the indexer is rate-limited; try again {_when(seconds, at)}",
                retry_after=seconds,
                retry_at=at,
                status=429,
                **where,
            )
        if answer.status == 404 and root is None:
            raise ProtocolError(
                "no Torznab feed here (HTTP 404): copy the feed URL from Jackett (Copy "
                "Torznab Feed) or Prowlarr (the indexer's Torznab URL)",
                status=404,
                answer=_json_message(answer.body),
                **where,
            )
        if answer.status != 200:
            raise HttpStatusError(
                f"the feed answered HTTP {answer.status}",
                status=answer.status,
                answer=_json_message(answer.body) or _preview(answer.body),
                **where,
            )
        if root is None:
            raise MalformedFeedError(
                "the feed answered something that is not Torznab XML",
                status=200,
                answer=_preview(answer.body),
                **where,
            )
        return root

    async def caps(self, *, refresh: bool = False) -> TorznabCaps:
        """`t=caps`, remembered for this client's life."""
        if self._caps is None or refresh:
            root = await self._xml({"t": "caps"})
            try:
                self._caps = parse_caps(root)
            except MalformedFeedError as exc:
                raise MalformedFeedError(
                    exc.message, service=self.name, url=self.shown, endpoint="t=caps"
                ) from exc
        return self._caps

    def remember_caps(self, caps: TorznabCaps) -> None:
        """Reuse capabilities fetched by an earlier client (they change rarely)."""
        self._caps = caps

    @property
    def known_caps(self) -> TorznabCaps | None:
        """The capabilities this client has fetched or been given, if any."""
        return self._caps

    async def search(
        self,
        query: str,
        *,
        author: str | None = None,
        title: str | None = None,
        categories: Sequence[int] = (AUDIOBOOK_CATEGORY,),
        limit: int = 100,
    ) -> list[Release]:
        """Search, `t=book` when the caps take author/title, else `t=search` with `q`."""
        items = await self.search_items(
            query, author=author, title=title, categories=categories, limit=limit
        )
        if len(items) > 500:  # thousands of items: converted off the event loop too
            return await asyncio.to_thread(_releases, items, self.name)
        return _releases(items, self.name)

    async def search_items(
        self,
        query: str,
        *,
        author: str | None = None,
        title: str | None = None,
        categories: Sequence[int] = (AUDIOBOOK_CATEGORY,),
        limit: int = 100,
    ) -> list[FeedItem]:
        """Like `search`, with every field of each item (comments, volume factors...)."""
        caps: TorznabCaps | None
        try:
            caps = await self.caps()
        except TorznabApiError:
            caps = None  # a feed without t=caps: plain search, categories as asked
        params = self.search_params(
            caps, query, author=author, title=title, categories=categories, limit=limit
        )
        root = await self._xml(params)
        channel = root.find("channel")
        try:
            if channel is not None and len(channel) > 500:
                return await asyncio.to_thread(parse_feed, root)  # thousands of items
            return parse_feed(root)
        except MalformedFeedError as exc:
            raise MalformedFeedError(
                exc.message, service=self.name, url=self.shown, endpoint=f"t={params['t']}"
            ) from exc

    @staticmethod
    def search_params(
        caps: TorznabCaps | None,
        query: str,
        *,
        author: str | None = None,
        title: str | None = None,
        categories: Sequence[int] = (AUDIOBOOK_CATEGORY,),
        limit: int = 100,
    ) -> dict[str, str]:
        """The query string: book-search parameters the caps list, the rest as free text."""
        book = caps.book_params if caps is not None else ()
        params: dict[str, str] = {}
        words: list[str] = []
        structured = False
        if author and "author" in book:
            params["author"] = author
            structured = True
        if title and "title" in book:
            params["title"] = title
            structured = True
        if structured:
            params["t"] = "book"
            if title and "title" not in params:
                words.append(title)
            if author and "author" not in params:
                words.append(author)
        else:
            params["t"] = "search"
            words.append(query or " ".join(x for x in (title, author) if x))
        text = " ".join(w for w in words if w).strip()
        if text:
            params["q"] = text
        available = caps.category_ids if caps is not None else frozenset()
        cats = choose_categories(categories, available)
        if cats:
            params["cat"] = ",".join(str(c) for c in cats)
        if limit > 0:
            params["limit"] = str(limit)
        return params


def _releases(items: Sequence[FeedItem], indexer: str) -> list[Release]:
    return [item.to_release(indexer) for item in items]


def _preview(body: bytes) -> str:
    return short_answer(body[:400].decode("utf-8", errors="replace"))


def _json_message(body: bytes) -> str | None:
    """Prowlarr's `{message, description}` error model, when that is what came back."""
    try:
        value = loads_json(body[:65536])
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"])
    return None
