"""The import seen from the window, against a real qBittorrent and real audio files.

A finished download whose metadata match is not sure enough waits in the Wanted view as
"Review metadata" and the user is told; the book's page shows before and after; the
user's edit is what the tags say; the copy's progress shows in the Wanted view and the
status bar; "Added to your library" is announced and the Library tab lists the book.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gui.clients.metadata_providers import OpenLibraryProvider
from gui.core.tagging import read_tags
from gui.models.queue import STATE_COLUMN
from gui.services.workflow import Workflow, want_book
from gui.store import Store
from gui.views.book_details import BookDetailsDialog
from tests.doubles.audiobookshelf import ADMIN_KEY, AbsServerDouble, BookSpec
from tests.doubles.metadata_providers import OpenLibraryDouble
from tests.gui.test_app_real import MakeApp, make_app, profile  # noqa: F401 - fixtures
from tests.harness.audiobook import AUTHOR, build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QbtInstance
from tests.harness.wait import async_wait_until, until

pytestmark = pytest.mark.qbt

TITLE = "Quiet Harbour"
DOCS = [
    {
        "cover_i": 4242,
        "title": TITLE,
        "author_name": [AUTHOR],
        "first_publish_year": 1999,
        "key": "/works/OL4242W",
        "publisher": ["Harbour Books"],
    }
]
WORKS = {"/works/OL4242W": {"title": TITLE, "key": "/works/OL4242W", "covers": [4242]}}


def test_a_review_in_the_window_then_the_book_is_in_the_library(
    qbt: QbtInstance,
    make_app: MakeApp,  # noqa: F811
    profile: Path,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = make_audiobook(qbt.downloads, TITLE, files=3, fmt="mp3")
    torrent = build_torrent(folder)
    digest = info_hash(torrent)
    admin = qbt.admin()
    admin.add_torrent(torrent, savepath=str(folder.parent))
    admin.wait_for_torrent(digest, 30.0, progress=1)
    store = Store.open_in(profile)
    book, _ = want_book(store, TITLE, AUTHOR)
    book.torrent_hash = digest
    store.set_state(book, "downloaded", event="download complete (test)")
    store.close()
    assert book.id is not None
    library = tmp_path / "library"
    library.mkdir()

    async def scenario() -> None:
        async with (
            AbsServerDouble(include_recorded=False) as abs_double,
            OpenLibraryDouble(docs=DOCS, works=WORKS) as open_library,
        ):
            monkeypatch.setenv("EARMARK_ABS_TOKEN", ADMIN_KEY)
            app = make_app(
                qbt.url,
                library_dir=str(library),
                abs_url=abs_double.url,
                abs_library_id=abs_double.library_id,
                enhance_metadata=True,
                auto_apply_threshold=1.01,  # every match waits for the user
            )
            # the providers of the settings are on the internet: the double stands in
            build = app._build_workflow

            def with_double(client: object) -> Workflow:
                workflow = build(client)  # type: ignore[arg-type]
                assert workflow.importer is not None
                workflow.importer.providers_factory = lambda: (
                    OpenLibraryProvider(base_url=open_library.url, covers_url=open_library.url),
                )
                return workflow

            app._build_workflow = with_double  # type: ignore[method-assign]
            shown: list[str] = []
            show = app.window.show_import_progress
            app.window.show_import_progress = lambda text: (shown.append(text), show(text))  # type: ignore[method-assign]

            def queued() -> object:
                found = app.queue_model.book(book.id)  # type: ignore[arg-type]
                return found if found and found.state == "importing" and found.reason else None

            waiting = await async_wait_until(queued, 60, what="the book to wait for a review")
            row = app.queue_model.row_of(book.id)  # type: ignore[arg-type]
            state_cell = app.queue_model.index(row, STATE_COLUMN)
            assert app.queue_model.data(state_cell) == "Review metadata"
            await until(
                lambda: any("Metadata to review" in n for n in app.window.notices.texts()),
                "the review notice",
            )
            assert list(library.iterdir()) == []

            dialog = await app.open_book_details(waiting)  # type: ignore[arg-type]
            assert isinstance(dialog, BookDetailsDialog) and dialog.review is not None
            assert dialog.rows["publisher"].text() == "Harbour Books"  # the proposal
            dialog.rows["narrators"].set_text("Edited Reader")
            abs_double.add_on_disk(BookSpec(TITLE, authors=[AUTHOR]))
            dialog.apply_button.click()

            def imported() -> object:
                found = app.store.book(book.id)  # type: ignore[arg-type]
                return found if found and found.state == "in_library" else None

            done = await async_wait_until(imported, 60, what="the import to finish")
            assert done.abs_item_id in {item["id"] for item in abs_double.items_of()}
            assert done.library_path == str(library / AUTHOR / f"{TITLE} {{Edited Reader}}")
            for track in Path(done.library_path).glob("*.mp3"):  # noqa: ASYNC240
                assert read_tags(track).narrators == ("Edited Reader",)
            await until(lambda: "Imported into" in dialog.message.text(), "the dialog's result")
            await until(
                lambda: any("Added to your library" in n for n in app.window.notices.texts()),
                "the added-to-library notice",
            )
            assert shown and shown[-1] == ""  # the status bar's import line went away
            assert any(text.startswith("Importing 'Quiet Harbour'") for text in shown) or (
                shown == [""]  # a tiny book may copy within one progress interval
            )
            await until(lambda: app.library.model.rowCount() == 1, "the book in the Library tab")
            assert app.store.review(book.id) is None  # type: ignore[arg-type]

    qloop.run_until_complete(scenario())
