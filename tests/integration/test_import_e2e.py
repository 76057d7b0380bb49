"""The import end to end: a real transfer between two qbittorrent-nox instances, a remote
path mapping in play, the copies tagged (read back with mutagen), the Audiobookshelf
double scanned and the book confirmed, and the seeding torrent still verifying.

qBittorrent reports the leecher's real downloads folder as the save path; Earmark is told
to reach it under another name (a symlink) through a remote path mapping, as it would a
share. Nothing leaves 127.0.0.1; waits are conditions with deadlines.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gui.clients.audiobookshelf import AbsClient
from gui.clients.metadata_providers import OpenLibraryProvider
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.paths import PathMapping
from gui.core.ranking import RankingPolicy
from gui.core.tagging import read_numbering, read_tags
from gui.services.importing import (
    ABS_NEEDS_ADMIN,
    Importer,
    ImportOptions,
    MappingNowhere,
    import_download,
)
from gui.services.workflow import IMPORT_TRANSITIONS, Workflow, WorkflowSettings, want_book
from gui.settings import Settings, save_settings
from gui.store import BOOK_STATES, Book, Store
from tests.doubles.audiobookshelf import ADMIN_KEY, USER_KEY, AbsServerDouble, BookSpec
from tests.doubles.metadata_providers import OpenLibraryDouble
from tests.harness.audiobook import AUTHOR, build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtFactory, QbtInstance
from tests.harness.wait import async_wait_until

REPO = Path(__file__).resolve().parents[2]
FORMATS = {"mp3": ".mp3", "m4b": ".m4b", "flac": ".flac", "opus": ".opus"}
NARRATOR = "Nora Reader"


def title_of(fmt: str) -> str:
    return f"Echoes in {fmt.upper()}"


def catalogue() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Open Library's search documents and works for the four test books."""
    docs, works = [], {}
    for number, fmt in enumerate(FORMATS, start=1):
        key = f"/works/OL{900 + number}W"
        docs.append(
            {
                "cover_i": 4000 + number,
                "title": title_of(fmt),
                "author_name": [AUTHOR],
                "first_publish_year": 2001,
                "key": key,
                "language": ["eng"],
                "publisher": ["Loopback Press"],
                "isbn": [f"978000000000{number}"],
            }
        )
        works[key] = {
            "title": title_of(fmt),
            "key": key,
            "type": {"key": "/type/work"},
            "description": f"A test book read in {fmt}.",
            "covers": [4000 + number],
            "subjects": ["Fiction"],
        }
    return docs, works


def qbt_client(instance: QbtInstance) -> QBittorrentClient:
    return QBittorrentClient(QbtConfig(instance.url, QBT_USER, QBT_PASSWORD))


def tracks_in(folder: Path, ext: str) -> list[Path]:
    return sorted(folder.glob(f"*{ext}"))


def digest_files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


class Downloads:
    """Four books (one per format) seeded by one instance and downloaded by another."""

    def __init__(self, seeder: QbtInstance, leecher: QbtInstance, books: dict[str, Path]):
        self.seeder = seeder
        self.leecher = leecher
        self.books = books  # fmt -> the book folder in the leecher's downloads
        self.hashes: dict[str, str] = {}


@pytest.fixture
def downloads(qbt_factory: QbtFactory, tmp_path: Path) -> Iterator[Downloads]:
    with ThreadPoolExecutor(max_workers=6) as pool:
        seeder_f = pool.submit(qbt_factory)
        leecher_f = pool.submit(qbt_factory)
        made = {
            fmt: pool.submit(make_audiobook, tmp_path / "seed", title_of(fmt), files=2, fmt=fmt)
            for fmt in FORMATS
        }
        seeder, leecher = seeder_f.result(), leecher_f.result()
        folders = {fmt: future.result() for fmt, future in made.items()}
    result = Downloads(seeder, leecher, {})
    seed_admin, leech_admin = seeder.admin(), leecher.admin()
    for fmt, folder in folders.items():
        torrent = build_torrent(folder)
        digest = info_hash(torrent)
        result.hashes[fmt] = digest
        seed_admin.add_torrent(torrent, savepath=str(folder.parent))
        seed_admin.wait_for_torrent(digest, 20.0, progress=1)
        leech_admin.add_torrent(torrent, savepath=str(leecher.downloads))
        leech_admin.wait_for_torrent(digest, 10.0)
        leech_admin.post(
            "/api/v2/torrents/addPeers",
            {"hashes": digest, "peers": f"127.0.0.1:{seeder.bt_port}"},
        )
        result.books[fmt] = leecher.downloads / folder.name
    for digest in result.hashes.values():
        leech_admin.wait_for_torrent(
            digest, 60.0, progress=1, state=lambda s: s in ("uploading", "stalledUP")
        )
    yield result


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()


def fresh(store: Store, book: Book) -> Book:
    assert book.id is not None
    found = store.book(book.id)
    assert found is not None
    return found


async def test_import_with_mapping_tags_abs_and_seeding(
    downloads: Downloads, store: Store, tmp_path: Path
) -> None:
    leecher_dir = downloads.leecher.downloads
    reachable = tmp_path / "mnt" / "downloads"  # the share as Earmark sees it
    reachable.parent.mkdir()
    reachable.symlink_to(leecher_dir, target_is_directory=True)
    library = tmp_path / "library"
    library.mkdir()
    sources_before = {fmt: digest_files(folder) for fmt, folder in downloads.books.items()}

    books: dict[str, Book] = {}
    for fmt, digest in downloads.hashes.items():
        book, _ = want_book(store, title_of(fmt), AUTHOR, narrator=NARRATOR)
        book.torrent_hash = digest
        store.set_state(book, "downloaded", event="download complete (test)")
        books[fmt] = fresh(store, book)

    docs, works = catalogue()
    async with (
        AbsServerDouble(include_recorded=False) as abs_double,
        OpenLibraryDouble(docs=docs, works=works) as open_library,
        qbt_client(downloads.leecher) as qbt,
    ):
        options = ImportOptions(
            enhance_metadata=True,
            library_dir=str(library),
            path_mappings=(PathMapping(str(leecher_dir), str(reachable)),),
            abs_library_id=abs_double.library_id,
            scan_timeout=10.0,
        )
        # a mapping that points nowhere names both of its paths
        broken = replace(
            options, path_mappings=(PathMapping(str(leecher_dir), str(tmp_path / "gone")),)
        )
        with pytest.raises(MappingNowhere) as caught:
            await import_download(
                books["mp3"], downloads.hashes["mp3"], qbt=qbt, store=None, settings=broken
            )
        assert str(leecher_dir) in str(caught.value) and str(tmp_path / "gone") in str(caught.value)

        for fmt in FORMATS:  # what ABS's scanner will find in the folder
            abs_double.add_on_disk(BookSpec(title_of(fmt), authors=[AUTHOR]))
        importer = Importer(
            options,
            abs_factory=lambda: AbsClient(abs_double.url, ADMIN_KEY),
            providers_factory=lambda: (
                OpenLibraryProvider(base_url=open_library.url, covers_url=open_library.url),
            ),
        )
        workflow = Workflow(
            store,
            qbt=qbt,
            indexers=[],
            library=None,
            policy=RankingPolicy(),
            settings=WorkflowSettings(category="audiobooks"),
            importer=importer,
        )
        report = await workflow.run_once()
        assert not report.errors, report.errors
        moves = sorted((t.from_state, t.to_state) for t in report.transitions)
        assert moves == sorted(
            [("downloaded", "importing"), ("importing", "in_library")] * len(FORMATS)
        )
        for move in report.transitions:
            assert move.to_state in IMPORT_TRANSITIONS[move.from_state]
        assert abs_double.scans and all(lib == abs_double.library_id for lib, _ in abs_double.scans)
        item_ids = {item["id"] for item in abs_double.items_of()}

        for fmt, ext in FORMATS.items():
            book = fresh(store, books[fmt])
            assert book.state == "in_library", (fmt, book.reason)
            assert book.library_path is not None
            folder = Path(book.library_path)
            assert folder == library / AUTHOR / f"{title_of(fmt)} {{{NARRATOR}}}"
            events = [(e.kind, e.message) for e in store.events(book_id=book.id)]
            in_library = next(m for k, m in events if k == "in_library")
            assert "metadata 42% -> " in in_library  # the score change, after enhancement
            assert (folder / "cover.jpg").is_file()  # the provider's cover
            abs_event = next(m for k, m in events if k == "audiobookshelf")
            item_id = abs_event.rsplit(" ", 1)[-1]
            assert item_id in item_ids and item_id in in_library
            tracks = tracks_in(folder, ext)
            assert len(tracks) == 2, tracks
            for number, track in enumerate(tracks, start=1):
                tags = read_tags(track)
                assert tags.title == title_of(fmt)
                assert tags.authors == (AUTHOR,)
                assert tags.narrators == (NARRATOR,)
                assert tags.publisher == "Loopback Press" and tags.year == 2001
                assert tags.cover is not None
                numbering = read_numbering(track)
                assert (numbering.track, numbering.track_total) == (number, 2), fmt
            # the seeding originals are untouched, byte for byte
            assert digest_files(downloads.books[fmt]) == sources_before[fmt]

        # a re-run finds the book imported and only does the ABS part; a non-admin key is
        # told plainly and the book is still confirmed
        async with AbsClient(abs_double.url, USER_KEY) as user_client:
            again = await import_download(
                fresh(store, books["flac"]),
                downloads.hashes["flac"],
                qbt=qbt,
                store=None,
                settings=options,
                abs_client=user_client,
            )
        assert again.status == "already_imported"
        assert ABS_NEEDS_ADMIN in again.notes
        assert again.abs_item_id in item_ids
        assert again.to_json().keys() == {
            "hash", "library_path", "files", "abs_item_id", "score_before", "score_after"
        }  # fmt: skip

        # `earmark import HASH --json` (a separate process, as a user runs it): the book
        # linked to the hash is found and the contract's document printed
        save_settings(
            Settings(
                library_dir=str(library),
                path_mappings=[(str(leecher_dir), str(reachable))],
                abs_library_id=abs_double.library_id,
            ),
            tmp_path / "profile",
        )
        env = {
            **os.environ,
            "EARMARK_CONFIG_DIR": str(tmp_path / "profile"),
            "EARMARK_QBT_URL": downloads.leecher.url,
            "EARMARK_QBT_USERNAME": QBT_USER,
            "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
            "EARMARK_ABS_URL": abs_double.url,
            "EARMARK_ABS_TOKEN": ADMIN_KEY,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gui",
            "import",
            downloads.hashes["opus"],
            "--json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=REPO,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, stderr.decode()
        document = json.loads(stdout)
        assert document["hash"] == downloads.hashes["opus"]
        assert document["library_path"] == fresh(store, books["opus"]).library_path
        assert document["abs_item_id"] in item_ids
        assert len(document["files"]) == 2 and document["score_before"] == 42

        # seeding policy: once qBittorrent stops a torrent at its limit, it is removed
        importer.remove_after_seeding = True
        mp3 = downloads.hashes["mp3"]
        await qbt.stop([mp3])
        await async_wait_until(
            lambda: _stopped(qbt, mp3), 20, 0.1, what="the torrent to be stopped"
        )
        await workflow.run_once()
        assert await qbt.torrent(mp3) is None
        assert downloads.books["mp3"].is_dir()  # the data stays unless asked
        assert await qbt.torrent(downloads.hashes["m4b"]) is not None  # still seeding
        seeding = [e.message for e in store.events(book_id=books["mp3"].id) if e.kind == "seeding"]
        assert seeding and "removed" in seeding[0]
        # the seeding torrents still verify after a forced recheck
        hashes = [h for fmt, h in downloads.hashes.items() if fmt != "mp3"]
        await qbt.recheck(hashes)

        async def verified() -> list[dict[str, Any]] | None:
            torrents = await qbt.torrents(hashes)
            if len(torrents) == len(hashes) and all(
                not str(t["state"]).startswith("checking") and float(t["progress"]) == 1.0
                for t in torrents
            ):
                return torrents
            return None

        checked = await async_wait_until(verified, 60, 0.2, what="the recheck to finish")
        assert all(t["state"] not in ("error", "missingFiles") for t in checked)

    assert {fresh(store, b).state for b in books.values()} == {"in_library"}
    assert set(BOOK_STATES) >= set(IMPORT_TRANSITIONS)


async def _stopped(qbt: QBittorrentClient, digest: str) -> bool:
    torrent = await qbt.torrent(digest)
    return torrent is not None and torrent.get("state") == "stoppedUP"
