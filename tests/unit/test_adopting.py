"""Which wanted book a hand-added download is: sure, several, close, or none."""

from __future__ import annotations

from gui.core.metadata import BookMetadata
from gui.services.adopting import match_wanted
from gui.store import Book

HASH = "a" * 40


def book(n: int, title: str, author: str, state: str = "wanted", torrent: str = "") -> Book:
    return Book(title=title, author=author, state=state, torrent_hash=torrent or None, id=n)


QUEUE = [
    book(1, "The Dispossessed", "Ursula K. Le Guin"),
    book(2, "The Left Hand of Darkness", "Ursula K. Le Guin"),
    book(3, "Dune", "Frank Herbert", state="in_library"),
    book(4, "Dune Messiah", "Frank Herbert", state="grabbed", torrent="b" * 40),
]


def test_one_sure_match() -> None:
    guess = BookMetadata(title="Dispossessed, The", authors=("Le Guin, Ursula K.",))
    adoption = match_wanted(guess, QUEUE, HASH)
    assert adoption.book is not None and adoption.book.id == 1
    assert not adoption.unsure


def test_books_not_waiting_for_a_download_are_never_candidates() -> None:
    for title in ("Dune", "Dune Messiah"):
        adoption = match_wanted(BookMetadata(title=title, authors=("Frank Herbert",)), QUEUE, HASH)
        assert adoption.candidates == ()


def test_two_sure_matches_are_not_guessed_between() -> None:
    queue = [*QUEUE, book(5, "Dispossessed", "Ursula Le Guin")]
    adoption = match_wanted(
        BookMetadata(title="The Dispossessed", authors=("Ursula Le Guin",)), queue, HASH
    )
    assert adoption.book is None and adoption.unsure
    assert sorted(c.book.id or 0 for c in adoption.candidates) == [1, 5]


def test_a_close_title_is_unsure() -> None:
    queue = [book(6, "Harry Potter and the Philosopher's Stone", "J.K. Rowling")]
    guess = BookMetadata(title="Harry Potter and the Sorcerer's Stone", authors=("J. K. Rowling",))
    adoption = match_wanted(guess, queue, HASH)
    assert adoption.book is None and adoption.unsure


def test_nothing_alike_is_none() -> None:
    adoption = match_wanted(BookMetadata(title="2020 WEB"), QUEUE, HASH)
    assert adoption.candidates == () and adoption.book is None and not adoption.unsure
