"""Ranking releases for a wanted book: the order, the reasons, the rejections, the policy."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui.core.ranking import (
    MIB,
    Ranked,
    RankingPolicy,
    Reason,
    Release,
    Wanted,
    clear_caches,
    rank,
)

DUNE = Wanted(title="Dune", author="Frank Herbert")
POLICY = RankingPolicy()
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def release(title: str, seeders: int = 20, size_mb: float = 500, **fields: Any) -> Release:
    fields.setdefault("guid", title)
    return Release(title=title, size=int(size_mb * MIB), seeders=seeders, **fields)


def by_title(ranked: list[Ranked]) -> dict[str, Ranked]:
    return {r.release.title: r for r in ranked}


def texts(ranked: Ranked) -> list[str]:
    return [reason.text for reason in ranked.reasons]


def points(ranked: Ranked, prefix: str) -> float:
    return sum(r.points for r in ranked.reasons if r.text.startswith(prefix))


# --- order ---------------------------------------------------------------------------------


def test_m4b_beats_mp3_with_similar_seeders() -> None:
    mp3 = release("Frank Herbert - Dune [MP3]", seeders=45)
    m4b = release("Frank Herbert - Dune [M4B]", seeders=40)
    ranked = rank(DUNE, [mp3, m4b], POLICY)
    assert [r.release for r in ranked] == [m4b, mp3]
    assert "format m4b (preferred #1)" in texts(ranked[0])
    assert "format mp3 (preferred #5)" in texts(ranked[1])
    assert all(r.accepted for r in ranked)


def test_many_more_seeders_can_outweigh_the_format() -> None:
    mp3 = release("Frank Herbert - Dune [MP3]", seeders=5000)
    m4b = release("Frank Herbert - Dune [M4B]", seeders=1)
    assert rank(DUNE, [m4b, mp3], POLICY)[0].release is mp3


def test_the_wanted_preferred_format_comes_first() -> None:
    mp3 = release("Frank Herbert - Dune [MP3]")
    m4b = release("Frank Herbert - Dune [M4B]")
    wanted = Wanted("Dune", "Frank Herbert", preferred_format="mp3")
    ranked = rank(wanted, [m4b, mp3], POLICY)
    assert ranked[0].release is mp3
    assert "format mp3 (preferred #1)" in texts(ranked[0])


def test_unabridged_beats_abridged() -> None:
    abridged = release("Frank Herbert - Dune (Abridged) [M4B]", seeders=200)
    unabridged = release("Frank Herbert - Dune (Unabridged) [M4B]", seeders=30)
    ranked = rank(DUNE, [abridged, unabridged], POLICY)
    assert [r.release for r in ranked] == [unabridged, abridged]
    assert Reason(-30.0, "abridged") in ranked[1].reasons
    assert Reason(5.0, "unabridged") in ranked[0].reasons
    assert ranked[1].accepted  # only less wanted, unless the policy says otherwise


def test_reject_abridged() -> None:
    ranked = rank(
        DUNE, [release("Frank Herbert - Dune (Abridged)")], RankingPolicy(reject_abridged=True)
    )
    assert ranked[0].rejected == "abridged"


def test_seeders_count_with_diminishing_returns() -> None:
    counts = (1, 10, 100, 1000, 100_000)
    candidates = [release(f"Frank Herbert - Dune [M4B] {n}", seeders=n) for n in counts]
    ranked = by_title(rank(DUNE, candidates, POLICY))
    gains = [points(ranked[f"Frank Herbert - Dune [M4B] {n}"], f"{n} seeder") for n in counts]
    assert gains == sorted(gains)
    per_seeder = [(gains[i + 1] - gains[i]) / (counts[i + 1] - counts[i]) for i in range(3)]
    assert per_seeder == sorted(per_seeder, reverse=True)
    assert gains[3] < 4 * gains[1]  # 100 times the seeders, not 100 times the points
    assert gains[-1] == 15.0  # capped
    assert "143 seeders" in texts(
        rank(DUNE, [release("Frank Herbert - Dune", seeders=143)], POLICY)[0]
    )


def test_ties_break_on_seeders_then_newer_then_title() -> None:
    old = release("Frank Herbert - Dune [M4B] a", seeders=10, publish_date=NOW - timedelta(days=9))
    new = release("Frank Herbert - Dune [M4B] b", seeders=10, publish_date=NOW)
    # same score and seeders: the newer first; same everything: by title
    twin = release("Frank Herbert - Dune [M4B] c", seeders=10, publish_date=NOW)
    for order in ([old, new, twin], [twin, old, new], [new, twin, old]):
        ranked = rank(DUNE, order, POLICY)
        assert [r.release for r in ranked] == [new, twin, old]


def test_the_reasons_explain_the_score() -> None:
    wanted = Wanted("The Way of Kings", "Brandon Sanderson", narrator="Kate Reading", position="1")
    title = (
        "Brandon Sanderson - The Stormlight Archive 01 - The Way of Kings "
        "[Kate Reading, Michael Kramer] (m4b) (Unabridged)"
    )
    best = rank(wanted, [release(title, seeders=143)], POLICY)[0]
    assert best.accepted
    assert texts(best) == [
        "title matches 'The Way of Kings' (100%)",
        "author Brandon Sanderson matches",
        "narrated by Kate Reading, Michael Kramer",
        "series position 1",
        "format m4b (preferred #1)",
        "unabridged",
        "143 seeders",
    ]
    assert best.score == pytest.approx(sum(r.points for r in best.reasons))
    assert best.reasons[0].points == 40.0


def test_a_different_narrator_costs_a_little() -> None:
    wanted = Wanted("Dune", "Frank Herbert", narrator="Scott Brick")
    brick = release("Frank Herbert - Dune [M4B] {Scott Brick}")
    other = release("Frank Herbert - Dune [M4B] {Simon Vance}")
    ranked = rank(wanted, [other, brick], POLICY)
    assert [r.release for r in ranked] == [brick, other]
    assert "narrated by Simon Vance, not Scott Brick" in texts(ranked[1])
    assert ranked[1].accepted


def test_author_checks() -> None:
    ranked = by_title(
        rank(
            DUNE,
            [
                release("Herbert, Frank - Dune"),
                release("Brian Herbert - Dune"),
                release("Dune [M4B]"),
                release("Frank Herbert Dune MP3"),
            ],
            POLICY,
        )
    )
    assert "author Frank Herbert matches" in texts(ranked["Herbert, Frank - Dune"])
    assert "author Brian Herbert, not Frank Herbert" in texts(ranked["Brian Herbert - Dune"])
    assert not any(t.startswith("author") for t in texts(ranked["Dune [M4B]"]))
    no_separator = ranked["Frank Herbert Dune MP3"]
    assert no_separator.accepted, no_separator
    assert "author Frank Herbert named in the title" in texts(no_separator)


def test_title_and_author_swapped_by_the_uploader() -> None:
    wanted = Wanted("Good Omens", "Neil Gaiman")
    ranked = rank(wanted, [release("[Audiobook] Good Omens - Neil Gaiman mp3 128")], POLICY)[0]
    assert ranked.accepted
    assert "author Neil Gaiman matches" in texts(ranked)


def test_asin_in_the_title() -> None:
    wanted = Wanted("Dune", "Frank Herbert", asin="B002V1A0WU")
    same = release("Frank Herbert - Dune [B002V1A0WU]")
    other = release("Frank Herbert - Dune [B00B7NPRY8]")
    ranked = rank(wanted, [other, same], POLICY)
    assert ranked[0].release is same
    assert "ASIN B002V1A0WU matches" in texts(ranked[0])


# --- rejections ----------------------------------------------------------------------------


def test_wrong_book_is_rejected() -> None:
    messiah = release("Frank Herbert - Dune Messiah [M4B]", seeders=500)
    ranked = rank(DUNE, [messiah, release("Frank Herbert - Dune [MP3]", seeders=1)], POLICY)
    assert ranked[0].release.title == "Frank Herbert - Dune [MP3]"
    assert ranked[1].rejected is not None
    assert ranked[1].rejected.startswith("title 'Dune Messiah' is not 'Dune'")


def test_other_series_position_is_rejected() -> None:
    wanted = Wanted(
        "The Way of Kings", "Brandon Sanderson", series="The Stormlight Archive", position="1"
    )
    first = release("Brandon Sanderson - The Stormlight Archive 01 - The Way of Kings")
    second = release("Brandon Sanderson - The Stormlight Archive 02 - The Way of Kings")
    ranked = by_title(rank(wanted, [first, second], POLICY))
    assert ranked[first.title].accepted
    assert "series position 1" in texts(ranked[first.title])
    assert "series 'The Stormlight Archive' matches" in texts(ranked[first.title])
    assert ranked[second.title].rejected == "series position 2, wanted 1"


def test_blocklisted_hash_is_excluded_with_the_reason() -> None:
    bad = release("Frank Herbert - Dune [M4B]", seeders=900, info_hash="AB" * 20)
    by_magnet = release(
        "Frank Herbert - Dune [M4B] x", magnet=f"magnet:?xt=urn:btih:{'cd' * 20}&dn=x"
    )
    by_guid = release("Frank Herbert - Dune [M4B] y", guid="https://tracker/t/1")
    good = release("Frank Herbert - Dune [MP3]", seeders=2)
    policy = RankingPolicy(blocklist=frozenset({"ab" * 20, "CD" * 20, "https://tracker/t/1"}))
    ranked = rank(DUNE, [bad, by_magnet, by_guid, good], policy)
    assert ranked[0].release is good
    assert [r.rejected for r in ranked[1:]] == ["blocklisted"] * 3


@pytest.mark.parametrize("word", ["epub", "EPUB", "ebook", "pdf", "sample"])
def test_must_not_words_reject(word: str) -> None:
    ranked = rank(DUNE, [release(f"Frank Herbert - Dune [{word}]")], POLICY)[0]
    assert ranked.rejected == f"contains '{word.lower()}'"


def test_a_must_not_word_in_the_wanted_title_does_not_reject() -> None:
    wanted = Wanted("The Sample", "Some Author")
    assert rank(wanted, [release("Some Author - The Sample [M4B]")], POLICY)[0].accepted


def test_multi_word_must_not_and_must_contain() -> None:
    policy = RankingPolicy(must_not_contain=("dramatized adaptation",), must_contain=("m4b",))
    ranked = by_title(
        rank(
            DUNE,
            [
                release("Frank Herbert - Dune (Dramatized Adaptation) [M4B]"),
                release("Frank Herbert - Dune [MP3]"),
                release("Frank Herbert - Dune [M4B]"),
            ],
            policy,
        )
    )
    assert ranked["Frank Herbert - Dune (Dramatized Adaptation) [M4B]"].rejected == (
        "contains 'dramatized adaptation'"
    )
    assert ranked["Frank Herbert - Dune [MP3]"].rejected == "missing required 'm4b'"
    assert ranked["Frank Herbert - Dune [M4B]"].accepted


def test_min_seeders() -> None:
    policy = RankingPolicy(min_seeders=5)
    candidates = [
        release("Frank Herbert - Dune a", seeders=4),
        release("Frank Herbert - Dune b", seeders=5),
    ]
    ranked = by_title(rank(DUNE, candidates, policy))
    assert ranked["Frank Herbert - Dune a"].rejected == "4 seeders, minimum 5"
    assert ranked["Frank Herbert - Dune b"].accepted


@pytest.mark.parametrize(
    ("size_mb", "rejected"),
    [(5, "size 5 MB below 20 MB"), (9000, "size 9,000 MB above 8,000 MB"), (20, None),
     (8000, None), (0, None)],  # size 0: the indexer did not say
)  # fmt: skip
def test_size_bounds(size_mb: float, rejected: str | None) -> None:
    assert (
        rank(DUNE, [release("Frank Herbert - Dune", size_mb=size_mb)], POLICY)[0].rejected
        == rejected
    )


def test_size_bounds_can_be_lifted() -> None:
    policy = RankingPolicy(min_size_mb=None, max_size_mb=None)
    assert rank(DUNE, [release("Frank Herbert - Dune", size_mb=1)], policy)[0].accepted


def test_usenet_needs_to_be_enabled() -> None:
    nzb = release("Frank Herbert - Dune [M4B]", seeders=0, protocol="usenet")
    assert rank(DUNE, [nzb], POLICY)[0].rejected == "usenet is not enabled"
    both = RankingPolicy(protocols=("torrent", "usenet"))
    ranked = rank(DUNE, [nzb], both)[0]
    assert ranked.accepted  # no seeders to count on usenet
    assert not any("seeder" in t for t in texts(ranked))


def test_language() -> None:
    german = release("Frank Herbert - Der Wüstenplanet [GER] MP3")
    english = release("Frank Herbert - Dune [ENG] MP3")
    unstated = release("Frank Herbert - Dune MP3")
    policy = RankingPolicy(languages=("English",))
    ranked = by_title(rank(Wanted("Dune", "Frank Herbert"), [german, english, unstated], policy))
    assert ranked[german.title].rejected is not None
    assert ranked[english.title].accepted
    assert "language en" in texts(ranked[english.title])
    assert ranked[unstated.title].accepted  # most English releases do not say so
    wanted_german = Wanted("Das Paket", "Sebastian Fitzek", language="de")
    candidates = [
        release("Sebastian Fitzek - Das Paket [ENG]"),
        release("Sebastian Fitzek - Das Paket"),
    ]
    ranked = by_title(rank(wanted_german, candidates, POLICY))
    assert ranked["Sebastian Fitzek - Das Paket [ENG]"].rejected == "language en, wanted de"
    assert "language not stated (wanted de)" in texts(ranked["Sebastian Fitzek - Das Paket"])


def test_max_age() -> None:
    policy = RankingPolicy(max_age_days=30)
    old = release("Frank Herbert - Dune a", publish_date=NOW - timedelta(days=31))
    new = release(
        "Frank Herbert - Dune b", publish_date=(NOW - timedelta(days=2)).replace(tzinfo=None)
    )
    undated = release("Frank Herbert - Dune c")
    ranked = by_title(rank(DUNE, [old, new, undated], policy, now=NOW))
    assert ranked[old.title].rejected == "older than 30 days"
    assert ranked[new.title].accepted
    assert ranked[undated.title].accepted


def test_min_score() -> None:
    policy = RankingPolicy(min_score=80)
    ranked = rank(DUNE, [release("Frank Herbert - Dune")], policy)[0]
    assert ranked.rejected is not None and ranked.rejected.startswith("score ")


def test_rejected_sort_after_accepted_and_keep_their_reasons() -> None:
    releases = [
        release("Frank Herbert - Dune [EPUB]", seeders=999),
        release("Frank Herbert - Dune Messiah [M4B]", seeders=999),
        release("Frank Herbert - Dune [MP3]", seeders=1),
    ]
    ranked = rank(DUNE, releases, POLICY)
    assert ranked[0].accepted and ranked[0].release.title == "Frank Herbert - Dune [MP3]"
    assert all(not r.accepted for r in ranked[1:])
    assert all(r.reasons for r in ranked)
    rejected_scores = [r.score for r in ranked[1:]]
    assert rejected_scores == sorted(rejected_scores, reverse=True)


# --- policy --------------------------------------------------------------------------------


def test_policy_round_trips_through_json() -> None:
    policy = RankingPolicy(
        format_preference=("flac", "m4b"),
        languages=("en", "de"),
        min_size_mb=None,
        blocklist=frozenset({"b" * 40, "a" * 40}),
        must_contain=("m4b",),
        max_age_days=365,
    )
    data = json.loads(json.dumps(policy.to_dict()))
    assert data["blocklist"] == ["a" * 40, "b" * 40]
    assert RankingPolicy.from_dict(data) == policy
    assert RankingPolicy.from_dict(RankingPolicy().to_dict()) == RankingPolicy()


def test_policy_from_dict_falls_back_per_field() -> None:
    policy = RankingPolicy.from_dict(
        {
            "min_seeders": "lots",
            "max_size_mb": None,
            "prefer_unabridged": "yes",
            "format_preference": "m4b",
            "languages": ["en"],
            "min_title_match": float("nan"),
            "unknown_key": 1,
        }
    )
    assert policy.min_seeders == RankingPolicy().min_seeders
    assert policy.max_size_mb is None
    assert policy.prefer_unabridged is True
    assert policy.format_preference == RankingPolicy().format_preference
    assert policy.languages == ("en",)
    assert policy.min_title_match == RankingPolicy().min_title_match
    assert RankingPolicy.from_dict({}) == RankingPolicy()


def test_dataclasses_are_frozen() -> None:
    with pytest.raises(AttributeError):
        POLICY.min_seeders = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        DUNE.title = "x"  # type: ignore[misc]


# --- work done (speed is measured in bench/ranking_speed.py) -----------------------------


def test_a_thousand_releases_are_each_parsed_and_scored_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ranking is one pass over the releases: each title parsed once, each release scored
    once, whatever the others are (a guard against accidental quadratic work; how long
    it takes is bench/ranking_speed.py's figure, not a test's)."""
    import gui.core.ranking as ranking

    formats = ("M4B", "MP3", "FLAC", "m4a")
    releases = [
        release(
            f"Author {i % 37} - Series {i % 11} {i % 9 + 1:02d} - Title {i % 53} "
            f"[{formats[i % 4]}] ({1990 + i % 30}) {{Narrator {i % 13}}} [r{i}]",
            seeders=i % 50,
            size_mb=100 + i,
        )
        for i in range(1000)
    ]
    parsed: Counter[str] = Counter()
    scored: list[str] = []
    parse, rank_one = ranking.parse_release_title, ranking._rank_one

    def counted_parse(title: str) -> Any:
        parsed[title] += 1
        return parse(title)

    def counted_rank_one(target: Any, one: Release) -> Any:
        scored.append(one.title)
        return rank_one(target, one)

    monkeypatch.setattr(ranking, "parse_release_title", counted_parse)
    monkeypatch.setattr(ranking, "_rank_one", counted_rank_one)
    clear_caches()
    ranked = rank(Wanted("Title 7", "Author 7"), releases, POLICY)
    assert len(ranked) == 1000
    assert sorted(scored) == sorted(r.title for r in releases)  # each release once
    assert set(parsed) == {r.title for r in releases} and set(parsed.values()) == {1}


# --- properties ----------------------------------------------------------------------------

text = st.text(max_size=60)
title_fragments = st.sampled_from(
    ["Frank Herbert", " - ", "Dune", "Messiah", "[M4B]", "(Abridged)", "{Scott Brick}", "epub",
     "mp3 128", "Book 2", "#1", "[GER]", ".", "read by X Y", "B002V1A0WU"]
)  # fmt: skip
titles = st.one_of(text, st.lists(title_fragments, max_size=10).map(" ".join))
moments = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)),
    st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
releases = st.builds(
    Release,
    title=titles,
    size=st.integers(min_value=-(2**40), max_value=2**45),
    seeders=st.integers(min_value=-5, max_value=10**7),
    leechers=st.integers(min_value=0, max_value=10**5),
    indexer=text,
    indexer_id=st.none() | st.integers(),
    guid=text,
    publish_date=moments,
    info_hash=st.none() | text,
    magnet=st.none() | text | st.just("magnet:?xt=urn:btih:" + "ab" * 20),
    download_url=st.none() | text,
    categories=st.lists(st.integers(), max_size=3).map(tuple),
    protocol=st.sampled_from(["torrent", "usenet"]),
    grabs=st.none() | st.integers(min_value=0),
    files=st.none() | st.integers(min_value=0),
)
wanteds = st.builds(
    Wanted,
    title=titles,
    author=text,
    narrator=text,
    series=text,
    position=st.sampled_from(["", "1", "2", "Book 3", "x"]),
    asin=st.sampled_from(["", "B002V1A0WU"]),
    isbn=st.sampled_from(["", "0441172717"]),
    language=st.sampled_from(["", "en", "German", "xx"]),
    preferred_format=st.sampled_from(["", "mp3", "m4b", ".flac", "zip"]),
)
policies = st.builds(
    RankingPolicy,
    format_preference=st.lists(st.sampled_from(["m4b", "mp3", "flac", ""]), max_size=4).map(tuple),
    prefer_unabridged=st.booleans(),
    reject_abridged=st.booleans(),
    languages=st.lists(st.sampled_from(["en", "de", "French", "zz"]), max_size=2).map(tuple),
    min_seeders=st.integers(min_value=-1, max_value=50),
    min_size_mb=st.none() | st.floats(min_value=0, max_value=1e6),
    max_size_mb=st.none() | st.floats(min_value=0, max_value=1e9),
    must_contain=st.lists(text, max_size=2).map(tuple),
    must_not_contain=st.lists(text, max_size=3).map(tuple),
    min_title_match=st.floats(min_value=0, max_value=1),
    blocklist=st.frozensets(text, max_size=3),
    min_score=st.floats(min_value=-100, max_value=200),
    max_age_days=st.none() | st.floats(min_value=0, max_value=1e9),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wanteds, st.lists(releases, max_size=12), policies)
def test_rank_never_raises_and_returns_every_release_once(
    wanted: Wanted, candidates: list[Release], policy: RankingPolicy
) -> None:
    ranked = rank(wanted, candidates, policy, now=NOW)
    assert sorted(map(id, (r.release for r in ranked))) == sorted(map(id, candidates))
    flags = [r.rejected is not None for r in ranked]
    assert flags == sorted(flags)  # accepted first
    for r in ranked:
        assert r.score == pytest.approx(sum(reason.points for reason in r.reasons))
        assert r.rejected is None or r.rejected


@settings(max_examples=100, deadline=None)
@given(wanteds, st.lists(releases, max_size=8), st.randoms())
def test_order_does_not_depend_on_input_order(
    wanted: Wanted, candidates: list[Release], random: Any
) -> None:
    first = [r.release for r in rank(wanted, candidates, POLICY, now=NOW)]
    shuffled = list(candidates)
    random.shuffle(shuffled)
    second = [r.release for r in rank(wanted, shuffled, POLICY, now=NOW)]
    keys = [(r.title, r.guid) for r in first]
    assert keys == [(r.title, r.guid) for r in second]
