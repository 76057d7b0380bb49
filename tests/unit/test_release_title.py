"""Release titles in the shapes uploaders really use, and a parser that never fails."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.core.release_title import (
    AUDIO_FORMATS,
    ParsedRelease,
    language_code,
    looks_like_names,
    parse_release_title,
)

# Each case: a title and the fields it must yield; unlisted fields are not checked.
CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "Frank Herbert - Dune (Unabridged) [2007] [M4B] {Scott Brick}",
        dict(authors=("Frank Herbert",), title="Dune", narrators=("Scott Brick",), year=2007,
             format="m4b", abridged=False, series=None, position=None),
    ),
    (
        "Dune.by.Frank.Herbert.MP3.64kbps",
        dict(authors=("Frank Herbert",), title="Dune", format="mp3", bitrate_kbps=64),
    ),
    (
        "Brandon Sanderson - The Stormlight Archive 01 - The Way of Kings "
        "[Kate Reading, Michael Kramer] (m4b)",
        dict(authors=("Brandon Sanderson",), title="The Way of Kings",
             series="The Stormlight Archive", position="1",
             narrators=("Kate Reading", "Michael Kramer"), format="m4b"),
    ),
    (
        "[Audiobook] Pride and Prejudice - Jane Austen (Abridged) mp3 128",
        dict(authors=("Jane Austen",), title="Pride and Prejudice", abridged=True, format="mp3",
             bitrate_kbps=128),
    ),
    (
        "Terry Pratchett - Discworld 01 - The Colour of Magic (read by Nigel Planer)",
        dict(authors=("Terry Pratchett",), title="The Colour of Magic", series="Discworld",
             position="1", narrators=("Nigel Planer",), format=None),
    ),
    (
        "Robert Jordan - The Wheel of Time - Book 02 - The Great Hunt [MP3 64kbps]",
        dict(authors=("Robert Jordan",), title="The Great Hunt", series="The Wheel of Time",
             position="2", format="mp3", bitrate_kbps=64),
    ),
    (
        "Robert_Jordan_-_The_Eye_of_the_World_(Wheel_of_Time_1)_[M4B]",
        dict(authors=("Robert Jordan",), title="The Eye of the World", series="Wheel of Time",
             position="1", format="m4b"),
    ),
    (
        "Andy Weir - Project Hail Mary (2021) [Unabridged] M4B 64 kbps",
        dict(title="Project Hail Mary", year=2021, abridged=False, format="m4b", bitrate_kbps=64),
    ),
    (
        "Sebastian Fitzek - Das Paket (Ungekürzt) [GER] MP3 128kbps",
        dict(authors=("Sebastian Fitzek",), title="Das Paket", abridged=False, language="de",
             format="mp3", bitrate_kbps=128),
    ),
    (
        "Jules Verne - Vingt mille lieues sous les mers [FR] (Intégrale) mp3",
        dict(title="Vingt mille lieues sous les mers", language="fr", abridged=False),
    ),
    (
        "Patrick Süskind - Das Parfum - Hörbuch - 2008",
        dict(authors=("Patrick Süskind",), title="Das Parfum", year=2008, language="de"),
    ),
    (
        "Stieg Larsson - Män som hatar kvinnor [SWE] (mp3)",
        dict(title="Män som hatar kvinnor", language="sv", format="mp3"),
    ),
    (
        "Die Tribute von Panem - Suzanne Collins - German - MP3",
        dict(authors=("Suzanne Collins",), title="Die Tribute von Panem", language="de"),
    ),
    (
        "Stephen King - It [ENG] [M4B] narrated by Steven Weber",
        dict(authors=("Stephen King",), title="It", language="en", narrators=("Steven Weber",)),
    ),
    (
        "The Hobbit by J.R.R. Tolkien read by Andy Serkis [M4B]",
        dict(authors=("J.R.R. Tolkien",), title="The Hobbit", narrators=("Andy Serkis",)),
    ),
    ("George Orwell - 1984", dict(authors=("George Orwell",), title="1984", year=None)),
    (
        "George Orwell - 1984 (Unabridged) [MP3]",
        dict(title="1984", abridged=False, format="mp3"),
    ),
    ("Joseph Heller - Catch-22 [M4B]", dict(title="Catch-22", bitrate_kbps=None)),
    ("Joseph Heller - Catch 22 MP3", dict(title="Catch 22", bitrate_kbps=None, format="mp3")),
    ("The German Girl - Armando Lucas Correa", dict(title="The German Girl", language=None)),
    (
        "J.K. Rowling - Harry Potter 03 - The Prisoner of Azkaban [Stephen Fry] 64kbps m4b",
        dict(title="The Prisoner of Azkaban", series="Harry Potter", position="3",
             narrators=("Stephen Fry",), bitrate_kbps=64, format="m4b"),
    ),
    (
        "Neil Gaiman, Terry Pratchett - Good Omens {Martin Jarvis} [2006]",
        dict(authors=("Neil Gaiman", "Terry Pratchett"), title="Good Omens", year=2006),
    ),
    (
        "Abercrombie, Joe - The Blade Itself (First Law #1) [M4B]",
        dict(authors=("Joe Abercrombie",), title="The Blade Itself", series="First Law",
             position="1"),
    ),
    (
        "James S. A. Corey - Leviathan Wakes (The Expanse, Book 1) [ENG / M4B / 64kbps]",
        dict(authors=("James S. A. Corey",), title="Leviathan Wakes", series="The Expanse",
             position="1", language="en", format="m4b", bitrate_kbps=64),
    ),
    ("Dan Simmons - Hyperion [FLAC] 2012", dict(title="Hyperion", year=2012, format="flac")),
    (
        "Ursula K. Le Guin - A Wizard of Earthsea - Earthsea Cycle, Book 1 (2012) {Rob Inglis}",
        dict(authors=("Ursula K. Le Guin",), title="A Wizard of Earthsea",
             series="Earthsea Cycle", position="1", year=2012, narrators=("Rob Inglis",)),
    ),
    (
        "Brandon Sanderson - Mistborn #2 - The Well of Ascension (Unabridged) [M4B]",
        dict(title="The Well of Ascension", series="Mistborn", position="2"),
    ),
    (
        "Brandon Sanderson - Mistborn Book IV - The Alloy of Law",
        dict(title="The Alloy of Law", series="Mistborn", position="4"),
    ),
    (
        "Tolkien, J.R.R. - The Fellowship of the Ring (Lord of the Rings 1) [Rob Inglis] "
        "[M4B] [B007978NPG]",
        dict(authors=("J.R.R. Tolkien",), title="The Fellowship of the Ring",
             series="Lord of the Rings", position="1", narrators=("Rob Inglis",),
             asin="B007978NPG"),
    ),
    (
        "Liu Cixin - The Three-Body Problem (Remembrance of Earth's Past #1) [Luke Daniels] "
        "mp3 VBR",
        dict(title="The Three-Body Problem", narrators=("Luke Daniels",), format="mp3"),
    ),
    (
        "Cixin Liu - The Dark Forest [Audiobook] [P.J. Ochlan] (2015) [mp3@64kbps]",
        dict(title="The Dark Forest", narrators=("P.J. Ochlan",), year=2015, bitrate_kbps=64),
    ),
    (
        "Frank Herbert - Dune - Book 1 - MP3 - 2007",
        dict(title="Dune", position="1", year=2007, format="mp3"),
    ),
    (
        "Dune: Book One of the Dune Chronicles",
        dict(authors=(), title="Dune", position="1", series="the Dune Chronicles"),
    ),
    (
        "Terry Goodkind - Sword of Truth - Vol 1 - 1994 - Wizards First Rule {Sam Tsoutsouvas}",
        dict(title="Wizards First Rule", series="Sword of Truth", position="1", year=1994,
             narrators=("Sam Tsoutsouvas",)),
    ),
    (
        "Stephen King - The Stand - Grover Gardner",
        dict(title="The Stand", narrators=("Grover Gardner",)),
    ),
    (
        "Agatha Christie - Murder on the Orient Express [Dan Stevens] (Unabridged) [AAC]",
        dict(title="Murder on the Orient Express", format="aac", narrators=("Dan Stevens",)),
    ),
    (
        "Arthur Conan Doyle - The Hound of the Baskervilles [wma 32kbps]",
        dict(authors=("Arthur Conan Doyle",), format="wma", bitrate_kbps=32),
    ),
    (
        "Douglas Adams - The Hitchhiker's Guide to the Galaxy (Radio Drama) [Ogg]",
        dict(title="The Hitchhiker's Guide to the Galaxy", format="ogg"),
    ),
    (
        "Margaret Atwood – The Handmaid's Tale – Claire Danes [M4B]",  # en dashes
        dict(authors=("Margaret Atwood",), title="The Handmaid's Tale",
             narrators=("Claire Danes",)),
    ),
    ("Pride & Prejudice - Jane Austen mp3 + ebook", dict(title="Pride & Prejudice")),
    ("Dune.by.Frank.Herbert.MP3.64kbps.sample", dict(title="Dune", authors=("Frank Herbert",))),
    ("Michelle Obama - Becoming [Audiobook] [ENG] [M4A]", dict(format="m4a", language="en")),
    ("Discworld.Book.1.5.Terry.Pratchett", dict(position="1.5")),
    ("", dict(title="", authors=(), format=None)),
    ("[M4B]", dict(title="", format="m4b")),
]  # fmt: skip


@pytest.mark.parametrize(("title", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_real_world_titles(title: str, expected: dict[str, Any]) -> None:
    parsed = parse_release_title(title)
    actual = {field: getattr(parsed, field) for field in expected}
    assert actual == expected


def test_words_are_folded_tokens_of_the_whole_title() -> None:
    words = parse_release_title("Frank Herbert - Dune [EPUB] Ünabridged.MP3").words
    assert {"frank", "herbert", "dune", "epub", "mp3", "unabridged"} <= words
    assert "EPUB" not in words
    assert "sample" in parse_release_title("Dune.Sample.MP3").words


def test_language_code() -> None:
    assert language_code("German") == "de"
    assert language_code("Deutsch") == "de"
    assert language_code("[ENG]") == "en"
    assert language_code("fr") == "fr"
    assert language_code("Klingon") is None


def test_looks_like_names() -> None:
    assert looks_like_names("Frank Herbert")
    assert looks_like_names("Kate Reading, Michael Kramer")
    assert looks_like_names("Ursula K. Le Guin")
    assert looks_like_names("Gabriel García Márquez")
    assert not looks_like_names("The Way of Kings")
    assert not looks_like_names("Dune")
    assert not looks_like_names("Discworld 01")
    assert not looks_like_names("Pride and Prejudice")
    assert not looks_like_names("frank herbert")
    assert looks_like_names("frank herbert", relaxed=True)


def test_parsing_is_cached_and_immutable() -> None:
    title = "Frank Herbert - Dune [M4B]"
    assert parse_release_title(title) is parse_release_title(title)
    with pytest.raises(AttributeError):
        parse_release_title(title).title = "x"  # type: ignore[misc]


# --- never raises --------------------------------------------------------------------------

fragments = st.sampled_from(
    ["Frank Herbert", " - ", "Dune", "(", ")", "[", "]", "{", "}", "M4B", "mp3", "128",
     "64kbps", "64 kbps", "2007", "Unabridged", "Abridged", "read by", "Scott Brick", ",",
     "Book", "02", "#", "IV", "of", "3", "ENG", "German", ".", "_", "by", "&", "B002V1A0WU",
     "Narrator:", "–", "|", "Vol.", "1.5", "Hörbuch", "+", "/", "@", "ebook", " ", "\t", "\x00",
     "Ünïcödé", "𝔇𝔲𝔫𝔢", "ǅ", "İ", "ß", "١٢٣"]
)  # fmt: skip
release_titles = st.one_of(
    st.text(max_size=200),
    st.lists(fragments, max_size=25).map("".join),
    st.lists(fragments, max_size=12).map(" ".join),
)


def _check(parsed: ParsedRelease) -> None:
    assert isinstance(parsed.title, str)
    assert all(isinstance(a, str) and a for a in parsed.authors)
    assert all(isinstance(n, str) and n for n in parsed.narrators)
    assert parsed.series is None or (isinstance(parsed.series, str) and parsed.series)
    assert parsed.position is None or parsed.position.replace(".", "").isdigit()
    assert parsed.year is None or 1900 <= parsed.year <= 2099
    assert parsed.format is None or parsed.format in AUDIO_FORMATS
    assert parsed.bitrate_kbps is None or 8 <= parsed.bitrate_kbps <= 512
    assert parsed.abridged in (None, True, False)
    assert parsed.language is None or isinstance(parsed.language, str)
    assert isinstance(parsed.words, frozenset)
    assert all(isinstance(w, str) and w for w in parsed.words)


@settings(max_examples=1500, deadline=None)
@given(release_titles)
def test_any_text_parses(title: str) -> None:
    _check(parse_release_title(title))


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=400, max_size=3000))
def test_long_titles_parse(title: str) -> None:
    _check(parse_release_title(title))
