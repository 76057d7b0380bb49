"""The layout survives a restart (issue 12, defect 9): window geometry, the columns of
each table (widths, order, visibility chosen in the header's menu), the sort, the
current tab and the filter boxes, in window.ini next to the database (never in the
settings file)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu

from gui.controller import AppController
from gui.settings import SETTINGS_FILE, SecretStore, Settings, save_settings
from gui.store import Store
from gui.views.layout_state import LAYOUT_FILE
from gui.views.main_window import HISTORY_TAB
from gui.views.settings_dialog import SettingsDialog


def make(profile: Path) -> AppController:
    return AppController(Settings(), SecretStore(), Store.open_in(profile))


async def close(app: AppController) -> None:
    await app.shutdown()
    app.window.close()
    app.store.close()


def test_the_layout_comes_back_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    save_settings(Settings(), profile)
    sizes: list[tuple[int, int]] = []
    states: list[str] = []

    async def first() -> None:
        app = make(profile)
        app.start()
        for dialog in app.window.findChildren(SettingsDialog):
            dialog.close()
        app.window.resize(760, 540)
        sizes.append((app.window.width(), app.window.height()))
        header = app.queue_view.table.horizontalHeader()
        header.resizeSection(0, 333)
        header.moveSection(1, 3)  # Author after Series
        header.customContextMenuRequested.emit(QPoint(5, 5))  # the header's column menu
        [menu] = [m for m in header.findChildren(QMenu) if m.isVisible()]
        narrator = next(a for a in menu.actions() if a.text() == "Narrator")
        narrator.trigger()  # hide it
        menu.close()
        assert header.isSectionHidden(2)
        app.queue_view.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        app.history_view.text.setText("grabbed")
        app.downloads_view.group_combo.setCurrentIndex(2)
        states.append(app.downloads_view.group_combo.currentText())
        app.window.tabs.setCurrentIndex(HISTORY_TAB)
        await close(app)

    qloop.run_until_complete(first())
    assert (profile / LAYOUT_FILE).exists()
    stored = json.loads((profile / SETTINGS_FILE).read_text())
    assert not any("geometry" in key or "layout" in key for key in stored)

    async def second() -> None:
        app = make(profile)
        app.start()
        header = app.queue_view.table.horizontalHeader()
        assert (app.window.width(), app.window.height()) == sizes[0] == (760, 540)
        assert header.sectionSize(0) == 333
        assert header.visualIndex(1) == 3
        assert header.isSectionHidden(2)
        assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
            1,
            Qt.SortOrder.DescendingOrder,
        )
        assert app.history_view.text.text() == "grabbed"
        assert app.downloads_view.group_combo.currentText() == states[0]
        assert app.window.tabs.currentIndex() == HISTORY_TAB
        await close(app)

    qloop.run_until_complete(second())
