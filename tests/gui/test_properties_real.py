"""The properties panel and the torrent actions against real qBittorrent transfers.

Issue 12, defect 8: the details were read once (89.7 % after completion) and file
priorities could not be changed. Here the panel must follow a real transfer between two
loopback qBittorrent instances, and a priority changed in its file tree must reach
qBittorrent (`torrents/filePrio`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from gui.clients.qbittorrent import AddOptions
from gui.core.torrents import parse_torrent
from gui.models.files_tree import TreeColumn
from gui.services.properties import FILES, GENERAL, PEERS, TRACKERS
from gui.services.status import Link
from gui.views.filter_panel import TAGS
from tests.conftest import QbtFactory
from tests.gui.test_app_real import MakeApp, make_app, profile, stop_apps_async  # noqa: F401
from tests.harness.audiobook import build_torrent, make_audiobook
from tests.harness.qbt import QbtInstance
from tests.harness.swarm import make_swarm
from tests.harness.wait import until

pytestmark = pytest.mark.qbt

BOOK = "The Test Book"


def test_panel_follows_a_real_transfer_and_changes_file_priorities(
    qbt_factory: QbtFactory,
    make_app: MakeApp,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        swarm = make_swarm(qbt_factory, tmp_path)
        app = make_app(swarm.leecher.url)
        app.properties.interval = 0.3
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        source = parse_torrent(swarm.torrent)
        digest = source.info_hash
        await app.service.add(source, AddOptions())
        view = app.downloads_view
        app.window.show_downloads()
        await until(lambda: view.proxy.row_of(digest) >= 0, what="the row")
        # slow enough to see the peer while the transfer runs
        await app.service.set_torrent_limits([digest], download=2048)
        await until(
            lambda: int(swarm.leecher_admin().torrent(digest)["dl_limit"]) == 2048,  # type: ignore[index]
            what="the per-torrent limit in qBittorrent",
        )
        view.select_hashes([digest])
        panel = view.properties
        assert panel.torrent_hash == digest and panel.title.text() == BOOK

        panel.show_tab(FILES)
        model = panel.files_model
        await until(lambda: model.file_index(BOOK).isValid(), what="the file tree")
        assert model.rowCount(model.file_index(BOOK)) == 3
        assert model.file_index(BOOK).siblingAtColumn(TreeColumn.PROGRESS).data() == "0.0%"

        swarm.connect(digest)
        panel.show_tab(PEERS)
        await until(
            lambda: any(k.startswith("127.0.0.1:") for k in panel.peers_model.row_keys()),
            limit=30,
            what="the seeder in the Peers tab",
        )

        await app.service.set_torrent_limits([digest], download=0)
        panel.show_tab(FILES)
        folder = model.file_index(BOOK)
        await until(
            lambda: folder.siblingAtColumn(TreeColumn.PROGRESS).data() == "100%",
            limit=60,
            what="the Files tab to follow the transfer to 100 %",
        )

        # untick a file in the tree: qBittorrent is asked, and the tree shows its answer
        first = model.file_index(f"{BOOK}/01 - {BOOK}.mp3")
        assert first.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        model.setData(first, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
        await until(
            lambda: swarm.leecher_admin().files(digest)[0]["priority"] == 0,
            what="filePrio in qBittorrent",
        )
        await until(
            lambda: first.siblingAtColumn(TreeColumn.PRIORITY).data() == "Do not download",
            what="the new priority in the tree",
        )
        assert folder.siblingAtColumn(TreeColumn.PRIORITY).data() == "Mixed"
        # the menu's High for the whole folder
        panel.files.selectionModel().select(
            panel.files_proxy.mapFromSource(folder),
            panel.files.selectionModel().SelectionFlag.ClearAndSelect
            | panel.files.selectionModel().SelectionFlag.Rows,
        )
        menu = panel.priority_menu()
        high = next(a for a in menu.actions()[0].menu().actions() if a.text() == "High")  # type: ignore[union-attr]
        high.trigger()
        await until(
            lambda: [f["priority"] for f in swarm.leecher_admin().files(digest)] == [6, 6, 6],
            what="High for every file",
        )

        panel.show_tab(TRACKERS)
        await until(
            lambda: "** [DHT] **" in panel.trackers_model.row_keys(), what="the Trackers tab"
        )
        # on another page the panel is not read (as qBittorrent's): nothing stale is fetched
        app.window.show_wanted()
        assert app.properties.paused
        app.window.show_downloads()
        assert not app.properties.paused
        panel.show_tab(GENERAL)
        await until(
            lambda: panel.general.values["total_size"].text() == "25.2 KiB",
            what="the General tab",
        )
        await until(
            lambda: panel.general.values["completion_date"].text() != "–",
            what="the completion date",
        )
        assert panel.speed.samples, "the Speed graph has samples from the refreshes"

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_rows_are_greyed_while_qbittorrent_is_unreachable(
    qbt: QbtInstance,
    make_app: MakeApp,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    """Issue 12, defect 10: the old rows looked live while qBittorrent was away."""

    async def scenario() -> None:
        app = make_app(qbt.url)
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        magnet = "magnet:?xt=urn:btih:" + "d" * 40 + "&dn=Greyed+Book"
        from gui.core.torrents import parse_magnet

        await app.service.add(parse_magnet(magnet), AddOptions(stopped=True))
        view = app.downloads_view
        await until(lambda: view.proxy.rowCount() == 1, what="the row")
        assert not view.stale and not view.stale_overlay.isVisible()
        qbt.stop()
        await until(lambda: app.service.status.link is Link.UNREACHABLE, what="the outage")
        assert view.stale and view.stale_overlay.isVisibleTo(view)
        assert "last known state" in view.stale_overlay.text()
        assert view.proxy.rowCount() == 1  # the rows stay, greyed
        assert not view.properties.isEnabled()
        qbt.restart()
        app.service.wake()
        await until(lambda: app.service.status.link is Link.CONNECTED, limit=60, what="back")
        assert not view.stale and not view.stale_overlay.isVisibleTo(view)
        assert view.properties.isEnabled()

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_torrent_actions_reach_qbittorrent(
    qbt: QbtInstance,
    make_app: MakeApp,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    """Parity with qBittorrent's transfer-list menu: each entry changes the real torrent."""

    async def scenario() -> None:
        book = make_audiobook(tmp_path / "seed", BOOK)
        other = make_audiobook(tmp_path / "seed", "Another Book")
        app = make_app(qbt.url)
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        first, second = parse_torrent(build_torrent(book)), parse_torrent(build_torrent(other))
        for source in (first, second):
            await app.service.add(source, AddOptions(save_path=str(tmp_path / "seed")))
        view = app.downloads_view
        app.window.show_downloads()
        await until(lambda: view.proxy.rowCount() == 2, what="the rows")
        admin = qbt.admin()

        def torrent() -> dict[str, object]:
            found = admin.torrent(first.info_hash)
            assert found is not None
            return found

        def answer(action: QAction, value: str | int) -> None:
            view.select_hashes([first.info_hash])
            view.update_actions()
            assert action.isEnabled()
            action.trigger()
            dialog = view.input_dialog
            assert dialog is not None and dialog.isVisible() and not dialog.isModal()
            if isinstance(value, int):
                dialog.setIntValue(value)
            else:
                dialog.setTextValue(value)
            dialog.accept()

        answer(view.rename_action, "Renamed Book")
        await until(lambda: torrent()["name"] == "Renamed Book", what="torrents/rename")
        answer(view.tags_action, "lent, favourite")
        await until(lambda: torrent()["tags"] == "favourite, lent", what="torrents/addTags")
        await until(
            lambda: "favourite (1)" in view.side.text_of(TAGS), what="the tag in the side panel"
        )
        answer(view.tags_action, "lent")
        await until(lambda: torrent()["tags"] == "lent", what="torrents/removeTags")
        answer(view.upload_limit_action, 64)
        await until(lambda: torrent()["up_limit"] == 64 * 1024, what="torrents/setUploadLimit")
        moved = tmp_path / "moved"
        answer(view.location_action, str(moved))
        await until(lambda: Path(str(torrent()["save_path"])) == moved, what="torrents/setLocation")
        await until(lambda: (moved / BOOK).is_dir(), what="the data moved")

        view.select_hashes([first.info_hash])
        view.reannounce_action.trigger()
        # a file of the other book goes missing: a forced recheck finds it out
        await until(lambda: admin.torrent(second.info_hash)["progress"] == 1, what="checked")  # type: ignore[index]
        next((tmp_path / "seed" / "Another Book").glob("01*")).unlink()
        view.select_hashes([second.info_hash])
        view.recheck_action.trigger()
        await until(
            lambda: float(admin.torrent(second.info_hash)["progress"]) < 1,  # type: ignore[index]
            what="torrents/recheck",
        )
        assert all(n.startswith("Added") for n in app.window.notices.texts())

        # queueing is off in the harness: the user is told where to turn it on
        view.queue_actions["topPrio"].trigger()
        await until(
            lambda: any("Torrent queueing is off" in n for n in app.window.notices.texts()),
            what="the queueing notice",
        )
        admin.post("/api/v2/app/setPreferences", {"json": '{"queueing_enabled": true}'})
        view.select_hashes([second.info_hash])
        view.queue_actions["topPrio"].trigger()
        await until(
            lambda: admin.torrent(second.info_hash)["priority"] == 1,  # type: ignore[index]
            what="torrents/topPrio",
        )

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_status_bar_free_space_and_speed_limits(
    qbt: QbtInstance,
    make_app: MakeApp,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
) -> None:
    """qBittorrent's status bar: free disk space, global and alternative speed limits."""

    async def scenario() -> None:
        app = make_app(qbt.url)
        window = app.window
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        # qBittorrent answers free_space_on_disk 0 until its first disk reading
        await until(lambda: (app.service.status.free_space or 0) > 0, what="free space read")
        await until(lambda: window.free_label.text().startswith("Free space: "), what="free")
        admin = qbt.admin()

        dialog = app.open_speed_limits()
        assert not dialog.isModal() and dialog.download.value() == 0
        dialog.download.setValue(300)
        dialog.upload.setValue(50)
        dialog._accept()
        await until(
            lambda: admin.get_text("/api/v2/transfer/downloadLimit") == str(300 * 1024),
            what="transfer/setDownloadLimit",
        )
        assert admin.get_text("/api/v2/transfer/uploadLimit") == str(50 * 1024)
        await until(lambda: "[300.0 KiB/s]" in window.speed_label.text(), what="the limit shown")

        assert not window.alt_button.isChecked()
        window.alt_button.click()
        await until(
            lambda: admin.get_text("/api/v2/transfer/speedLimitsMode") == "1",
            what="transfer/toggleSpeedLimitsMode",
        )
        await until(window.alt_button.isChecked, what="the button to follow qBittorrent")

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())
