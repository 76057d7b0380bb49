"""Same book or not: normalised titles and names, identifiers first, series positions apart."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.core.matching import (
    BookKey,
    canonical_asin,
    canonical_isbn,
    canonical_position,
    fold,
    is_same_book,
    match_score,
    name_similarity,
    normalize_name,
    normalize_names,
    normalize_title,
    prepare_title,
    split_names,
    split_subtitle,
)

# --- titles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Hobbit (Unabridged)", "hobbit"),
        ("Pride & Prejudice", "pride and prejudice"),
        ("Les Misérables", "miserables"),
        ("Cien Años de Soledad", "cien anos de soledad"),
        ("Der Process", "process"),
        ("El Aleph", "aleph"),
        ("Die Tribute von Panem", "tribute von panem"),
        ("An Absolutely Remarkable Thing", "absolutely remarkable thing"),
        ("A Game of Thrones", "game of thrones"),
        ("Dune: A Novel", "dune"),
        ("Audiobook - The Stand (Abridged)", "stand"),
        ("  Lots   of\tspace ", "lots of space"),
        ("The", "the"),  # an article alone is the whole title
        ("Mistborn, Vol. 1", "mistborn book 1"),
        ("Mistborn Volume One", "mistborn book 1"),
        ("Mistborn Book I", "mistborn book 1"),
        ("Mistborn #1", "mistborn book 1"),
        ("Mistborn Part 1", "mistborn book 1"),
        ("Mistborn 1 of 3", "mistborn book 1"),
        ("Mistborn, Book 1 of 3", "mistborn book 1"),
        ("The Dark Tower Book IV", "dark tower book 4"),
        ("Wheel of Time Book 02", "wheel of time book 2"),
        ("Discworld Book 1.5", "discworld book 1.5"),
        ("The Book Thief", "book thief"),  # "book" without a number is a word
        ("Catch-22", "catch 22"),
        ("Fahrenheit 451", "fahrenheit 451"),
        ("Hobbit, The", "hobbit"),
        ("Game of Thrones, A: A Song of Ice and Fire", "game of thrones a song of ice and fire"),
        ("Ender's Game", "enders game"),
        ("Hitchhiker’s Guide, The", "hitchhikers guide"),
        ("Slaughterhouse-Five", "slaughterhouse 5"),
        ("Nineteen Eighty-Four", "1984"),
        ("Twenty Thousand Leagues", "20000 leagues"),
        ("20,000 Leagues", "20000 leagues"),
        ("One Hundred and One Dalmatians", "101 dalmatians"),
        ("Twenty-One Lessons", "21 lessons"),
        ("One Two Three", "1 2 3"),
        ("Dr. Sleep", "doctor sleep"),
        ("Mistborn Volume Twenty One", "mistborn book 21"),
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


def test_series_markers_all_agree() -> None:
    spellings = ["Vol. 3", "Volume Three", "Book III", "#3", "Part 3", "3 of 7", "Book 03"]
    assert {normalize_title(f"Saga {s}") for s in spellings} == {"saga book 3"}


def test_subtitle_is_split_off() -> None:
    assert split_subtitle("Dune: Book One of the Dune Chronicles") == (
        "Dune",
        "Book One of the Dune Chronicles",
    )
    assert split_subtitle("Dune") == ("Dune", "")


def test_prepared_title_keeps_the_position_apart() -> None:
    prepared = prepare_title("The Way of Kings, Book 1")
    assert prepared.text == "way of kings"
    assert prepared.position == "1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("02", "2"), ("Book 2", "2"), ("#2", "2"), ("II", "2"), ("two", "2"), ("1.50", "1.5"),
     ("Vol. 0.5", "0.5"), ("", ""), ("first", "")],
)  # fmt: skip
def test_canonical_position(raw: str, expected: str) -> None:
    assert canonical_position(raw) == expected


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["J.R.R. Tolkien", "J. R. R. Tolkien", "JRR Tolkien", "Tolkien, J.R.R.", "jrr tolkien"],
)
def test_initials_in_every_spelling(spelling: str) -> None:
    assert normalize_name(spelling) == "jrr tolkien"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Herbert, Frank", ("frank herbert",)),
        ("Le Guin, Ursula K.", ("ursula k le guin",)),
        ("García Márquez, Gabriel", ("gabriel garcia marquez",)),
        ("Stanisław Lem", ("stanislaw lem",)),
        ("Martin Luther King, Jr.", ("martin luther king jr",)),
        ("Neil Gaiman & Terry Pratchett", ("neil gaiman", "terry pratchett")),
        ("Neil Gaiman and Terry Pratchett", ("neil gaiman", "terry pratchett")),
        ("Brandon Sanderson, Robert Jordan", ("brandon sanderson", "robert jordan")),
        ("Kate Reading; Michael Kramer", ("kate reading", "michael kramer")),
        ("Herbert, Frank, Anderson, Kevin", ("frank herbert", "kevin anderson")),
        ("Kevin J. Anderson", ("kevin j anderson",)),
        ("Alexandre Dumas", ("alexandre dumas",)),  # "and" inside a word never splits
        ("", ()),
    ],
)
def test_normalize_names(raw: str, expected: tuple[str, ...]) -> None:
    assert normalize_names(raw) == expected


def test_split_names_keeps_display_form() -> None:
    assert split_names("Sanderson, Brandon & Kate Reading") == ("Brandon Sanderson", "Kate Reading")
    assert normalize_name("Neil Gaiman & Terry Pratchett") == "neil gaiman & terry pratchett"


def test_name_similarity() -> None:
    assert name_similarity("frank herbert", "frank herbert") == 1.0
    assert name_similarity("john ronald reuel tolkien", "jrr tolkien") == 0.9
    assert name_similarity("herbert", "frank herbert") == 0.9
    assert name_similarity("herbert frank", "frank herbert") == 0.95
    assert name_similarity("brian herbert", "frank herbert") == 0.0
    assert name_similarity("frank herbert", "frank zappa") == 0.0


def test_fold_drops_diacritics_and_case() -> None:
    assert fold("MÁRQUEZ") == "marquez"
    assert fold("Straße") == "strasse"
    assert fold("Øystein") == "oystein"


# --- identifiers ---------------------------------------------------------------------------


def test_isbn_10_and_13_are_one_number() -> None:
    assert canonical_isbn("0-441-17271-7") == "9780441172719"
    assert canonical_isbn("978-0-441-17271-9") == "9780441172719"
    assert canonical_isbn("080442957X") == canonical_isbn("978-0-8044-2957-3")
    assert canonical_asin(" b002v1a0wu ") == "B002V1A0WU"


def test_equal_asin_decides_whatever_the_text() -> None:
    a = BookKey("Dune", ("Frank Herbert",), asin="B002V1A0WU")
    b = BookKey("Dune (Deluxe Edition) [Audible]", ("F. Herbert",), asin="b002v1a0wu")
    assert match_score(a, b) == 1.0


def test_different_asins_are_different_editions() -> None:
    a = BookKey("Dune", ("Frank Herbert",), asin="B002V1A0WU")
    b = BookKey("Dune", ("Frank Herbert",), asin="B00B7NPRY8")
    assert match_score(a, b) == 0.0


def test_isbn_10_matches_isbn_13() -> None:
    a = BookKey("Dune", isbn="0-441-17271-7")
    b = BookKey("Something else entirely", isbn="9780441172719")
    assert match_score(a, b) == 1.0


def test_asin_only_on_one_side_falls_back_to_text() -> None:
    a = BookKey("Dune", ("Frank Herbert",), asin="B002V1A0WU")
    b = BookKey("Dune", ("Herbert, Frank",))
    assert is_same_book(a, b)


# --- books ---------------------------------------------------------------------------------


def key(title: str, *authors: str, position: str = "") -> BookKey:
    return BookKey(title, authors, position=position)


SAME = [
    (key("The Hobbit (Unabridged)", "J.R.R. Tolkien"), key("Hobbit", "Tolkien, J. R. R.")),
    (key("The Colour of Magic", "Terry Pratchett"), key("The Color of Magic", "Pratchett, Terry")),
    (key("Dune", "Frank Herbert"), key("Dune: Book One of the Dune Chronicles", "Frank Herbert")),
    (
        key("Cien años de soledad", "Gabriel García Márquez"),
        key("CIEN ANOS DE SOLEDAD", "Garcia Marquez, Gabriel"),
    ),
    (key("Pride and Prejudice", "Jane Austen"), key("Pride & Prejudice: A Novel", "Austen, Jane")),
    (key("Good Omens", "Neil Gaiman", "Terry Pratchett"), key("Good Omens", "Terry Pratchett")),
    (key("The Final Empire", "Brandon Sanderson"), key("Mistborn: The Final Empire", "Sanderson")),
    (
        key("The Way of Kings", "Brandon Sanderson", position="1"),
        key("The Way of Kings, Book 1", "Brandon Sanderson"),
    ),
    (key("Dune"), key("Dune", "Frank Herbert")),  # unknown author: the title decides
]

DIFFERENT = [
    (key("Dune", "Frank Herbert"), key("Dune Messiah", "Frank Herbert")),
    (key("Dune", "Frank Herbert"), key("Children of Dune", "Frank Herbert")),
    (
        key("The Way of Kings", "Brandon Sanderson", position="1"),
        key("The Way of Kings", "Brandon Sanderson", position="2"),
    ),
    (
        key("The Way of Kings, Book 1", "Brandon Sanderson"),
        key("The Way of Kings, Book 2", "Brandon Sanderson"),
    ),
    (
        key("Harry Potter and the Chamber of Secrets", "J.K. Rowling"),
        key("Harry Potter and the Goblet of Fire", "J. K. Rowling"),
    ),
    (key("It", "Stephen King"), key("It", "Someone Else")),
    (key("Dune", "Frank Herbert"), key("", "Frank Herbert")),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_book(a: BookKey, b: BookKey) -> None:
    assert is_same_book(a, b), match_score(a, b)
    assert is_same_book(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_books(a: BookKey, b: BookKey) -> None:
    assert not is_same_book(a, b), match_score(a, b)


def test_threshold_is_a_parameter() -> None:
    a, b = BookKey("Dune", ("Frank Herbert",)), BookKey("Dune Messiah", ("Frank Herbert",))
    assert 0.4 < match_score(a, b) < 0.85
    assert is_same_book(a, b, threshold=0.4)


# --- properties ----------------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8"), max_size=40)
words = st.sampled_from(
    ["The", "a", "Book", "Vol.", "1", "02", "IV", "one", "of", "3", "&", "and", "Ünïcödé", ",",
     ":", "#", "(Unabridged)", "A", "Novel", "J.", "R.", "Tolkien", "Le", "Guin", ";", "Jr."]
)  # fmt: skip
phrases = st.lists(words, max_size=8).map(" ".join)
texts = st.one_of(names, phrases)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_normalize_title_is_idempotent(text: str) -> None:
    once = normalize_title(text)
    assert normalize_title(once) == once


@settings(max_examples=400, deadline=None)
@given(texts)
def test_normalize_name_is_idempotent(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once


@settings(max_examples=300, deadline=None)
@given(texts)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


keys = st.builds(
    BookKey,
    title=texts,
    authors=st.lists(texts, max_size=2).map(tuple),
    asin=st.sampled_from(["", "B002V1A0WU", "B00B7NPRY8"]),
    isbn=st.sampled_from(["", "0-441-17271-7", "9780441172719", "garbage"]),
    position=st.sampled_from(["", "1", "2", "Book 2"]),
)


@settings(max_examples=300, deadline=None)
@given(keys, keys)
def test_match_score_is_a_symmetric_fraction(a: BookKey, b: BookKey) -> None:
    score = match_score(a, b)
    assert 0.0 <= score <= 1.0
    assert match_score(b, a) == score


@settings(max_examples=200, deadline=None)
@given(keys)
def test_a_book_matches_itself(key: BookKey) -> None:
    if prepare_title(key.title).tokens or key.asin or key.isbn:
        assert match_score(key, key) == 1.0
