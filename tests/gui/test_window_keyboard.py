"""The main window as a keyboard user and a qBittorrent user meet it: a menu bar with the
standard shortcuts, Tab out of tables, visible focus, and toolbar actions that follow the
page shown (issue 12, defects 2 and 7)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.controller import AppController
from gui.services.status import Link, Status
from gui.settings import SecretStore, Settings
from gui.store import Book, Store
from gui.views.main_window import DOWNLOADS_TAB, HISTORY_TAB, LIBRARY_TAB, WANTED_TAB
from gui.views.settings_dialog import SettingsDialog
from tests.harness.wait import until

CONNECTED = Status(Link.CONNECTED, "Connected to test")


@pytest.fixture
def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> Iterator[AppController]:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    controller = AppController(Settings(), SecretStore(), Store.open_in(profile))
    yield controller
    qloop.run_until_complete(controller.shutdown())
    controller.window.close()
    controller.store.close()


async def started(app: AppController) -> None:
    app.start()
    for dialog in app.window.findChildren(SettingsDialog):  # first run opens it
        dialog.close()
    app.window.activateWindow()
    await until(lambda: QApplication.activeWindow() is app.window, what="the active window")


def test_the_menu_bar_has_the_standard_menus_and_keys(
    app: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    window = app.window
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Tools", "Help"]
    actions = window.actions_by_name
    assert QKeySequence(QKeySequence.StandardKey.Quit) in actions["quit"].shortcuts() or (
        actions["quit"].shortcut() == QKeySequence("Ctrl+Q")
    )
    assert QKeySequence(QKeySequence.StandardKey.Find) in actions["find"].shortcuts()
    assert QKeySequence(QKeySequence.StandardKey.Delete) in actions["remove"].shortcuts()
    assert not actions["settings"].shortcut().isEmpty()  # empty on Linux before
    quits: list[bool] = []
    window.quit_clicked.connect(lambda: quits.append(True))

    async def scenario() -> None:
        await started(app)
        window.show_wanted()
        QTest.keySequence(window, actions["find"].shortcut())
        assert QApplication.focusWidget() is app.queue_view.search
        QTest.keySequence(window, QKeySequence("Ctrl+2"))
        QTest.keySequence(window, actions["find"].shortcut())
        assert QApplication.focusWidget() is app.downloads_view.search
        QTest.keySequence(window, QKeySequence("Ctrl+3"))
        assert window.current_page() == LIBRARY_TAB
        QTest.keySequence(window, QKeySequence("Ctrl+Q"))
        assert quits == [True]

    qloop.run_until_complete(scenario())


def test_tab_leaves_a_table_and_enter_opens_the_row(
    app: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    book = app.store.add_book(Book("Dune", "Frank Herbert"))
    edited: list[Book] = []
    app.queue_view.edit_requested.connect(edited.append)

    async def scenario() -> None:
        await started(app)
        await until(lambda: app.queue_model.rowCount() == 1, what="the queue")
        table = app.queue_view.table
        app.queue_view.select_book(book.id or 0)
        table.setFocus()
        assert not table.tabKeyNavigation()
        QTest.keyClick(table, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is not table
        table.setFocus()
        QTest.keyClick(table, Qt.Key.Key_Return)
        assert [b.title for b in edited] == ["Dune"]

    qloop.run_until_complete(scenario())


def test_a_focused_table_looks_focused(
    app: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        await started(app)
        table = app.queue_view.table
        app.queue_view.search.setFocus()
        await until(lambda: not table.hasFocus(), what="focus elsewhere")
        unfocused = table.grab().toImage()
        table.setFocus()
        await until(table.hasFocus, what="the table's focus")
        focused = table.grab().toImage()
        highlight = table.palette().highlight().color().rgb()
        assert focused.pixel(0, 0) == highlight != unfocused.pixel(0, 0)

    qloop.run_until_complete(scenario())


def test_start_stop_remove_follow_the_page_shown(
    app: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the Wanted tab, Stop paused a torrent the user could not see."""
    window = app.window
    stopped: list[list[str]] = []

    async def stop(hashes: list[str]) -> None:
        stopped.append(hashes)

    monkeypatch.setattr(app.service, "stop", stop)
    monkeypatch.setattr(app.downloads_view, "selected_hashes", lambda: ["a" * 40])
    removed: list[bool] = []
    app.downloads_view.remove_action.triggered.connect(lambda: removed.append(True))

    async def scenario() -> None:
        await started(app)
        window.show_status(CONNECTED)
        actions = window.actions_by_name
        for page in (WANTED_TAB, LIBRARY_TAB, HISTORY_TAB):
            window.tabs.setCurrentIndex(page)
            assert not actions["start"].isEnabled()
            assert not actions["stop"].isEnabled()
            window.stop_clicked.emit()  # even if something triggers it
        assert actions["remove"].isEnabled() == (window.current_page() == WANTED_TAB)
        window.tabs.setCurrentIndex(HISTORY_TAB)
        assert not actions["remove"].isEnabled()
        window.remove_clicked.emit()
        await asyncio.sleep(0)
        assert stopped == [] and removed == []
        window.tabs.setCurrentIndex(DOWNLOADS_TAB)
        assert actions["start"].isEnabled() and actions["stop"].isEnabled()
        actions["stop"].trigger()
        await until(lambda: stopped == [["a" * 40]], what="the stop")
        app.downloads_view.remove_action.setEnabled(True)  # (as with a selected row)
        actions["remove"].trigger()
        assert removed == [True]

    qloop.run_until_complete(scenario())


def test_the_add_dialog_starts_from_the_settings_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    """Issue 12, defect 11: Settings' default category and save path were ignored."""
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    settings = Settings(
        qbt_default_category="audiobooks",
        qbt_default_save_path="/srv/books",
        add_defaults={"category": None, "save_path": None, "tags": ["earmark"]},
    )
    app = AppController(settings, SecretStore(), Store.open_in(tmp_path / "profile"))
    try:
        dialog = app.open_add_dialog("")
        assert dialog.category.currentText() == "audiobooks"
        assert dialog.save_path.text() == "/srv/books"
        assert dialog.tags.text() == "earmark"
        app.settings.add_defaults = {"category": "podcasts", "save_path": "/srv/other"}
        again = app.open_add_dialog("")
        assert again.category.currentText() == "podcasts"  # the last choice, when made
        assert again.save_path.text() == "/srv/other"
    finally:
        qloop.run_until_complete(app.shutdown())
        app.window.close()
        app.store.close()
