"""Wires the window's views to the services: the "C" between the models and the views.

Everything that waits on the network runs as an asyncio task on qasync's loop, started
from `asyncSlot`s, so the window keeps painting. Errors from those tasks are shown in the
window's notice bar, never swallowed.

While the window is open it also runs the acquisition workflow (`earmark run`'s loop) on
the downloads service's qBittorrent session, and the wanted and history views re-read the
store after each of its transitions and every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QFrame, QLineEdit, QTableView
from shiboken6 import isValid

from gui.clients.errors import ClientError
from gui.clients.qbittorrent import AddOptions, QBittorrentClient
from gui.clients.torrent_fetch import fetch_torrent
from gui.core.goodreads import CsvBook, ImportPlan, OwnedLookup, plan_import, read_csv_file
from gui.core.metadata import BookMetadata
from gui.core.ranking import Ranked, RankingPolicy, Wanted
from gui.core.redact import REDACTOR
from gui.core.torrents import Magnet, TorrentInputError, TorrentSource, describe_source
from gui.i18n import QT_TRANSLATE_NOOP
from gui.library_controller import LibraryController
from gui.loop_lock import LoopLock, LoopLockHeld
from gui.models.connection import Connection
from gui.models.downloads import DownloadsModel
from gui.models.following import FollowingModel
from gui.models.history import HistoryModel
from gui.models.queue import QueueModel
from gui.services.downloads import DownloadService, global_speeds
from gui.services.library import OwnedIndex, wanted_from_book
from gui.services.new_releases import feeds_of
from gui.services.properties import PropertiesWatcher, Reading
from gui.services.search import (
    IndexerGroup,
    indexers_from_settings,
    rank_off_loop,
    search_all,
)
from gui.services.status import Link, Status
from gui.services.workflow import (
    Transition,
    Workflow,
    WorkflowError,
    WorkflowSettings,
    record_from_ranked,
    release_hash,
    want_book,
    workflow_from_settings,
)
from gui.settings import (
    QBT_SECRETS,
    Secret,
    SecretStore,
    SecretStoreUnavailable,
    Settings,
    SettingsError,
    config_dir,
    load_settings,
    missing_secrets,
    qbt_config,
    save_settings,
)
from gui.store import Book, DownloadRecord, Store, StoreError
from gui.views.add_dialog import AddTorrentDialog, options_from_defaults, with_settings_defaults
from gui.views.book_details import BookDetailsDialog
from gui.views.confirm import ask
from gui.views.doctor_wizard import DoctorWizard
from gui.views.downloads_view import DownloadsView
from gui.views.drop import Candidate, candidates_from_texts
from gui.views.filter_panel import FilterPanel
from gui.views.following_view import FollowingView
from gui.views.history_view import HistoryView
from gui.views.layout_state import WindowLayout, offer_column_menu
from gui.views.main_window import DOWNLOADS_TAB, LIBRARY_TAB, WANTED_TAB, MainWindow
from gui.views.menus import bind_enter
from gui.views.queue_view import BookDialog, QueueView
from gui.views.search_dialog import SearchDialog, SearchResults
from gui.views.secret_prompt import SecretPrompt
from gui.views.settings_dialog import SettingsDialog
from gui.views.speed_limits_dialog import SpeedLimitsDialog
from gui.views.tray import Tray

log = logging.getLogger(__name__)

#: How often the wanted and history views re-read the store while the window is shown
#: (the workflow also asks for a refresh at every transition).
REFRESH_MS = 3000
#: What the greyed transfer list says while qBittorrent is away (the details in a tooltip).
STALE_WORDS = {  # marked for the translator, translated where shown
    Link.UNREACHABLE: QT_TRANSLATE_NOOP(
        "AppController", "qBittorrent cannot be reached (Earmark keeps trying)."
    ),
    Link.REFUSED: QT_TRANSLATE_NOOP(
        "AppController",
        "qBittorrent refused the connection: check Settings or the connection doctor.",
    ),
    Link.CONNECTING: QT_TRANSLATE_NOOP("AppController", "Connecting to qBittorrent…"),
    Link.NOT_CONFIGURED: QT_TRANSLATE_NOOP("AppController", "qBittorrent is not configured."),
}
#: How long quitting waits for a workflow pass to stop (every step is crash-safe).
WORKFLOW_STOP_TIMEOUT = 5.0
#: Book states whose torrent the workflow follows (its removal blocklists the release).
TRACKED_STATES = ("grabbed", "downloading")
STATE_VERB = {"grabbed": "sending", "downloading": "downloading"}
#: How often a window whose profile loop runs elsewhere checks whether it ended (s).
LOOP_LOCK_RETRY = 30.0
_MAGNET_IN_REASON = re.compile(r"(magnet:\?\S+?)(?:\.\s|\.?$)")


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
        self._tasks: set[asyncio.Task[Any]] = set()
        self.service = DownloadService(config, store)
        self.connection = Connection(self.service, self)
        self.queue_model = QueueModel(store, self)
        self.downloads_model = DownloadsModel(self.service.mirror, self)
        self.history_model = HistoryModel(store, self, spawn=self._spawn)
        self.queue_view = QueueView(self.queue_model)
        self.downloads_view = DownloadsView(self.downloads_model)
        self.properties = PropertiesWatcher(self._properties_client, self._on_reading)
        self.history_view = HistoryView(self.history_model)
        self.library = LibraryController(settings, secrets, store, spawn=self._spawn, parent=self)
        if window is None:
            window = MainWindow(
                self.queue_view,
                self.downloads_view,
                history=self.history_view,
                library=self.library.view,
            )
        else:
            window.set_pages(
                self.queue_view, self.downloads_view, self.history_view, self.library.view
            )
        self.window = window
        # The layout (geometry, columns, sort, tab, filters) from the last session.
        self.layout_state = WindowLayout(Path(store.path).parent)
        for table in (self.queue_view.table, self.library.view.table, self.history_view.table):
            offer_column_menu(table)
        # Following authors and series (gui.services.following), a page of its own.
        self.following_model = FollowingModel(
            store,
            config_dir(),
            parent=self,
            spawn=self._spawn,
            # the indexers' feeds of latest releases, from the settings as they are now
            feeds_factory=lambda: feeds_of(indexers_from_settings(self.settings, self.secrets)),
        )
        window.add_page(FollowingView(self.following_model, spawn=self._spawn), "Following")
        self.tray = Tray(self._notify_in_window, self)
        self._book_dialogs: dict[int, BookDetailsDialog] = {}
        self.secret_prompt: SecretPrompt | None = None
        self._quitting = False
        self.quit_requested = asyncio.Event()
        # The acquisition workflow, run in the background on the downloads service's client.
        self.workflow: Workflow | None = None
        self._workflow_stop: asyncio.Event | None = None
        self._workflow_run: asyncio.Task[None] | None = None
        self._workflow_ready = asyncio.Event()
        #: The profile's loop lock while this window runs the acquisition loop
        self._loop_lock: LoopLock | None = None
        self._loop_lock_told: str | None = None
        self._loop_lock_notice: QFrame | None = None
        self._workflow_hold = 0
        self._refreshing: asyncio.Task[Any] | None = None
        self._refresh_again = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._periodic_refresh)
        self._connect_signals()

    # ---- start and stop -------------------------------------------------------------

    def _layout_parts(
        self,
    ) -> tuple[dict[str, QTableView], dict[str, QLineEdit | QComboBox], dict[str, FilterPanel]]:
        tables = {
            "wanted": self.queue_view.table,
            "downloads": self.downloads_view.table,
            "library": self.library.view.table,
            "history": self.history_view.table,
        }
        filters: dict[str, QLineEdit | QComboBox] = {
            "wanted": self.queue_view.search,
            "downloads": self.downloads_view.search,
            "library": self.library.view.filter,
            "history": self.history_view.text,
        }
        # The Downloads status goes with the side panel: the combo's text holds counts.
        return tables, filters, {"downloads": self.downloads_view.side}

    def save_layout(self) -> None:
        tables, filters, panels = self._layout_parts()
        self.layout_state.save(self.window, self.window.tabs, tables, filters, panels)

    def start(self) -> None:
        tables, filters, panels = self._layout_parts()
        self.layout_state.restore(self.window, self.window.tabs, tables, filters, panels)
        self.window.show()
        if not self._ask_missing_secrets():
            self.connection.start()
        self._spawn(self._load_views())
        self._spawn(self._workflow_supervisor())
        self.properties.set_paused(self.window.tabs.currentIndex() != DOWNLOADS_TAB)
        self._spawn(self.properties.run())
        self._refresh_timer.start()
        if not self.settings.qbt_url:
            self.open_settings("qbittorrent")

    def _ask_missing_secrets(self) -> bool:
        """Ask once for the secrets the settings need and nothing holds (no keyring).

        True when a qBittorrent secret is among them: the connection then waits for the
        answer, so no login is ever tried with an empty password."""
        missing = missing_secrets(self.settings, self.secrets)
        if not missing:
            return False
        prompt = SecretPrompt(missing, self.secrets.available(), self.window)
        prompt.answered.connect(lambda values: self._secrets_given(prompt, values))
        prompt.declined.connect(self._secrets_declined)
        self.secret_prompt = prompt
        prompt.show()
        waits = any(secret in QBT_SECRETS for secret in missing)
        if waits:
            self.window.show_status(
                Status(Link.NOT_CONFIGURED, "Waiting for the qBittorrent password")
            )
        return waits

    def _secrets_given(self, prompt: SecretPrompt, values: dict[str, str]) -> None:
        # a dict through a Qt signal arrives with plain str keys: back to Secret here
        given = {Secret(name): value for name, value in values.items()}
        for secret, value in given.items():
            self._keep_secret(secret, value, remember=prompt.remember())
        if any(secret in QBT_SECRETS for secret in given):
            config = qbt_config(self.settings, self.secrets)

            async def connect() -> None:
                await self._with_workflow_held(lambda: self.service.configure(config))
                self.connection.start()

            self._spawn(connect())

    def _keep_secret(self, secret: Secret, value: str, *, remember: bool) -> None:
        """In the keyring when asked and possible, else for this session only (both tell
        the redactor)."""
        if remember:
            try:
                self.secrets.set(secret, value)
                return
            except SecretStoreUnavailable as exc:
                self.window.notices.show_notice(str(exc), "error")
        self.secrets.remember_for_session(secret, value)

    def _secrets_declined(self) -> None:
        if not self.connection.running and self.settings.qbt_url:
            self.window.show_status(
                Status(Link.NOT_CONFIGURED, "Not connected: the qBittorrent password was not given")
            )
            self.window.notices.show_notice(
                self.tr(
                    "Not connected to qBittorrent: its password was not given. Enter it in "
                    "Edit → Preferences → qBittorrent."
                ),
                "info",
                0,
            )

    async def shutdown(self) -> None:
        """Cancel what runs, close sessions and the store; short timeouts, never a hang."""
        self.save_layout()  # first: what the user arranged outlives the session
        self._quitting = True
        self._refresh_timer.stop()
        self.properties.stop()
        self.following_model.stop()
        self._workflow_ready.set()  # the supervisor sees `_quitting` and ends
        await self._stop_workflow()
        if self._loop_lock is not None:
            self._loop_lock.release()
            self._loop_lock = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self.connection.stop(), timeout=3)
        except TimeoutError:
            log.warning("the downloads loop did not stop in time")
        await self.library.close()
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
        if isinstance(
            error, ClientError | TorrentInputError | WorkflowError | StoreError | ValueError
        ):
            self.window.notices.show_notice(str(error), "error")
        else:
            log.error("unexpected error", exc_info=error)
            self.window.notices.show_notice(
                self.tr("Unexpected error: {error}").format(error=error), "error"
            )

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
        window.remove_clicked.connect(self._remove_clicked)
        window.settings_clicked.connect(lambda: self.open_settings("qbittorrent"))
        window.doctor_clicked.connect(self.open_doctor)
        window.reconnect_clicked.connect(
            lambda: self._spawn(self._with_workflow_held(self.service.reconnect))
        )
        window.quit_clicked.connect(self.quit)
        window.import_csv_clicked.connect(self._ask_import)
        window.search_clicked.connect(lambda: self.open_search(None))
        bind_enter(self.downloads_view.table, self.downloads_view.details_action)
        bind_enter(self.queue_view.table, self.queue_view.open_action)
        window.limits_clicked.connect(self.open_speed_limits)
        window.alternative_limits_clicked.connect(
            lambda: self._spawn(self.service.toggle_alternative_limits())
        )
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
        view.remove_note = self._removal_note
        view.current_changed.connect(self.properties.watch)
        view.torrent_action.connect(
            lambda name, hashes, value: self._spawn(self.torrent_action(name, hashes, value))
        )
        panel = view.properties
        panel.tab_changed.connect(lambda tab: self.properties.watch(panel.torrent_hash, tab))
        panel.priority_requested.connect(
            lambda torrent_hash, ids, priority: self._spawn(
                self.set_file_priority(torrent_hash, ids, priority)
            )
        )
        self.connection.mirror_changed.connect(self._sample_speeds)
        queue = self.queue_view
        queue.add_requested.connect(lambda: self._edit_book(None))
        queue.edit_requested.connect(self._edit_book)
        queue.remove_requested.connect(lambda ids: self._spawn(self._remove_books(ids)))
        queue.import_requested.connect(lambda path: self._spawn(self.import_csv(path)))
        queue.search_requested.connect(self.open_search)
        queue.history_requested.connect(self.show_history)
        queue.move_requested.connect(
            lambda ids, step, visible: self._spawn(self.queue_model.move_by(ids, step, visible))
        )
        self.queue_model.reorder_requested.connect(
            lambda ids, row: self._spawn(self.queue_model.move(ids, row))
        )
        queue.prowlarr_requested.connect(lambda book: self._spawn(self.send_via_prowlarr(book)))
        queue.copy_magnet_requested.connect(lambda book: self._spawn(self.copy_book_magnet(book)))
        queue.doctor_requested.connect(self.open_doctor)
        queue.details_requested.connect(lambda book: self._spawn(self.open_book_details(book)))
        window.tabs.currentChanged.connect(self._tab_changed)
        self.history_view.book_chosen.connect(
            lambda book_id: self._spawn(self.history_model.set_book(book_id))
        )
        tray = self.tray
        tray.show_hide_requested.connect(self._toggle_window)
        tray.start_all_requested.connect(lambda: self._all("start"))
        tray.stop_all_requested.connect(lambda: self._all("stop"))
        tray.quit_requested.connect(self.quit)

    def _ask_import(self) -> None:
        self.window.show_wanted()
        self.queue_view.ask_import()

    def _tab_changed(self, index: int) -> None:
        """The library index changes behind the view (the workflow's refreshes): re-read
        it when the user looks, rather than every few seconds for a big library."""
        if index == LIBRARY_TAB:
            self._spawn(self.library.model.reload())
        # as qBittorrent's, the properties panel is read only while it can be seen
        self.properties.set_paused(index != DOWNLOADS_TAB)

    def _remove_clicked(self) -> None:
        """The toolbar's Remove (and Delete) act on the table the user is looking at;
        nothing else (the window disables it on the Library and History pages)."""
        page = self.window.current_page()
        if page == WANTED_TAB:
            self.queue_view.remove_action.trigger()
        elif page == DOWNLOADS_TAB:
            self.downloads_view.remove_action.trigger()

    def _on_status(self, status: Status) -> None:
        self.window.show_status(status)
        stale = None
        if status.link is not Link.CONNECTED and self.service.mirror.torrents:
            stale = self.tr(STALE_WORDS.get(status.link, STALE_WORDS[Link.UNREACHABLE]))
        self.downloads_view.set_stale(stale, status.message)
        self.tray.set_tooltip(f"Earmark — qBittorrent: {status.link.value.replace('_', ' ')}")
        workflow = self.workflow
        stop = self._workflow_stop
        if workflow is not None and workflow.qbt is not self.service.client and stop is not None:
            stop.set()  # the service made a new client (new settings, a reconnect): follow it
        self._workflow_ready.set()

    def _on_finished(self, torrent_hash: str, name: str) -> None:
        self.tray.notify(
            self.tr("Download completed"),
            self.tr("'{name}' has finished downloading.").format(name=name),
        )

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
                    self.tr("Not added: {source} — {reason}").format(
                        source=_short(candidate.text), reason=candidate.error
                    ),
                    "error",
                )
            elif self.settings.add_without_asking and candidate.source is not None:
                options = options_from_defaults(self._add_defaults())
                self._spawn(self.add(candidate.source, options))
            else:
                self.open_add_dialog(candidate.text)

    def open_add_dialog(self, text: str) -> AddTorrentDialog:
        dialog = AddTorrentDialog(
            text,
            defaults=self._add_defaults(),
            categories=self.service.mirror.categories,
            parent=self.window,
        )
        dialog.add_requested.connect(self._dialog_add)
        dialog.show()
        return dialog

    def _add_defaults(self) -> dict[str, Any]:
        return with_settings_defaults(
            self.settings.add_defaults,
            self.settings.qbt_default_category,
            self.settings.qbt_default_save_path,
        )

    def _dialog_add(
        self, source: TorrentSource, options: AddOptions, remembered: dict[str, Any], dont_ask: bool
    ) -> None:
        self.settings.add_defaults = remembered
        self.settings.add_without_asking = dont_ask
        try:
            save_settings(self.settings)
        except OSError as exc:  # the profile's disk full or read-only: the add goes on
            self.window.notices.show_notice(
                self.tr("The add dialog's choices were not saved: {reason}").format(
                    reason=exc.strerror or exc
                ),
                "error",
            )
        self._spawn(self.add(source, options))

    async def add(self, source: TorrentSource, options: AddOptions) -> None:
        result = await self.service.add(source, options)
        if result is None:
            self.window.notices.show_notice(
                self.tr(
                    "qBittorrent is not reachable: {source} waits in the pending list and is "
                    "sent when it is back."
                ).format(source=describe_source(source)),
                "info",
            )
        elif result.already_present:
            self.window.notices.show_notice(
                self.tr("Already in qBittorrent: {name}").format(name=result.name), "info"
            )
        else:
            self.window.notices.show_notice(
                self.tr("Added: {name}").format(name=result.name or result.hash), "success"
            )
        self.window.show_downloads()

    # ---- actions on the selection ----------------------------------------------------

    def _on_hashes(self, action: str) -> None:
        if self.window.current_page() != DOWNLOADS_TAB:
            return  # never act on a selection out of sight (the window disables these)
        hashes = self.downloads_view.selected_hashes()
        if not hashes:
            self.window.notices.show_notice(self.tr("Select downloads first."), "info", 4000)
            return
        self._spawn(self.service.start(hashes) if action == "start" else self.service.stop(hashes))

    def _all(self, action: str) -> None:
        hashes = list(self.service.mirror.torrents)
        if hashes:
            self._spawn(
                self.service.start(hashes) if action == "start" else self.service.stop(hashes)
            )

    def open_details(self, torrent_hash: str) -> None:
        """The properties panel shows the torrent (the view opened it on General)."""
        self.properties.watch(torrent_hash, self.downloads_view.properties.current_tab())

    async def torrent_action(self, name: str, hashes: list[str], value: Any) -> None:
        """What the transfer list's menu asked for (see downloads_view.TORRENT_ACTIONS)."""
        service = self.service
        if name == "recheck":
            await service.recheck(hashes)
        elif name == "reannounce":
            await service.reannounce(hashes)
        elif name == "location":
            await service.set_location(hashes, str(value))
        elif name == "rename":
            await service.rename(hashes[0], str(value))
        elif name == "tags":
            await service.set_tags(hashes, list(value))
        elif name == "queue":
            await service.queue(hashes, str(value))
        elif name == "download_limit":
            await service.set_torrent_limits(hashes, download=int(value))
        elif name == "upload_limit":
            await service.set_torrent_limits(hashes, upload=int(value))
        else:
            raise ValueError(f"unknown torrent action {name!r}")

    def open_speed_limits(self) -> SpeedLimitsDialog:
        status = self.service.status
        dialog = SpeedLimitsDialog(
            status.download_limit, status.upload_limit, status.alternative_limits, self.window
        )
        dialog.limits_chosen.connect(
            lambda down, up: self._spawn(self.service.set_global_limits(download=down, upload=up))
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ---- the properties panel ------------------------------------------------------------

    def _properties_client(self) -> QBittorrentClient | None:
        service = self.service
        return service.client if service.status.link is Link.CONNECTED else None

    def _on_reading(self, reading: Reading) -> None:
        self.downloads_view.properties.apply(reading)

    def _sample_speeds(self, _change: object) -> None:
        self.downloads_view.properties.add_speed_sample(*global_speeds(self.service.mirror))

    async def set_file_priority(
        self, torrent_hash: str, file_ids: list[int], priority: int
    ) -> None:
        await self.service.set_file_priority(torrent_hash, file_ids, priority)
        self.properties.refresh()

    # ---- wanted books ------------------------------------------------------------------

    def _edit_book(self, book: Book | None) -> BookDialog:
        dialog = BookDialog(book, self.window)
        dialog.saved.connect(lambda edited: self._spawn(self._save_book(edited)))
        dialog.show()
        return dialog

    async def _save_book(self, book: Book) -> None:
        if book.id is not None:
            await self.queue_model.update(book)
        else:
            await self.queue_model.add(book)
        self._update_history_books()
        self._wake_workflow()

    async def _remove_books(self, book_ids: list[int]) -> None:
        for book_id in book_ids:
            await self.queue_model.remove(book_id)
        self._update_history_books()
        await self.history_model.reload()  # their events went with them

    async def import_csv(self, path: str) -> ImportPlan:
        """Add the books of a Goodreads export or a plain CSV; report what happened."""
        file = Path(path)
        shelves = self.settings.csv_shelves
        parsed = await asyncio.to_thread(lambda: read_csv_file(file, shelves=shelves))
        queue = [(b.title, b.author, b.isbn) for b in await self.store.run(self.store.books)]
        owned = await self._owned_lookup()
        plan = await asyncio.to_thread(plan_import, parsed, queue, owned)
        if plan.add:
            await self.queue_model.add_many([_book_from_csv(row) for row in plan.add])
            self._update_history_books()
            self._wake_workflow()
        self.queue_view.show_import_report(file.name, plan)
        self.window.notices.show_notice(
            self.tr("Imported {file}: {summary}.").format(file=file.name, summary=plan.summary()),
            "success" if plan.add else "info",
        )
        return plan

    async def _owned_lookup(self) -> OwnedLookup | None:
        """The library's answer to "is this book owned?": the workflow's index of
        Audiobookshelf, else what the store indexed before; None when nothing is known."""
        library = self.workflow.library if self.workflow is not None else None
        if library is not None:
            if not library.loaded:
                await library.load()
            find = library.find_owned
        else:
            rows = await self.store.run(self.store.owned)
            if not rows:
                return None
            find = (await asyncio.to_thread(OwnedIndex, rows)).find

        def lookup(row: CsvBook) -> str | None:
            found = find(wanted_from_book(_book_from_csv(row)))
            return found.title if found is not None else None

        return lookup

    # ---- a book's details and its metadata review ---------------------------------------

    async def open_book_details(self, book: Book) -> BookDetailsDialog | None:
        """The book's page; with the metadata that waits for a review when there is one."""
        if book.id is None:
            return None
        book_id = book.id
        review = await self.store.run(self.store.review, book_id)
        shown = self._book_dialogs.get(book_id)  # (also opened while the review was read)
        if shown is not None and isValid(shown):
            shown.show()
            shown.raise_()
            return shown
        dialog = BookDetailsDialog(book, review, self.window)
        dialog.apply_requested.connect(
            lambda _id, meta: self._spawn(self._finish_review(dialog, book_id, meta))
        )
        dialog.keep_requested.connect(
            lambda _id: self._spawn(self._finish_review(dialog, book_id, None))
        )
        dialog.history_requested.connect(lambda _id: self.show_history(book))
        dialog.finished.connect(lambda _result: self._book_dialogs.pop(book_id, None))
        self._book_dialogs[book_id] = dialog
        dialog.show()
        return dialog

    async def _finish_review(
        self, dialog: BookDetailsDialog, book_id: int, meta: BookMetadata | None
    ) -> None:
        """Import the reviewed book with the user's choice (the copy, tags, ABS).

        The user may close the page while the import runs: the outcome then goes to the
        window's notice bar (a closed page is deleted)."""

        def tell(ok: bool, text: str) -> None:
            if isValid(dialog):
                dialog.set_busy(False)
                dialog.show_result(ok, text)
            elif not ok:
                self.window.notices.show_notice(text, "error")

        dialog.set_busy(True)
        try:
            move = await self._require_workflow().finish_review(book_id, meta)
        except (ClientError, WorkflowError) as exc:
            tell(False, str(exc))
            return
        finally:
            self._refresh_soon()
        book = await self.store.run(self.store.book, book_id)
        if move is not None and move.to_state == "in_library" and book is not None:
            tell(True, f"Imported into {book.library_path}.")
        else:
            tell(False, (book.reason if book else None) or "The import did not finish.")

    def show_history(self, book: Book | None) -> None:
        self._update_history_books()
        self.window.show_history()
        self.history_view.show_book(book.id if book is not None else None)

    def _update_history_books(self) -> None:
        titles = {b.id: b.title for b in self.queue_model.books() if b.id is not None}
        self.history_model.set_titles(titles)
        self.history_view.set_books(list(titles.items()))

    async def _load_views(self) -> None:
        await self.queue_model.reload()
        self._update_history_books()
        await self.library.model.reload()
        await self.history_model.reload()

    def _periodic_refresh(self) -> None:
        if self.window.isVisible():
            self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Re-read the store for the wanted and history views (one refresh at a time)."""
        if self._quitting:
            return
        if self._refreshing is not None and not self._refreshing.done():
            self._refresh_again = True
            return
        self._refreshing = self._spawn(self._refresh_views())

    async def _refresh_views(self) -> None:
        while True:
            self._refresh_again = False
            if await self.queue_model.refresh():
                self._update_history_books()
            await self.history_model.refresh_newest()
            if not self._refresh_again:
                return

    # ---- the background workflow --------------------------------------------------------

    async def _workflow_supervisor(self) -> None:
        """Run the acquisition loop (what `earmark run` runs) while the window is open.

        It uses the downloads service's client, so there is one qBittorrent session and
        one login; when the service replaces its client (new settings, the user's
        reconnect), the loop stops and starts again on the new one.
        """
        failed: tuple[object, object] | None = None  # (client, settings) that did not build
        while not self._quitting:
            client = self.service.client
            if (
                self._workflow_hold
                or client is None
                or self.service.status.link is not Link.CONNECTED
                or failed == (client, self.settings)
            ):
                self._workflow_ready.clear()
                await self._workflow_ready.wait()
                continue
            if not self._hold_loop_lock():
                self._workflow_ready.clear()
                with contextlib.suppress(TimeoutError):  # the other loop may end
                    async with asyncio.timeout(LOOP_LOCK_RETRY):
                        await self._workflow_ready.wait()
                continue
            try:
                workflow = self._build_workflow(client)
            except Exception as exc:  # said once; tried again with new settings or client
                if not isinstance(exc, WorkflowError | ValueError):
                    log.exception("the workflow could not be built")
                failed = (client, self.settings)
                self.window.notices.show_notice(
                    self.tr("The wanted queue is on hold: {reason}").format(reason=exc), "error"
                )
                continue
            failed = None
            stop = asyncio.Event()
            run = asyncio.ensure_future(workflow.run_forever(stop))
            self.workflow, self._workflow_stop, self._workflow_run = workflow, stop, run
            try:
                # asyncio.wait, not `await run`: cancelling this task must not cancel the
                # loop mid-pass; it is stopped through `stop` (which cancels the pass).
                await asyncio.wait({run})
            except asyncio.CancelledError:
                stop.set()
                await asyncio.wait({run}, timeout=WORKFLOW_STOP_TIMEOUT)
                raise
            finally:
                if self.workflow is workflow:
                    self.workflow, self._workflow_stop, self._workflow_run = None, None, None
            error = None if run.cancelled() else run.exception()
            if error is not None:  # run_forever survives a failed pass: this is a bug
                log.error("the workflow loop stopped", exc_info=error)
                self.window.notices.show_notice(
                    self.tr("The wanted queue stopped: {reason}").format(reason=error), "error"
                )
                failed = (client, self.settings)

    def _hold_loop_lock(self) -> bool:
        """Whether this window may run the profile's acquisition loop: it holds the lock,
        or takes it now. Held by `earmark run`: said once, the queue stays on view."""
        if self._loop_lock is not None:
            return True
        try:
            self._loop_lock = LoopLock.acquire(self.store.path.parent, "the Earmark window")
        except (LoopLockHeld, OSError) as exc:
            if str(exc) != self._loop_lock_told:
                self._loop_lock_told = str(exc)
                if self._loop_lock_notice is not None:
                    self.window.notices.dismiss(self._loop_lock_notice)
                self._loop_lock_notice = self.window.notices.show_notice(
                    self.tr("This window does not search or grab: {reason}").format(reason=exc),
                    "info",
                    timeout_ms=0,
                )
            return False
        self._loop_lock_told = None
        if self._loop_lock_notice is not None:  # the other loop ended: this one runs now
            self.window.notices.dismiss(self._loop_lock_notice)
            self._loop_lock_notice = None
        return True

    def _build_workflow(self, client: QBittorrentClient) -> Workflow:
        workflow = workflow_from_settings(self.store, self.settings, self.secrets)
        # workflow_from_settings makes its own client (never used: no session, no login);
        # the window's workflow shares the downloads service's logged-in one instead.
        workflow.qbt = client
        workflow.owns_qbt = False
        workflow.listeners.append(self._on_transition)
        workflow.progress_listeners.append(self._on_import_progress)
        return workflow

    def _on_transition(self, move: Transition) -> None:
        self._refresh_soon()
        if move.from_state == "importing" and move.to_state != "importing":
            self.window.show_import_progress("")
        if move.from_state == "importing" and move.to_state == "in_library":
            self.tray.notify("Added to your library", f"'{move.title}' is in your library.")
            self._spawn(self.library.model.reload())
        elif move.from_state == move.to_state == "importing":
            self.tray.notify("Metadata to review", f"'{move.title}': {move.message}")

    def _on_import_progress(self, book_id: int, done: int, total: int) -> None:
        self.queue_model.set_import_progress(book_id, done, total)
        book = self.queue_model.book(book_id)
        title = book.title if book is not None else f"book {book_id}"
        percent = 100 * done // total if total else 100
        self.window.show_import_progress(
            "" if done >= total else f"Importing '{_short(title, 40)}': {percent}%"
        )

    def _wake_workflow(self) -> None:
        if self.workflow is not None:
            self.workflow.wake()

    async def _stop_workflow(self) -> None:
        if self._workflow_stop is not None:
            self._workflow_stop.set()
        run = self._workflow_run
        if run is not None and not run.done():
            _, pending = await asyncio.wait({run}, timeout=WORKFLOW_STOP_TIMEOUT)
            if pending:
                log.warning("the workflow did not stop in time; cancelling it")
                run.cancel()

    async def _with_workflow_held(self, action: Callable[[], Awaitable[Any]]) -> None:
        """Stop the workflow around a change of the service's client, so it never calls
        a client that is being closed (a closed client would log in again by itself)."""
        self._workflow_hold += 1
        try:
            await self._stop_workflow()
            await action()
        finally:
            self._workflow_hold -= 1
            self._workflow_ready.set()

    def _require_workflow(self) -> Workflow:
        if self.workflow is None:
            if not self.settings.qbt_url:
                raise WorkflowError("qBittorrent is not configured (Settings → qBittorrent)")
            raise WorkflowError(f"not connected to qBittorrent ({self.service.status.message})")
        return self.workflow

    # ---- searching and grabbing by hand ---------------------------------------------------

    def open_search(self, book: Book | None) -> SearchDialog:
        wanted = wanted_from_book(book) if book is not None else Wanted(title="", author="")
        dialog = SearchDialog(
            self.search,
            book=book,
            wanted=wanted,
            spawn=self._spawn,
            grab_problem=None if self.settings.qbt_url else "qBittorrent is not configured",
            parent=self.window,
        )
        dialog.grab_requested.connect(lambda ranked: self._spawn(self._grab_from(dialog, ranked)))
        dialog.copy_magnet_requested.connect(
            lambda ranked: self._spawn(self._copy_release_magnet(dialog, ranked))
        )
        dialog.show()
        if book is not None:
            dialog.start_search()
        return dialog

    async def search(self, wanted: Wanted) -> SearchResults:
        """Every configured indexer, ranked by the user's policy (blocklist included)."""
        workflow = self.workflow
        indexers = (
            workflow.indexers
            if workflow is not None
            else indexers_from_settings(self.settings, self.secrets)
        )
        if not indexers:
            raise WorkflowError(
                "no indexer is configured: set Prowlarr or a Torznab feed in the settings"
            )
        timeout = WorkflowSettings.from_settings(self.settings).per_indexer_timeout
        outcome = await search_all(wanted, indexers, per_indexer_timeout=timeout)
        blocked = await self.store.run(self.store.blocked)
        policy = workflow.policy if workflow is not None else None
        policy = policy or RankingPolicy.from_dict(self.settings.ranking_policy)
        policy = dataclasses.replace(policy, blocklist=policy.blocklist | blocked)
        ranked = await rank_off_loop(wanted, outcome.releases, policy)
        failures = [(f.indexer, f.reason) for f in outcome.failures]
        # A group (Prowlarr) is timed for listing its indexers; count only real indexers.
        failed = {name for name, _ in failures}
        groups = {ix.name for ix in indexers if isinstance(ix, IndexerGroup)} - failed
        timings = {name: took for name, took in outcome.timings.items() if name not in groups}
        return SearchResults(ranked, failures, timings)

    def _removal_note(self, hashes: list[str]) -> str:
        """What removing these torrents means for the wanted books they download: the
        workflow takes a vanished torrent as a dead release (blocklist, next best)."""
        wanted = {h.lower() for h in hashes}
        titles = [
            book.title
            for book in self.queue_model.books()
            if book.state in TRACKED_STATES and (book.torrent_hash or "").lower() in wanted
        ]
        if not titles:
            return ""
        books = ", ".join(f"“{t}”" for t in titles)
        return (
            f"{books} {'is a wanted book' if len(titles) == 1 else 'are wanted books'}: "
            "removing the torrent blocklists this release, and Earmark grabs the next best "
            "one or searches again. To pause a download instead, use Stop."
        )

    async def _grab_from(self, dialog: SearchDialog, ranked: Ranked) -> None:
        """Grab the user's choice; for a book that already has a torrent on the way, ask
        first (a second torrent was added without a word)."""
        book = dialog.book
        current = await self.store.run(self.store.book, book.id) if book and book.id else None
        if current is not None and current.torrent_hash and current.state in TRACKED_STATES:
            torrent = self.service.mirror.torrents.get(current.torrent_hash.lower(), {})
            name = str(torrent.get("name") or current.torrent_hash)
            if isValid(dialog):
                ask(
                    dialog,
                    "Grab another release?",
                    f"“{current.title}” is already {STATE_VERB[current.state]} “{name}”.",
                    f"Grab “{ranked.release.title}” instead? Earmark then follows the new "
                    "torrent; the current one stays in qBittorrent (stopped or not) until "
                    "you remove it, and removing it does not blocklist anything then.",
                    "Grab this release",
                    lambda: self._spawn(self._grab_now(dialog, ranked)),
                    name="second-grab",
                )
            return
        await self._grab_now(dialog, ranked)

    async def _grab_now(self, dialog: SearchDialog, ranked: Ranked) -> None:
        try:
            book = await self.grab(dialog.book, ranked, dialog.current_wanted())
        except (ClientError, TorrentInputError, WorkflowError, ValueError) as exc:
            if isValid(dialog):
                dialog.grab_finished(False, f"Not grabbed: {exc}")
            return
        if not isValid(dialog):
            return
        dialog.book = book
        if book.state == "downloading":
            last = await self.store.run(self.store.events, book_id=book.id, limit=1)
            message = last[0].message if last else "added to qBittorrent"
            dialog.grab_finished(True, message[:1].upper() + message[1:])
        else:
            dialog.grab_finished(False, book.reason or f"The book is {book.state}.")

    async def grab(self, book: Book | None, ranked: Ranked, wanted: Wanted | None = None) -> Book:
        """Send the user's choice of release to qBittorrent for a book.

        The release is recorded as the workflow records its own choices (saved release,
        download record with the info-hash, the book in `grabbed` with that hash), then
        the workflow's own step adds it: one piece of code adds torrents, with the
        category, the tags and the refusal handling of the background loop. A free
        search's grab first puts the book on the wanted queue.
        """
        workflow = self._require_workflow()
        if book is None:
            book = await self._want_for_grab(ranked, wanted)
        assert book.id is not None
        [saved] = await self.store.run(
            self.store.save_releases, [record_from_ranked(book.id, ranked)]
        )
        info_hash = release_hash(saved)
        if info_hash is None:
            if not saved.download_url:
                raise WorkflowError("this release has neither a magnet nor a download link")
            source = await workflow.fetch(saved.download_url)
            info_hash = source.info_hash.lower()
            saved.info_hash = info_hash
            if isinstance(source, Magnet):
                saved.magnet = source.uri  # the workflow then adds it without fetching again
            await self.store.run(self.store.save_releases, [saved])
        await self.store.run(
            self.store.record_download, DownloadRecord(book.id, info_hash, saved.id)
        )
        current = await self.store.run(self.store.book, book.id)
        if current is None:
            raise WorkflowError("the book was removed from the wanted queue")
        current.torrent_hash = info_hash
        current.search_attempts = 0
        current.next_search_at = 0.0
        event = (
            f"grabbed by hand: '{saved.title}' from {saved.indexer or 'an indexer'} "
            f"(score {saved.score:.0f}, release #{saved.id})"
        )
        if saved.rejected:
            event += f"; the policy had rejected it: {saved.rejected}"
        await self.store.run(self.store.set_state, current, "grabbed", event=event)
        self._refresh_soon()
        await workflow.step(current)
        self._refresh_soon()
        return current

    async def _want_for_grab(self, ranked: Ranked, wanted: Wanted | None) -> Book:
        title = (wanted.title if wanted else "") or ranked.parsed.title or ranked.release.title
        author = (wanted.author if wanted else "") or ", ".join(ranked.parsed.authors)
        book, _ = await self.store.run(want_book, self.store, title, author or "Unknown author")
        await self.queue_model.refresh()
        self._update_history_books()
        return book

    async def _copy_release_magnet(self, dialog: SearchDialog, ranked: Ranked) -> None:
        release = ranked.release
        magnet = release.magnet
        if not magnet and release.info_hash:
            magnet = f"magnet:?xt=urn:btih:{release.info_hash}&dn={quote(release.title, safe='')}"
        if not magnet and release.download_url:
            try:
                source = await fetch_torrent(release.download_url)
            except (ClientError, TorrentInputError) as exc:
                if isValid(dialog):
                    dialog.show_note(f"No magnet link: {exc}", "error")
                return
            magnet = source.uri if isinstance(source, Magnet) else source.magnet_uri()
        if not magnet:
            if isValid(dialog):
                dialog.show_note("This release has no magnet link.", "error")
            return
        QGuiApplication.clipboard().setText(REDACTOR.conceal(magnet))
        if isValid(dialog):
            dialog.show_note("Magnet link copied to the clipboard.", "success")

    # ---- when qBittorrent refused a grab ----------------------------------------------------

    async def send_via_prowlarr(self, book: Book) -> None:
        workflow = self._require_workflow()
        await workflow.send_via_prowlarr(book)
        self.window.notices.show_notice(
            self.tr(
                "Sent through Prowlarr's download client: {title}. Earmark links the "
                "torrent when it appears in qBittorrent."
            ).format(title=book.title),
            "success",
        )
        self._refresh_soon()

    async def copy_book_magnet(self, book: Book) -> str | None:
        magnet = None
        if self.workflow is not None:
            magnet = (await self.workflow.grab_alternatives(book)).magnet
        if magnet is None:
            found = _MAGNET_IN_REASON.search(book.reason or "")
            magnet = found.group(1) if found else None
        if magnet is None:
            self.window.notices.show_notice(
                self.tr("No magnet link is known for {title}.").format(title=book.title), "error"
            )
            return None
        QGuiApplication.clipboard().setText(REDACTOR.conceal(magnet))
        self.window.notices.show_notice(
            self.tr("Magnet link of {title} copied: paste it into your torrent client.").format(
                title=book.title
            ),
            "success",
        )
        return magnet

    # ---- settings and doctor -------------------------------------------------------------

    def open_settings(self, page: str) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.secrets, parent=self.window)
        dialog.settings_saved.connect(self._settings_saved)
        dialog.open_page(page)
        dialog.show()
        return dialog

    def _settings_saved(self, settings: Settings) -> None:
        self.settings = settings
        # A password left empty without a keyring is asked for, never sent empty.
        asking = bool(settings.qbt_url) and any(
            secret in QBT_SECRETS for secret in missing_secrets(settings, self.secrets)
        )
        config = qbt_config(settings, self.secrets) if settings.qbt_url and not asking else None
        if config is not None:
            REDACTOR.add(config.password)
        if asking:
            self._ask_missing_secrets()

        async def reconfigure() -> None:
            await self._with_workflow_held(lambda: self.service.configure(config))
            self.downloads_model.reset_from_mirror()  # the mirror was emptied
            await self.library.reconfigure(settings)

        self._spawn(reconfigure())

    def open_doctor(self) -> DoctorWizard:
        wizard = DoctorWizard(qbt_config(self.settings, self.secrets), parent=self.window)
        wizard.host_header_chosen.connect(self.use_host_header)
        wizard.password_chosen.connect(
            lambda password: self._keep_secret(
                Secret.QBT_PASSWORD, password, remember=self.secrets.available()
            )
        )
        wizard.finished.connect(lambda _result: self._doctor_finished(wizard))
        wizard.show()
        return wizard

    def _doctor_finished(self, wizard: DoctorWizard) -> None:
        """Reconnect after the doctor; with the password or Host header it fixed, if any
        (one login, with what the doctor just saw work)."""
        if wizard.password_changed or wizard.host_header_used is not None:
            self._settings_saved(self.settings)  # a new client from the fixed settings
        else:
            self._spawn(self._with_workflow_held(self.service.reconnect))

    def use_host_header(self, host: str) -> None:
        """The doctor's safe fix: send the Host header qBittorrent accepts, from now on
        (saved in the settings file; the environment's values are not copied there)."""
        try:
            stored = load_settings(env=False)
        except SettingsError as exc:
            self.window.notices.show_notice(
                self.tr("The Host header was not saved: {reason}").format(reason=exc), "error"
            )
            return
        stored.qbt_host_header = host
        save_settings(stored)
        self.settings.qbt_host_header = host
        self.window.notices.show_notice(
            self.tr(
                "Earmark now sends 'Host: {host}' to qBittorrent (Settings → qBittorrent, "
                "Advanced)."
            ).format(host=host),
            "success",
        )

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
        """Closing quits, unless the user chose to keep Earmark in the tray."""
        if self._quitting:
            return
        if self.settings.close_to_tray and self.tray.available:
            self.tray.notify("Earmark keeps running", "Quit from the tray icon's menu.")
            return
        self.quit()

    def quit(self) -> None:
        """Ask `gui.app` to shut down: it awaits `shutdown()` before the loop stops.

        Stopping Qt's loop directly (QApplication.quit) would stop qasync's loop under the
        running coroutine, skipping the clean shutdown.
        """
        self._quitting = True
        self.quit_requested.set()


def _book_from_csv(row: CsvBook) -> Book:
    return Book(
        title=row.title,
        author=row.author,
        narrator=row.narrator,
        series=row.series,
        position=row.position,
        asin=row.asin,
        isbn=row.isbn,
        language=row.language,
        preferred_format=row.preferred_format,
    )


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
