"""Chapter titles of a multi-disc book count across discs (track numbers restart per disc)."""

from __future__ import annotations

from pathlib import PurePosixPath

from gui.services.importing import track_numbers, track_titles


def test_titles_never_repeat_across_disc_folders() -> None:
    targets = [PurePosixPath(f"Disc {d}/{t:02} - Track.mp3") for d in (1, 2) for t in (1, 2)]
    titles = track_titles("Dune", targets)
    assert titles == ["Dune - Part 01", "Dune - Part 02", "Dune - Part 03", "Dune - Part 04"]
    assert len(set(titles)) == len(titles)
    # the track numbers still restart per disc, as Audiobookshelf reads them
    assert [track for track, _ in track_numbers(targets)] == [(1, 2), (2, 2), (1, 2), (2, 2)]


def test_a_single_file_keeps_the_book_title() -> None:
    assert track_titles("Dune", [PurePosixPath("Dune.m4b")]) == ["Dune"]
