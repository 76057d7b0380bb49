"""The acquisition workflow: a persisted state machine per wanted book (no Qt).

    wanted ──> searching ──> grabbed ──> downloading ──> downloaded   (the import continues)
      │  ^          │           │  ^          │
      │  └─ no release: back-off│  └─ errored, stalled or removed: blocklisted, next best
      └─> in_library (owned)    └─> (qBittorrent refuses: stays, says why and what to do)
    failed: no release after `max_search_attempts` searches

Every state is a row in the store and every transition is one transaction that writes the
book and its event together (`Store.set_state`), so the process may be killed anywhere:
on restart each book continues from its row. What makes each step idempotent:

* a torrent is known by its info-hash, and the hash is persisted on the book *before*
  qBittorrent is asked to add it; on restart a book in `grabbed` first looks that hash up
  in qBittorrent, so a torrent added just before a crash is linked, never added twice
  (`QBittorrentClient.add` also answers `already_present` for a hash it has);
* the chosen release is re-derived from the store (the download record for the persisted
  hash, else the best saved release that is accepted and not blocklisted), never held in
  memory only;
* the stall clock (`downloads.progress_at`) is in the store, so it survives restarts.

qBittorrent's login is never retried in a loop: the client latches a refused login, and a
pass stops talking to qBittorrent after its first failure (one attempt per pass).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gui.clients.errors import (
    AuthError,
    ClientError,
    HttpStatusError,
    ProtocolError,
    TlsError,
    UnreachableError,
)
from gui.clients.prowlarr import GRAB_CACHE_MINUTES, ProwlarrClient
from gui.clients.qbittorrent import AddOptions, QBittorrentClient
from gui.clients.torrent_fetch import fetch_torrent
from gui.core.formatting import counted
from gui.core.ranking import Ranked, RankingPolicy
from gui.core.recording import check_contents
from gui.core.release_title import parse_release_title
from gui.core.torrent_states import STATE_WORDS, is_complete
from gui.core.torrents import Magnet, TorrentFile, TorrentInputError, parse_magnet
from gui.services.library import LibraryIndex, abs_factory, wanted_from_book
from gui.services.search import (
    Indexer,
    IndexerGroup,
    ProwlarrSource,
    SearchOutcome,
    rank_off_loop,
    release_hash,
    search_all,
)
from gui.store import BOOK_STATES, Book, DownloadRecord, ReleaseRecord, Store

if TYPE_CHECKING:
    from gui.core.metadata import BookMetadata
    from gui.services.importing import Importer, ImportReport
    from gui.settings import SecretStore, Settings

__all__ = [
    "ACTIVE_STATES",
    "ALLOWED_TRANSITIONS",
    "FINAL_STATES",
    "IMPORT_TRANSITIONS",
    "GrabAlternatives",
    "PassReport",
    "RetryPlan",
    "Transition",
    "Workflow",
    "WorkflowError",
    "WorkflowSettings",
    "backoff_seconds",
    "bare_magnet",
    "book_json",
    "grab_tags",
    "is_blocked",
    "next_best",
    "plan_retry",
    "record_from_ranked",
    "release_hash",
    "stall_verdict",
    "want_book",
    "workflow_from_settings",
]

log = logging.getLogger(__name__)

ACTIVE_STATES = ("wanted", "searching", "grabbed", "downloading")
#: Why a finished book waits when no library folder is set, and where to set it
#: (gui.models.queue shows it in the book's state).
NO_LIBRARY_FOLDER = (
    "downloaded; the import needs a library folder: set it in Settings → Library "
    "(Library folder) or in EARMARK_LIBRARY_DIR"
)
#: Final for this workflow; the import (next stage) takes `downloaded` further.
FINAL_STATES = frozenset(BOOK_STATES) - frozenset(ACTIVE_STATES)
#: Every transition the workflow makes (the import adds downloaded -> importing -> ...).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "wanted": frozenset({"searching", "in_library", "failed"}),
    "searching": frozenset({"wanted", "grabbed", "failed"}),
    "grabbed": frozenset({"downloading", "grabbed", "searching"}),
    "downloading": frozenset({"downloaded", "grabbed", "searching"}),
}
#: The import stage's transitions (`Workflow(importer=...)`): a failed import goes back
#: to `downloaded` with its reason (retried next pass), or to `failed` when it cannot work.
IMPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    "downloaded": frozenset({"importing"}),
    "importing": frozenset({"in_library", "downloaded", "failed"}),
}
#: Torrent states that mean the download cannot go on (blocklist, try the next release).
BROKEN_TORRENT_STATES = frozenset({"error", "missingFiles"})
#: States in which no progress is expected, so the stall clock is not held against them.
NOT_STALLING_STATES = frozenset(
    {"stoppedDL", "stoppedUP", "checkingDL", "checkingUP", "checkingResumeData", "moving",
     "allocating"}
)  # fmt: skip
#: A failed import is tried again after this long (not on every pass: each try is an event).
IMPORT_RETRY_SECONDS = 300.0
#: How often an imported book that Audiobookshelf has not confirmed is asked about again.
ABS_CONFIRM_RETRY_SECONDS = 300.0
#: Import progress goes to the listeners at most this often (the copy reports per chunk).
PROGRESS_INTERVAL = 0.2

#: (book id, bytes copied, bytes in all) while a book's files are copied into the library.
ProgressListener = Callable[[int, int, int], None]
EARMARK_TAG = "earmark"
MAX_STEPS_PER_PASS = 8


def book_tag(book_id: int) -> str:
    """The tag of a torrent Earmark added for a book (it may delete that one's data)."""
    return f"earmark-book-{book_id}"


def linked_tag(book_id: int) -> str:
    """The tag of a torrent that was already in qBittorrent and is linked to a book."""
    return f"earmark-linked-{book_id}"


def grab_tags(book_id: int) -> tuple[str, str]:
    return (EARMARK_TAG, book_tag(book_id))


class WorkflowError(Exception):
    """An action the user asked for cannot be done; the message says why."""


# ---- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowSettings:
    category: str = "audiobooks"
    save_path: str | None = None
    stall_minutes: float = 60.0
    backoff_minutes: float = 30.0
    backoff_max_minutes: float = 1440.0
    max_search_attempts: int = 10  # 0: never give up
    per_indexer_timeout: float = 20.0
    pass_interval: float = 30.0  # seconds between passes of run_forever
    library_refresh_minutes: float = 60.0
    library_id: str | None = None  # None: every book library

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkflowSettings:
        """Lenient like the ranking policy: a hand-edited bad value falls back to the default."""
        default = cls()

        def number(value: Any, fallback: float, minimum: float = 0.0) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return fallback
            if math.isnan(value) or value < minimum:
                return fallback
            return float(value)

        category = str(settings.grab_category or settings.qbt_default_category or "")
        return cls(
            category=category,
            save_path=settings.qbt_default_save_path or None,
            stall_minutes=number(settings.stall_minutes, default.stall_minutes),
            backoff_minutes=number(settings.search_backoff_minutes, default.backoff_minutes),
            backoff_max_minutes=number(
                settings.search_backoff_max_minutes, default.backoff_max_minutes
            ),
            max_search_attempts=int(
                number(settings.max_search_attempts, default.max_search_attempts)
            ),
            per_indexer_timeout=number(
                settings.per_indexer_timeout, default.per_indexer_timeout, 0.1
            ),
            pass_interval=number(settings.run_interval_seconds, default.pass_interval, 0.05),
            library_refresh_minutes=number(
                settings.library_refresh_minutes, default.library_refresh_minutes
            ),
            library_id=settings.abs_library_id or None,
        )


# ---- pure decisions ---------------------------------------------------------------------


def backoff_seconds(attempts: int, base_minutes: float, max_minutes: float) -> float:
    """The wait after the `attempts`-th search without a result: base, 2x, 4x... capped."""
    if attempts < 1:
        return 0.0
    exponent = min(attempts - 1, 60)  # 2**60 minutes is beyond any cap
    return min(base_minutes * 2.0**exponent, max_minutes) * 60.0


@dataclass(frozen=True)
class RetryPlan:
    attempts: int
    next_search_at: float
    give_up: bool


def plan_retry(
    attempts: int, now: float, settings: WorkflowSettings, *, counts: bool = True
) -> RetryPlan:
    """After a search without an acceptable release: when to search again, or give up.

    A search in which every indexer failed does not count (`counts=False`): the book was
    not looked for, so it waits the first back-off and keeps its attempts.
    """
    if not counts:
        wait = backoff_seconds(1, settings.backoff_minutes, settings.backoff_max_minutes)
        return RetryPlan(attempts, now + wait, give_up=False)
    attempts += 1
    limit = settings.max_search_attempts
    if limit > 0 and attempts >= limit:
        return RetryPlan(attempts, 0.0, give_up=True)
    wait = backoff_seconds(attempts, settings.backoff_minutes, settings.backoff_max_minutes)
    return RetryPlan(attempts, now + wait, give_up=False)


def stall_verdict(
    *,
    state: str,
    progress: float,
    progress_at: float,
    now: float,
    stall_minutes: float,
) -> str | None:
    """Why a download counts as stalled ("stalled 61 minutes at 12%"), or None.

    `progress_at` is when progress last grew (the store's stall clock). A download the
    user stopped, or one being checked or moved, is not stalling.
    """
    if state in NOT_STALLING_STATES or stall_minutes <= 0:
        return None
    idle = now - progress_at
    if idle < stall_minutes * 60.0:
        return None
    return f"stalled {idle / 60.0:.0f} minutes at {progress * 100:.0f}%"


def _fold(value: str | None) -> str:
    return (value or "").strip().lower()


def bare_magnet(info_hash: str, title: str) -> str:
    """A magnet of a bare info-hash (no trackers: it needs DHT to find the metadata)."""
    return f"magnet:?xt=urn:btih:{info_hash}&dn={quote(title, safe='')}"


def is_blocked(release: ReleaseRecord, blocked: Iterable[str]) -> bool:
    keys = {_fold(x) for x in blocked}
    return bool(({_fold(release.guid), _fold(release_hash(release))} - {""}) & keys)


def next_best(releases: Sequence[ReleaseRecord], blocked: Iterable[str]) -> ReleaseRecord | None:
    """The first accepted release, in the given (ranked) order, that is not blocklisted."""
    keys = frozenset(_fold(x) for x in blocked)
    for release in releases:
        if release.rejected is None and not is_blocked(release, keys):
            return release
    return None


def record_from_ranked(book_id: int, ranked: Ranked) -> ReleaseRecord:
    release = ranked.release
    info_hash = release_hash(release)
    guid = release.guid or release.download_url or release.magnet or info_hash or release.title
    return ReleaseRecord(
        book_id=book_id,
        guid=guid,
        title=release.title,
        indexer=release.indexer,
        indexer_id=release.indexer_id,
        size=release.size,
        seeders=release.seeders,
        leechers=release.leechers,
        info_hash=info_hash,
        magnet=release.magnet,
        download_url=release.download_url,
        publish_date=release.publish_date.isoformat() if release.publish_date else None,
        score=round(ranked.score, 2),
        reasons=[(round(r.points, 2), r.text) for r in ranked.reasons],
        rejected=ranked.rejected,
    )


def book_json(book: Book) -> dict[str, Any]:
    """A book as the CLI's `queue` and `want` print it (the contract's keys, no others)."""
    return {
        "id": book.id,
        "title": book.title,
        "author": book.author,
        "state": book.state,
        "hash": book.torrent_hash,
        "library_path": book.library_path,
        "reason": book.reason,
    }


def want_book(
    store: Store,
    title: str,
    author: str,
    *,
    narrator: str = "",
    series: str = "",
    position: str = "",
    isbn: str = "",
    asin: str = "",
    duration: float = 0.0,
) -> tuple[Book, bool]:
    """Put a book on the wanted queue; (book, False) when it is already there (same title
    and author, ignoring case): wanting a book twice must not fetch it twice. An ISBN or
    ASIN lets the owned-book check and the metadata lookup go by identifier; the running
    time (seconds) lets the grab and the import tell an abridged recording. A book already
    queued without a running time gains the one given now."""
    title, author = title.strip(), author.strip()
    if not title or not author:
        raise ValueError("a wanted book needs a title and an author")
    for book in store.books(search=title):
        if (
            book.title.casefold() == title.casefold()
            and book.author.casefold() == author.casefold()
        ):
            if duration > 0 and not book.duration:
                book.duration = float(duration)
                store.update_book(book)
            return book, False
    book = store.add_book(
        Book(
            title=title,
            author=author,
            narrator=narrator.strip(),
            series=series.strip(),
            position=position.strip(),
            isbn=isbn.strip(),
            asin=asin.strip().upper(),
            duration=max(0.0, float(duration)),
        )
    )
    assert book.id is not None
    store.add_event(book.id, "wanted", "added to the wanted queue")
    return book, True


# ---- reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    book_id: int
    title: str
    from_state: str
    to_state: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.book_id,
            "title": self.title,
            "from": self.from_state,
            "to": self.to_state,
            "message": self.message,
        }


@dataclass
class PassReport:
    """What one pass did."""

    books: int = 0
    transitions: list[Transition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    library: str | None = None  # the refresh's summary or error
    duration: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "books": self.books,
            "transitions": [t.to_json() for t in self.transitions],
            "errors": list(self.errors),
            "library": self.library,
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True)
class GrabAlternatives:
    """What the user can do when qBittorrent refuses a book's torrent (besides running
    `earmark doctor`, which they always can)."""

    prowlarr: bool  # the release can be sent through Prowlarr's own download client
    magnet: str | None


class _QbtDown(Exception):
    """qBittorrent failed earlier in this pass: do not ask it again until the next one."""


class _UnusableRelease(Exception):
    """The release cannot be turned into a torrent (dead link, not a torrent)."""


ProwlarrFactory = Callable[[], ProwlarrClient]
Fetch = Callable[[str], Any]
TransitionListener = Callable[[Transition], None]


# ---- the state machine -------------------------------------------------------------------


class Workflow:
    """Advances wanted books through the states; shared by `earmark run` and the window."""

    def __init__(
        self,
        store: Store,
        *,
        qbt: QBittorrentClient,
        indexers: Sequence[Indexer],
        library: LibraryIndex | None,
        policy: RankingPolicy,
        settings: WorkflowSettings,
        clock: Callable[[], float] = time.time,
        prowlarr: ProwlarrFactory | None = None,
        fetch: Fetch = fetch_torrent,
        owns_qbt: bool = False,
        importer: Importer | None = None,
        running_time: RunningTime | None = None,
    ) -> None:
        self.store = store
        #: Asks a catalogue for the running time of a book with an ASIN and none stored
        #: (once per book and session), so the grab's size check has it (None: never).
        self.running_time = running_time
        self._running_time_asked: set[int] = set()
        #: Takes `downloaded` books on to `in_library` (None: the workflow stops there).
        self.importer = importer
        self.qbt = qbt
        self.indexers = list(indexers)
        self.library = library
        self.policy = policy
        self.settings = settings
        self.clock = clock
        self.prowlarr = prowlarr
        self.fetch = fetch
        self.owns_qbt = owns_qbt
        self.listeners: list[TransitionListener] = []
        self.progress_listeners: list[ProgressListener] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._qbt_failure: ClientError | None = None
        self._library_refreshed_at: float | None = None
        self._library_error: str | None = None
        self._moves: list[Transition] = []
        #: When each download was last seen in a state that cannot progress (in memory)
        self._not_stalling_at: dict[str, float] = {}
        #: When an imported book Audiobookshelf has not confirmed is asked about again
        self._abs_retry_at: dict[int, float] = {}

    async def aclose(self) -> None:
        if self.owns_qbt:
            await self.qbt.close()

    # ---- passes ------------------------------------------------------------------------

    def wake(self) -> None:
        """Start the next pass now (a book was wanted, the user pressed "search")."""
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Passes until `stop` is set; a pass in progress is cancelled then (every step
        is crash-safe, so stopping mid-step loses nothing)."""
        while not stop.is_set():
            self._wake.clear()
            pass_task = asyncio.create_task(self.run_once())
            stopper = asyncio.create_task(stop.wait())
            try:
                done, _ = await asyncio.wait(
                    {pass_task, stopper}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stopper.cancel()
            if pass_task not in done:
                pass_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pass_task
                break
            if pass_task.exception() is not None:
                log.error("a workflow pass failed", exc_info=pass_task.exception())
            waker = asyncio.create_task(self._wake.wait())
            stopper = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait(
                    {waker, stopper},
                    timeout=self.settings.pass_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waker.cancel()
                stopper.cancel()

    async def run_once(self) -> PassReport:
        """One pass: refresh the library (when due), mark owned books, then advance every
        active book as far as it goes without waiting (wanted -> searching -> grabbed ->
        downloading in one pass; a download then waits for qBittorrent)."""
        started = time.monotonic()
        report = PassReport()
        self._qbt_failure = None
        if self.library is not None:
            await self._library_pass(report)
        books = await self.store.run(self.store.books)
        for book in books:
            if book.state in FINAL_STATES:
                continue
            report.books += 1
            for _ in range(MAX_STEPS_PER_PASS):
                try:
                    moved = await self.step(book)
                except Exception as exc:  # one book's bug must not stop the others
                    log.exception("workflow step failed for book %s", book.id)
                    report.errors.append(f"{book.title}: {type(exc).__name__}: {exc}")
                    with contextlib.suppress(Exception):
                        await self._note(book, f"unexpected error: {exc}", "error")
                    break
                if moved is None:
                    break
                report.transitions.append(moved)
                if book.state in FINAL_STATES:
                    break
        if self.importer is not None:
            await self._import_pass(books, report)
        else:
            await self._say_no_library_folder(books)
        report.duration = time.monotonic() - started
        return report

    # ---- importing (downloaded -> importing -> in_library) ---------------------------

    async def _import_pass(self, books: Sequence[Book], report: PassReport) -> None:
        """Import every downloaded book (and one left in `importing` by a crash), then
        apply the seeding policy to imported ones. A book whose metadata waits for the
        user is left to them (`finish_review`)."""
        assert self.importer is not None
        for book in books:
            if self._abs_confirmation_due(book):
                try:
                    await self._confirm_in_abs(book)
                except Exception as exc:  # one book's bug must not stop the others
                    log.exception("confirming book %s in Audiobookshelf failed", book.id)
                    report.errors.append(f"{book.title}: {type(exc).__name__}: {exc}")
            if book.state == "in_library":
                if not self.importer.remove_after_seeding:
                    continue  # nothing to do for it: no store reads, no lock
            elif book.state not in ("downloaded", "importing"):
                continue
            if not book.torrent_hash or self._qbt_failure is not None:
                continue
            if (
                book.state == "downloaded"
                and (book.reason or "").startswith("import failed")
                and self.clock() - book.state_since < IMPORT_RETRY_SECONDS
            ):
                continue  # failed a moment ago: retried after IMPORT_RETRY_SECONDS
            try:
                async with self._lock:
                    # the user may have finished a review (or grabbed another release)
                    # while this pass waited for the lock: act on the book as it is now
                    current = await self.store.run(self.store.book, book.id) if book.id else None
                    seen = (book.state, book.torrent_hash)
                    if current is None or (current.state, current.torrent_hash) != seen:
                        continue
                    # only an import in progress has a review (leaving `importing` drops it)
                    if current.state == "importing" and current.id in (
                        await self.store.run(self.store.reviewed_books)
                    ):
                        continue
                    book = current
                    self._moves.clear()
                    if book.state == "in_library":
                        await self._seeding_done(book)
                    else:
                        await self._import(book)
                    report.transitions.extend(self._moves)
            except Exception as exc:  # one book's bug must not stop the others
                log.exception("import failed for book %s", book.id)
                report.errors.append(f"{book.title}: {type(exc).__name__}: {exc}")

    def _abs_confirmation_due(self, book: Book) -> bool:
        """An imported book (it has scores) that Audiobookshelf has not confirmed yet,
        asked again at most every `ABS_CONFIRM_RETRY_SECONDS`."""
        if (
            self.importer is None
            or self.importer.abs_factory is None
            or book.state != "in_library"
            or book.abs_item_id
            or book.score_after is None
            or not book.library_path
            or book.id is None
        ):
            return False
        return self.clock() >= self._abs_retry_at.get(book.id, 0.0)

    async def _confirm_in_abs(self, book: Book) -> None:
        """The Audiobookshelf step of an import, on its own: the import itself is done, so
        a failure here changes no state, it only keeps the reason up to date."""
        assert self.importer is not None and book.id is not None
        self._abs_retry_at[book.id] = self.clock() + ABS_CONFIRM_RETRY_SECONDS
        outcome = await self.importer.confirm(book, self.store)
        async with self._lock:
            current = await self.store.run(self.store.book, book.id)
            if current is None or current.state != "in_library" or current.abs_item_id:
                return
            if outcome.item is not None:
                current.abs_item_id = outcome.item.item_id
                current.reason = None
                await self.store.run(self.store.update_book, current)
                await self.store.run(
                    self.store.add_event,
                    book.id,
                    "audiobookshelf",
                    f"in Audiobookshelf as item {outcome.item.item_id}",
                )
                book.abs_item_id, book.reason = current.abs_item_id, None
            elif outcome.error:
                reason = f"not confirmed in Audiobookshelf yet: {outcome.error}"
                if reason != current.reason:
                    current.reason = reason
                    await self.store.run(self.store.update_book, current)

    async def import_book(self, book: Book) -> ImportReport | None:
        """Import one book in `downloaded` (or `importing`) now, as a pass would: the
        import's report, or None when it failed (the book's state and reason say why)."""
        async with self._lock:
            self._moves.clear()
            return await self._import(book)

    async def finish_review(self, book_id: int, metadata: BookMetadata | None) -> Transition | None:
        """Import a book whose metadata waited for the user: with what they chose (edited
        or not), or with what was known before the match when ``metadata`` is None."""
        from gui.core.metadata import metadata_from_json

        async with self._lock:
            book = await self.store.run(self.store.book, book_id)
            review = await self.store.run(self.store.review, book_id)
            if (
                book is None
                or review is None
                or book.state != "importing"
                or book.torrent_hash != review.torrent_hash
            ):
                raise WorkflowError("this book has no metadata waiting for a review")
            if metadata is None:
                try:
                    metadata = metadata_from_json(review.before, review.before_cover)
                except (ValueError, TypeError) as exc:
                    raise WorkflowError(f"the stored metadata cannot be read: {exc}") from exc
            self._moves.clear()
            await self._import(book, metadata)  # leaving `importing` drops the review
            return self._moves[-1] if self._moves else None

    def _progress(self, book_id: int) -> Callable[[int, int], None]:
        """A progress callback for the copy thread that reaches the listeners on the
        loop, at most every `PROGRESS_INTERVAL` (and always at the end)."""
        loop = asyncio.get_running_loop()
        last = [0.0]

        def tell(done: int, total: int) -> None:
            for listener in list(self.progress_listeners):
                try:
                    listener(book_id, done, total)
                except Exception:
                    log.exception("a progress listener failed")

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < PROGRESS_INTERVAL:
                return
            last[0] = now
            with contextlib.suppress(RuntimeError):  # the loop closed at quit: the copy goes on
                loop.call_soon_threadsafe(tell, done, total)

        return progress

    async def _import(
        self, book: Book, metadata: BookMetadata | None = None
    ) -> ImportReport | None:
        """Import the book and move it on; the report, or None when the import failed."""
        from gui.services.importing import IMPORT_ERRORS, REVIEW, is_permanent

        assert self.importer is not None and book.torrent_hash and book.id is not None
        if book.state == "downloaded":
            await self._move(book, "importing", event=f"importing {book.torrent_hash}")
        try:
            imported = await self.importer.run(
                book,
                book.torrent_hash,
                qbt=self.qbt,
                store=self.store,
                progress=self._progress(book.id),
                metadata=metadata,
            )
        except IMPORT_ERRORS as exc:
            if isinstance(exc, ClientError):
                self._qbt_failure = exc
            permanent = is_permanent(exc, allow_upgrades=self.importer.options.allow_upgrades)
            reason = f"import failed: {exc}"
            if permanent:
                await self._move(book, "failed", event=reason, reason=reason)
            else:
                await self._move(
                    book, "downloaded", event=f"{reason}; retried next pass", reason=reason
                )
            return None
        if imported.status == REVIEW:
            await self._note(book, imported.notes[-1], "review")
            self._announce(
                Transition(book.id, book.title, book.state, book.state, book.reason or "")
            )
            return imported
        book.library_path = imported.library_path
        book.abs_item_id = imported.abs_item_id
        book.score_before, book.score_after = imported.score_before, imported.score_after
        where = (
            f"; Audiobookshelf item {imported.abs_item_id}"
            if imported.abs_item_id
            else "; not confirmed in Audiobookshelf"
            if self.importer.abs_factory is not None
            else ""
        )
        event = (
            f"imported into {imported.library_path} ({counted(len(imported.files), 'file')}); "
            f"metadata {imported.score_change}{where}"
        )
        notes = [n for n in imported.notes if "Audiobookshelf" in n]
        if not imported.abs_item_id:  # asked again on a later pass, not at once
            self._abs_retry_at[book.id] = self.clock() + ABS_CONFIRM_RETRY_SECONDS
        await self._move(book, "in_library", event=event, reason="; ".join(notes) or None)
        return imported

    async def _seeding_done(self, book: Book) -> None:
        assert self.importer is not None and book.torrent_hash and book.id is not None
        try:
            done = await self.importer.seeding_policy(book.torrent_hash, qbt=self.qbt)
        except ClientError as exc:
            self._qbt_failure = exc
            return
        if done is not None:
            await self.store.run(self.store.add_event, book.id, "seeding", done)

    async def _library_pass(self, report: PassReport) -> None:
        assert self.library is not None
        now = self.clock()
        due = (
            self._library_refreshed_at is None
            or now - self._library_refreshed_at >= self.settings.library_refresh_minutes * 60
        )
        if due:
            try:
                refreshed = await self.library.refresh(self.settings.library_id)
            except Exception as exc:
                message = f"the Audiobookshelf library was not refreshed: {exc}"
                report.library = message
                log.warning("%s", message)
                if message != self._library_error:
                    self._library_error = message
                    await self.store.run(self.store.add_event, None, "library", message)
            else:
                self._library_refreshed_at = now
                self._library_error = None
                report.library = refreshed.summary()
        for book in await self.library.mark_owned(self.store):
            assert book.id is not None
            where = f" ({book.library_path})" if book.library_path else ""
            message = f"already in your Audiobookshelf library{where}"
            move = Transition(book.id, book.title, "wanted", "in_library", message)
            report.transitions.append(move)
            self._announce(move)

    # ---- one step ----------------------------------------------------------------------

    async def step(self, book: Book) -> Transition | None:
        """Advance one book by at most one transition (persisted); returns it, or None.

        The book is re-read from the store first, and the caller's object is updated.
        """
        async with self._lock:
            if book.id is None:
                raise ValueError("the book is not in the store")
            current = await self.store.run(self.store.book, book.id)
            if current is None:
                return None  # removed meanwhile
            self._moves.clear()
            handler = {
                "wanted": self._wanted,
                "searching": self._searching,
                "grabbed": self._grabbed,
                "downloading": self._downloading,
            }.get(current.state)
            try:
                if handler is not None:
                    await handler(current)
            finally:
                for name in Book.__dataclass_fields__:
                    setattr(book, name, getattr(current, name))
            return self._moves[-1] if self._moves else None

    async def _move(self, book: Book, state: str, *, event: str, reason: str | None = None) -> None:
        assert book.id is not None
        before = book.state
        await self.store.run(self.store.set_state, book, state, reason=reason, event=event)
        move = Transition(book.id, book.title, before, state, event)
        self._moves.append(move)
        log.info("book %s %r: %s -> %s: %s", book.id, book.title, before, state, event)
        self._announce(move)

    def _announce(self, move: Transition) -> None:
        for listener in list(self.listeners):
            try:
                listener(move)
            except Exception:
                log.exception("a workflow listener failed")

    async def _say_no_library_folder(self, books: Sequence[Book]) -> None:
        """A finished book cannot be imported without a library folder: say so on the
        book (it waited in "downloaded" without a hint)."""
        for book in books:
            if book.state == "downloaded" and not book.reason:
                await self._note(book, NO_LIBRARY_FOLDER, "import")

    async def _note(self, book: Book, reason: str | None, kind: str) -> None:
        """Set the book's reason without a transition; an event only when it changes."""
        if book.reason == reason:
            return
        book.reason = reason
        await self.store.run(self.store.update_book, book)
        if reason is not None:
            assert book.id is not None
            await self.store.run(self.store.add_event, book.id, kind, reason)

    # ---- wanted ------------------------------------------------------------------------

    async def _wanted(self, book: Book) -> None:
        if self.library is not None:
            owned = self.library.find_owned(wanted_from_book(book))
            if owned is not None:
                book.library_path = owned.path or None
                await self._move(
                    book,
                    "in_library",
                    event=f"already in your Audiobookshelf library: {owned.title}",
                )
                return
        if book.next_search_at > self.clock():
            return
        if not self.indexers:
            await self._note(
                book,
                "no indexer is configured: set Prowlarr or a Torznab feed in the settings "
                "(or EARMARK_PROWLARR_URL / EARMARK_TORZNAB_URL)",
                "config",
            )
            return
        names = ", ".join(ix.name for ix in self.indexers)
        await self._move(book, "searching", event=f"searching {names}")

    # ---- searching ---------------------------------------------------------------------

    async def _searching(self, book: Book) -> None:
        assert book.id is not None
        if not self.indexers:
            await self._move(
                book, "wanted", event="no indexer is configured", reason="no indexer is configured"
            )
            return
        await self._fill_running_time(book)
        wanted = wanted_from_book(book)
        blocked = await self.store.run(self.store.blocked)
        policy = dataclasses.replace(self.policy, blocklist=self.policy.blocklist | blocked)
        outcome = await search_all(
            wanted, self.indexers, per_indexer_timeout=self.settings.per_indexer_timeout
        )
        for failure in outcome.failures:
            await self.store.run(
                self.store.add_event,
                book.id,
                "indexer_failed",
                f"{failure.indexer}: {failure.reason}",
            )
        ranked = await rank_off_loop(wanted, outcome.releases, policy)
        records = [record_from_ranked(book.id, r) for r in ranked]
        saved = await self.store.run(self.store.save_releases, records) if records else []
        choice = next_best(saved, blocked)
        if choice is None:
            await self._no_release(book, outcome, saved)
            return
        book.search_attempts = 0
        book.next_search_at = 0.0
        await self._choose(
            book,
            choice,
            f"chose '{choice.title}' from {choice.indexer or 'an indexer'} "
            f"(score {choice.score:.0f}, release #{choice.id}; "
            f"{counted(len(saved), 'result')}, "
            f"{counted(len(outcome.failures), 'indexer failure')})",
        )

    async def _fill_running_time(self, book: Book) -> None:
        """The wanted edition's running time from the catalogue, when it has an ASIN and
        none is stored; a catalogue that fails is noted and the search goes on without."""
        assert book.id is not None
        if (
            self.running_time is None
            or book.duration > 0
            or not book.asin
            or book.id in self._running_time_asked
        ):
            return
        self._running_time_asked.add(book.id)
        try:
            seconds = await self.running_time(book)
        except ClientError as exc:
            await self.store.run(
                self.store.add_event, book.id, "metadata", f"no running time from Audible: {exc}"
            )
            return
        if seconds and seconds > 0:
            book.duration = float(seconds)
            await self.store.run(self.store.update_book, book)
            await self.store.run(
                self.store.add_event,
                book.id,
                "metadata",
                f"running time {seconds / 3600:.1f} h (Audible {book.asin})",
            )

    def _all_failed(self, outcome: SearchOutcome) -> bool:
        if outcome.releases or not outcome.failures:
            return False
        failed = {f.indexer for f in outcome.failures}
        groups = {ix.name for ix in self.indexers if isinstance(ix, IndexerGroup)}
        return all(name in failed or name in groups for name in outcome.timings)

    async def _no_release(
        self, book: Book, outcome: SearchOutcome, saved: Sequence[ReleaseRecord]
    ) -> None:
        all_failed = self._all_failed(outcome)
        plan = plan_retry(book.search_attempts, self.clock(), self.settings, counts=not all_failed)
        if all_failed:
            why = (
                "every indexer failed ("
                + "; ".join(f"{f.indexer}: {f.reason}" for f in outcome.failures)
                + ")"
            )
        elif not saved:
            why = "no results"
        else:
            best = saved[0]
            why = (
                f"{counted(len(saved), 'result')}, none acceptable "
                f"(best: '{best.title}': {best.rejected})"
            )
        book.search_attempts = plan.attempts
        if plan.give_up:
            book.next_search_at = 0.0
            await self._move(
                book,
                "failed",
                event=f"{why}; giving up",
                reason=f"no release found after {plan.attempts} searches ({why})",
            )
            return
        book.next_search_at = plan.next_search_at
        wait = max(plan.next_search_at - self.clock(), 0.0)
        await self._move(
            book,
            "wanted",
            event=f"{why}; next search in {_duration(wait)}",
            reason=f"{why}; searching again in {_duration(wait)}",
        )

    async def _choose(self, book: Book, choice: ReleaseRecord, event: str) -> None:
        """Go to `grabbed` with `choice`, its info-hash (when known) persisted first."""
        assert book.id is not None
        info_hash = release_hash(choice)
        if info_hash is not None:
            await self.store.run(
                self.store.record_download, DownloadRecord(book.id, info_hash, choice.id)
            )
        book.torrent_hash = info_hash
        await self._move(book, "grabbed", event=event)

    # ---- grabbed -----------------------------------------------------------------------

    async def _chosen_release(self, book: Book) -> ReleaseRecord | None:
        """The release a book in `grabbed`/`downloading` is about, from the store."""
        assert book.id is not None
        if book.torrent_hash:
            download = await self.store.run(self.store.download_for, book.id, book.torrent_hash)
            if download is not None and download.release_id is not None:
                found = await self.store.run(self.store.release, download.release_id)
                if found is not None:
                    return found
        releases = await self.store.run(self.store.releases, book.id)
        if book.torrent_hash:
            for release in releases:
                if release_hash(release) == book.torrent_hash:
                    return release
        blocked = await self.store.run(self.store.blocked)
        return next_best(releases, blocked)

    async def _grabbed(self, book: Book) -> None:
        assert book.id is not None
        release = await self._chosen_release(book)
        if release is None and not book.torrent_hash:
            book.torrent_hash = None
            await self._move(book, "searching", event="no usable release left; searching again")
            return
        try:
            if self._qbt_failure is not None:
                raise _QbtDown
            existing = await self.qbt.torrent(book.torrent_hash) if book.torrent_hash else None
            if existing is None:
                if release is None:  # a hash without a release: nothing to add it from
                    book.torrent_hash = None
                    await self._move(
                        book, "searching", event="the chosen release is gone; searching again"
                    )
                    return
                try:
                    source = await self._resolve(book, release)
                except _UnusableRelease as exc:
                    await self._replace(book, release, str(exc), remove=False)
                    return
                if source is None:
                    return  # a transient failure, noted on the book
                result = await self.qbt.add(source, self._add_options(book.id))
                existing = await self.qbt.torrent(result.hash) if result.already_present else None
                name = result.name or source.info_hash
                if not result.already_present:
                    how = (
                        f"added to qBittorrent: {name} (category "
                        f"{self.settings.category or 'none'}, tag {book_tag(book.id)})"
                    )
                else:
                    how = await self._link(book, existing, name)
            else:
                how = await self._link(book, existing, str(existing.get("name") or ""))
        except _QbtDown:
            assert self._qbt_failure is not None
            await self._note(book, await self._refusal(book, release, self._qbt_failure), "grab")
            return
        except ClientError as exc:
            if _release_refused(exc) and release is not None:
                await self._replace(book, release, f"qBittorrent refused it: {exc}", remove=False)
                return
            self._qbt_failure = exc
            log.warning("qBittorrent refused book %s: %s", book.id, exc)
            await self._note(book, await self._refusal(book, release, exc), "grab_refused")
            return
        assert book.torrent_hash is not None
        await self.store.run(
            self.store.record_download,
            DownloadRecord(book.id, book.torrent_hash, release.id if release else None),
        )
        await self._move(book, "downloading", event=how)

    async def _link(self, book: Book, torrent: dict[str, Any] | None, name: str) -> str:
        """Describe (and tag) a torrent qBittorrent already had for this book's hash."""
        assert book.id is not None and book.torrent_hash is not None
        tags = _tags(torrent)
        if book_tag(book.id) in tags:
            return f"already in qBittorrent, added by Earmark earlier: {name}"
        if linked_tag(book.id) not in tags:
            try:
                await self.qbt.add_tags([book.torrent_hash], [EARMARK_TAG, linked_tag(book.id)])
            except ClientError as exc:
                log.warning("could not tag %s: %s", book.torrent_hash, exc)
        return f"already in qBittorrent, linked (not added twice): {name}"

    def _add_options(self, book_id: int) -> AddOptions:
        return AddOptions(
            category=self.settings.category or None,
            tags=grab_tags(book_id),
            save_path=self.settings.save_path,
        )

    async def _resolve(self, book: Book, release: ReleaseRecord) -> Magnet | TorrentFile | None:
        """The release as something qBittorrent takes; its hash persisted before returning.

        Order: the indexer's magnet; else the download link (a .torrent, or a redirect to
        a magnet); else a magnet built from a bare info-hash (last, because without DHT or
        trackers a bare hash finds no metadata). A dead or non-torrent link raises
        `_UnusableRelease`; an indexer that is down notes it on the book and returns None.
        """
        assert book.id is not None
        source: Magnet | TorrentFile | None = None
        if release.magnet:
            with contextlib.suppress(TorrentInputError):
                source = parse_magnet(release.magnet)
        if source is None and release.download_url:
            try:
                source = await self.fetch(release.download_url)
            except TorrentInputError as exc:
                raise _UnusableRelease(f"its download link did not give a torrent: {exc}") from exc
            except ClientError as exc:
                if _link_is_dead(exc):
                    raise _UnusableRelease(f"its download link failed: {exc}") from exc
                await self._note(
                    book,
                    f"could not download the torrent ({exc}); tried again on the next pass",
                    "grab",
                )
                return None
        if isinstance(source, TorrentFile):
            # The file list, known before anything is downloaded (gui.core.recording).
            bitrate = parse_release_title(release.title).bitrate_kbps
            check = check_contents(source.files, wanted_from_book(book).duration, bitrate)
            if check.rejected:
                raise _UnusableRelease(f"its files are not the wanted audiobook: {check.rejected}")
        if source is None and release.info_hash:
            source = parse_magnet(bare_magnet(release.info_hash, release.title))
        if source is None:
            raise _UnusableRelease("it has neither a magnet link nor a download link")
        info_hash = source.info_hash.lower()
        magnet = source.uri if isinstance(source, Magnet) else source.magnet_uri()
        if release.info_hash != info_hash or not release.magnet:
            release.info_hash = info_hash
            release.magnet = release.magnet or magnet
            await self.store.run(self.store.save_releases, [release])
        if book.torrent_hash != info_hash:
            book.torrent_hash = info_hash
            await self.store.run(self.store.update_book, book)
        await self.store.run(
            self.store.record_download, DownloadRecord(book.id, info_hash, release.id)
        )
        return source

    async def _refusal(self, book: Book, release: ReleaseRecord | None, exc: ClientError) -> str:
        """The book's reason when qBittorrent cannot take the torrent, with what to do."""
        alternatives = await self.grab_alternatives(book, release)
        options = ["run `earmark doctor` to see why"]
        if alternatives.prowlarr:
            options.append(
                "send the release through Prowlarr's own download client (Prowlarr keeps it "
                f"for {GRAB_CACHE_MINUTES} minutes after the search)"
            )
        if alternatives.magnet:
            options.append(f"copy the magnet link into your client: {alternatives.magnet}")
        if isinstance(exc, AuthError):
            retry = (
                "Earmark will not log in again by itself (qBittorrent bans an address after "
                "repeated failed logins): fix it, then restart Earmark"
            )
        else:
            retry = "Earmark tries again on its next pass"
        return (
            f"qBittorrent could not take the torrent: {exc}. You can: "
            + "; ".join(options)
            + f". {retry}."
        )

    async def grab_alternatives(
        self, book: Book, release: ReleaseRecord | None = None
    ) -> GrabAlternatives:
        """What the user can do instead of Earmark adding the torrent itself."""
        release = release or await self._chosen_release(book)
        magnet = None
        prowlarr = False
        if release is not None:
            magnet = release.magnet
            if magnet is None and release.info_hash:
                magnet = bare_magnet(release.info_hash, release.title)
            prowlarr = (
                self.prowlarr is not None and release.indexer_id is not None and bool(release.guid)
            )
        return GrabAlternatives(prowlarr=prowlarr, magnet=magnet)

    async def send_via_prowlarr(self, book: Book) -> None:
        """Send the book's chosen release through Prowlarr's own download client.

        The book stays `grabbed`: when the torrent shows up in qBittorrent (the hash is
        known), the next pass links it. Raises WorkflowError / the client's errors.
        """
        if book.id is None:
            raise ValueError("the book is not in the store")
        if self.prowlarr is None:
            raise WorkflowError("Prowlarr is not configured")
        release = await self._chosen_release(book)
        if release is None or release.indexer_id is None or not release.guid:
            raise WorkflowError("this book's release did not come from a Prowlarr search")
        async with self.prowlarr() as client:
            await client.grab(release.guid, release.indexer_id)
        message = f"sent '{release.title}' through Prowlarr's download client"
        await self.store.run(self.store.add_event, book.id, "sent_via_prowlarr", message)
        current = await self.store.run(self.store.book, book.id)
        if current is not None:
            await self._note(
                current,
                f"{message}; Earmark links it when it appears in qBittorrent",
                "sent_via_prowlarr",
            )
            for name in Book.__dataclass_fields__:
                setattr(book, name, getattr(current, name))

    # ---- downloading -------------------------------------------------------------------

    async def _downloading(self, book: Book) -> None:
        assert book.id is not None
        info_hash = book.torrent_hash
        if not info_hash:
            await self._move(book, "searching", event="no torrent is known; searching again")
            return
        if self._qbt_failure is not None:
            await self._note(book, _unreachable(self._qbt_failure), "qbittorrent")
            return
        try:
            torrent = await self.qbt.torrent(info_hash)
        except ClientError as exc:
            self._qbt_failure = exc
            await self._note(book, _unreachable(exc), "qbittorrent")
            return
        download = await self.store.run(self.store.download_for, book.id, info_hash)
        if download is None:
            download = await self.store.run(
                self.store.record_download, DownloadRecord(book.id, info_hash)
            )
        assert download.id is not None
        release = (
            await self.store.run(self.store.release, download.release_id)
            if download.release_id is not None
            else None
        )
        if torrent is None:
            await self._replace(book, release, "removed from qBittorrent", remove=False)
            return
        state = str(torrent.get("state", ""))
        progress = float(torrent.get("progress", 0) or 0)
        if state in BROKEN_TORRENT_STATES:
            words = STATE_WORDS.get(state, state)
            await self._replace(
                book, release, f"qBittorrent reports '{words}'", remove=True, torrent=torrent
            )
            return
        if is_complete(torrent):
            await self.store.run(self.store.note_progress, download.id, progress, finished=True)
            where = torrent.get("content_path") or torrent.get("save_path") or "?"
            await self._move(
                book,
                "downloaded",
                event=f"download complete: {torrent.get('name', info_hash)} in {where}",
            )
            return
        await self.store.run(self.store.note_progress, download.id, progress)
        if book.reason is not None:
            await self._note(book, None, "qbittorrent")
        now = self.clock()
        if state in NOT_STALLING_STATES:
            # stopped by the user, or being checked/moved: the stall clock starts after it
            self._not_stalling_at[info_hash] = now
        grew = progress > download.progress
        verdict = (
            None
            if grew
            else stall_verdict(
                state=state,
                progress=progress,
                progress_at=max(download.progress_at, self._not_stalling_at.get(info_hash, 0.0)),
                now=now,
                stall_minutes=self.settings.stall_minutes,
            )
        )
        if verdict is not None:
            await self._replace(book, release, verdict, remove=True, torrent=torrent)

    # ---- giving up on a release ------------------------------------------------------

    async def _replace(
        self,
        book: Book,
        release: ReleaseRecord | None,
        why: str,
        *,
        remove: bool,
        torrent: dict[str, Any] | None = None,
    ) -> None:
        """Blocklist the book's release, remove Earmark's own torrent of it (with its
        partial data) when asked, and go on with the next best saved release, or search."""
        assert book.id is not None
        info_hash = book.torrent_hash or (release_hash(release) if release else None)
        blocked = await self.store.run(self.store.blocked)
        keys = {_fold(info_hash), _fold(release.guid if release else None)} - {""}
        if not keys <= {_fold(x) for x in blocked}:
            await self.store.run(
                lambda: self.store.block(
                    info_hash=info_hash,
                    guid=release.guid if release else None,
                    title=release.title if release else (book.title),
                    reason=why,
                )
            )
        if remove and info_hash and book_tag(book.id) in _tags(torrent):
            try:
                await self.qbt.delete([info_hash], delete_files=True)
            except ClientError as exc:
                log.warning("could not remove %s from qBittorrent: %s", info_hash, exc)
        blocked = await self.store.run(self.store.blocked)
        releases = await self.store.run(self.store.releases, book.id)
        choice = next_best(releases, blocked)
        title = release.title if release else (info_hash or "the release")
        if choice is None:
            book.torrent_hash = None
            await self._move(
                book, "searching", event=f"'{title}' {why}: blocklisted; searching again"
            )
            return
        await self._choose(
            book,
            choice,
            f"'{title}' {why}: blocklisted; trying the next best release '{choice.title}' "
            f"(score {choice.score:.0f}, release #{choice.id})",
        )


# ---- helpers ----------------------------------------------------------------------------


def _tags(torrent: dict[str, Any] | None) -> set[str]:
    if not torrent:
        return set()
    return {t.strip() for t in str(torrent.get("tags", "")).split(",") if t.strip()}


def _release_refused(exc: ClientError) -> bool:
    """qBittorrent refused this torrent (not the connection): try another release."""
    return isinstance(exc, HttpStatusError) and exc.status in (200, 400, 415)


def _link_is_dead(exc: ClientError) -> bool:
    """A download link that will not work if tried again (gone, not a torrent, a loop),
    as opposed to an indexer that is down for now (unreachable, 5xx, rate-limited)."""
    if isinstance(exc, HttpStatusError):
        return exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
    return isinstance(exc, ProtocolError)


def _unreachable(exc: ClientError) -> str:
    if isinstance(exc, AuthError):
        return (
            f"qBittorrent refused Earmark: {exc}. Run `earmark doctor`; Earmark will not log "
            "in again by itself."
        )
    if isinstance(exc, UnreachableError | TlsError):
        return f"cannot reach qBittorrent to follow the download: {exc}; checked again later"
    return f"qBittorrent did not answer as expected: {exc}; checked again later"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


#: What asks a catalogue for a wanted book's running time (`Workflow(running_time=...)`).
RunningTime = Callable[[Book], Awaitable[float | None]]


async def audible_running_time(book: Book) -> float | None:
    """The running time Audnexus gives for the book's ASIN (`EARMARK_AUDIBLE_URL` when
    set, as for following); asked only when the user lets Earmark ask metadata providers."""
    from gui.services.following import catalog_from_env

    async with catalog_from_env() as audible:
        running_time: float | None = await audible.running_time(book.asin)
        return running_time


def workflow_from_settings(
    store: Store,
    settings: Settings,
    secrets: SecretStore,
    *,
    clock: Callable[[], float] = time.time,
) -> Workflow:
    """The workflow as configured (qBittorrent, indexers, Audiobookshelf, Prowlarr).

    The workflow owns the qBittorrent client it creates here: `await workflow.aclose()`.
    """
    from gui.services.importing import Importer
    from gui.services.search import indexers_from_settings
    from gui.settings import qbt_config

    if not settings.qbt_url.strip():
        raise WorkflowError(
            "qBittorrent is not configured: set its address in the settings or EARMARK_QBT_URL"
        )
    qbt = QBittorrentClient(qbt_config(settings, secrets))
    abs_client = abs_factory(settings, secrets)
    library = LibraryIndex(store, abs_client) if abs_client is not None else None
    importer = (
        Importer.from_settings(settings, abs_client) if settings.library_dir.strip() else None
    )
    indexers = indexers_from_settings(settings, secrets)
    prowlarr: ProwlarrFactory | None = next(
        (ix.client for ix in indexers if isinstance(ix, ProwlarrSource)), None
    )
    return Workflow(
        store,
        qbt=qbt,
        indexers=indexers,
        library=library,
        policy=RankingPolicy.from_dict(settings.ranking_policy),
        settings=WorkflowSettings.from_settings(settings),
        clock=clock,
        prowlarr=prowlarr,
        owns_qbt=True,
        importer=importer,
        running_time=audible_running_time if settings.enhance_metadata else None,
    )
