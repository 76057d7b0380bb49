"""Following an author or a series: list its books, want the ones the user picks (or only
new releases), and look again on a schedule (no Qt).

What every peer's users ask for first after import. The rules that keep it polite:

* **never the whole back catalogue unasked**: a follow either adds only books released
  after the day it was made (``new_only``, the default) or adds nothing by itself and
  lists the books for the user to pick (`pick`);
* books the library owns (`gui.services.library.OwnedIndex`, identifiers first) and books
  already on the queue are never added again;
* checks are scheduled per follow, at most every `MIN_INTERVAL` (15 minutes), with a
  doubling back-off after a failure (capped at a day): a catalogue that is down or rate
  limited is not hammered. A book that lands on the wanted queue is searched by the
  workflow like any other;
* the indexers' own feeds of latest releases (Torznab ``t=search`` without ``q``) are read
  by `gui.services.new_releases` once per check for every follow, on their own
  per-indexer schedule (at most every 15 minutes, with the same back-off).

The catalogue is the Audible one through `AudibleProvider.catalog` (author, or keywords
for a series, newest first). Follows live in ``follows.json`` in the profile folder,
written atomically: they are the user's choices, like the settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from gui.clients.errors import ClientError
from gui.clients.metadata_providers import CatalogEntry
from gui.core.matching import (
    fold,
    names_overlap,
    normalize_names,
    prepare_title,
    title_similarity,
)
from gui.core.ranking import Wanted
from gui.services.workflow import backoff_seconds
from gui.settings import write_atomically
from gui.store import Book, Store

__all__ = [
    "AUDIBLE_URL_VARIABLE",
    "MAX_BACKOFF",
    "MIN_INTERVAL",
    "Catalog",
    "CheckReport",
    "Follow",
    "FollowList",
    "Listed",
    "Owned",
    "belongs",
    "catalog_from_env",
    "check",
    "check_due",
    "due",
    "failure_wait",
    "on_queue",
    "owned_index",
    "pick",
    "want",
    "wanted_of",
]

#: Where the Audible catalogue is (tests and mirrors); the real one by default.
AUDIBLE_URL_VARIABLE = "EARMARK_AUDIBLE_URL"


def catalog_from_env() -> Any:
    """The Audible catalogue client, at ``EARMARK_AUDIBLE_URL`` when set."""
    import os

    from gui.clients.metadata_providers import AudibleProvider

    url = os.environ.get(AUDIBLE_URL_VARIABLE, "").strip()
    return AudibleProvider(audible_url=url or None, audnexus_url=url or "https://api.audnex.us/")


#: The shortest time between two checks of one follow (seconds).
MIN_INTERVAL = 15 * 60
#: The longest wait after repeated failures.
MAX_BACKOFF = 24 * 3600


def failure_wait(interval: float, failures: int) -> float:
    """The wait after the `failures`-th failure in a row: twice the interval, then 4x...
    capped at `MAX_BACKOFF` (the workflow's search back-off rule, in seconds)."""
    return backoff_seconds(failures + 1, interval / 60, MAX_BACKOFF / 60)
FILE_NAME = "follows.json"
#: How close a listed series name must be to the followed one.
SERIES_MATCH = 0.85

Kind = Literal["author", "series"]
Status = Literal["owned", "wanted", "added", "new", "older"]


class Catalog(Protocol):
    """What following needs of a catalogue (`AudibleProvider` has it)."""

    async def catalog(
        self, *, author: str = "", keywords: str = "", max_results: int = 50
    ) -> list[CatalogEntry]: ...


class Owned(Protocol):
    def find(self, wanted: Wanted) -> Any: ...


@dataclass
class Follow:
    """One followed author or series and its schedule."""

    kind: Kind
    name: str
    #: For a series: its author, when known (narrows the catalogue search).
    author: str = ""
    #: Add books released after ``since`` by itself; otherwise only list them.
    new_only: bool = True
    since: str = ""  # "YYYY-MM-DD": the day the follow was made
    interval: float = 6 * 3600
    last_checked: float = 0.0
    next_check: float = 0.0
    failures: int = 0
    last_error: str = ""
    #: ASINs seen in earlier checks (what is "new" since the last look).
    seen: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.kind == "series":
            return f"series '{self.name}'" + (f" by {self.author}" if self.author else "")
        return f"author {self.name}"


@dataclass(frozen=True, slots=True)
class Listed:
    """A book of a followed author or series and what Earmark makes of it."""

    entry: CatalogEntry
    status: Status
    book_id: int | None = None


@dataclass(frozen=True, slots=True)
class CheckReport:
    follow: Follow
    listed: tuple[Listed, ...] = ()
    error: str = ""
    #: The indexer feed that found these releases ("" for a catalogue check).
    feed: str = ""

    @property
    def added(self) -> tuple[Listed, ...]:
        return tuple(item for item in self.listed if item.status == "added")


def today(clock: Callable[[], float] = time.time) -> str:
    return datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%d")


class FollowList:
    """The follows in ``follows.json``: read whole, written whole and atomically."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def load(self) -> list[Follow]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.path} cannot be read ({exc}); fix or remove it") from exc
        if not isinstance(data, list):
            raise ValueError(f"{self.path} is not a list of follows; fix or remove it")
        known = set(Follow.__dataclass_fields__)
        return [Follow(**{k: v for k, v in item.items() if k in known}) for item in data]

    def save(self, follows: Iterable[Follow]) -> None:
        text = json.dumps([asdict(f) for f in follows], indent=2, ensure_ascii=False)
        write_atomically(self.path, text + "\n")

    def add(self, follow: Follow) -> tuple[Follow, bool]:
        """Store a follow; (the existing one, False) when it is followed already."""
        follows = self.load()
        for existing in follows:
            if _same_follow(existing, follow):
                return existing, False
        follows.append(follow)
        self.save(follows)
        return follow, True

    def update(self, follow: Follow) -> None:
        follows = [follow if _same_follow(f, follow) else f for f in self.load()]
        self.save(follows)


def _same_follow(a: Follow, b: Follow) -> bool:
    return a.kind == b.kind and fold(a.name).strip() == fold(b.name).strip()


def belongs(follow: Follow, entry: CatalogEntry) -> bool:
    """Whether a catalogue entry is the followed author's or in the followed series."""
    meta = entry.meta
    if follow.kind == "series":
        if not meta.series:
            return False
        return title_similarity(prepare_title(follow.name), prepare_title(meta.series)) >= (
            SERIES_MATCH
        )
    overlap = names_overlap(normalize_names(follow.name), normalize_names("; ".join(meta.authors)))
    return overlap is not None and overlap >= 0.9


def _position_order(entry: CatalogEntry) -> tuple[float, str]:
    try:
        return float(entry.meta.position.split("-")[0]), entry.meta.title
    except ValueError:
        return float("inf"), entry.meta.title


def due(follows: Sequence[Follow], now: float) -> list[Follow]:
    return [f for f in follows if f.next_check <= now]


def wanted_of(entry: CatalogEntry) -> Wanted:
    meta = entry.meta
    return Wanted(
        title=meta.title,
        author=meta.authors[0] if meta.authors else "",
        series=meta.series,
        position=meta.position,
        asin=meta.asin,
        isbn=meta.isbn,
        duration=meta.duration or 0.0,
    )


def on_queue(entry: CatalogEntry, books: Sequence[Book]) -> Book | None:
    from gui.core.matching import BookKey, judge, prepare

    key = prepare(
        BookKey(entry.meta.title, entry.meta.authors, entry.meta.asin, entry.meta.isbn,
                entry.meta.position)
    )  # fmt: skip
    for book in books:
        other = prepare(BookKey(book.title, (book.author,), book.asin, book.isbn, book.position))
        if judge(key, other).same:
            return book
    return None


def want(store: Store, entry: CatalogEntry, follow: Follow, why: str) -> Book:
    from gui.services.workflow import want_book

    meta = entry.meta
    book, _ = want_book(
        store,
        meta.title,
        meta.authors[0] if meta.authors else follow.name,
        narrator=meta.narrators[0] if meta.narrators else "",
        series=meta.series,
        position=meta.position,
        isbn=meta.isbn,
        asin=meta.asin,
        duration=meta.duration or 0.0,
    )
    assert book.id is not None
    store.add_event(book.id, "wanted", f"{why} of the followed {follow.label}")
    return book


async def check(
    follow: Follow,
    catalog: Catalog,
    store: Store,
    *,
    owned: Owned | None = None,
    clock: Callable[[], float] = time.time,
) -> CheckReport:
    """List the follow's books, add what the follow says to add, reschedule it.

    Returns the (updated) follow; the caller stores it (`FollowList.update`)."""
    now = clock()
    try:
        if follow.kind == "series":
            entries = await catalog.catalog(author=follow.author, keywords=follow.name)
        else:
            entries = await catalog.catalog(author=follow.name)
    except ClientError as exc:
        failures = follow.failures + 1
        wait = failure_wait(max(follow.interval, MIN_INTERVAL), failures)
        failed = replace(
            follow, failures=failures, last_error=str(exc), last_checked=now, next_check=now + wait
        )
        return CheckReport(failed, error=str(exc))
    mine = sorted((e for e in entries if belongs(follow, e)), key=_position_order)
    books = await store.run(store.books)
    listed: list[Listed] = []
    for entry in mine:
        queued = on_queue(entry, books)
        if owned is not None and owned.find(wanted_of(entry)) is not None:
            listed.append(Listed(entry, "owned"))
        elif queued is not None:
            listed.append(Listed(entry, "wanted", queued.id))
        elif follow.new_only and entry.released and entry.released > follow.since:
            book = await store.run(want, store, entry, follow, "a new release")
            books.append(book)
            listed.append(Listed(entry, "added", book.id))
        elif entry.meta.asin not in follow.seen and follow.last_checked:
            listed.append(Listed(entry, "new"))  # appeared since the last look
        else:
            listed.append(Listed(entry, "older"))
    seen = sorted({*follow.seen, *(e.meta.asin for e in mine if e.meta.asin)})
    updated = replace(
        follow,
        seen=seen,
        failures=0,
        last_error="",
        last_checked=now,
        next_check=now + max(follow.interval, MIN_INTERVAL),
    )
    return CheckReport(updated, tuple(listed))


async def pick(
    store: Store, follow: Follow, report: CheckReport, asins: Iterable[str]
) -> list[Book]:
    """Want the listed books the user picked ("all": every one not owned or wanted)."""
    chosen = {a.strip().upper() for a in asins}
    every = "ALL" in chosen
    added: list[Book] = []
    for item in report.listed:
        if item.status in ("owned", "wanted", "added"):
            continue
        if every or item.entry.meta.asin.upper() in chosen:
            added.append(await store.run(want, store, item.entry, follow, "picked from the books"))
    return added


async def check_due(
    store: Store,
    follows: FollowList,
    catalog: Catalog,
    *,
    owned: Owned | None = None,
    clock: Callable[[], float] = time.time,
    force: bool = False,
    feeds: Sequence[Any] = (),
) -> list[CheckReport]:
    """Check every follow whose time has come (all with ``force``), and store each; then
    read the indexers' feeds of latest releases once for all follows
    (`gui.services.new_releases`, on its own per-feed schedule, which ``force`` does not
    override). A feed's finds come back as reports with ``feed`` set."""
    from gui.services import new_releases

    reports: list[CheckReport] = []
    now = clock()
    for follow in follows.load():
        if not force and follow.next_check > now:
            continue
        report = await check(follow, catalog, store, owned=owned, clock=clock)
        follows.update(report.follow)
        reports.append(report)
    if feeds:
        schedule = new_releases.FeedSchedule(follows.path.parent)
        checks = await new_releases.check_feeds(
            store, follows.load(), feeds, schedule, owned=owned, clock=clock
        )
        for feed_check in checks:
            for follow, entry, book in feed_check.added:
                listed = (Listed(entry, "added", book.id),)
                reports.append(CheckReport(follow, listed, feed=feed_check.feed))
    return reports


def owned_index(store: Store) -> Owned:
    """The owned books as last indexed from Audiobookshelf (the store's copy)."""
    from gui.services.library import OwnedIndex

    return OwnedIndex(store.owned())
