"""What an indexer's release title says about the audiobook inside it.

Release titles are free text written by uploaders ("Frank Herbert - Dune (Unabridged)
[2007] [M4B] {Scott Brick}", "Dune.by.Frank.Herbert.MP3.64kbps"), so parsing is a
best effort that must never fail: whatever cannot be read stays in the title, and the
ranking decides how much to trust it. The conventions followed are Audiobookshelf's folder
names ("{Narrator}", "[ASIN]", "Vol 1 - "), scene names (dots for spaces) and the usual
tracker tags in brackets.

Audiobookshelf's folder conventions are read too: a leading year or position segment
("1945 - Animal Farm", "Vol 1 - 1994 - ...", "0.5 - Title", "6. Title"), never taken for
an author; a segment is the author only when it reads as people (or one capitalised
name), so "Heart of Black Ice - Sister of Darkness" is a title and its subtitle.
tests/fixtures/release_names.json holds real names with other projects' expected fields;
bench/release_parsing.py prints the accuracy per field.

Tags are *strong* when they cannot be part of a title (m4b, 64kbps, Unabridged) and *weak*
when they can (a year, "German"): a bare weak tag only counts next to a strong one or in
brackets, so "The German Girl" keeps its title and "1984" stays a book.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from gui.core.matching import canonical_position, fold, split_names

__all__ = [
    "AUDIO_FORMATS",
    "ParsedRelease",
    "clear_caches",
    "language_code",
    "looks_like_names",
    "parse_release_title",
]

#: Audio container or codec names recognised in titles, as they are reported.
AUDIO_FORMATS = frozenset({"m4b", "m4a", "mp3", "flac", "opus", "ogg", "aac", "wma"})

#: Longer titles are cut: no real release name is this long, and parsing stays bounded.
MAX_TITLE_LENGTH = 400

_LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("english", "eng", "en"),
    "de": ("german", "deutsch", "ger", "deu", "de"),
    "fr": ("french", "francais", "fre", "fra", "fr"),
    "es": ("spanish", "espanol", "castellano", "spa", "esp", "es"),
    "it": ("italian", "italiano", "ita", "it"),
    "nl": ("dutch", "nederlands", "dut", "nld", "nl"),
    "pt": ("portuguese", "portugues", "por", "pt"),
    "ru": ("russian", "rus", "ru"),
    "pl": ("polish", "polski", "pol", "pl"),
    "sv": ("swedish", "svenska", "swe", "sv"),
    "da": ("danish", "dansk", "dan", "da"),
    "no": ("norwegian", "norsk", "nor"),
    "fi": ("finnish", "suomi", "fin", "fi"),
    "cs": ("czech", "cesky", "cestina", "cze", "ces", "cz"),
    "hu": ("hungarian", "magyar", "hun", "hu"),
    "ja": ("japanese", "jpn", "ja"),
    "zh": ("chinese", "chi", "zho", "zh"),
}
_LANGUAGES = {word: code for code, words in _LANGUAGE_WORDS.items() for word in words}
_GERMAN_HINTS = frozenset({"horbuch", "hoerbuch", "ungekurzt", "ungekuerzt", "gekurzt", "gekuerzt"})
_UNABRIDGED_WORDS = frozenset({"unabridged", "ungekurzt", "ungekuerzt", "integral", "integrale"})
_ABRIDGED_WORDS = frozenset({"abridged", "gekurzt", "gekuerzt", "condensed"})
_NOISE = frozenset(
    {"audiobook", "audiobooks", "audio", "horbuch", "hoerbuch", "retail", "vbr", "cbr",
     "stereo", "mono", "aax", "audible", "chapterized", "chaptered", "mp3cd", "eac",
     "lossless", "cdrip", "webrip"}
)  # fmt: skip
# Not the audiobook. Weak tags, kept out of the title beside other tags so that it still
# matches (the policy's must-not words see every word and reject such releases), but a
# title of their own ("The Sample") stays.
_EXTRAS = frozenset({"ebook", "ebooks", "epub", "pdf", "mobi", "azw3", "sample"})
# Words that make a capitalised phrase a series or an edition rather than a person.
_NOT_NAME_WORDS = frozenset(
    {"series", "saga", "trilogy", "chronicles", "cycle", "book", "books", "vol", "volume",
     "collection", "edition", "part", "novel", "novels", "archive", "tales", "stories",
     "complete", "unabridged", "abridged", "audiobook", "mystery", "mysteries", "of", "the"}
)  # fmt: skip
_ARTICLES = frozenset(
    {"the", "a", "an", "der", "die", "das", "el", "los", "las", "les", "le", "la", "il"}
)
_NAME_PARTICLES = frozenset(
    {"de", "van", "von", "der", "den", "le", "la", "du", "di", "da", "del", "della", "des",
     "st", "mc", "mac", "bin", "ibn", "al", "el", "y", "ter", "ten", "zu"}
)  # fmt: skip

_BRACKETS = re.compile(r"\[([^\[\]]*)\]|\(([^()]*)\)|\{([^{}]*)\}")
_DECIMAL = re.compile(r"\d\.\d")
_STRAY_BRACKETS = re.compile(r"[\[\](){}]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Dots and underscores are spaces in scene names, except inside a number ("Book.1.5").
_SCENE_SEPARATOR = re.compile(r"(?<![^\W_])(\d+\.\d+)(?![^\W_])|[._]")
_SPACED_BITRATE = re.compile(r"\b(\d{2,3})\s*(?:kbps|kbit/s|kbits|kbit|kb/s|kb|k)\b", re.IGNORECASE)
_SEGMENT = re.compile(r"\s+[-–—~|]+\s+|\s*[–—]\s*")
_SCENE_SEGMENT = re.compile(r"\s*[-–—~|]+\s*")
# "M4B/MP3", "ENG + M4B", "[EAC-FLAC]", "[MP3-256]": several tags in one token.
_PART_SPLIT = re.compile(r"[+@,;|&-]+|/(?!s$)")
_PART_CHARS = re.compile(r"[+@,;|&/-]")
_SIZE = re.compile(r"\d+(?:[.,]\d+)?(?:kb|mb|gb|kib|mib|gib)")
# "[M4A-256]-V3nom": a release group glued to the closing bracket of a tag.
_GLUED_GROUP = re.compile(r"(?<=[\])}])-[^\W_][\w.]*")
# A scene name's file extension: "...by.J.K.Rowling.mobi".
_EXTENSION = re.compile(
    r"\.(?:m4b|m4a|mp3|flac|opus|ogg|epub|mobi|azw3|pdf|zip|rar)$", re.IGNORECASE
)
_TOKEN_STRIP = ".,;:!?'\"-_*"
_ASIN = re.compile(r"B0[0-9A-Z]{8}")
_BITRATE_TOKEN = re.compile(r"(\d{2,3})(?:kbps|kbit/s|kbits|kbit|kb/s|kb|k)")
_READ_BY = re.compile(
    r"^(?P<pre>.*?)\s*\b(?:read|narrated|performed|narr\.?)\s+by\b\s*:?\s*(?P<names>.+)$"
    r"|^(?P<pre2>.*?)\s*\bnarrators?\s*:\s*(?P<names2>.+)$",
    re.IGNORECASE,
)
_BY = re.compile(r"^(?P<title>.+?)\s+by\s+(?P<author>.+)$", re.IGNORECASE)
_POSITION_NUMBER = r"\d{1,3}(?:\.\d{1,2})?"
_WORD_NUMBER = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_ROMAN = r"[ivx]{1,5}"
_MARKED_POSITION = re.compile(
    rf"^(?P<pre>.*?)[\s,:;.(]*(?:\b(?:book|volume|vol|part|tome)\b\.?\s*#?\s*"
    rf"(?P<num>{_POSITION_NUMBER}|{_WORD_NUMBER}|{_ROMAN})\b"
    rf"|(?:\b(?:bk|pt|no|nr|teil|band|folge)\b\.?\s*|#\s*)(?P<num2>{_POSITION_NUMBER})\b)"
    rf"(?:\s*of\s*\d+)?[\s,:;.)]*(?P<post>.*)$",
    re.IGNORECASE,
)
_TRAILING_POSITION = re.compile(rf"^(?P<pre>.*?\D)[\s,#]+(?P<num>{_POSITION_NUMBER})$")
_PURE_POSITION = re.compile(
    rf"^(?:(?:book|volume|vol|part|tome|bk|pt|no|nr|teil|band|folge)\b\.?\s*)?#?\s*"
    rf"(?P<num>{_POSITION_NUMBER})(?:\s*of\s*\d+)?$",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[^\W_]+")
_MARKER_WORDS = frozenset(
    {"book", "volume", "vol", "part", "tome", "bk", "pt", "no", "nr", "teil", "band", "folge"}
)
_EDGE_PUNCTUATION = " -–—,:;./|~+"
_RIGHT_EDGE = " -–—,:;/|~+"


class ParsedRelease(NamedTuple):
    """Everything read from one release title; None or empty where the title is silent.

    A NamedTuple rather than a frozen dataclass: it is built for every release of every
    search and is several times cheaper to create, while staying immutable (parsed titles
    are cached and shared).
    """

    title: str = ""
    authors: tuple[str, ...] = ()
    series: str | None = None
    position: str | None = None
    narrators: tuple[str, ...] = ()
    year: int | None = None
    format: str | None = None
    bitrate_kbps: int | None = None
    abridged: bool | None = None
    language: str | None = None
    asin: str | None = None
    #: Folded alphanumeric tokens of the whole title, for must / must-not words.
    words: frozenset[str] = frozenset()


def language_code(text: str) -> str | None:
    """ "German", "deu", "DE" -> "de"; None for what is not a known language."""
    return _LANGUAGES.get(fold(text).strip(_TOKEN_STRIP + "[](){} "))


# --- tags ----------------------------------------------------------------------------------

# Tag kinds. Plain ints rather than an Enum: they are compared for every token.
(
    _FORMAT, _BITRATE, _UNABRIDGED, _ABRIDGED, _NOISE_TAG, _YEAR_TAG, _LANGUAGE, _CODE, _NUMBER,
    _PUNCT, _EXTRA,
) = range(11)  # fmt: skip
_STRONG = frozenset({_FORMAT, _BITRATE, _UNABRIDGED, _ABRIDGED, _NOISE_TAG})
_Tag = tuple[int, str]
_Tags = tuple[_Tag, ...]


def _fixed_tags() -> dict[str, _Tag]:
    table: dict[str, _Tag] = {}
    for word, code in _LANGUAGES.items():
        # Short codes ("it", "no", "de") are also words: tags in brackets or in capitals.
        table[word] = (_CODE if len(word) <= 3 else _LANGUAGE, code)
    table.update({word: (_NOISE_TAG, word) for word in _NOISE})
    table.update({word: (_EXTRA, word) for word in _EXTRAS})
    table.update({word: (_ABRIDGED, word) for word in _ABRIDGED_WORDS})
    table.update({word: (_UNABRIDGED, word) for word in _UNABRIDGED_WORDS})
    table.update({word: (_FORMAT, word) for word in AUDIO_FORMATS})
    return table


_FIXED_TAGS = _fixed_tags()
_CACHE_LIMIT = 50_000
_BARE_CACHE: dict[str, tuple[_Tags, int] | None] = {}
_BRACKET_CACHE: dict[str, tuple[_Tags, int] | None] = {}


def _part_tag(part: str) -> _Tag | None:
    low = part.lower() if part.isascii() else fold(part)
    tag = _FIXED_TAGS.get(low)
    if tag is not None:
        if tag[0] == _CODE and part.isupper():
            return _LANGUAGE, tag[1]
        return tag
    if not low[:1].isdigit() or not low.isascii():
        return None
    if low.isdigit():
        return (_YEAR_TAG, low) if len(low) == 4 and low[:2] in ("19", "20") else (_NUMBER, low)
    bitrate = _BITRATE_TOKEN.fullmatch(low)
    if bitrate:
        return _BITRATE, bitrate.group(1)
    if _SIZE.fullmatch(low):
        return _NOISE_TAG, low  # "{475mb}": the upload's size, never a narrator
    if low.endswith("khz"):
        return _NOISE_TAG, low
    return None


def _compute_tags(token: str) -> _Tags | None:
    parts = _PART_SPLIT.split(token) if _PART_CHARS.search(token) else (token,)
    tags: list[_Tag] = []
    for part in parts:
        stripped = part.strip(_TOKEN_STRIP)
        if not stripped:
            continue
        tag = _part_tag(stripped)
        if tag is None:
            return None
        tags.append(tag)
    if not tags and not any(c.isalnum() for c in token):
        return ((_PUNCT, ""),)  # "+", "/", "&": part of a run of tags, never one alone
    return tuple(tags) or None


# What the tag-removal loop needs to know about a token, as bits of one int.
_STRONG_BIT, _NUMBER_ONLY_BIT, _ENDS_FORMAT_BIT, _ALL_STRONG_BIT, _HAS_NUMBER_BIT = 1, 2, 4, 8, 16
_YEAR_ONLY_BIT = 32
_Info = tuple[_Tags, int]
_UNSEEN: _Info = ((), -1)  # a token not classified yet (no real info has empty tags)


def _flags(tags: _Tags) -> int:
    kinds = [kind for kind, _ in tags]
    flags = 0
    if any(kind in _STRONG for kind in kinds):
        flags |= _STRONG_BIT
    if all(kind in _STRONG for kind in kinds):
        flags |= _ALL_STRONG_BIT
    if _NUMBER in kinds:
        flags |= _HAS_NUMBER_BIT
        if all(kind == _NUMBER for kind in kinds):
            flags |= _NUMBER_ONLY_BIT
    if kinds[-1] == _FORMAT:
        flags |= _ENDS_FORMAT_BIT
    if all(kind == _YEAR_TAG for kind in kinds):
        flags |= _YEAR_ONLY_BIT
    return flags


def _token_info(token: str, bracketed: bool) -> _Info | None:
    """A token's tags ("M4B/MP3" has two) and their flags; None if any part is not a tag.

    Cached in plain dicts: a search repeats the same few hundred tokens a thousand times.
    """
    cache = _BRACKET_CACHE if bracketed else _BARE_CACHE
    try:
        return cache[token]
    except KeyError:
        pass
    tags = _compute_tags(token)
    if tags is not None and not bracketed and any(kind == _CODE for kind, _ in tags):
        tags = None
    info = (tags, _flags(tags)) if tags else None
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[token] = info
    return info


def _all_tags(text: str) -> _Tags | None:
    """The tags of bracketed text when every word of it is one ("[ENG / M4B / 64kbps]")."""
    tags: list[_Tag] = []
    for token in text.split():
        info = _token_info(token, True)
        if info is None:
            return None
        tags += info[0]
    return tuple(tags) or None


def _remove_tags(text: str, keep_weak_alone: bool) -> tuple[str, tuple[_Tags, ...]]:
    """Bare text without its tags, and the runs of tags taken out of it.

    Strong tags always go; weak ones only beside a strong one ("Dune 2007 MP3"), or when
    they are the whole text and that text cannot be the title (``keep_weak_alone`` off).
    """
    tokens = text.split()
    infos = [_BARE_CACHE.get(token, _UNSEEN) for token in tokens]
    if _UNSEEN in infos:
        infos = [_token_info(token, False) for token in tokens]
    if not any(infos):
        return text, ()
    count = len(tokens)
    drop = [False] * count
    runs: list[_Tags] = []
    i = 0
    while i < count:
        info = infos[i]
        if info is None:
            i += 1
            continue
        j = i
        run: list[_Tag] = []
        flags = 0
        while info is not None:
            run += info[0]
            flags |= info[1]
            j += 1
            info = infos[j] if j < count else None
        alone = i == 0 and j == count and not keep_weak_alone and not flags & _HAS_NUMBER_BIT
        # "Hyperion [FLAC] 2012": a year after the words of a title closes it.
        last_year = i > 0 and j == count == i + 1 and flags & _YEAR_ONLY_BIT
        if flags & _STRONG_BIT or alone or last_year:
            runs.append(tuple(run))
            previous = 0
            for k in range(i, j):
                token_flags = (infos[k] or _UNSEEN)[1]  # never None inside a run
                # "Catch 22 MP3": a number is a bitrate only right after a format.
                if not token_flags & _NUMBER_ONLY_BIT or previous & _ENDS_FORMAT_BIT:
                    drop[k] = True
                previous = token_flags
        i = j
    if not runs:
        return text, ()
    kept = [token for token, dropped in zip(tokens, drop, strict=True) if not dropped]
    if not kept and keep_weak_alone:
        # Everything looked like tags ("1984 MP3"): the weak ones were the title.
        kept = [t for t, i in zip(tokens, infos, strict=True) if i and not i[1] & _ALL_STRONG_BIT]
    return " ".join(kept), tuple(runs)


# --- names and positions -------------------------------------------------------------------


def _strip_edges(text: str) -> str:
    # A final dot stays: it ends initials ("Tolkien, J.R.R.").
    return " ".join(text.split()).lstrip(_EDGE_PUNCTUATION).rstrip(_RIGHT_EDGE)


@lru_cache(maxsize=4096)
def looks_like_names(text: str, relaxed: bool = False) -> bool:
    """Whether text reads as people ("Frank Herbert", "Kate Reading, Michael Kramer").

    Capitalised words without digits, no leading article, at least one full name; with
    ``relaxed`` (all-lowercase scene titles) capitals are not required. Cached: a search
    names the same authors over and over.
    """
    names = split_names(text)
    if not names or len(names) > 6:
        return False
    full_name = False
    for name in names:
        words = name.split()
        if len(words) > 5 or fold(words[0]) in _ARTICLES:
            return False
        for word in words:
            folded = fold(word).strip(".'")
            if folded in _NAME_PARTICLES:
                continue
            if not word[0].isalpha() or any(c.isdigit() for c in word):
                return False
            if folded in _NOT_NAME_WORDS or folded in AUDIO_FORMATS:
                return False
            if not relaxed and not word[0].isupper():
                return False
        full_name = full_name or len(words) >= 2
    return full_name


def _may_have_marker(segment: str) -> bool:
    """A cheap test before the position regex: most segments have no "Book 2" or "#2"."""
    if "#" in segment:
        return True
    words = segment.lower().replace(".", " ").replace(",", " ").split()
    return not _MARKER_WORDS.isdisjoint(words)


@lru_cache(maxsize=4096)
def _pure_position(segment: str) -> str | None:
    if not segment[-1:].isdigit():
        return None
    match = _PURE_POSITION.fullmatch(segment)
    return canonical_position(match.group("num")) if match else None


def _marked_position(segment: str) -> tuple[str, str, str] | None:
    """(before, position, after) around "Book 2", "Vol. II", "#2" inside a segment."""
    if not _may_have_marker(segment):
        return None
    match = _MARKED_POSITION.match(segment)
    if match is None:
        return None
    position = canonical_position(match.group("num") or match.group("num2") or "")
    if not position:
        return None
    return _strip_edges(match.group("pre")), position, _strip_edges(match.group("post"))


@lru_cache(maxsize=4096)
def _series_and_position(segment: str, trailing_number: bool) -> tuple[str, str] | None:
    """(series, position) from "The Stormlight Archive 01" or "Discworld, Book 2"."""
    marked = _marked_position(segment)
    if marked is not None:
        before, position, after = marked
        series = before
        if not series and after.lower().startswith("of "):
            series = _strip_edges(after[3:])  # "Book One of the Dune Chronicles"
        return series, position
    if trailing_number and segment[-1:].isdigit():
        match = _TRAILING_POSITION.match(segment)
        if match:
            return _strip_edges(match.group("pre")), canonical_position(match.group("num"))
    return None


def _read_by(text: str) -> tuple[str, str] | None:
    """(before, names) around "read by X" / "narrated by X" / "Narrator: X"."""
    lower = text.lower()
    if "by" not in lower and "narr" not in lower:
        return None
    match = _READ_BY.match(text)
    if match is None:
        return None
    names = match.group("names") or match.group("names2") or ""
    return match.group("pre") or match.group("pre2") or "", names


# --- pieces --------------------------------------------------------------------------------


# A piece of a title (a bracketed group, a segment, the segments together) contributes
# (field, value) pairs. Pieces depend only on their own text, so they are cached: a search
# repeats "[M4B]", "{Scott Brick}" and "Frank Herbert - Dune" across hundreds of releases,
# and merging flat pairs is cheaper than merging objects field by field.
(
    _F_FORMAT, _F_BITRATE, _F_ABRIDGED, _F_YEAR, _F_LANGUAGE, _F_GERMAN, _F_SERIES,
    _F_POSITION, _F_ASIN, _F_UNKNOWN, _F_NARRATOR,
) = range(11)  # fmt: skip
_FIELD_COUNT = 11
_Contributions = tuple[tuple[int, str], ...]


def _edition(runs: tuple[_Tags, ...]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for run in runs:
        previous = -1
        for kind, value in run:
            if kind == _FORMAT:
                out.append((_F_FORMAT, value))
            elif kind == _BITRATE or (kind == _NUMBER and previous == _FORMAT):
                if 8 <= int(value) <= 512:
                    out.append((_F_BITRATE, str(int(value))))
            elif kind == _UNABRIDGED:
                out.append((_F_ABRIDGED, ""))
            elif kind == _ABRIDGED:
                out.append((_F_ABRIDGED, "abridged"))
            elif kind == _YEAR_TAG:
                out.append((_F_YEAR, value))
            elif kind in (_LANGUAGE, _CODE):
                out.append((_F_LANGUAGE, value))
            if value in _GERMAN_HINTS:
                out.append((_F_GERMAN, "de"))
            previous = kind
    return out


def _contributions(
    runs: tuple[_Tags, ...] = (),
    narrators: tuple[str, ...] = (),
    series: str | None = None,
    position: str | None = None,
    asin: str | None = None,
    unknown: str | None = None,
) -> _Contributions:
    out = _edition(runs) if runs else []
    for name in narrators:
        name = _strip_edges(name)
        if name:
            out.append((_F_NARRATOR, name))
    if series:
        series = _strip_edges(series)
        if series:
            out.append((_F_SERIES, series))
    if position:
        out.append((_F_POSITION, position))
    if asin:
        out.append((_F_ASIN, asin))
    if unknown:
        out.append((_F_UNKNOWN, unknown))
    return tuple(out)


def _group(content: str, bracket: str) -> _Contributions:
    content = _strip_edges(content)
    if not content:
        return ()
    tags = _all_tags(content)
    if tags is not None:
        return _contributions(runs=(tags,))
    read_by = _read_by(content)
    if read_by is not None:
        names, runs = _remove_tags(read_by[1], keep_weak_alone=True)
        return _contributions(runs=runs, narrators=split_names(names))
    rest, runs = _remove_tags(content, keep_weak_alone=True)
    rest = _strip_edges(rest)
    if not rest:
        return _contributions(runs=runs)
    if len(rest) == 10 and _ASIN.fullmatch(rest.upper()):
        return _contributions(runs=runs, asin=rest.upper())
    if bracket == "{":
        return _contributions(runs=runs, narrators=split_names(rest))
    series = _series_and_position(rest, trailing_number=True)
    if series is not None:
        return _contributions(runs=runs, series=series[0], position=series[1])
    if bracket == "[" and looks_like_names(rest):
        return _contributions(runs=runs, narrators=split_names(rest))
    return _contributions(runs=runs, unknown=rest)


# One cached function per bracket: a single str argument is lru_cache's fastest key.
@lru_cache(maxsize=4096)
def _square(content: str) -> _Contributions:
    return _group(content, "[")


@lru_cache(maxsize=4096)
def _round(content: str) -> _Contributions:
    return _group(content, "(")


@lru_cache(maxsize=4096)
def _curly(content: str) -> _Contributions:
    return _group(content, "{")


@lru_cache(maxsize=8192)
def _segment(raw: str) -> tuple[str, _Contributions]:
    """The segment's text without tags or "read by"; ``raw`` starts with a flag: "1" when
    the segment may be the title alone (fewer than three segments), else "0"."""
    keep_weak_alone, raw = raw[0] == "1", raw[1:]
    narrators: tuple[str, ...] = ()
    read_by = _read_by(raw)
    if read_by is not None:
        raw, narrators = read_by[0], split_names(read_by[1])
    text, runs = _remove_tags(raw, keep_weak_alone)
    return _strip_edges(text), _contributions(runs=runs, narrators=narrators)


@lru_cache(maxsize=4096)
def _title_with_position(title: str) -> tuple[str, str | None, str | None]:
    """(title, series, position) for a title segment that may carry "Book 2"."""
    marked = _marked_position(title)
    if marked is None:
        return title, None, None
    before, position, after = marked
    series = None
    if after.lower().startswith("of "):
        series = _strip_edges(after[3:]) or None  # "Book One of the Dune Chronicles"
        after = ""
    elif before and not after:
        series = before  # "Foundation, Book 1", "The Expanse Vol. 3": the series' name
    return before or after or title, series, position


@lru_cache(maxsize=4096)
def _authors(text: str) -> tuple[str, ...]:
    return tuple(a for a in (_strip_edges(a) for a in split_names(text)) if a)


_Assigned = tuple[tuple[str, ...], str, _Contributions]

# A leading "1. " / "6. " before the rest of a name: the book's place in a series (ABS).
_LEADING_NUMBER = re.compile(rf"^(?P<num>{_POSITION_NUMBER})\.\s+(?P<rest>\S.*)$")
# A leading year before an author ("1996 Stephen King").
_LEADING_YEAR = re.compile(r"^(?P<year>(?:19|20)\d\d)\s+(?P<rest>[^\W\d_].*)$")
_YEAR_SEGMENT = re.compile(r"^\(?(?P<year>(?:19|20)\d\d)\)?$")
# "Revelation Space 01 Revelation Space": series, a zero-padded number, title.
_INLINE_SERIES = re.compile(r"^(?P<series>\S.*?\D)\s+(?P<num>0\d{1,2})\s+(?P<title>[^\W\d_].*)$")
# "Adrian Tchaikovsky-Time-#1-Children of Time": author-series-#N-title without spaces.
_HASH_JOINED = re.compile(
    rf"^(?P<author>[^-#]+?)-(?P<series>[^-#]+?)-#(?P<num>{_POSITION_NUMBER})-(?P<title>.+)$"
)
_TRAILING_NOVEL = re.compile(r"^(?P<title>.+?)[\s:,-]+an?\s+novel$", re.IGNORECASE)


def _assigned(
    authors: tuple[str, ...],
    title: str,
    series: str | None = None,
    position: str | None = None,
    narrators: tuple[str, ...] = (),
    year: str | None = None,
) -> _Assigned:
    contributions = _contributions(narrators=narrators, series=series, position=position)
    if year:
        contributions += ((_F_YEAR, year),)
    title = _strip_edges(title)
    novel = _TRAILING_NOVEL.match(title)
    if novel:
        title = _strip_edges(novel.group("title"))  # "Never Flinch A Novel"
    return authors, title, contributions


def _single_name(segment: str, relaxed: bool) -> bool:
    """ "Tolkien", "Plato": one capitalised word with no digits may be an author's name."""
    words = segment.split()
    if len(words) != 1:
        return False
    word = fold(words[0]).strip(".'")
    return (
        (relaxed or segment[:1].isupper())
        and word.isalpha()
        and word not in _NOT_NAME_WORDS
        and word not in _ARTICLES
        and word not in AUDIO_FORMATS
    )


def _author_index(segments: tuple[str, ...], relaxed: bool) -> int | None:
    """Which " - " segment names the author: the first by convention, the last when only it
    reads as people ("Pride and Prejudice - Jane Austen"), none when no segment could
    ("Heart of Black Ice - Sister of Darkness": a title and its subtitle)."""
    if looks_like_names(segments[0], relaxed):
        return 0
    if looks_like_names(segments[-1], relaxed):
        return len(segments) - 1
    if _single_name(segments[0], relaxed):
        return 0
    return None


def _lead(segments: list[str]) -> tuple[list[str], str | None, str | None]:
    """Take a leading year or series position off the segments: "1945 - Animal Farm",
    "Vol 1 - 1994 - Wizards First Rule", "1. Alastair Reynolds - ...", "1996 Stephen King".

    Audiobookshelf's folder convention ("YEAR - Title", "Vol N - Title") wins over a
    reversed "1984 - George Orwell", which reads as the year 1984 and a title.
    """
    year: str | None = None
    position: str | None = None
    while len(segments) > 1:
        first = segments[0]
        rest = segments[1:]
        year_match = _YEAR_SEGMENT.match(first)
        if year_match and year is None:
            year = year_match.group("year")
        elif (found := _pure_position(first)) is not None and position is None:
            position = found
        else:
            break
        segments = rest
    if segments:
        first = segments[0]
        numbered = _LEADING_NUMBER.match(first)
        if numbered and position is None and (len(segments) > 1 or numbered.group("rest")):
            position = canonical_position(numbered.group("num"))
            first = numbered.group("rest")
        dated = _LEADING_YEAR.match(first)
        if dated and year is None and len(segments) > 1:
            year = dated.group("year")
            first = dated.group("rest")
        segments = [first, *segments[1:]]
    return segments, year, position


def _inline_series(segment: str) -> tuple[str, str, str] | None:
    """(series, position, title) from "Revelation Space 01 Revelation Space"."""
    if not any(c.isdigit() for c in segment):
        return None
    match = _INLINE_SERIES.match(segment)
    if match is None or fold(match.group("series")) in _ARTICLES:
        return None
    return (
        _strip_edges(match.group("series")),
        canonical_position(match.group("num")),
        _strip_edges(match.group("title")),
    )


def _same_text(a: str, b: str) -> bool:
    return _strip_edges(fold(a)) == _strip_edges(fold(b))


@lru_cache(maxsize=4096)
def _assign(segments: tuple[str, ...], relaxed: bool) -> _Assigned:
    """Authors, title, series, position (and a leading year) from the " - " segments."""
    if len(segments) == 1 and "-#" in segments[0]:
        joined = _HASH_JOINED.match(segments[0])
        if joined and looks_like_names(joined.group("author"), relaxed):
            return _assigned(
                _authors(joined.group("author")),
                joined.group("title"),
                joined.group("series"),
                canonical_position(joined.group("num")),
            )
    parts, year, lead_position = _lead(list(segments))
    segments = tuple(parts)
    if len(segments) == 1:
        segment = segments[0]
        if " by " in segment.lower():
            by = _BY.match(segment)
            if by and looks_like_names(by.group("author"), relaxed):
                title, series, position = _title_with_position(by.group("title"))
                return _assigned(
                    _authors(by.group("author")), title, series, lead_position or position,
                    year=year,
                )  # fmt: skip
        title, series, position = _title_with_position(segment)
        return _assigned((), title, series, lead_position or position, year=year)
    author_index = _author_index(segments, relaxed)
    authors = _authors(segments[author_index]) if author_index is not None else ()
    rest: list[str] = []
    found_position: str | None = lead_position
    series_index: int | None = None
    for index, segment in enumerate(segments):
        if index == author_index:
            continue
        if authors and _same_text(segment, segments[author_index or 0]):
            continue  # "... - The Pagan Lord - Bernard Cornwell": the author again
        position = _pure_position(segment)
        if position is not None:
            found_position = found_position or position
            if rest and series_index is None and index < len(segments) - 1:
                series_index = len(rest) - 1  # "Dune Chronicles - Book 01 - Dune"
            continue
        rest.append(segment)
    if series_index is not None:
        series = rest.pop(series_index)
        rest = [r for r in rest if not _same_text(r, series)]
        return _assigned(authors, ": ".join(rest) or series, series, found_position, year=year)
    if len(rest) == 1:
        inline = _inline_series(rest[0])
        if inline is not None:
            name, number, text = inline
            return _assigned(authors, text, name, found_position or number, year=year)
        title, series_name, position = _title_with_position(rest[0])
        return _assigned(authors, title, series_name, found_position or position, year=year)
    if not rest:
        return _assigned(authors, "", position=found_position, year=year)
    series_found: tuple[str, str] | None = None
    titles: list[str] = []
    for index, segment in enumerate(rest):
        marked = _marked_position(segment)
        if (
            marked is not None
            and not marked[0]
            and marked[2]
            and not fold(marked[2]).startswith("of ")
        ):
            # "Vol. 3 Title Here - Subtitle": a position before the title, no series.
            found_position = found_position or marked[1]
            titles.append(marked[2])
            continue
        # A bare trailing number is a position only before the title ("Discworld 01 - ...").
        series_position = _series_and_position(segment, trailing_number=index < len(rest) - 1)
        if series_position is not None and (series_found is None or not titles):
            # "Cosmere 1 - Mistborn 1 - The Final Empire": every series before the title
            # goes; the first one named is kept.
            series_found = series_found or series_position
            continue
        titles.append(segment)
    if series_found is not None:
        series_name, position = series_found
        titles = [t for t in titles if not _same_text(t, series_name)]
        title = ": ".join(titles) or series_name
        return _assigned(authors, title, series_name, found_position or position, year=year)
    if len(titles) == 2 and looks_like_names(titles[1], relaxed):
        # "Stephen King - The Stand - Grover Gardner"
        return _assigned(
            authors, titles[0], position=found_position, narrators=split_names(titles[1]),
            year=year,
        )  # fmt: skip
    # "Series - Title" or "Title - Subtitle": a colon lets matching try either half.
    return _assigned(authors, ": ".join(titles), position=found_position, year=year)


# --- the parser ----------------------------------------------------------------------------


def _merge(contributions: _Contributions, slots: list[str | None], narrators: list[str]) -> None:
    """First value wins per field; narrators add up; "unabridged" beats "abridged"."""
    for key, value in contributions:
        if key == _F_NARRATOR:
            narrators.append(value)
        elif key == _F_ABRIDGED:
            if slots[_F_ABRIDGED] is None or not value:
                slots[_F_ABRIDGED] = value
        elif slots[key] is None:
            slots[key] = value


def _take_groups(text: str, slots: list[str | None], narrators: list[str]) -> str:
    """Read every bracketed group; returns the text outside them."""
    # Nested brackets are read from the inside out; a few passes cover real titles.
    for _ in range(3):
        # One C-level split yields [outside, square, round, curly, outside, ...].
        parts = _BRACKETS.split(text)
        if len(parts) == 1:
            break
        for i in range(1, len(parts), 4):
            square, round_, curly = parts[i], parts[i + 1], parts[i + 2]
            if square is not None:
                _merge(_square(square), slots, narrators)
            elif round_ is not None:
                _merge(_round(round_), slots, narrators)
            elif curly is not None:
                _merge(_curly(curly), slots, narrators)
        text = " ".join(parts[0::4])
    if "[" in text or "]" in text or "(" in text or ")" in text or "{" in text or "}" in text:
        text = _STRAY_BRACKETS.sub(" ", text)
    return text


def _split_segments(core: str, scene: bool) -> list[str]:
    if scene:
        return _SCENE_SEGMENT.split(core)
    if "–" in core or "—" in core or "~" in core or "|" in core or "\t" in core:
        return _SEGMENT.split(core)
    return core.split(" - ")


def _words(text: str) -> frozenset[str]:
    if text.isascii():
        # bytes.translate is a table lookup in C, several times faster than a regex.
        return frozenset(text.encode().lower().translate(_ASCII_SPACES).decode().split())
    return frozenset(_WORDS.findall(fold(text)))


_ASCII_SPACES = bytes(c if chr(c).isalnum() else 32 for c in range(256))


def _scene_space(match: re.Match[str]) -> str:
    return match.group(1) or " "


@lru_cache(maxsize=4096)
def parse_release_title(title: str) -> ParsedRelease:
    """Read a release title; never raises, whatever the text."""
    text = title[:MAX_TITLE_LENGTH]
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    if "_" in text:
        text = text.replace("_", " ")
    if "]-" in text or ")-" in text or "}-" in text:
        text = _GLUED_GROUP.sub(" ", text)
    words = _words(text)
    stripped = text.strip()
    if " " not in stripped and "." in stripped:
        stripped = _EXTENSION.sub("", stripped)
        text = stripped
    scene = " " not in stripped and "." in stripped
    if scene:
        if _DECIMAL.search(text):
            text = _SCENE_SEPARATOR.sub(_scene_space, text)
        else:
            text = text.replace(".", " ")
    relaxed = text.lower() == text  # no capitals to tell names from words
    if "k" in words or "kb" in words or "kbps" in words or "kbit" in words:
        text = _SPACED_BITRATE.sub(r" \1kbps ", text)  # "64 kbps" -> one token
    slots: list[str | None] = [None] * _FIELD_COUNT
    narrators: list[str] = []
    if "[" in text or "(" in text or "{" in text:
        text = _take_groups(text, slots, narrators)
    # Whitespace normalised first: removed groups leave gaps, and the cache keys on text.
    raw_segments = [" ".join(raw.split()) for raw in _split_segments(text, scene)]
    raw_segments = [raw for raw in raw_segments if raw]
    flag = "1" if len(raw_segments) < 3 else "0"
    segments: list[str] = []
    for raw in raw_segments:
        segment, contributions = _segment(flag + raw)
        if contributions:
            _merge(contributions, slots, narrators)
        if segment:
            segments.append(segment)
    if segments:
        authors, parsed_title, contributions = _assign(tuple(segments), relaxed)
        _merge(contributions, slots, narrators)
    else:
        authors, parsed_title = (), slots[_F_UNKNOWN] or ""
    bitrate, year, abridged = slots[_F_BITRATE], slots[_F_YEAR], slots[_F_ABRIDGED]
    return ParsedRelease(
        parsed_title,
        authors,
        slots[_F_SERIES],
        slots[_F_POSITION],
        tuple(dict.fromkeys(narrators)) if narrators else (),
        int(year) if year else None,
        slots[_F_FORMAT],
        int(bitrate) if bitrate else None,
        None if abridged is None else bool(abridged),
        slots[_F_LANGUAGE] or slots[_F_GERMAN],
        slots[_F_ASIN],
        words,
    )


def clear_caches() -> None:
    """Forget parsed titles and everything derived, for benchmarks measuring a cold start."""
    for cached in (
        parse_release_title,
        looks_like_names,
        _square,
        _round,
        _curly,
        _segment,
        _assign,
        _authors,
        _title_with_position,
        _series_and_position,
        _pure_position,
    ):
        cached.cache_clear()
    _BARE_CACHE.clear()
    _BRACKET_CACHE.clear()
