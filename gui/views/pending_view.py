"""Torrents waiting for qBittorrent to come back: visible, so nothing seems lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.torrents import decode_source, describe_source

if TYPE_CHECKING:  # the window shows before the store module is imported
    from gui.store import PendingAdd

PENDING_ID_ROLE = 0x0101


class PendingView(QWidget):
    retry_requested = Signal()
    discard_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        retry = QPushButton("Retry now")
        retry.clicked.connect(self.retry_requested)
        discard = QPushButton("Discard")
        discard.clicked.connect(self._discard)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(retry)
        header.addWidget(discard)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list)
        self.set_pending([])

    def set_pending(self, pending: list[PendingAdd]) -> None:
        self.list.clear()
        for item in pending:
            try:
                text = describe_source(decode_source(item.source))
            except ValueError:
                text = item.source[:120]
            if item.last_error:
                text += f"\n    waiting: {item.last_error}"
            entry = QListWidgetItem(text)
            entry.setData(PENDING_ID_ROLE, item.id)
            self.list.addItem(entry)
        count = len(pending)
        self.title.setText(
            f"<b>{count} torrent{'s' if count != 1 else ''} waiting for qBittorrent</b> — "
            "sent automatically when it is reachable again"
        )
        self.setVisible(count > 0)

    def _discard(self) -> None:
        for item in self.list.selectedItems():
            self.discard_requested.emit(int(item.data(PENDING_ID_ROLE)))
