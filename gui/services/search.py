"""Search every configured indexer at once for a wanted audiobook (no Qt).

One search asks Prowlarr's indexers and the Torznab feed in parallel and waits at most
`per_indexer_timeout` seconds: a slow or broken indexer costs its own results, never the
others'. That is why Prowlarr is searched **one indexer per request**
(`indexerIds=<id>`): Prowlarr answers a multi-indexer search only when its slowest
indexer has answered, and it hides an indexer's failure as "no results"
(`ReleaseSearchService.DispatchIndexer`). Its indexer list is asked once and kept for a
few minutes.

Every failure is kept with a reason the user can act on ("timed out after 20 s", "wrong
API key", "Torznab error 201: ..."), releases found twice (the same info-hash from two
indexers) are kept once, and each title is parsed as it arrives so that ranking, which
runs on the whole list afterwards, finds every title in the parser's cache.

Everything that grows with the number of results (parsing the titles, merging duplicates,
ranking) runs in a worker thread, not on the event loop that paints the window: a feed of
60,000 items used to freeze the window for seconds, and the per-indexer timeout cannot
interrupt work that never yields. At most `MAX_RELEASES` releases are kept per search.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from gui.clients.errors import (
    AuthError,
    ClientError,
    HttpStatusError,
    ProtocolError,
    TlsError,
    UnreachableError,
)
from gui.clients.http import HttpOptions
from gui.clients.prowlarr import NotProwlarrError, ProwlarrClient, ProwlarrIndexer
from gui.clients.torznab import (
    AUDIOBOOK_CATEGORY,
    MalformedFeedError,
    RateLimitedError,
    TorznabApiError,
    TorznabCaps,
    TorznabClient,
    UnsafeXmlError,
    choose_categories,
    feed_name,
    torznab_endpoint,
)
from gui.core.ranking import Ranked, RankingPolicy, Release, Wanted, rank
from gui.core.release_title import parse_release_title
from gui.core.torrents import (
    TorrentInputError,
    magnet_info_hash,
    normalize_info_hash,
    parse_magnet,
)
from gui.settings import Secret, SecretStore, Settings

__all__ = [
    "BookQuery",
    "HasInfoHash",
    "Indexer",
    "IndexerFailure",
    "IndexerGroup",
    "ProwlarrIndexerSearch",
    "ProwlarrSource",
    "SearchOutcome",
    "TorznabFeed",
    "UnusableIndexer",
    "book_query",
    "deduplicate",
    "describe_failure",
    "indexers_from_settings",
    "release_hash",
    "search_all",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
#: How long Prowlarr's indexer list and a feed's capabilities are reused.
LISTING_TTL = 300.0
RESULTS_PER_INDEXER = 100
CATEGORIES: tuple[int, ...] = (AUDIOBOOK_CATEGORY,)


# ---- what is searched --------------------------------------------------------------------


class Indexer(Protocol):
    """Anything that can be searched for a wanted book."""

    @property
    def name(self) -> str: ...

    async def search(self, wanted: Wanted) -> list[Release]: ...


@runtime_checkable
class IndexerGroup(Protocol):
    """An indexer that is really several (Prowlarr): `search_all` searches its members
    one by one so each gets its own timeout and failure."""

    @property
    def name(self) -> str: ...

    async def expand(self) -> Sequence[Indexer]: ...


@dataclass(frozen=True)
class BookQuery:
    """What is sent for a wanted book: free text, and author/title for book-search."""

    text: str
    title: str
    author: str


# Readarr's query cleaning (SearchCriteriaBase.GetQueryTitle): apostrophes vanish
# ("Ender's" -> "Enders", how trackers index it), other punctuation separates words.
_APOSTROPHES = re.compile(r"[`'’‘]")
_NON_WORD = re.compile(r"[^\w]+")
_AUTHOR_SPLIT = re.compile(r"\s*(?:&|;|,|\band\b|\bwith\b)\s*", re.IGNORECASE)


def _clean(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", _APOSTROPHES.sub("", text)).replace("_", " ").split())


def book_query(wanted: Wanted) -> BookQuery:
    """Title without its subtitle plus the first author without initials.

    Indexers AND the words: a subtitle or a co-author the upload does not mention loses
    the release, and initials are written "J.R.R.", "J. R. R." or not at all. The ranking
    is what checks the rest.
    """
    title = wanted.title.strip()
    main, colon, _ = title.partition(":")
    if colon and _clean(main):
        title = main
    authors = [a for a in _AUTHOR_SPLIT.split(wanted.author.strip()) if a.strip()]
    author_words = [w for w in _clean(authors[0] if authors else "").split() if len(w) > 1]
    title_text = _clean(title)
    author_text = " ".join(author_words)
    text = " ".join(x for x in (title_text, author_text) if x)
    return BookQuery(text=text, title=title_text, author=author_text)


# ---- Prowlarr ---------------------------------------------------------------------------


class ProwlarrSource:
    """Prowlarr as a group of indexers; lists them once per `LISTING_TTL` seconds."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        http: HttpOptions = HttpOptions(),  # noqa: B008 - frozen dataclass
        name: str = "Prowlarr",
        listing_ttl: float = LISTING_TTL,
        limit: int = RESULTS_PER_INDEXER,
    ) -> None:
        self.limit = limit
        ProwlarrClient(url, api_key)  # validates the address now, not at the first search
        self.url = url
        self.api_key = api_key
        self.http = http
        self._name = name
        self.listing_ttl = listing_ttl
        self._listed: tuple[float, list[ProwlarrIndexer]] | None = None
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self._name

    def client(self) -> ProwlarrClient:
        return ProwlarrClient(self.url, self.api_key, http=self.http)

    async def list_indexers(self) -> list[ProwlarrIndexer]:
        """Enabled torrent indexers that search; from memory while fresh."""
        async with self._lock:
            now = time.monotonic()
            if self._listed is not None and now - self._listed[0] < self.listing_ttl:
                return self._listed[1]
            async with self.client() as client:
                found = [ix for ix in await client.indexers() if ix.supports_search]
            self._listed = (time.monotonic(), found)
            return found

    async def expand(self) -> list[Indexer]:
        found = await self.list_indexers()
        if not found:
            raise NoIndexersError(
                "Prowlarr has no enabled torrent indexer that can search: add one in "
                "Prowlarr → Indexers",
                service="Prowlarr",
            )
        counts: dict[str, int] = {}
        for ix in found:
            counts[ix.name] = counts.get(ix.name, 0) + 1
        return [
            ProwlarrIndexerSearch(
                self, ix, name=f"{ix.name} (Prowlarr #{ix.id})" if counts[ix.name] > 1 else None
            )
            for ix in found
        ]

    async def search(self, wanted: Wanted) -> list[Release]:
        """All torrent indexers in one request (for callers that do not expand groups)."""
        query = book_query(wanted)
        async with self.client() as client:
            return await client.search(
                query.text, categories=CATEGORIES, indexer_ids=(-2,), limit=self.limit
            )


class NoIndexersError(ClientError):
    """Prowlarr answered, but has nothing to search with."""


class ProwlarrIndexerSearch:
    """One indexer inside Prowlarr, searched alone so it cannot hold the others up."""

    def __init__(
        self, source: ProwlarrSource, indexer: ProwlarrIndexer, *, name: str | None = None
    ) -> None:
        self.source = source
        self.indexer = indexer
        self._name = name or f"{indexer.name} (Prowlarr)"

    @property
    def name(self) -> str:
        return self._name

    async def search(self, wanted: Wanted) -> list[Release]:
        query = book_query(wanted)
        categories = choose_categories(CATEGORIES, self.indexer.categories)
        async with self.source.client() as client:
            if self.indexer.book_search:
                params = self.indexer.book_search_params
                author = query.author if "author" in params else None
                title = query.title if "title" in params else None
                rest = " ".join(
                    x
                    for x, sent in ((query.title, title), (query.author, author))
                    if x and not sent
                )
                return await client.search(
                    rest,
                    type="book",
                    author=author,
                    title=title,
                    categories=categories,
                    indexer_ids=(self.indexer.id,),
                    limit=self.source.limit,
                )
            return await client.search(
                query.text,
                categories=categories,
                indexer_ids=(self.indexer.id,),
                limit=self.source.limit,
            )


# ---- Torznab ----------------------------------------------------------------------------


class TorznabFeed:
    """A Torznab feed (Jackett, Prowlarr per-indexer); its caps are kept `LISTING_TTL` s."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        name: str | None = None,
        http: HttpOptions = HttpOptions(),  # noqa: B008 - frozen dataclass
        caps_ttl: float = LISTING_TTL,
        limit: int = RESULTS_PER_INDEXER,
    ) -> None:
        self.limit = limit
        self.url = url
        self.api_key = api_key
        self.http = http
        self._name = name or feed_name(torznab_endpoint(url))  # ValueError: unusable URL
        self.caps_ttl = caps_ttl
        self._caps: tuple[float, TorznabCaps] | None = None

    @property
    def name(self) -> str:
        return self._name

    async def search(self, wanted: Wanted) -> list[Release]:
        query = book_query(wanted)
        async with TorznabClient(self.url, self.api_key, name=self.name, http=self.http) as client:
            fresh = self._caps is not None and time.monotonic() - self._caps[0] < self.caps_ttl
            if fresh and self._caps is not None:
                client.remember_caps(self._caps[1])
            releases = await client.search(
                query.text,
                author=query.author or None,
                title=query.title or None,
                categories=CATEGORIES,
                limit=self.limit,
            )
            if not fresh and client.known_caps is not None:
                self._caps = (time.monotonic(), client.known_caps)
            return releases


class UnusableIndexer:
    """A configured indexer that cannot be searched (no key, bad address): it fails with
    its reason in every search, so the user sees it instead of silently fewer results."""

    def __init__(self, name: str, reason: str) -> None:
        self._name = name
        self.reason = reason

    @property
    def name(self) -> str:
        return self._name

    async def search(self, wanted: Wanted) -> list[Release]:
        raise ConfigurationError(self.reason, service=self._name)


class ConfigurationError(ClientError):
    """The settings do not allow searching this indexer."""


def indexers_from_settings(settings: Settings, secrets: SecretStore) -> list[Indexer]:
    """Prowlarr and the Torznab feed, as configured; unusable ones fail with a reason."""
    found: list[Indexer] = []
    if settings.prowlarr_url.strip():
        key = (secrets.get(Secret.PROWLARR_API_KEY) or "").strip()
        if not key:
            found.append(
                UnusableIndexer(
                    "Prowlarr",
                    "no API key is set (Settings → Indexers, or EARMARK_PROWLARR_API_KEY)",
                )
            )
        else:
            try:
                found.append(ProwlarrSource(settings.prowlarr_url, key))
            except ValueError as exc:
                found.append(UnusableIndexer("Prowlarr", f"the address is not usable: {exc}"))
    if settings.torznab_url.strip():
        key = (secrets.get(Secret.TORZNAB_API_KEY) or "").strip()
        try:
            name = feed_name(torznab_endpoint(settings.torznab_url))
        except ValueError as exc:
            found.append(UnusableIndexer("Torznab feed", f"the address is not usable: {exc}"))
        else:
            if not key:
                found.append(
                    UnusableIndexer(
                        name, "no API key is set (Settings → Indexers, or EARMARK_TORZNAB_API_KEY)"
                    )
                )
            else:
                found.append(TorznabFeed(settings.torznab_url, key, name=name))
    return found


# ---- searching all ----------------------------------------------------------------------


@dataclass(frozen=True)
class IndexerFailure:
    """An indexer that gave no results, and why, in words a user can act on.

    `kind` is for code: timeout, auth, torznab, malformed, unsafe_xml, rate_limited,
    unreachable, tls, not_service, http, config, error.
    """

    indexer: str
    reason: str
    kind: str = "error"


@dataclass
class SearchOutcome:
    """Releases from every indexer that answered (de-duplicated), failures, seconds each."""

    releases: list[Release]
    failures: list[IndexerFailure] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def describe_failure(indexer: str, exc: BaseException, timeout: float) -> IndexerFailure:
    """Turn what went wrong into a short reason (the full error goes to the log)."""
    if isinstance(exc, TimeoutError):
        return IndexerFailure(indexer, f"timed out after {timeout:g} s", "timeout")
    if isinstance(exc, AuthError):
        detail = getattr(exc, "description", "")
        text = "wrong API key" + (f" ({detail})" if detail else "")
        return IndexerFailure(indexer, text, "auth")
    if isinstance(exc, RateLimitedError):
        return IndexerFailure(indexer, exc.message, "rate_limited")
    if isinstance(exc, TorznabApiError):
        return IndexerFailure(indexer, exc.message, "torznab")
    if isinstance(exc, UnsafeXmlError):
        return IndexerFailure(indexer, "refused unsafe XML (it declares a DOCTYPE)", "unsafe_xml")
    if isinstance(exc, MalformedFeedError):
        return IndexerFailure(indexer, f"malformed XML: {exc.message}", "malformed")
    if isinstance(exc, TlsError):
        return IndexerFailure(indexer, exc.message, "tls")
    if isinstance(exc, UnreachableError):
        return IndexerFailure(indexer, exc.message, "unreachable")
    if isinstance(exc, NotProwlarrError | ProtocolError):
        return IndexerFailure(indexer, exc.message, "not_service")
    if isinstance(exc, HttpStatusError):
        text = exc.message if exc.status is None else f"HTTP {exc.status}: {exc.message}"
        return IndexerFailure(indexer, text, "http")
    if isinstance(exc, ConfigurationError | NoIndexersError):
        return IndexerFailure(indexer, exc.message, "config")
    if isinstance(exc, ClientError):
        return IndexerFailure(indexer, exc.message, "error")
    return IndexerFailure(indexer, f"unexpected error: {type(exc).__name__}: {exc}", "error")


class HasInfoHash(Protocol):
    """A release as an indexer found it (`Release`) or as the store keeps it."""

    @property
    def info_hash(self) -> str | None: ...

    @property
    def magnet(self) -> str | None: ...


def release_hash(release: HasInfoHash) -> str | None:
    """The v1 info-hash (40 lower-case hex digits, qBittorrent's form) a release is known
    by: the indexer's (hex or base32), else its magnet's; None when neither has one."""
    found = normalize_info_hash(release.info_hash) or magnet_info_hash(release.magnet)
    if found is None and release.magnet:
        with contextlib.suppress(TorrentInputError):  # e.g. a v2-only (btmh) magnet
            found = parse_magnet(release.magnet).info_hash.lower()
    return found


def deduplicate(releases: Iterable[Release]) -> list[Release]:
    """One release per info-hash: the one with more seeders (the first on a tie), with a
    magnet or download link the other copy had filled in. Order of first appearance."""
    out: list[Release] = []
    where: dict[str, int] = {}
    for release in releases:
        key = release_hash(release)
        if key is None:
            out.append(release)
            continue
        index = where.get(key)
        if index is None:
            where[key] = len(out)
            out.append(release)
            continue
        kept, other = out[index], release
        if other.seeders > kept.seeders:
            kept, other = other, kept
        out[index] = dataclasses.replace(
            kept,
            info_hash=kept.info_hash or key,
            magnet=kept.magnet or other.magnet,
            download_url=kept.download_url or other.download_url,
        )
    return out


#: Results kept per search (after merging duplicates); a real search gives a few hundred.
MAX_RELEASES = 20_000


def _settle(batches: list[list[Release]]) -> list[Release]:
    """Parse every title once (the ranking's cache) and merge duplicates; in a thread."""
    merged = deduplicate(r for batch in batches for r in batch)[:MAX_RELEASES]
    for release in merged:
        parse_release_title(release.title)
    return merged


async def rank_off_loop(
    wanted: Wanted, releases: Sequence[Release], policy: RankingPolicy
) -> list[Ranked]:
    """`rank` in a worker thread, so thousands of releases never stall the event loop."""
    return await asyncio.to_thread(rank, wanted, list(releases), policy)


async def search_all(
    wanted: Wanted,
    indexers: Sequence[Indexer],
    *,
    per_indexer_timeout: float = DEFAULT_TIMEOUT,
) -> SearchOutcome:
    """Search all indexers in parallel, each bounded by the same deadline.

    The deadline is `per_indexer_timeout` seconds from now for everyone, a group's
    listing included, so the whole search never takes longer than that. Exceptions are
    captured per indexer; cancelling `search_all` cancels every search.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + per_indexer_timeout
    found: list[tuple[tuple[int, ...], list[Release]]] = []
    failures: list[tuple[tuple[int, ...], IndexerFailure]] = []
    timings: dict[str, float] = {}

    def fail(order: tuple[int, ...], name: str, exc: BaseException) -> None:
        failure = describe_failure(name, exc, per_indexer_timeout)
        if failure.kind == "error":
            log.warning("search of %s failed", name, exc_info=exc)
        else:
            log.info("search of %s failed: %s", name, failure.reason)
        failures.append((order, failure))

    async def run(order: tuple[int, ...], indexer: Indexer) -> None:
        name = indexer.name
        began = time.perf_counter()
        try:
            async with asyncio.timeout_at(deadline):
                releases = await indexer.search(wanted)
            found.append((order, releases))
        except Exception as exc:
            fail(order, name, exc)
        finally:
            timings[name] = time.perf_counter() - began

    async def run_group(order: tuple[int, ...], group: IndexerGroup) -> None:
        began = time.perf_counter()
        try:
            async with asyncio.timeout_at(deadline):
                members = await group.expand()
        except Exception as exc:
            fail(order, group.name, exc)
            return
        finally:
            timings[group.name] = time.perf_counter() - began
        await asyncio.gather(*(run((*order, i), m) for i, m in enumerate(members)))

    await asyncio.gather(
        *(
            run_group((i,), indexer) if isinstance(indexer, IndexerGroup) else run((i,), indexer)
            for i, indexer in enumerate(indexers)
        )
    )
    found.sort(key=lambda item: item[0])
    failures.sort(key=lambda item: item[0])
    releases = await asyncio.to_thread(_settle, [batch for _, batch in found])
    return SearchOutcome(releases, [f for _, f in failures], timings)
