"""Which indexer release to grab for a wanted audiobook, and why.

Scoring follows the peers' habits (Listenarr's SearchResultScorer: must / must-not words,
size limits, minimum seeders, maximum age, preferred formats and language, a minimum
score; Readarr's format ladder) but every point comes with a sentence, so the user can see
why a release won. Hard limits reject instead of subtracting: a rejected release keeps its
score and its reason and sorts after every accepted one, so nothing silently disappears.

The hot path is one ``rank`` call over a whole search (hundreds to a thousand results):
the wanted book is normalised once, each title is parsed once (and cached across calls,
as the user re-ranks while editing the policy), and title similarity uses set operations
instead of difflib.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from gui.core.matching import (
    BookKey,
    PreparedBook,
    PreparedTitle,
    best_title_similarity,
    canonical_asin,
    fold,
    names_overlap,
    normalize_names,
    normalize_title,
    prepare,
    prepare_title,
    split_names,
    title_similarity,
)
from gui.core.matching import (
    clear_caches as clear_matching_caches,
)
from gui.core.recording import Reason, check_size
from gui.core.release_title import ParsedRelease, language_code, parse_release_title
from gui.core.release_title import clear_caches as clear_title_caches
from gui.core.torrents import magnet_info_hash

__all__ = [
    "Ranked",
    "RankingPolicy",
    "Reason",
    "Release",
    "Wanted",
    "clear_caches",
    "rank",
]

Protocol = Literal["torrent", "usenet"]

MIB = 1024 * 1024

# Points, so the weights are read in one place.
TITLE_POINTS = 40.0
AUTHOR_POINTS = 15.0
AUTHOR_IN_TITLE_POINTS = 10.0
WRONG_AUTHOR_POINTS = -20.0
FORMAT_POINTS = 12.0
UNLISTED_FORMAT_POINTS = -5.0
UNABRIDGED_POINTS = 5.0
ABRIDGED_POINTS = -30.0
SEEDER_POINTS_PER_DECADE = 4.0  # 9 seeders -> 4, 99 -> 8, 999 -> 12
SEEDER_POINTS_MAX = 15.0
NARRATOR_POINTS = 8.0
NARRATOR_IN_TITLE_POINTS = 4.0
WRONG_NARRATOR_POINTS = -4.0
POSITION_POINTS = 10.0
SERIES_POINTS = 5.0
ASIN_POINTS = 20.0
OTHER_ASIN_POINTS = -5.0
LANGUAGE_POINTS = 3.0
UNSTATED_LANGUAGE_POINTS = -5.0
LOW_BITRATE_POINTS = -3.0
LOW_BITRATE_KBPS = 48
#: Name similarity (see matching.name_similarity) from which two credits are one person.
NAME_MATCH = 0.9

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Release:
    """One search result, as Prowlarr or a Torznab feed describes it."""

    title: str
    size: int = 0
    seeders: int = 0
    leechers: int = 0
    indexer: str = ""
    indexer_id: int | None = None
    guid: str = ""
    publish_date: datetime | None = None
    info_hash: str | None = None
    magnet: str | None = None
    download_url: str | None = None
    categories: tuple[int, ...] = ()
    protocol: Protocol = "torrent"
    grabs: int | None = None
    files: int | None = None


@dataclass(frozen=True, slots=True)
class Wanted:
    """A book on the wanted queue; empty strings are unknown (preferred_format: the policy's)."""

    title: str
    author: str
    narrator: str = ""
    series: str = ""
    position: str = ""
    asin: str = ""
    isbn: str = ""
    language: str = ""
    preferred_format: str = ""
    #: Open Library work id, other editions' ISBNs/ASINs, running time (seconds): what
    #: tells the owned copy apart when titles alone cannot (`gui.core.matching.judge`).
    work_id: str = ""
    also: tuple[str, ...] = ()
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class RankingPolicy:
    """The user's rules; stored in the settings through ``to_dict`` / ``from_dict``."""

    format_preference: tuple[str, ...] = ("m4b", "m4a", "flac", "opus", "mp3")
    prefer_unabridged: bool = True
    reject_abridged: bool = False
    languages: tuple[str, ...] = ()  # empty: any language
    min_seeders: int = 1
    min_size_mb: float | None = 20
    max_size_mb: float | None = 8000
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ("sample", "ebook", "epub", "pdf", "mobi")
    min_title_match: float = 0.6
    blocklist: frozenset[str] = frozenset()  # info-hashes or guids
    min_score: float = 0
    #: Earmark hands torrents to qBittorrent; a usenet result needs a usenet client.
    protocols: tuple[str, ...] = ("torrent",)
    max_age_days: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: lists for tuples, a sorted list for the blocklist."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[item.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RankingPolicy:
        """Lenient on purpose: a hand-edited or older settings file falls back per field
        to the default instead of losing the whole policy. Unknown keys are ignored."""
        values: dict[str, Any] = {}
        for name, convert in _CONVERTERS.items():
            if name in data:
                try:
                    values[name] = convert(data[name])
                except (TypeError, ValueError, OverflowError):
                    continue
        return cls(**values)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError("expected a list of strings")
    return tuple(str(item) for item in value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected a boolean")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise TypeError("expected a number")
    return float(value)


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _integer(value: Any) -> int:
    return int(_number(value))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "format_preference": lambda v: tuple(fold(s).strip() for s in _strings(v)),
    "prefer_unabridged": _boolean,
    "reject_abridged": _boolean,
    "languages": _strings,
    "min_seeders": _integer,
    "min_size_mb": _optional_number,
    "max_size_mb": _optional_number,
    "must_contain": _strings,
    "must_not_contain": _strings,
    "min_title_match": _number,
    "blocklist": lambda v: frozenset(_strings(v)),
    "min_score": _number,
    "protocols": _strings,
    "max_age_days": _optional_number,
}


class Ranked(NamedTuple):
    """A release with its parsed title, its score, the reasons for it and, if it may not be
    grabbed, why. A NamedTuple: one is built per result of every search, cheaply."""

    release: Release
    parsed: ParsedRelease
    score: float
    reasons: tuple[Reason, ...]
    rejected: str | None = None

    @property
    def accepted(self) -> bool:
        return self.rejected is None


# A part of a score: its reasons, their total, and a rejection (or None).
_Part = tuple[tuple[Reason, ...], float, str | None]


def _part(reasons: list[Reason], rejected: str | None = None) -> _Part:
    return tuple(reasons), sum(r.points for r in reasons), rejected


@dataclass(frozen=True, slots=True)
class _Target:
    """The wanted book and the policy, normalised once per ``rank`` call.

    The memo dicts hold score parts keyed by what they depend on: a search repeats the
    same titles, authors, narrators, formats and seeder counts across its results.
    """

    wanted: Wanted
    policy: RankingPolicy
    book: PreparedBook
    author_names: tuple[str, ...]  # display form
    author_surnames: frozenset[str]
    author_tokens: frozenset[str]
    narrators: tuple[str, ...]
    narrator_surnames: frozenset[str]
    series: PreparedTitle | None
    position: str
    asin: str
    formats: tuple[str, ...]
    languages: frozenset[str]
    must: tuple[tuple[str, tuple[str, ...]], ...]
    must_not: tuple[tuple[str, tuple[str, ...]], ...]
    must_not_single: tuple[tuple[str, str], ...]  # one-word terms and their token
    must_not_words: frozenset[str]  # the same tokens, tested with one set operation
    blocklist: frozenset[str]
    min_size: float | None
    max_size: float | None
    oldest: datetime | None
    protocols: frozenset[str]
    memo_title: dict[tuple[str, tuple[str, ...]], _Part] = field(default_factory=dict)
    memo_narrators: dict[tuple[str, ...], _Part] = field(default_factory=dict)
    memo_series: dict[tuple[str | None, str | None, str | None], _Part] = field(
        default_factory=dict
    )
    memo_edition: dict[tuple[str | None, int | None, bool | None, str | None], _Part] = field(
        default_factory=dict
    )
    memo_seeders: dict[int, Reason] = field(default_factory=dict)
    memo_similarity: dict[str, float] = field(default_factory=dict)
    memo_title_reason: dict[str, tuple[Reason, str | None]] = field(default_factory=dict)
    memo_author: dict[tuple[str, ...], Reason | None] = field(default_factory=dict)


def _terms(words: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for word in words:
        tokens = tuple(_WORD.findall(fold(word)))
        if tokens:
            out.append((word.strip(), tokens))
    return tuple(out)


def _target(wanted: Wanted, policy: RankingPolicy, now: datetime | None) -> _Target:
    book = prepare(
        BookKey(wanted.title, (wanted.author,), wanted.asin, wanted.isbn, wanted.position)
    )
    narrators = normalize_names(wanted.narrator)
    preferred = fold(wanted.preferred_format).strip().lstrip(".")
    formats = tuple(dict.fromkeys(f for f in (preferred, *policy.format_preference) if f))
    languages = {language_code(x) or fold(x).strip() for x in (*policy.languages, wanted.language)}
    oldest = None
    if policy.max_age_days is not None:
        try:
            oldest = _aware(now or datetime.now(UTC)) - timedelta(days=policy.max_age_days)
        except (OverflowError, ValueError):
            oldest = None  # an age limit beyond datetime's range limits nothing
    title_words = frozenset(_WORD.findall(fold(wanted.title)))
    # A must-not word in the wanted title itself ("The PDF Files") cannot be held against it.
    must_not = tuple(
        (word, tokens)
        for word, tokens in _terms(policy.must_not_contain)
        if not all(token in title_words for token in tokens)
    )
    return _Target(
        wanted=wanted,
        policy=policy,
        book=book,
        author_names=split_names(wanted.author),
        author_surnames=frozenset(name.split()[-1] for name in book.authors),
        author_tokens=frozenset(t for name in book.authors for t in name.split()),
        narrators=narrators,
        narrator_surnames=frozenset(name.split()[-1] for name in narrators),
        series=prepare_title(wanted.series) if wanted.series.strip() else None,
        position=book.position,
        asin=book.asin,
        formats=formats,
        languages=frozenset(x for x in languages if x),
        must=_terms(policy.must_contain),
        must_not=tuple(term for term in must_not if len(term[1]) > 1),
        must_not_single=tuple((w, tokens[0]) for w, tokens in must_not if len(tokens) == 1),
        must_not_words=frozenset(tokens[0] for _, tokens in must_not if len(tokens) == 1),
        blocklist=frozenset(fold(x).strip() for x in policy.blocklist),
        min_size=policy.min_size_mb * MIB if policy.min_size_mb is not None else None,
        max_size=policy.max_size_mb * MIB if policy.max_size_mb is not None else None,
        oldest=oldest,
        protocols=frozenset(fold(p) for p in policy.protocols),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _words(text: str) -> list[str]:
    return normalize_title(text).split()


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100)}%"


def _has(words: frozenset[str], tokens: tuple[str, ...]) -> bool:
    return all(token in words for token in tokens)


def _gate(t: _Target, release: Release, parsed: ParsedRelease) -> str | None:
    """The policy's hard limits, most telling first; the first one broken is the reason."""
    if t.blocklist and _blocklisted(t, release):
        return "blocklisted"
    if release.protocol not in t.protocols and fold(release.protocol) not in t.protocols:
        return f"{release.protocol} is not enabled"
    words = parsed.words
    if not t.must_not_words.isdisjoint(words):
        for word, token in t.must_not_single:
            if token in words:
                return f"contains '{word}'"
    for word, tokens in t.must_not:
        if _has(words, tokens):
            return f"contains '{word}'"
    for word, tokens in t.must:
        if not _has(words, tokens):
            return f"missing required '{word}'"
    if release.protocol == "torrent" and release.seeders < t.policy.min_seeders:
        return f"{release.seeders} seeders, minimum {t.policy.min_seeders}"
    size = release.size
    if size > 0:
        if t.min_size is not None and size < t.min_size:
            return f"size {size / MIB:,.0f} MB below {t.policy.min_size_mb:,.0f} MB"
        if t.max_size is not None and size > t.max_size:
            return f"size {size / MIB:,.0f} MB above {t.policy.max_size_mb:,.0f} MB"
    published = release.publish_date
    if t.oldest is not None and published is not None and _aware(published) < t.oldest:
        return f"older than {t.policy.max_age_days:g} days"
    return None


def _blocklisted(t: _Target, release: Release) -> bool:
    ids = {fold(release.guid).strip()} if release.guid else set()
    info_hash = release.info_hash or magnet_info_hash(release.magnet)
    if info_hash:
        ids.add(fold(info_hash).strip())
    return not ids.isdisjoint(t.blocklist)


def _title_part(t: _Target, parsed: ParsedRelease) -> _Part:
    """Title and author: whether this is the wanted book at all."""
    key = (parsed.title, parsed.authors)
    part = t.memo_title.get(key)
    if part is None:
        part = t.memo_title[key] = _score_title(t, parsed)
    return part


def _similarity(t: _Target, text: str) -> float:
    """How well some text matches the wanted title (subtitle-tolerant), memoised."""
    similarity = t.memo_similarity.get(text)
    if similarity is None:
        book = prepare(BookKey(text))
        similarity = best_title_similarity(t.book, book)
        similarity = min(similarity, _main_only_cap(t.book, book, similarity))
        if similarity < t.policy.min_title_match and t.author_tokens:
            # "Frank Herbert Dune": no separator, so the author may be inside the title.
            rest = " ".join(w for w in book.full.text.split() if w not in t.author_tokens)
            if len(rest) < len(book.full.text):
                similarity = max(similarity, title_similarity(t.book.full, prepare_title(rest)))
        t.memo_similarity[text] = similarity
    return similarity


#: What a release title that matches only before its colon can score at most: "Red Rising:
#: Dark Age" (book 5) for a wanted "Red Rising" (book 1). Below a clean "Red Rising", still
#: above `min_title_match`: it may be "Series: Title" where the series is named after its
#: first book, and the position (when known) settles it.
MAIN_ONLY_CAP = 0.8


def _main_only_cap(wanted: PreparedBook, release: PreparedBook, similarity: float) -> float:
    """`MAIN_ONLY_CAP` when only the main title (before the colon) of one side matches the
    other, and what follows the colon says something else (not "A Novel", not "Book One
    of ..."); else no cap. Either side: "Sapiens" wanted, "Sapiens: A Graphic History"
    released, or the other way round."""
    if similarity < MAIN_ONLY_CAP:
        return 1.0
    for longer, plain in ((release, wanted), (wanted, release)):
        if longer.main is longer.full or plain.main is not plain.full:
            continue
        if longer.descriptive_subtitle:
            continue
        whole = max(
            title_similarity(plain.full, longer.full),
            title_similarity(plain.full, longer.subtitle),
        )
        if whole < similarity:
            return MAIN_ONLY_CAP
    return 1.0


def _score_title(t: _Target, parsed: ParsedRelease) -> _Part:
    title, authors = parsed.title, parsed.authors
    similarity = _similarity(t, title)
    threshold = t.policy.min_title_match
    if similarity < threshold and len(authors) == 1:
        # "Good Omens - Neil Gaiman" read the wrong way round: try the swap.
        swapped = _similarity(t, authors[0])
        if swapped >= threshold and not t.author_surnames.isdisjoint(_words(title)):
            title, authors = authors[0], (title,)
    reason, rejected = _title_reason(t, title)
    author = _author_reason(t, authors, title)
    if author is None:
        return (reason,), reason.points, rejected
    return (reason, author), reason.points + author.points, rejected


def _title_reason(t: _Target, title: str) -> tuple[Reason, str | None]:
    found = t.memo_title_reason.get(title)
    if found is None:
        similarity = _similarity(t, title)
        points, percent = TITLE_POINTS * similarity, _percent(similarity)
        if similarity < t.policy.min_title_match:
            text = f"title '{title}' is not '{t.wanted.title}' ({percent})"
            found = (Reason(points, text), text)
        else:
            found = (Reason(points, f"title matches '{t.wanted.title}' ({percent})"), None)
        t.memo_title_reason[title] = found
    return found


def _author_reason(t: _Target, authors: tuple[str, ...], title: str) -> Reason | None:
    if not t.book.authors:
        return None
    key = authors or (title,)  # no author: whether the title names the wanted one
    if key in t.memo_author:
        return t.memo_author[key]
    reason = None
    if authors:
        names = tuple(n for a in authors for n in normalize_names(a))
        overlap = names_overlap(t.book.authors, names)
        if overlap is not None and overlap >= NAME_MATCH:
            reason = Reason(AUTHOR_POINTS, f"author {', '.join(authors)} matches")
        else:
            text = f"author {', '.join(authors)}, not {t.wanted.author}"
            reason = Reason(WRONG_AUTHOR_POINTS, text)
    elif not t.author_surnames.isdisjoint(_words(title)):
        text = f"author {', '.join(t.author_names)} named in the title"
        reason = Reason(AUTHOR_IN_TITLE_POINTS, text)
    t.memo_author[key] = reason
    return reason


def _narrator_part(t: _Target, parsed: ParsedRelease) -> _Part | None:
    if not t.narrators:
        return None
    key = parsed.narrators
    part = t.memo_narrators.get(key)
    if part is None:
        part = t.memo_narrators[key] = _score_narrators(t, parsed)
    return part


def _score_narrators(t: _Target, parsed: ParsedRelease) -> _Part:
    if parsed.narrators:
        names = tuple(n for a in parsed.narrators for n in normalize_names(a))
        overlap = names_overlap(t.narrators, names)
        credit = ", ".join(parsed.narrators)
        if overlap is not None and overlap >= NAME_MATCH:
            return _part([Reason(NARRATOR_POINTS, f"narrated by {credit}")])
        text = f"narrated by {credit}, not {t.wanted.narrator}"
        return _part([Reason(WRONG_NARRATOR_POINTS, text)])
    return _part([])


def _series_part(t: _Target, parsed: ParsedRelease) -> _Part | None:
    if not (parsed.position or parsed.series or parsed.asin):
        return None
    key = (parsed.position, parsed.series, parsed.asin)
    part = t.memo_series.get(key)
    if part is None:
        part = t.memo_series[key] = _score_series(t, parsed)
    return part


def _score_series(t: _Target, parsed: ParsedRelease) -> _Part:
    reasons: list[Reason] = []
    rejected = None
    position = parsed.position
    if t.position and position:
        if position == t.position:
            reasons.append(Reason(POSITION_POINTS, f"series position {position}"))
        else:
            rejected = f"series position {position}, wanted {t.position}"
            reasons.append(Reason(-POSITION_POINTS, rejected))
    if t.series is not None and parsed.series:
        similarity = title_similarity(t.series, prepare_title(parsed.series))
        if similarity >= t.policy.min_title_match:
            reasons.append(Reason(SERIES_POINTS, f"series '{parsed.series}' matches"))
    if t.asin and parsed.asin:
        if canonical_asin(parsed.asin) == t.asin:
            reasons.append(Reason(ASIN_POINTS, f"ASIN {parsed.asin} matches"))
        else:
            reasons.append(Reason(OTHER_ASIN_POINTS, f"ASIN {parsed.asin}, wanted {t.wanted.asin}"))
    return _part(reasons, rejected)


def _edition_part(t: _Target, parsed: ParsedRelease) -> _Part:
    key = (parsed.format, parsed.bitrate_kbps, parsed.abridged, parsed.language)
    part = t.memo_edition.get(key)
    if part is None:
        part = t.memo_edition[key] = _score_edition(t, parsed)
    return part


def _score_edition(t: _Target, parsed: ParsedRelease) -> _Part:
    policy = t.policy
    reasons: list[Reason] = []
    rejected = None
    if parsed.format is None:
        reasons.append(Reason(0.0, "format unknown"))
    elif parsed.format in t.formats:
        rank = t.formats.index(parsed.format)
        points = FORMAT_POINTS * (len(t.formats) - rank) / len(t.formats)
        reasons.append(Reason(points, f"format {parsed.format} (preferred #{rank + 1})"))
    else:
        reasons.append(Reason(UNLISTED_FORMAT_POINTS, f"format {parsed.format} not preferred"))
    if parsed.bitrate_kbps is not None and parsed.bitrate_kbps < LOW_BITRATE_KBPS:
        reasons.append(Reason(LOW_BITRATE_POINTS, f"low bitrate {parsed.bitrate_kbps} kbps"))
    if parsed.abridged is True:
        if policy.reject_abridged:
            rejected = "abridged"
        if policy.prefer_unabridged or policy.reject_abridged:
            reasons.append(Reason(ABRIDGED_POINTS, "abridged"))
    elif parsed.abridged is False and policy.prefer_unabridged:
        reasons.append(Reason(UNABRIDGED_POINTS, "unabridged"))
    if t.languages:
        if parsed.language is None:
            if t.wanted.language:
                text = f"language not stated (wanted {t.wanted.language})"
                reasons.append(Reason(UNSTATED_LANGUAGE_POINTS, text))
        elif parsed.language in t.languages:
            reasons.append(Reason(LANGUAGE_POINTS, f"language {parsed.language}"))
        else:
            rejected = rejected or (
                f"language {parsed.language}, wanted {', '.join(sorted(t.languages))}"
            )
    return _part(reasons, rejected)


def _seeders_reason(t: _Target, seeders: int) -> Reason:
    reason = t.memo_seeders.get(seeders)
    if reason is None:
        count = max(seeders, 0)
        points = min(SEEDER_POINTS_MAX, SEEDER_POINTS_PER_DECADE * math.log10(1 + count))
        text = f"{count} seeder" if count == 1 else f"{count} seeders"
        reason = t.memo_seeders[seeders] = Reason(points, text)
    return reason


def _rank_one(t: _Target, release: Release) -> Ranked:
    parsed = parse_release_title(release.title)
    rejected = _gate(t, release, parsed)
    reasons, score, title_rejected = _title_part(t, parsed)
    rejected = rejected or title_rejected
    for part in (_narrator_part(t, parsed), _series_part(t, parsed), _edition_part(t, parsed)):
        if part is not None:
            reasons += part[0]
            score += part[1]
            rejected = rejected or part[2]
    if t.wanted.duration > 0 and release.size > 0:
        # The indexer's size against the wanted edition's running time (gui.core.recording).
        timed = check_size(release.size, t.wanted.duration, parsed.bitrate_kbps)
        reasons += timed.reasons
        score += sum(r.points for r in timed.reasons)
        rejected = rejected or timed.rejected
    if release.protocol == "torrent":
        seeders = _seeders_reason(t, release.seeders)
        reasons += (seeders,)
        score += seeders.points
    if rejected is None and score < t.policy.min_score:
        rejected = f"score {score:.0f} below the minimum {t.policy.min_score:g}"
    return Ranked(release, parsed, score, reasons, rejected)


def _order(ranked: Ranked, index: int) -> tuple[bool, float, int, float, str, str, int]:
    """Accepted first, then score, seeders, newest, title: stable whatever the input order."""
    release = ranked.release
    published = release.publish_date
    newest = -_aware(published).timestamp() if published is not None else math.inf
    return (
        ranked.rejected is not None,
        -ranked.score,
        -release.seeders,
        newest,
        release.title,
        release.guid,
        index,
    )


def rank(
    wanted: Wanted,
    releases: Iterable[Release],
    policy: RankingPolicy,
    now: datetime | None = None,
) -> list[Ranked]:
    """Every release, scored and explained, best first; rejected ones last.

    ``now`` only matters with ``max_age_days`` (tests pass a fixed one).
    """
    if policy.max_age_days is not None and now is None:
        now = datetime.now(UTC)
    target = _cached_target(wanted, policy, now if policy.max_age_days is not None else None)
    decorated = []
    for index, release in enumerate(releases):
        ranked = _rank_one(target, release)
        decorated.append((_order(ranked, index), ranked))
    decorated.sort(key=_first)  # keys end with the index: unique, so Ranked is never compared
    return [ranked for _, ranked in decorated]


def _first(item: tuple[tuple[bool, float, int, float, str, str, int], Ranked]) -> Any:
    return item[0]


@lru_cache(maxsize=8)
def _cached_target(wanted: Wanted, policy: RankingPolicy, now: datetime | None) -> _Target:
    """The same search ranked again (the user editing the policy, a list refresh) reuses
    the normalised wanted book and every memoised score part."""
    return _target(wanted, policy, now)


def clear_caches() -> None:
    """Forget parsed titles, normalised names and memoised scores (for cold benchmarks)."""
    _cached_target.cache_clear()
    clear_title_caches()
    clear_matching_caches()
