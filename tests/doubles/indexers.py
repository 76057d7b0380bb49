"""Loopback Prowlarr and Jackett that *search*: results, downloads, grabs, failures.

**Why.** Neither server can run here, yet searching must be tested against what they
really answer, field for field and error for error. These doubles extend the status/caps
doubles of `tests/doubles/services.py` (whose docstring has the key-check sources) with
the search routes, modelled on the servers' source code; anything not modelled answers
501 so a test that needs more fails loudly.

**Prowlarr** (Prowlarr/Prowlarr, v2.3.x; JSON through `STJson`: camelCase names, enums as
camelCase strings, nulls omitted, dates `yyyy-MM-ddTHH:mm:ssZ`):

* `GET /api/v1/indexer`: `IndexerResource` (`src/Prowlarr.Api.V1/Indexers/
  IndexerResource.cs`, `IndexerCapabilityResource.cs`, `ProviderResource`), categories as
  `IndexerCategory` trees `{id, name, subCategories}`.
* `GET /api/v1/search` (`Search/SearchController.cs`, `SearchResource.cs`,
  `IndexerSearch/ReleaseSearchService.cs`, `NewznabRequest.cs`): enabled indexers,
  filtered by repeated `indexerIds` (-2 = all torrent) — none left: **400**
  `{message: "Search failed due to all selected indexers being unavailable"}`; then by
  repeated `categories` (an indexer listing none of them is skipped); each indexer is
  searched concurrently and the answer waits for all; an indexer that throws is logged
  and contributes nothing; `type=book` reads `{author:X}{title:Y}` tokens from `query`.
  Each result is a `ReleaseResource` (`Search/ReleaseResource.cs`) whose `downloadUrl` /
  `magnetUrl` are rewritten to `/{indexerId}/download?apikey=&link=&file=`
  (`Download/DownloadMappingService.cs`) and which is cached 30 minutes under
  `{indexerId}_{guid}` for grabs.
* `POST /api/v1/search` (grab, `SearchController.GrabRelease`): JSON only
  (`[Consumes("application/json")]`, else 415); FluentValidation failures (guid empty,
  indexerId <= 0) are a **400 list** of `{propertyName, errorMessage, ...}`
  (`ProwlarrErrorPipeline.cs`); not cached: **404** `{message: "Couldn't find requested
  release in cache, try searching again"}`; the indexer download failing: **409**
  `{message: "Getting release from indexer failed"}`; else 200 echoing the body.
  `ErrorModel.description` is the exception text, so it is a stack trace here too.
* `GET /{id}/download` (`Indexers/NewznabController.GetDownload`): unknown indexer 404,
  disabled 410 XML, missing `link`/`file` 400 "Invalid Prowlarr link"; the .torrent bytes
  (`application/x-bittorrent`), or **301 to the `magnet:` URI** when the indexer's
  download is a magnet.
* `GET /{id}/api?t=search|book` (`NewznabController.GetNewznabResponse`,
  `IndexerSearch/NewznabResults.cs`): RSS `version="1.0"`, items with `prowlarrindexer`,
  plain `category` elements, `torznab:attr` for category/seeders/files/grabs/peers/
  infohash/volume factors and **no `magneturl`** (a magnet goes into `link` and
  `enclosure`); missing `t` 400 + error 200, unknown `t` 400 + error 202, disabled
  indexer 410 + error 410, query limit **429 + `Retry-After`** + error 429. `t=caps` is
  the parent double's.

**Jackett** (Jackett/Jackett): route `/api/v2.0/indexers/{id}/results/torznab/{ignored?}`
(`src/Jackett.Server/Controllers/ResultsController.cs`). The filters answer **HTTP 200**
with `<error>`: `RequiresApiKey` (query `apikey`/`passkey`) code 100 "Invalid API Key";
`RequiresConfiguredIndexer` 201 "Indexer is not supported"; `RequiresValidQuery` 201
"... does not support the requested query. Please check the capabilities (t=caps) ...".
A tracker's rate limit is code 900 with **HTTP 429** and `Retry-After`. Results are
`ResultPage.ToXml` (`src/Jackett.Common/Models/ResultPage.cs`): RSS 2.0, `jackettindexer`,
`files`/`grabs` as plain elements, `link` = the `/dl/{id}/?jackett_apikey=&path=&file=`
proxy or the magnet, `torznab:attr` `magneturl` and `infohash`; categories filtered as
`BaseIndexer.FilterResults` (uncategorised results kept, parent categories match their
children). `/dl/{id}/` (`DownloadController.cs`) answers the .torrent or a **302** to the
magnet. The `garbage` mode answers HTTP 200 with broken XML, `hang` never answers (until
the double stops).

Not modelled: paging (`offset`), Prowlarr's app profiles, query limits of the JSON API,
Jackett's meta-indexer aggregation beyond `all` serving the one configured indexer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from tests.doubles.services import (
    XML_DECLARATION,
    Caps,
    Category,
    _Double,
    _not_modelled,
    torznab_error_xml,
)
from tests.doubles.services import ProwlarrDouble as _StatusProwlarrDouble

__all__ = [
    "FakeIndexer",
    "JackettDouble",
    "ProwlarrDouble",
    "SearchSeen",
    "fake_release",
    "magnet_of",
    "torrent_bytes",
    "torrent_info_hash",
]

MIB = 1024 * 1024
TORZNAB_NS = "http://torznab.com/schemas/2015/feed"
ATOM_NS = "http://www.w3.org/2005/Atom"
GRAB_CACHE_SECONDS = 30 * 60
_BOOK_TOKEN = re.compile(
    r"\{((?:author\:)(?P<author>[^{]+)|(?:publisher\:)(?P<publisher>[^{]+)|"
    r"(?:title\:)(?P<title>[^{]+)|(?:year\:)(?P<year>[^{]+)|(?:genre\:)(?P<genre>[^{]+))\}",
    re.IGNORECASE,
)  # NewznabRequest.BookRegex


# ---- releases ------------------------------------------------------------------------------


def fake_release(title: str, **fields: Any) -> dict[str, Any]:
    """A Release-like dict the doubles serve: `gui.core.ranking.Release` field names plus
    `download` ("torrent": the proxy serves a .torrent; "magnet": a redirect to a magnet).

    Unset `info_hash`: a magnet release gets one (Jackett derives it from the magnet), a
    torrent release publishes none, as many trackers do.
    """
    release: dict[str, Any] = {
        "title": title,
        "size": 640 * MIB,
        "seeders": 12,
        "leechers": 3,
        "categories": [3030],
        "publish_date": datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        "grabs": 40,
        "files": 24,
        "guid": None,
        "info_hash": None,
        "magnet": None,
        "download": "torrent",
        "author": None,
        "booktitle": None,
        "downloadvolumefactor": 1,
        "uploadvolumefactor": 1,
        # The .torrent's files as (path, size); None: one file named after the title.
        "contents": None,
    }
    unknown = set(fields) - set(release)
    if unknown:
        raise TypeError(f"fake_release has no field(s) {sorted(unknown)}")
    release.update(fields)
    if release["download"] == "magnet":
        if not release["info_hash"]:
            release["info_hash"] = hashlib.sha1(title.encode()).hexdigest()
        if not release["magnet"]:
            release["magnet"] = magnet_of(release)
    if not release["guid"]:
        release["guid"] = (
            "https://tracker.invalid/details/" + hashlib.md5(title.encode()).hexdigest()
        )
    return release


def magnet_of(release: Mapping[str, Any]) -> str:
    return f"magnet:?xt=urn:btih:{release['info_hash']}&dn={quote(release['title'])}"


def _bencode(value: Any) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(_bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(_bencode(k) + _bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


PIECE_LENGTH = 16 * MIB


def _info(release: Mapping[str, Any]) -> dict[str, Any]:
    title = str(release["title"])
    contents = release.get("contents")
    length = sum(size for _, size in contents) if contents else int(release["size"])
    count = max(-(-length // PIECE_LENGTH), 1)
    pieces = b"".join(hashlib.sha1(f"{title}/{i}".encode()).digest() for i in range(count))
    info: dict[str, Any] = {
        "name": title,
        "piece length": PIECE_LENGTH,
        "pieces": pieces,
        "private": 1,
    }
    if contents:  # a multi-file torrent (BEP 3 "files": length and path components)
        info["files"] = [{"length": size, "path": path.split("/")} for path, size in contents]
    else:
        info["length"] = length
    return info


def torrent_bytes(release: Mapping[str, Any]) -> bytes:
    """A small, valid v1 .torrent for the release (no trackers: nothing leaves the machine)."""
    return _bencode({"info": _info(release), "created by": "earmark indexer double"})


def torrent_info_hash(release: Mapping[str, Any]) -> str:
    return hashlib.sha1(_bencode(_info(release))).hexdigest()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _rfc822(moment: datetime) -> str:
    """`XmlDateFormat`: `ddd, dd MMM yyyy HH:mm:ss zzz` with the colon removed."""
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _category_names(caps: Caps) -> dict[int, str]:
    names = {}
    for cat in caps.categories:
        names[cat.id] = cat.name
        names.update(dict(cat.subcats))
    return names


def _category_ids(caps: Caps) -> set[int]:
    return set(_category_names(caps))


def _matches_categories(release: Mapping[str, Any], wanted: Sequence[int]) -> bool:
    """FilterResults / DispatchIndexer: no category on the result, or one asked for, or a
    child of a parent asked for."""
    cats = list(release.get("categories") or [])
    if not wanted or not cats:
        return True
    for cat in cats:
        for asked in wanted:
            if cat == asked or (
                asked % 1000 == 0 and asked < 100000 and cat // 1000 * 1000 == asked
            ):
                return True
    return False


def _supports_categories(caps: Caps, wanted: Sequence[int]) -> bool:
    listed = _category_ids(caps)
    return any(c in listed or any(x // 1000 * 1000 == c for x in listed) for c in wanted)


@dataclass(frozen=True)
class SearchSeen:
    """One search as the double understood it (what a test asserts on)."""

    route: str
    type: str
    query: str
    author: str | None
    title: str | None
    categories: tuple[int, ...]
    indexer_ids: tuple[int, ...] = ()
    limit: int | None = None


def _torznab_item(
    release: Mapping[str, Any],
    *,
    link: str,
    origin: tuple[str, str],
    flavour: str,
    origin_type: str = "public",
) -> str:
    """One `<item>` as ResultPage.ToXml (jackett) or NewznabResults.ToXml (prowlarr)."""
    attr: list[tuple[str, Any]] = []
    cats = list(release.get("categories") or [])
    attr += [("category", c) for c in cats]
    lines = ["    <item>", f"      <title>{escape(release['title'])}</title>"]
    if flavour == "prowlarr":
        lines.append("      <description />")
    lines.append(f"      <guid>{escape(release['guid'])}</guid>")
    tag = "jackettindexer" if flavour == "jackett" else "prowlarrindexer"
    lines.append(f"      <{tag} id={quoteattr(origin[0])}>{escape(origin[1])}</{tag}>")
    if flavour == "jackett":
        lines.append(f"      <type>{origin_type}</type>")
    lines.append(f"      <comments>{escape(release['guid'])}</comments>")
    lines.append(f"      <pubDate>{_rfc822(release['publish_date'])}</pubDate>")
    lines.append(f"      <size>{release['size']}</size>")
    if flavour == "jackett":
        if release.get("files") is not None:
            lines.append(f"      <files>{release['files']}</files>")
        if release.get("grabs") is not None:
            lines.append(f"      <grabs>{release['grabs']}</grabs>")
        lines.append("      <description />")
    lines.append(f"      <link>{escape(link)}</link>")
    lines += [f"      <category>{c}</category>" for c in cats]
    lines.append(
        f'      <enclosure url={quoteattr(link)} length="{release["size"]}" '
        'type="application/x-bittorrent" />'
    )
    peers = int(release["seeders"]) + int(release["leechers"])
    if release.get("author"):
        attr.append(("author", release["author"]))
    if release.get("booktitle"):
        attr.append(("booktitle", release["booktitle"]))
    attr.append(("seeders", release["seeders"]))
    if flavour == "prowlarr":
        attr += [("files", release.get("files")), ("grabs", release.get("grabs"))]
    attr.append(("peers", peers))
    if flavour == "jackett" and release.get("download") == "magnet":
        attr.append(("magneturl", release["magnet"]))
    if release.get("info_hash"):
        attr.append(("infohash", release["info_hash"]))
    attr += [
        ("downloadvolumefactor", release.get("downloadvolumefactor")),
        ("uploadvolumefactor", release.get("uploadvolumefactor")),
    ]
    lines += [
        f"      <torznab:attr name={quoteattr(name)} value={quoteattr(str(value))} />"
        for name, value in attr
        if value is not None
    ]
    lines.append("    </item>")
    return "\n".join(lines)


def _rss(channel: Sequence[str], items: Iterable[str], *, version: str) -> str:
    head = f'<rss version="{version}" xmlns:atom="{ATOM_NS}" xmlns:torznab="{TORZNAB_NS}">'
    body = ["  <channel>", *channel, *items, "  </channel>"]
    return XML_DECLARATION + "\n" + "\n".join([head, *body, "</rss>"])


# ---- Prowlarr ------------------------------------------------------------------------------


@dataclass
class FakeIndexer:
    """An indexer inside the Prowlarr double, with what it answers and how it misbehaves.

    `failure`: "error" makes its search throw inside Prowlarr (logged, no results: what
    Prowlarr does); "unavailable" leaves it out of searches as a disabled or backed-off
    indexer is. `retry_after`: its Torznab feed is at its query limit for that many s.
    """

    id: int
    name: str
    releases: list[dict[str, Any]] = field(default_factory=list)
    caps: Caps = field(default_factory=Caps)
    protocol: str = "torrent"
    privacy: str = "public"
    priority: int = 25
    enable: bool = True
    delay: float = 0.0
    hang: bool = False
    failure: str | None = None
    retry_after: int | None = None
    grab_fails: bool = False
    supports_rss: bool = True

    def release(self, guid: str) -> dict[str, Any] | None:
        return next((r for r in self.releases if r["guid"] == guid), None)


def _error_model(message: str, status: int) -> web.Response:
    """ErrorModel.WriteToResponse: `{message, description}`, description = exception text."""
    body = {
        "message": message,
        "description": (
            f"NzbDrone.Core.Exceptions.NzbDroneClientException: {message}\n"
            "   at Prowlarr.Api.V1.Search.SearchController.GrabRelease(ReleaseResource release)"
        ),
    }
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json"
    )


class ProwlarrDouble(_StatusProwlarrDouble):
    """Prowlarr with indexers that search, grab and serve downloads (module docstring)."""

    def __init__(
        self,
        indexers: Sequence[FakeIndexer] = (),
        *,
        api_key: str = "0123456789abcdef0123456789abcdef",
        version: str = "2.3.6.5210",
        instance_name: str = "Prowlarr",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        fakes = list(indexers) or [FakeIndexer(1, "AudioBook Bay")]
        super().__init__(
            api_key=api_key,
            version=version,
            instance_name=instance_name,
            indexers={ix.id: ix.caps for ix in fakes},
        )
        self.fakes: dict[int, FakeIndexer] = {ix.id: ix for ix in fakes}
        self.clock = clock
        self.searches: list[SearchSeen] = []
        self.grabs: list[dict[str, Any]] = []
        self._cache: dict[tuple[int, str], float] = {}
        self._closing: asyncio.Event | None = None
        #: requests a `hang` indexer holds unanswered right now
        self.hanging = 0

    async def __aenter__(self) -> ProwlarrDouble:
        self._closing = asyncio.Event()
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._closing is not None:
            self._closing.set()  # hanging handlers return, so cleanup does not wait
        await super().__aexit__(*exc_info)

    def expire_cache(self) -> None:
        """What 30 minutes do to Prowlarr's release cache."""
        self._cache.clear()

    async def _behave(self, ix: FakeIndexer) -> None:
        if ix.delay:
            await asyncio.sleep(ix.delay)  # the indexer's latency (deliberate)
        if ix.hang:
            assert self._closing is not None
            self.hanging += 1
            try:
                await self._closing.wait()
            finally:
                self.hanging -= 1

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self._key_of(request) != self.api_key:
            return web.Response(status=401)
        parts = [p for p in request.path.split("/") if p]
        if parts == ["api", "v1", "indexer"] and request.method == "GET":
            return web.json_response([self._indexer_resource(ix) for ix in self.fakes.values()])
        if parts == ["api", "v1", "search"]:
            if request.method == "GET":
                return await self._search(request)
            if request.method == "POST":
                return await self._grab(request)
        if len(parts) == 2 and parts[0].isdigit() and parts[1] == "download":
            return await self._download(int(parts[0]), request)
        feed = None
        if len(parts) == 2 and parts[1] == "api" and parts[0].isdigit():
            feed = int(parts[0])
        elif len(parts) == 5 and parts[:3] == ["api", "v1", "indexer"] and parts[4] == "newznab":
            feed = int(parts[3]) if parts[3].isdigit() else None
        if feed is not None and request.method == "GET":
            return await self._torznab(feed, request)
        return await super()._dispatch(request)

    # -- JSON API --

    def _indexer_resource(self, ix: FakeIndexer) -> dict[str, Any]:
        def tree(cat: Category) -> dict[str, Any]:
            subs = [{"id": i, "name": n, "subCategories": []} for i, n in cat.subcats]
            return {"id": cat.id, "name": cat.name, "subCategories": subs}

        return {
            "indexerUrls": [f"https://{ix.name.lower().replace(' ', '')}.invalid/"],
            "legacyUrls": [],
            "definitionName": ix.name.lower().replace(" ", ""),
            "description": f"{ix.name} is a double",
            "language": "en-US",
            "enable": ix.enable,
            "redirect": False,
            "supportsRss": ix.supports_rss,
            "supportsSearch": True,
            "supportsRedirect": False,
            "supportsPagination": False,
            "appProfileId": 1,
            "protocol": ix.protocol,
            "privacy": ix.privacy,
            "capabilities": {
                "id": 0,
                "limitsMax": ix.caps.limits_max,
                "limitsDefault": ix.caps.limits_default,
                "categories": [tree(cat) for cat in ix.caps.categories],
                "supportsRawSearch": False,
                "searchParams": ["q"],
                "tvSearchParams": [],
                "movieSearchParams": [],
                "musicSearchParams": [],
                "bookSearchParams": list(ix.caps.book_params)
                if len(ix.caps.book_params) > 1
                else [],
            },
            "priority": ix.priority,
            "downloadClientId": 0,
            "added": "2024-01-01T00:00:00Z",
            "sortName": ix.name.lower(),
            "id": ix.id,
            "name": ix.name,
            "fields": [],
            "implementationName": "Cardigann",
            "implementation": "Cardigann",
            "configContract": "CardigannSettings",
            "infoLink": f"https://wiki.servarr.com/prowlarr/supported-indexers#{ix.name.lower()}",
            "tags": [],
        }

    def _proxy(self, ix: FakeIndexer, release: Mapping[str, Any]) -> str:
        return (
            f"{self.url}{ix.id}/download?apikey={self.api_key}&link={_b64(release['guid'])}"
            f"&file={quote(release['title'], safe='')}"
        )

    def _resource(
        self, ix: FakeIndexer, release: Mapping[str, Any], names: Mapping[int, str]
    ) -> dict[str, Any]:
        published: datetime = release["publish_date"]
        age = datetime.now(UTC) - published
        resource: dict[str, Any] = {
            "guid": release["guid"],
            "age": age.days,
            "ageHours": age.total_seconds() / 3600,
            "ageMinutes": age.total_seconds() / 60,
            "size": release["size"],
            "files": release.get("files"),
            "grabs": release.get("grabs"),
            "indexerId": ix.id,
            "indexer": ix.name,
            "title": release["title"],
            "sortTitle": re.sub(r"\W+", " ", release["title"].lower()).strip(),
            "imdbId": 0,
            "tmdbId": 0,
            "tvdbId": 0,
            "tvMazeId": 0,
            "publishDate": _iso(published),
            "commentUrl": release["guid"],
            "infoUrl": release["guid"],
            "indexerFlags": [],
            "categories": [
                {"id": c, "name": names.get(c, "Other"), "subCategories": []}
                for c in release.get("categories") or []
            ],
            "infoHash": release.get("info_hash"),
            "seeders": release["seeders"],
            "leechers": release["leechers"],
            "protocol": ix.protocol,
            "fileName": f"{release['title']}.torrent",
        }
        if release["download"] == "magnet":
            resource["magnetUrl"] = self._proxy(ix, release)  # MapReleases proxies it too
        else:
            resource["downloadUrl"] = self._proxy(ix, release)
        return {k: v for k, v in resource.items() if v is not None}  # WhenWritingNull

    async def _indexer_results(
        self, ix: FakeIndexer, cats: Sequence[int], limit: int | None
    ) -> list[dict[str, Any]]:
        await self._behave(ix)
        if ix.failure == "error":
            return []  # DispatchIndexer: logged, Array.Empty
        names = _category_names(ix.caps)
        found = [r for r in ix.releases if _matches_categories(r, cats)]
        if limit:
            found = found[:limit]
        expires = self.clock() + GRAB_CACHE_SECONDS
        for release in found:
            self._cache[(ix.id, release["guid"])] = expires
        return [self._resource(ix, r, names) for r in found]

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            ids = tuple(int(v) for v in query.getall("indexerIds", []))
            cats = tuple(int(v) for v in query.getall("categories", []))
            limit = int(query["limit"]) if "limit" in query else None
        except ValueError:
            return web.json_response({"message": "The value is not valid."}, status=400)
        kind = query.get("type", "search")
        text = query.get("query", "")
        author = title = None
        if kind == "book":
            for match in _BOOK_TOKEN.finditer(text):
                author = match.group("author") or author
                title = match.group("title") or title
                text = text.replace(match.group(0), "").strip()
        self.searches.append(
            SearchSeen("api/v1/search", kind, text, author, title, cats, ids, limit)
        )
        indexers = [ix for ix in self.fakes.values() if ix.enable and ix.failure != "unavailable"]
        if ids:
            indexers = [
                ix
                for ix in indexers
                if ix.id in ids
                or (-2 in ids and ix.protocol == "torrent")
                or (-1 in ids and ix.protocol == "usenet")
            ]
            if not indexers:
                return _error_model(
                    "Search failed due to all selected indexers being unavailable", 400
                )
        if cats:
            indexers = [ix for ix in indexers if _supports_categories(ix.caps, cats)]
        batches = await asyncio.gather(*(self._indexer_results(ix, cats, limit) for ix in indexers))
        return web.json_response([r for batch in batches for r in batch])

    async def _grab(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.Response(status=415)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"message": "invalid JSON"}, status=400)
        guid = body.get("guid") if isinstance(body, dict) else None
        indexer_id = body.get("indexerId") if isinstance(body, dict) else None
        problems = []
        if not isinstance(indexer_id, int) or indexer_id <= 0:
            problems.append(("IndexerId", "'Indexer Id' must be greater than '0'.", indexer_id))
        if not guid:
            problems.append(("Guid", "'Guid' must not be empty.", guid))
        if problems:
            return web.json_response(
                [
                    {
                        "propertyName": prop,
                        "errorMessage": message,
                        "attemptedValue": value,
                        "severity": "error",
                        "errorCode": "NotEmptyValidator",
                    }
                    for prop, message, value in problems
                ],
                status=400,
            )
        assert isinstance(indexer_id, int) and isinstance(guid, str)
        expires = self._cache.get((indexer_id, guid))
        if expires is None or expires < self.clock():
            return _error_model(
                "Couldn't find requested release in cache, try searching again", 404
            )
        ix = self.fakes[indexer_id]
        if ix.grab_fails:
            return _error_model("Getting release from indexer failed", 409)
        self.grabs.append(dict(body))
        return web.json_response(body)

    async def _download(self, indexer_id: int, request: web.Request) -> web.StreamResponse:
        ix = self.fakes.get(indexer_id)
        if ix is None:
            return _error_model("Indexer Not Found", 404)
        if not ix.enable:
            return web.Response(
                status=410,
                text=torznab_error_xml(410, "Indexer is disabled"),
                content_type="application/rss+xml",
            )
        link, file = request.query.get("link"), request.query.get("file")
        if not link or not file:
            return _error_model("Invalid Prowlarr link", 400)
        release = ix.release(_unb64(link))
        if release is None:
            return web.Response(
                status=500,
                text=torznab_error_xml(500, "Release not found at the indexer"),
                content_type="application/rss+xml",
            )
        if release["download"] == "magnet":
            raise web.HTTPMovedPermanently(location=release["magnet"])
        return web.Response(
            body=torrent_bytes(release),
            headers={
                "Content-Type": "application/x-bittorrent",
                "Content-Disposition": f'attachment; filename="{file}.torrent"',
            },
        )

    # -- per-indexer Torznab --

    async def _torznab(self, indexer_id: int, request: web.Request) -> web.StreamResponse:
        """GetNewznabResponse, in its order: `t`, the indexer, disabled, limits, function."""
        t = request.query.get("t", "")
        seen = SearchSeen(
            request.path,
            t,
            request.query.get("q", ""),
            request.query.get("author"),
            request.query.get("title"),
            tuple(int(c) for c in request.query.get("cat", "").split(",") if c.strip().isdigit()),
            (indexer_id,),
            int(request.query["limit"]) if request.query.get("limit", "").isdigit() else None,
        )
        if t != "caps":
            self.searches.append(seen)

        def error(code: int, description: str, status: int, **headers: str) -> web.Response:
            return web.Response(
                status=status,
                text=torznab_error_xml(code, description),
                content_type="application/rss+xml",
                headers=headers,
            )

        if not t.strip():
            return error(200, "Missing parameter (t)", 400)
        ix = self.fakes.get(indexer_id)
        if ix is None:
            return _error_model("Indexer Not Found", 404)
        if not ix.enable:
            return error(410, "Indexer is disabled", 410)
        if ix.retry_after is not None:
            return error(
                429,
                "User configurable Indexer Query Limit of 10 in last 24 hour(s) reached.",
                429,
                **{"Retry-After": str(ix.retry_after)},
            )
        if t == "caps":
            return await super()._dispatch(request)
        if t not in ("search", "tvsearch", "music", "book", "movie"):
            return error(202, f"No such function ({t})", 400)
        await self._behave(ix)
        cats = seen.categories
        found = [] if ix.failure else [r for r in ix.releases if _matches_categories(r, cats)]
        items = []
        for release in found:
            link = self._proxy(ix, release)
            items.append(
                _torznab_item(release, link=link, origin=(str(ix.id), ix.name), flavour="prowlarr")
            )
        channel = [
            '    <atom:link rel="self" type="application/rss+xml" />',
            "    <title>Prowlarr</title>",
        ]
        return web.Response(
            text=_rss(channel, items, version="1.0"),
            content_type="application/rss+xml",
            charset="utf-8",
        )


# ---- Jackett -------------------------------------------------------------------------------


class JackettDouble(_Double):
    """Jackett with one configured indexer (also reachable as `all`), see the docstring."""

    def __init__(
        self,
        releases: Sequence[Mapping[str, Any]] = (),
        *,
        api_key: str = "abcdefghijklmnopqrstuvwxyz012345",
        caps: Caps | None = None,
        indexer_id: str = "audiobookbay",
        indexer_name: str = "AudioBook Bay",
        indexer_type: str = "public",
        delay: float = 0.0,
        hang: bool = False,
        garbage: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__()
        self.releases = [dict(r) for r in releases]
        self.api_key = api_key
        self.caps = caps or Caps()
        self.indexer_id = indexer_id
        self.indexer_name = indexer_name
        self.indexer_type = indexer_type
        self.delay = delay
        self.hang = hang
        self.garbage = garbage
        self.retry_after = retry_after
        self.searches: list[SearchSeen] = []
        self._closing: asyncio.Event | None = None

    async def __aenter__(self) -> JackettDouble:
        self._closing = asyncio.Event()
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._closing is not None:
            self._closing.set()
        await super().__aexit__(*exc_info)

    def feed_url(self, indexer: str | None = None) -> str:
        """What Jackett's "Copy Torznab Feed" button gives."""
        return f"{self.url}api/v2.0/indexers/{indexer or self.indexer_id}/results/torznab/"

    @staticmethod
    def _error(code: int, description: str, status: int = 200, **headers: str) -> web.Response:
        # Filters: ContentResult {ContentType = "application/xml", StatusCode = 200};
        # GetErrorXML: "application/xml; charset=utf-8" with 400 (or 429).
        return web.Response(
            status=status,
            body=torznab_error_xml(code, description).encode(),
            headers={"Content-Type": "application/xml", **headers},
        )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if len(parts) == 2 and parts[0] == "dl" and request.method == "GET":
            return self._download(parts[1], request)
        torznab = (
            len(parts) in (6, 7)
            and parts[:3] == ["api", "v2.0", "indexers"]
            and parts[4:6] == ["results", "torznab"]
        )
        if not torznab or request.method != "GET":
            return _not_modelled(request)
        key = request.query.get("apikey", request.query.get("passkey"))
        if key != self.api_key:
            return self._error(100, "Invalid API Key")
        if parts[3] not in (self.indexer_id, "all"):
            return self._error(201, "Indexer is not supported")
        t = request.query.get("t", "search").lower()
        if t == "caps":
            return web.Response(
                text=self.caps.xml("Jackett"), content_type="application/rss+xml", charset="utf-8"
            )
        author, title = request.query.get("author"), request.query.get("title")
        book = tuple(self.caps.book_params) if len(self.caps.book_params) > 1 else ()
        supported = t == "search" or (
            t == "book"
            and bool(book)
            and (author is None or "author" in book)
            and (title is None or "title" in book)
        )
        if not supported:
            return self._error(
                201,
                f"{parts[3]} does not support the requested query. Please check the "
                "capabilities (t=caps) and make sure the search mode and parameters are "
                "supported.",
            )
        try:
            cats = tuple(int(c) for c in request.query.get("cat", "").split(",") if c.strip())
        except ValueError:
            return self._error(
                900, "System.FormatException: The input string was not in a correct format.", 400
            )
        limit = request.query.get("limit", "")
        self.searches.append(
            SearchSeen(
                request.path,
                t,
                request.query.get("q", ""),
                author,
                title,
                cats,
                (),
                int(limit) if limit.isdigit() else None,
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)  # the indexer's latency (deliberate)
        if self.hang:
            assert self._closing is not None
            await self._closing.wait()
        if self.retry_after is not None:
            return self._error(
                900,
                f"Exception ({self.indexer_id}): Request limit reached",
                429,
                **{"Retry-After": str(self.retry_after)},
            )
        if self.garbage:
            return web.Response(
                text='<?xml version="1.0"?>\n<rss version="2.0"><channel><item><title>Broken',
                content_type="application/rss+xml",
                charset="utf-8",
            )
        found = [r for r in self.releases if _matches_categories(r, cats)]
        if limit.isdigit():
            found = found[: int(limit)]
        items = [
            _torznab_item(
                r,
                link=self._link(r),
                origin=(self.indexer_id, self.indexer_name),
                flavour="jackett",
                origin_type=self.indexer_type,
            )
            for r in found
        ]
        channel = [
            f'    <atom:link href={quoteattr(self.feed_url())} rel="self" '
            'type="application/rss+xml" />',
            f"    <title>{escape(self.indexer_name)}</title>",
            f"    <description>{escape(self.indexer_name)} is a double</description>",
            "    <link>https://audiobookbay.invalid/</link>",
            "    <language>en-US</language>",
            "    <category>search</category>",
        ]
        return web.Response(
            text=_rss(channel, items, version="2.0"),
            content_type="application/rss+xml",
            charset="utf-8",
        )

    def _link(self, release: Mapping[str, Any]) -> str:
        if release["download"] == "magnet":
            return str(release["magnet"])
        return (
            f"{self.url}dl/{self.indexer_id}/?jackett_apikey={self.api_key}"
            f"&path={_b64(release['guid'])}&file={quote(release['title'], safe='')}"
        )

    def _download(self, indexer: str, request: web.Request) -> web.StreamResponse:
        if indexer != self.indexer_id:
            return web.Response(status=404)
        if request.query.get("jackett_apikey") != self.api_key:
            return web.Response(status=401)
        try:
            guid = _unb64(request.query.get("path", ""))
        except ValueError:
            return web.Response(status=404)
        release = next((r for r in self.releases if r["guid"] == guid), None)
        if release is None:
            return web.Response(status=404)
        if release["download"] == "magnet":
            raise web.HTTPFound(location=release["magnet"])
        return web.Response(body=torrent_bytes(release), content_type="application/x-bittorrent")
