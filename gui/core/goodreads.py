"""Wanted books from a CSV file: a Goodreads export, or a plain `title,author` list (no Qt).

Goodreads' "Export Library" writes every shelf into one file; only the "to-read" shelf is
what the user wants to listen to, so other shelves are reported, not silently dropped.
Its quirks, as the export writes them:

* ISBNs are spreadsheet formulas, `="0441172717"` (`=""` when unknown), so Excel keeps
  the leading zero; `ISBN13` is preferred when both are there;
* a series is part of the title: "The Way of Kings (The Stormlight Archive, #1)";
* `Author` is the primary author; `Additional Authors` are often translators or
  illustrators, so they are not searched for.

A plain CSV is recognised by a header naming at least a title column; a file without a
known header is read as `title, author[, narrator, series, position]` rows. A headerless
file with more columns than that (a Goodreads export whose header row was cut off, a
spreadsheet of something else) is neither, and is refused whole (`CsvRefused`) rather
than read as hundreds of junk books titled with ids.

Goodreads' ISBN cells are often junk (`=""`, `="0"`, a spreadsheet's `9.78E+12`, an ASIN
for a Kindle edition): in an export the ISBN is a hint, so a row keeps its book and loses
only the unusable ISBN. Only the shelves asked for are imported (`to-read` by default;
custom exclusive shelves such as "want-to-listen" when the user names them).

Every row ends in exactly one bucket of the plan: added, skipped (with what it duplicates:
the library, the wanted queue, an earlier row) or rejected (with why), so the user's
report adds up to the number of rows in the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gui.core.matching import canonical_isbn, normalize_names, normalize_title
from gui.core.safe_read import FileTooLarge, read_regular_file

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "CsvBook",
    "CsvProblem",
    "CsvRefused",
    "ImportPlan",
    "OwnedLookup",
    "ParsedCsv",
    "Skipped",
    "book_key",
    "parse_csv",
    "plan_import",
    "read_csv_file",
    "split_series",
]

#: A Goodreads export of 10,000 books is about 5 MB; anything far larger is not one.
MAX_FILE_BYTES = 50 * 1024 * 1024
FORMATS = ("m4b", "mp3", "flac", "opus")
TO_READ = "to-read"
#: Goodreads' three built-in exclusive shelves; any other is one the user made.
BUILTIN_SHELVES = frozenset({"to-read", "currently-reading", "read"})

#: Column names (folded) a plain CSV may use, by the Book field they fill.
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "book", "book title", "name"),
    "author": ("author", "authors", "writer", "author name"),
    "narrator": ("narrator", "narrators", "narrated by", "reader"),
    "series": ("series",),
    "position": ("position", "#", "series position", "number", "book number", "sequence"),
    "asin": ("asin", "audible asin"),
    "isbn13": ("isbn13", "isbn 13", "isbn-13"),
    "isbn": ("isbn", "isbn10", "isbn-10"),
    "language": ("language", "lang"),
    "preferred_format": ("format", "preferred format", "preferred_format"),
    "shelf": ("exclusive shelf", "shelf", "read status"),
}
_POSITIONAL = ("title", "author", "narrator", "series", "position")
_GOODREADS_COLUMNS = frozenset({"title", "author", "exclusive shelf"})
# "(The Stormlight Archive, #1)", "(Dune #1)", "(Discworld, #2.5)", an omnibus "(Saga, #1-3)".
_NUMBER = r"\d+(?:\.\d+)?"
_POSITION = re.compile(rf"{_NUMBER}(?:\s*[-–]\s*{_NUMBER})?")
_SERIES = re.compile(rf"\s*\((?P<series>[^()]*?),?\s*#\s*(?P<position>{_POSITION.pattern})\)\s*$")
_FORMULA = re.compile(r'^="(.*)"$')
_ASIN = re.compile(r"^[A-Z0-9]{10}$")


class CsvRefused(ValueError):
    """The file as a whole is not a book list Earmark can read (nothing was imported)."""


@dataclass(frozen=True)
class CsvBook:
    """One usable row: what a wanted book is made of, and where it came from."""

    line: int
    title: str
    author: str
    narrator: str = ""
    series: str = ""
    position: str = ""
    asin: str = ""
    isbn: str = ""
    language: str = ""
    preferred_format: str = ""

    def describe(self) -> str:
        return f"{self.title} — {self.author}" if self.author else self.title


@dataclass(frozen=True)
class CsvProblem:
    """A row that cannot become a wanted book, and why (in words for the report)."""

    line: int
    text: str  # the row as the user would recognise it
    reason: str


@dataclass
class ParsedCsv:
    books: list[CsvBook] = field(default_factory=list)
    rejected: list[CsvProblem] = field(default_factory=list)
    kind: str = "plain"  # "goodreads" or "plain"


@dataclass(frozen=True)
class Skipped:
    book: CsvBook
    reason: str


@dataclass
class ImportPlan:
    """What an import does: the three buckets of the report."""

    add: list[CsvBook] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: list[CsvProblem] = field(default_factory=list)
    kind: str = "plain"

    def summary(self) -> str:
        return f"{len(self.add)} added, {len(self.skipped)} skipped, {len(self.rejected)} rejected"


# ---- reading ---------------------------------------------------------------------------


def read_csv_file(
    path: Path, *, max_bytes: int = MAX_FILE_BYTES, shelves: Iterable[str] = (TO_READ,)
) -> ParsedCsv:
    """Read and parse a CSV file; ValueError (with the reason) when it cannot be read."""
    try:
        data = read_regular_file(path, max_bytes)  # a FIFO or /dev/zero would never end
    except FileTooLarge as exc:
        raise ValueError(
            f"{path.name} is {exc.size // (1024 * 1024)} MB: too large for a book list"
        ) from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return parse_csv(_decode(data), shelves=shelves)
    except CsvRefused as exc:
        raise CsvRefused(f"{path.name}: {exc}") from exc


def _decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else Windows-1252, which decodes anything."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Excel writes `;` in locales with a decimal comma; sniff the first lines only."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _cell(value: str) -> str:
    value = value.strip()
    match = _FORMULA.match(value)
    return match.group(1).strip() if match else value


def _fold(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


def split_series(title: str) -> tuple[str, str, str]:
    """Goodreads' "Title (Series, #N)" as (title, series, position); unchanged otherwise."""
    match = _SERIES.search(title)
    if match is None:
        return title.strip(), "", ""
    rest = title[: match.start()].strip()
    if not rest:
        return title.strip(), "", ""
    position = re.sub(r"\s*[-–]\s*", "-", match.group("position"))
    return rest, match.group("series").strip(), position


def _header_map(header: Sequence[str]) -> dict[str, int]:
    """Book field -> column index, for the columns this header names."""
    folded = [_fold(name) for name in header]
    found: dict[str, int] = {}
    for name, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in folded:
                found[name] = folded.index(alias)
                break
    return found


def parse_csv(text: str, *, shelves: Iterable[str] = (TO_READ,)) -> ParsedCsv:
    """Rows to books and problems: a bad row is rejected with its reason; a file that is
    neither a Goodreads export nor a plain list raises `CsvRefused`.

    ``shelves``: the shelves whose books are wanted (folded names, ``to-read`` by default).
    """
    wanted_shelves = frozenset(_fold(shelf) for shelf in shelves) or frozenset({TO_READ})
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        return ParsedCsv(rejected=[CsvProblem(1, "", "not a text file (it contains NUL bytes)")])
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text), strict=True)
    rows: list[tuple[int, list[str]]] = []
    problems: list[CsvProblem] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot resynchronise after a broken quote: say so, keep the rest.
            reason = f"malformed row ({exc}; an unclosed quote?): the rest was not read"
            problems.append(CsvProblem(line, "", reason))
            break
        if any(cell.strip() for cell in row):
            rows.append((line, row))
    if not rows:
        return ParsedCsv(rejected=problems)
    header = rows[0][1]
    columns = _header_map(header)
    goodreads = {_fold(name) for name in header} >= _GOODREADS_COLUMNS
    if "title" in columns:
        body = rows[1:]
        width = len(header)
    else:
        _refuse_headerless(rows)
        columns = {name: i for i, name in enumerate(_POSITIONAL)}
        body = rows
        width = 0
    parsed = ParsedCsv(kind="goodreads" if goodreads else "plain")
    for line, row in body:
        result = _row(line, row, columns, width=width, goodreads=goodreads, shelves=wanted_shelves)
        if isinstance(result, CsvBook):
            parsed.books.append(result)
        else:
            parsed.rejected.append(result)
    parsed.rejected.extend(problems)
    return parsed


def _refuse_headerless(rows: Sequence[tuple[int, list[str]]]) -> None:
    """A file without a header is a plain `title, author[, narrator, series, position]`
    list; rows wider than that mean it is something else, whose columns are unknown."""
    widest = max(len(row) for _, row in rows)
    numeric = sum(1 for _, row in rows if _cell(row[0]).replace(".", "").isdigit())
    if widest <= len(_POSITIONAL):
        if len(rows) >= 5 and numeric >= 0.8 * len(rows):  # "1984" is a title; 538 ids not
            raise CsvRefused(
                "the file has no header row and its first column holds numbers (ids?), not "
                "titles; nothing was imported. A plain list has the columns title, author"
                "[, narrator, series, position] — add a header row naming the columns"
            )
        return
    first = rows[0][1]
    if widest >= len(_GOODREADS_COLUMNS) * 6 and first[0].strip().isdigit():
        what = "looks like a Goodreads export without its header row (Book Id, Title, Author, …)"
        fix = "export it again from Goodreads, or put the header row back"
    else:
        what = f"has rows of {widest} columns and no header row naming them"
        fix = "add a header row with at least a 'Title' column"
    raise CsvRefused(
        f"the file {what}; nothing was imported. A plain list has the columns title, "
        f"author[, narrator, series, position] — {fix}"
    )


def _row(
    line: int,
    row: list[str],
    columns: dict[str, int],
    *,
    width: int,
    goodreads: bool,
    shelves: frozenset[str] = frozenset({TO_READ}),
) -> CsvBook | CsvProblem:
    def get(name: str) -> str:
        index = columns.get(name)
        return _cell(row[index]) if index is not None and index < len(row) else ""

    if get("title") or get("author"):
        shown = f"{get('title') or '(no title)'} — {get('author') or '(no author)'}"
    else:
        shown = _short(",".join(row))
    if width and len(row) > width:
        return CsvProblem(line, shown, f"malformed row: {len(row)} fields, the header has {width}")
    if goodreads and len(row) < width:
        return CsvProblem(line, shown, f"malformed row: {len(row)} fields, the header has {width}")
    shelf = get("shelf")
    if (goodreads or shelf) and _fold(shelf) not in shelves:
        where = f"on the '{shelf}' shelf" if shelf else "on no shelf"
        named = ", ".join(f"'{name}'" for name in sorted(shelves))
        reason = f"{where}, not {named}"
        if shelf and _fold(shelf) not in BUILTIN_SHELVES:
            reason += (
                ' (a shelf of your own: list it in "csv_shelves" in settings.json to import it)'
            )
        return CsvProblem(line, shown, reason)
    title, series, position = get("title"), get("series"), get("position")
    if not title:
        return CsvProblem(line, shown, "missing title")
    if goodreads or not series:
        title, found_series, found_position = split_series(title)
        series = series or found_series
        position = position or found_position
    author = get("author")
    if not author:
        return CsvProblem(line, shown, "missing author")
    if position and not _is_position(position):
        return CsvProblem(line, shown, f"the series position '{position}' is not a number")
    isbn = ""
    for candidate in (get("isbn13"), get("isbn")):  # the 13-digit column wins when both are
        if candidate and _is_isbn(candidate):
            isbn = candidate
            break
        if candidate and not goodreads:  # a plain list's ISBN was typed on purpose
            return CsvProblem(line, shown, f"'{candidate}' is not an ISBN")
    asin = get("asin").upper()
    if asin and not _ASIN.match(asin):
        return CsvProblem(line, shown, f"'{asin}' is not an ASIN (10 letters and digits)")
    preferred = get("preferred_format").lower().lstrip(".")
    if preferred in ("any", ""):
        preferred = ""
    elif preferred not in FORMATS:
        return CsvProblem(line, shown, f"unknown format '{preferred}' ({', '.join(FORMATS)})")
    return CsvBook(
        line=line,
        title=title,
        author=author,
        narrator=get("narrator"),
        series=series,
        position=position,
        asin=asin,
        isbn=isbn,
        language=get("language"),
        preferred_format=preferred,
    )


def _is_isbn(text: str) -> bool:
    """An ISBN-10 or -13 in any hyphenation (letters make it an ASIN or junk)."""
    digits = canonical_isbn(text)
    return len(digits) == 13 and digits.isdigit()


def _is_position(text: str) -> bool:
    """A number ("2", "2.5") or an omnibus' range ("1-3")."""
    return _POSITION.fullmatch(text.strip()) is not None


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- deciding ---------------------------------------------------------------------------


def book_key(title: str, author: str) -> tuple[str, str]:
    """What makes two queue entries the same book: the normalised title (without a
    "(Series, #N)" suffix) and the first author's normalised name."""
    bare, _, _ = split_series(title)
    names = normalize_names(author)
    return normalize_title(bare), names[0] if names else ""


OwnedLookup = Callable[[CsvBook], str | None]


def plan_import(
    parsed: ParsedCsv,
    queue: Iterable[tuple[str, str, str]],
    owned: OwnedLookup | None = None,
) -> ImportPlan:
    """Sort the parsed rows into the report's buckets.

    `queue` holds (title, author, isbn) of the books already wanted; `owned` answers the
    library's title for a book the user has (None: not owned, or no library known).
    """
    plan = ImportPlan(rejected=list(parsed.rejected), kind=parsed.kind)
    keys: dict[tuple[str, str], str] = {}
    isbns: dict[str, str] = {}
    for title, author, isbn in queue:
        keys[book_key(title, author)] = "already on the wanted queue"
        if isbn:
            isbns[canonical_isbn(isbn)] = "already on the wanted queue"
    for book in parsed.books:
        key = book_key(book.title, book.author)
        isbn = canonical_isbn(book.isbn) if book.isbn else ""
        duplicate = keys.get(key) or (isbns.get(isbn) if isbn else None)
        if duplicate is not None:
            plan.skipped.append(Skipped(book, duplicate))
            continue
        library_title = owned(book) if owned is not None else None
        if library_title is not None:
            plan.skipped.append(Skipped(book, f"already in your library: {library_title}"))
            continue
        earlier = f"listed earlier in the file (line {book.line})"
        keys[key] = earlier
        if isbn:
            isbns[isbn] = earlier
        plan.add.append(book)
    plan.rejected.sort(key=lambda problem: problem.line)
    return plan
