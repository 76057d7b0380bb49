"""The metadata record: merging sources with precedence and provenance, completeness, diffs."""

from __future__ import annotations

import pytest

from gui.core.metadata import (
    WEIGHTS,
    BookMetadata,
    completeness,
    diff,
    display_value,
    fill_missing,
    from_layout,
    from_release,
    from_wanted,
    language_name,
    merge,
    metadata_from_json,
    metadata_to_json,
    score_change,
    source_kind,
)
from gui.core.release_title import parse_release_title

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60

WANTED = from_wanted(title="Galaxy's Edge", author="Jason Anspach", series="Galaxy's Edge")
PROVIDER = BookMetadata(
    title="Galaxy's Edge",
    authors=("Jason Anspach", "Nick Cole"),
    narrators=("R.C. Bray",),
    series="Galaxy's Edge Series",
    position="1",
    year=2018,
    publisher="Podium Audio",
    description="On the edge of the galaxy...",
    genres=("Science Fiction & Fantasy",),
    isbn="978-1-77230-524-1",
    asin="b079lrsmnn",
    language="english",
    cover=JPEG,
    cover_mime="image/jpeg",
    duration=1042 * 60,
)
TAGS = BookMetadata(
    title="Galaxys Edge (Unabridged)",
    authors=("Anspach, Jason",),
    description="Ripped by somebody",
    year=2017,
    cover=PNG,
    cover_mime="image/png",
    duration=62_000.5,
)
RELEASE = from_release(
    parse_release_title(
        "Jason Anspach, Nick Cole - Galaxy's Edge 01 - Legionnaire [2017] {R.C. Bray}"
    )
)


def test_the_record_is_cleaned_before_it_is_merged() -> None:
    cleaned = PROVIDER.cleaned()
    assert cleaned.isbn == "9781772305241"  # ABS matches ISBNs by substring: no hyphens
    assert cleaned.asin == "B079LRSMNN"
    assert cleaned.language == "English"
    messy = BookMetadata(title="  Dune \n", authors=("Frank Herbert", "frank herbert", " "))
    assert messy.cleaned().title == "Dune"
    assert messy.cleaned().authors == ("Frank Herbert",)
    assert BookMetadata(position="Book 02").cleaned().position == "2"
    assert BookMetadata(position="1 - 2").cleaned().position == "1-2"  # an omnibus stays one


def test_identity_comes_from_what_the_user_chose_and_description_from_the_provider() -> None:
    merged = merge(
        ("layout", from_layout(["Jason Anspach", "Galaxy's Edge"])),
        ("release", RELEASE),
        ("tags", TAGS),
        ("provider:Audible", PROVIDER),
        ("wanted", WANTED),
    )
    meta, where = merged.meta, merged.provenance
    # What the user chose is never replaced by a catalogue's spelling.
    assert (meta.title, where["title"]) == ("Galaxy's Edge", "wanted")
    assert (meta.authors, where["authors"]) == (("Jason Anspach",), "wanted")
    assert (meta.series, where["series"]) == ("Galaxy's Edge", "wanted")
    # The rest: the curated record over the uploader's tags over the release title.
    assert (meta.narrators, where["narrators"]) == (("R.C. Bray",), "provider:Audible")
    assert (meta.description, where["description"]) == (
        "On the edge of the galaxy...",
        "provider:Audible",
    )
    assert (meta.year, where["year"]) == (2018, "provider:Audible")
    assert (meta.cover, meta.cover_mime, where["cover"]) == (JPEG, "image/jpeg", "provider:Audible")
    assert where["cover_mime"] == "provider:Audible"
    # Measured beats declared.
    assert (meta.duration, where["duration"]) == (62_000.5, "tags")
    assert "subtitle" not in where  # nobody knew it


def test_the_position_travels_with_its_series() -> None:
    # The wanted entry names the series without a position; the provider's record names
    # another spelling of it ("... Series") and gives the position: not the same series by
    # text, so the release title's position for the same series wins.
    merged = merge(("wanted", WANTED), ("provider", PROVIDER), ("release", RELEASE))
    assert merged.meta.series == "Galaxy's Edge"
    assert (merged.meta.position, merged.provenance["position"]) == ("1", "release")

    # A position for a different series is never attached to this one.
    other = BookMetadata(title="X", series="Another Saga", position="7")
    merged = merge(("wanted", WANTED), ("tags", other))
    assert merged.meta.position == ""
    assert "position" not in merged.provenance

    # From the source that gave the series when it has one, even if a higher one has another.
    merged = merge(
        ("wanted", from_wanted(title="Dune", position="2")),
        ("provider", BookMetadata(title="Dune", series="Dune Chronicles", position="1")),
    )
    assert (merged.meta.series, merged.meta.position) == ("Dune Chronicles", "1")
    assert merged.provenance["position"] == "provider"


def test_user_edits_win_everything_and_unknown_sources_come_last() -> None:
    merged = merge(
        ("mystery", BookMetadata(title="From nowhere", publisher="Nowhere Press")),
        ("wanted", WANTED),
        ("user", BookMetadata(title="Galaxy's Edge: Omnibus", narrators=("R. C. Bray",))),
        ("provider", PROVIDER),
    )
    assert merged.meta.title == "Galaxy's Edge: Omnibus"
    assert merged.provenance["title"] == "user"
    assert merged.meta.narrators == ("R. C. Bray",)
    assert merged.provenance["publisher"] == "provider"
    assert source_kind("Provider:Google Books") == "provider"


def test_a_source_given_twice_keeps_the_first_of_its_kind() -> None:
    merged = merge(
        ("provider:Audible", BookMetadata(title="A", publisher="First")),
        ("provider:Google Books", BookMetadata(title="A", publisher="Second")),
    )
    assert merged.provenance["publisher"] == "provider:Audible"


def test_completeness_weights_and_the_position_only_counts_with_a_series() -> None:
    assert sum(WEIGHTS.values()) == 100
    assert completeness(BookMetadata()).percent == 0
    standalone = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    score = completeness(standalone)
    assert (score.earned, score.possible, score.percent) == (30, 96, 31)
    assert "series position" not in score.missing
    assert "narrator" in score.missing and "ISBN/ASIN" in score.missing
    with_series = BookMetadata(title="Dune", authors=("Frank Herbert",), series="Dune")
    assert completeness(with_series).possible == 100
    assert "series position" in completeness(with_series).missing
    assert completeness(PROVIDER).percent == 100
    # An ASIN alone satisfies "ISBN/ASIN".
    assert completeness(BookMetadata(asin="B0")).earned == WEIGHTS["identifier"]


def test_a_sparse_record_and_its_enhancement_show_before_and_after() -> None:
    sparse = merge(("wanted", WANTED), ("release", RELEASE)).meta
    # title, author, narrator, series, position, year: 15+15+10+6+4+5 of 100.
    assert completeness(sparse).percent == 55
    enhanced, taken = fill_missing(sparse, PROVIDER)
    assert completeness(enhanced).percent == 100
    assert score_change(sparse, enhanced) == "55% -> 100%"
    assert set(taken) == {
        "publisher",
        "description",
        "genres",
        "isbn",
        "asin",
        "language",
        "cover",
        "duration",
    }
    assert enhanced.year == 2017  # known already: kept, not overwritten


def test_fill_missing_never_overwrites_unless_asked_and_never_a_locked_field() -> None:
    base = BookMetadata(title="galaxys edge", authors=("J. Anspach",))
    kept, taken = fill_missing(base, PROVIDER)
    assert kept.title == "galaxys edge" and kept.authors == ("J. Anspach",)
    assert "title" not in taken
    replaced, taken = fill_missing(base, PROVIDER, overwrite=True, locked={"authors"})
    assert replaced.title == "Galaxy's Edge"
    assert replaced.authors == ("J. Anspach",)
    assert "authors" not in taken and "title" in taken


def test_fill_missing_takes_a_position_only_for_the_same_series() -> None:
    mine = BookMetadata(title="Dune", series="Dune Chronicles")
    same = BookMetadata(series="Dune Chronicles", position="1")
    other = BookMetadata(series="Great Books of the 20th Century", position="42")
    assert fill_missing(mine, same)[0].position == "1"
    assert fill_missing(mine, other)[0].position == ""
    # No series yet: series and position come together.
    filled, taken = fill_missing(BookMetadata(title="Dune"), other)
    assert (filled.series, filled.position) == ("Great Books of the 20th Century", "42")
    assert {"series", "position"} <= set(taken)


def test_diff_lists_added_changed_and_removed_fields() -> None:
    before = BookMetadata(
        title="Galaxys Edge", year=2017, publisher="Old", cover=PNG, cover_mime="image/png"
    )
    after = BookMetadata(
        title="Galaxy's Edge",
        year=2017,
        narrators=("R.C. Bray",),
        cover=JPEG,
        cover_mime="image/jpeg",
        duration=3725,
    )
    rows = {row.field: row for row in diff(before, after)}
    assert set(rows) == {"title", "narrators", "publisher", "cover", "duration"}
    assert (rows["title"].kind, rows["title"].before, rows["title"].after) == (
        "changed",
        "Galaxys Edge",
        "Galaxy's Edge",
    )
    assert rows["narrators"].kind == "added" and rows["narrators"].label == "narrator"
    assert rows["publisher"].kind == "removed" and rows["publisher"].after == ""
    assert rows["cover"].after == "image/jpeg, 64 B"
    assert rows["duration"].after == "1:02:05"
    assert display_value(after, "subtitle") == ""


def test_layout_is_read_the_way_audiobookshelf_reads_folders() -> None:
    # The ABS documentation's own example.
    meta = from_layout(
        ["Terry Goodkind", "Sword of Truth", "Vol 1 - 1994 - Wizards First Rule {Sam Tsoutsouvas}"]
    )
    assert meta.title == "Wizards First Rule"
    assert meta.authors == ("Terry Goodkind",)
    assert (meta.series, meta.position, meta.year) == ("Sword of Truth", "1", 1994)
    assert meta.narrators == ("Sam Tsoutsouvas",)
    # ASIN in brackets; disc folders are part of the book, not a level.
    dune = from_layout(["Frank Herbert", "Dune [B002V1OF70]", "CD 1"])
    assert (dune.title, dune.asin, dune.authors) == ("Dune", "B002V1OF70", ("Frank Herbert",))
    # A sequence is only read under a series folder.
    assert from_layout(["Author", "1. First"]).position == ""
    assert from_layout([]) == BookMetadata()


def test_wanted_and_release_sources() -> None:
    wanted = from_wanted(
        title="Dune", author="Herbert, Frank", narrator="Scott Brick & Simon Vance"
    )
    assert wanted.authors == ("Frank Herbert",)
    assert wanted.narrators == ("Scott Brick", "Simon Vance")
    release = from_release(
        parse_release_title("Frank Herbert - Dune (Unabridged) [2007] [M4B] {Scott Brick}")
    )
    assert (release.title, release.authors, release.year) == ("Dune", ("Frank Herbert",), 2007)
    assert release.narrators == ("Scott Brick",)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("english", "English"),  # Audnexus
        ("eng", "English"),  # Open Library
        ("en", "English"),  # Google Books
        ("en-US", "English"),
        ("Deutsch", "German"),
        ("klingon", "Klingon"),
        ("", ""),
    ],
)
def test_language_names_are_unified(text: str, name: str) -> None:
    assert language_name(text) == name


def test_metadata_survives_the_store_as_json() -> None:
    meta = BookMetadata(
        title="Dune",
        authors=("Frank Herbert",),
        narrators=("Scott Brick", "Orlagh Cassidy"),
        series="Dune",
        position="1",
        year=1965,
        genres=("Science Fiction",),
        asin="B002V1OF70",
        cover=b"\xff\xd8\xff\xe0cover-bytes",
        cover_mime="image/jpeg",
        duration=75600.5,
    )
    text = metadata_to_json(meta)
    assert "cover-bytes" not in text  # the cover is stored apart
    assert metadata_from_json(text, meta.cover) == meta
    assert metadata_from_json(text).cover is None
    with pytest.raises(ValueError):
        metadata_from_json("[]")


def test_a_cover_known_elsewhere_counts() -> None:
    """An Audiobookshelf item's cover stays on the server: the index only knows it exists."""
    meta = BookMetadata(title="Dune", authors=("Frank Herbert",))
    assert "cover" in completeness(meta).missing
    assert completeness(meta, cover=True).percent > completeness(meta).percent
    assert "cover" not in completeness(meta, cover=True).missing
