"""Whether two descriptions name the same book: a wanted one, an owned one, a release.

Metadata from Audible, Audiobookshelf and indexer release titles spell the same book in
different ways ("J.R.R. Tolkien" / "Tolkien, J. R. R.", "The Hobbit (Unabridged)" /
"Hobbit"), so everything is compared in a normalised form. Identifiers win over text when
both sides have them: a shared ASIN or ISBN settles it, two different ASINs are two
different editions. Without identifiers the score mixes title similarity (token overlap
plus character bigrams, so "Colour"/"Color" still match while "Dune"/"Dune Messiah" do
not) with author overlap, and a differing series position always means a different book.

Pure functions: no I/O, no Qt. Normalisers are cached because a search repeats the same
author names hundreds of times.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "BookKey",
    "PreparedBook",
    "PreparedTitle",
    "best_title_similarity",
    "canonical_asin",
    "canonical_isbn",
    "canonical_position",
    "clear_caches",
    "fold",
    "is_same_book",
    "match_prepared",
    "match_score",
    "name_similarity",
    "names_overlap",
    "normalize_name",
    "normalize_names",
    "normalize_title",
    "prepare",
    "prepare_title",
    "split_names",
    "split_subtitle",
    "title_similarity",
]

# Letters NFKD leaves alone but a reader treats as their base letter.
_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i", "ħ": "h"}
)
_AMPERSAND = re.compile(r"&")
_HASH_NUMBER = re.compile(r"#\s*(?=\d)")
# Everything but letters and digits separates words; a dot between digits is a decimal.
_NON_WORD = re.compile(r"(?!(?<=\d)\.(?=\d))[\W_]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ROMAN = re.compile(r"(x{0,3})(ix|iv|v?i{0,3})")
_NAME_SPLIT = re.compile(r"\s*(?:;|&|\s\band\b\s)\s*", re.IGNORECASE)
_ISBN10 = re.compile(r"\d{9}[\dX]")

_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "l", "der", "die", "das", "el", "los"})
_NOISE = frozenset({"unabridged", "abridged", "audiobook", "audiobooks"})
_MARKERS = frozenset({"book", "bk", "vol", "volume", "part", "pt", "tome"})
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_WORD_NUMBERS = {word: str(value) for value, word in enumerate(_NUMBER_WORDS.split(" "))}
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})
_SERIES_WORD = "book"  # the one spelling every series marker is normalised to

#: Weight of the title in a text-only match; the author takes the rest.
TITLE_WEIGHT = 0.75
#: How much a near token ("colour" ~ "color") counts compared to an exact one.
NEAR_TOKEN_WEIGHT = 0.8


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Casefold and drop diacritics, so "Márquez" and "MARQUEZ" compare equal.

    Decomposing before *and* after casefolding keeps the result stable: compatibility
    characters ("㎒") may decompose to capitals, and casefolding may add combining marks.
    """
    if text.isascii():
        return text.casefold()
    return _strip_marks(_strip_marks(text).casefold().translate(_LETTERS))


def _canonical_number(token: str) -> str:
    whole, _, fraction = token.partition(".")
    fraction = fraction.rstrip("0")
    return f"{int(whole)}.{fraction}" if fraction else str(int(whole))


def _roman(token: str) -> str | None:
    if not token or _ROMAN.fullmatch(token) is None:
        return None
    total = 0
    previous = 0
    for char in reversed(token):
        value = _ROMAN_VALUES[char]
        total += -value if value < previous else value
        previous = max(previous, value)
    return str(total) if total else None


def _position_token(token: str) -> str | None:
    """A series position written as a number, a roman numeral or a word, as digits."""
    if _NUMBER.fullmatch(token):
        return _canonical_number(token)
    return _WORD_NUMBERS.get(token) or _roman(token)


def canonical_position(text: str) -> str:
    """ "02", "Book 2", "#2", "II", "two" -> "2"; anything unreadable -> ""."""
    tokens = _words(text)
    if tokens and tokens[0] in _MARKERS:
        tokens = tokens[1:]
    if not tokens:
        return ""
    return _position_token(tokens[0]) or ""


def _words(text: str) -> list[str]:
    folded = fold(_HASH_NUMBER.sub(f" {_SERIES_WORD} ", _AMPERSAND.sub(" and ", text)))
    return _NON_WORD.sub(" ", folded).split()


def _is_integer(token: str) -> bool:
    return token.isdigit() and token.isascii()


def _normalise_markers(tokens: list[str]) -> list[str]:
    """ "Vol. 1", "Volume One", "Book IV", "Part 1 of 3", "1 of 3" all become "book N"."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        position = _position_token(tokens[i + 1]) if token in _MARKERS and i + 1 < n else None
        if position is not None:
            i += 2
        elif (
            _is_integer(token)
            and i + 2 < n
            and tokens[i + 1] == "of"
            and _is_integer(tokens[i + 2])
        ):
            position = _canonical_number(token)
            i += 3
        else:
            out.append(token)
            i += 1
            continue
        while i + 1 < n and tokens[i] == "of" and _is_integer(tokens[i + 1]):
            i += 2  # "of 3": the total is not part of the book's identity
        out += (_SERIES_WORD, position)
    return out


@lru_cache(maxsize=8192)
def normalize_title(text: str) -> str:
    """The comparable form of a title: folded, no punctuation, no edition noise.

    Series markers become "book N" so "Vol. 1" and "Book One" agree. The subtitle is
    kept (its colon is dropped); use ``split_subtitle`` first to compare it separately.
    """
    tokens = [t for t in _words(text) if t not in _NOISE]
    while len(tokens) > 2 and tokens[-2:] == ["a", "novel"]:
        del tokens[-2:]
    tokens = _normalise_markers(tokens)
    while len(tokens) > 1 and tokens[0] in _ARTICLES:
        del tokens[0]
    return " ".join(tokens)


def split_subtitle(text: str) -> tuple[str, str]:
    """ "Dune: Book One of the Dune Chronicles" -> ("Dune", "Book One of the Dune Chronicles")."""
    main, _, subtitle = text.partition(":")
    return main.strip(), subtitle.strip()


# --- names ---------------------------------------------------------------------------------


def _is_single_word(part: str) -> bool:
    return len(part.split()) == 1


def _ends_with_initial(part: str) -> bool:
    last = part.split()[-1].rstrip(".")
    return len(last) == 1 or (part.endswith(".") and len(last) <= 3)


def _split_commas(chunk: str) -> list[str]:
    """Commas separate people *or* a reversed name; tell "Le Guin, Ursula K." apart."""
    parts = [p.strip() for p in chunk.split(",") if p.strip()]
    if len(parts) == 2:
        last, first = parts
        if fold(first).strip(".") in _NAME_SUFFIXES:
            return [f"{last} {first}"]
        if _is_single_word(last) or _is_single_word(first) or _ends_with_initial(first):
            return [f"{first} {last}"]
        return parts
    if len(parts) >= 4 and len(parts) % 2 == 0 and all(_is_single_word(p) for p in parts):
        return [f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2)]
    return parts


def split_names(text: str) -> tuple[str, ...]:
    """People in a credit, as displayable "First Last" strings.

    Splits on ";", "&", " and " and commas, reading "Herbert, Frank" as one reversed
    name (as Audiobookshelf's folder parser does).
    """
    names: list[str] = []
    for chunk in _NAME_SPLIT.split(text):
        for name in _split_commas(chunk):
            cleaned = " ".join(name.split()).strip(" -–—/|")
            if cleaned:
                names.append(cleaned)
    return tuple(names)


def _normalize_one(name: str) -> str:
    tokens = _NON_WORD.sub(" ", fold(name)).split()
    merged: list[str] = []
    initials = False  # whether merged[-1] was built from single letters
    for token in tokens:
        # "J. R. R." and "JRR" are the same initials. Never merge into the word "and":
        # a second pass would split the name in two.
        if initials and len(token) == 1 and token.isalpha() and merged[-1] + token != "and":
            merged[-1] += token
        else:
            merged.append(token)
            initials = len(token) == 1 and token.isalpha()
    return " ".join(merged)


@lru_cache(maxsize=8192)
def normalize_names(text: str) -> tuple[str, ...]:
    """Each person in a credit in comparable form: "Tolkien, J.R.R." -> ("jrr tolkien",)."""
    names: list[str] = []
    for name in split_names(fold(text)):
        normalized = _normalize_one(name)
        # Dropping punctuation can expose a separator ("AND/0, 0" -> "0 and 0"): split
        # again, or a second pass would, and normalising would not be idempotent.
        for piece in _NAME_SPLIT.split(normalized):
            tokens = _normalize_one(piece).split()
            while tokens and tokens[-1] == "and":  # "Smith, And" is no one called "and"
                tokens.pop()
            while tokens and tokens[0] == "and":
                tokens.pop(0)
            if tokens:
                names.append(" ".join(tokens))
    return tuple(names)


def normalize_name(text: str) -> str:
    """One comparable string for a credit; several people are joined with " & "."""
    return " & ".join(normalize_names(text))


def name_similarity(a: str, b: str) -> float:
    """1.0 for the same normalised name, 0.9 for the same surname and first initial."""
    if a == b:
        return 1.0
    a_tokens, b_tokens = a.split(), b.split()
    if not a_tokens or not b_tokens:
        return 0.0
    if sorted(a_tokens) == sorted(b_tokens):
        return 0.95  # "herbert frank": a reversed name without its comma
    if a_tokens[-1] != b_tokens[-1]:
        return 0.0
    if len(a_tokens) == 1 or len(b_tokens) == 1 or a_tokens[0][0] == b_tokens[0][0]:
        return 0.9
    return 0.0


def names_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Best similarity between any two of the normalised names; None when a side has none."""
    if not a or not b:
        return None
    return max(name_similarity(x, y) for x in a for y in b)


# --- identifiers ---------------------------------------------------------------------------


def canonical_asin(text: str) -> str:
    return "".join(c for c in text if c.isascii() and c.isalnum()).upper()


def canonical_isbn(text: str) -> str:
    """ISBN-13 digits for an ISBN-10 or -13 in any hyphenation, so both spellings compare."""
    digits = "".join(c for c in text if c.isascii() and c.isalnum()).upper()
    if _ISBN10.fullmatch(digits):
        body = "978" + digits[:9]
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
        return body + str((10 - total % 10) % 10)
    return digits


# --- titles --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreparedTitle:
    """A title's tokens without series markers, with what similarity needs precomputed."""

    text: str
    tokens: frozenset[str]
    bigrams: frozenset[str]
    position: str


_EMPTY_TITLE = PreparedTitle("", frozenset(), frozenset(), "")


@lru_cache(maxsize=8192)
def prepare_title(text: str) -> PreparedTitle:
    tokens = normalize_title(text).split()
    kept: list[str] = []
    position = ""
    i = 0
    while i < len(tokens):
        if tokens[i] == _SERIES_WORD and i + 1 < len(tokens) and _NUMBER.fullmatch(tokens[i + 1]):
            position = position or tokens[i + 1]
            i += 2
            continue
        kept.append(tokens[i])
        i += 1
    if not kept and not position:
        return _EMPTY_TITLE
    joined = " ".join(kept)
    bigrams = frozenset(joined[i : i + 2] for i in range(len(joined) - 1))
    return PreparedTitle(joined, frozenset(kept), bigrams, position)


def _near(a: str, b: str) -> bool:
    # British/American spelling and plurals: same start, nearly the same length.
    return len(a) >= 4 and len(b) >= 4 and a[:3] == b[:3] and abs(len(a) - len(b)) <= 2


def title_similarity(a: PreparedTitle, b: PreparedTitle) -> float:
    """Mean of a soft token Jaccard and a character-bigram Dice coefficient, in [0, 1].

    Token Jaccard punishes extra words ("Dune" vs "Dune Messiah" is 0.5); bigrams forgive
    spelling variants. Both are set operations, far cheaper than difflib on every release.
    """
    if not a.tokens or not b.tokens:
        return 0.0
    if a.text == b.text:
        return 1.0
    exact = a.tokens & b.tokens
    shared = float(len(exact))
    rest_a, rest_b = a.tokens - exact, b.tokens - exact
    if rest_a and rest_b:
        # Counted from both sides and the smaller kept, so the score is symmetric.
        near_a = sum(1 for x in rest_a if any(_near(x, y) for y in rest_b))
        near_b = sum(1 for y in rest_b if any(_near(x, y) for x in rest_a))
        shared += NEAR_TOKEN_WEIGHT * min(near_a, near_b)
    jaccard = shared / (len(a.tokens) + len(b.tokens) - shared)
    total = len(a.bigrams) + len(b.bigrams)
    dice = 2 * len(a.bigrams & b.bigrams) / total if total else 0.0
    return (jaccard + dice) / 2


# --- books ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookKey:
    """What identifies a book across sources; empty strings mean unknown."""

    title: str
    authors: tuple[str, ...] = ()
    asin: str = ""
    isbn: str = ""
    position: str = ""


@dataclass(frozen=True, slots=True)
class PreparedBook:
    """A BookKey normalised once, so a wanted book is compared to many candidates cheaply."""

    full: PreparedTitle
    main: PreparedTitle
    #: After the colon: the title itself when a source wrote "Series: Title".
    subtitle: PreparedTitle
    authors: tuple[str, ...]
    asin: str
    isbn: str
    position: str


def prepare(key: BookKey) -> PreparedBook:
    main_text, subtitle = split_subtitle(key.title)
    full = prepare_title(key.title)
    main = prepare_title(main_text) if subtitle else full
    after = prepare_title(subtitle) if subtitle else _EMPTY_TITLE
    authors = tuple(name for author in key.authors for name in normalize_names(author))
    position = canonical_position(key.position) or full.position
    return PreparedBook(
        full=full,
        main=main,
        subtitle=after,
        authors=authors,
        asin=canonical_asin(key.asin),
        isbn=canonical_isbn(key.isbn),
        position=position,
    )


def best_title_similarity(a: PreparedBook, b: PreparedBook) -> float:
    """Title similarity tolerant of a subtitle, or a series name before a colon, on either side."""
    best = title_similarity(a.full, b.full)
    if best < 1.0 and (a.main is not a.full or b.main is not b.full):
        for x in _variants(a):
            for y in _variants(b):
                if x is not a.full or y is not b.full:
                    best = max(best, title_similarity(x, y))
    return best


def _variants(book: PreparedBook) -> tuple[PreparedTitle, ...]:
    if book.main is book.full:
        return (book.full,)
    return book.full, book.main, book.subtitle


def match_prepared(a: PreparedBook, b: PreparedBook) -> float:
    if a.asin and a.asin == b.asin:
        return 1.0
    if a.isbn and a.isbn == b.isbn:
        return 1.0
    if a.asin and b.asin:
        return 0.0  # two editions (or two books) with their own Audible ids
    score = best_title_similarity(a, b)
    authors = names_overlap(a.authors, b.authors)
    if authors is not None:
        score = TITLE_WEIGHT * score + (1 - TITLE_WEIGHT) * authors
    if a.position and b.position and a.position != b.position:
        score *= 0.5  # book 1 and book 2 of a series: similar, never the same
    return min(1.0, max(0.0, score))


def match_score(a: BookKey, b: BookKey) -> float:
    """How likely two descriptions are one book, in [0, 1]; identifiers decide first."""
    return match_prepared(prepare(a), prepare(b))


def is_same_book(a: BookKey, b: BookKey, threshold: float = 0.85) -> bool:
    return match_score(a, b) >= threshold


def clear_caches() -> None:
    """Forget normalised strings (the caches only ever hold derived, immutable values)."""
    for cached in (fold, normalize_title, normalize_names, prepare_title):
        cached.cache_clear()
