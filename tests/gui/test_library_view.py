"""The Library tab: Audiobookshelf's books from the local index, their completeness
(coloured, sorted as numbers), the filter, covers asked for lazily and only once, refreshes
that keep the selection, and the owned book's details dialog with its match request."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPixmap
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from gui.models.library import (
    GOOD_COLOUR,
    LOW_COLOUR,
    MEDIUM_COLOUR,
    THUMB_SIZE,
    Column,
    LibraryModel,
)
from gui.models.themed import on_window
from gui.services.library import owned_score
from gui.store import OwnedBook, Store
from gui.views.library_view import EMPTY_TEXT, LibraryView
from gui.views.owned_details import PROVIDERS, OwnedDetailsDialog
from tests.harness.wait import until

DECORATION = Qt.ItemDataRole.DecorationRole


def jpeg(colour: str = "#c77d2e", width: int = 200, height: int = 200) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "JPG")  # type: ignore[call-overload]  # str at run time
    return bytes(data.data())


def owned(item_id: str, title: str, **fields: object) -> OwnedBook:
    return OwnedBook(abs_item_id=item_id, library_id="lib", title=title, **fields)  # type: ignore[arg-type]


#: Every scored field: 100%.
DUNE = owned(
    "li_dune",
    "Dune",
    authors="Frank Herbert",
    narrators="Scott Brick; Orlagh Cassidy",
    series="Dune",
    sequence="1",
    isbn="9780441172719",
    year="1965",
    publisher="Macmillan Audio",
    description="Paul Atreides on the desert planet Arrakis.",
    genres="Science Fiction",
    language="English",
    has_cover=True,
    duration=21 * 3600 + 2 * 60 + 10,
    path="/audiobooks/Frank Herbert/Dune",
)
#: Some fields: a two-digit score, amber.
EMPIRE = owned(
    "li_empire",
    "The Final Empire",
    subtitle="Mistborn, Book 1",
    authors="Brandon Sanderson",
    narrators="Michael Kramer",
    series="Mistborn",
    sequence="1",
    year="2006",
    has_cover=True,
    duration=24 * 3600 + 39 * 60,
    path="/audiobooks/Brandon Sanderson/Mistborn/1 - The Final Empire",
)
#: Fewer: red.
WELL = owned(
    "li_well",
    "The Well of Ascension",
    authors="Brandon Sanderson",
    narrators="Michael Kramer",
    series="Mistborn",
    sequence="2",
    has_cover=False,
    path="/audiobooks/Brandon Sanderson/Mistborn/2 - The Well of Ascension",
)
#: Nearly nothing: a one-digit score.
TRACK = owned("li_track", "", year="2001", path="/audiobooks/Unsorted/track01")

BOOKS = [DUNE, EMPIRE, WELL, TRACK]


def ids_shown(view: LibraryView) -> list[str]:
    return [view.proxy.item_id_at(row) for row in range(view.proxy.rowCount())]


def cell(model: LibraryModel, item_id: str, column: Column) -> QModelIndex:
    return model.index(model.row_of(item_id), column)


class FakeCovers:
    """The controller's cover loader: answers per item, held back until `gate` opens."""

    def __init__(self, answers: dict[str, bytes | Exception | None]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.running = 0
        self.most_running = 0

    async def __call__(self, item_id: str) -> bytes | None:
        self.calls.append(item_id)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
            answer = self.answers[item_id]
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            self.running -= 1


def test_rows_scores_colours_numeric_sort_and_summary(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    store.replace_owned("lib", BOOKS)
    scores = {book.abs_item_id: owned_score(book).percent for book in BOOKS}
    # one, two and three digits: a sort on the text would put "100%" < "65%" < "5%"
    assert scores["li_dune"] == 100
    assert 60 <= scores["li_empire"] < 85
    assert 10 <= scores["li_well"] < 60
    assert scores["li_track"] < 10

    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future)
        view = LibraryView(model)
        qtbot.addWidget(view)
        view.resize(1200, 500)
        view.show()
        await model.reload()
        assert model.count == 4
        assert model.row_book(model.row_of("li_dune")) == store.owned_book("li_dune")

        # the texts of a row
        dune = model.row_of("li_dune")
        texts = [model.index(dune, column).data() for column in Column]
        assert texts[1:] == [
            "Dune",
            "Frank Herbert",
            "Dune #1",
            "Scott Brick, Orlagh Cassidy",
            "100%",
            "21:02",
            "/audiobooks/Frank Herbert/Dune",
        ]
        tooltip = cell(model, "li_empire", Column.TITLE).data(Qt.ItemDataRole.ToolTipRole)
        assert tooltip == "The Final Empire: Mistborn, Book 1"

        # completeness: coloured by band, the missing fields in the tooltip
        def colour(item_id: str) -> str:
            index = cell(model, item_id, Column.COMPLETENESS)
            return str(index.data(Qt.ItemDataRole.ForegroundRole).name())

        assert colour("li_dune") == GOOD_COLOUR
        assert colour("li_empire") == MEDIUM_COLOUR
        assert colour("li_well") == LOW_COLOUR
        assert colour("li_track") == LOW_COLOUR
        empire_tip = cell(model, "li_empire", Column.COMPLETENESS).data(Qt.ItemDataRole.ToolTipRole)
        assert empire_tip.startswith("Missing: ")
        assert "description" in empire_tip and "narrator" not in empire_tip
        assert cell(model, "li_dune", Column.COMPLETENESS).data(Qt.ItemDataRole.ToolTipRole) == (
            "Nothing missing"
        )

        # sorted by author first (then series position), as the view opens
        assert ids_shown(view) == ["li_track", "li_empire", "li_well", "li_dune"]
        # completeness sorts as numbers
        view.table.sortByColumn(Column.COMPLETENESS, Qt.SortOrder.AscendingOrder)
        shown = ids_shown(view)
        assert [scores[i] for i in shown] == sorted(scores.values())
        assert shown[0] == "li_track" and shown[-1] == "li_dune"
        view.table.sortByColumn(Column.COMPLETENESS, Qt.SortOrder.DescendingOrder)
        assert ids_shown(view)[0] == "li_dune"
        view.table.sortByColumn(Column.DURATION, Qt.SortOrder.DescendingOrder)
        assert ids_shown(view)[:2] == ["li_empire", "li_dune"]

        # the summary
        average = round(sum(scores.values()) / 4)
        low = sum(1 for s in scores.values() if s < 60)
        assert model.average_score == sum(scores.values()) / 4
        assert view.summary.text() == (
            f"4 books · average completeness {average}% · {low} below 60%"
        )
        view.set_status("Indexed 4 items 2 min ago")
        assert view.status.text() == "Indexed 4 items 2 min ago"
        assert view.stack.currentWidget() is view.table

    qloop.run_until_complete(scenario())


def test_filter_on_title_author_series_and_narrator(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    store.replace_owned("lib", BOOKS)

    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future)
        view = LibraryView(model)
        qtbot.addWidget(view)
        await model.reload()
        view.filter.setText("SANDERSON")
        assert sorted(ids_shown(view)) == ["li_empire", "li_well"]
        assert view.summary.text().startswith("2 of 4 books shown · ")
        view.filter.setText("orlagh")  # a narrator
        assert ids_shown(view) == ["li_dune"]
        view.filter.setText("mistborn ascension")  # series and title, any order
        assert ids_shown(view) == ["li_well"]
        view.filter.setText("final empire herbert")  # every word must match
        assert ids_shown(view) == []
        view.filter.setText("Unsorted")  # the folder is not searched
        assert ids_shown(view) == []
        view.filter.clear()
        assert len(ids_shown(view)) == 4
        assert view.summary.text().startswith("4 books · ")

    qloop.run_until_complete(scenario())


def test_covers_lazy_once_limited_cached_and_failures_remembered(
    store: Store, qloop: asyncio.AbstractEventLoop
) -> None:
    books = [
        DUNE,
        EMPIRE,
        WELL,  # no cover: never asked for
        replace(TRACK, has_cover=True),
        owned("li_broken", "Broken", has_cover=True),
        owned("li_garbage", "Garbage", has_cover=True),
    ]
    store.replace_owned("lib", books)
    covers = FakeCovers(
        {
            "li_dune": jpeg(),
            "li_empire": jpeg("#2b3a67", 300, 450),
            "li_track": None,  # ABS says there is none after all
            "li_broken": RuntimeError("Audiobookshelf answered 500"),
            "li_garbage": b"not an image",
        }
    )
    with_cover = sorted(b.abs_item_id for b in books if b.has_cover)

    async def scenario() -> None:
        model = LibraryModel(
            store, spawn=asyncio.ensure_future, cover_loader=covers, max_cover_requests=2
        )
        await model.reload()
        assert covers.calls == []  # loading the rows asks for no cover

        def paint_all() -> list[object]:
            return [
                model.data(model.index(row, Column.COVER), DECORATION)
                for row in range(model.rowCount())
            ]

        arrived: list[tuple[int, int, list[int]]] = []
        model.dataChanged.connect(
            lambda top, bottom, roles: arrived.append((top.row(), top.column(), list(roles)))
        )
        placeholders = paint_all()
        for _ in range(5):  # repeated paints while the answers are on their way
            paint_all()
        assert all(isinstance(p, QPixmap) and not p.isNull() for p in placeholders)
        await until(lambda: len(covers.calls) == 2, "the first two requests")
        assert model.cover_requests == 2
        covers.gate.set()
        await until(
            lambda: model.cover_requests == 0 and len(covers.calls) == len(with_cover),
            "every cover answered",
        )
        assert sorted(covers.calls) == with_cover  # once each, and not li_well
        assert covers.most_running == 2

        # the arrived covers: cached thumbnails, the others remembered as failed
        for item_id in ("li_dune", "li_empire"):
            pixmap = model.cover_pixmap(item_id)
            assert pixmap is not None
            assert model.data(cell(model, item_id, Column.COVER), DECORATION) is pixmap
            size = pixmap.deviceIndependentSize()
            assert round(size.height()) == THUMB_SIZE
            assert round(size.width()) == (THUMB_SIZE if item_id == "li_dune" else 32)
        for item_id in ("li_track", "li_broken", "li_garbage"):
            assert model.cover_failed(item_id)
            assert model.cover_pixmap(item_id) is None
        failed_tip = cell(model, "li_broken", Column.COVER).data(Qt.ItemDataRole.ToolTipRole)
        assert "could not be loaded" in failed_tip
        # each arrival repainted its cover cell, and only that
        cover_cells = {(model.row_of(i), int(Column.COVER)) for i in with_cover}
        assert {(row, column) for row, column, _roles in arrived} == cover_cells
        assert all(roles == [DECORATION] for _row, _column, roles in arrived)

        # painting again asks for nothing: cached or failed
        paint_all()
        paint_all()
        assert model.cover_requests == 0
        assert len(covers.calls) == len(with_cover)

        # a match may change the cover: the next paint asks again, once
        model.invalidate_cover("li_dune")
        assert model.cover_pixmap("li_dune") is None
        paint_all()
        paint_all()
        assert model.cover_requests == 1
        await until(lambda: model.cover_pixmap("li_dune") is not None, "the new cover")
        assert covers.calls.count("li_dune") == 2
        # and "try again" retries the failures
        model.forget_failed_covers()
        paint_all()
        await until(lambda: model.cover_requests == 0 and len(covers.calls) == 9, "the retries")
        assert sorted(covers.calls[6:]) == ["li_broken", "li_garbage", "li_track"]

    qloop.run_until_complete(scenario())


def test_cover_cache_is_bounded(store: Store, qloop: asyncio.AbstractEventLoop) -> None:
    books = [owned(f"li_{n}", f"Book {n}", has_cover=True) for n in range(3)]
    store.replace_owned("lib", books)
    covers = FakeCovers({b.abs_item_id: jpeg() for b in books})
    covers.gate.set()

    async def scenario() -> None:
        model = LibraryModel(
            store, spawn=asyncio.ensure_future, cover_loader=covers, cover_cache_size=2
        )
        await model.reload()
        for row in range(3):
            model.data(model.index(row, Column.COVER), DECORATION)
        await until(lambda: len(covers.calls) == 3 and model.cover_requests == 0, "3 covers")
        cached = [b.abs_item_id for b in books if model.cover_pixmap(b.abs_item_id)]
        assert len(cached) == 2
        evicted = next(b.abs_item_id for b in books if b.abs_item_id not in cached)
        model.data(cell(model, evicted, Column.COVER), DECORATION)
        await until(lambda: model.cover_pixmap(evicted) is not None, "the evicted cover")
        assert covers.calls.count(evicted) == 2

    qloop.run_until_complete(scenario())


def test_the_view_paints_covers_of_books_that_have_one(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    store.replace_owned("lib", [DUNE, WELL, EMPIRE])
    covers = FakeCovers({"li_dune": jpeg(), "li_empire": jpeg("#2b3a67")})
    covers.gate.set()

    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future, cover_loader=covers)
        view = LibraryView(model)
        qtbot.addWidget(view)
        view.resize(1100, 400)
        await model.reload()
        assert covers.calls == []  # nothing shown yet
        view.show()
        await until(
            lambda: model.cover_pixmap("li_dune") and model.cover_pixmap("li_empire"),
            "the painted covers",
        )
        assert sorted(covers.calls) == ["li_dune", "li_empire"]
        assert view.table.verticalHeader().defaultSectionSize() >= THUMB_SIZE

    qloop.run_until_complete(scenario())


def test_reload_keeps_rows_and_selection_and_applies_changes(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    store.replace_owned("lib", [DUNE, EMPIRE, WELL])

    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future)
        view = LibraryView(model)
        qtbot.addWidget(view)
        view.resize(1100, 400)
        view.show()
        await model.reload()
        view.select_item("li_empire")
        assert view.selected_item_id() == "li_empire"

        signals: list[str] = []
        changed_rows: list[int] = []
        model.modelReset.connect(lambda: signals.append("reset"))
        model.rowsRemoved.connect(lambda _p, first, last: signals.append(f"removed {first}"))
        model.rowsInserted.connect(lambda _p, first, last: signals.append(f"inserted {first}"))
        model.dataChanged.connect(lambda top, _bottom, _roles: changed_rows.append(top.row()))

        # the same books again (the index rewrites ids and times): nothing to repaint
        store.replace_owned("lib", [DUNE, EMPIRE, WELL])
        await model.reload()
        assert signals == [] and changed_rows == []

        # one changed, one removed, one new
        well_row = model.row_of("li_well")
        matched = replace(EMPIRE, description="A heist in a world of ash.", asin="B002UZMLXM")
        fresh = owned("li_circe", "Circe", authors="Madeline Miller")
        store.replace_owned("lib", [DUNE, matched, fresh])
        await model.reload()
        assert "reset" not in signals
        assert signals == [f"removed {well_row}", "inserted 2"]
        assert changed_rows == [model.row_of("li_empire")]
        assert model.row_book(model.row_of("li_empire")).description.startswith("A heist")
        assert model.row_of("li_well") == -1 and model.book("li_circe") is not None
        assert view.selected_item_id() == "li_empire"  # the selection survived
        new_score = owned_score(matched).percent
        assert cell(model, "li_empire", Column.COMPLETENESS).data() == f"{new_score}%"
        assert model.count == 3
        now = [owned_score(b).percent for b in (DUNE, matched, fresh)]
        assert model.average_score == sum(now) / 3
        assert view.summary.text().startswith(
            f"3 books · average completeness {round(sum(now) / 3)}%"
        )

        # a change alone (no row added or removed) moves the summary too
        store.replace_owned("lib", [DUNE, matched, replace(fresh, narrators="Perdita Weeks")])
        await model.reload()
        assert model.average_score > sum(now) / 3

    qloop.run_until_complete(scenario())


def test_details_by_double_click_enter_and_menu_and_copy_path(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    store.replace_owned("lib", BOOKS)

    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future)
        view = LibraryView(model)
        qtbot.addWidget(view)
        view.resize(1100, 400)
        view.show()
        await model.reload()
        asked: list[str] = []
        view.details_requested.connect(asked.append)

        index = view.proxy.mapFromSource(cell(model, "li_well", Column.TITLE))
        centre = view.table.visualRect(index).center()
        for press in (QTest.mouseClick, QTest.mouseDClick):  # as a user: press, then again
            press(
                view.table.viewport(),
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
                centre,
            )
        assert asked == ["li_well"]

        view.select_item("li_dune")
        view.activateWindow()
        view.table.setFocus()
        await until(lambda: view.table.hasFocus(), "the table's focus")
        QTest.keyClick(view.table, Qt.Key.Key_Return)
        assert asked == ["li_well", "li_dune"]

        view.select_item("li_empire")
        menu = view.context_menu()
        texts = [action.text() for action in menu.actions()]
        assert texts == ["Details…", "Copy folder path"]
        view.details_action.trigger()
        assert asked[-1] == "li_empire"
        view.copy_path_action.trigger()
        assert QGuiApplication.clipboard().text() == EMPIRE.path
        menu.close()

        # nothing selected: nothing to ask for
        view.table.clearSelection()
        view.context_menu().close()
        assert not view.details_action.isEnabled()

        refreshes: list[bool] = []
        view.refresh_requested.connect(lambda: refreshes.append(True))
        view.refresh_button.click()
        assert refreshes == [True]

    qloop.run_until_complete(scenario())


def test_empty_library_says_what_to_do(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future)
        view = LibraryView(model)
        qtbot.addWidget(view)
        await model.reload()
        assert view.stack.currentWidget() is view.empty
        assert view.empty.text() == EMPTY_TEXT
        assert view.summary.text() == ""
        store.replace_owned("lib", [DUNE])
        await model.reload()
        assert view.stack.currentWidget() is view.table
        assert view.summary.text().startswith("1 book · ")

    qloop.run_until_complete(scenario())


def test_details_dialog_fields_missing_and_match(qtbot: QtBot) -> None:
    dialog = OwnedDetailsDialog(EMPIRE, provider="audible.uk")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.isModal()
    assert dialog.windowTitle() == "Book details — The Final Empire"
    assert dialog.values["title"].text() == "The Final Empire"
    assert dialog.values["subtitle"].text() == "Mistborn, Book 1"
    assert dialog.values["authors"].text() == "Brandon Sanderson"
    assert dialog.values["series"].text() == "Mistborn, book 1"
    assert dialog.values["duration"].text() == "24:39 (h:mm)"
    assert dialog.values["path"].text() == EMPIRE.path
    assert dialog.values["isbn"].text() == "–"  # unknown
    score = owned_score(EMPIRE)
    assert dialog.score_bar.value() == score.percent
    missing = dialog.missing.text()
    for label in score.missing:
        assert f"• {label}   +" in missing
    assert "+10%" in missing  # the description's worth on a 100-point book
    assert "narrator" not in missing
    assert dialog.cover.text() == "Loading cover…"  # it has one, not here yet

    # the cover arrives, or turns out to be missing
    dialog.set_cover(jpeg())
    assert dialog.cover.pixmap() is not None and not dialog.cover.pixmap().isNull()
    dialog.set_cover(None)
    assert dialog.cover.text() == "No cover"

    # the match request, with the provider chosen
    assert [dialog.provider.itemData(i) for i in range(dialog.provider.count())] == list(PROVIDERS)
    assert dialog.chosen_provider == "audible.uk"
    dialog.provider.setCurrentIndex(dialog.provider.findData("openlibrary"))
    with qtbot.waitSignal(dialog.match_requested) as blocker:
        dialog.match_button.click()
    assert blocker.args == ["li_empire", "openlibrary"]
    dialog.set_busy(True)
    assert not dialog.match_button.isEnabled()
    assert not dialog.provider.isEnabled()
    dialog.set_busy(False)
    dialog.show_result(False, "Audiobookshelf found no match on Open Library")
    assert dialog.match_result.isVisible()
    assert dialog.match_result.text() == "Audiobookshelf found no match on Open Library"
    assert on_window(LOW_COLOUR) in dialog.match_result.styleSheet()
    dialog.show_result(True, "Matched: description and ISBN filled in")
    assert on_window(GOOD_COLOUR) in dialog.match_result.styleSheet()
    assert dialog.match_button.isEnabled()

    # the book after the match
    matched = replace(EMPIRE, description="A heist in a world of ash.", isbn="9780765311788")
    dialog.set_book(matched)
    assert dialog.description.toPlainText() == "A heist in a world of ash."
    assert dialog.values["isbn"].text() == "9780765311788"
    assert dialog.score_bar.value() == owned_score(matched).percent
    assert "description" not in dialog.missing.text()
    assert dialog.chosen_provider == "openlibrary"  # kept

    full = OwnedDetailsDialog(DUNE)
    qtbot.addWidget(full)
    assert full.chosen_provider == "audible"
    assert full.missing.text() == "Nothing missing."
    nothing = OwnedDetailsDialog(WELL)
    qtbot.addWidget(nothing)
    assert nothing.cover.text() == "No cover"


def test_the_model_sorts_series_positions_as_numbers_and_keeps_the_selection(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    """The model sorts (the proxy only filters): "#2" comes before "#10", a reload that
    adds a book puts it in its place, and the selected book stays selected."""
    books = [
        OwnedBook(f"li_{n}", "lib", f"Book {n}", authors="A", series="Saga", sequence=str(n))
        for n in (10, 2, 1)
    ]
    store.replace_owned("lib", books)

    async def scenario() -> None:
        model = LibraryModel(store, spawn=asyncio.ensure_future)
        view = LibraryView(model)
        qtbot.addWidget(view)
        await model.reload()
        view.table.sortByColumn(Column.SERIES, Qt.SortOrder.AscendingOrder)

        def shown() -> list[str]:
            return [
                view.proxy.index(row, Column.SERIES).data() for row in range(view.proxy.rowCount())
            ]

        assert shown() == ["Saga #1", "Saga #2", "Saga #10"]
        view.select_item("li_10")
        store.replace_owned(
            "lib", [*books, OwnedBook("li_3", "lib", "Book 3", authors="A", series="Saga",
                                      sequence="3")]
        )  # fmt: skip
        await model.reload()
        assert shown() == ["Saga #1", "Saga #2", "Saga #3", "Saga #10"]
        assert view.selected_item_id() == "li_10"
        view.table.sortByColumn(Column.SERIES, Qt.SortOrder.DescendingOrder)
        assert shown()[0] == "Saga #10" and view.selected_item_id() == "li_10"

    qloop.run_until_complete(scenario())


def test_a_reload_plan_is_made_off_the_gui_thread_and_holds_only_the_changes() -> None:
    """`plan_reload` (worker thread) leaves the GUI thread the changes alone: nothing for
    an unchanged library, the changed rows and the new order for a changed one."""
    from gui.models.library import make_rows, plan_reload
    from gui.store import OwnedBook

    def book(n: int, title: str = "") -> OwnedBook:
        return OwnedBook(f"li_{n}", "lib", title or f"Title {n}", authors=f"Author {n % 7}")

    base = make_rows([book(n) for n in range(10)], {})
    base.sort(key=lambda row: row.sort_keys[2])
    same = plan_reload(base, [book(n) for n in range(10)], (2, False))
    assert same.removed == [] and same.changed == [] and same.added == []
    assert same.ordered is None and [r.item_id for r in same.kept] == [r.item_id for r in base]
    assert all(new is old for new, old in zip(same.kept, base, strict=True))

    books = [book(n, "Renamed" if n == 3 else "") for n in range(10) if n not in (4, 5, 8)]
    books.append(book(42))
    changed = plan_reload(base, books, (1, False))  # by title
    numbers = {row.item_id: n for n, row in enumerate(base)}
    gone = sorted(numbers[f"li_{n}"] for n in (4, 5, 8))
    assert all(last >= first for first, last in changed.removed)
    assert sorted(i for first, last in changed.removed for i in range(first, last + 1)) == gone
    assert changed.removed == sorted(changed.removed, reverse=True)  # bottom first
    assert [changed.kept[n].book.title for n in changed.changed] == ["Renamed"]
    assert [row.item_id for row in changed.added] == ["li_42"]
    assert changed.ordered is not None
    titles = [row.book.title for row in changed.ordered]
    assert titles == sorted(titles, key=str.casefold)
    assert changed.row_of == {row.item_id: n for n, row in enumerate(changed.ordered)}
