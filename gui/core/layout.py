r"""Where a book goes in an Audiobookshelf library, and which of a torrent's files go there.

ABS reads a book's metadata from its folder before any tag (``scandir.js``
``getBookDataFromDir``): only the last three folders count, as ``Author/Series/Title``
or ``Author/Title``; the title folder may start with a sequence (``Vol. 1 - ``, only
under a series folder) and end with `` {Narrator}``; names are split on ``&``. So the
folder we create is itself metadata, and it is built to parse back to what we know:
``Author/Series/Vol. N - Title {Narrator}/`` or ``Author/Title {Narrator}/``.

Torrents, on the other hand, come in any shape: ``Dune/Audio/Part 1/01.mp3``, samples,
scene ``.nfo`` files, ``.url`` adverts, ``.exe`` "players". ABS merges disc folders
(``CD1``, ``Disc 2``, matching ``^(cd|dis[ck])\s*\d{1,3}$``) into the book and treats any
other subfolder as a separate book, so :func:`select_files` keeps the audio and the few
side files ABS reads, keeps disc folders as the only sub-level, flattens everything else
and says why each other file was left behind.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Literal

from gui.core.paths import (
    MAX_COMPONENT_BYTES,
    MAX_COMPONENT_LENGTH,
    path_components,
    sanitize_component,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "BookMeta",
    "FileKind",
    "ImportPlan",
    "PlannedFile",
    "SkippedFile",
    "book_folder",
    "format_position",
    "is_disc_folder",
    "select_files",
]

FileKind = Literal["audio", "cover", "cue", "nfo", "opf", "text"]

AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".m4a", ".m4b", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".wav"}
)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
_SIDECAR_EXTENSIONS: dict[str, FileKind] = {".cue": "cue", ".nfo": "nfo", ".opf": "opf"}
# ABS reads these two by name: desc.txt -> description, reader.txt -> narrators.
_TEXT_FILES = frozenset({"desc.txt", "reader.txt"})
# Partial downloads (qBittorrent's own ".!qB" included) and what ABS ignores.
_INCOMPLETE_SUFFIXES = (".!qb", ".part", ".tmp", ".crdownload", ".download")
_DISC = re.compile(r"^(cd|dis[ck])\s*\d{1,3}$", re.IGNORECASE)
_SAMPLE = re.compile(r"(^|[\W_])samples?($|[\W_])", re.IGNORECASE)
_COVER_NAMES = ("cover", "folder", "front")
_MAX_NARRATOR_CHARS = 60


# ---------------------------------------------------------------------------------------
# The book's folder
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookMeta:
    """What the folder name is built from. ``position`` is the place in the series as
    the metadata gives it (``1``, ``"2.5"``, ``"03"``); ``year`` is only used with
    ``book_folder(..., include_year=True)``."""

    title: str
    authors: Sequence[str] = ()
    narrators: Sequence[str] = ()
    series: str | None = None
    position: str | int | float | None = None
    year: int | str | None = None

    def __post_init__(self) -> None:
        # tuples, so a BookMeta is hashable and nobody mutates it behind our back
        object.__setattr__(self, "authors", tuple(self.authors))
        object.__setattr__(self, "narrators", tuple(self.narrators))


def format_position(position: str | int | float | None) -> str | None:
    """The sequence as ABS parses it back from ``Vol. N``, or None when it cannot.

    ABS accepts up to three integer digits and two decimals (``\\d{0,3}(\\.\\d{1,2})?``)
    and stores ``Number(seq).toString()``, so ``"01"`` -> ``"1"``, ``2.50`` -> ``"2.5"``.
    Anything else (``"1-3"``, ``"II"``, ``1000``) is left out of the folder name rather
    than written in a form ABS would take for part of the title; the tags carry it.
    """
    if position is None or isinstance(position, bool):
        return None
    text = str(position).strip().lstrip("#").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0:
        return None
    normalised = number.normalize()
    formatted = format(normalised, "f")
    whole, _, decimals = formatted.partition(".")
    if len(whole) > 3 or len(decimals) > 2:
        return None
    return formatted


def _names(names: Iterable[str]) -> list[str]:
    """Distinct, non-empty, sanitised person names, in the order given."""
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        clean = sanitize_component(name.replace("{", "(").replace("}", ")"))
        if clean != "_" and clean.casefold() not in seen:
            seen.add(clean.casefold())
            result.append(clean)
    return result


def book_folder(meta: BookMeta, *, include_year: bool = False) -> PurePosixPath:
    """``Author/Series/Vol. N - Title {Narrator}`` or ``Author/Title {Narrator}``.

    * Several authors (or narrators) are joined with `` & ``, which ABS splits again.
    * ``{Narrator}`` only when a narrator is known; braces inside any name become
      parentheses so ABS's `` {...}$`` pattern cannot pick up part of a title.
    * No series position (or one ABS cannot parse): the title folder under the series
      folder has no ``Vol.`` prefix.
    * No author: just the title folder. A ``Series/Title`` pair without an author would
      be read by ABS as ``Author/Title``, so the series folder is dropped too.
    * ``include_year``: ``Vol. 1 - 1994 - Title``, the order ABS parses.
    * Every component is sanitised; an over-long title is cut so the narrator suffix
      survives (ABS only sees it at the very end).
    """
    title = sanitize_component(meta.title.replace("{", "(").replace("}", ")"))
    if title == "_" and not meta.title.strip():
        raise ValueError("a book needs a title to get a folder")
    authors = " & ".join(_names(meta.authors))
    narrators = " & ".join(_names(meta.narrators))
    series = sanitize_component(meta.series) if meta.series and meta.series.strip() else ""

    prefix = ""
    position = format_position(meta.position) if series and authors else None
    if position is not None:
        prefix += f"Vol. {position} - "
    if include_year and meta.year is not None and re.fullmatch(r"\d{4}", str(meta.year)):
        prefix += f"{meta.year} - "
    suffix = ""
    if narrators:
        if len(narrators) > _MAX_NARRATOR_CHARS:
            narrators = narrators[:_MAX_NARRATOR_CHARS].rstrip(" &.")
        suffix = f" {{{narrators}}}"
    room = MAX_COMPONENT_LENGTH - len(prefix) - len(suffix)
    leaf = sanitize_component(f"{prefix}{title[:room].rstrip(' .')}{suffix}")

    if not authors:
        return PurePosixPath(leaf)
    author_folder = sanitize_component(authors)
    if series:
        return PurePosixPath(author_folder, series, leaf)
    return PurePosixPath(author_folder, leaf)


# ---------------------------------------------------------------------------------------
# Which files of a torrent
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFile:
    """One file to import: ``source`` is its path in the torrent exactly as qBittorrent
    lists it (relative to the save path), ``target`` its place inside the book folder."""

    source: str
    target: PurePosixPath
    size: int
    kind: FileKind


@dataclass(frozen=True)
class SkippedFile:
    """A torrent file that stays behind, and why (shown to the user)."""

    source: str
    size: int
    reason: str


@dataclass(frozen=True)
class ImportPlan:
    """What :func:`gui.core.importer.import_book` copies, in target order."""

    files: tuple[PlannedFile, ...]
    skipped: tuple[SkippedFile, ...] = field(default=())

    @property
    def total_size(self) -> int:
        return sum(item.size for item in self.files)

    @property
    def audio_files(self) -> tuple[PlannedFile, ...]:
        return tuple(item for item in self.files if item.kind == "audio")

    @property
    def has_audio(self) -> bool:
        return any(item.kind == "audio" for item in self.files)

    @property
    def cover(self) -> PlannedFile | None:
        return next((item for item in self.files if item.kind == "cover"), None)


def is_disc_folder(name: str) -> bool:
    """ABS's disc folder test: ``CD1``, ``cd 02``, ``Disc 2``, ``Disk 003``."""
    return bool(_DISC.match(name.strip()))


@dataclass
class _Candidate:
    source: str
    size: int
    kind: FileKind
    dirs: tuple[str, ...]  # folders in the torrent above the file (traversal removed)
    disc: str | None  # the disc folder it stays in, sanitised
    name: str  # sanitised target file name

    @property
    def sort_key(self) -> tuple[str, ...]:
        return (*self.dirs, self.name)


def _split(source: str) -> list[str] | None:
    """Components of a torrent path with traversal removed; None if nothing is left."""
    return path_components(source) or None


def _classify(name: str) -> FileKind | None:
    lower = name.lower()
    extension = "." + lower.rsplit(".", 1)[1] if "." in lower else ""
    if extension in AUDIO_EXTENSIONS:
        return "audio"
    if extension in IMAGE_EXTENSIONS:
        return "cover"
    if extension in _SIDECAR_EXTENSIONS:
        return _SIDECAR_EXTENSIONS[extension]
    if lower in _TEXT_FILES:
        return "text"
    return None


def _is_sample(parts: Sequence[str]) -> bool:
    stem = parts[-1].rsplit(".", 1)[0]
    return bool(_SAMPLE.search(stem)) or any(
        part.strip().lower() in ("sample", "samples") for part in parts[:-1]
    )


def _cover_rank(candidate: _Candidate) -> tuple[int, int, int, str]:
    """Best first: named cover/folder/front, nearest the top, largest, then by name."""
    stem = candidate.name.rsplit(".", 1)[0].strip().lower()
    named = _COVER_NAMES.index(stem) if stem in _COVER_NAMES else len(_COVER_NAMES)
    return (named, len(candidate.dirs), -candidate.size, "/".join(candidate.sort_key))


def _fit(head: str, tail: str) -> str:
    """``head`` cut so that ``head + tail`` is a whole name: within the character *and*
    the byte limit, so sanitising never cuts into ``tail`` (a `` (2)`` suffix that got
    cut off again made two 240-byte names differing in case loop forever)."""
    head = head[: max(0, MAX_COMPONENT_LENGTH - len(tail))]
    budget = MAX_COMPONENT_BYTES - len(tail.encode("utf-8"))
    while head and len(head.encode("utf-8")) > budget:
        head = head[:-1]
    return head.rstrip(" .") + tail


def _with_suffix(name: str, suffix: str) -> str:
    """``name`` with ``suffix`` before its extension; the suffix always survives."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return sanitize_component(_fit(name, suffix))
    return sanitize_component(_fit(stem, f"{suffix}.{extension}"))


def _resolve_clashes(candidates: list[_Candidate]) -> None:
    """Give every file a distinct target name, deterministically.

    Flattening ``Part 1/01.mp3`` and ``Part 2/01.mp3`` would put two ``01.mp3`` in one
    folder. Clashing files get the folders that tell them apart as a prefix
    (``Part 1 - 01.mp3``), which also keeps the tracks in order for ABS; whatever still
    clashes gets `` (2)``, `` (3)`` in path order. Names are compared without case
    because the library may be on NTFS or SMB.
    """

    def key(candidate: _Candidate) -> tuple[str, str]:
        return ((candidate.disc or "").casefold(), candidate.name.casefold())

    groups: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[key(candidate)].append(candidate)
    for group in groups.values():
        if len(group) < 2:
            continue
        common = 0
        shortest = min(len(member.dirs) for member in group)
        while common < shortest and len({member.dirs[common] for member in group}) == 1:
            common += 1
        for member in group:
            distinct = [
                sanitize_component(part)
                for part in member.dirs[common:]
                if not is_disc_folder(part)
            ]
            if distinct:
                member.name = _with_suffix_prefix(" - ".join(distinct), member.name)

    used: set[tuple[str, str]] = set()
    for candidate in sorted(candidates, key=lambda c: c.sort_key):
        if key(candidate) in used:
            original = candidate.name
            # Each number gives another name (the suffix is never cut), so at most
            # len(candidates) numbers are tried.
            for number in range(2, len(candidates) + 2):
                candidate.name = _with_suffix(original, f" ({number})")
                if key(candidate) not in used:
                    break
        used.add(key(candidate))


def _with_suffix_prefix(prefix: str, name: str) -> str:
    """``prefix - name``, cut in the prefix so the original name stays whole."""
    joined = _fit(prefix, f" - {name}")
    if joined.startswith(" - "):  # no room left for any prefix
        return name
    return sanitize_component(joined)


def select_files(files: Iterable[tuple[str, int]]) -> ImportPlan:
    """Pick what to import from a torrent's ``(path, size)`` list and where each goes.

    Kept: audio (``mp3 m4a m4b aac flac ogg oga opus wma wav``), one cover image (the
    best of those named cover/folder/front, else the biggest near the top), ``.cue``,
    ``.nfo``, ``.opf``, ``desc.txt`` and ``reader.txt``. Skipped, each with a reason:
    dot-files and dot-folders (ABS ignores them), unfinished downloads, samples (when
    there is other audio), other images, and every other type (``.exe``, ``.url``,
    ``.torrent``, ``.sfv``, ``.m3u``, ``.pdf``...).

    Layout: a file inside a disc folder stays in that disc folder (the nearest one above
    it); everything else is flattened into the book folder, covers always are.
    """
    skipped: list[SkippedFile] = []
    candidates: list[_Candidate] = []
    for source, size in files:
        parts = _split(source)
        if parts is None:
            skipped.append(SkippedFile(source, size, "no usable file name"))
            continue
        name = parts[-1]
        if any(part.startswith(".") for part in parts):
            skipped.append(
                SkippedFile(source, size, "hidden file or folder (Audiobookshelf ignores it)")
            )
            continue
        if name.lower().endswith(_INCOMPLETE_SUFFIXES):
            skipped.append(SkippedFile(source, size, "unfinished or temporary download file"))
            continue
        kind = _classify(name.rstrip(" ."))  # Windows drops trailing dots and spaces
        if kind is None:
            extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
            what = f".{extension} files are" if extension else "files without an extension are"
            skipped.append(SkippedFile(source, size, f"not part of an audiobook ({what} skipped)"))
            continue
        dirs = tuple(parts[:-1])
        disc = None
        if kind != "cover":
            disc = next((sanitize_component(p) for p in reversed(dirs) if is_disc_folder(p)), None)
        target_name = sanitize_component(name.lower() if kind == "text" else name)
        candidates.append(_Candidate(source, size, kind, dirs, disc, target_name))

    audio = [c for c in candidates if c.kind == "audio"]
    samples = [c for c in audio if _is_sample([*c.dirs, c.name])]
    if samples and len(samples) < len(audio):
        for sample in samples:
            skipped.append(SkippedFile(sample.source, sample.size, "sample"))
        candidates = [c for c in candidates if c not in samples]

    images = sorted((c for c in candidates if c.kind == "cover"), key=_cover_rank)
    if len(images) > 1:
        best = images[0]
        for other in images[1:]:
            skipped.append(
                SkippedFile(other.source, other.size, f"other image (the cover is {best.source})")
            )
        candidates = [c for c in candidates if c.kind != "cover" or c is best]

    _resolve_clashes(candidates)
    planned = [
        PlannedFile(
            source=c.source,
            target=PurePosixPath(c.disc, c.name) if c.disc else PurePosixPath(c.name),
            size=c.size,
            kind=c.kind,
        )
        for c in candidates
    ]
    planned.sort(key=lambda item: _natural_key(item.target.as_posix()))
    skipped.sort(key=lambda item: item.source)
    return ImportPlan(files=tuple(planned), skipped=tuple(skipped))


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort ``CD2`` before ``CD10`` and ``2.mp3`` before ``10.mp3``, as a person would."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return tuple(
        (0, int(piece)) if piece.isdigit() else (1, piece)
        for piece in re.split(r"(\d+)", folded)
        if piece
    )
