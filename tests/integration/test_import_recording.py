"""The right recording after the download, against real qBittorrent and real audio.

Books made by ffmpeg are complete in a real qbittorrent-nox. Before anything is copied,
the import measures the audio (mutagen) and reads its narrator tag: a recording far
shorter than the wanted edition (abridged) or read by another narrator stops in review
with the reason, nothing copied; the right one is imported at once; and the user can
still import a held one (their decision is not checked again).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.ranking import RankingPolicy
from gui.services.importing import (
    RECORDING_CHECK,
    Importer,
    ImportOptions,
    WrongRecording,
    import_download,
)
from gui.services.workflow import Workflow, WorkflowSettings, want_book
from gui.store import Book, Store
from tests.harness.audiobook import AUTHOR, build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance

#: Each book is two tracks of 3 s: 6 s of audio.
SECONDS, TRACKS = 3.0, 2


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


def complete_book(qbt: QbtInstance, title: str, tags: dict[str, str] | None = None) -> str:
    folder = make_audiobook(
        qbt.downloads, title, files=TRACKS, seconds=SECONDS, fmt="mp3", tags=tags
    )
    torrent = build_torrent(folder)
    digest = info_hash(torrent)
    admin = qbt.admin()
    admin.add_torrent(torrent, savepath=str(folder.parent))
    admin.wait_for_torrent(digest, 30.0, progress=1)
    return digest


def downloaded(store: Store, title: str, digest: str, **wanted: str | float) -> Book:
    book, _ = want_book(store, title, AUTHOR, **wanted)  # type: ignore[arg-type]
    book.torrent_hash = digest
    store.set_state(book, "downloaded", event="download complete (test)")
    assert book.id is not None
    found = store.book(book.id)
    assert found is not None
    return found


async def test_a_wrong_recording_waits_for_review_and_the_right_one_is_imported(
    qbt: QbtInstance, store: Store, tmp_path: Path
) -> None:
    abridged = downloaded(
        store, "Short Harbour", complete_book(qbt, "Short Harbour"), duration=60.0
    )
    other_reader = downloaded(
        store,
        "Other Voice",
        complete_book(qbt, "Other Voice", {"composer": "Simon Vance"}),
        narrator="Scott Brick",
    )
    right = downloaded(
        store,
        "Right Shore",
        complete_book(qbt, "Right Shore", {"composer": "Scott Brick"}),
        duration=TRACKS * SECONDS,
        narrator="Scott Brick",
    )
    library = tmp_path / "library"
    library.mkdir()
    config = QbtConfig(url=qbt.url, username=QBT_USER, password=QBT_PASSWORD)
    async with QBittorrentClient(config) as client:
        workflow = Workflow(
            store,
            qbt=client,
            indexers=[],
            library=None,
            policy=RankingPolicy(),
            settings=WorkflowSettings(category="audiobooks"),
            importer=Importer(ImportOptions(library_dir=str(library))),
        )
        report = await workflow.run_once()
        assert not report.errors, report.errors
        assert abridged.id and other_reader.id and right.id

        held = store.book(abridged.id)
        assert held is not None and held.state == "importing"
        assert held.reason is not None and held.reason.startswith("not the wanted recording?")
        assert "the audio plays 6 s, the wanted edition runs 1 min (10%)" in held.reason
        assert "an abridged or partial recording" in held.reason
        review = store.review(abridged.id)
        assert review is not None and review.provider == RECORDING_CHECK

        voiced = store.book(other_reader.id)
        assert voiced is not None and voiced.state == "importing"
        assert voiced.reason and "narrated by Simon Vance, the wanted edition by Scott Brick" in (
            voiced.reason
        )

        done = store.book(right.id)
        assert done is not None and done.state == "in_library", done.reason
        assert [p.name for p in library.iterdir()] == [AUTHOR]
        assert [p.name for p in (library / AUTHOR).iterdir()] == ["Right Shore {Scott Brick}"]

        await workflow.run_once()  # a held book waits: no second look, nothing copied
        again = store.review(abridged.id)
        assert again is not None and again.created_at == review.created_at

        # the user imports it anyway: their decision is not checked again
        move = await workflow.finish_review(abridged.id, None)
        assert move is not None and move.to_state == "in_library"
        kept = store.book(abridged.id)
        assert kept is not None and kept.library_path
        tracks = list(Path(kept.library_path).glob("*.mp3"))  # noqa: ASYNC240 - a test's look
        assert len(tracks) == TRACKS


async def test_without_anyone_to_ask_a_wrong_recording_is_refused(
    qbt: QbtInstance, tmp_path: Path
) -> None:
    digest = complete_book(qbt, "Lone Harbour")
    library = tmp_path / "library"
    library.mkdir()
    book = Book("Lone Harbour", AUTHOR, duration=3600.0, torrent_hash=digest)
    config = QbtConfig(url=qbt.url, username=QBT_USER, password=QBT_PASSWORD)
    async with QBittorrentClient(config) as client:
        with pytest.raises(WrongRecording, match="the audio plays 6 s, the wanted edition runs"):
            await import_download(
                book, digest, qbt=client, store=None, settings=ImportOptions(str(library))
            )
    assert list(library.iterdir()) == []
