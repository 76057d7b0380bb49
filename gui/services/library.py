"""What the user already owns: a local index of the Audiobookshelf library (no Qt).

Earmark must never download a book the user has, so every wanted book is checked
against the library before a search. Asking ABS per book would cost a request per wanted
book per pass and fail whenever ABS is down; instead `LibraryIndex.refresh` copies every
item of the book libraries into the store (`owned` table), and `find_owned` answers from
memory, from an index built once per refresh:

* identifiers first: a shared ASIN, ISBN or (for the wanted book) an identifier of
  another edition of the same work settles it; two different non-empty ASINs are two
  editions (or two books) and never "owned" (`gui.core.matching.judge`);
* then text, through `gui.core.matching`: normalised title (case, punctuation, leading
  articles, "Book 1" / "Vol. 1" / "#1"), subtitle, authors and series position; near
  the threshold the text alone never decides: such a pair is "unsure", not owned.

Only candidates are scored, and the candidate rules lose nothing (a test compares them
with scoring everything): when both sides name authors a match needs an author credit
`name_similarity` scores above 0 (same surname, or the same words reordered), else the
score stays below 0.85; and every match needs a title word, or a near word ("colour" /
"color"), in common, else title similarity stays at or below 0.5. Owned items without
authors are reached through the title words alone. So 1,000 wanted books against 10,000
owned ones score a few dozen pairs each instead of 10,000 (about 0.3 s in all).

A refresh replaces a library's rows only after every page has been read, so a failure
halfway (ABS restarting, a network drop) leaves the previous index intact. When to
refresh (at start-up, on a timer, after an import's scan) is the caller's decision: this
class has no schedule of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gui.clients.audiobookshelf import AbsBook, AbsClient, AbsLibrary, book_from_item
from gui.core.matching import (
    UNSURE_MARGIN,
    BookKey,
    PreparedBook,
    Verdict,
    judge,
    prepare,
)
from gui.core.metadata import BookMetadata, Score, completeness
from gui.core.ranking import Wanted
from gui.store import Book, OwnedBook, Store

if TYPE_CHECKING:
    from gui.settings import SecretStore, Settings

__all__ = [
    "MATCH_THRESHOLD",
    "ClientFactory",
    "LibraryCount",
    "LibraryIndex",
    "OwnedIndex",
    "RefreshReport",
    "owned_from_abs",
    "wanted_from_book",
]

#: Same threshold as `gui.core.matching.is_same_book`.
MATCH_THRESHOLD = 0.85
AUTHOR_SEPARATOR = "; "
#: `gui.core.matching._near`: words of 4+ letters with the same first 3 are near.
NEAR_MIN = 4
NEAR_PREFIX = 3
#: Without a shared or near title word, title similarity is at most 0.5 (bigrams only),
#: so a score can reach 0.75 * 0.5 + 0.25 = 0.625; the buckets are exact above that.
#: (`judge` may say "same" from `UNSURE_MARGIN` below the threshold, on agreeing times.)
LOWEST_THRESHOLD = 0.625

ClientFactory = Callable[[], AbsClient]


@dataclass(frozen=True)
class LibraryCount:
    """One library's part of a refresh."""

    library_id: str
    name: str
    items: int
    missing: int = 0  # items ABS lists but whose files it cannot find (still indexed)
    unreadable: int = 0  # entries that were not library items (skipped)


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh stored, for the status bar and the log."""

    libraries: tuple[LibraryCount, ...]
    duration: float  # seconds
    #: Non-book libraries left out (podcasts).
    skipped: tuple[str, ...] = ()
    #: Libraries indexed before that ABS no longer lists (deleted, or access withdrawn).
    dropped: tuple[str, ...] = ()

    @property
    def items(self) -> int:
        return sum(count.items for count in self.libraries)

    def summary(self) -> str:
        names = ", ".join(f"{c.name} ({c.items})" for c in self.libraries) or "no book library"
        return f"indexed {self.items} Audiobookshelf items in {self.duration:.1f} s: {names}"


def owned_from_abs(book: AbsBook, library_id: str) -> OwnedBook:
    """The store's row for a normalised ABS item."""
    return OwnedBook(
        abs_item_id=book.item_id,
        library_id=library_id,
        title=book.title,
        subtitle=book.subtitle,
        authors=AUTHOR_SEPARATOR.join(book.authors),
        narrators=AUTHOR_SEPARATOR.join(book.narrators),
        series=book.series,
        sequence=book.sequence,
        asin=book.asin,
        isbn=book.isbn,
        path=book.path,
        year=book.year,
        publisher=book.publisher,
        description=book.description,
        genres=AUTHOR_SEPARATOR.join(book.genres),
        language=book.language,
        has_cover=book.has_cover,
        duration=book.duration,
    )


def _split(joined: str) -> tuple[str, ...]:
    return tuple(name for name in (n.strip() for n in joined.split(AUTHOR_SEPARATOR)) if name)


def metadata_from_owned(owned: OwnedBook) -> BookMetadata:
    """What Audiobookshelf shows for an owned book, in the form completeness is scored on
    (the cover stays on the server: `owned_score` counts it from ``has_cover``)."""
    year = int(owned.year) if owned.year.isdigit() else None
    return BookMetadata(
        title=owned.title,
        subtitle=owned.subtitle,
        authors=_split(owned.authors),
        narrators=_split(owned.narrators),
        series=owned.series,
        position=owned.sequence,
        year=year,
        publisher=owned.publisher,
        description=owned.description,
        genres=_split(owned.genres),
        isbn=owned.isbn,
        asin=owned.asin,
        language=owned.language,
        duration=owned.duration or None,
    ).cleaned()


def owned_score(owned: OwnedBook) -> Score:
    return completeness(metadata_from_owned(owned), cover=owned.has_cover)


def abs_factory(settings: Settings, secrets: SecretStore) -> Callable[[], AbsClient] | None:
    """How to open the configured Audiobookshelf, or None when it is not configured
    (an address and a key are both needed)."""
    from gui.settings import Secret

    url = settings.abs_url.strip()
    token = (secrets.get(Secret.ABS_TOKEN) or "").strip()
    if not url or not token:
        return None

    def open_client() -> AbsClient:
        return AbsClient(url, token)

    return open_client


def wanted_from_book(book: Book) -> Wanted:
    return Wanted(
        title=book.title,
        author=book.author,
        narrator=book.narrator,
        series=book.series,
        position=book.position,
        asin=book.asin,
        isbn=book.isbn,
        language=book.language,
        preferred_format=book.preferred_format,
        duration=book.duration,
    )


def _owned_key(owned: OwnedBook) -> BookKey:
    """ABS keeps the subtitle apart; "Title: Subtitle" lets matching try both parts."""
    title = f"{owned.title}: {owned.subtitle}" if owned.subtitle else owned.title
    authors = tuple(a.strip() for a in owned.authors.split(";") if a.strip())
    return BookKey(
        title=title,
        authors=authors,
        asin=owned.asin,
        isbn=owned.isbn,
        position=owned.sequence,
        duration=owned.duration,
    )


def _wanted_key(wanted: Wanted) -> BookKey:
    return BookKey(
        title=wanted.title,
        authors=(wanted.author,) if wanted.author.strip() else (),
        asin=wanted.asin,
        isbn=wanted.isbn,
        position=wanted.position,
        work_id=wanted.work_id,
        also=wanted.also,
        duration=wanted.duration,
    )


def _author_keys(book: PreparedBook) -> set[str]:
    """Keys under which two credits that `name_similarity` scores above 0 always meet.

    It scores only three cases: the same name or the same last word with a compatible
    first initial (both share the surname key), and the same words in another order,
    "herbert frank" (both share the sorted-words key).
    """
    keys: set[str] = set()
    for name in book.authors:
        words = name.split()
        if words:
            keys.add("surname:" + words[-1])
            keys.add("words:" + " ".join(sorted(words)))
    return keys


def _title_keys(book: PreparedBook) -> frozenset[str]:
    """Title words, and the three-letter stem of longer ones (`_near`: "colour"/"color").

    A match needs a title similarity of at least 0.8, which needs a shared word or a near
    word (token Jaccard 0 caps the mean at 0.5), so two books without a common key never
    match. Subtitle and main-title words are included: matching compares those too.
    """
    keys: set[str] = set()
    for title in (book.full, book.main, book.subtitle):
        for token in title.tokens:
            keys.add(token)
            if len(token) >= NEAR_MIN:
                keys.add("~" + token[:NEAR_PREFIX])
    return frozenset(keys)


class OwnedIndex:
    """An immutable, prepared view of the owned books for fast lookups (see module doc)."""

    def __init__(self, owned: Iterable[OwnedBook], threshold: float = MATCH_THRESHOLD) -> None:
        if threshold - UNSURE_MARGIN <= LOWEST_THRESHOLD:
            raise ValueError(
                f"a match threshold must be above {LOWEST_THRESHOLD}: below it a book with "
                "no title word in common could match, which the buckets do not look for"
            )
        self.threshold = threshold
        self.books: list[tuple[OwnedBook, PreparedBook]] = []
        self._title_keys: list[frozenset[str]] = []
        self._by_id: dict[str, OwnedBook] = {}  # "isbn:...", "asin:...", see PreparedBook.ids
        self._by_author: dict[str, list[int]] = {}
        self._by_title: dict[str, list[int]] = {}  # every book, by title key
        self._authorless: set[int] = set()
        for owned_book in owned:
            prepared = prepare(_owned_key(owned_book))
            index = len(self.books)
            self.books.append((owned_book, prepared))
            title_keys = _title_keys(prepared)
            self._title_keys.append(title_keys)
            for identifier in prepared.ids:
                self._by_id.setdefault(identifier, owned_book)
            for key in _author_keys(prepared):
                self._by_author.setdefault(key, []).append(index)
            if not prepared.authors:
                self._authorless.add(index)
            for key in title_keys:
                self._by_title.setdefault(key, []).append(index)

    def __len__(self) -> int:
        return len(self.books)

    def _candidates(self, wanted: PreparedBook) -> set[int]:
        """Every owned book that could reach the threshold (never fewer: see the keys)."""
        title_keys = _title_keys(wanted)
        if not wanted.authors:
            found: set[int] = set()
            for key in title_keys:
                found.update(self._by_title.get(key, ()))
            return found
        same_author: set[int] = set()
        for key in _author_keys(wanted):
            same_author.update(self._by_author.get(key, ()))
        found = {i for i in same_author if not title_keys.isdisjoint(self._title_keys[i])}
        if self._authorless:
            for key in title_keys:
                found.update(i for i in self._by_title.get(key, ()) if i in self._authorless)
        return found

    def find(self, wanted: Wanted) -> OwnedBook | None:
        """The owned book that is `wanted`, or None; identifiers first, then text.

        Only a sure answer counts: a pair `judge` is unsure about is not owned (`check`
        tells it apart, for the user to decide)."""
        found = self.check(wanted)
        return found[0] if found is not None and found[1].same else None

    def check(self, wanted: Wanted) -> tuple[OwnedBook, Verdict] | None:
        """The owned book most likely to be `wanted` and the verdict on it: sure (same),
        or unsure ("Sorcerer's Stone" vs "Philosopher's Stone" without identifiers);
        None when nothing owned comes close."""
        prepared = prepare(_wanted_key(wanted))
        for identifier in sorted(prepared.ids):
            owned_book = self._by_id.get(identifier)
            if owned_book is not None:
                return owned_book, Verdict(True, 1.0, f"same identifier ({identifier})")
        best: tuple[OwnedBook, Verdict] | None = None
        rank = (-1, -1.0)  # sure answers first, then the higher score; ties go to the first
        for index in sorted(self._candidates(prepared)):  # sorted: ties go to the first
            owned_book, owned_prepared = self.books[index]
            verdict = judge(prepared, owned_prepared, self.threshold)
            if verdict.same is False:
                continue
            candidate_rank = (1 if verdict.same else 0, verdict.score)
            if candidate_rank > rank:
                best, rank = (owned_book, verdict), candidate_rank
        return best


class LibraryIndex:
    """The owned-books index: refreshed from ABS into the store, queried from memory."""

    def __init__(
        self,
        store: Store,
        client_factory: ClientFactory,
        *,
        threshold: float = MATCH_THRESHOLD,
        page_size: int = 100,
    ) -> None:
        self.store = store
        self.client_factory = client_factory
        self.threshold = threshold
        self.page_size = page_size
        self._index: OwnedIndex | None = None
        self._refresh_lock = asyncio.Lock()

    # ---- the in-memory index -----------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._index is not None

    async def load(self) -> OwnedIndex:
        """(Re)build the in-memory index from the store, off the event loop's thread."""
        owned = await self.store.run(self.store.owned)
        index = await asyncio.to_thread(OwnedIndex, owned, self.threshold)
        self._index = index
        return index

    def _ensure_index(self) -> OwnedIndex:
        if self._index is None:
            # First use before any load(): read the store here (a short, locked query).
            self._index = OwnedIndex(self.store.owned(), self.threshold)
        return self._index

    def find_owned(self, wanted: Wanted) -> OwnedBook | None:
        """The library's copy of `wanted`, or None. In memory; call `load` or `refresh`
        first to avoid building the index on the caller's thread."""
        return self._ensure_index().find(wanted)

    # ---- refreshing from Audiobookshelf ------------------------------------------------

    async def refresh(self, library_id: str | None = None) -> RefreshReport:
        """Copy every item of one library (or of every book library) into the store.

        One full pass; how often to run it (start-up, a timer, after an import's scan) is
        the caller's schedule. Raises the client's errors (unreachable, refused key...)
        without touching the rows of a library whose listing did not complete.
        """
        async with self._refresh_lock:
            started = time.monotonic()
            counts: list[LibraryCount] = []
            skipped: list[str] = []
            dropped: list[str] = []
            try:
                async with self.client_factory() as client:
                    if library_id is not None:
                        targets = [await client.library(library_id)]
                    else:
                        targets = await client.libraries()
                    for library in targets:
                        if not library.is_book:
                            skipped.append(library.name)
                            continue
                        counts.append(await self._refresh_library(client, library))
            except Exception:
                if counts:  # libraries stored before the failure: memory follows the store
                    await self.load()
                raise
            if library_id is None:
                dropped = await self._drop_vanished({c.library_id for c in counts})
            await self.load()
            return RefreshReport(
                libraries=tuple(counts),
                duration=time.monotonic() - started,
                skipped=tuple(skipped),
                dropped=tuple(dropped),
            )

    async def _refresh_library(self, client: AbsClient, library: AbsLibrary) -> LibraryCount:
        books: list[OwnedBook] = []
        missing = unreadable = 0
        async for item in client.all_items(library.id, page_size=self.page_size):
            try:
                abs_book = book_from_item(item)
            except ValueError:
                unreadable += 1
                continue
            if abs_book.media_type != "book":
                unreadable += 1
                continue
            missing += abs_book.is_missing
            books.append(owned_from_abs(abs_book, library.id))
        await self.store.run(self.store.replace_owned, library.id, books)
        return LibraryCount(library.id, library.name, len(books), missing, unreadable)

    async def _drop_vanished(self, current: set[str]) -> list[str]:
        """Forget libraries ABS stopped listing, so their books stop counting as owned."""
        vanished = sorted(await self.store.run(self.store.owned_library_ids) - current)
        for old in vanished:
            await self.store.run(self.store.replace_owned, old, [])
        return vanished

    # ---- the wanted queue --------------------------------------------------------------

    async def mark_owned(self, store: Store | None = None) -> list[Book]:
        """Move every "wanted" book the library already has to `in_library`.

        Each move records the library path and the event "already in your
        Audiobookshelf library: <ABS title>". A book whose state changed since it was
        read (the user started a search) is left alone.
        """
        store = store or self.store
        if self._index is None:
            await self.load()
        index = self._ensure_index()
        wanted_books = await store.run(store.books, state="wanted")
        moved: list[Book] = []
        for book in wanted_books:
            owned = index.find(wanted_from_book(book))
            if owned is None or book.id is None:
                continue
            event = f"already in your Audiobookshelf library: {owned.title}"
            result = await store.run(_move_if_wanted, store, book.id, owned.path, event)
            if result is not None:
                moved.append(result)
        return moved


def _move_if_wanted(store: Store, book_id: int, path: str, event: str) -> Book | None:
    """Runs on the store's thread: re-read, then move only a book still "wanted"."""
    current = store.book(book_id)
    if current is None or current.state != "wanted":
        return None
    current.library_path = path
    store.set_state(current, "in_library", event=event)
    return current
