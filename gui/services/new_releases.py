"""New releases of followed authors and series from the indexers' own feeds (no Qt).

The catalogue (`gui.services.following`) knows a book once Audible lists it; an indexer
often has it first. Every Torznab indexer answers ``t=search`` **without** ``q`` with its
latest releases: that is Jackett's RSS feed, and Prowlarr's per-indexer feed
(``/{id}/api?t=search``) answers the same way (Prowlarr issue #364). Prowlarr's JSON
``/api/v1/search`` is not used for this: its documentation does not say what an empty
``query`` does, so the per-indexer Torznab feed, which is documented, is asked instead.

Politeness, per feed (one indexer) and across every follow:

* one request serves all follows: the feed is read once and each release is compared
  with each follow;
* at most once per `MIN_INTERVAL` (15 minutes) per feed, the schedule kept in
  ``feeds.json`` next to ``follows.json`` so restarts do not reset it;
* after a failure the wait doubles (capped at `MAX_BACKOFF`), and a ``Retry-After`` the
  indexer sent (`RateLimitedError.retry_after`) is waited out when it is longer.

Only releases that may be new since the follow was made count: uploaded on or after
that day, and not dated by their title to an earlier year (`_since`).
A release is read with the one title parser (`parse_release_title`); it is the follow's
when `following.belongs` says so (the same author/series comparison the catalogue uses),
and it is wanted only when neither owned nor already on the queue (`matching.judge`
through `following.on_queue`) and only for follows set to add new releases.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol

from gui.clients.errors import ClientError
from gui.clients.http import HttpOptions, ensure_base_url
from gui.clients.metadata_providers import CatalogEntry
from gui.clients.torznab import RateLimitedError, TorznabCaps, TorznabClient
from gui.core.metadata import from_release
from gui.core.ranking import Release
from gui.core.release_title import parse_release_title
from gui.services import following as follows
from gui.services.following import MIN_INTERVAL, Follow, Owned
from gui.services.search import CATEGORIES, RESULTS_PER_INDEXER, ProwlarrSource, TorznabFeed
from gui.settings import write_atomically
from gui.store import Book, Store

__all__ = [
    "FILE_NAME",
    "FeedCheck",
    "FeedSchedule",
    "FeedState",
    "RecentFeed",
    "check_feeds",
    "configured_feeds",
    "feeds_of",
]

log = logging.getLogger(__name__)

FILE_NAME = "feeds.json"
#: Release GUIDs remembered per feed, so a release is looked at once, not every 15 minutes.
MAX_SEEN = 2000


class ReleaseFeed(Protocol):
    """One indexer's latest releases (`RecentFeed` is one)."""

    @property
    def name(self) -> str: ...

    async def recent(self) -> list[Release]: ...


class RecentFeed:
    """A Torznab feed's ``t=search`` without ``q``; its caps are kept between checks."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        name: str,
        http: HttpOptions = HttpOptions(),  # noqa: B008 - frozen dataclass
        limit: int = RESULTS_PER_INDEXER,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self._name = name
        self.http = http
        self.limit = limit
        self._caps: TorznabCaps | None = None

    @property
    def name(self) -> str:
        return self._name

    async def recent(self) -> list[Release]:
        async with TorznabClient(self.url, self.api_key, name=self.name, http=self.http) as client:
            if self._caps is not None:
                client.remember_caps(self._caps)
            releases = await client.search("", categories=CATEGORIES, limit=self.limit)
            self._caps = client.known_caps
            return releases


class ProwlarrFeeds:
    """Prowlarr's torrent indexers, each through its own Torznab feed (``/{id}/api``)."""

    def __init__(self, source: ProwlarrSource) -> None:
        self.source = source
        self._feeds: dict[int, RecentFeed] = {}

    @property
    def name(self) -> str:
        return self.source.name

    async def feeds(self) -> list[ReleaseFeed]:
        base = ensure_base_url(self.source.url)
        found: list[ReleaseFeed] = []
        for ix in await self.source.list_indexers():
            if not ix.supports_rss:
                continue  # its definition has no feed of latest releases
            feed = self._feeds.get(ix.id)
            if feed is None:
                feed = RecentFeed(
                    str(base.with_path(f"{base.path}{ix.id}/api")),
                    self.source.api_key,
                    name=f"{ix.name} (Prowlarr #{ix.id})",
                    http=self.source.http,
                    limit=self.source.limit,
                )
                self._feeds[ix.id] = feed
            found.append(feed)
        return found


def configured_feeds() -> list[ReleaseFeed | ProwlarrFeeds]:
    """The feeds of the indexers in the user's settings (what `earmark run` and the window
    read on each follow check)."""
    from gui.services.search import indexers_from_settings
    from gui.settings import SecretStore, SecretStoreUnavailable, SettingsError, load_settings

    try:
        return feeds_of(indexers_from_settings(load_settings(), SecretStore()))
    except (SettingsError, SecretStoreUnavailable) as exc:  # the catalogue check still runs
        log.warning("new releases: the indexers' feeds are not read: %s", exc)
        return []


def feeds_of(indexers: Sequence[Any]) -> list[ReleaseFeed | ProwlarrFeeds]:
    """The feeds of the configured indexers (`search.indexers_from_settings`); unusable
    ones (no key, bad address) are left out: the search already reports them."""
    found: list[ReleaseFeed | ProwlarrFeeds] = []
    for indexer in indexers:
        if isinstance(indexer, TorznabFeed):
            found.append(
                RecentFeed(indexer.url, indexer.api_key, name=indexer.name, http=indexer.http)
            )
        elif isinstance(indexer, ProwlarrSource):
            found.append(ProwlarrFeeds(indexer))
    return found


@dataclass
class FeedState:
    """When one feed was read, when it may be read again, and its failures."""

    name: str
    last_checked: float = 0.0
    next_check: float = 0.0
    failures: int = 0
    last_error: str = ""
    seen: list[str] = field(default_factory=list)


class FeedSchedule:
    """``feeds.json``: the feeds' states, read and written whole, atomically."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def load(self) -> dict[str, FeedState]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.path} cannot be read ({exc}); fix or remove it") from exc
        if not isinstance(data, list):
            raise ValueError(f"{self.path} is not a list of feeds; fix or remove it")
        known = set(FeedState.__dataclass_fields__)
        states = [FeedState(**{k: v for k, v in d.items() if k in known}) for d in data]
        return {s.name: s for s in states}

    def save(self, states: dict[str, FeedState]) -> None:
        text = json.dumps([asdict(s) for s in states.values()], indent=2, ensure_ascii=False)
        write_atomically(self.path, text + "\n")


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """One feed read (or not: ``skipped`` while it waits) and the books it made wanted."""

    feed: str
    added: tuple[tuple[Follow, CatalogEntry, Book], ...] = ()
    error: str = ""
    skipped: bool = False


def _entry(release: Release) -> CatalogEntry | None:
    """The release as the catalogue would list it, from its parsed title."""
    parsed = parse_release_title(release.title)
    if not parsed.title or not (parsed.authors or parsed.series):
        return None
    meta = from_release(parsed)
    return CatalogEntry(meta, "")


def _since(follow: Follow, release: Release, entry: CatalogEntry) -> bool:
    """Whether the release may be new since the follow was made: uploaded that day or
    later, and not a book its title dates to an earlier year (a re-upload of the back
    catalogue, which is never added unasked)."""
    if not follow.since:
        return True
    uploaded = release.publish_date
    if uploaded is not None and uploaded.astimezone(UTC).strftime("%Y-%m-%d") < follow.since:
        return False
    year = entry.meta.year
    return year is None or str(year) >= follow.since[:4]


def _failed(state: FeedState, exc: ClientError, now: float) -> FeedState:
    failures = state.failures + 1
    wait = follows.failure_wait(MIN_INTERVAL, failures)
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        wait = max(wait, exc.retry_after)
    return replace(
        state, failures=failures, last_error=str(exc), last_checked=now, next_check=now + wait
    )


async def _read(
    feed: ReleaseFeed,
    state: FeedState,
    adding: Sequence[Follow],
    store: Store,
    books: list[Book],
    owned: Owned | None,
    now: float,
) -> tuple[FeedState, FeedCheck]:
    try:
        releases = await feed.recent()
    except ClientError as exc:
        return _failed(state, exc, now), FeedCheck(feed.name, error=str(exc))
    seen = set(state.seen)
    order = list(state.seen)
    added: list[tuple[Follow, CatalogEntry, Book]] = []
    for release in releases:
        key = release.guid or release.title
        if key in seen:
            continue
        seen.add(key)
        order.append(key)
        entry = _entry(release)
        if entry is None:
            continue
        follow = next(
            (f for f in adding if follows.belongs(f, entry) and _since(f, release, entry)), None
        )
        if follow is None:
            continue
        if owned is not None and owned.find(follows.wanted_of(entry)) is not None:
            continue
        if follows.on_queue(entry, books) is not None:
            continue
        why = f"a new release in the {feed.name} feed"
        book = await store.run(follows.want, store, entry, follow, why)
        books.append(book)
        added.append((follow, entry, book))
    updated = replace(
        state,
        failures=0,
        last_error="",
        last_checked=now,
        next_check=now + MIN_INTERVAL,
        seen=order[-MAX_SEEN:],
    )
    return updated, FeedCheck(feed.name, tuple(added))


async def check_feeds(
    store: Store,
    followed: Sequence[Follow],
    feeds: Sequence[ReleaseFeed | ProwlarrFeeds],
    schedule: FeedSchedule,
    *,
    owned: Owned | None = None,
    clock: Callable[[], float] = time.time,
) -> list[FeedCheck]:
    """Read every feed whose time has come once, for all follows; store the schedule.

    Follows that only list books (``new_only`` off) never add from a feed."""
    adding = [f for f in followed if f.new_only]
    if not adding or not feeds:
        return []
    now = clock()
    states = schedule.load()
    books = await store.run(store.books)
    checks: list[FeedCheck] = []

    async def one(feed: ReleaseFeed) -> None:
        state = states.get(feed.name) or FeedState(feed.name)
        if state.next_check > now:
            checks.append(FeedCheck(feed.name, skipped=True))
            return
        states[feed.name], check = await _read(feed, state, adding, store, books, owned, now)
        checks.append(check)

    try:
        for item in feeds:
            if isinstance(item, ProwlarrFeeds):
                group = item
                listing = states.get(group.name) or FeedState(group.name)
                if listing.next_check > now:
                    checks.append(FeedCheck(group.name, skipped=True))
                    continue
                try:
                    inner = await group.feeds()
                except ClientError as exc:
                    states[group.name] = _failed(listing, exc, now)
                    checks.append(FeedCheck(group.name, error=str(exc)))
                    continue
                states[group.name] = replace(
                    listing, failures=0, last_error="", last_checked=now,
                    next_check=now + MIN_INTERVAL,
                )  # fmt: skip
                for feed in inner:
                    await one(feed)
            else:
                await one(item)
    finally:
        schedule.save(states)
    return checks
