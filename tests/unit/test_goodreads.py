"""CSV import: Goodreads exports (their quirks as the export writes them) and plain lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.core.goodreads import (
    CsvBook,
    CsvRefused,
    parse_csv,
    plan_import,
    read_csv_file,
    split_series,
)

GOODREADS_HEADER = (
    "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,"
    "Average Rating,Publisher,Binding,Number of Pages,Year Published,"
    "Original Publication Year,Date Read,Date Added,Bookshelves,"
    "Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,"
    "Read Count,Owned Copies"
)


def goodreads_row(
    title: str,
    author: str,
    shelf: str = "to-read",
    *,
    isbn: str = "",
    isbn13: str = "",
    additional: str = "",
) -> str:
    surname = author.split()[-1] if author else ""
    return (
        f'1,"{title}",{author},"{surname}, x",{additional},"=""{isbn}""","=""{isbn13}""",0,4.1,'
        f"Ace,Paperback,600,1990,1965,,2024/01/02,{shelf},{shelf} (#1),{shelf},,,,0,0"
    )


def goodreads_csv(*rows: str) -> str:
    return "\n".join([GOODREADS_HEADER, *rows]) + "\n"


def test_a_goodreads_export_keeps_the_to_read_shelf_and_reads_its_quirks() -> None:
    text = goodreads_csv(
        goodreads_row(
            "Dune (Dune, #1)", "Frank Herbert", isbn="0441172717", isbn13="9780441172719"
        ),
        goodreads_row(
            "The Way of Kings (The Stormlight Archive, #1)", "Brandon Sanderson", isbn="0765326353"
        ),
        goodreads_row("Good Omens", "Terry Pratchett", additional="Neil Gaiman"),
        goodreads_row("Piranesi", "Susanna Clarke", "read"),
        goodreads_row("Hyperion (Hyperion Cantos, #1)", "Dan Simmons", "currently-reading"),
    )
    parsed = parse_csv(text)
    assert parsed.kind == "goodreads"
    assert [(b.title, b.series, b.position, b.isbn) for b in parsed.books] == [
        ("Dune", "Dune", "1", "9780441172719"),  # ISBN13 preferred, the ="..." formula undone
        ("The Way of Kings", "The Stormlight Archive", "1", "0765326353"),
        ("Good Omens", "", "", ""),
    ]
    assert parsed.books[2].author == "Terry Pratchett"  # additional authors are not searched
    assert [(p.line, p.reason) for p in parsed.rejected] == [
        (5, "on the 'read' shelf, not 'to-read'"),
        (6, "on the 'currently-reading' shelf, not 'to-read'"),
    ]
    assert parsed.rejected[0].text == "Piranesi — Susanna Clarke"


def test_rows_without_a_title_or_with_extra_fields_are_rejected_with_the_reason() -> None:
    text = goodreads_csv(
        goodreads_row("", "Frank Herbert"),
        goodreads_row("Dune", "Frank Herbert") + ",surplus",
        "1,Truncated,Someone",
        goodreads_row("Dune", ""),
    )
    parsed = parse_csv(text)
    assert parsed.books == []
    reasons = [p.reason for p in parsed.rejected]
    assert reasons[0] == "missing title"
    assert reasons[1] == "malformed row: 25 fields, the header has 24"
    assert reasons[2] == "malformed row: 3 fields, the header has 24"
    assert reasons[3] == "missing author"


def test_a_broken_quote_is_reported_not_swallowed() -> None:
    parsed = parse_csv('title,author\nDune,Frank Herbert\n"Broken,Someone\nMore,Rows\n')
    assert [b.title for b in parsed.books] == ["Dune"]
    [problem] = parsed.rejected
    assert problem.line == 3
    assert problem.reason.startswith("malformed row")
    assert "the rest was not read" in problem.reason


@pytest.mark.parametrize(
    "text",
    [
        "title,author\nDune,Frank Herbert\n",
        "Title,Author\r\nDune,Frank Herbert\r\n",
        "\ufefftitle;author\nDune;Frank Herbert\n",  # Excel's BOM and a decimal-comma locale
        "Dune,Frank Herbert\n",  # no header: title, author
        "Book Title\tAuthors\nDune\tFrank Herbert\n",
    ],
)
def test_plain_csv_files(text: str) -> None:
    parsed = parse_csv(text)
    assert parsed.kind == "plain"
    assert [(b.title, b.author) for b in parsed.books] == [("Dune", "Frank Herbert")]
    assert parsed.rejected == []


def test_plain_csv_optional_columns_and_their_checks() -> None:
    text = (
        "title,author,narrator,series,position,asin,isbn,language,format\n"
        "Dune,Frank Herbert,Scott Brick,Dune,1,B002V1OF70,978-0441172719,en,M4B\n"
        "Dune Messiah,Frank Herbert,,Dune,two,,,,\n"
        "Children of Dune,Frank Herbert,,,,,,,wma\n"
        "Heretics,Frank Herbert,,,,XYZ,,,\n"
        "Chapterhouse,Frank Herbert,,,,,12345,,\n"
    )
    parsed = parse_csv(text)
    [dune] = parsed.books
    assert dune == CsvBook(
        line=2,
        title="Dune",
        author="Frank Herbert",
        narrator="Scott Brick",
        series="Dune",
        position="1",
        asin="B002V1OF70",
        isbn="978-0441172719",
        language="en",
        preferred_format="m4b",
    )
    assert [p.reason for p in parsed.rejected] == [
        "the series position 'two' is not a number",
        "unknown format 'wma' (m4b, mp3, flac, opus)",
        "'XYZ' is not an ASIN (10 letters and digits)",
        "'12345' is not an ISBN",
    ]


def test_a_shelf_column_in_a_plain_csv_is_honoured() -> None:
    parsed = parse_csv(
        "title,author,read status\nDune,Frank Herbert,to-read\nEmma,Jane Austen,read\n"
    )
    assert [b.title for b in parsed.books] == ["Dune"]
    assert [p.reason for p in parsed.rejected] == ["on the 'read' shelf, not 'to-read'"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Dune (Dune #1)", ("Dune", "Dune", "1")),
        ("Small Gods (Discworld, #13)", ("Small Gods", "Discworld", "13")),
        ("Interlude (Saga, #2.5)", ("Interlude", "Saga", "2.5")),
        ("Omnibus (Saga, #1-3)", ("Omnibus", "Saga", "1-3")),
        ("(Series, #1)", ("(Series, #1)", "", "")),
        ("Catch-22", ("Catch-22", "", "")),
    ],
)
def test_split_series(title: str, expected: tuple[str, str, str]) -> None:
    assert split_series(title) == expected


def test_the_plan_sorts_every_row_into_one_bucket() -> None:
    text = goodreads_csv(
        goodreads_row("Dune (Dune, #1)", "Frank Herbert"),  # already wanted
        goodreads_row("The Hobbit", "J.R.R. Tolkien"),  # owned
        goodreads_row("Piranesi", "Susanna Clarke"),  # added
        goodreads_row("Piranesi", "Susanna Clarke"),  # twice in the file
        goodreads_row("Emma", "Jane Austen", "read"),  # rejected
        goodreads_row("Hyperion", "Dan Simmons", isbn13="9780553283686"),  # same ISBN as queue
    )
    parsed = parse_csv(text)
    queue = [("Dune", "Frank Herbert", ""), ("Hyperion (audio)", "Simmons", "0553283685")]

    def owned(book: CsvBook) -> str | None:
        return "The Hobbit, or There and Back Again" if book.title == "The Hobbit" else None

    plan = plan_import(parsed, queue, owned)
    assert [b.title for b in plan.add] == ["Piranesi"]
    assert [(s.book.title, s.reason) for s in plan.skipped] == [
        ("Dune", "already on the wanted queue"),
        ("The Hobbit", "already in your library: The Hobbit, or There and Back Again"),
        ("Piranesi", "listed earlier in the file (line 4)"),
        ("Hyperion", "already on the wanted queue"),
    ]
    assert [p.reason for p in plan.rejected] == ["on the 'read' shelf, not 'to-read'"]
    assert plan.summary() == "1 added, 4 skipped, 1 rejected"
    rows = len(text.strip().splitlines()) - 1
    assert len(plan.add) + len(plan.skipped) + len(plan.rejected) == rows


def test_without_a_library_only_the_queue_and_the_file_count() -> None:
    parsed = parse_csv("title,author\nThe Hobbit,J.R.R. Tolkien\nthe hobbit,J. R. R. Tolkien\n")
    plan = plan_import(parsed, [])
    assert [b.line for b in plan.add] == [2]
    assert [s.reason for s in plan.skipped] == ["listed earlier in the file (line 2)"]


def test_reading_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("title,author\nLes Misérables,Victor Hugo\n".encode("cp1252"))
    assert read_csv_file(latin).books[0].title == "Les Misérables"
    with pytest.raises(ValueError, match="cannot read"):
        read_csv_file(tmp_path / "missing.csv")
    big = tmp_path / "big.csv"
    big.write_bytes(b"title,author\n" + b"x,y\n" * 1000)
    with pytest.raises(ValueError, match="too large"):
        read_csv_file(big, max_bytes=100)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"title,author\x00\n")
    [problem] = read_csv_file(binary).rejected
    assert "NUL" in problem.reason


# ---- real-world exports ----------------------------------------------------------------


def test_a_goodreads_export_without_its_header_row_is_refused_whole() -> None:
    rows = [goodreads_row(f"Book {n}", "Some Author") for n in range(538)]
    with pytest.raises(CsvRefused, match="Goodreads export without its header row"):
        parse_csv("\n".join(rows) + "\n")
    with pytest.raises(CsvRefused, match="rows of 8 columns and no header row"):
        parse_csv("a,b,c,d,e,f,g,h\nDune,Frank Herbert,,,,,,\n")


def test_a_refused_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "goodreads_library_export.csv"
    path.write_text(goodreads_row("Dune", "Frank Herbert") + "\n", encoding="utf-8")
    with pytest.raises(CsvRefused, match=r"^goodreads_library_export\.csv: the file looks like"):
        read_csv_file(path)


@pytest.mark.parametrize("junk", ["", "0", "=", "9.78044E+12", "B00ABCDEFG", "unknown"])
def test_junk_isbn_cells_of_a_goodreads_export_are_dropped_not_the_book(junk: str) -> None:
    parsed = parse_csv(
        goodreads_csv(goodreads_row("Dune", "Frank Herbert", isbn=junk, isbn13=junk))
    )
    assert parsed.rejected == []
    assert [(b.title, b.isbn) for b in parsed.books] == [("Dune", "")]
    # A good ISBN-10 next to a junk ISBN13 cell is kept.
    parsed = parse_csv(goodreads_csv(goodreads_row("Dune", "F H", isbn="0441172717", isbn13=junk)))
    assert [b.isbn for b in parsed.books] == ["0441172717"]


def test_omnibus_titles_keep_their_range_as_the_position() -> None:
    parsed = parse_csv(goodreads_csv(goodreads_row("The Saga (Saga, #1-3)", "Brian Vaughan")))
    assert [(b.title, b.series, b.position) for b in parsed.books] == [("The Saga", "Saga", "1-3")]
    assert split_series("Omnibus (Saga, #1 – 3)") == ("Omnibus", "Saga", "1-3")


def test_custom_exclusive_shelves_are_imported_when_named() -> None:
    text = goodreads_csv(
        goodreads_row("Dune", "Frank Herbert", "want-to-listen"),
        goodreads_row("Emma", "Jane Austen", "to-read"),
        goodreads_row("Piranesi", "Susanna Clarke", "read"),
    )
    default = parse_csv(text)
    assert [b.title for b in default.books] == ["Emma"]
    assert default.rejected[0].reason == (
        "on the 'want-to-listen' shelf, not 'to-read' (a shelf of your own: list it in "
        '"csv_shelves" in settings.json to import it)'
    )
    chosen = parse_csv(text, shelves=["Want-To-Listen", "to-read"])
    assert [b.title for b in chosen.books] == ["Dune", "Emma"]
    assert [p.reason for p in chosen.rejected] == [
        "on the 'read' shelf, not 'to-read', 'want-to-listen'"
    ]


def test_a_headerless_list_of_ids_is_refused_but_numeric_titles_are_books() -> None:
    ids = "".join(f"{4000 + n},{9000 + n}\n" for n in range(20))
    with pytest.raises(CsvRefused, match="first column holds numbers"):
        parse_csv(ids)
    parsed = parse_csv("1984,George Orwell\n2001,Arthur C. Clarke\nDune,Frank Herbert\n")
    assert [b.title for b in parsed.books] == ["1984", "2001", "Dune"]
