"""asyncio client of the Audiobookshelf API (2.x; shapes checked against 2.36.0).

Why it looks the way it does (sources: `server/Auth.js`, `server/routers/ApiRouter.js`,
`server/controllers/LibraryController.js`, `server/utils/queries/libraryItemsBookFilters.js`
and the real answers recorded in `tests/fixtures/abs-2.36/`):

* Authentication is a bearer token, an API key (2.26+, Settings → API Keys) or a user's
  JWT; a refused token is passport's 401 `Unauthorized`. `GET /status` needs none, so it
  is the one request that proves "this address is Audiobookshelf" before a key is spent.
* The token travels in the `Authorization` header only, never in `?token=` (query strings
  end up in proxy logs), and only on `/api` requests.
* `GET /api/libraries/:id/items` pages with `limit` and a 0-based `page` and returns
  `{results, total, limit, page, ...}`; `limit=0` means "everything", and a negative or
  fractional `limit`/`page` is a 400. In 2.36 every result has the minified shape
  (`authorName`, `narratorName`, `seriesName`) whether or not `minified=1` is sent;
  `GET /api/items/:id` has the full one (`authors[]`, `narrators[]`, `series[]`).
  `book_from_item` reads both, so the index never has to fetch items one by one.
* Library scans are admin-only (403 otherwise) and asynchronous: `POST .../scan` answers
  200 at once and the scan is over when the library's `lastScan` changes.
* A 404 from ABS itself is short text ("Library not found", "Not Found"); an HTML page
  means the address (or a reverse proxy's sub-path) leads somewhere else.

Errors are the typed ones of `gui.clients.errors`, worded for the user who must fix a
setting. No message ever contains the token.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from yarl import URL

from gui.clients.errors import (
    AuthError,
    ClientError,
    ForbiddenError,
    HttpStatusError,
    ProtocolError,
)
from gui.clients.http import (
    TRANSPORT_ERRORS,
    HttpOptions,
    SessionOwner,
    decode_text,
    display_url,
    ensure_base_url,
    loads_json,
    read_capped,
    transport_error,
)
from gui.core.redact import REDACTOR

__all__ = [
    "ADMIN_TYPES",
    "MATCH_PROVIDERS",
    "SERVICE",
    "AbsBook",
    "AbsClient",
    "AbsFolder",
    "AbsLibrary",
    "AbsStatus",
    "AbsUser",
    "ItemsPage",
    "MatchResult",
    "SearchHit",
    "book_from_item",
]

SERVICE = "Audiobookshelf"
#: User types that may scan (`req.user.isAdminOrUp` in LibraryController.scan).
ADMIN_TYPES = ("root", "admin")
#: A page of 100 minified items is ~200 KB; nothing ABS sends for these calls comes near this.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
DEFAULT_PAGE_SIZE = 100
#: Frozen, so one shared default is safe.
DEFAULT_HTTP = HttpOptions()
#: `addedAt` ascending keeps paging stable while ABS adds items: new ones land at the end
#: instead of shifting every later page (the title order would skip an item per insert).
STABLE_SORT = "addedAt"

KEY_REFUSED = "Audiobookshelf refused the API key (create one under Settings → API Keys)"
NO_KEY = "no Audiobookshelf API key is set (create one under Settings → API Keys)"
NOT_ABS = "not Audiobookshelf"
SCAN_NEEDS_ADMIN = (
    "scanning needs an admin API key: the key's user is not an administrator "
    "(create the key for an admin user under Settings → API Keys)"
)
#: LibraryItemController.middleware answers 403 to a POST from a user without `canUpdate`
#: (and to any request for an item in a library the user may not open).
MATCH_NEEDS_UPDATE = (
    "the API key's user may not update items (Audiobookshelf's 'update' permission) "
    "or may not open this item's library (allow both under Settings → Users, or use an "
    "admin's key)"
)
#: The providers `BookFinder` knows (server/finders/BookFinder.js), plus "custom-<id>" ones.
#: ABS searches Google for any other name without saying so, hence the check in `match`.
MATCH_PROVIDERS: tuple[str, ...] = (
    "google",
    "itunes",
    "openlibrary",
    "fantlab",
    "audiobookcovers",
    "audible",
    "audible.ca",
    "audible.uk",
    "audible.au",
    "audible.fr",
    "audible.de",
    "audible.jp",
    "audible.it",
    "audible.in",
    "audible.es",
)
#: Name suffixes that ABS's ", "-joined `authorName` would otherwise split off a name.
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})
#: One entry of `seriesName` ("Name #1", "Name #1.5", "Name"), as ABS joins them with ", ".
_SERIES_ENTRY = re.compile(r"^(?P<name>.+?) #(?P<sequence>[^\s,]+)(?:, |$)")


# ---- what the API answers ------------------------------------------------------------


@dataclass(frozen=True)
class AbsStatus:
    """`GET /status`: enough to tell ABS apart from anything else at the address."""

    server_version: str
    is_init: bool
    auth_methods: tuple[str, ...] = ()
    app: str = "audiobookshelf"


@dataclass(frozen=True)
class AbsUser:
    """`GET /api/me`: who the key belongs to and what that user may do."""

    id: str
    username: str
    type: str
    permissions: Mapping[str, bool] = field(default_factory=dict)
    #: Empty means every library (ABS stores no list when `accessAllLibraries` is on).
    libraries_accessible: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        """Scans and the watcher endpoint need an admin (root counts)."""
        return self.type in ADMIN_TYPES


@dataclass(frozen=True)
class AbsFolder:
    id: str
    full_path: str  # as the ABS server (often a container) sees it


@dataclass(frozen=True)
class AbsLibrary:
    """One library of `GET /api/libraries` or `GET /api/libraries/:id`."""

    id: str
    name: str
    media_type: str
    folders: tuple[AbsFolder, ...] = ()
    #: Milliseconds since the epoch; None before the first scan. A scan is over when it changes.
    last_scan: int | None = None

    @property
    def is_book(self) -> bool:
        return self.media_type == "book"


@dataclass(frozen=True)
class ItemsPage:
    """One page of `GET /api/libraries/:id/items` (items are raw JSON objects)."""

    results: list[dict[str, Any]]
    total: int
    limit: int
    page: int


@dataclass(frozen=True)
class AbsBook:
    """A library item reduced to what identifies the book (the `OwnedBook` fields)."""

    item_id: str
    library_id: str
    title: str
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str = ""
    sequence: str = ""
    asin: str = ""
    isbn: str = ""
    path: str = ""  # as the ABS server sees it
    media_type: str = "book"
    is_missing: bool = False
    # What the library view scores completeness on (both item shapes carry them).
    year: str = ""
    publisher: str = ""
    description: str = ""
    genres: tuple[str, ...] = ()
    language: str = ""
    has_cover: bool = False
    duration: float = 0.0


@dataclass(frozen=True)
class MatchResult:
    """`POST /api/items/:id/match` (`Scanner.quickMatchLibraryItem`).

    A provider with no result gives `warning` ("No google match found") and no item; a
    match gives the expanded item, with `updated` False when the match changed nothing
    (ABS fills only empty fields unless told to override).
    """

    updated: bool
    warning: str
    item: dict[str, Any] | None


@dataclass(frozen=True)
class SearchHit:
    """One `book` entry of a library search: which field matched, and the (expanded) item."""

    item: dict[str, Any]
    match_key: str
    match_text: str

    @property
    def book(self) -> AbsBook:
        return book_from_item(self.item)


# ---- normalising items ---------------------------------------------------------------


def _text(value: Any) -> str:
    """ABS sends null for unknown metadata; an index wants "" and no stray spaces."""
    if value is None:
        return ""
    return str(value).strip()


def _split_joined(text: str) -> tuple[str, ...]:
    """Undo ABS's `names.join(', ')` (`authorName`, `narratorName`).

    Names are "First Last" in ABS (its folder parser turns "Last, First" around), so ", "
    separates people; only a suffix ("Jr.") belongs to the name before it.
    """
    names: list[str] = []
    for chunk in text.split(", "):
        chunk = chunk.strip()
        if not chunk:
            continue
        if names and chunk.lower().rstrip(".") in _NAME_SUFFIXES:
            names[-1] = f"{names[-1]}, {chunk}"
        else:
            names.append(chunk)
    return tuple(names)


def _names(value: Any, joined: Any) -> tuple[str, ...]:
    """Names from the full form (a list of strings or `{name}` objects), else the joined one."""
    if isinstance(value, list):
        names = []
        for entry in value:
            name = _text(entry.get("name")) if isinstance(entry, Mapping) else _text(entry)
            if name:
                names.append(name)
        return tuple(names)
    return _split_joined(_text(joined))


def _first_series(series: Any, series_name: Any) -> tuple[str, str]:
    """The first series and its sequence, from `series[]` or from `seriesName`."""
    if isinstance(series, list):
        for entry in series:
            if isinstance(entry, Mapping) and _text(entry.get("name")):
                return _text(entry.get("name")), _text(entry.get("sequence"))
        return "", ""
    text = _text(series_name)
    if not text:
        return "", ""
    found = _SERIES_ENTRY.match(text)
    if found:
        return found["name"].strip(), found["sequence"]
    # No sequence on the first series: a name alone, up to the next series if any.
    return text.split(", ", 1)[0].strip(), ""


def book_from_item(item: Mapping[str, Any]) -> AbsBook:
    """Normalise a library item, minified (list, search) or full (`/api/items/:id`).

    The one place that knows both shapes, so the index, the importer and the search
    agree on what a library item says. Raises ValueError for something that is not an item.
    """
    media = item.get("media")
    item_id = item.get("id")
    if not isinstance(media, Mapping) or not isinstance(item_id, str) or not item_id:
        raise ValueError("not an Audiobookshelf library item (no id or media)")
    metadata = media.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    series, sequence = _first_series(meta.get("series"), meta.get("seriesName"))
    return AbsBook(
        item_id=item_id,
        library_id=_text(item.get("libraryId")),
        title=_text(meta.get("title")),
        subtitle=_text(meta.get("subtitle")),
        authors=_names(meta.get("authors"), meta.get("authorName")),
        narrators=_names(meta.get("narrators"), meta.get("narratorName")),
        series=series,
        sequence=sequence,
        asin=_text(meta.get("asin")),
        isbn=_text(meta.get("isbn")),
        path=_text(item.get("path")),
        media_type=_text(item.get("mediaType")) or "book",
        is_missing=bool(item.get("isMissing")),
        year=_text(meta.get("publishedYear")),
        publisher=_text(meta.get("publisher")),
        description=_text(meta.get("description")),
        genres=tuple(g for g in (_text(v) for v in _list(meta.get("genres"))) if g),
        language=_text(meta.get("language")),
        has_cover=bool(_text(media.get("coverPath"))),
        # the full form (`/api/items/:id`) has no media duration: its audio files do
        duration=_float(media.get("duration"))
        or sum(
            _float(f.get("duration"))
            for f in _list(media.get("audioFiles"))
            if isinstance(f, Mapping)
        ),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


# ---- parsing answers ----------------------------------------------------------------


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return default


def _library(data: Mapping[str, Any]) -> AbsLibrary:
    folders = tuple(
        AbsFolder(id=_text(f.get("id")), full_path=_text(f.get("fullPath") or f.get("path")))
        for f in data.get("folders") or ()
        if isinstance(f, Mapping)
    )
    last_scan = data.get("lastScan")
    return AbsLibrary(
        id=_text(data.get("id")),
        name=_text(data.get("name")),
        media_type=_text(data.get("mediaType")),
        folders=folders,
        last_scan=_int(last_scan) if last_scan is not None else None,
    )


@dataclass(frozen=True)
class _Answer:
    status: int
    text: str
    location: str
    #: The undecoded body of a successful binary request (an image); b"" otherwise.
    body: bytes = b""


def _looks_like_html(text: str) -> bool:
    """ABS's own errors are short text; a page starting with a tag is some other server."""
    return text.lstrip()[:1] == "<"


# ---- the client ---------------------------------------------------------------------


class AbsClient(SessionOwner):
    """One Audiobookshelf server, one key. Use `async with` (or `await close()`).

    Cheap to create: the HTTP session opens on the first request. A refresh schedule,
    retries and back-off are the caller's business; this class makes one request per call.
    """

    def __init__(self, url: str, token: str, *, http: HttpOptions = DEFAULT_HTTP) -> None:
        self.base_url = ensure_base_url(url)
        self.display_url = display_url(self.base_url)
        self._token = token.strip()
        REDACTOR.add(self._token, "audiobookshelf-token")
        self._http = http

    def __repr__(self) -> str:  # never the token
        return f"AbsClient({self.display_url!r})"

    @property
    def session_options(self) -> HttpOptions:
        return self._http

    # ---- transport -------------------------------------------------------------------

    def _error(
        self,
        cls: type[ClientError],
        message: str,
        endpoint: str,
        answer: _Answer | None = None,
    ) -> ClientError:
        return cls(
            message,
            service=SERVICE,
            url=self.display_url,
            endpoint=endpoint,
            status=answer.status if answer else None,
            answer=answer.text if answer else None,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        auth: bool = True,
        json_body: Mapping[str, Any] | None = None,
        binary: bool = False,
    ) -> tuple[str, _Answer]:
        """One exchange, read completely; transport failures become typed errors.

        With `binary`, a 2xx body is kept as bytes (an image is no text); error bodies are
        always decoded, since they become messages.
        """
        endpoint = f"{method} /{path}"
        if auth and not self._token:
            raise self._error(AuthError, NO_KEY, endpoint)
        headers: dict[str, str] = {}
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            async with self.session.request(
                method,
                self.base_url.join(URL(path)),
                params=params,
                json=json_body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                body = await read_capped(response, MAX_ANSWER_BYTES)
                if body is None:
                    raise self._error(
                        ProtocolError,
                        f"{endpoint} answered with more data than Audiobookshelf sends",
                        endpoint,
                    )
                keep = binary and response.status < 300
                answer = _Answer(
                    status=response.status,
                    text="" if keep else decode_text(body, response.charset),
                    location=response.headers.get("Location", ""),
                    body=body if keep else b"",
                )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(
                exc, service=SERVICE, url=self.display_url, endpoint=endpoint
            ) from exc
        return endpoint, answer

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        forbidden: str = "the API key's user is not allowed to do this",
        not_found: str | None = None,
        json_body: Mapping[str, Any] | None = None,
        binary: bool = False,
    ) -> _Answer:
        """An authenticated request whose error statuses become actionable errors."""
        endpoint, answer = await self._send(
            method, path, params=params, json_body=json_body, binary=binary
        )
        status = answer.status
        if status < 300:
            return answer
        if 300 <= status < 400:
            target = display_url(answer.location) if answer.location else "nowhere"
            raise self._error(
                ProtocolError,
                f"no Audiobookshelf API at {self.display_url}: it redirects to {target} "
                "(check http/https and, behind a reverse proxy, the sub-path)",
                endpoint,
                answer,
            )
        if status == 401:
            raise self._error(AuthError, KEY_REFUSED, endpoint, answer)
        if status == 403:
            raise self._error(ForbiddenError, forbidden, endpoint, answer)
        if (
            status == 404
            and not_found
            and answer.text.strip()
            and not _looks_like_html(answer.text)
        ):
            raise self._error(HttpStatusError, not_found, endpoint, answer)
        if status in (404, 405) or _looks_like_html(answer.text):
            raise self._error(
                ProtocolError,
                f"no Audiobookshelf API at {self.display_url} (check the port and, behind "
                "a reverse proxy, the sub-path)",
                endpoint,
                answer,
            )
        if status == 400:
            raise self._error(
                HttpStatusError, "Audiobookshelf rejected the request", endpoint, answer
            )
        if status == 429:
            raise self._error(
                HttpStatusError, "Audiobookshelf is rate-limiting requests", endpoint, answer
            )
        raise self._error(
            HttpStatusError, f"Audiobookshelf failed (HTTP {status})", endpoint, answer
        )

    def _json(self, endpoint: str, answer: _Answer) -> Any:
        try:
            return loads_json(answer.text)
        except ValueError:
            raise self._error(
                ProtocolError,
                f"no Audiobookshelf API at {self.display_url}: the answer is not JSON "
                "(check the address and, behind a reverse proxy, the sub-path)",
                endpoint,
                answer,
            ) from None

    def _object(self, endpoint: str, answer: _Answer, *keys: str) -> dict[str, Any]:
        """The answer as a JSON object that has `keys`, or a ProtocolError saying so."""
        data = self._json(endpoint, answer)
        if not isinstance(data, dict) or any(key not in data for key in keys):
            raise self._error(
                ProtocolError,
                f"{endpoint} answered JSON without {', '.join(keys) or 'an object'}: "
                "not the Audiobookshelf API this client knows",
                endpoint,
                answer,
            )
        return data

    async def _get_object(
        self,
        path: str,
        *keys: str,
        params: Mapping[str, str] | None = None,
        forbidden: str = "the API key's user is not allowed to do this",
        not_found: str | None = None,
    ) -> dict[str, Any]:
        answer = await self._call(
            "GET", path, params=params, forbidden=forbidden, not_found=not_found
        )
        return self._object(f"GET /{path}", answer, *keys)

    @staticmethod
    def _library_path(library_id: str, tail: str = "") -> str:
        if not library_id:
            raise ValueError("no Audiobookshelf library id given")
        return f"api/libraries/{quote(library_id, safe='')}{tail}"

    @staticmethod
    def _library_forbidden(library_id: str) -> str:
        return (
            f"the API key's user may not open library {library_id} (give the user access "
            "to it under Settings → Users, or use an admin's key)"
        )

    # ---- endpoints -------------------------------------------------------------------

    async def status(self) -> AbsStatus:
        """`GET /status`, without the key: is this address Audiobookshelf at all?"""
        endpoint, answer = await self._send("GET", "status", auth=False)
        data: Any = None
        if answer.status == 200:
            try:
                data = loads_json(answer.text)
            except ValueError:
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("serverVersion"), str):
            if 300 <= answer.status < 400:
                where = display_url(answer.location) if answer.location else "nowhere"
                detail = f"GET /status redirects to {where}"
            else:
                detail = f"GET /status gave HTTP {answer.status} without a server version"
            raise self._error(
                ProtocolError,
                f"{NOT_ABS}: {detail} — check the port and, behind a reverse proxy, the sub-path",
                endpoint,
                answer,
            )
        methods = data.get("authMethods")
        return AbsStatus(
            server_version=data["serverVersion"],
            is_init=bool(data.get("isInit", True)),
            auth_methods=tuple(str(m) for m in methods) if isinstance(methods, list) else (),
            app=_text(data.get("app")) or "audiobookshelf",
        )

    async def me(self) -> AbsUser:
        """`GET /api/me`: the key's user, its type (root/admin/user) and permissions."""
        data = await self._get_object("api/me", "id", "type")
        raw = data.get("permissions")
        permissions: dict[str, bool] = {}
        if isinstance(raw, dict):
            permissions = {str(k): v for k, v in raw.items() if isinstance(v, bool)}
        accessible = data.get("librariesAccessible")
        return AbsUser(
            id=_text(data.get("id")),
            username=_text(data.get("username")),
            type=_text(data.get("type")),
            permissions=permissions,
            libraries_accessible=tuple(str(x) for x in accessible)
            if isinstance(accessible, list)
            else (),
        )

    async def libraries(self) -> list[AbsLibrary]:
        """`GET /api/libraries`: the libraries this key's user may open."""
        data = await self._get_object("api/libraries", "libraries")
        listed = data["libraries"]
        if not isinstance(listed, list):
            raise self._error(ProtocolError, "the library list is not a list", "GET /api/libraries")
        return [_library(entry) for entry in listed if isinstance(entry, Mapping)]

    async def library(self, library_id: str) -> AbsLibrary:
        """`GET /api/libraries/:id`, mostly for `last_scan` while waiting for a scan."""
        data = await self._get_object(
            self._library_path(library_id),
            "id",
            forbidden=self._library_forbidden(library_id),
            not_found=f"Audiobookshelf has no library {library_id}",
        )
        return _library(data)

    async def items(
        self,
        library_id: str,
        *,
        page: int = 0,
        limit: int = DEFAULT_PAGE_SIZE,
        minified: bool = False,
        sort: str | None = None,
        desc: bool = False,
    ) -> ItemsPage:
        """One page of a library's items (`page` is 0-based; `limit=0` asks for all)."""
        if page < 0 or limit < 0:
            raise ValueError("page and limit must not be negative")
        params = {"limit": str(limit), "page": str(page)}
        if minified:
            params["minified"] = "1"
        if sort:
            params["sort"] = sort
        if desc:
            params["desc"] = "1"
        path = self._library_path(library_id, "/items")
        data = await self._get_object(
            path,
            "results",
            params=params,
            forbidden=self._library_forbidden(library_id),
            not_found=f"Audiobookshelf has no library {library_id}",
        )
        results = data["results"]
        if not isinstance(results, list):
            raise self._error(ProtocolError, "the item list is not a list", f"GET /{path}")
        items = [entry for entry in results if isinstance(entry, dict)]
        return ItemsPage(
            results=items,
            total=_int(data.get("total"), len(items)),
            limit=_int(data.get("limit"), limit),
            page=_int(data.get("page"), page),
        )

    async def all_items(
        self, library_id: str, *, page_size: int = DEFAULT_PAGE_SIZE, minified: bool = True
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a library, page by page until `total`, each item once.

        Sorted by `addedAt` so items ABS adds meanwhile land after the pages already read;
        an item seen twice (removals shift pages back) is yielded once. A server that
        ignores `limit` (one page holds everything) or repeats a page ends the walk
        instead of looping.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        seen: set[str] = set()
        page = 0
        while True:
            batch = await self.items(
                library_id, page=page, limit=page_size, minified=minified, sort=STABLE_SORT
            )
            fresh = 0
            for item in batch.results:
                item_id = item.get("id")
                if not isinstance(item_id, str) or item_id in seen:
                    continue
                seen.add(item_id)
                fresh += 1
                yield item
            page += 1
            if (
                not batch.results
                or fresh == 0
                or len(batch.results) > page_size
                or page * page_size >= batch.total
            ):
                return

    async def search(self, library_id: str, query: str, limit: int = 12) -> list[SearchHit]:
        """`GET /api/libraries/:id/search`: books whose title, subtitle, ASIN or ISBN
        contain `query` (ABS compares case-insensitively). Authors, series and narrators
        matches of the same answer are not returned."""
        if not query.strip():
            raise ValueError("an Audiobookshelf search needs a query")
        path = self._library_path(library_id, "/search")
        data = await self._get_object(
            path,
            "book",
            params={"q": query, "limit": str(limit)},
            forbidden=self._library_forbidden(library_id),
            not_found=f"Audiobookshelf has no library {library_id}",
        )
        hits: list[SearchHit] = []
        for entry in data["book"] if isinstance(data["book"], list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("libraryItem"), dict):
                hits.append(
                    SearchHit(
                        item=entry["libraryItem"],
                        match_key=_text(entry.get("matchKey")),
                        match_text=_text(entry.get("matchText")),
                    )
                )
        return hits

    async def item(self, item_id: str, expanded: bool = True) -> dict[str, Any]:
        """`GET /api/items/:id[?expanded=1]`: one item in the full form."""
        if not item_id:
            raise ValueError("no Audiobookshelf item id given")
        path = f"api/items/{quote(item_id, safe='')}"
        return await self._get_object(
            path,
            "id",
            "media",
            params={"expanded": "1"} if expanded else None,
            forbidden=f"the API key's user may not open item {item_id}",
            not_found=f"Audiobookshelf has no item {item_id}",
        )

    async def scan(self, library_id: str, force: bool = False) -> None:
        """Start a library scan (admin only). It runs on after this returns: wait for the
        library's `last_scan` to change (`library()`) to know it is over."""
        params = {"force": "1"} if force else None
        await self._call(
            "POST",
            self._library_path(library_id, "/scan"),
            params=params,
            forbidden=SCAN_NEEDS_ADMIN,
            not_found=f"Audiobookshelf has no library {library_id}",
        )

    async def cover(self, item_id: str, width: int | None = None) -> bytes | None:
        """`GET /api/items/:id/cover?format=jpeg[&width=]`: the cover as JPEG bytes, or
        None when ABS has none (its 404 `Not Found`, also its answer for an unknown id).

        `format=jpeg` because ABS otherwise picks WebP for any client sending
        `Accept: */*` (`reqSupportsWebp`), which not every image loader reads. ABS scales
        the cover to `width` pixels (400 when not given) and keeps the aspect ratio.
        ABS 2.36 serves covers without checking the key (`Auth.ignorePatterns`); the key
        goes along anyway for servers and proxies that do check.
        """
        if not item_id:
            raise ValueError("no Audiobookshelf item id given")
        if width is not None and width < 1:
            raise ValueError("a cover width must be at least 1 pixel")
        params = {"format": "jpeg"}
        if width is not None:
            params["width"] = str(width)
        path = f"api/items/{quote(item_id, safe='')}/cover"
        try:
            answer = await self._call(
                "GET",
                path,
                params=params,
                forbidden=f"the API key's user may not see the cover of item {item_id}",
                not_found=f"Audiobookshelf has no cover for item {item_id}",
                binary=True,
            )
        except HttpStatusError as exc:
            if exc.status == 404:  # ABS's own short 404; an HTML page stays a ProtocolError
                return None
            raise
        if not answer.body or _looks_like_html(answer.body[:64].decode("latin-1")):
            raise self._error(
                ProtocolError,
                f"GET /{path} answered without an image (a login page of a reverse proxy, "
                "or ABS's USE_X_ACCEL without nginx in front?)",
                f"GET /{path}",
                answer,
            )
        return answer.body

    async def match(
        self,
        item_id: str,
        *,
        provider: str,
        title: str = "",
        author: str = "",
        isbn: str = "",
        asin: str = "",
        override_cover: bool | None = None,
        override_details: bool | None = None,
    ) -> MatchResult:
        """`POST /api/items/:id/match`: ABS searches `provider` and fills the item from the
        first result; needs the 'update' permission.

        Empty search fields are left out, so ABS uses the item's own title, author, ISBN
        and ASIN. Without either override flag the server setting "prefer matched
        metadata" decides; otherwise ABS only fills empty fields and sets a cover only when
        the item has none. An unknown provider is refused here because ABS would quietly
        search Google instead.
        """
        if not item_id:
            raise ValueError("no Audiobookshelf item id given")
        if provider not in MATCH_PROVIDERS and not provider.startswith("custom-"):
            raise ValueError(
                f"{provider!r} is not an Audiobookshelf metadata provider "
                f"(one of {', '.join(MATCH_PROVIDERS)}, or custom-<id>)"
            )
        body: dict[str, Any] = {"provider": provider}
        for key, value in (("title", title), ("author", author), ("isbn", isbn), ("asin", asin)):
            if value.strip():
                body[key] = value.strip()
        if override_cover is not None:
            body["overrideCover"] = override_cover
        if override_details is not None:
            body["overrideDetails"] = override_details
        path = f"api/items/{quote(item_id, safe='')}/match"
        answer = await self._call(
            "POST",
            path,
            json_body=body,
            forbidden=MATCH_NEEDS_UPDATE,
            not_found=f"Audiobookshelf has no item {item_id}",
        )
        data = self._object(f"POST /{path}", answer)
        warning = data.get("warning")
        if isinstance(warning, str):
            return MatchResult(updated=False, warning=warning, item=None)
        item = data.get("libraryItem")
        if not isinstance(data.get("updated"), bool) or not isinstance(item, dict):
            raise self._error(
                ProtocolError,
                f"POST /{path} answered JSON without updated and libraryItem: "
                "not the Audiobookshelf API this client knows",
                f"POST /{path}",
                answer,
            )
        return MatchResult(updated=data["updated"], warning="", item=item)
