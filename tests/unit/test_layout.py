"""The book's folder as Audiobookshelf parses it, and which torrent files go into it.

Folder names are checked twice: against the expected text, and by parsing them back
with a port of ABS's own folder parser (``server/utils/scandir.js``
``getBookDataFromDir``), so a name that looks right but that ABS would read differently
fails here rather than in a user's library.
"""

from __future__ import annotations

import random
import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from gui.core.layout import (
    BookMeta,
    ImportPlan,
    book_folder,
    format_position,
    is_disc_folder,
    select_files,
)
from gui.core.paths import MAX_COMPONENT_BYTES, MAX_COMPONENT_LENGTH


def abs_parse(folder: PurePosixPath) -> dict[str, Any]:
    """Python port of ABS's getBookDataFromDir (subtitle parsing off, the default)."""
    parts = list(folder.parts)
    title_folder = parts.pop()
    series = parts.pop() if len(parts) > 1 else None
    author = parts.pop() if parts else None
    narrators = None
    match = re.match(r"^(?P<title>.*) \{(?P<narrators>.*)\}$", title_folder)
    if match:
        title_folder, narrators = match.group("title"), match.group("narrators")
    sequence = None
    if series:
        pattern = re.compile(
            r"^(?P<label>vol\.? |volume |book )?(?P<seq>\d{0,3}(?:\.\d{1,2})?)(?P<dot>\.?)"
            r"(?: (?P<suffix>.*))?$",
            re.IGNORECASE,
        )
        pieces = title_folder.split(" - ")
        for index, piece in enumerate(pieces):
            found = pattern.match(piece)
            if found and not (
                found.group("suffix") and not (found.group("label") or found.group("dot"))
            ):
                raw = found.group("seq")
                sequence = str(float(raw)).removesuffix(".0") if raw else raw
                if found.group("suffix"):
                    pieces[index] = found.group("suffix")
                else:
                    pieces.pop(index)
                break
        title_folder = " - ".join(pieces)
    year = None
    found_year = re.match(r"^ *\(?([0-9]{4})\)? * - *(.+)", title_folder)
    if found_year:
        year, title_folder = found_year.group(1), found_year.group(2)

    def names(text: str | None) -> list[str]:
        return [n.strip() for n in re.split(r"&| and |,", text)] if text else []

    return {
        "authors": names(author),
        "series": series,
        "sequence": sequence,
        "year": year,
        "title": title_folder,
        "narrators": names(narrators),
    }


# --- book_folder -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (
            BookMeta("Dune", ["Frank Herbert"], ["Scott Brick"], "Dune Chronicles", 1),
            "Frank Herbert/Dune Chronicles/Vol. 1 - Dune {Scott Brick}",
        ),
        (
            BookMeta("Dune", ["Frank Herbert"], [], "Dune Chronicles", "01"),
            "Frank Herbert/Dune Chronicles/Vol. 1 - Dune",
        ),
        (
            BookMeta("Tales", ["A. Writer"], ["Reader"], "Cycle", 2.5),
            "A. Writer/Cycle/Vol. 2.5 - Tales {Reader}",
        ),
        (
            BookMeta("Tales", ["A. Writer"], [], "Cycle", "2.50"),
            "A. Writer/Cycle/Vol. 2.5 - Tales",
        ),
        (BookMeta("Dune", ["Frank Herbert"]), "Frank Herbert/Dune"),
        (BookMeta("Dune", ["Frank Herbert"], ["Scott Brick"]), "Frank Herbert/Dune {Scott Brick}"),
        # position without series is meaningless to ABS; series without position: no Vol.
        (BookMeta("Dune", ["Frank Herbert"], position=3), "Frank Herbert/Dune"),
        (
            BookMeta("Dune", ["Frank Herbert"], series="Dune Chronicles"),
            "Frank Herbert/Dune Chronicles/Dune",
        ),
        # several authors and narrators joined with " & ", duplicates dropped
        (
            BookMeta(
                "Good Omens",
                ["Terry Pratchett", "Neil Gaiman", "terry pratchett"],
                ["Martin Jarvis"],
            ),
            "Terry Pratchett & Neil Gaiman/Good Omens {Martin Jarvis}",
        ),
        (
            BookMeta("World War Z", ["Max Brooks"], ["Mark Hamill", "Alan Alda"]),
            "Max Brooks/World War Z {Mark Hamill & Alan Alda}",
        ),
        # no author: the title folder alone (a Series/Title pair would read as Author/Title)
        (BookMeta("Anonymous Tales", [], ["Reader"], "Cycle", 1), "Anonymous Tales {Reader}"),
        # positions ABS cannot parse are left out
        (BookMeta("Omnibus", ["A"], [], "Cycle", "1-3"), "A/Cycle/Omnibus"),
        (BookMeta("Late", ["A"], [], "Cycle", 1000), "A/Cycle/Late"),
        # names sanitised for Windows
        (
            BookMeta("Dune: Messiah?", ["Frank Herbert"], [], "Dune <Chronicles>", 2),
            "Frank Herbert/Dune Chronicles/Vol. 2 - Dune Messiah",
        ),
        (BookMeta("CON", ["AUX"]), "AUX_/CON_"),
        (BookMeta("The End.", ["Someone..."]), "Someone/The End"),
        # braces would confuse ABS's {Narrator} pattern
        (BookMeta("Title {Special}", ["A"], ["N {x}"]), "A/Title (Special) {N (x)}"),
    ],
)
def test_book_folder(meta: BookMeta, expected: str) -> None:
    assert book_folder(meta) == PurePosixPath(expected)


def test_book_folder_with_year() -> None:
    meta = BookMeta("Dune", ["Frank Herbert"], ["Scott Brick"], "Dune Chronicles", 1, year=1965)
    folder = book_folder(meta, include_year=True)
    assert folder == PurePosixPath(
        "Frank Herbert/Dune Chronicles/Vol. 1 - 1965 - Dune {Scott Brick}"
    )
    assert abs_parse(folder)["year"] == "1965"
    assert book_folder(BookMeta("Dune", ["F"], year=1965), include_year=True).name == "1965 - Dune"
    assert book_folder(BookMeta("Dune", ["F"], year="n.d."), include_year=True).name == "Dune"


@pytest.mark.parametrize(
    "meta",
    [
        BookMeta("Dune", ["Frank Herbert"], ["Scott Brick"], "Dune Chronicles", 1),
        BookMeta(
            "Wizards First Rule", ["Terry Goodkind"], ["Sam Tsoutsouvas"], "Sword of Truth", "1"
        ),
        BookMeta("Tales", ["A. Writer", "B. Writer"], ["R1", "R2"], "Cycle", 0.5),
        BookMeta(
            "Children of Time", ["Adrian Tchaikovsky"], ["Mel Hudson"], "Children of Time", 12
        ),
        BookMeta("Project Hail Mary", ["Andy Weir"], ["Ray Porter"]),
        BookMeta("A Title - With a Dash", ["Someone"], [], "Series", 3),
        BookMeta("101 Dalmatians", ["Dodie Smith"], [], "Dogs", 1),
    ],
)
def test_abs_reads_the_folder_back(meta: BookMeta) -> None:
    parsed = abs_parse(book_folder(meta))
    assert parsed["title"] == meta.title
    assert parsed["authors"] == list(meta.authors)
    assert parsed["narrators"] == list(meta.narrators)
    assert parsed["series"] == meta.series
    assert parsed["sequence"] == (format_position(meta.position) if meta.series else None)


def test_long_title_is_cut_but_keeps_the_narrator() -> None:
    meta = BookMeta("Word " * 80, ["Author"], ["The Narrator"], "Series", 7)
    leaf = book_folder(meta).name
    assert len(leaf) <= MAX_COMPONENT_LENGTH
    assert leaf.startswith("Vol. 7 - Word")
    assert leaf.endswith(" {The Narrator}")
    assert abs_parse(book_folder(meta))["narrators"] == ["The Narrator"]


def test_empty_title_is_refused() -> None:
    with pytest.raises(ValueError, match="title"):
        book_folder(BookMeta("   ", ["A"]))


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (1, "1"),
        ("01", "1"),
        (2.5, "2.5"),
        ("2.50", "2.5"),
        (3.0, "3"),
        ("#4", "4"),
        (" 0.5 ", "0.5"),
        (0, "0"),
        (999, "999"),
        (1000, None),
        ("1.125", None),
        ("-1", None),
        ("1-3", None),
        ("II", None),
        ("", None),
        (None, None),
        (True, None),
        ("nan", None),
    ],
)
def test_format_position(position: Any, expected: str | None) -> None:
    assert format_position(position) == expected


@pytest.mark.parametrize(
    ("name", "disc"),
    [
        ("CD1", True),
        ("cd 2", True),
        ("Disc 1", True),
        ("DISK 02", True),
        ("disc003", True),
        ("CD1000", False),
        ("Disc 1 of 2", False),
        ("Discography", False),
        ("Dune CD1", False),
        ("Part 1", False),
    ],
)
def test_is_disc_folder(name: str, disc: bool) -> None:
    assert is_disc_folder(name) is disc


# --- select_files ------------------------------------------------------------------------


def targets(plan: ImportPlan) -> dict[str, str]:
    return {item.source: item.target.as_posix() for item in plan.files}


def reasons(plan: ImportPlan) -> dict[str, str]:
    return {item.source: item.reason for item in plan.skipped}


MESSY_TORRENT = [
    ("Dune [Unabridged]/Audio/CD1/01 - Dune.mp3", 5_000_000),
    ("Dune [Unabridged]/Audio/CD1/02 - Dune.mp3", 5_000_000),
    ("Dune [Unabridged]/Audio/CD1/Dune CD1.cue", 2_000),
    ("Dune [Unabridged]/Audio/cd 2/01 - Dune.mp3", 5_000_000),
    ("Dune [Unabridged]/Audio/cd 2/02 - Dune.mp3", 5_000_000),
    ("Dune [Unabridged]/Audio/cd 2/folder.jpg", 30_000),
    ("Dune [Unabridged]/Scans/back.jpg", 900_000),
    ("Dune [Unabridged]/Scans/Cover.JPG", 800_000),
    ("Dune [Unabridged]/Dune.nfo", 3_000),
    ("Dune [Unabridged]/metadata.opf", 4_000),
    ("Dune [Unabridged]/desc.txt", 500),
    ("Dune [Unabridged]/Reader.txt", 20),
    ("Dune [Unabridged]/Tracklist.txt", 900),
    ("Dune [Unabridged]/Sample/Dune - sample.mp3", 300_000),
    ("Dune [Unabridged]/Visit our site.url", 100),
    ("Dune [Unabridged]/Player Setup.exe", 2_000_000),
    ("Dune [Unabridged]/Dune.torrent", 40_000),
    ("Dune [Unabridged]/Dune.sfv", 300),
    ("Dune [Unabridged]/Dune.m3u", 300),
    ("Dune [Unabridged]/.DS_Store", 6_000),
    ("Dune [Unabridged]/.AppleDouble/01 - Dune.mp3", 4_000),
    ("Dune [Unabridged]/Audio/CD1/._01 - Dune.mp3", 4_000),
    ("Dune [Unabridged]/Audio/CD1/03 - Dune.mp3.!qB", 5_000_000),
    ("Dune [Unabridged]/README", 100),
]


def test_selection_of_a_messy_torrent() -> None:
    plan = select_files(MESSY_TORRENT)
    assert targets(plan) == {
        "Dune [Unabridged]/Audio/CD1/01 - Dune.mp3": "CD1/01 - Dune.mp3",
        "Dune [Unabridged]/Audio/CD1/02 - Dune.mp3": "CD1/02 - Dune.mp3",
        "Dune [Unabridged]/Audio/CD1/Dune CD1.cue": "CD1/Dune CD1.cue",
        "Dune [Unabridged]/Audio/cd 2/01 - Dune.mp3": "cd 2/01 - Dune.mp3",
        "Dune [Unabridged]/Audio/cd 2/02 - Dune.mp3": "cd 2/02 - Dune.mp3",
        "Dune [Unabridged]/Scans/Cover.JPG": "Cover.JPG",
        "Dune [Unabridged]/Dune.nfo": "Dune.nfo",
        "Dune [Unabridged]/metadata.opf": "metadata.opf",
        "Dune [Unabridged]/desc.txt": "desc.txt",
        "Dune [Unabridged]/Reader.txt": "reader.txt",
    }
    why = reasons(plan)
    assert why["Dune [Unabridged]/Sample/Dune - sample.mp3"] == "sample"
    assert why["Dune [Unabridged]/Scans/back.jpg"].startswith("other image")
    assert "Scans/Cover.JPG" in why["Dune [Unabridged]/Audio/cd 2/folder.jpg"]
    assert ".exe" in why["Dune [Unabridged]/Player Setup.exe"]
    assert ".url" in why["Dune [Unabridged]/Visit our site.url"]
    assert ".torrent" in why["Dune [Unabridged]/Dune.torrent"]
    assert ".sfv" in why["Dune [Unabridged]/Dune.sfv"]
    assert ".txt" in why["Dune [Unabridged]/Tracklist.txt"]
    assert "hidden" in why["Dune [Unabridged]/.DS_Store"]
    assert "hidden" in why["Dune [Unabridged]/.AppleDouble/01 - Dune.mp3"]
    assert "hidden" in why["Dune [Unabridged]/Audio/CD1/._01 - Dune.mp3"]
    assert "unfinished" in why["Dune [Unabridged]/Audio/CD1/03 - Dune.mp3.!qB"]
    assert "without an extension" in why["Dune [Unabridged]/README"]
    assert len(plan.files) + len(plan.skipped) == len(MESSY_TORRENT)
    assert plan.has_audio and len(plan.audio_files) == 4
    assert plan.cover is not None and plan.cover.target == PurePosixPath("Cover.JPG")
    assert plan.total_size == sum(item.size for item in plan.files)
    # kinds
    kinds = {item.target.as_posix(): item.kind for item in plan.files}
    assert kinds["CD1/Dune CD1.cue"] == "cue"
    assert kinds["Dune.nfo"] == "nfo"
    assert kinds["metadata.opf"] == "opf"
    assert kinds["desc.txt"] == kinds["reader.txt"] == "text"


def test_nested_folders_are_flattened() -> None:
    plan = select_files(
        [
            ("Dune/Audio/Part 1/01.mp3", 10),
            ("Dune/Audio/Part 1/02.mp3", 10),
            ("Dune/Audio/Part 2/03.mp3", 10),
        ]
    )
    assert [item.target.as_posix() for item in plan.files] == ["01.mp3", "02.mp3", "03.mp3"]


def test_clashing_names_get_their_distinguishing_folder() -> None:
    plan = select_files(
        [
            ("Dune/Part 2/01.mp3", 20),
            ("Dune/Part 1/01.mp3", 10),
            ("Dune/Part 1/02.mp3", 10),
            ("Dune/Part 2/02.MP3", 20),  # NTFS/SMB: same name as 02.mp3
        ]
    )
    assert targets(plan) == {
        "Dune/Part 1/01.mp3": "Part 1 - 01.mp3",
        "Dune/Part 2/01.mp3": "Part 2 - 01.mp3",
        "Dune/Part 1/02.mp3": "Part 1 - 02.mp3",
        "Dune/Part 2/02.MP3": "Part 2 - 02.MP3",
    }
    # natural order: tracks in reading order
    assert [item.target.as_posix() for item in plan.files] == [
        "Part 1 - 01.mp3",
        "Part 1 - 02.mp3",
        "Part 2 - 01.mp3",
        "Part 2 - 02.MP3",
    ]


def test_clash_without_distinguishing_folders_gets_numbered() -> None:
    plan = select_files([("Book/01.mp3", 1), ("Book/01.MP3", 2), ("Book/sub/01.mp3", 3)])
    names = sorted(item.target.as_posix() for item in plan.files)
    assert len({name.casefold() for name in names}) == 3
    assert "01.mp3" in names or "01.MP3" in names
    assert "sub - 01.mp3" in names


def test_disc_folders_are_kept_and_clashes_inside_them_resolved() -> None:
    plan = select_files(
        [
            ("Box/Book 1/CD1/01.mp3", 1),
            ("Box/Book 2/CD1/01.mp3", 1),
            ("Box/Disc 2/Track 1.flac", 1),
            ("Box/DISK 03/x/Track 1.flac", 1),
        ]
    )
    assert targets(plan) == {
        "Box/Book 1/CD1/01.mp3": "CD1/Book 1 - 01.mp3",
        "Box/Book 2/CD1/01.mp3": "CD1/Book 2 - 01.mp3",
        "Box/Disc 2/Track 1.flac": "Disc 2/Track 1.flac",
        "Box/DISK 03/x/Track 1.flac": "DISK 03/Track 1.flac",
    }


def test_disc_folders_sort_naturally() -> None:
    files = [(f"B/CD{n}/01.mp3", 1) for n in (10, 2, 1)]
    plan = select_files(files)
    assert [item.target.parent.name for item in plan.files] == ["CD1", "CD2", "CD10"]


def test_hostile_names_stay_inside_the_book_folder() -> None:
    plan = select_files(
        [
            ("../../x.mp3", 1),
            ("Book/../../../etc/cron.d/evil.mp3", 1),
            ("/abs/y.mp3", 1),
            (r"C:\Windows\System32\z.mp3", 1),
            ('Book/Chapter 1: "Intro" <Part?>.mp3', 1),
            ("Book/CON.mp3", 1),
            ("Book/trailing dot.mp3.", 1),
            ("..", 1),
        ]
    )
    got = targets(plan)
    assert got["../../x.mp3"] == "x.mp3"
    assert got["Book/../../../etc/cron.d/evil.mp3"] == "evil.mp3"
    assert got["/abs/y.mp3"] == "y.mp3"
    assert got[r"C:\Windows\System32\z.mp3"] == "z.mp3"
    assert got['Book/Chapter 1: "Intro" <Part?>.mp3'] == "Chapter 1 Intro Part.mp3"
    assert got["Book/CON.mp3"] == "CON_.mp3"
    assert got["Book/trailing dot.mp3."] == "trailing dot.mp3"
    assert reasons(plan)[".."] == "no usable file name"
    for item in plan.files:
        assert not item.target.is_absolute()
        assert ".." not in item.target.parts


def test_unicode_names_become_nfc() -> None:
    plan = select_files([("Livre/Cafe\u0301 01.mp3", 1), ("Livre/日本語 02.mp3", 1)])
    assert sorted(item.target.as_posix() for item in plan.files) == ["Café 01.mp3", "日本語 02.mp3"]


def test_samples_are_kept_when_they_are_all_there_is() -> None:
    plan = select_files([("Free Sample.mp3", 100)])
    assert [item.target.as_posix() for item in plan.files] == ["Free Sample.mp3"]


def test_cover_preference() -> None:
    plan = select_files(
        [
            ("B/01.mp3", 1),
            ("B/art/big.png", 5_000_000),
            ("B/front.jpg", 100),
            ("B/folder.webp", 100),
        ]
    )
    assert plan.cover is not None and plan.cover.source == "B/folder.webp"
    plan = select_files([("B/01.mp3", 1), ("B/x/small.jpg", 10), ("B/x/big.jpg", 20)])
    assert plan.cover is not None and plan.cover.source == "B/x/big.jpg"
    plan = select_files([("B/01.mp3", 1), ("B/deep/er/a.jpg", 99), ("B/top.jpg", 1)])
    assert plan.cover is not None and plan.cover.source == "B/top.jpg"


def test_single_file_torrent_and_no_audio() -> None:
    plan = select_files([("Dune.m4b", 500)])
    assert [(item.target.as_posix(), item.kind) for item in plan.files] == [("Dune.m4b", "audio")]
    plan = select_files([("Dune/Dune.epub", 500), ("Dune/cover.jpg", 5)])
    assert not plan.has_audio


@pytest.mark.parametrize(
    "extension", ["mp3", "m4a", "m4b", "aac", "flac", "ogg", "oga", "opus", "wma", "wav", "MP3"]
)
def test_every_audio_format_is_kept(extension: str) -> None:
    plan = select_files([(f"B/track.{extension}", 1)])
    assert plan.audio_files and plan.audio_files[0].target.name == f"track.{extension}"


def test_selection_is_deterministic() -> None:
    files = [*MESSY_TORRENT, ("Dune [Unabridged]/Extra/01 - Dune.mp3", 7)]
    expected = select_files(files)
    for seed in range(10):
        shuffled = files[:]
        random.Random(seed).shuffle(shuffled)
        assert select_files(shuffled) == expected


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "stem",
    [
        "a" * 236,  # 240 bytes with ".mp3": the byte cut removed the " (2)" suffix again
        "é" * 118,  # 236 bytes of two-byte characters
        "Ab" * 100,  # over the character limit
        "x" * 250,  # no room at all once sanitised
    ],
)
def test_long_names_that_differ_only_in_case_get_distinct_targets(stem: str) -> None:
    files = [
        (f"Book/{stem}.mp3", 1),
        (f"Book/{stem.upper()}.mp3", 2),
        (f"Book/{stem.title()}.MP3", 3),
    ]
    plan = select_files(files)
    targets = [item.target.name for item in plan.files]
    assert len({t.casefold() for t in targets}) == len(targets) == 3
    for name in targets:
        assert len(name) <= MAX_COMPONENT_LENGTH and len(name.encode()) <= MAX_COMPONENT_BYTES
        assert name.lower().endswith(".mp3")


@pytest.mark.timeout(20)
def test_long_names_in_clashing_folders_keep_their_names() -> None:
    stem = "ü" * 119
    plan = select_files([(f"Part 1/{stem}.mp3", 1), (f"Part 2/{stem}.mp3", 1)])
    targets = [item.target.name for item in plan.files]
    assert len({t.casefold() for t in targets}) == 2
    assert all(len(t.encode()) <= MAX_COMPONENT_BYTES for t in targets)
