"""The add dialog's file tree with priorities, against a real qbittorrent-nox.

Issue 12 (parity): qBittorrent's add dialog shows a .torrent's files with tick boxes and
priorities. `torrents/add` has no per-file field, so the chosen priorities must reach
qBittorrent through `torrents/filePrio` once the torrent is listed (added stopped first,
so no piece of a skipped file arrives, then started as the user asked).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from gui.core.torrents import parse_torrent
from gui.models.files_tree import TreeColumn
from gui.services.status import Link
from tests.gui.test_app_real import MakeApp, make_app, open_dialogs, profile, stop_apps_async  # noqa: F401
from tests.harness.audiobook import build_torrent, make_audiobook
from tests.harness.qbt import QbtInstance
from tests.harness.wait import until

pytestmark = pytest.mark.qbt

BOOK = "Tree Book"


def test_chosen_file_priorities_reach_qbittorrent(
    qbt: QbtInstance,
    make_app: MakeApp,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        app = make_app(qbt.url)
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        book = make_audiobook(tmp_path / "src", BOOK, files=3, seconds=1)
        path = tmp_path / f"{BOOK}.torrent"
        path.write_bytes(build_torrent(book))
        digest = parse_torrent(path.read_bytes()).info_hash

        dialog = app.open_add_dialog(str(path))
        await until(lambda: open_dialogs(app), what="the add dialog")
        model = dialog.files_model
        assert dialog.files.isVisible()
        folder = model.file_index(BOOK)
        assert model.rowCount(folder) == 3
        for column in (TreeColumn.PROGRESS, TreeColumn.REMAINING, TreeColumn.AVAILABILITY):
            assert dialog.files.isColumnHidden(column)

        # untick the first file, High for the third through the menu
        first = model.file_index(f"{BOOK}/01 - {BOOK}.mp3")
        assert first.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        model.setData(first, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
        assert first.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
        assert folder.siblingAtColumn(TreeColumn.PRIORITY).data() == "Mixed"
        third = model.file_index(f"{BOOK}/03 - {BOOK}.mp3")
        selection = dialog.files.selectionModel()
        selection.select(
            dialog.files_proxy.mapFromSource(third),
            selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows,
        )
        menu = dialog.priority_menu()
        high = next(a for a in menu.actions()[0].menu().actions() if a.text() == "High")  # type: ignore[union-attr]
        high.trigger()
        assert third.siblingAtColumn(TreeColumn.PRIORITY).data() == "High"

        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(
            lambda: [f["priority"] for f in qbt.admin().files(digest)] == [0, 1, 6],
            what="the chosen priorities in qBittorrent",
        )
        names = [f["name"] for f in qbt.admin().files(digest)]
        assert names == [f"{BOOK}/0{n} - {BOOK}.mp3" for n in (1, 2, 3)]
        # not "Do not start": started once the priorities were set
        await until(
            lambda: (
                not str(qbt.admin().torrent(digest)["state"]).startswith(  # type: ignore[index]
                    ("paused", "stopped")
                )
            ),
            what="the torrent started after the priorities",
        )
        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_unticking_every_file_disables_add(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gui.views.add_dialog import AddTorrentDialog

    book = make_audiobook(tmp_path / "src", BOOK, files=2, seconds=1)
    path = tmp_path / f"{BOOK}.torrent"
    path.write_bytes(build_torrent(book))
    dialog = AddTorrentDialog(str(path))
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and dialog.options().file_priorities == ()  # all Normal: nothing to set
    folder = dialog.files_model.file_index(BOOK)
    dialog.files_model.setData(folder, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert not ok.isEnabled()
    assert "at least one file" in dialog.source_info.text()
    dialog.source_edit.setText("")
    assert not dialog.files.isVisibleTo(dialog)
