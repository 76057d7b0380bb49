"""The owned-book check on a table of real spellings, both directions, and the index agrees."""

from __future__ import annotations

import pytest

from gui.core.matching import BookKey, is_same_book, judge, match_score, prepare
from gui.core.ranking import Wanted
from gui.services.library import OwnedIndex
from gui.store import OwnedBook
from tests.fixtures.matching_pairs import DIFFERENT, SAME, Pair


def _id(pair: Pair) -> str:
    return f"{pair.wanted.title or '-'} ~ {pair.owned.title or '-'}"


@pytest.mark.parametrize("pair", SAME + DIFFERENT, ids=_id)
def test_verdict_both_directions(pair: Pair) -> None:
    truth = pair in SAME
    expected: bool | None = None if pair.unsure else truth
    for a, b in ((pair.wanted, pair.owned), (pair.owned, pair.wanted)):
        verdict = judge(prepare(a), prepare(b))
        assert verdict.same is expected, (pair.why, verdict)
        assert is_same_book(a, b) is (expected is True)
    assert match_score(pair.wanted, pair.owned) == match_score(pair.owned, pair.wanted)


def _owned_row(key: BookKey, n: int) -> OwnedBook:
    title, _, subtitle = key.title.partition(":")
    return OwnedBook(
        abs_item_id=f"item-{n}",
        library_id="lib",
        title=title.strip(),
        subtitle=subtitle.strip(),
        authors="; ".join(key.authors),
        sequence=key.position,
        asin=key.asin,
        isbn=key.isbn,
        duration=key.duration,
        path=f"/audiobooks/{n}",
    )


def _wanted(key: BookKey) -> Wanted:
    return Wanted(
        title=key.title,
        author=key.authors[0] if key.authors else "",
        position=key.position,
        asin=key.asin,
        isbn=key.isbn,
        work_id=key.work_id,
        also=key.also,
        duration=key.duration,
    )


# Open Library work ids are not stored by Audiobookshelf: those pairs are matching-only.
INDEXABLE = [p for p in SAME + DIFFERENT if not p.owned.work_id and len(p.wanted.authors) < 2]


@pytest.mark.parametrize("pair", INDEXABLE, ids=_id)
def test_owned_index_gives_the_same_answer(pair: Pair) -> None:
    """Alone in a library, the owned side is found exactly when the pair matches."""
    row = _owned_row(pair.owned, 1)
    index = OwnedIndex([row, _owned_row(BookKey("Unrelated Book", ("Nobody",)), 2)])
    found = index.find(_wanted(pair.wanted))
    expected = pair in SAME and not pair.unsure
    assert (found == row) is expected, pair.why
    checked = index.check(_wanted(pair.wanted))
    if pair.unsure:
        assert checked is not None and checked[0] == row and checked[1].same is None
