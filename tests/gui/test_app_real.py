"""The whole window against a real qBittorrent: drops, the add dialog, notifications.

The window runs in a real Qt event loop driven by qasync (the `qloop` fixture); events are
real `QDragEnterEvent`/`QDropEvent`s sent to the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from gui.clients.qbittorrent import AddOptions
from gui.controller import AppController
from gui.core.torrents import parse_torrent
from gui.settings import SecretStore, Settings, save_settings
from gui.store import Store
from gui.views.add_dialog import AddTorrentDialog
from tests.conftest import QbtFactory
from tests.harness.audiobook import build_torrent, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.swarm import make_swarm
from tests.harness.wait import until

pytestmark = pytest.mark.qbt

MAGNET = "magnet:?xt=urn:btih:" + "e" * 40 + "&dn=Dropped+Book"


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile"))
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", QBT_PASSWORD)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return tmp_path / "profile"


MakeApp = Callable[..., AppController]


@pytest.fixture
def make_app(profile: Path, qloop: asyncio.AbstractEventLoop) -> Iterator[MakeApp]:
    """Apps started inside the test's running loop and stopped there (`stop_apps_async`).

    pytest-qt processes Qt events at teardown, outside qasync's running loop: the apps'
    tasks must be finished before that, as they are when the real app quits.
    """
    made: list[AppController] = []

    def make(url: str, **settings: object) -> AppController:
        config = Settings(qbt_url=url, qbt_username=QBT_USER, **settings)  # type: ignore[arg-type]
        save_settings(config, profile)
        controller = AppController(config, SecretStore(), Store.open_in(profile))
        controller.service.min_interval = 0.2
        made.append(controller)
        controller.start()  # called inside the test's running loop, as the app does
        return controller

    make.made = made  # type: ignore[attr-defined]
    yield make
    stop_apps(make, qloop)


def stop_apps(make: MakeApp, qloop: asyncio.AbstractEventLoop) -> None:
    qloop.run_until_complete(stop_apps_async(make))


async def stop_apps_async(make: MakeApp) -> None:
    made: list[AppController] = make.made  # type: ignore[attr-defined]
    while made:
        controller = made.pop()
        await controller.shutdown()
        controller.window.close()
        controller.store.close()


def drag_enter_event(position: QPointF, mime: QMimeData) -> QDragEnterEvent:
    """Qt 6.12 takes a QPointF (the QPoint form is deprecated); earlier Qt 6 only a QPoint."""
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:
        return QDragEnterEvent(position, actions, mime, buttons, modifiers)  # type: ignore[arg-type]
    except TypeError:
        return QDragEnterEvent(position.toPoint(), actions, mime, buttons, modifiers)


def drop(widget: object, mime: QMimeData) -> None:
    position = QPointF(200, 200)
    enter = drag_enter_event(position, mime)
    QApplication.sendEvent(widget, enter)  # type: ignore[arg-type]
    assert enter.isAccepted()
    event = QDropEvent(
        position,
        Qt.DropAction.CopyAction | Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)  # type: ignore[arg-type]


def open_dialogs(controller: AppController) -> list[AddTorrentDialog]:
    return [d for d in controller.window.findChildren(AddTorrentDialog) if d.isVisible()]


def test_dropped_magnet_reaches_qbittorrent_and_the_table(
    qbt: QbtInstance, make_app: MakeApp, qloop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        app = make_app(qbt.url)
        await until(lambda: app.service.status.link.value == "connected", what="connection")
        mime = QMimeData()
        mime.setText(MAGNET)
        drop(app.window, mime)
        await until(lambda: open_dialogs(app), what="the add dialog")
        [dialog] = open_dialogs(app)
        assert dialog.source_edit.text() == MAGNET
        dialog.stopped.setChecked(True)
        dialog.category.setCurrentText("audiobooks")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(lambda: qbt.admin().torrent("e" * 40), what="the torrent in qBittorrent")
        assert qbt.admin().torrent("e" * 40)["category"] == "audiobooks"  # type: ignore[index]
        model = app.downloads_model
        await until(lambda: model.rowCount() == 1, what="the row in the table")
        names = [model.index(0, 0).data()]
        assert names == ["Dropped Book"]
        # The choices are remembered for the next dialog.
        assert app.settings.add_defaults["category"] == "audiobooks"

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_dropped_files_and_garbage(
    qbt: QbtInstance,
    make_app: MakeApp,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        app = make_app(qbt.url, add_without_asking=True, add_defaults={"stopped": True})
        await until(lambda: app.service.status.link.value == "connected", what="connection")
        book = make_audiobook(tmp_path / "src", "File Book", files=1, seconds=1)
        torrent_path = tmp_path / "File Book.torrent"
        torrent_path.write_bytes(build_torrent(book))
        song = tmp_path / "song.mp3"
        song.write_bytes(b"ID3")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(torrent_path)), QUrl.fromLocalFile(str(song))])
        drop(app.window, mime)
        digest = parse_torrent(torrent_path.read_bytes()).info_hash
        await until(lambda: qbt.admin().torrent(digest), what="the dropped .torrent added")
        assert not open_dialogs(app)  # "don't ask" was chosen
        notices = app.window.notices.texts()
        assert any("song.mp3" in n and "is not a .torrent file" in n for n in notices), notices

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_nothing_is_lost_while_qbittorrent_is_away(
    qbt: QbtInstance,
    make_app: MakeApp,
    qloop: asyncio.AbstractEventLoop,
) -> None:
    async def scenario() -> None:
        app = make_app(qbt.url, add_without_asking=True)
        await until(lambda: app.service.status.link.value == "connected", what="connection")
        qbt.stop()
        await until(lambda: app.service.status.link.value == "unreachable", what="the outage")
        mime = QMimeData()
        mime.setText(MAGNET)
        drop(app.window, mime)
        pending = app.window.pending
        await until(lambda: pending.list.count() == 1, what="the pending entry")
        assert pending.isVisibleTo(app.window)
        assert "Dropped Book" in pending.list.item(0).text()
        qbt.restart()
        app.service.wake()
        await until(lambda: pending.list.count() == 0, limit=60, what="the retry")
        assert qbt.admin().torrent("e" * 40) is not None

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_finished_download_notifies_exactly_once(
    qbt_factory: QbtFactory,
    make_app: MakeApp,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        swarm = make_swarm(qbt_factory, tmp_path)
        app = make_app(swarm.leecher.url)
        await until(lambda: app.service.status.link.value == "connected", what="connection")
        source = parse_torrent(swarm.torrent)
        await app.service.add(source, AddOptions())
        swarm.connect(source.info_hash)

        def completed() -> list[str]:
            return [n for n in app.window.notices.texts() if "Download completed" in n]

        await until(completed, limit=60, what="the notification")
        for _ in range(5):
            rid = app.service.mirror.rid
            app.service.wake()
            await until(lambda r=rid: app.service.mirror.rid != r, what="another refresh")
        assert completed() == [
            "<b>Download completed</b> — 'The Test Book' has finished downloading."
        ]

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())


def test_first_run_opens_the_qbittorrent_settings(
    make_app: MakeApp,
    qloop: asyncio.AbstractEventLoop,
) -> None:
    async def scenario() -> None:
        from gui.views.settings_dialog import SettingsDialog

        app = make_app("")
        await until(
            lambda: [d for d in app.window.findChildren(SettingsDialog) if d.isVisible()],
            what="the settings dialog",
        )

        await stop_apps_async(make_app)

    qloop.run_until_complete(scenario())
