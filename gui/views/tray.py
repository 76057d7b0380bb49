"""Tray icon and notifications, with the window as the fallback where no tray exists.

Like qBittorrent's desktop integration: `QSystemTrayIcon.showMessage` where a tray is
available (Windows shows it as a toast), otherwise the same words in the window's notice
bar, so a finished download is never announced to nobody.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from gui.core.redact import REDACTOR
from gui.views.icons import app_icon

FallbackNotifier = Callable[[str, str], None]


class Tray(QObject):
    show_hide_requested = Signal()
    start_all_requested = Signal()
    stop_all_requested = Signal()
    quit_requested = Signal()

    def __init__(self, fallback: FallbackNotifier, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fallback = fallback
        self.icon: QSystemTrayIcon | None = None
        self.menu = QMenu()
        for text, signal in (
            ("Show / hide Earmark", self.show_hide_requested),
            ("Start all", self.start_all_requested),
            ("Stop all", self.stop_all_requested),
            ("Quit", self.quit_requested),
        ):
            action = QAction(text, self.menu)
            action.triggered.connect(signal)
            self.menu.addAction(action)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(app_icon(), self)
            self.icon.setToolTip("Earmark")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.icon.show()

    @property
    def available(self) -> bool:
        return self.icon is not None and self.icon.isVisible()

    def notify(self, title: str, text: str) -> None:
        """A desktop notification (it leaves the process: the redactor sees it first)."""
        title, text = REDACTOR.text(title), REDACTOR.text(text)
        if self.icon is not None and self.available and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)
        else:
            self._fallback(title, text)

    def set_tooltip(self, text: str) -> None:
        if self.icon is not None:
            self.icon.setToolTip(text)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.show_hide_requested.emit()
