"""The Library tab in the running window, against the Audiobookshelf double.

It needs no qBittorrent (the address given is a closed port): Refresh reads the library
through the same index the workflow uses, the table scores each book and shows the covers
ABS serves, a wanted book that turns out to be owned moves to "in library", and a book's
page asks ABS to match it, after which the index, the table and the page show the result.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.models.library import Column
from gui.services.workflow import want_book
from gui.store import Store
from gui.views.main_window import LIBRARY_TAB
from gui.views.owned_details import OwnedDetailsDialog
from tests.doubles.audiobookshelf import ADMIN_KEY, TINY_JPEG, AbsServerDouble, BookSpec
from tests.gui.test_app_real import MakeApp, make_app, profile  # noqa: F401 - fixtures
from tests.harness.wait import free_port, until

BOOKS = [
    BookSpec(
        "Dune",
        authors=["Frank Herbert"],
        narrators=["Scott Brick"],
        series=[("Dune", "1")],
        genres=["Science Fiction"],
        published_year="1965",
        publisher="Macmillan Audio",
        description="Arrakis.",
        language="English",
        asin="B002V1OF70",
        cover=TINY_JPEG,
    ),
    BookSpec("Emma", authors=["Jane Austen"]),
]


def test_refresh_scores_covers_and_a_match(
    make_app: MakeApp,  # noqa: F811
    profile: Path,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store.open_in(profile)
    wanted, _ = want_book(store, "Emma", "Jane Austen")
    store.close()

    async def scenario() -> None:
        async with AbsServerDouble(include_recorded=False) as abs_double:
            abs_double.add_books(BOOKS)
            abs_double.match_results["Emma"] = {
                "publisher": "Penguin Audio",
                "narrator": "Juliet Stevenson",
                "cover": TINY_JPEG,
            }
            monkeypatch.setenv("EARMARK_ABS_TOKEN", ADMIN_KEY)
            app = make_app(f"http://127.0.0.1:{free_port()}", abs_url=abs_double.url)
            library = app.library
            model = library.model
            app.window.tabs.setCurrentIndex(LIBRARY_TAB)
            assert app.window.tabs.isTabEnabled(LIBRARY_TAB)
            library.view.refresh_button.click()
            await until(lambda: model.rowCount() == 2, "the two books in the table")
            assert "Indexed 2" in library.view.status.text()
            ids = {i["media"]["metadata"]["title"]: i["id"] for i in abs_double.items_of()}
            dune_id, emma_id = ids["Dune"], ids["Emma"]
            dune, emma = model.row_of(dune_id), model.row_of(emma_id)
            score = model.index(dune, Column.COMPLETENESS)
            assert model.data(score) == "100%"
            assert int(model.data(model.index(emma, Column.COMPLETENESS)).rstrip("%")) < 50
            # the wanted book the library owns is "in library" now
            await until(
                lambda: (
                    (b := app.store.book(wanted.id)) is not None  # type: ignore[arg-type]
                    and b.state == "in_library"
                ),
                "the wanted book to be found in the library",
            )
            # the cover is asked for when the cell is painted, and arrives
            cover = model.index(dune, Column.COVER)
            model.data(cover, Qt.ItemDataRole.DecorationRole)
            await until(lambda: model.cover_pixmap(dune_id) is not None, "Dune's cover")

            # the book's page asks Audiobookshelf to match Emma with Audible UK
            dialog = await library.open_details(emma_id)
            assert isinstance(dialog, OwnedDetailsDialog)
            dialog.match_requested.emit(emma_id, "audible.uk")
            await until(lambda: abs_double.match_calls, "the match request")
            ((item, body),) = abs_double.match_calls
            assert item == emma_id and body["provider"] == "audible.uk"
            assert body["title"] == "Emma" and body["author"] == "Jane Austen"
            await until(lambda: "matched" in dialog.match_result.text(), "the match result")
            owned = app.store.owned_book(emma_id)
            assert owned is not None and owned.publisher == "Penguin Audio" and owned.has_cover
            await until(
                lambda: (
                    int(
                        model.data(model.index(model.row_of(emma_id), Column.COMPLETENESS)).rstrip(
                            "%"
                        )
                    )
                    > 50
                ),
                "Emma's better score in the table",
            )

    qloop.run_until_complete(scenario())
