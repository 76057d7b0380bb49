"""Wires the window's views to the services: the "C" between the models and the views.

Everything that waits on the network runs as an asyncio task on qasync's loop, started
from `asyncSlot`s, so the window keeps painting. Errors from those tasks are shown in the
window's notice bar, never swallowed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject

from gui.clients.errors import ClientError
from gui.clients.qbittorrent import AddOptions
from gui.core.torrents import TorrentInputError, TorrentSource, describe_source
from gui.logging_setup import REDACTOR
from gui.models.connection import Connection
from gui.models.downloads import DownloadsModel
from gui.models.queue import QueueModel
from gui.services.downloads import DownloadService
from gui.services.status import Status
from gui.settings import SecretStore, Settings, qbt_config, save_settings
from gui.store import Book, Store
from gui.views.add_dialog import AddTorrentDialog, options_from_defaults
from gui.views.doctor_wizard import DoctorWizard
from gui.views.downloads_view import DownloadsView
from gui.views.drop import Candidate, candidates_from_texts
from gui.views.main_window import MainWindow
from gui.views.queue_view import BookDialog, QueueView
from gui.views.settings_dialog import SettingsDialog
from gui.views.torrent_details import TorrentDetailsDialog
from gui.views.tray import Tray

log = logging.getLogger(__name__)


class AppController(QObject):
    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        store: Store,
        window: MainWindow | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.secrets = secrets
        self.store = store
        config = qbt_config(settings, secrets) if settings.qbt_url else None
        if config is not None:
            REDACTOR.add(config.password)
        self.service = DownloadService(config, store)
        self.connection = Connection(self.service, self)
        self.queue_model = QueueModel(store, self)
        self.downloads_model = DownloadsModel(self.service.mirror, self)
        self.queue_view = QueueView(self.queue_model)
        self.downloads_view = DownloadsView(self.downloads_model)
        if window is None:
            window = MainWindow(self.queue_view, self.downloads_view)
        else:
            window.set_pages(self.queue_view, self.downloads_view)
        self.window = window
        self.tray = Tray(self._notify_in_window, self)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dialogs: list[QObject] = []
        self._quitting = False
        self.quit_requested = asyncio.Event()
        self._connect_signals()

    # ---- start and stop -------------------------------------------------------------

    def start(self) -> None:
        self.window.show()
        self.connection.start()
        self._spawn(self.queue_model.reload())
        if not self.settings.qbt_url:
            self.open_settings("qbittorrent")

    async def shutdown(self) -> None:
        """Cancel what runs, close sessions and the store; short timeouts, never a hang."""
        self._quitting = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self.connection.stop(), timeout=3)
        except TimeoutError:
            log.warning("the downloads loop did not stop in time")
        if self.tray.icon is not None:
            self.tray.icon.hide()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if isinstance(error, ClientError | TorrentInputError | ValueError):
            self.window.notices.show_notice(str(error), "error")
        else:
            log.error("unexpected error", exc_info=error)
            self.window.notices.show_notice(f"Unexpected error: {error}", "error")

    # ---- wiring ----------------------------------------------------------------------

    def _connect_signals(self) -> None:
        window = self.window
        self.connection.status_changed.connect(self._on_status)
        self.connection.mirror_changed.connect(self.downloads_model.apply)
        self.connection.torrent_finished.connect(self._on_finished)
        self.connection.pending_changed.connect(window.pending.set_pending)
        window.add_clicked.connect(lambda: self.open_add_dialog(""))
        window.start_clicked.connect(lambda: self._on_hashes("start"))
        window.stop_clicked.connect(lambda: self._on_hashes("stop"))
        window.remove_clicked.connect(self.downloads_view.request_remove)
        window.settings_clicked.connect(lambda: self.open_settings("qbittorrent"))
        window.doctor_clicked.connect(self.open_doctor)
        window.sources_dropped.connect(self.take_candidates)
        window.pending.retry_requested.connect(self.service.wake)
        window.pending.discard_requested.connect(
            lambda pending_id: self._spawn(self.service.discard_pending(pending_id))
        )
        window.minimized.connect(self._on_minimized)
        window.close_requested.connect(self._on_window_closed)
        view = self.downloads_view
        view.start_requested.connect(lambda hashes: self._spawn(self.service.start(hashes)))
        view.stop_requested.connect(lambda hashes: self._spawn(self.service.stop(hashes)))
        view.remove_requested.connect(
            lambda hashes, files: self._spawn(self.service.delete(hashes, delete_files=files))
        )
        view.category_requested.connect(
            lambda hashes, name: self._spawn(self.service.set_category(hashes, name))
        )
        view.details_requested.connect(self.open_details)
        self.queue_view.add_requested.connect(lambda: self._edit_book(None))
        self.queue_view.edit_requested.connect(self._edit_book)
        self.queue_view.remove_requested.connect(
            lambda ids: [self._spawn(self.queue_model.remove(i)) for i in ids]
        )
        tray = self.tray
        tray.show_hide_requested.connect(self._toggle_window)
        tray.start_all_requested.connect(lambda: self._all("start"))
        tray.stop_all_requested.connect(lambda: self._all("stop"))
        tray.quit_requested.connect(self.quit)

    def _on_status(self, status: Status) -> None:
        self.window.show_status(status)
        self.tray.set_tooltip(f"Earmark — qBittorrent: {status.link.value.replace('_', ' ')}")

    def _on_finished(self, torrent_hash: str, name: str) -> None:
        self.tray.notify("Download completed", f"'{name}' has finished downloading.")

    def _notify_in_window(self, title: str, text: str) -> None:
        self.window.notices.show_notice(f"<b>{title}</b> — {text}", "success")

    # ---- adding torrents -------------------------------------------------------------

    def take_arguments(self, arguments: list[str]) -> None:
        """Command-line arguments from a second launch: the same path as a drop."""
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        self.take_candidates(candidates_from_texts(arguments))

    def take_candidates(self, candidates: list[Candidate]) -> None:
        for candidate in candidates:
            if candidate.error is not None:
                self.window.notices.show_notice(
                    f"Not added: {_short(candidate.text)} — {candidate.error}", "error"
                )
            elif self.settings.add_without_asking and candidate.source is not None:
                options = options_from_defaults(self.settings.add_defaults)
                self._spawn(self.add(candidate.source, options))
            else:
                self.open_add_dialog(candidate.text)

    def open_add_dialog(self, text: str) -> AddTorrentDialog:
        dialog = AddTorrentDialog(
            text,
            defaults=self.settings.add_defaults,
            categories=self.service.mirror.categories,
            parent=self.window,
        )
        dialog.add_requested.connect(self._dialog_add)
        dialog.show()
        return dialog

    def _dialog_add(
        self, source: TorrentSource, options: AddOptions, remembered: dict[str, Any], dont_ask: bool
    ) -> None:
        self.settings.add_defaults = remembered
        self.settings.add_without_asking = dont_ask
        save_settings(self.settings)
        self._spawn(self.add(source, options))

    async def add(self, source: TorrentSource, options: AddOptions) -> None:
        result = await self.service.add(source, options)
        if result is None:
            self.window.notices.show_notice(
                f"qBittorrent is not reachable: {describe_source(source)} waits in the pending "
                "list and is sent when it is back.",
                "info",
            )
        elif result.already_present:
            self.window.notices.show_notice(f"Already in qBittorrent: {result.name}", "info")
        else:
            self.window.notices.show_notice(f"Added: {result.name or result.hash}", "success")
        self.window.show_downloads()

    # ---- actions on the selection ----------------------------------------------------

    def _on_hashes(self, action: str) -> None:
        hashes = self.downloads_view.selected_hashes()
        if not hashes:
            self.window.notices.show_notice("Select downloads first.", "info", 4000)
            return
        self._spawn(self.service.start(hashes) if action == "start" else self.service.stop(hashes))

    def _all(self, action: str) -> None:
        hashes = list(self.service.mirror.torrents)
        if hashes:
            self._spawn(
                self.service.start(hashes) if action == "start" else self.service.stop(hashes)
            )

    def open_details(self, torrent_hash: str) -> None:
        dialog = TorrentDetailsDialog(self.window, torrent_hash=torrent_hash)
        torrent = self.service.mirror.torrents.get(torrent_hash, {})
        dialog.setWindowTitle(f"Details — {torrent.get('name', torrent_hash)}")
        dialog.show()

        async def load() -> None:
            client = self.service._connected_client()
            dialog.set_properties(await client.properties(torrent_hash))
            dialog.set_files(await client.files(torrent_hash))

        self._spawn(load())

    # ---- wanted books ------------------------------------------------------------------

    def _edit_book(self, book: Book | None) -> None:
        dialog = BookDialog(book, self.window)

        def saved(edited: Book) -> None:
            coroutine = (
                self.queue_model.update(edited)
                if edited.id is not None
                else self.queue_model.add(edited)
            )
            self._spawn(coroutine)

        dialog.saved.connect(saved)
        dialog.show()

    # ---- settings and doctor -------------------------------------------------------------

    def open_settings(self, page: str) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.secrets, parent=self.window)
        dialog.settings_saved.connect(self._settings_saved)
        dialog.open_page(page)
        dialog.show()
        return dialog

    def _settings_saved(self, settings: Settings) -> None:
        self.settings = settings
        config = qbt_config(settings, self.secrets) if settings.qbt_url else None
        if config is not None:
            REDACTOR.add(config.password)

        async def reconfigure() -> None:
            await self.service.configure(config)
            self.downloads_model.reset_from_mirror()  # the mirror was emptied

        self._spawn(reconfigure())

    def open_doctor(self) -> DoctorWizard:
        wizard = DoctorWizard(qbt_config(self.settings, self.secrets), parent=self.window)
        wizard.finished.connect(lambda _result: self._spawn(self.service.reconnect()))
        wizard.show()
        return wizard

    # ---- window and quit -----------------------------------------------------------------

    def _toggle_window(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.hide()
        else:
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()

    def _on_minimized(self) -> None:
        if self.settings.minimize_to_tray and self.tray.available:
            self.window.hide()

    def _on_window_closed(self) -> None:
        if not self._quitting:
            self.quit()

    def quit(self) -> None:
        """Ask `gui.app` to shut down: it awaits `shutdown()` before the loop stops.

        Stopping Qt's loop directly (QApplication.quit) would stop qasync's loop under the
        running coroutine, skipping the clean shutdown.
        """
        self._quitting = True
        self.quit_requested.set()


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
