"""The owned-books index: refreshed from the ABS double into a real store, matched in memory."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from gui.clients.audiobookshelf import AbsClient
from gui.clients.errors import AuthError, UnreachableError
from gui.core.matching import match_prepared, prepare
from gui.core.ranking import Wanted
from gui.services.library import (
    LibraryIndex,
    OwnedIndex,
    _owned_key,
    _wanted_key,
)
from gui.store import Book, OwnedBook, Store
from tests.doubles.audiobookshelf import AbsServerDouble, BookSpec, generated_books, load_recorded
from tests.harness.wait import free_port

RECORDED = load_recorded()
_ids = count(1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_in(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def owned(
    title: str,
    authors: str = "",
    *,
    subtitle: str = "",
    series: str = "",
    sequence: str = "",
    asin: str = "",
    isbn: str = "",
) -> OwnedBook:
    n = next(_ids)
    return OwnedBook(
        abs_item_id=f"item-{n}",
        library_id="lib",
        title=title,
        subtitle=subtitle,
        authors=authors,
        series=series,
        sequence=sequence,
        asin=asin,
        isbn=isbn,
        path=f"/audiobooks/{authors or 'Unknown'}/{title}",
    )


def index_of(*books: OwnedBook) -> OwnedIndex:
    return OwnedIndex(books)


def never_called() -> AbsClient:
    raise AssertionError("this test must not talk to Audiobookshelf")


def owned_from_spec(spec: BookSpec, n: int) -> OwnedBook:
    series, sequence = spec.series[0] if spec.series else ("", None)
    return OwnedBook(
        abs_item_id=f"gen-{n}",
        library_id="lib",
        title=spec.title,
        authors="; ".join(spec.authors),
        narrators="; ".join(spec.narrators),
        series=series,
        sequence=sequence or "",
        asin=spec.asin or "",
        isbn=spec.isbn or "",
        path=f"/audiobooks/{n}",
    )


# ---- refresh -------------------------------------------------------------------------------


async def test_refresh_stores_every_item_of_every_book_library(store: Store) -> None:
    async with AbsServerDouble(
        generated=247, extra_libraries=[("Podcasts", "podcast"), ("Second Shelf", "book")]
    ) as double:
        second = double.library_named("Second Shelf")
        double.add_books(generated_books(5, start=5000), library_id=second)
        index = LibraryIndex(store, lambda: AbsClient(double.url, double.admin_key))
        report = await index.refresh()
    print(report.summary())
    assert report.items == 255
    assert [(c.name, c.items) for c in report.libraries] == [
        ("Audiobooks", 250),
        ("Second Shelf", 5),
    ]
    assert report.skipped == ("Podcasts",) and report.dropped == ()
    assert report.duration > 0
    rows = {row.abs_item_id: row for row in store.owned()}
    assert len(rows) == 255
    assert {r.library_id for r in rows.values()} == {double.library_id, second}
    pre_tagged = rows[RECORDED["item"]["id"]]
    assert (pre_tagged.title, pre_tagged.subtitle, pre_tagged.authors) == (
        "Pre-Tagged Book",
        "Tagged Subtitle",
        "Alice Author",
    )
    assert (pre_tagged.narrators, pre_tagged.series, pre_tagged.sequence) == (
        "Nick Narrator",
        "Tag Series",
        "2",
    )
    assert pre_tagged.path == "/audiobooks/Folder Author2/Folder Title2"
    assert index.loaded
    # Owned with a subtitle: the main title alone needs an agreeing series position.
    assert index.find_owned(Wanted("Pre-Tagged Book", "Alice Author", position="2")) == pre_tagged
    pages = [r for r in double.received if r.path.endswith("/items")]
    assert len(pages) == 4  # 3 pages of 100 for 250 items, 1 for the second shelf


async def test_refresh_of_one_library_leaves_the_others(store: Store) -> None:
    async with AbsServerDouble(extra_libraries=[("Second Shelf", "book")]) as double:
        second = double.library_named("Second Shelf")
        double.add_books(generated_books(2), library_id=second)
        index = LibraryIndex(store, lambda: AbsClient(double.url, double.admin_key))
        await index.refresh()
        double.add_books(generated_books(3, start=100), library_id=second)
        double.remove(RECORDED["item"]["id"])
        report = await index.refresh(second)
    assert [(c.library_id, c.items) for c in report.libraries] == [(second, 5)]
    rows = store.owned()
    assert len(rows) == 3 + 5  # the main library's rows were not refreshed
    assert RECORDED["item"]["id"] in {r.abs_item_id for r in rows}


async def test_refresh_drops_removed_items_and_vanished_libraries(store: Store) -> None:
    async with AbsServerDouble(extra_libraries=[("Old Shelf", "book")]) as double:
        old = double.library_named("Old Shelf")
        double.add_books(generated_books(4), library_id=old)
        index = LibraryIndex(store, lambda: AbsClient(double.url, double.admin_key))
        await index.refresh()
        assert len(store.owned()) == 7
        double.remove(RECORDED["item"]["id"])
        del double.libraries[old]
        report = await index.refresh()
    assert report.dropped == (old,)
    assert sorted(r.title for r in store.owned()) == ["Retagged Title", "The Tiny Sine Book"]
    assert index.find_owned(Wanted("Pre-Tagged Book", "Alice Author")) is None


async def test_a_failed_refresh_keeps_the_previous_index(store: Store) -> None:
    async with AbsServerDouble(generated=10) as double:
        index = LibraryIndex(store, lambda: AbsClient(double.url, double.admin_key))
        await index.refresh()
        before = store.owned()
        refused = LibraryIndex(store, lambda: AbsClient(double.url, "revoked-key"))
        with pytest.raises(AuthError):
            await refused.refresh()
    gone = LibraryIndex(store, lambda: AbsClient(f"http://127.0.0.1:{free_port()}/", "k"))
    with pytest.raises(UnreachableError):
        await gone.refresh()
    assert store.owned() == before
    assert len(before) == 13


# ---- find_owned ----------------------------------------------------------------------------


def test_case_punctuation_and_articles_do_not_matter() -> None:
    hobbit = owned("The Hobbit", "J.R.R. Tolkien")
    index = index_of(hobbit, owned("The Silmarillion", "J.R.R. Tolkien"))
    assert index.find(Wanted("hobbit", "Tolkien, J. R. R.")) is hobbit
    assert index.find(Wanted("THE HOBBIT!", "JRR Tolkien")) is hobbit
    assert index.find(Wanted("The Hobbit (Unabridged)", "J. R. R. Tolkien")) is hobbit
    assert index.find(Wanted("The Hobbit", "Someone Else")) is None


def test_series_markers_and_positions() -> None:
    kings = owned(
        "The Way of Kings", "Brandon Sanderson", series="The Stormlight Archive", sequence="1"
    )
    mistborn = owned("Mistborn Vol. 1", "Brandon Sanderson")
    index = index_of(kings, mistborn)
    assert index.find(Wanted("The Way of Kings, Book 1", "Brandon Sanderson")) is kings
    assert index.find(Wanted("Way of Kings (Vol. 1)", "Brandon Sanderson")) is kings
    assert index.find(Wanted("The Way of Kings", "Brandon Sanderson", position="1")) is kings
    assert index.find(Wanted("The Way of Kings", "Brandon Sanderson", position="2")) is None
    assert index.find(Wanted("Mistborn: Book One", "Brandon Sanderson")) is mistborn
    assert index.find(Wanted("Mistborn, Book 2", "Brandon Sanderson")) is None


def test_identifiers_win_and_two_asins_are_two_editions() -> None:
    dune = owned("Dune", "Frank Herbert", asin="B002V1OF70")
    special = owned("Dune: Special Edition", "Frank Herbert", asin="B00SPECIAL")
    index = index_of(dune, special)
    # The same ASIN settles it, whatever the titles say.
    assert index.find(Wanted("Dune (40th Anniversary, Unabridged)", "F. Herbert",
                             asin="b002v1of70")) is dune  # fmt: skip
    assert index.find(Wanted("Dune", "Frank Herbert", asin="B00SPECIAL")) is special
    # A different non-empty ASIN is another edition: not owned, even with the same title.
    assert index.find(Wanted("Dune", "Frank Herbert", asin="B0OTHERED1")) is None
    # Without an ASIN the text decides.
    assert index.find(Wanted("Dune", "Frank Herbert")) is dune


def test_isbn_in_any_spelling() -> None:
    book = owned("Dune", "Frank Herbert", isbn="978-0-441-01359-3")
    index = index_of(book)
    assert index.find(Wanted("Some Other Title", "Nobody", isbn="0441013597")) is book
    assert index.find(Wanted("Some Other Title", "Nobody", isbn="9780441013594")) is None


def test_several_authors() -> None:
    omens = owned("Good Omens", "Terry Pratchett; Neil Gaiman")
    index = index_of(omens)
    assert index.find(Wanted("Good Omens", "Neil Gaiman")) is omens
    assert index.find(Wanted("Good Omens", "Terry Pratchett & Neil Gaiman")) is omens
    assert index.find(Wanted("Good Omens", "Gaiman, Neil")) is omens


def test_subtitles() -> None:
    dune = owned("Dune", "Frank Herbert", subtitle="Dune Chronicles, Book 1")
    wakes = owned("Leviathan Wakes", "James S. A. Corey", subtitle="The Expanse, Book 1")
    index = index_of(dune, wakes)
    assert index.find(Wanted("Dune: Dune Chronicles, Book 1", "Frank Herbert")) is dune
    assert index.find(Wanted("Dune", "Frank Herbert")) is dune
    assert index.find(Wanted("Dune Messiah", "Frank Herbert")) is None
    assert index.find(Wanted("Leviathan Wakes", "James S.A. Corey")) is wakes
    assert index.find(Wanted("Caliban's War", "James S. A. Corey")) is None


def test_same_title_other_author_is_not_owned() -> None:
    index = index_of(owned("Dune", "Frank Herbert"))
    assert index.find(Wanted("Dune", "Brian Herbert")) is None


def test_items_without_authors_match_on_the_title() -> None:
    meditations = owned("Meditations")
    index = index_of(meditations, owned("Letters from a Stoic", "Seneca"))
    assert index.find(Wanted("Meditations", "Marcus Aurelius")) is meditations
    assert index.find(Wanted("Meditations on First Philosophy", "René Descartes")) is None


async def test_find_owned_reads_the_store_when_nothing_was_loaded(store: Store) -> None:
    book = owned("The Hobbit", "J.R.R. Tolkien")
    store.replace_owned("lib", [book])
    index = LibraryIndex(store, never_called)
    found = index.find_owned(Wanted("Hobbit", "Tolkien"))
    assert found is not None and found.abs_item_id == book.abs_item_id


def test_buckets_lose_no_match_compared_to_checking_everything() -> None:
    """The prepared index gives the answer a full scan would, on a messy mix of queries."""
    rng = random.Random(7)
    # 26 first names x 30 surnames: many shared surnames and title words, as in a big library.
    library = [owned_from_spec(spec, n) for n, spec in enumerate(generated_books(600))]
    library += [owned(f"Anonymous Tale {n}") for n in range(30)]
    index = OwnedIndex(library)
    queries: list[Wanted] = []
    for _ in range(250):
        book = rng.choice(library)
        author = book.authors.split("; ")[0] if book.authors else ""
        variant = rng.randrange(6)
        if variant == 0:
            queries.append(Wanted(book.title.upper(), author))
        elif variant == 1:  # surname first
            first, _, last = author.partition(" ")
            queries.append(Wanted(book.title, f"{last}, {first}" if last else author))
        elif variant == 2:  # another author's name
            queries.append(Wanted(book.title, rng.choice(library).authors.split("; ")[0]))
        elif variant == 3:  # a near title
            queries.append(Wanted(book.title.rsplit(" ", 1)[0], author))
        elif variant == 4:
            queries.append(Wanted(book.title, author, position=book.sequence or "3"))
        else:
            queries.append(Wanted(book.title, ""))
    everything = [prepare(_owned_key(book)) for book in library]
    outcomes = {"owned": 0, "not owned": 0}
    for wanted in queries:
        prepared = prepare(_wanted_key(wanted))
        best = max(match_prepared(prepared, other) for other in everything)
        found = index.find(wanted)
        if best < index.threshold:
            assert found is None, wanted
            outcomes["not owned"] += 1
        else:
            assert found is not None, wanted
            assert match_prepared(prepared, prepare(_owned_key(found))) == best, wanted
            outcomes["owned"] += 1
    assert min(outcomes.values()) >= 50, outcomes  # both answers were exercised


def test_a_thousand_wanted_against_ten_thousand_owned() -> None:
    """Right answers, and each lookup compares a handful of owned books, never the whole
    library (how long it takes is bench/library_index.py's figure, not a test's)."""
    specs = generated_books(10_000)
    library = [owned_from_spec(spec, n) for n, spec in enumerate(specs)]
    index = OwnedIndex(library)
    candidates: list[int] = []
    look = index._candidates

    def counted(wanted: Any) -> set[int]:
        found = look(wanted)
        candidates.append(len(found))
        return found

    index._candidates = counted  # type: ignore[method-assign]
    wanted = [
        Wanted(spec.title.lower().replace("the ", "", 1), spec.authors[0]) for spec in specs[::20]
    ]  # 500 owned, spelt differently
    wanted += [Wanted(f"Unwritten Chronicle {n}", f"Nobody Known {n}") for n in range(500)]
    found = [index.find(w) for w in wanted]
    assert [f.title if f else None for f in found[:500]] == [s.title for s in specs[::20]]
    assert found[500:] == [None] * 500
    assert len(candidates) == 1000
    # the author's books sharing a title word: under 1% of the library for every lookup
    assert max(candidates[:500]) <= len(library) // 100, max(candidates)
    assert candidates[500:] == [0] * 500  # an unknown author and title: nothing compared


# ---- mark_owned ----------------------------------------------------------------------------


async def test_mark_owned_moves_only_owned_wanted_books(store: Store) -> None:
    hobbit = owned("The Hobbit", "J.R.R. Tolkien")
    wakes = owned("Leviathan Wakes", "James S. A. Corey", series="The Expanse", sequence="1")
    dune = owned("Dune", "Frank Herbert")
    store.replace_owned("lib", [hobbit, wakes, dune])
    first = store.add_book(Book("Hobbit", "Tolkien, J.R.R."))
    second = store.add_book(Book("Leviathan Wakes", "James S.A. Corey", position="1"))
    unowned = store.add_book(Book("Piranesi", "Susanna Clarke"))
    busy = store.add_book(Book("Dune", "Frank Herbert"))
    store.set_state(busy, "downloading")
    index = LibraryIndex(store, never_called)

    moved = await index.mark_owned(store)

    assert [book.id for book in moved] == [first.id, second.id]
    assert first.id is not None and second.id is not None and unowned.id is not None
    for book_id, source in ((first.id, hobbit), (second.id, wakes)):
        current = store.book(book_id)
        assert current is not None
        assert (current.state, current.library_path) == ("in_library", source.path)
        (event, *_) = store.events(book_id=book_id)
        assert event.kind == "in_library"
        assert event.message == f"already in your Audiobookshelf library: {source.title}"
    assert store.book(unowned.id) == unowned
    assert busy.id is not None
    still_busy = store.book(busy.id)
    assert still_busy is not None and still_busy.state == "downloading"
    assert await index.mark_owned() == []  # nothing left to move
