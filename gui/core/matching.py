"""Whether two descriptions name the same book: a wanted one, an owned one, a release.

Metadata from Audible, Audiobookshelf and indexer release titles spell the same book in
different ways ("J.R.R. Tolkien" / "Tolkien, J. R. R.", "The Hobbit (Unabridged)" /
"Hobbit, The", "Slaughterhouse 5" / "Slaughterhouse-Five", "Enders Game" / "Ender's
Game"), so everything is compared in a normalised form. Identifiers win over text when
both sides have them: a shared ASIN, ISBN or Open Library work id (or one of the other
editions' identifiers a source listed, `BookKey.also`) settles it, two different ASINs are
two different editions. Without identifiers the score mixes title similarity (token
overlap plus character bigrams, so "Colour"/"Color" still match while "Dune"/"Dune
Messiah" do not) with author overlap, and a differing series position always means a
different book.

Full titles are compared first. A subtitle is dropped only when it merely describes the
book ("A Novel", "Book One of the Dune Chronicles") or something else agrees (series
position, running time): "Red Rising: Dark Age" is another book than "Red Rising". Near
the threshold the text alone never decides (`judge` answers "unsure").

Pure functions: no I/O, no Qt. Normalisers are cached because a search repeats the same
author names hundreds of times.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

__all__ = [
    "UNSURE_MARGIN",
    "BookKey",
    "PreparedBook",
    "PreparedTitle",
    "Verdict",
    "asin_problem",
    "best_title_similarity",
    "book_title_similarity",
    "canonical_asin",
    "canonical_isbn",
    "canonical_position",
    "clear_caches",
    "durations_agree",
    "fold",
    "is_same_book",
    "isbn_problem",
    "judge",
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
# "Ender's Game" is "Enders Game": an apostrophe joins, never splits, a word.
_APOSTROPHES = re.compile(r"['’ʼ‘`´]")
# "20,000 Leagues": a thousands separator is part of the number.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# "Hobbit, The" (library sort order) is "The Hobbit"; also before a subtitle or edition.
_TRAILING_ARTICLE = re.compile(
    r",\s*(?:the|a|an|le|la|les|der|die|das|el|los)\s*(?=$|[:(\[])", re.IGNORECASE
)

_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "l", "der", "die", "das", "el", "los"})
_NOISE = frozenset({"unabridged", "abridged", "audiobook", "audiobooks"})
_MARKERS = frozenset({"book", "bk", "vol", "volume", "part", "pt", "tome"})
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_WORD_NUMBERS = {word: str(value) for value, word in enumerate(_NUMBER_WORDS.split(" "))}
_SMALL_NUMBERS = {word: int(value) for word, value in _WORD_NUMBERS.items()}
_TENS = {
    word: 10 * value
    for value, word in enumerate(
        ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), 2
    )
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
#: Abbreviations spelt out, so "Dr. Sleep" is "Doctor Sleep".
_ABBREVIATIONS = {"dr": "doctor", "mr": "mister", "st": "saint", "vs": "versus"}
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


def _small_number(tokens: list[str], i: int) -> tuple[int, int] | None:
    """(value, next index) of "eighty-four", "twelve", "forty" at ``tokens[i]``: 0-99."""
    token = tokens[i]
    tens = _TENS.get(token)
    if tens is not None:
        unit = _SMALL_NUMBERS.get(tokens[i + 1]) if i + 1 < len(tokens) else None
        if unit is not None and 0 < unit < 10:
            return tens + unit, i + 2
        return tens, i + 1
    value = _SMALL_NUMBERS.get(token)
    return (value, i + 1) if value is not None else None


def _number_run(tokens: list[str], i: int) -> tuple[list[str], int] | None:
    """Number words from ``tokens[i]`` as digits: "nineteen eighty four" -> ["1984"].

    Cardinals add up ("two hundred and one" -> 201); two-digit groups side by side are
    read as a year ("nineteen eighty four", "twenty twenty"); other runs of single
    numbers stay apart ("one two three" -> 1 2 3).
    """
    first = _small_number(tokens, i)
    if first is None:
        return None
    groups: list[int] = [first[0]]
    j = first[1]
    total, current, scaled = 0, first[0], False
    while j < len(tokens):
        scale = _SCALES.get(tokens[j])
        if scale is not None:
            scaled = True
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
            j += 1
            if j + 1 < len(tokens) and tokens[j] == "and" and _small_number(tokens, j + 1):
                j += 1  # "one hundred and one"
            continue
        small = _small_number(tokens, j)
        if small is None:
            break
        if scaled:
            current += small[0]
        else:
            groups.append(small[0])
        j = small[1]
    if scaled:
        return [str(total + current)], j
    if len(groups) > 1 and all(g >= 10 for g in groups):
        return ["".join(str(g) for g in groups)], j
    return [str(g) for g in groups], j


def _numbers_to_digits(tokens: list[str]) -> list[str]:
    """ "Slaughterhouse Five" and "Slaughterhouse 5" are one title; so are "1984" and
    "Nineteen Eighty-Four". Digits are the one spelling every number is written in."""
    if not any(t in _SMALL_NUMBERS or t in _TENS for t in tokens):
        return [_ABBREVIATIONS.get(t, t) for t in tokens]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        run = _number_run(tokens, i)
        if run is None:
            out.append(_ABBREVIATIONS.get(tokens[i], tokens[i]))
            i += 1
        else:
            out += run[0]
            i = run[1]
    return out


@lru_cache(maxsize=8192)
def normalize_title(text: str) -> str:
    """The comparable form of a title: folded, no punctuation, no edition noise.

    Series markers become "book N" so "Vol. 1" and "Book One" agree; number words become
    digits ("Slaughterhouse-Five" = "Slaughterhouse 5"); apostrophes join ("Ender's" =
    "Enders"); a trailing article goes like a leading one ("Hobbit, The" = "The Hobbit").
    The subtitle is kept (its colon is dropped); use ``split_subtitle`` to compare it apart.
    """
    if "," in text:
        text = _THOUSANDS.sub("", _TRAILING_ARTICLE.sub("", text))
    text = _APOSTROPHES.sub("", text)
    tokens = _numbers_to_digits([t for t in _words(text) if t not in _NOISE])
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


_ASIN_SHAPE = re.compile(r"[A-Z0-9]{10}")


def isbn_problem(text: str) -> str | None:
    """Why ``text`` is not an ISBN (10 or 13 digits, hyphens and spaces allowed), or None."""
    digits = canonical_isbn(text)
    if not text.strip():
        return "an ISBN is needed"
    if not (digits.isdigit() and len(digits) == 13):
        return f"'{text.strip()}' is not an ISBN (10 or 13 digits)"
    return None


def asin_problem(text: str) -> str | None:
    """Why ``text`` is not an Audible ASIN (10 letters and digits), or None."""
    cleaned = text.strip().upper()
    if not _ASIN_SHAPE.fullmatch(cleaned):
        return f"'{text.strip()}' is not an ASIN (10 letters and digits)"
    return None


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
    #: Open Library work id ("OL45883W"): every edition and translation of one work.
    work_id: str = ""
    #: Other identifiers of the same work: ISBNs and ASINs of its other editions, which
    #: is how "Sorcerer's Stone" and "Philosopher's Stone" are known to be one book.
    also: tuple[str, ...] = ()
    #: Running time in seconds, 0 when unknown.
    duration: float = 0.0


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
    #: Every identifier, prefixed by kind ("isbn:978...", "asin:B0...", "work:OL45883W").
    ids: frozenset[str] = frozenset()
    duration: float = 0.0
    #: Whether the subtitle only describes the book ("A Novel", "Book One of the Dune
    #: Chronicles", "Or There and Back Again") rather than naming a work of its own.
    descriptive_subtitle: bool = False


#: Subtitles made of these words (besides articles, "of", a series marker and names of
#: series) say what the book is, not which one: "Dune: A Novel", "Dune: Book One".
_DESCRIPTIVE_WORDS = frozenset(
    {"novel", "novella", "novels", "memoir", "thriller", "mystery", "romance", "story",
     "stories", "tale", "tales", "unabridged", "edition", "classic", "classics", "book",
     "series", "saga", "trilogy", "chronicles", "cycle", "sequence", "collection"}
)  # fmt: skip
_ORDINALS = frozenset(
    {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
     "tenth", "final", "last", "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th"}
)  # fmt: skip
_WORK_ID = re.compile(r"OL\d+W", re.IGNORECASE)


def _is_descriptive(subtitle: str, prepared: PreparedTitle) -> bool:
    """ "Book One of the Dune Chronicles", "A Novel", "Or, There and Back Again": True;
    "Dark Age", "A Graphic History", "The Empire Strikes Back": False."""
    if not subtitle:
        return False
    tokens = normalize_title(subtitle).split()
    if tokens and tokens[0] == "or":
        return True  # an alternative title of the same book
    if prepared.position:
        return True  # "Book 1 of the Expanse": where the book stands, not another book
    if any(t in _ORDINALS and n in _MARKERS for t, n in pairwise(tokens)):
        return True  # "Being the First Part of The Lord of the Rings"
    words = [t for t in tokens if t not in _ARTICLES and t not in ("of", "and")]
    return bool(words) and words[-1] in _DESCRIPTIVE_WORDS


def _identifiers(key: BookKey) -> frozenset[str]:
    ids: set[str] = set()
    for raw in (key.asin, key.isbn, key.work_id, *key.also):
        text = raw.strip()
        if not text:
            continue
        if _WORK_ID.fullmatch(text):
            ids.add("work:" + text.upper())
            continue
        isbn = canonical_isbn(text)
        if isbn.isdigit() and len(isbn) == 13:
            ids.add("isbn:" + isbn)
        elif len(asin := canonical_asin(text)) == 10:
            ids.add("asin:" + asin)
    return frozenset(ids)


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
        ids=_identifiers(key),
        duration=max(0.0, key.duration),
        descriptive_subtitle=_is_descriptive(subtitle, after),
    )


def best_title_similarity(a: PreparedBook, b: PreparedBook) -> float:
    """Title similarity tolerant of a subtitle, or a series name before a colon, on either side.

    Lenient on purpose: a release title's "Series: Title" is a guess of the parser, and the
    ranking weighs this with everything else. Whether two *books* are one uses the stricter
    `book_title_similarity`.
    """
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


#: Running times within this fraction of each other are one recording's (ABS and Audible
#: round differently; a publisher's intro or outro adds a minute or two).
DURATION_TOLERANCE = 0.05


def durations_agree(a: float, b: float, tolerance: float = DURATION_TOLERANCE) -> bool | None:
    """True within the tolerance, False beyond it, None when either is unknown."""
    if a <= 0 or b <= 0:
        return None
    return abs(a - b) <= tolerance * max(a, b)


def _main_title_allowed(a: PreparedBook, b: PreparedBook) -> bool:
    """Whether "Title: Subtitle" may be compared as plain "Title" with the other book.

    "Red Rising: Dark Age" is not "Red Rising", nor "Sapiens: A Graphic History"
    "Sapiens": a subtitle can name a work of its own. The main title alone decides only
    when the subtitle just describes the book, or when something besides the text agrees:
    the series position on both sides, or the running time.
    """
    if a.descriptive_subtitle or b.descriptive_subtitle:
        return True
    if a.position and a.position == b.position:
        return True
    return bool(durations_agree(a.duration, b.duration))


def book_title_similarity(a: PreparedBook, b: PreparedBook) -> float:
    """Title similarity for "are these one book": full titles first, parts only with care.

    A series name before the colon may be dropped ("Mistborn: The Final Empire" is "The
    Final Empire"); a subtitle after it only by `_main_title_allowed`.
    """
    best = title_similarity(a.full, b.full)
    if best >= 1.0 or (a.main is a.full and b.main is b.full):
        return best
    # "Series: Title" on one side, "Title" (or the same "Series: Title" split apart) on
    # the other: the part after the colon is the title.
    if a.subtitle.tokens:
        best = max(best, title_similarity(a.subtitle, b.full))
        if b.subtitle.tokens:
            best = max(best, title_similarity(a.subtitle, b.subtitle))
    if b.subtitle.tokens:
        best = max(best, title_similarity(a.full, b.subtitle))
    if _main_title_allowed(a, b):
        best = max(best, title_similarity(a.main, b.main))
    return best


def _text_score(a: PreparedBook, b: PreparedBook) -> float:
    score = book_title_similarity(a, b)
    authors = names_overlap(a.authors, b.authors)
    if authors is not None:
        score = TITLE_WEIGHT * score + (1 - TITLE_WEIGHT) * authors
    if a.position and b.position and a.position != b.position:
        score *= 0.5  # book 1 and book 2 of a series: similar, never the same
    return min(1.0, max(0.0, score))


def _only_the_subtitle_differs(a: PreparedBook, b: PreparedBook, threshold: float) -> bool:
    """ "Sapiens" and "Sapiens: A Brief History of Humankind" (or "...: A Graphic History"):
    one side's subtitle is all that stands between them, so the text cannot tell."""
    if (a.main is a.full) == (b.main is b.full):
        return False  # both with a subtitle (compared in full), or neither
    if a.position and b.position and a.position != b.position:
        return False
    authors = names_overlap(a.authors, b.authors)
    title = title_similarity(a.main, b.main)
    score = title if authors is None else TITLE_WEIGHT * title + (1 - TITLE_WEIGHT) * authors
    return score >= threshold


def match_prepared(a: PreparedBook, b: PreparedBook) -> float:
    """How likely two prepared books are one, in [0, 1]; identifiers decide first."""
    if (a.ids and not a.ids.isdisjoint(b.ids)) or (a.isbn and a.isbn == b.isbn):
        return 1.0  # one edition's ASIN or ISBN, or one Open Library work
    if a.asin and b.asin:
        return 0.0  # two editions (or two books) with their own Audible ids
    return _text_score(a, b)


def match_score(a: BookKey, b: BookKey) -> float:
    """How likely two descriptions are one book, in [0, 1]; identifiers decide first."""
    return match_prepared(prepare(a), prepare(b))


#: Text scores this close to the threshold are never decided by the text alone.
UNSURE_MARGIN = 0.05


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether two books are one: True, False, or None when nothing can tell.

    ``reason`` says what decided, for logs and the user ("same ISBN", "titles agree").
    """

    same: bool | None
    score: float
    reason: str


def judge(a: PreparedBook, b: PreparedBook, threshold: float = 0.85) -> Verdict:
    """Identifiers decide; then the text, except near the threshold, where only an
    agreeing (or clashing) running time or series position does. "Harry Potter and the
    Sorcerer's Stone" and "...Philosopher's Stone" score 0.85 to each other: the same work
    to one reader, a spelling accident to another. Without a shared identifier it is
    "unsure", never a coin toss on the third decimal."""
    if (a.ids and not a.ids.isdisjoint(b.ids)) or (a.isbn and a.isbn == b.isbn):
        return Verdict(True, 1.0, "same identifier")
    if a.asin and b.asin:
        return Verdict(False, 0.0, "different Audible editions")
    score = _text_score(a, b)
    if score >= threshold + UNSURE_MARGIN:
        return Verdict(True, score, "titles and authors agree")
    if score < threshold - UNSURE_MARGIN:
        if durations_agree(a.duration, b.duration) is False:
            return Verdict(False, score, "titles differ and so do running times")
        if _only_the_subtitle_differs(a, b, threshold):
            return Verdict(None, score, "same main title; the subtitle may name another work")
        return Verdict(False, score, "titles or authors differ")
    duration = durations_agree(a.duration, b.duration)
    if duration is not None:
        reason = "running times agree" if duration else "running times differ"
        return Verdict(duration, score, reason)
    if a.position and a.position == b.position and score >= threshold:
        return Verdict(True, score, "series positions agree")
    return Verdict(None, score, "close titles, nothing else to tell them apart")


def is_same_book(a: BookKey, b: BookKey, threshold: float = 0.85) -> bool:
    """Only a sure yes (`judge`): an unsure pair is not the same book."""
    return judge(prepare(a), prepare(b), threshold).same is True


def clear_caches() -> None:
    """Forget normalised strings (the caches only ever hold derived, immutable values)."""
    for cached in (fold, normalize_title, normalize_names, prepare_title):
        cached.cache_clear()
