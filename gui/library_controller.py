"""The Library tab's controller: the Audiobookshelf index, covers, a book's details, matches.

Apart from `gui.controller` because the library needs no qBittorrent: it works while
qBittorrent is down or not configured. It keeps one Audiobookshelf session for covers and
matches (closed when the settings change and at quit), and refreshes the index the same
way the workflow does (`LibraryIndex`), so the two never disagree on what is owned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject
from shiboken6 import isValid

from gui.clients.audiobookshelf import AbsClient, book_from_item
from gui.clients.errors import ClientError
from gui.models.library import COVER_REQUEST_WIDTH, LibraryModel
from gui.services.library import (
    LibraryIndex,
    abs_factory,
    metadata_from_owned,
    owned_from_abs,
)
from gui.settings import SecretStore, Settings
from gui.store import Store
from gui.views.library_view import LibraryView
from gui.views.owned_details import OwnedDetailsDialog

log = logging.getLogger(__name__)

#: The details dialog's cover width (180 px shown, twice that for high-DPI screens);
#: the table asks for `COVER_REQUEST_WIDTH` (ABS scales covers on its side).
DIALOG_COVER_WIDTH = 360
NOT_CONFIGURED = "not configured: set its address and API key in Settings"

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class LibraryController(QObject):
    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        store: Store,
        *,
        spawn: Spawn,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.secrets = secrets
        self.store = store
        self._spawn = spawn
        self._client: AbsClient | None = None
        self._dialogs: dict[str, OwnedDetailsDialog] = {}
        self._refreshing: asyncio.Task[Any] | None = None
        self.model = LibraryModel(store, self, spawn=spawn, cover_loader=self.cover)
        self.view = LibraryView(self.model)
        self.view.refresh_requested.connect(self.refresh_soon)
        self.view.details_requested.connect(lambda item_id: spawn(self.open_details(item_id)))
        if abs_factory(settings, secrets) is None:
            self.view.set_status(f"Audiobookshelf is {NOT_CONFIGURED}.")

    # ---- Audiobookshelf --------------------------------------------------------------

    def _abs(self) -> AbsClient:
        if self._client is None:
            factory = abs_factory(self.settings, self.secrets)
            if factory is None:
                raise ClientError(NOT_CONFIGURED, service="Audiobookshelf")
            self._client = factory()
        return self._client

    async def cover(self, item_id: str, width: int = COVER_REQUEST_WIDTH) -> bytes | None:
        return await self._abs().cover(item_id, width=width)

    async def reconfigure(self, settings: Settings) -> None:
        """New settings: the next call opens a session with them."""
        self.settings = settings
        await self.close()
        self.refresh_soon()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    # ---- the index ---------------------------------------------------------------------

    def refresh_soon(self) -> None:
        """The Refresh button: one refresh at a time."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = self._spawn(self.refresh())

    async def refresh(self) -> None:
        factory = abs_factory(self.settings, self.secrets)
        if factory is None:
            self.view.set_status(f"Audiobookshelf is {NOT_CONFIGURED}.", error=True)
            return
        self.view.set_status("Reading your Audiobookshelf library…")
        self.view.set_refreshing(True)
        index = LibraryIndex(self.store, factory)
        try:
            report = await index.refresh(self.settings.abs_library_id or None)
            owned = await index.mark_owned(self.store)
        except (ClientError, ValueError) as exc:
            self.view.set_status(f"The library was not refreshed: {exc}", error=True)
            return
        finally:
            self.view.set_refreshing(False)
        status = report.summary()
        if owned:
            status += f"; {len(owned)} wanted book(s) found in it"
        self.view.set_status(status[:1].upper() + status[1:])
        await self.model.reload()

    # ---- one book ------------------------------------------------------------------------

    async def open_details(self, item_id: str) -> OwnedDetailsDialog | None:
        owned = await self.store.run(self.store.owned_book, item_id)
        dialog = self._dialogs.get(item_id)  # (also opened while the book was read)
        if dialog is not None:
            dialog.show()
            dialog.raise_()
            return dialog
        if owned is None:
            return None
        dialog = OwnedDetailsDialog(
            owned, self.view.window(), provider=self.settings.abs_match_provider or "audible"
        )
        dialog.match_requested.connect(
            lambda item, provider: self._spawn(self.match(dialog, item, provider))
        )
        dialog.finished.connect(lambda _result: self._closed(item_id))
        self._dialogs[item_id] = dialog
        dialog.show()
        if owned.has_cover:
            self._spawn(self._show_cover(dialog, item_id))
        return dialog

    def _closed(self, item_id: str) -> None:
        dialog = self._dialogs.pop(item_id, None)
        if dialog is not None:
            dialog.deleteLater()

    async def _show_cover(self, dialog: OwnedDetailsDialog, item_id: str) -> None:
        try:
            image = await self.cover(item_id, DIALOG_COVER_WIDTH)
        except ClientError as exc:
            log.info("no cover for %s: %s", item_id, exc)
            image = None
        if isValid(dialog):  # closed meanwhile: deleted
            dialog.set_cover(image)

    async def match(self, dialog: OwnedDetailsDialog, item_id: str, provider: str) -> None:
        """Ask Audiobookshelf to match the item; the index and the dialog follow (the
        dialog only while it is open: a closed one is deleted)."""
        dialog.set_busy(True)
        owned = await self.store.run(self.store.owned_book, item_id)
        if owned is None:
            if isValid(dialog):
                dialog.set_busy(False)
                dialog.show_result(False, "This book is no longer indexed; refresh the library.")
            return
        try:
            result = await self._abs().match(
                item_id,
                provider=provider,
                title=owned.title,
                author=next(iter(metadata_from_owned(owned).authors), ""),
                isbn=owned.isbn,
                asin=owned.asin,
            )
        except (ClientError, ValueError) as exc:
            if isValid(dialog):
                dialog.set_busy(False)
                dialog.show_result(False, str(exc))
            return
        updated = None
        if result.updated and result.item is not None:
            updated = owned_from_abs(book_from_item(result.item), owned.library_id)
            await self.store.run(self.store.save_owned, updated)
            self.model.invalidate_cover(item_id)  # a match may bring a cover
            await self.model.reload()
        if not isValid(dialog):
            return
        dialog.set_busy(False)
        if updated is None:
            dialog.show_result(False, result.warning or f"{provider} changed nothing.")
            return
        dialog.set_book(updated)
        dialog.show_result(True, f"Audiobookshelf matched the book with {provider}.")
        if updated.has_cover:
            await self._show_cover(dialog, item_id)
