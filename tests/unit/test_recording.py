"""The right recording before a grab: the file list and the size against the wanted edition."""

from __future__ import annotations

from gui.core.ranking import RankingPolicy, Release, Wanted, rank
from gui.core.recording import (
    MIB,
    Recording,
    check_contents,
    check_size,
    recording_mismatch,
    survey,
)

HOUR = 3600.0


def test_survey_sorts_audio_from_the_rest() -> None:
    contents = survey(
        [("Dune/01.mp3", 30 * MIB), ("Dune/02.MP3", 31 * MIB), ("Dune/cover.jpg", MIB),
         ("Dune/Dune.epub", MIB), ("Dune/readme", 10)]
    )  # fmt: skip
    assert (contents.audio_files, contents.audio_bytes) == (2, 61 * MIB)
    assert contents.audio_kinds == ("mp3",)
    assert contents.not_audio == (("epub", 1),)
    assert contents.unknown_files == 1


def test_a_torrent_of_ebooks_is_refused() -> None:
    check = check_contents([("Dune/Dune.epub", 2 * MIB), ("Dune/Dune.pdf", 5 * MIB)])
    assert check.rejected == "no audio files in the torrent (1 epub, 1 pdf)"


def test_files_without_extensions_prove_nothing() -> None:
    assert check_contents([("Frank Herbert - Dune [M4B]", 600 * MIB)]).rejected is None


def test_audio_named_as_a_sample_is_refused_a_small_book_is_not() -> None:
    check = check_contents([("Dune - Sample.mp3", 900 * 1024), ("cover.jpg", 100_000)])
    assert check.rejected == "its audio is only a sample (900 KB)"
    assert check_contents([("Examples/Short Story.mp3", 900 * 1024)]).rejected is None
    assert check_contents([("Dune/01.mp3", 9 * MIB), ("Dune/sample.mp3", MIB)]).rejected is None


def test_audio_is_summarised_in_the_explanation() -> None:
    check = check_contents([(f"Dune/{n:02}.m4b", 20 * MIB) for n in range(12)])
    assert check.rejected is None
    assert [r.text for r in check.reasons] == ["12 audio files (m4b), 240 MB"]


def test_running_time_from_size_and_bitrate() -> None:
    wanted = 21 * HOUR  # Dune, unabridged
    # 64 kbps over 21 h is about 600 MB; 200 MB is 7 h: abridged
    short = check_size(200 * MIB, wanted, 64)
    assert short.rejected is not None and "abridged or incomplete" in short.rejected
    assert "play about 7.3 h" in short.rejected and "runs 21.0 h" in short.rejected
    agrees = check_size(600 * MIB, wanted, 64)
    assert agrees.rejected is None and agrees.reasons[0].points > 0
    longer = check_size(1800 * MIB, wanted, 64)
    assert longer.rejected is None and longer.reasons[0].points < 0
    assert "another edition or a collection" in longer.reasons[0].text


def test_without_a_bitrate_only_an_impossible_size_is_refused() -> None:
    assert check_size(600 * MIB, 21 * HOUR, None).rejected is None
    tiny = check_size(40 * MIB, 21 * HOUR, None)  # 4 kbps over 21 h
    assert tiny.rejected is not None and "too little" in tiny.rejected


def test_nothing_known_means_nothing_said() -> None:
    assert check_size(600 * MIB, 0, 64).reasons == () and check_size(0, HOUR, 64).rejected is None


def test_ranking_shows_the_size_check_with_a_known_running_time() -> None:
    wanted = Wanted("Dune", "Frank Herbert", duration=21 * HOUR)
    full = Release("Frank Herbert - Dune [M4B] 64kbps", size=600 * MIB, seeders=10)
    abridged = Release("Frank Herbert - Dune [MP3] 64kbps", size=150 * MIB, seeders=90)
    by_title = {r.release.title: r for r in rank(wanted, [full, abridged], RankingPolicy())}
    assert by_title[full.title].accepted
    assert any("the wanted edition runs 21.0 h" in r.text for r in by_title[full.title].reasons)
    assert by_title[abridged.title].rejected is not None
    assert "abridged or incomplete" in by_title[abridged.title].rejected
    # without a running time the same releases are ranked as before
    plain = rank(Wanted("Dune", "Frank Herbert"), [full, abridged], RankingPolicy())
    assert all(r.accepted for r in plain)


# ---- after the download: the measured recording against the wanted edition ----------------


def test_an_abridged_recording_is_a_mismatch() -> None:
    reason = recording_mismatch(Recording(duration=6 * HOUR), duration=21 * HOUR)
    assert reason == (
        "the audio plays 6.0 h, the wanted edition runs 21.0 h (29%): "
        "an abridged or partial recording"
    )


def test_a_collection_is_a_mismatch() -> None:
    reason = recording_mismatch(Recording(duration=40 * HOUR), duration=21 * HOUR)
    assert reason is not None and reason.endswith("another edition or a collection")


def test_the_full_recording_within_tolerance_passes() -> None:
    for measured in (0.72, 0.95, 1.0, 1.04, 1.45):
        assert (
            recording_mismatch(Recording(duration=measured * 21 * HOUR), duration=21 * HOUR) is None
        )


def test_unknown_sides_say_nothing() -> None:
    assert recording_mismatch(Recording(duration=HOUR)) is None  # no wanted running time
    assert recording_mismatch(Recording(), duration=21 * HOUR) is None  # not measured
    assert recording_mismatch(Recording(narrators=("Scott Brick",))) is None  # no wanted narrator
    assert recording_mismatch(Recording(), narrator="Scott Brick", language="English") is None


def test_another_narrator_is_a_mismatch_but_a_spelling_is_not() -> None:
    other = recording_mismatch(Recording(narrators=("Simon Vance",)), narrator="Scott Brick")
    assert other == "narrated by Simon Vance, the wanted edition by Scott Brick"
    for tagged in (("Brick, Scott",), ("SCOTT BRICK",), ("Euan Morton", "Scott Brick")):
        assert recording_mismatch(Recording(narrators=tagged), narrator="Scott Brick") is None


def test_another_language_is_a_mismatch_but_a_code_is_not() -> None:
    german = recording_mismatch(Recording(language="deu"), language="english")
    assert german == "in German, the wanted edition in English"
    assert recording_mismatch(Recording(language="en"), language="English") is None


def test_every_mismatch_is_said() -> None:
    reason = recording_mismatch(
        Recording(duration=5 * HOUR, narrators=("Simon Vance",), language="German"),
        duration=21 * HOUR, narrator="Scott Brick", language="English",
    )  # fmt: skip
    assert reason is not None
    assert [part.split(" ")[0] for part in reason.split("; ")] == ["the", "narrated", "in"]
