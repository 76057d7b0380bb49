"""Qt face of the downloads service: its callbacks become signals.

The service knows nothing of Qt; views connect to these signals and call the service's
coroutines from `asyncSlot`s. Signals carry plain Python objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from PySide6.QtCore import QObject, Signal

from gui.clients.maindata import MirrorChange
from gui.services.downloads import DownloadService
from gui.services.status import Status
from gui.store import PendingAdd

log = logging.getLogger(__name__)


class Connection(QObject):
    """Owns the service's background loop for the lifetime of the window."""

    status_changed = Signal(object)  # Status
    mirror_changed = Signal(object)  # MirrorChange
    torrent_finished = Signal(str, str)  # hash, name
    pending_changed = Signal(list)  # list[PendingAdd]

    def __init__(self, service: DownloadService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._task: asyncio.Task[None] | None = None
        service.status_listeners.append(self._on_status)
        service.change_listeners.append(self._on_change)
        service.finished_listeners.append(self._on_finished)
        service.pending_listeners.append(self._on_pending)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.service.run())
            self._task.add_done_callback(self._loop_ended)

    @property
    def running(self) -> bool:
        """The refresh loop was started (it logs in to qBittorrent) and has not ended."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        await self.service.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the downloads loop stopped", exc_info=task.exception())

    def _on_status(self, status: Status) -> None:
        self.status_changed.emit(status)

    def _on_change(self, change: MirrorChange) -> None:
        self.mirror_changed.emit(change)

    def _on_finished(self, torrent_hash: str, name: str) -> None:
        self.torrent_finished.emit(torrent_hash, name)

    def _on_pending(self, pending: list[PendingAdd]) -> None:
        self.pending_changed.emit(pending)
