"""The import service's pure parts: path mapping errors, plan and folder choice, scores,
library choice, track numbering, which failures are permanent, and the seeding policy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pytest

from gui.clients.audiobookshelf import AbsFolder, AbsLibrary
from gui.clients.qbittorrent import QBittorrentClient
from gui.core.importer import DestinationConflict, NothingToImport, SourceMissing
from gui.core.metadata import BookMetadata
from gui.core.paths import PathMapping
from gui.core.ranking import RankingPolicy
from gui.services.importing import (
    Importer,
    ImportOptions,
    ImportProblem,
    ImportReport,
    MappingNowhere,
    NoAudio,
    NotComplete,
    choose_library,
    folder_for,
    import_download,
    is_permanent,
    local_save_path,
    metadata_for,
    plan_download,
    remove_after_seeding,
    score_text,
    track_numbers,
)
from gui.services.workflow import Workflow, WorkflowSettings, want_book
from gui.settings import Settings
from gui.store import Book, Store
from tests.harness.platforms import posix_special_files

# ---- remote path mappings ------------------------------------------------------------------


def test_a_mapping_that_points_nowhere_names_both_paths(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"
    mapping = PathMapping(r"F:\Audiobookshelf\Downloads", str(missing))
    with pytest.raises(MappingNowhere) as caught:
        local_save_path(r"F:\Audiobookshelf\Downloads", [mapping])
    message = str(caught.value)
    assert r"F:\Audiobookshelf\Downloads" in message and str(missing) in message


def test_a_save_path_without_mapping_that_does_not_exist_asks_for_one() -> None:
    with pytest.raises(MappingNowhere, match="add a remote path mapping"):
        local_save_path("/srv/qbittorrent/downloads", [])


def test_the_mapping_turns_the_remote_path_into_the_local_one(tmp_path: Path) -> None:
    local = tmp_path / "downloads"
    (local / "audiobooks").mkdir(parents=True)
    mappings = [PathMapping(r"F:\Downloads", str(local))]
    assert local_save_path(r"F:\Downloads\audiobooks", mappings) == local / "audiobooks"
    assert local_save_path(r"f:/downloads", mappings) == local  # Windows: any case, any slash


def test_same_machine_needs_no_mapping(tmp_path: Path) -> None:
    assert local_save_path(str(tmp_path), []) == tmp_path


# ---- plan and folder -----------------------------------------------------------------------


def test_the_plan_leaves_out_files_not_downloaded_and_junk() -> None:
    files = [
        {"name": "Dune/01.mp3", "size": 10, "priority": 1, "progress": 1},
        {"name": "Dune/02.mp3", "size": 10, "priority": 1, "progress": 1},
        {"name": "Dune/bonus.mp3", "size": 10, "priority": 0, "progress": 0},
        {"name": "Dune/cover.jpg", "size": 5, "priority": 1, "progress": 1},
        {"name": "Dune/player.exe", "size": 5, "priority": 1, "progress": 1},
    ]
    plan = plan_download(files)
    assert [f.target.as_posix() for f in plan.files] == ["01.mp3", "02.mp3", "cover.jpg"]
    assert [s.source for s in plan.skipped] == ["Dune/player.exe"]


def test_the_folder_comes_from_wanted_then_tags_then_release() -> None:
    book = Book(title="Dune", author="Frank Herbert", narrator="Scott Brick", series="Dune",
                position="1")  # fmt: skip
    tags = BookMetadata(title="Dune (Unabridged)", authors=("F. Herbert",), year=1965)
    meta = metadata_for(book, "Frank Herbert - Dune [M4B]", tags)
    assert meta.title == "Dune" and meta.authors == ("Frank Herbert",)
    assert meta.year == 1965  # only the tags knew it
    assert folder_for(meta) == PurePosixPath("Frank Herbert", "Dune", "Vol. 1 - Dune {Scott Brick}")


def test_a_loose_download_is_named_from_its_tags_and_release_title() -> None:
    tags = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",))
    meta = metadata_for(None, "Andy Weir - Project Hail Mary (2021) [MP3]", tags)
    assert folder_for(meta) == PurePosixPath("Andy Weir", "Project Hail Mary")
    bare = metadata_for(None, "Some.Random.Upload", None)
    assert bare.title  # never a book without a title


def test_tracks_count_per_disc_folder() -> None:
    flat = [PurePosixPath("01.mp3"), PurePosixPath("02.mp3"), PurePosixPath("03.mp3")]
    assert track_numbers(flat) == [((1, 3), None), ((2, 3), None), ((3, 3), None)]
    discs = [PurePosixPath("CD1/01.mp3"), PurePosixPath("CD1/02.mp3"), PurePosixPath("CD2/01.mp3")]
    assert track_numbers(discs) == [((1, 2), (1, 2)), ((2, 2), (1, 2)), ((1, 1), (2, 2))]


# ---- scores and failures -------------------------------------------------------------------


def test_score_change_text() -> None:
    assert score_text(72, 92) == "72% -> 92%"
    assert score_text(80, 80) == "80%"


def test_which_failures_are_permanent(tmp_path: Path) -> None:
    conflict = DestinationConflict("taken", paths=(tmp_path,))
    assert is_permanent(conflict, allow_upgrades=False)
    assert not is_permanent(conflict, allow_upgrades=True)
    assert is_permanent(NothingToImport("none"), allow_upgrades=False)
    assert is_permanent(NoAudio("no audio"), allow_upgrades=True)
    assert not is_permanent(NotComplete("50%"), allow_upgrades=False)
    assert not is_permanent(MappingNowhere("where"), allow_upgrades=False)
    assert not is_permanent(SourceMissing([], tmp_path), allow_upgrades=False)


def test_options_come_from_the_settings() -> None:
    settings = Settings(library_dir="/books", path_mappings=[("F:\\dl", "/mnt/dl")])
    settings.tag_files = False
    settings.auto_apply_threshold = "high"  # type: ignore[assignment]  # a hand-edited file
    options = ImportOptions.from_settings(settings)
    assert options.path_mappings == (PathMapping("F:\\dl", "/mnt/dl"),)
    assert not options.tag_files and options.use_hardlinks_when_not_tagging
    assert options.auto_apply_threshold == 0.9
    assert not options.allow_upgrades


# ---- the Audiobookshelf library --------------------------------------------------------------


def library(library_id: str, *paths: str, media: str = "book") -> AbsLibrary:
    folders = tuple(AbsFolder(f"f-{i}", p) for i, p in enumerate(paths))
    return AbsLibrary(library_id, library_id, media, folders)


def test_the_library_is_the_configured_one_or_the_one_holding_the_folder() -> None:
    libraries = [
        library("podcasts", "/podcasts", media="podcast"),
        library("books", "/srv/audiobooks"),
        library("kids", "/srv/kids"),
    ]
    assert choose_library(libraries, "/srv/kids", "books") is libraries[1]
    assert choose_library(libraries, "/srv/kids") is libraries[2]
    # ABS in a container sees /audiobooks; Earmark sees the share as /mnt/nas/audiobooks
    assert choose_library(libraries, "/mnt/nas/audiobooks") is libraries[1]
    assert choose_library(libraries, "/elsewhere") is None
    assert choose_library(libraries[:2], "/elsewhere") is libraries[1]  # the only book library
    assert choose_library(libraries, "/srv/kids", "missing") is None


# ---- completion and the seeding policy (a stand-in for qBittorrent) -------------------------


class FakeQbt:
    def __init__(self, torrent: dict[str, Any] | None) -> None:
        self.state = torrent
        self.deleted: list[tuple[list[str], bool]] = []

    async def torrent(self, torrent_hash: str) -> dict[str, Any] | None:
        return self.state

    async def delete(self, hashes: list[str], *, delete_files: bool) -> None:
        self.deleted.append((list(hashes), delete_files))


def as_qbt(fake: FakeQbt) -> QBittorrentClient:
    return cast("QBittorrentClient", fake)


async def test_an_unfinished_download_is_refused_clearly(tmp_path: Path) -> None:
    qbt = FakeQbt({"name": "Dune", "state": "downloading", "progress": 0.5})
    options = ImportOptions(library_dir=str(tmp_path))
    with pytest.raises(NotComplete, match=r"not complete yet \(Downloading, 50.0%\)"):
        await import_download(None, "ab" * 20, qbt=as_qbt(qbt), store=None, settings=options)
    # a completed state alone is not enough: every byte must be there
    qbt.state = {"name": "Dune", "state": "stoppedUP", "progress": 0.99}
    with pytest.raises(NotComplete):
        await import_download(None, "ab" * 20, qbt=as_qbt(qbt), store=None, settings=options)
    qbt.state = None
    with pytest.raises(ImportProblem, match="no torrent"):
        await import_download(None, "ab" * 20, qbt=as_qbt(qbt), store=None, settings=options)


async def test_no_library_folder_is_said_plainly() -> None:
    qbt = FakeQbt(None)
    with pytest.raises(ImportProblem, match="no library folder"):
        await import_download(
            None,
            "ab" * 20,
            qbt=as_qbt(qbt),
            store=None,
            settings=ImportOptions(library_dir=""),
        )


@pytest.mark.parametrize(
    ("state", "progress", "removed"),
    [
        ("stoppedUP", 1.0, True),
        ("pausedUP", 1.0, True),
        ("uploading", 1.0, False),
        ("stalledUP", 1.0, False),
        ("stoppedDL", 0.4, False),
    ],
)
async def test_removed_only_once_qbittorrent_stopped_it(
    state: str, progress: float, removed: bool
) -> None:
    qbt = FakeQbt({"state": state, "progress": progress})
    done = await remove_after_seeding("ab" * 20, qbt=as_qbt(qbt), delete_data=False)
    assert (done is not None) == removed
    assert qbt.deleted == ([(["ab" * 20], False)] if removed else [])


async def test_data_is_deleted_only_when_asked() -> None:
    qbt = FakeQbt({"state": "stoppedUP", "progress": 1.0})
    done = await remove_after_seeding("ab" * 20, qbt=as_qbt(qbt), delete_data=True)
    assert done is not None and "data" in done
    assert qbt.deleted == [(["ab" * 20], True)]
    qbt.state = None  # already gone: nothing to do
    assert await remove_after_seeding("ab" * 20, qbt=as_qbt(qbt), delete_data=True) is None


# ---- the workflow's import step (a stand-in importer) ---------------------------------------


class FakeImporter:
    def __init__(self, outcome: ImportReport | Exception, *, allow_upgrades: bool = False):
        self.outcome = outcome
        self.options = ImportOptions(library_dir="/library", allow_upgrades=allow_upgrades)
        self.abs_factory = None
        self.calls = 0

    async def run(self, book: Book, torrent_hash: str, **_: Any) -> ImportReport:
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    async def seeding_policy(self, torrent_hash: str, **_: Any) -> str | None:
        return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


def downloaded_book(store: Store) -> Book:
    book, _ = want_book(store, "Dune", "Frank Herbert")
    book.torrent_hash = "ab" * 20
    store.set_state(book, "downloaded", event="download complete")
    return book


def workflow_with(store: Store, importer: FakeImporter, clock: Any = None) -> Workflow:
    return Workflow(
        store,
        qbt=cast("QBittorrentClient", None),
        indexers=[],
        library=None,
        policy=RankingPolicy(),
        settings=WorkflowSettings(),
        clock=clock or (lambda: 0.0),
        importer=cast("Importer", importer),
    )


async def test_an_import_takes_the_book_into_the_library(store: Store) -> None:
    book = downloaded_book(store)
    report = ImportReport("ab" * 20, "/library/Frank Herbert/Dune", ("01.mp3",), "li_1", 72, 92)
    workflow = workflow_with(store, FakeImporter(report))
    done = await workflow.run_once()
    assert [(t.from_state, t.to_state) for t in done.transitions] == [
        ("downloaded", "importing"),
        ("importing", "in_library"),
    ]
    after = store.book(book.id or 0)
    assert after is not None and after.state == "in_library"
    assert after.library_path == "/library/Frank Herbert/Dune"
    message = done.transitions[-1].message
    assert "72% -> 92%" in message and "li_1" in message


async def test_a_failed_import_stays_downloaded_and_is_retried_later(store: Store) -> None:
    book = downloaded_book(store)
    now = [time.time()]
    importer = FakeImporter(NotComplete("'Dune' is not complete yet"))
    workflow = workflow_with(store, importer, clock=lambda: now[0])
    await workflow.run_once()
    after = store.book(book.id or 0)
    assert after is not None and after.state == "downloaded"
    assert after.reason is not None and "not complete yet" in after.reason
    await workflow.run_once()
    assert importer.calls == 1  # not on every pass
    now[0] += 301
    await workflow.run_once()
    assert importer.calls == 2


async def test_a_conflict_without_upgrades_fails_the_book(store: Store, tmp_path: Path) -> None:
    book = downloaded_book(store)
    conflict = DestinationConflict("the folder holds another copy", paths=(tmp_path,))
    await workflow_with(store, FakeImporter(conflict)).run_once()
    after = store.book(book.id or 0)
    assert after is not None and after.state == "failed"
    assert after.reason is not None and "another copy" in after.reason
    # with upgrades allowed the same conflict is retried instead
    other = downloaded_book(store)  # the same book: want_book returns it
    assert other.id == book.id
    store.set_state(other, "downloaded", event="again")
    await workflow_with(store, FakeImporter(conflict, allow_upgrades=True)).run_once()
    again = store.book(book.id or 0)
    assert again is not None and again.state == "downloaded"


@posix_special_files
@pytest.mark.timeout(30)
def test_source_tags_are_never_read_through_a_link_to_a_fifo_or_device(tmp_path: Path) -> None:
    """Reading tags used to open the link first: a FIFO blocked the thread for good
    (Ctrl+C ignored) and /dev/zero grew without end."""
    import os

    from gui.core.layout import select_files
    from gui.services.importing import _read_source_tags

    book = tmp_path / "Book"
    book.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (book / "01.mp3").symlink_to(fifo)
    (book / "02.mp3").symlink_to("/dev/zero")
    os.mkfifo(book / "03.mp3")
    plan = select_files([("Book/01.mp3", 10), ("Book/02.mp3", 10), ("Book/03.mp3", 10)])
    assert _read_source_tags(tmp_path, plan) is None


def test_a_file_list_of_odd_shapes_is_an_import_problem_not_a_traceback() -> None:
    from gui.services.importing import ImportProblem, plan_download

    plan = plan_download(
        [
            {"name": "Book/01.mp3", "size": 10, "progress": 1, "priority": 1},
            {"name": "Book/02.mp3", "size": 10, "progress": None, "priority": "x"},
            {"name": "Book/03.mp3", "size": 10, "progress": 0.5, "priority": 1},
        ]
    )
    assert [item.source for item in plan.files] == ["Book/01.mp3", "Book/02.mp3"]
    for bad in ({"size": 1}, {"name": 5, "size": 1}, {"name": "a.mp3", "size": -1}):
        with pytest.raises(ImportProblem, match="without a usable name or size"):
            plan_download([bad])
