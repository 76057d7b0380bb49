"""A finished book says that its import needs a library folder, and where to set it
(issue 12, defect 6: it waited in "Downloaded" without a hint)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.models.queue import STATE_COLUMN, QueueModel
from gui.services.workflow import workflow_from_settings
from gui.settings import SecretStore, Settings
from gui.store import Book, Store
from gui.views.settings_dialog import PAGES


def test_a_downloaded_book_says_it_needs_a_library_folder(
    store: Store, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", "unused")
    monkeypatch.delenv("EARMARK_LIBRARY_DIR", raising=False)
    book = store.add_book(Book("Dune", "Frank Herbert"))
    book.torrent_hash = "d" * 40
    store.set_state(book, "downloaded", event="download complete")
    workflow = workflow_from_settings(
        store, Settings(qbt_url="http://127.0.0.1:9/", library_dir=""), SecretStore()
    )
    assert workflow.importer is None

    async def scenario() -> None:
        try:
            await workflow.run_once()
        finally:
            await workflow.aclose()
        model = QueueModel(store)
        await model.reload()
        state = model.index(0, STATE_COLUMN)
        assert state.data() == "Downloaded — set a library folder"
        tip = str(state.data(Qt.ItemDataRole.ToolTipRole))
        assert "library folder" in tip and "Settings → Library" in tip
        assert "Library" in {title for _key, title in PAGES}
        assert "EARMARK_LIBRARY_DIR" in tip

    qloop.run_until_complete(scenario())
