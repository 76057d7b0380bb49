"""A release whose title matches only before its colon is not taken for the wanted book."""

from __future__ import annotations

from gui.core.ranking import RankingPolicy, Release, Wanted, rank

SEQUEL = Release(
    "Yuval Noah Harari - Sapiens - A Graphic History [M4B]", size=300 << 20, seeders=300
)
FIRST = Release("Yuval Noah Harari - Sapiens [M4B]", size=700 << 20, seeders=4)


def test_the_main_title_alone_ranks_below_the_whole_title() -> None:
    ranked = rank(Wanted("Sapiens", "Yuval Noah Harari"), [SEQUEL, FIRST], RankingPolicy())
    assert [r.release.title for r in ranked] == [FIRST.title, SEQUEL.title]
    reasons = {r.release.title: [x.text for x in r.reasons] for r in ranked}
    assert "title matches 'Sapiens' (100%)" in reasons[FIRST.title]
    assert "title matches 'Sapiens' (80%)" in reasons[SEQUEL.title]


def test_the_whole_title_wins_for_a_wanted_subtitle_too() -> None:
    wanted = Wanted("Sapiens: A Graphic History", "Yuval Noah Harari")
    popular = Release(FIRST.title, size=FIRST.size, seeders=900)  # the other book, seeded more
    ranked = rank(wanted, [popular, SEQUEL], RankingPolicy())
    assert ranked[0].release.title == SEQUEL.title and ranked[0].accepted
    reasons = [x.text for x in ranked[1].reasons]
    assert "title matches 'Sapiens: A Graphic History' (80%)" in reasons


def test_a_descriptive_subtitle_costs_nothing() -> None:
    release = Release("Frank Herbert - Dune: A Novel [M4B]", size=700 << 20, seeders=5)
    (ranked,) = rank(Wanted("Dune", "Frank Herbert"), [release], RankingPolicy())
    assert "title matches 'Dune' (100%)" in [x.text for x in ranked.reasons]
