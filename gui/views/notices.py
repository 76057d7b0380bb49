"""An in-window notice strip: where the tray cannot speak, the window does.

Used for "download finished" when the desktop has no system tray, and for refused drops
("not a torrent: …") which deserve more than a fleeting status-bar message.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget
from shiboken6 import isValid

from gui.core.redact import REDACTOR
from gui.models.palette import BAD, GOOD, INFO
from gui.models.themed import status_background, status_text

#: A notice's colour by level; its background is the palette's base tinted with it, so
#: the palette's text stays readable on light and dark palettes alike.
LEVEL_COLOUR = {"info": INFO, "success": GOOD, "error": BAD}


def level_style(level: str) -> str:
    colour = LEVEL_COLOUR.get(level, INFO)
    background = status_background(colour).name()
    border = status_text(colour, status_background(colour)).name()
    return f"background:{background}; border:1px solid {border};"


class NoticeBar(QWidget):
    """A stack of dismissible one-line notices; each fades after a while unless an error."""

    MAX_NOTICES = 5
    changed = Signal()  # a notice came or went: the window places the bar again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 4, 6, 0)
        self._layout.setSpacing(3)
        self.setVisible(False)

    def show_notice(self, text: str, level: str = "info", timeout_ms: int = 15000) -> QFrame:
        frame = QFrame(self)
        frame.setObjectName("notice")
        frame.setProperty("level", level)
        frame.setStyleSheet(f"QFrame#notice {{ {level_style(level)} border-radius:4px; }}")
        row = QHBoxLayout(frame)
        row.setContentsMargins(8, 3, 3, 3)
        label = QLabel(REDACTOR.text(text), frame)  # an error may echo a key or passkey
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(frame)
        close.setText("✕")
        close.setToolTip(self.tr("Dismiss"))
        close.setAccessibleName(self.tr("Dismiss"))
        close.setAutoRaise(True)
        close.clicked.connect(lambda: self._remove(frame))
        row.addWidget(label, 1)
        row.addWidget(close)
        self._layout.addWidget(frame)
        while self._layout.count() > self.MAX_NOTICES:
            item = self._layout.itemAt(0)
            old = item.widget() if item is not None else None
            if old is None:
                break
            self._remove(old)
        self.setVisible(True)
        self.changed.emit()
        if level != "error" and timeout_ms > 0:
            QTimer.singleShot(timeout_ms, frame, lambda: self._remove(frame))
        return frame

    def texts(self) -> list[str]:
        found: list[str] = []
        for index in range(self._layout.count()):
            item = self._layout.itemAt(index)
            widget = item.widget() if item is not None else None
            label = widget.findChild(QLabel) if widget is not None else None
            if label is not None:
                found.append(label.text())
        return found

    def dismiss(self, frame: QWidget) -> None:
        """Take a notice away that no longer holds (it was shown without a timeout)."""
        if isValid(frame) and self._layout.indexOf(frame) >= 0:
            self._remove(frame)

    def _remove(self, frame: QWidget) -> None:
        self._layout.removeWidget(frame)
        frame.deleteLater()
        self.setVisible(self._layout.count() > 0)
        self.changed.emit()
