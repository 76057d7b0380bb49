"""What is known about one audiobook, where each part came from, and how complete it is.

An import gathers descriptions of the same book from several places, each good at some
fields and bad at others:

* ``user``: edits made in the review dialog. Always wins: the user has looked at it.
* ``wanted``: the wanted-queue entry. Its title, author, series and identifiers are what
  the user chose (usually from a search result), so they outrank everything but ``user``
  for the fields that say *which* book it is.
* ``provider``: a matched catalogue record (Audible/Audnexus, Open Library, Google
  Books). Curated, so it is the best source for the fields that *describe* the book
  (publisher, description, genres, year, language, cover).
* ``tags``: what the downloaded files already carry. Uploaders' tags are often right but
  sometimes junk ("Track 01", a ripper's comment), hence after the provider.
* ``release``: the indexer's release title, parsed (`gui.core.release_title`).
* ``layout``: the folder names, read the way Audiobookshelf reads them.

`merge` applies that order field by field and records the provenance (which source gave
each field) so the review dialog can show it. A label may carry a detail after a colon
(``"provider:Audible"``): the order uses the part before it, the provenance keeps it all.

`completeness` weighs the fields the issue lists into a percentage, so the user sees e.g.
"72% -> 92%" before and after enhancement. Pure code: no I/O, no Qt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from gui.core.formatting import human_size
from gui.core.layout import is_disc_folder
from gui.core.matching import (
    BookKey,
    canonical_position,
    fold,
    normalize_title,
    split_names,
)
from gui.core.release_title import ParsedRelease, language_code

__all__ = [
    "DESCRIPTIVE_ORDER",
    "FIELDS",
    "IDENTITY_ORDER",
    "PRECEDENCE",
    "SOURCE_LAYOUT",
    "SOURCE_PROVIDER",
    "SOURCE_RELEASE",
    "SOURCE_TAGS",
    "SOURCE_USER",
    "SOURCE_WANTED",
    "WEIGHTS",
    "BookMetadata",
    "FieldChange",
    "Merged",
    "Score",
    "clean_isbn",
    "completeness",
    "diff",
    "display_value",
    "fill_missing",
    "from_layout",
    "from_release",
    "from_wanted",
    "image_type",
    "language_name",
    "merge",
    "metadata_from_json",
    "metadata_to_json",
    "score_change",
    "source_kind",
    "with_cover",
]


@dataclass(frozen=True, slots=True)
class BookMetadata:
    """One description of a book. Empty strings, empty tuples and None mean "unknown".

    People and genres are tuples of single names ("Jason Anspach", "Nick Cole"); tag
    writers join them the way Audiobookshelf splits them again. ``position`` is the
    series position as text ("1", "0.5", "1-2" for an omnibus). ``language`` is a display
    name ("English"), the form Audiobookshelf's own Audible matches store.
    """

    title: str = ""
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str = ""
    position: str = ""
    year: int | None = None
    publisher: str = ""
    description: str = ""
    genres: tuple[str, ...] = ()
    isbn: str = ""
    asin: str = ""
    language: str = ""
    cover: bytes | None = field(default=None, repr=False)
    cover_mime: str = ""
    #: Total running time in seconds, when known (files measured, or a provider's runtime).
    duration: float | None = None

    def has(self, name: str) -> bool:
        """Whether a field is known; ``cover_mime`` follows ``cover``."""
        if name == "cover_mime":
            return self.cover is not None
        value = getattr(self, name)
        if value is None:
            return False
        if isinstance(value, str | tuple | bytes):
            return len(value) > 0
        return True

    def key(self) -> BookKey:
        """The identity `gui.core.matching` compares books by."""
        return BookKey(
            title=self.title,
            authors=self.authors,
            asin=self.asin,
            isbn=self.isbn,
            position=self.position,
        )

    def cleaned(self) -> BookMetadata:
        """Whitespace trimmed, duplicate names dropped, identifiers in canonical spelling.

        Every source goes through this before merging, so that " Dune " and "Dune" or
        "978-0-441-17271-9" and "9780441172719" are not told apart by accident.
        """
        cover = self.cover if self.cover else None
        return BookMetadata(
            title=_one_line(self.title),
            subtitle=_one_line(self.subtitle),
            authors=_unique(self.authors),
            narrators=_unique(self.narrators),
            series=_one_line(self.series),
            position=_clean_position(self.position),
            year=self.year if self.year and 0 < self.year < 10000 else None,
            publisher=_one_line(self.publisher),
            description=self.description.strip(),
            genres=_unique(self.genres),
            isbn=clean_isbn(self.isbn),
            asin=_one_line(self.asin).upper().replace(" ", ""),
            language=language_name(self.language) if self.language.strip() else "",
            cover=cover,
            cover_mime=(image_type(cover) or self.cover_mime.strip() or "image/jpeg")
            if cover
            else "",
            duration=self.duration if self.duration and self.duration > 0 else None,
        )


#: Every field, in the order forms and diffs show them.
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(BookMetadata))

SOURCE_USER = "user"
SOURCE_WANTED = "wanted"
SOURCE_PROVIDER = "provider"
SOURCE_TAGS = "tags"
SOURCE_RELEASE = "release"
SOURCE_LAYOUT = "layout"

#: For the fields that say which book it is: what the user chose comes first.
IDENTITY_ORDER = (
    SOURCE_USER,
    SOURCE_WANTED,
    SOURCE_PROVIDER,
    SOURCE_TAGS,
    SOURCE_RELEASE,
    SOURCE_LAYOUT,
)
#: For the fields that describe the book: a curated catalogue record comes first.
DESCRIPTIVE_ORDER = (
    SOURCE_USER,
    SOURCE_PROVIDER,
    SOURCE_TAGS,
    SOURCE_WANTED,
    SOURCE_RELEASE,
    SOURCE_LAYOUT,
)
#: Measured beats declared: the files' own running time over a catalogue's.
_DURATION_ORDER = (
    SOURCE_USER,
    SOURCE_TAGS,
    SOURCE_PROVIDER,
    SOURCE_WANTED,
    SOURCE_RELEASE,
    SOURCE_LAYOUT,
)

PRECEDENCE: Mapping[str, tuple[str, ...]] = {
    "title": IDENTITY_ORDER,
    "subtitle": DESCRIPTIVE_ORDER,
    "authors": IDENTITY_ORDER,
    "narrators": IDENTITY_ORDER,
    "series": IDENTITY_ORDER,
    "position": IDENTITY_ORDER,
    "year": DESCRIPTIVE_ORDER,
    "publisher": DESCRIPTIVE_ORDER,
    "description": DESCRIPTIVE_ORDER,
    "genres": DESCRIPTIVE_ORDER,
    "isbn": IDENTITY_ORDER,
    "asin": IDENTITY_ORDER,
    "language": DESCRIPTIVE_ORDER,
    "cover": DESCRIPTIVE_ORDER,
    "cover_mime": DESCRIPTIVE_ORDER,
    "duration": _DURATION_ORDER,
}

# ---- small normalisers ---------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_ISBN_CHARS = re.compile(r"[^0-9Xx]")


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, empty ones dropped, duplicates (compared folded) dropped, order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        text = _one_line(value)
        marker = fold(text)
        if text and marker not in seen:
            seen.add(marker)
            out.append(text)
    return tuple(out)


def _clean_position(text: str) -> str:
    """ "Book 2" -> "2", "02" -> "2"; an omnibus range ("1-2") or anything unreadable kept."""
    text = _one_line(text)
    if not text or re.fullmatch(r"\d+(?:\.\d+)?\s*-\s*\d+(?:\.\d+)?", text):
        return text.replace(" ", "")
    return canonical_position(text) or text


def image_type(data: bytes) -> str | None:
    """The MIME type from an image's magic bytes; None for anything else.

    Providers' Content-Type headers and tags' declared types are not trusted: the bytes
    are what players decode.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_isbn(text: str) -> str:
    """Digits (and a final X) only: ABS searches ISBNs by substring, hyphens would break it."""
    return _ISBN_CHARS.sub("", text).upper()


_LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "ru": "Russian",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "hu": "Hungarian",
    "ja": "Japanese",
    "zh": "Chinese",
}


def language_name(text: str) -> str:
    """ "english", "eng", "en", "en-US", "Deutsch" -> "English"/"German"; others title-cased.

    Providers disagree (Audnexus "english", Open Library "eng", Google "en"); one spelling
    keeps Audiobookshelf's language filter from listing the same language three times.
    """
    cleaned = _one_line(text)
    if not cleaned:
        return ""
    code = language_code(cleaned) or language_code(re.split(r"[-_]", cleaned)[0])
    if code in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[code]
    return cleaned[:1].upper() + cleaned[1:]


# ---- sources -------------------------------------------------------------------------------


def from_wanted(
    *,
    title: str,
    author: str = "",
    narrator: str = "",
    series: str = "",
    position: str = "",
    asin: str = "",
    isbn: str = "",
    language: str = "",
) -> BookMetadata:
    """The wanted entry's fields (`gui.core.ranking.Wanted` spells credits as one string)."""
    return BookMetadata(
        title=title,
        authors=split_names(author) if author else (),
        narrators=split_names(narrator) if narrator else (),
        series=series,
        position=position,
        asin=asin,
        isbn=isbn,
        language=language,
    ).cleaned()


def from_release(parsed: ParsedRelease) -> BookMetadata:
    """What a parsed release title says (`gui.core.release_title.parse_release_title`)."""
    return BookMetadata(
        title=parsed.title,
        authors=parsed.authors,
        narrators=parsed.narrators,
        series=parsed.series or "",
        position=parsed.position or "",
        year=parsed.year,
        asin=parsed.asin or "",
        language=parsed.language or "",
    ).cleaned()


_LAYOUT_ASIN = re.compile(r"\s*\[(B0[0-9A-Z]{8})\]\s*", re.IGNORECASE)
_LAYOUT_NARRATOR = re.compile(r"\s*\{([^{}]+)\}\s*$")
_LAYOUT_SEQUENCE = re.compile(
    r"^(?:(?:vol(?:ume)?\.?|book)\s*)?(\d{1,3}(?:\.\d{1,2})?|\.\d{1,2})\s*(?:-|\.)\s+(.+)$",
    re.IGNORECASE,
)
_LAYOUT_YEAR = re.compile(r"^\(?(\d{4})\)?\s+-\s+(.+)$")


def from_layout(parts: Sequence[str]) -> BookMetadata:
    """Read folder names as Audiobookshelf does (`server/utils/scandir.js`).

    ``parts`` are the folder names from the library root down to the book folder; only
    the last three count (``Author/Series/Title``, ``Author/Title`` or ``Title``) and
    disc folders ("CD 1") are skipped. The title folder gives, in ABS's order, an
    ``[ASIN]``, a trailing ``{Narrator}``, a ``Vol 1 - `` sequence (only under a series
    folder) and a ``1994 - `` year.
    """
    names = [p for p in parts if p and not is_disc_folder(p)][-3:]
    if not names:
        return BookMetadata()
    author = names[0] if len(names) >= 2 else ""
    series = names[1] if len(names) == 3 else ""
    title = names[-1].strip()
    asin = ""
    if match := _LAYOUT_ASIN.search(title):
        asin = match.group(1).upper()
        title = (title[: match.start()] + " " + title[match.end() :]).strip()
    narrators: tuple[str, ...] = ()
    if match := _LAYOUT_NARRATOR.search(title):
        narrators = split_names(match.group(1))
        title = title[: match.start()].strip()
    position = ""
    if series and (match := _LAYOUT_SEQUENCE.match(title)):
        position, title = match.group(1), match.group(2).strip()
    year: int | None = None
    if match := _LAYOUT_YEAR.match(title):
        year, title = int(match.group(1)), match.group(2).strip()
    return BookMetadata(
        title=title,
        authors=split_names(author) if author else (),
        narrators=narrators,
        series=series,
        position=position,
        year=year,
        asin=asin,
    ).cleaned()


# ---- merging -------------------------------------------------------------------------------


def source_kind(label: str) -> str:
    """ "provider:Audible" -> "provider": the part of a source label the order uses."""
    return label.partition(":")[0].strip().lower()


@dataclass(frozen=True)
class Merged:
    """The merged record and, for each known field, the label of the source that gave it."""

    meta: BookMetadata
    provenance: Mapping[str, str]


def _rank(label: str, order: Sequence[str], index: int) -> tuple[int, int]:
    kind = source_kind(label)
    position = order.index(kind) if kind in order else len(order)
    return position, index  # unknown kinds after known ones, then in the order given


def _same_series(a: str, b: str) -> bool:
    return normalize_title(a) == normalize_title(b)


def merge(
    *sources: tuple[str, BookMetadata],
    precedence: Mapping[str, Sequence[str]] = PRECEDENCE,
) -> Merged:
    """Combine descriptions field by field, the best-ranked source that knows a field wins.

    Two pairs are kept together so the result never mixes two sources' halves: the
    position comes from the source that gave the series (or from one naming the same
    series, or none at all), and the cover's MIME type always travels with its bytes.
    """
    cleaned = [(label, meta.cleaned()) for label, meta in sources]
    values: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    for name in FIELDS:
        if name in ("position", "cover_mime"):
            continue
        order = precedence.get(name, DESCRIPTIVE_ORDER)
        ranked = sorted(
            ((label, meta) for label, meta in cleaned if meta.has(name)),
            key=lambda item: _rank(item[0], order, cleaned.index(item)),
        )
        if ranked:
            label, meta = ranked[0]
            values[name] = getattr(meta, name)
            provenance[name] = label
            if name == "cover":
                values["cover_mime"] = meta.cover_mime
                provenance["cover_mime"] = label
    position_order = precedence.get("position", IDENTITY_ORDER)
    series = values.get("series", "")
    series_from = provenance.get("series")
    candidates = sorted(
        ((label, meta) for label, meta in cleaned if meta.has("position")),
        key=lambda item: (
            item[0] != series_from,
            _rank(item[0], position_order, cleaned.index(item)),
        ),
    )
    for label, meta in candidates:
        if not series or not meta.series or _same_series(meta.series, series):
            values["position"] = meta.position
            provenance["position"] = label
            break
    return Merged(BookMetadata(**values), provenance)


def fill_missing(
    base: BookMetadata,
    extra: BookMetadata,
    *,
    overwrite: bool = False,
    locked: Iterable[str] = (),
) -> tuple[BookMetadata, tuple[str, ...]]:
    """``base`` completed with ``extra``; returns the record and the fields taken.

    Without ``overwrite`` only unknown fields are filled: what the user typed or chose
    stays. With it, ``extra`` wins wherever it knows a field, except the ``locked`` ones.
    A position is only taken with its series (or for the same series), a MIME type only
    with its cover.
    """
    extra = extra.cleaned()
    values = {name: getattr(base, name) for name in FIELDS}
    blocked = set(locked)
    taken: list[str] = []
    for name in FIELDS:
        if name in ("position", "cover_mime") or name in blocked or not extra.has(name):
            continue
        if base.has(name) and not overwrite:
            continue
        if getattr(base, name) == getattr(extra, name):
            continue
        values[name] = getattr(extra, name)
        taken.append(name)
        if name == "cover":
            values["cover_mime"] = extra.cover_mime
    if extra.has("position") and "position" not in blocked:
        series = values["series"]
        same = not series or not extra.series or _same_series(series, extra.series)
        if (
            same
            and (overwrite or not base.has("position") or "series" in taken)
            and values["position"] != extra.position
        ):
            values["position"] = extra.position
            taken.append("position")
    return BookMetadata(**values), tuple(taken)


# ---- completeness --------------------------------------------------------------------------

#: Per-field weights (out of 100). "identifier" is an ISBN or an ASIN; the position only
#: counts when there is a series (a standalone book has none to miss).
WEIGHTS: Mapping[str, int] = {
    "title": 15,
    "authors": 15,
    "narrators": 10,
    "series": 6,
    "position": 4,
    "year": 5,
    "publisher": 5,
    "description": 10,
    "genres": 5,
    "identifier": 10,
    "language": 5,
    "cover": 10,
}

_LABELS = {
    "title": "title",
    "subtitle": "subtitle",
    "authors": "author",
    "narrators": "narrator",
    "series": "series",
    "position": "series position",
    "year": "year",
    "publisher": "publisher",
    "description": "description",
    "genres": "genres",
    "identifier": "ISBN/ASIN",
    "isbn": "ISBN",
    "asin": "ASIN",
    "language": "language",
    "cover": "cover",
    "cover_mime": "cover type",
    "duration": "duration",
}


@dataclass(frozen=True)
class Score:
    """A completeness percentage and the scored fields still missing (by label)."""

    percent: int
    earned: int
    possible: int
    missing: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.percent}%"


def _scored_present(meta: BookMetadata, name: str, cover: bool | None) -> bool:
    if name == "identifier":
        return meta.has("isbn") or meta.has("asin")
    if name == "cover" and cover is not None:
        return cover
    return meta.has(name)


def completeness(meta: BookMetadata, *, cover: bool | None = None) -> Score:
    """How much of what Audiobookshelf shows is known, weighted as `WEIGHTS` says.

    ``cover`` says whether there is a cover when the image itself is elsewhere (an
    Audiobookshelf item's cover stays on the server; the index only knows it exists)."""
    earned = possible = 0
    missing: list[str] = []
    for name, weight in WEIGHTS.items():
        if name == "position" and not meta.has("series"):
            continue
        possible += weight
        if _scored_present(meta, name, cover):
            earned += weight
        else:
            missing.append(_LABELS[name])
    percent = round(100 * earned / possible) if possible else 0
    return Score(percent=percent, earned=earned, possible=possible, missing=tuple(missing))


def score_change(before: BookMetadata, after: BookMetadata) -> str:
    """ "72% -> 92%", the line the review dialog and the log show."""
    return f"{completeness(before)} -> {completeness(after)}"


# ---- before/after --------------------------------------------------------------------------


def display_value(meta: BookMetadata, name: str) -> str:
    """A field as one line of text for a review table ("" when unknown)."""
    if not meta.has(name):
        return ""
    value = getattr(meta, name)
    if name == "cover":
        assert meta.cover is not None
        return f"{meta.cover_mime or 'image'}, {human_size(len(meta.cover))}"
    if name == "duration":
        seconds = round(float(value))
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    """One row of a before/after view; ``kind`` is "added", "changed" or "removed"."""

    field: str
    label: str
    before: str
    after: str
    kind: str


def diff(before: BookMetadata, after: BookMetadata) -> tuple[FieldChange, ...]:
    """The fields that differ, in form order (covers compared by their bytes)."""
    changes: list[FieldChange] = []
    for name in FIELDS:
        if name == "cover_mime":
            continue
        old, new = getattr(before, name), getattr(after, name)
        if old == new or (not before.has(name) and not after.has(name)):
            continue
        if not before.has(name):
            kind = "added"
        elif not after.has(name):
            kind = "removed"
        else:
            kind = "changed"
        changes.append(
            FieldChange(
                field=name,
                label=_LABELS[name],
                before=display_value(before, name),
                after=display_value(after, name),
                kind=kind,
            )
        )
    return tuple(changes)


# ---- persistence ----------------------------------------------------------------------------


def metadata_to_json(meta: BookMetadata) -> str:
    """Every field but the cover (bytes are stored apart) as a JSON object."""
    values = {name: getattr(meta, name) for name in FIELDS if name not in ("cover", "cover_mime")}
    values["cover_mime"] = meta.cover_mime
    return json.dumps(values, ensure_ascii=False)


def metadata_from_json(text: str, cover: bytes | None = None) -> BookMetadata:
    """The inverse of `metadata_to_json`; unknown keys (a newer Earmark's) are ignored."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("stored metadata is not a JSON object")
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name not in data or name == "cover":
            continue
        value = data[name]
        values[name] = tuple(str(v) for v in value) if isinstance(value, list) else value
    return BookMetadata(**values, cover=cover or None)


def with_cover(meta: BookMetadata, image: bytes, mime: str) -> BookMetadata:
    """``meta`` with a cover (kept as a helper so callers never split bytes and type)."""
    return replace(meta, cover=image, cover_mime=mime)
