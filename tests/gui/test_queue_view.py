"""The wanted view: states and last events, colours, reordering (persisted), the book
dialog's identifiers, refreshes that keep the selection, and the CSV import's report."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from gui.controller import AppController
from gui.models.downloads import PROGRESS_ROLE
from gui.models.queue import MIME_TYPE, REVIEW_COLOURS, STATE_COLUMN, QueueModel
from gui.services.status import Link, Status
from gui.services.workflow import WorkflowError
from gui.settings import SecretStore, Settings
from gui.store import Book, OwnedBook, Store
from gui.views.queue_view import BookDialog, ImportReportDialog, QueueView
from gui.views.settings_dialog import SettingsDialog
from tests.doubles.indexers import FakeIndexer, ProwlarrDouble, fake_release, torrent_info_hash
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import until


def want(store: Store, *titles: str) -> list[Book]:
    books = []
    for title in titles:
        book = store.add_book(Book(title, "Frank Herbert"))
        assert book.id is not None
        store.add_event(book.id, "wanted", "added to the wanted queue")
        books.append(book)
    return books


def shown_titles(view: QueueView) -> list[str]:
    return [view.proxy.index(row, 0).data() for row in range(view.proxy.rowCount())]


def wired(model: QueueModel, qtbot: QtBot) -> QueueView:
    """The view, wired to the model as the controller does it."""
    view = QueueView(model)
    qtbot.addWidget(view)
    model.reorder_requested.connect(lambda ids, row: asyncio.ensure_future(model.move(ids, row)))
    view.move_requested.connect(
        lambda ids, step, visible: asyncio.ensure_future(model.move_by(ids, step, visible))
    )
    view.resize(1100, 400)
    view.show()
    return view


def test_states_last_events_and_colours(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    dune, messiah, children = want(store, "Dune", "Dune Messiah", "Children of Dune")
    store.set_state(dune, "in_library", event="already in your Audiobookshelf library: Dune")
    store.set_state(messiah, "failed", reason="no release found after 10 searches (no results)")
    store.set_state(children, "searching", event="searching AudioBook Bay (Jackett)")

    async def scenario() -> None:
        model = QueueModel(store)
        view = wired(model, qtbot)
        await model.reload()
        assert [model.index(r, 5).data() for r in range(3)] == [
            "In library",
            "Failed",
            "Searching",
        ]
        assert model.index(2, 6).data().endswith("searching AudioBook Bay (Jackett)")
        assert ":" in model.index(2, 6).data().split()[0]  # today's events by the clock
        assert model.index(1, 6).data().endswith("no release found after 10 searches (no results)")
        # the reason as the tooltip; states coloured subtly
        assert model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole).startswith("no release found")
        red = model.index(1, 5).data(Qt.ItemDataRole.ForegroundRole)
        green = model.index(0, 5).data(Qt.ItemDataRole.ForegroundRole)
        assert isinstance(red, QColor) and red.red() > 150 and red.green() < 100
        assert isinstance(green, QColor) and green.green() > red.green()
        assert model.index(2, 5).data(Qt.ItemDataRole.ForegroundRole) is None
        assert [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)] == [
            "Title",
            "Author",
            "Narrator",
            "Series",
            "#",
            "State",
            "Last event",
        ]

    qloop.run_until_complete(scenario())


def test_reorder_by_buttons_and_by_drop_persists(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    books = want(store, "One", "Two", "Three", "Four", "Five")
    ids = {b.title: b.id for b in books}
    for book in books:
        if book.title in ("Two", "Three"):
            book.series = "Cosmere"
            store.update_book(book)

    def stored() -> list[str]:
        return [b.title for b in store.books()]

    async def scenario() -> None:
        model = QueueModel(store)
        view = wired(model, qtbot)

        async def settled(expected: list[str], what: str) -> None:
            """The store is written first, then the rows move: wait for both."""
            await until(lambda: stored() == expected and shown_titles(view) == expected, what)

        await model.reload()
        view.select_book(ids["Three"] or 0)
        view.up_button.click()
        await settled(["One", "Three", "Two", "Four", "Five"], "move up")
        assert [b.title for b in view.selected_books()] == ["Three"]  # the selection follows
        view.down_button.click()
        view.down_button.click()
        await settled(["One", "Two", "Four", "Three", "Five"], "move down x2")

        # a drag of "Five" dropped before the first row (what the view's drop calls)
        row = model.row_of(ids["Five"] or 0)
        mime = model.mimeData([model.index(row, 0)])
        assert mime.hasFormat(MIME_TYPE)
        assert view.proxy.canDropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
        view.proxy.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
        await settled(["Five", "One", "Two", "Four", "Three"], "drop at top")
        # two rows dropped at the end (after the last row)
        mime = model.mimeData([model.index(0, 0), model.index(2, 0)])
        view.proxy.dropMimeData(mime, Qt.DropAction.MoveAction, 5, 0, QModelIndex())
        await settled(["One", "Four", "Three", "Five", "Two"], "drop at end")
        assert shown_titles(view) == stored()

        # with a filter, "up" passes the visible neighbour (hidden rows in between stay)
        view.search.setText("cosmere")  # Two, Three
        assert shown_titles(view) == ["Three", "Two"]
        assert not view.table.dragEnabled()  # no drops between hidden rows
        view.select_book(ids["Two"] or 0)
        view.up_button.click()
        await until(
            lambda: (
                stored() == ["One", "Four", "Two", "Three", "Five"]
                and shown_titles(view) == ["Two", "Three"]
            ),
            "filtered up",
        )

        # a fresh model (a restart) reads the same order
        fresh = QueueModel(store)
        await fresh.reload()
        assert [fresh.book_at(r).title for r in range(5)] == stored()

    qloop.run_until_complete(scenario())


def test_refresh_applies_outside_changes_and_keeps_the_selection(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    one, two, three = want(store, "One", "Two", "Three")

    async def scenario() -> None:
        model = QueueModel(store)
        view = wired(model, qtbot)
        await model.reload()
        view.select_book(two.id or 0)
        resets: list[bool] = []
        model.modelReset.connect(lambda: resets.append(True))
        changed: list[int] = []
        model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))

        # the workflow moves a book on, the CLI adds one and removes another
        store.set_state(two, "grabbed", event="chose 'Two [M4B]'")
        want(store, "Four")
        store.remove_book(one.id or 0)
        store.move_book(three.id or 0, 0)  # to the top
        assert await model.refresh()
        assert shown_titles(view) == ["Three", "Two", "Four"]
        assert model.index(1, 5).data() == "Grabbed"
        assert "chose 'Two [M4B]'" in model.index(1, 6).data()
        assert [b.title for b in view.selected_books()] == ["Two"]
        assert not resets  # no reset: rows were removed, added, moved, changed
        assert 1 in changed
        assert not await model.refresh()  # nothing new: nothing signalled

    qloop.run_until_complete(scenario())


def test_an_edit_keeps_what_the_workflow_did_meanwhile(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    [book] = want(store, "Dune")

    async def scenario() -> None:
        model = QueueModel(store)
        await model.reload()
        stale = model.book_at(0)
        dialog = BookDialog(stale)
        qtbot.addWidget(dialog)
        saved: list[Book] = []
        dialog.saved.connect(saved.append)
        # the workflow grabs the book while the dialog is open
        current = store.book(book.id or 0)
        assert current is not None
        current.torrent_hash = "b" * 40
        store.set_state(current, "downloading", event="added to qBittorrent")
        dialog.narrator.setText("Scott Brick")
        dialog.format.setCurrentIndex(dialog.format.findData("m4b"))
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        [edited] = saved
        await model.update(edited)
        after = store.book(book.id or 0)
        assert after is not None
        assert (after.narrator, after.preferred_format) == ("Scott Brick", "m4b")
        assert (after.state, after.torrent_hash) == ("downloading", "b" * 40)
        assert model.index(0, 2).data() == "Scott Brick"
        assert store.events(book_id=book.id, limit=1)[0].message == (
            "edited: narrator, preferred format"
        )

    qloop.run_until_complete(scenario())


def test_the_book_dialog_checks_identifiers(qtbot: QtBot) -> None:
    dialog = BookDialog(None)
    qtbot.addWidget(dialog)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    dialog.title.setText("Dune")
    dialog.author.setText("Frank Herbert")
    assert save.isEnabled()
    dialog.asin.setText("B00")
    assert not save.isEnabled() and "ASIN" in dialog.problem.text()
    dialog.asin.setText("b002v1of70")
    dialog.isbn.setText("12345")
    assert not save.isEnabled() and "ISBN" in dialog.problem.text()
    dialog.isbn.setText("978-0-441-17271-9")
    assert save.isEnabled()
    dialog.language.setText("English")
    assert [dialog.format.itemText(i) for i in range(dialog.format.count())] == [
        "Any",
        "m4b",
        "mp3",
        "flac",
        "opus",
    ]
    dialog.format.setCurrentIndex(dialog.format.findData("flac"))
    saved: list[Book] = []
    dialog.saved.connect(saved.append)
    save.click()
    [book] = saved
    assert (book.asin, book.isbn, book.language, book.preferred_format) == (
        "B002V1OF70",
        "978-0-441-17271-9",
        "English",
        "flac",
    )
    edit = BookDialog(book)
    qtbot.addWidget(edit)
    assert edit.format.currentText() == "flac" and edit.asin.text() == "B002V1OF70"


# ---- through the window: import and the history shortcut ---------------------------------


GOODREADS = (
    "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,"
    "Publisher,Binding,Number of Pages,Year Published,Original Publication Year,Date Read,"
    "Date Added,Bookshelves,Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,"
    "Private Notes,Read Count,Owned Copies\n"
    '1,"Dune (Dune, #1)",Frank Herbert,"Herbert, Frank",,"=""0441172717""",'
    '"=""9780441172719""",0,4.27,Ace,Paperback,688,1990,1965,,2024/01/02,to-read,'
    "to-read (#1),to-read,,,,0,0\n"
    '2,"The Way of Kings (The Stormlight Archive, #1)",Brandon Sanderson,"Sanderson, Brandon",'
    ',"=""0765326353""","=""9780765326355""",0,4.6,Tor,Hardcover,1007,2010,2010,,2024/01/03,'
    "to-read,to-read (#2),to-read,,,,0,0\n"
    '3,"The Hobbit",J.R.R. Tolkien,"Tolkien, J.R.R.",,"=""""","=""""",0,4.3,Mariner,Paperback,'
    "300,2012,1937,,2024/01/04,to-read,to-read (#3),to-read,,,,0,0\n"
    '4,"Piranesi",Susanna Clarke,"Clarke, Susanna",,"=""""","=""""",5,4.2,Bloomsbury,Hardcover,'
    "272,2020,2020,2024/02/01,2024/01/05,read,read (#1),read,,,,1,0\n"
    '5,"",Nobody,"Nobody, A",,"=""""","=""""",0,0,X,Paperback,1,2000,2000,,2024/01/06,to-read,'
    "to-read (#4),to-read,,,,0,0\n"
    '6,"Hyperion",Dan Simmons,"Simmons, Dan",,"=""""","=""""",0,4.2,Bantam,Paperback,482,1990,'
    "1989,,2024/01/07,to-read,to-read (#5),to-read,,,,0,0,EXTRA\n"
    '7,"Children of Dune (Dune, #3)",Frank Herbert,"Herbert, Frank",,"=""""","=""""",0,4.0,'
    "Ace,Paperback,444,1987,1976,,2024/01/08,to-read,to-read (#6),to-read,,,,0,0\n"
)


@pytest.fixture
def window_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> Iterator[AppController]:
    """The window without qBittorrent (its settings dialog opens; nothing else needs it)."""
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    app = AppController(Settings(), SecretStore(), Store.open_in(profile))
    yield app
    qloop.run_until_complete(app.shutdown())
    app.window.close()
    app.store.close()


def test_csv_import_reports_added_skipped_and_rejected(
    window_app: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    app = window_app
    csv_file = tmp_path / "goodreads_library_export.csv"
    csv_file.write_text(GOODREADS, encoding="utf-8")
    [already] = want(app.store, "Children of Dune")
    app.store.replace_owned(
        "lib1",
        [OwnedBook("item-1", "lib1", "The Hobbit", authors="J. R. R. Tolkien", path="/books/h")],
    )

    async def scenario() -> None:
        app.start()
        await until(lambda: app.queue_model.rowCount() == 1, "the queue")
        plan = await app.import_csv(str(csv_file))
        assert plan.summary() == "2 added, 2 skipped, 3 rejected"
        dialogs = [d for d in app.window.findChildren(ImportReportDialog) if d.isVisible()]
        [report] = dialogs
        assert not report.isModal()
        tabs = [report.tabs.tabText(i) for i in range(report.tabs.count())]
        assert tabs == ["Added (2)", "Skipped (2)", "Rejected (3)"]
        skipped = {
            report.skipped_list.topLevelItem(i).text(1): report.skipped_list.topLevelItem(i).text(2)
            for i in range(report.skipped_list.topLevelItemCount())
        }
        assert skipped == {
            "The Hobbit — J.R.R. Tolkien": "already in your library: The Hobbit",
            "Children of Dune — Frank Herbert": "already on the wanted queue",
        }
        rejected = [
            report.rejected_list.topLevelItem(i).text(2)
            for i in range(report.rejected_list.topLevelItemCount())
        ]
        assert rejected == [
            "on the 'read' shelf, not 'to-read'",
            "missing title",
            "malformed row: 25 fields, the header has 24",
        ]
        assert "Goodreads export" in report.summary.text()

        model = app.queue_model
        assert [model.book_at(r).title for r in range(model.rowCount())] == [
            "Children of Dune",
            "Dune",
            "The Way of Kings",
        ]
        kings = model.book_at(2)
        assert (kings.series, kings.position, kings.isbn) == (
            "The Stormlight Archive",
            "1",
            "9780765326355",
        )
        assert already.id is not None
        assert any("Imported goodreads_library_export.csv" in n for n in app.window.notices.texts())

        # a second import adds nothing: everything is on the queue now
        again = await app.import_csv(str(csv_file))
        assert again.summary() == "0 added, 4 skipped, 3 rejected"

        # an unreadable file is said so, not raised into the void
        app.queue_view.import_requested.emit(str(tmp_path / "missing.csv"))
        await until(
            lambda: any("cannot read" in n for n in app.window.notices.texts()),
            "the notice about the missing file",
        )
        await app.shutdown()

    qloop.run_until_complete(scenario())


def test_import_button_opens_a_non_modal_file_chooser(
    store: Store, qtbot: QtBot, tmp_path: Path
) -> None:
    view = QueueView(QueueModel(store))
    qtbot.addWidget(view)
    view.show()
    chooser = view.ask_import()
    assert chooser.isVisible()
    assert chooser.windowModality() != Qt.WindowModality.ApplicationModal  # open(), not exec()
    chosen: list[str] = []
    view.import_requested.connect(chosen.append)
    chooser.fileSelected.emit(str(tmp_path / "x.csv"))
    assert chosen == [str(tmp_path / "x.csv")]
    chooser.close()


# ---- the background workflow in the window ----------------------------------------------


def test_the_window_runs_the_workflow_and_the_wanted_view_follows(
    qbt: QbtInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qloop: asyncio.AbstractEventLoop,
) -> None:
    """A book wanted in the window is searched, grabbed and added by the same loop as
    `earmark run`, on the window's own qBittorrent session (one login, not two)."""
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", QBT_PASSWORD)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    best = fake_release("Frank Herbert - Dune (Unabridged) [M4B]", seeders=40)
    made: list[AppController] = []

    async def scenario() -> None:
        async with ProwlarrDouble([FakeIndexer(1, "AudioBook Bay", releases=[best])]) as px:
            monkeypatch.setenv("EARMARK_PROWLARR_API_KEY", px.api_key)
            settings = Settings(qbt_url=qbt.url, qbt_username=QBT_USER, prowlarr_url=px.url)
            app = AppController(settings, SecretStore(), Store.open_in(profile))
            made.append(app)
            app.service.min_interval = 0.2
            app.start()
            await until(lambda: app.workflow is not None, "the background workflow", 20)
            dialog = app._edit_book(None)
            dialog.title.setText("Dune")
            dialog.author.setText("Frank Herbert")
            dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
            await until(lambda: app.queue_model.rowCount() == 1, "the wanted book")
            # wanted -> searching -> grabbed -> downloading in one pass, woken by the add
            await until(
                lambda: app.queue_model.index(0, 5).data() == "Downloading",
                "the book to be downloading",
                20,
            )
            assert "added to qBittorrent" in app.queue_model.index(0, 6).data()
            logins = qbt.log_text().count("WebAPI login success")
            assert logins == 1, "the workflow must share the window's qBittorrent session"
            book = app.queue_model.book_at(0)
            torrent = qbt.admin().torrent(torrent_info_hash(best))
            assert torrent is not None and f"earmark-book-{book.id}" in torrent["tags"]
            await app.shutdown()
            assert app.workflow is None

    try:
        qloop.run_until_complete(scenario())
    finally:
        for app in made:
            qloop.run_until_complete(app.shutdown())
            app.window.close()
            app.store.close()


def test_copy_magnet_without_a_workflow_reads_the_reason(
    window_app: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    """qBittorrent away, no workflow: the magnet the refusal named is still copyable."""
    app = window_app
    [book] = want(app.store, "Dune")
    magnet = f"magnet:?xt=urn:btih:{'c' * 40}&dn=Dune.Unabridged.M4B"
    book.reason = (
        "qBittorrent could not take the torrent: cannot reach qBittorrent. You can: run "
        f"`earmark doctor` to see why; copy the magnet link into your client: {magnet}. "
        "Earmark tries again on its next pass."
    )
    app.store.update_book(book)

    async def scenario() -> None:
        await app.queue_model.reload()
        app.queue_view.select_book(book.id or 0)
        app.queue_view.update_actions()
        assert app.queue_view.magnet_action.isEnabled()
        assert not app.queue_view.prowlarr_action.isEnabled()  # the reason offers no Prowlarr
        QGuiApplication.clipboard().setText("")
        assert await app.copy_book_magnet(app.queue_model.book_at(0)) == magnet
        assert QGuiApplication.clipboard().text() == magnet
        with pytest.raises(WorkflowError, match="not configured"):
            await app.send_via_prowlarr(app.queue_model.book_at(0))

    qloop.run_until_complete(scenario())


def test_delete_and_the_toolbar_remove_act_on_the_table_in_view(
    window_app: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    """Delete removes in the focused table (one binding per key: two were ambiguous to
    Qt, which then ran neither); the toolbar's Remove follows the tab shown."""
    app = window_app
    dune, emma = want(app.store, "Dune", "Emma")
    removed_downloads: list[bool] = []
    app.downloads_view.remove_action.triggered.connect(lambda: removed_downloads.append(True))

    async def scenario() -> None:
        app.start()
        await until(lambda: app.queue_model.rowCount() == 2, "the queue")
        window, view = app.window, app.queue_view
        for dialog in window.findChildren(SettingsDialog):  # first run: it opens itself
            dialog.close()
        window.activateWindow()
        await until(lambda: QApplication.activeWindow() is window, "the window to be active")
        window.show_wanted()
        view.select_book(dune.id or 0)
        view.table.setFocus()
        QTest.keyClick(view.table, Qt.Key.Key_Delete)
        await until(lambda: app.store.book(dune.id or 0) is None, "Dune removed by Delete")
        view.select_book(emma.id or 0)
        window.actions_by_name["remove"].setEnabled(True)  # enabled when connected
        window.actions_by_name["remove"].trigger()
        await until(lambda: app.store.book(emma.id or 0) is None, "Emma removed by the toolbar")
        assert not removed_downloads
        window.show_downloads()
        window.show_status(Status(Link.CONNECTED, "connected"))  # Remove needs qBittorrent
        app.downloads_view.remove_action.setEnabled(True)
        app.downloads_view.table.setFocus()
        QTest.keyClick(app.downloads_view.table, Qt.Key.Key_Delete)
        assert removed_downloads == [True]
        await app.shutdown()

    qloop.run_until_complete(scenario())


MIB = 1024 * 1024
REVIEW_REASON = (
    "metadata waits for your review: a 78% match from Audible (42% -> 94%); "
    "open the book to check it"
)


def test_import_progress_shows_in_the_state_cell_only(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    dune, emma = want(store, "Dune", "Emma")
    store.set_state(dune, "importing", event="importing")

    async def scenario() -> None:
        model = QueueModel(store)
        view = wired(model, qtbot)
        await model.reload()
        state_width = view.table.horizontalHeader().sectionSize(STATE_COLUMN)
        changes: list[tuple[int, int, int, int]] = []
        model.dataChanged.connect(
            lambda top, bottom, *_: changes.append(
                (top.row(), top.column(), bottom.row(), bottom.column())
            )
        )
        row = model.row_of(dune.id or 0)
        model.set_import_progress(dune.id or 0, 120 * MIB, 270 * MIB)
        assert changes == [(row, STATE_COLUMN, row, STATE_COLUMN)]
        state = model.index(row, STATE_COLUMN)
        assert state.data() == "Importing 44% · 120.0 MiB of 270.0 MiB"
        assert state.data(PROGRESS_ROLE) == pytest.approx(120 / 270)
        assert model.index(row, 0).data(PROGRESS_ROLE) is None  # the State cell only
        assert model.index(model.row_of(emma.id or 0), STATE_COLUMN).data(PROGRESS_ROLE) is None
        # the column widens to show it (and the delegate draws a bar: it paints fine)
        header = view.table.horizontalHeader()
        assert header.sectionSize(STATE_COLUMN) > state_width
        assert not view.table.viewport().grab().isNull()

        model.set_import_progress(dune.id or 0, 120 * MIB, 270 * MIB)  # the same: quiet
        model.set_import_progress(emma.id or 0, 1, 2)  # not importing: ignored
        assert len(changes) == 1
        model.set_import_progress(dune.id or 0, 270 * MIB, 270 * MIB)  # done
        assert changes[-1] == (row, STATE_COLUMN, row, STATE_COLUMN)
        assert state.data() == "Importing" and state.data(PROGRESS_ROLE) is None
        assert header.sectionSize(STATE_COLUMN) == state_width  # given back

        # progress again, then the book leaves "importing": the next refresh clears it
        model.set_import_progress(dune.id or 0, 10 * MIB, 270 * MIB)
        assert model.import_progress(dune.id or 0) == (10 * MIB, 270 * MIB)
        store.set_state(dune, "in_library", event="imported")
        assert await model.refresh()
        assert model.import_progress(dune.id or 0) is None
        assert state.data() == "In library"
        # a reload forgets progress of a book no longer importing, too
        store.set_state(dune, "importing", event="importing")
        await model.refresh()
        model.set_import_progress(dune.id or 0, 10 * MIB, 270 * MIB)
        store.set_state(dune, "failed", reason="import failed: disk full")
        await model.reload()
        assert model.running_imports() == {}

    qloop.run_until_complete(scenario())


def test_a_book_waiting_for_a_review_reads_review_metadata(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    waiting, refused, plain = want(store, "Project Hail Mary", "Dune", "Emma")
    store.set_state(waiting, "importing", reason=REVIEW_REASON)
    store.set_state(refused, "grabbed", reason="qBittorrent could not take the torrent: away")
    store.set_state(plain, "importing", event="importing")

    async def scenario() -> None:
        model = QueueModel(store)
        view = wired(model, qtbot)
        await model.reload()
        review = model.index(model.row_of(waiting.id or 0), STATE_COLUMN)
        assert review.data() == "Review metadata"
        assert model.index(model.row_of(plain.id or 0), STATE_COLUMN).data() == "Importing"
        colour = review.data(Qt.ItemDataRole.ForegroundRole)
        attention = model.index(model.row_of(refused.id or 0), STATE_COLUMN).data(
            Qt.ItemDataRole.ForegroundRole
        )
        assert isinstance(colour, QColor) and colour == QColor(REVIEW_COLOURS[0])
        assert isinstance(attention, QColor) and attention != colour
        assert review.data(Qt.ItemDataRole.ToolTipRole).startswith("metadata waits")
        # the menu offers the review; for other books, plain details
        view.select_book(waiting.id or 0)
        menu = view.context_menu()
        texts = [a.text() for a in menu.actions()]
        assert texts[0] == "Review metadata…"
        assert menu.defaultAction() is view.details_action
        asked: list[Book] = []
        view.details_requested.connect(asked.append)
        view.details_action.trigger()
        assert [b.id for b in asked] == [waiting.id]
        view.select_book(refused.id or 0)
        menu = view.context_menu()
        assert menu.actions()[0].text() == "Details…"
        assert menu.defaultAction() is view.edit_action  # a grabbed book: edit, as before
        # once the review is done and the copy runs, the progress wins over the words
        model.set_import_progress(waiting.id or 0, 5 * MIB, 10 * MIB)
        assert review.data().startswith("Importing 50%")

    qloop.run_until_complete(scenario())


def test_double_click_opens_details_past_the_download_and_edits_before(
    store: Store, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    importing, owned, failed, wanted, grabbed = want(
        store, "Importing", "Owned", "Failed", "Wanted", "Grabbed"
    )
    store.set_state(importing, "importing", reason=REVIEW_REASON)
    store.set_state(owned, "in_library", event="imported")
    store.set_state(failed, "failed", reason="import failed: no audio files")
    store.set_state(grabbed, "grabbed", event="chose a release")

    async def scenario() -> None:
        model = QueueModel(store)
        view = wired(model, qtbot)
        await model.reload()
        details: list[str] = []
        edits: list[str] = []
        view.details_requested.connect(lambda book: details.append(book.title))
        view.edit_requested.connect(lambda book: edits.append(book.title))
        for book in (importing, owned, failed, wanted, grabbed):
            index = view.proxy.mapFromSource(model.index(model.row_of(book.id or 0), 1))
            centre = view.table.visualRect(index).center()
            QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
            QTest.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        assert details == ["Importing", "Owned", "Failed"]
        assert edits == ["Wanted", "Grabbed"]
        # the Edit button and menu entry still edit whatever is selected
        view.select_book(owned.id or 0)
        view.edit_button.click()
        assert edits[-1] == "Owned"

    qloop.run_until_complete(scenario())


def test_the_window_leaves_the_loop_to_the_earmark_run_that_holds_the_profile(
    qbt: QbtInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qloop: asyncio.AbstractEventLoop,
) -> None:
    """One loop per profile: while `earmark run` holds the profile's loop lock the window
    says so and runs none; once that loop ends, the window takes over."""
    from gui import controller as controller_module
    from gui.loop_lock import LoopLock

    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", QBT_PASSWORD)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(controller_module, "LOOP_LOCK_RETRY", 0.2)
    made: list[AppController] = []
    other = LoopLock.acquire(profile, "earmark run")  # another process, as far as flock goes

    async def scenario() -> None:
        async with ProwlarrDouble([FakeIndexer(1, "AudioBook Bay")]) as px:
            monkeypatch.setenv("EARMARK_PROWLARR_API_KEY", px.api_key)
            settings = Settings(qbt_url=qbt.url, qbt_username=QBT_USER, prowlarr_url=px.url)
            app = AppController(settings, SecretStore(), Store.open_in(profile))
            made.append(app)
            app.service.min_interval = 0.2
            app.start()

            def told() -> list[str]:
                return [t for t in app.window.notices.texts() if "does not search" in t]

            await until(lambda: bool(told()), "the notice that another loop runs", 20)
            assert "already runs in earmark run (pid" in told()[0]
            assert app.workflow is None
            other.release()
            await until(lambda: app.workflow is not None, "the window's own workflow", 20)
            await until(lambda: not told(), "the notice to go once the window runs the loop")
            with pytest.raises(Exception, match="the Earmark window"):
                LoopLock.acquire(profile, "earmark run")
            await app.shutdown()
            LoopLock.acquire(profile, "earmark run").release()  # given up at shutdown

    try:
        qloop.run_until_complete(scenario())
    finally:
        other.release()
        for app in made:
            qloop.run_until_complete(app.shutdown())
            app.window.close()
            app.store.close()
