"""A Prowlarr API v1 client: status, indexers, search and grab.

Earmark searches Prowlarr through its JSON API rather than its Torznab feeds because one
call covers any set of indexers and answers every field of `ReleaseResource`. What the
server does, read from Prowlarr's source (v2.3.x):

* **Key**: `X-Api-Key` header (`src/Prowlarr.Http/Authentication/
  ApiKeyAuthenticationHandler.cs`); a missing or wrong key is **401 with an empty body**
  on every route. The key never goes into a URL here, so no URL can leak it to a log.
* **Errors** (`src/Prowlarr.Http/ErrorManagement/ProwlarrErrorPipeline.cs`,
  `ErrorModel.cs`): JSON `{message, description}` where `description` is the .NET
  exception text (a stack trace: never shown); validation failures are a JSON *list* of
  `{propertyName, errorMessage, ...}` with HTTP 400.
* **Search** `GET /api/v1/search` (`src/Prowlarr.Api.V1/Search/SearchController.cs`,
  `SearchResource.cs`): `query`, `type` (search|tvsearch|movie|music|book), repeated
  `indexerIds` and `categories`, `limit`, `offset`. With `type=book`, `{author:X}` and
  `{title:Y}` tokens inside `query` become structured parameters
  (`src/NzbDrone.Core/IndexerSearch/NewznabRequest.cs` `QueryToParams`; a value may not
  contain braces). An indexer that fails inside Prowlarr is logged and contributes
  nothing (`ReleaseSearchService.DispatchIndexer`); only "all selected indexers
  unavailable" is an error (400). `downloadUrl` and `magnetUrl` come back rewritten to
  Prowlarr's proxy `/{indexerId}/download?apikey=&link=&file=`, which answers the
  .torrent bytes or a **301 to a `magnet:` URI** (`DownloadMappingService.cs`,
  `Indexers/NewznabController.cs`).
* **Grab** `POST /api/v1/search` `{guid, indexerId, downloadClientId?}` sends a release
  from the last 30 minutes of searches (an in-memory cache keyed `indexerId_guid`) to
  *Prowlarr's own* download client: 404 "Couldn't find requested release in cache, try
  searching again", 409 "Getting release from indexer failed".
* **Indexers** `GET /api/v1/indexer` (`Indexers/IndexerResource.cs`,
  `IndexerCapabilityResource.cs`): `{id, name, enable, protocol, privacy, priority,
  capabilities: {categories: [{id, name, subCategories}], bookSearchParams, ...}}`,
  enums as camelCase strings (`STJson`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from yarl import URL

from gui.clients.errors import AuthError, HttpStatusError, ProtocolError
from gui.clients.http import (
    TRANSPORT_ERRORS,
    HttpOptions,
    SessionOwner,
    display_url,
    ensure_base_url,
    loads_json,
    parse_retry_after,
    read_capped,
    transport_error,
)
from gui.clients.torznab import (
    AUDIOBOOK_CATEGORY,
    LARGE_FEED_BYTES,
    MAX_FEED_BYTES,
    MAX_FEED_ITEMS,
    RateLimitedError,
    _preview,
    size_text,
)
from gui.core.ranking import Release
from gui.core.redact import REDACTOR
from gui.core.torrents import magnet_info_hash, normalize_info_hash

__all__ = [
    "GrabFailedError",
    "NotProwlarrError",
    "ProwlarrClient",
    "ProwlarrIndexer",
    "ProwlarrStatus",
    "ReleaseNotCachedError",
    "book_query",
    "release_from_resource",
]

SERVICE = "Prowlarr"
SearchType = Literal["search", "tvsearch", "movie", "music", "book"]
#: Prowlarr keeps searched releases grabbable this long (SearchController.MapReleases).
GRAB_CACHE_MINUTES = 30


class NotProwlarrError(ProtocolError):
    """Something answers at the address, but not Prowlarr (another *arr, a router page)."""

    def __init__(
        self, message: str, *, app_name: str | None = None, version: str | None = None, **kw: Any
    ) -> None:
        self.app_name = app_name
        self.version = version
        super().__init__(message, **kw)


class ReleaseNotCachedError(HttpStatusError):
    """Grab refused with 404: the release left Prowlarr's 30-minute search cache."""


class GrabFailedError(HttpStatusError):
    """Grab refused with 409: Prowlarr could not fetch the release from the indexer."""


@dataclass(frozen=True)
class ProwlarrStatus:
    """`GET /api/v1/system/status` (`System/SystemController.cs` `GetStatus`)."""

    app_name: str
    version: str
    instance_name: str
    url_base: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class ProwlarrIndexer:
    """One entry of `GET /api/v1/indexer`, reduced to what searching needs."""

    id: int
    name: str
    enabled: bool
    protocol: str
    privacy: str
    priority: int
    supports_search: bool
    categories: frozenset[int]
    book_search_params: tuple[str, ...]
    #: `supportsRss`: answers a search without a query with its latest releases.
    supports_rss: bool = True

    @property
    def book_search(self) -> bool:
        """Whether `type=book` with author/title reaches this indexer as structured fields."""
        return "author" in self.book_search_params or "title" in self.book_search_params


def _strip_braces(text: str) -> str:
    return " ".join(text.replace("{", " ").replace("}", " ").split())


def book_query(query: str = "", *, author: str | None = None, title: str | None = None) -> str:
    """`{author:X}{title:Y} rest`: the tokens `NewznabRequest.QueryToParams` reads for
    `type=book` (values cannot contain braces: its regex stops at them)."""
    parts = []
    if author and _strip_braces(author):
        parts.append(f"{{author:{_strip_braces(author)}}}")
    if title and _strip_braces(title):
        parts.append(f"{{title:{_strip_braces(title)}}}")
    rest = _strip_braces(query)
    return "".join(parts) + (f" {rest}" if rest and parts else rest)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _date(value: Any) -> datetime | None:
    """`STJUtcConverter` writes `yyyy-MM-ddTHH:mm:ssZ`; `DateTime.MinValue` means unknown."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.year <= 1:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _category_ids(value: Any) -> tuple[int, ...]:
    """`[{id, name, subCategories}]` -> ids, sub-categories included, order kept."""
    ids: list[int] = []
    stack = list(value) if isinstance(value, list) else []
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict):
            continue
        cat = _int(item.get("id"))
        if cat is not None:
            ids.append(cat)
        subs = item.get("subCategories")
        if isinstance(subs, list):
            stack[0:0] = subs
    return tuple(dict.fromkeys(ids))


def release_from_resource(resource: Mapping[str, Any]) -> Release | None:
    """A `ReleaseResource` as the ranking sees it; None for an entry without a title.

    `magnetUrl` is usually Prowlarr's http proxy link, not a magnet: it is used as the
    download URL when `downloadUrl` is missing, and as the magnet only when it is one.
    """
    title = resource.get("title")
    if not isinstance(title, str) or not title.strip():
        return None
    download = resource.get("downloadUrl")
    magnet_field = resource.get("magnetUrl")
    magnet = None
    download_url = download if isinstance(download, str) and download.strip() else None
    if isinstance(magnet_field, str) and magnet_field.strip():
        if magnet_field.strip().lower().startswith("magnet:"):
            magnet = magnet_field.strip()
        elif download_url is None:
            download_url = magnet_field.strip()
    if download_url is not None and download_url.lower().startswith("magnet:"):
        magnet = magnet or download_url
        download_url = None
    seeders = _int(resource.get("seeders"))
    leechers = _int(resource.get("leechers"))
    protocol = str(resource.get("protocol") or "torrent").lower()
    info_hash = resource.get("infoHash")
    return Release(
        title=title.strip(),
        size=max(_int(resource.get("size")) or 0, 0),
        seeders=max(seeders or 0, 0),
        leechers=max(leechers or 0, 0),
        indexer=str(resource.get("indexer") or ""),
        indexer_id=_int(resource.get("indexerId")),
        guid=str(resource.get("guid") or ""),
        publish_date=_date(resource.get("publishDate")),
        info_hash=normalize_info_hash(info_hash if isinstance(info_hash, str) else None)
        or magnet_info_hash(magnet),
        magnet=magnet,
        download_url=download_url,
        categories=_category_ids(resource.get("categories")),
        protocol="usenet" if protocol == "usenet" else "torrent",
        grabs=_int(resource.get("grabs")),
        files=_int(resource.get("files")),
    )


def _indexer(resource: Mapping[str, Any]) -> ProwlarrIndexer | None:
    indexer_id = _int(resource.get("id"))
    if indexer_id is None:
        return None
    caps = resource.get("capabilities")
    caps = caps if isinstance(caps, dict) else {}
    book = caps.get("bookSearchParams")
    return ProwlarrIndexer(
        id=indexer_id,
        name=str(resource.get("name") or f"indexer {indexer_id}"),
        enabled=bool(resource.get("enable", False)),
        protocol=str(resource.get("protocol") or "unknown").lower(),
        privacy=str(resource.get("privacy") or "unknown"),
        priority=_int(resource.get("priority")) or 25,
        supports_search=bool(resource.get("supportsSearch", True)),
        categories=frozenset(_category_ids(caps.get("categories"))),
        book_search_params=tuple(str(p).lower() for p in book if isinstance(p, str))
        if isinstance(book, list)
        else (),
        supports_rss=bool(resource.get("supportsRss", True)),
    )


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str
    location: str
    retry_after: str | None


class ProwlarrClient(SessionOwner):
    """Prowlarr's API v1; `async with` owns one HTTP session (or call `close()`).

    The constructor raises `ValueError` for an unusable address (see `ensure_base_url`).
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        http: HttpOptions = HttpOptions(),  # noqa: B008 - frozen dataclass, never mutated
        max_bytes: int = MAX_FEED_BYTES,
    ) -> None:
        self.base = ensure_base_url(url)
        self.api_key = api_key.strip()
        REDACTOR.add(self.api_key, "prowlarr-api-key")
        self.http = http
        self.max_bytes = max_bytes
        self.shown = display_url(self.base)

    @property
    def session_options(self) -> HttpOptions:
        return self.http

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
    ) -> _Answer:
        url = self.base.join(URL(path))
        try:
            async with self.session.request(
                method,
                url,
                params=list(params),
                json=body,
                headers={"X-Api-Key": self.api_key, "Accept": "application/json"},
                allow_redirects=False,
            ) as response:
                data = await read_capped(response, self.max_bytes)
                if data is None:
                    raise ProtocolError(
                        f"Prowlarr answered more than {size_text(self.max_bytes)}",
                        service=SERVICE,
                        url=self.shown,
                        endpoint=f"{method} /{path}",
                        status=response.status,
                    )
                return _Answer(
                    status=response.status,
                    body=data,
                    content_type=response.content_type,
                    location=response.headers.get("Location", ""),
                    retry_after=response.headers.get("Retry-After"),
                )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(
                exc, service=SERVICE, url=self.shown, endpoint=f"{method} /{path}"
            ) from exc

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """One call whose answer must be JSON; every other answer becomes a typed error."""
        answer = await self._send(method, path, params=params, body=body)
        where: dict[str, Any] = {
            "service": SERVICE,
            "url": self.shown,
            "endpoint": f"{method} /{path}",
            "status": answer.status,
        }
        if answer.status == 401:
            raise AuthError(
                "Prowlarr refused the API key (wrong API key): copy it from Prowlarr → "
                "Settings → General → Security → API Key",
                **where,
            )
        if 300 <= answer.status < 400:
            target = display_url(answer.location) if answer.location else "nowhere"
            raise ProtocolError(
                f"redirects to {target} instead of answering like Prowlarr: check http/https "
                "and the URL base (sub-path) in the address",
                **where,
            )
        # A search of thousands of releases is megabytes of JSON: decoded off the loop.
        value, is_json = (
            await asyncio.to_thread(_decode, answer)
            if len(answer.body) > LARGE_FEED_BYTES
            else _decode(answer)
        )
        if not is_json:
            what = "an HTML page" if "html" in answer.content_type else "no JSON"
            if answer.status == 404:
                what = "HTTP 404 at /api/v1"
            raise NotProwlarrError(
                f"not Prowlarr (check the URL and base path, e.g. http://nas:9696/prowlarr): "
                f"it answers, but not like Prowlarr's API ({what})",
                answer=_preview(answer.body),
                **where,
            )
        if answer.status == 429:
            seconds, at = parse_retry_after(answer.retry_after)
            raise RateLimitedError(
                f"Prowlarr is rate-limited: {_message(value) or 'too many requests'}",
                retry_after=seconds,
                retry_at=at,
                **where,
            )
        if answer.status >= 400:
            message = _message(value) or f"HTTP {answer.status}"
            if answer.status == 404 and path == "api/v1/search" and method == "POST":
                raise ReleaseNotCachedError(
                    f"Prowlarr no longer has this release in its search cache (it keeps "
                    f"results for {GRAB_CACHE_MINUTES} minutes): search again, then grab it "
                    f"({message})",
                    **where,
                )
            if answer.status == 409 and path == "api/v1/search" and method == "POST":
                raise GrabFailedError(
                    f"Prowlarr could not get the release from the indexer ({message}): the "
                    "indexer may be down or the release gone; try another release",
                    **where,
                )
            if answer.status == 404 and not _message(value):
                raise NotProwlarrError(
                    "not Prowlarr (check the URL and base path): it answers, but not like "
                    "Prowlarr's API (HTTP 404 at /api/v1)",
                    **where,
                )
            raise HttpStatusError(message, **where)
        if answer.status != 200:
            raise HttpStatusError(f"unexpected HTTP {answer.status}", **where)
        return value

    async def status(self) -> ProwlarrStatus:
        """Proves the address, the application and the key in one cheap call."""
        value = await self._json("GET", "api/v1/system/status")
        where = {"service": SERVICE, "url": self.shown, "endpoint": "GET /api/v1/system/status"}
        if not isinstance(value, dict) or "appName" not in value:
            raise NotProwlarrError(
                "not Prowlarr (check the URL and base path): it answers, but not like "
                "Prowlarr's API (no system status)",
                **where,
            )
        app = str(value.get("appName"))
        version = str(value.get("version") or "?")
        if app.lower() != "prowlarr":
            raise NotProwlarrError(
                f"{app} {version} answers there, not Prowlarr (check the port)",
                app_name=app,
                version=version,
                **where,
            )
        return ProwlarrStatus(
            app_name=app,
            version=version,
            instance_name=str(value.get("instanceName") or app),
            url_base=str(value.get("urlBase") or ""),
            raw=value,
        )

    async def indexers(
        self, *, enabled_only: bool = True, protocol: str | None = "torrent"
    ) -> list[ProwlarrIndexer]:
        """The indexers Prowlarr has, by default only enabled torrent ones, by priority."""
        value = await self._json("GET", "api/v1/indexer")
        if not isinstance(value, list):
            raise NotProwlarrError(
                "not Prowlarr: /api/v1/indexer did not answer a list",
                service=SERVICE,
                url=self.shown,
                endpoint="GET /api/v1/indexer",
            )
        found = [ix for item in value if isinstance(item, dict) and (ix := _indexer(item))]
        if enabled_only:
            found = [ix for ix in found if ix.enabled]
        if protocol is not None:
            found = [ix for ix in found if ix.protocol == protocol]
        return sorted(found, key=lambda ix: (ix.priority, ix.name.lower(), ix.id))

    async def search(
        self,
        query: str,
        *,
        type: SearchType = "search",  # Prowlarr's parameter name
        author: str | None = None,
        title: str | None = None,
        categories: Sequence[int] = (AUDIOBOOK_CATEGORY,),
        indexer_ids: Sequence[int] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> list[Release]:
        """`GET /api/v1/search`; with `type="book"`, author/title go in as query tokens."""
        text = book_query(query, author=author, title=title) if type == "book" else query
        params: list[tuple[str, str]] = [("query", text), ("type", type)]
        params += [("indexerIds", str(i)) for i in indexer_ids]
        params += [("categories", str(c)) for c in categories]
        if limit > 0:
            params.append(("limit", str(limit)))
        if offset > 0:
            params.append(("offset", str(offset)))
        value = await self._json("GET", "api/v1/search", params=params)
        if not isinstance(value, list):
            raise NotProwlarrError(
                "not Prowlarr: /api/v1/search did not answer a list",
                service=SERVICE,
                url=self.shown,
                endpoint="GET /api/v1/search",
            )
        return [
            r
            for item in value[:MAX_FEED_ITEMS]
            if isinstance(item, dict) and (r := release_from_resource(item))
        ]

    async def grab(self, guid: str, indexer_id: int, download_client_id: int | None = None) -> None:
        """Send a release found in the last 30 minutes to Prowlarr's own download client."""
        body: dict[str, Any] = {"guid": guid, "indexerId": indexer_id}
        if download_client_id is not None:
            body["downloadClientId"] = download_client_id
        await self._json("POST", "api/v1/search", body=body)


def _decode(answer: _Answer) -> tuple[Any, bool]:
    """(value, True) when the body is JSON; an empty body with an error status is "{}"."""
    if not answer.body.strip():
        return {}, answer.status >= 400 and answer.status != 404
    if "html" in answer.content_type:
        return None, False
    try:
        return loads_json(answer.body), True
    except ValueError:
        return None, False


def _message(value: Any) -> str | None:
    """`ErrorModel.message`, or the joined `errorMessage`s of a validation failure."""
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"]).strip() or None
    if isinstance(value, list):
        messages = [
            str(item["errorMessage"])
            for item in value
            if isinstance(item, dict) and isinstance(item.get("errorMessage"), str)
        ]
        return "; ".join(messages) or None
    return None
