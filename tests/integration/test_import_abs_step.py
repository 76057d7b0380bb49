"""The Audiobookshelf confirmation is a step of its own after the import.

Once the files are copied and tagged the import has succeeded: Audiobookshelf failing
while Earmark waits for its scan is a note, the book is `in_library` (not sent back as a
qBittorrent failure), and a later pass asks Audiobookshelf again. Audiobookshelf
unreachable or refusing the key from the start is a setting to fix: `earmark import`
exits 1 with that reason, the copy kept. Real qbittorrent-nox, the ABS double.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from gui.clients.audiobookshelf import AbsClient
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.ranking import RankingPolicy
from gui.services.importing import Importer, ImportOptions
from gui.services.workflow import Workflow, WorkflowSettings, want_book
from gui.settings import Settings, save_settings
from gui.store import Store
from tests.doubles.audiobookshelf import ADMIN_KEY, AbsServerDouble, BookSpec
from tests.harness.audiobook import AUTHOR, build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import async_wait_until, free_port
from tests.integration.test_workflow import cli

TITLE = "Step Book"


def seed_complete_book(qbt: QbtInstance) -> str:
    """A finished download: the data in qBittorrent's folder, the torrent checked at 100 %."""
    folder = make_audiobook(qbt.downloads, TITLE, files=2, seconds=1)
    torrent = build_torrent(folder)
    digest = info_hash(torrent)
    admin = qbt.admin()
    admin.add_torrent(torrent, savepath=str(qbt.downloads))
    admin.wait_for_torrent(digest, 30.0, progress=1)
    return digest


def env_for(
    qbt: QbtInstance, profile: Path, library: Path, abs_url: str, key: str
) -> dict[str, str]:
    return {
        **os.environ,
        "EARMARK_CONFIG_DIR": str(profile),
        "EARMARK_QBT_URL": qbt.url,
        "EARMARK_QBT_USERNAME": QBT_USER,
        "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
        "EARMARK_ABS_URL": abs_url,
        "EARMARK_ABS_TOKEN": key,
        "EARMARK_LIBRARY_DIR": str(library),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


async def stop_after_the_scan_is_accepted(double: AbsServerDouble) -> None:
    """Audiobookshelf goes away while Earmark waits for the scan it asked for."""
    await async_wait_until(lambda: double.scans, 30, what="the scan request")
    await double.__aexit__(None, None, None)


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_abs_failing_during_the_scan_is_a_note_and_the_step_is_retried(
    qbt: QbtInstance, tmp_path: Path
) -> None:
    digest = seed_complete_book(qbt)
    library = tmp_path / "library"
    library.mkdir()
    store = Store.open_in(tmp_path / "profile")
    clock = Clock()
    try:
        book, _ = want_book(store, TITLE, AUTHOR)
        book.torrent_hash = digest
        store.set_state(book, "downloaded", event="download complete (test)")
        first = AbsServerDouble(include_recorded=False)
        await first.__aenter__()
        first.scan_gate = asyncio.Event()  # the scan never finishes: ABS dies meanwhile
        abs_url = [first.url]
        options = ImportOptions(
            library_dir=str(library), abs_library_id=first.library_id, scan_timeout=20.0
        )
        importer = Importer(options, abs_factory=lambda: AbsClient(abs_url[0], ADMIN_KEY))
        async with QBittorrentClient(QbtConfig(qbt.url, QBT_USER, QBT_PASSWORD)) as client:
            workflow = Workflow(
                store,
                qbt=client,
                indexers=[],
                library=None,
                policy=RankingPolicy(),
                settings=WorkflowSettings(category="audiobooks"),
                importer=importer,
                clock=clock,
            )
            killer = asyncio.create_task(stop_after_the_scan_is_accepted(first))
            report = await workflow.import_book(store.book(book.id))  # type: ignore[arg-type]
            await killer
            assert report is not None and report.abs_item_id is None
            assert report.abs_error is None  # ABS was reached: not a setting to fix
            after = store.book(book.id)  # type: ignore[arg-type]
            assert after is not None and after.state == "in_library", after
            assert after.reason and "waited for its scan" in after.reason
            assert workflow._qbt_failure is None  # not taken for a qBittorrent failure
            copies = await asyncio.to_thread(lambda: list(Path(report.library_path).glob("*.mp3")))
            assert len(copies) == 2

            async with AbsServerDouble(include_recorded=False) as second:
                second.add_on_disk(BookSpec(TITLE, authors=[AUTHOR]))
                abs_url[0] = second.url
                await workflow.run_once()
                assert store.book(book.id).abs_item_id is None  # type: ignore[union-attr]
                assert second.scans == []  # not asked again at once
                clock.offset += 301  # the retry is due
                await workflow.run_once()
            confirmed = store.book(book.id)  # type: ignore[arg-type]
            assert confirmed is not None and confirmed.state == "in_library"
            assert confirmed.abs_item_id and confirmed.reason is None
            events = [e.message for e in store.events(book_id=book.id)]
            assert f"in Audiobookshelf as item {confirmed.abs_item_id}" in events
            await workflow.aclose()
    finally:
        store.close()


async def test_cli_import_exit_codes_follow_what_abs_did(qbt: QbtInstance, tmp_path: Path) -> None:
    digest = seed_complete_book(qbt)
    async with AbsServerDouble(include_recorded=False) as double:
        profile = tmp_path / "profile"
        save_settings(Settings(abs_library_id=double.library_id), profile)

        # unreachable: exit 1 with the reason, the copy kept
        library = tmp_path / "library-1"
        library.mkdir()
        down = env_for(qbt, profile, library, f"http://127.0.0.1:{free_port()}/", ADMIN_KEY)
        code, out, err = await cli(down, "import", digest, "--json")
        assert (code, out) == (1, ""), err
        assert "Audiobookshelf was not told about the book" in err and "copy is kept" in err
        assert len(list(library.rglob("*.mp3"))) == 2

        # the key refused: the same
        library = tmp_path / "library-2"
        library.mkdir()
        refused = env_for(qbt, profile, library, double.url, "not-the-key")
        code, out, err = await cli(refused, "import", digest)
        assert code == 1 and "Audiobookshelf was not told about the book" in err, err
        assert len(list(library.rglob("*.mp3"))) == 2

        # failing while Earmark waits for the scan: the import succeeded
        library = tmp_path / "library-3"
        library.mkdir()
        double.scan_gate = asyncio.Event()
        killer = asyncio.create_task(stop_after_the_scan_is_accepted(double))
        code, out, err = await cli(
            env_for(qbt, profile, library, double.url, ADMIN_KEY), "import", digest, "--json"
        )
        await killer
    assert code == 0, err
    document = json.loads(out)
    assert document["abs_item_id"] is None and document["library_path"].startswith(str(library))
    assert "waited for its scan" in err
