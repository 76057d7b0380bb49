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

from gui.clients.qbittorrent import AddOptions
from gui.core.torrents import parse_torrent
from gui.models.files_tree import TreeColumn
from gui.services.properties import FILES, GENERAL, PEERS, TRACKERS
from gui.services.status import Link
from tests.conftest import QbtFactory
from tests.gui.test_app_real import MakeApp, make_app, profile, stop_apps_async  # noqa: F401
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
        qbt.restart()
        app.service.wake()
        await until(lambda: app.service.status.link is Link.CONNECTED, limit=60, what="back")
        assert not view.stale and not view.stale_overlay.isVisibleTo(view)

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())
