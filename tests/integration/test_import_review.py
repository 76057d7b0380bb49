"""A match the user reviews before tags are written, against real qBittorrent and files.

A book is complete in a real qbittorrent-nox; the Open Library double proposes metadata,
and the threshold is set so that no match is applied unseen. The import then stops
before copying anything, keeps the proposal, and finishes with what the user chose:
their edits are what the tags say, the folder follows the chosen metadata, the copy
reports its progress, Audiobookshelf scans, finds and (as asked) matches the item.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gui.clients.audiobookshelf import AbsClient
from gui.clients.metadata_providers import OpenLibraryProvider
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.metadata import metadata_from_json
from gui.core.ranking import RankingPolicy
from gui.core.tagging import read_tags
from gui.services.importing import Importer, ImportOptions
from gui.services.workflow import Transition, Workflow, WorkflowSettings, want_book
from gui.store import Book, Store
from tests.doubles.audiobookshelf import ADMIN_KEY, AbsServerDouble, BookSpec
from tests.doubles.metadata_providers import OpenLibraryDouble
from tests.harness.audiobook import AUTHOR, build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance

TITLE = "Quiet Harbour"
WORK = "/works/OL4242W"
DOCS = [
    {
        "cover_i": 4242,
        "title": TITLE,
        "author_name": [AUTHOR],
        "first_publish_year": 1999,
        "key": WORK,
        "language": ["eng"],
        "publisher": ["Harbour Books"],
        "isbn": ["9780000004242"],
    },
    {
        "title": "Loud Shore",
        "author_name": [AUTHOR],
        "first_publish_year": 2003,
        "key": "/works/OL4343W",
        "publisher": ["Shore Press"],
    },
]
WORKS = {
    WORK: {
        "title": TITLE,
        "key": WORK,
        "type": {"key": "/type/work"},
        "description": "Boats, mostly.",
        "covers": [4242],
        "subjects": ["Fiction"],
    },
    "/works/OL4343W": {"title": "Loud Shore", "key": "/works/OL4343W"},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


def complete_book(qbt: QbtInstance, tmp_path: Path, title: str) -> str:
    """A book qBittorrent has complete (it checks the files it is given): its hash."""
    folder = make_audiobook(qbt.downloads, title, files=2, fmt="mp3")
    torrent = build_torrent(folder)
    digest = info_hash(torrent)
    admin = qbt.admin()
    admin.add_torrent(torrent, savepath=str(folder.parent))
    admin.wait_for_torrent(digest, 30.0, progress=1)
    return digest


def downloaded(store: Store, title: str, digest: str) -> Book:
    book, _ = want_book(store, title, AUTHOR)
    book.torrent_hash = digest
    store.set_state(book, "downloaded", event="download complete (test)")
    assert book.id is not None
    found = store.book(book.id)
    assert found is not None
    return found


async def test_a_reviewed_match_is_what_the_tags_say(
    qbt: QbtInstance, store: Store, tmp_path: Path
) -> None:
    digest = complete_book(qbt, tmp_path, TITLE)
    other = complete_book(qbt, tmp_path, "Loud Shore")
    book = downloaded(store, TITLE, digest)
    kept = downloaded(store, "Loud Shore", other)
    library = tmp_path / "library"
    library.mkdir()
    progress: list[tuple[int, int, int]] = []
    moves: list[Transition] = []
    config = QbtConfig(url=qbt.url, username=QBT_USER, password=QBT_PASSWORD)
    async with (
        AbsServerDouble(include_recorded=False) as abs_double,
        OpenLibraryDouble(docs=DOCS, works=WORKS) as open_library,
        QBittorrentClient(config) as client,
    ):
        options = ImportOptions(
            library_dir=str(library),
            enhance_metadata=True,
            auto_apply_threshold=1.01,  # nothing is sure enough: every match is reviewed
            abs_library_id=abs_double.library_id,
            abs_match_provider="audible",
            scan_timeout=10.0,
        )
        importer = Importer(
            options,
            abs_factory=lambda: AbsClient(abs_double.url, ADMIN_KEY),
            providers_factory=lambda: (
                OpenLibraryProvider(base_url=open_library.url, covers_url=open_library.url),
            ),
        )
        workflow = Workflow(
            store,
            qbt=client,
            indexers=[],
            library=None,
            policy=RankingPolicy(),
            settings=WorkflowSettings(category="audiobooks"),
            importer=importer,
        )
        workflow.listeners.append(moves.append)
        workflow.progress_listeners.append(lambda *update: progress.append(update))

        report = await workflow.run_once()
        assert not report.errors, report.errors
        assert book.id is not None and kept.id is not None
        waiting = store.book(book.id)
        assert waiting is not None and waiting.state == "importing"
        assert waiting.reason and waiting.reason.startswith("metadata waits for your review")
        assert "Open Library" in waiting.reason
        review = store.review(book.id)
        assert review is not None and review.torrent_hash == digest
        proposal = metadata_from_json(review.proposal, review.proposal_cover)
        assert proposal.publisher == "Harbour Books" and proposal.cover is not None
        assert metadata_from_json(review.before).publisher == ""
        assert list(library.iterdir()) == []  # nothing copied before the user decides
        assert progress == []
        assert any(m.book_id == book.id and m.to_state == "importing" for m in moves)

        # the next pass leaves the waiting books alone (no new lookup, same proposal)
        await workflow.run_once()
        again = store.review(book.id)
        assert again is not None and again.created_at == review.created_at
        assert store.reviewed_books() == {book.id, kept.id}

        # the user edits the proposal: their narrator and a corrected year are written
        edited = replace(proposal, narrators=("Edited Reader",), year=2000)
        abs_double.add_on_disk(BookSpec(TITLE, authors=[AUTHOR]))
        move = await workflow.finish_review(book.id, edited)
        assert move is not None and move.to_state == "in_library"
        done = store.book(book.id)
        assert done is not None and done.state == "in_library" and done.library_path
        folder = Path(done.library_path)
        assert folder == library / AUTHOR / f"{TITLE} {{Edited Reader}}"
        for track in sorted(folder.glob("*.mp3")):  # noqa: ASYNC240 - a test's reading
            tags = read_tags(track)
            assert tags.narrators == ("Edited Reader",)
            assert tags.year == 2000 and tags.publisher == "Harbour Books"
            assert tags.cover is not None
        assert (folder / "cover.jpg").is_file()
        assert store.review(book.id) is None
        assert done.abs_item_id and done.abs_item_id in {i["id"] for i in abs_double.items_of()}
        owned = store.owned_book(done.abs_item_id)  # the library view has it at once
        assert owned is not None and owned.title == TITLE
        assert done.score_before is not None and done.score_after is not None
        assert done.score_after > done.score_before
        # Audiobookshelf was asked to match the new item with the chosen provider
        assert [(item, body["provider"]) for item, body in abs_double.match_calls] == [
            (done.abs_item_id, "audible")
        ]
        # the copy reported its progress in bytes, ending complete
        mine = [(d, t) for b, d, t in progress if b == book.id]
        assert mine and mine[-1][0] == mine[-1][1] > 0
        assert all(d <= t for d, t in mine)

        # "keep known metadata": the other book is imported with what was known before
        kept_move = await workflow.finish_review(kept.id, None)
        assert kept_move is not None and kept_move.to_state == "in_library"
        kept_done = store.book(kept.id)
        assert kept_done is not None and kept_done.library_path
        for track in Path(kept_done.library_path).glob("*.mp3"):  # noqa: ASYNC240
            assert read_tags(track).publisher == ""
        assert store.reviewed_books() == frozenset()
