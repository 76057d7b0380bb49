"""The workflow's pure decisions: back-off, stall detection, next best release, records."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gui.core.ranking import RankingPolicy, Release, Wanted, rank
from gui.services.workflow import (
    ACTIVE_STATES,
    ALLOWED_TRANSITIONS,
    FINAL_STATES,
    WorkflowSettings,
    backoff_seconds,
    book_json,
    grab_tags,
    is_blocked,
    next_best,
    plan_retry,
    record_from_ranked,
    release_hash,
    stall_verdict,
    want_book,
)
from gui.settings import Settings
from gui.store import BOOK_STATES, Book, ReleaseRecord, Store

HASH_A = "a" * 40
HASH_B = "b" * 40


def release(guid: str, *, rejected: str | None = None, **fields: object) -> ReleaseRecord:
    return ReleaseRecord(book_id=1, guid=guid, title=guid, rejected=rejected, **fields)  # type: ignore[arg-type]


# ---- back-off -----------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_and_is_capped() -> None:
    assert [backoff_seconds(n, 30, 240) / 60 for n in range(0, 7)] == [
        0,
        30,
        60,
        120,
        240,
        240,
        240,
    ]


def test_backoff_survives_absurd_attempt_counts() -> None:
    assert backoff_seconds(10_000, 30, 1440) == 1440 * 60


def test_retry_plan_counts_attempts_and_gives_up_at_the_limit() -> None:
    settings = WorkflowSettings(backoff_minutes=10, backoff_max_minutes=60, max_search_attempts=3)
    first = plan_retry(0, 1000.0, settings)
    assert (first.attempts, first.next_search_at, first.give_up) == (1, 1000.0 + 600, False)
    second = plan_retry(1, 1000.0, settings)
    assert (second.attempts, second.next_search_at) == (2, 1000.0 + 1200)
    third = plan_retry(2, 1000.0, settings)
    assert third.give_up and third.attempts == 3


def test_zero_attempts_limit_never_gives_up() -> None:
    settings = WorkflowSettings(backoff_minutes=1, backoff_max_minutes=5, max_search_attempts=0)
    plan = plan_retry(500, 0.0, settings)
    assert not plan.give_up and plan.next_search_at == 300


def test_a_search_where_every_indexer_failed_does_not_count() -> None:
    settings = WorkflowSettings(backoff_minutes=10, max_search_attempts=1)
    plan = plan_retry(0, 50.0, settings, counts=False)
    assert (plan.attempts, plan.next_search_at, plan.give_up) == (0, 50.0 + 600, False)


# ---- stalls -------------------------------------------------------------------------------


def test_no_stall_before_the_limit() -> None:
    verdict = stall_verdict(
        state="stalledDL", progress=0.3, progress_at=0.0, now=59 * 60, stall_minutes=60
    )
    assert verdict is None


def test_a_stall_says_how_long_and_how_far() -> None:
    verdict = stall_verdict(
        state="stalledDL", progress=0.123, progress_at=100.0, now=100.0 + 61 * 60, stall_minutes=60
    )
    assert verdict == "stalled 61 minutes at 12%"


@pytest.mark.parametrize("state", ["stoppedDL", "checkingDL", "checkingResumeData", "moving"])
def test_stopped_or_checking_downloads_are_not_stalling(state: str) -> None:
    assert stall_verdict(state=state, progress=0, progress_at=0, now=1e9, stall_minutes=1) is None


def test_metadata_that_never_comes_is_a_stall() -> None:
    verdict = stall_verdict(state="metaDL", progress=0, progress_at=0, now=3600, stall_minutes=30)
    assert verdict == "stalled 60 minutes at 0%"


def test_stall_detection_can_be_switched_off() -> None:
    assert (
        stall_verdict(state="stalledDL", progress=0, progress_at=0, now=1e9, stall_minutes=0)
        is None
    )


# ---- the next best release ----------------------------------------------------------------


def test_next_best_keeps_the_ranked_order_and_skips_rejected() -> None:
    releases = [
        release("epub", rejected="contains 'epub'"),
        release("m4b"),
        release("mp3"),
    ]
    chosen = next_best(releases, frozenset())
    assert chosen is not None and chosen.guid == "m4b"


def test_next_best_skips_blocklisted_guids_and_hashes_in_any_case() -> None:
    releases = [
        release("one", info_hash=HASH_A),
        release("two", magnet=f"magnet:?xt=urn:btih:{HASH_B.upper()}&dn=x"),
        release("three"),
    ]
    chosen = next_best(releases, {HASH_A.upper(), HASH_B})
    assert chosen is not None and chosen.guid == "three"
    assert next_best(releases, {HASH_A, HASH_B, "THREE"}) is None


def test_release_hash_comes_from_the_indexer_or_the_magnet() -> None:
    assert release_hash(release("x", info_hash=HASH_A.upper())) == HASH_A
    assert release_hash(release("x", magnet=f"magnet:?xt=urn:btih:{HASH_B}")) == HASH_B
    assert release_hash(release("x", magnet="magnet:?dn=broken")) is None
    assert release_hash(release("x")) is None


def test_is_blocked_ignores_empty_identifiers() -> None:
    assert not is_blocked(release(""), {""})


# ---- records ------------------------------------------------------------------------------


def test_a_ranked_release_becomes_a_record_with_its_reasons() -> None:
    wanted = Wanted("Dune", "Frank Herbert")
    magnet = f"magnet:?xt=urn:btih:{HASH_A.upper()}&dn=Dune"
    ranked = rank(
        wanted,
        [
            Release("Frank Herbert - Dune [M4B]", size=500 << 20, seeders=9, magnet=magnet),
            Release("Frank Herbert - Dune (epub)", size=30 << 20, seeders=9, guid="g-epub"),
        ],
        RankingPolicy(),
    )
    best = record_from_ranked(7, ranked[0])
    assert best.book_id == 7
    assert best.info_hash == HASH_A  # from the magnet, lower case (qBittorrent's form)
    assert best.guid == magnet  # no guid: the magnet identifies it
    assert best.rejected is None and best.score == pytest.approx(ranked[0].score, abs=0.01)
    assert best.reasons and all(isinstance(text, str) for _, text in best.reasons)
    epub = record_from_ranked(7, ranked[1])
    assert epub.guid == "g-epub" and epub.rejected and "epub" in epub.rejected


def test_book_json_has_exactly_the_contract_keys() -> None:
    book = Book("Dune", "Frank Herbert", state="grabbed", torrent_hash=HASH_A, id=3)
    assert book_json(book) == {
        "id": 3,
        "title": "Dune",
        "author": "Frank Herbert",
        "state": "grabbed",
        "hash": HASH_A,
        "library_path": None,
        "reason": None,
    }


def test_grab_tags_tie_the_torrent_to_the_book() -> None:
    assert grab_tags(12) == ("earmark", "earmark-book-12")


# ---- states and settings -------------------------------------------------------------------


def test_the_states_are_the_contracts() -> None:
    assert set(ACTIVE_STATES) | FINAL_STATES == set(BOOK_STATES)
    assert {"downloaded", "importing", "in_library", "failed"} == FINAL_STATES
    for source, targets in ALLOWED_TRANSITIONS.items():
        assert source in ACTIVE_STATES and targets <= set(BOOK_STATES)


def test_settings_fall_back_per_field_and_the_category_to_qbittorrents_default() -> None:
    settings = Settings(qbt_default_category="books")
    settings.stall_minutes = "soon"  # type: ignore[assignment]  # a hand-edited file
    settings.max_search_attempts = -3
    settings.per_indexer_timeout = math.nan
    workflow = WorkflowSettings.from_settings(settings)
    default = WorkflowSettings()
    assert workflow.category == "books"
    assert workflow.stall_minutes == default.stall_minutes
    assert workflow.max_search_attempts == default.max_search_attempts
    assert workflow.per_indexer_timeout == default.per_indexer_timeout
    settings.grab_category = "audiobooks-earmark"
    assert WorkflowSettings.from_settings(settings).category == "audiobooks-earmark"


# ---- the wanted queue ----------------------------------------------------------------------


def test_wanting_a_book_twice_keeps_one(tmp_path: Path) -> None:
    store = Store.open_in(tmp_path)
    try:
        book, added = want_book(store, " Dune ", "Frank Herbert", narrator="Scott Brick")
        again, added_again = want_book(store, "dune", "FRANK HERBERT")
        assert added and not added_again and again.id == book.id
        assert [b.title for b in store.books()] == ["Dune"]
        assert book.narrator == "Scott Brick" and book.state == "wanted"
        events = store.events(book_id=book.id)
        assert [(e.kind, e.message) for e in events] == [("wanted", "added to the wanted queue")]
        with pytest.raises(ValueError):
            want_book(store, "", "Someone")
    finally:
        store.close()
