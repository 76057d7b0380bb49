"""Every window and dialog fits the screen it opens on, at any scale (100-200 %).

Sizes in the code are device-independent pixels: at 200 % on a 1920x1080 screen only
960x540 of them are available, so a dialog sized 820x600 had its OK button off screen.
A filter on the main window (and the dialogs under it) shrinks a window that is shown
larger than the available geometry (never below its minimum, which scroll areas keep
small) and moves it inside.
"""

from __future__ import annotations

from PySide6.QtCore import QChildEvent, QEvent, QObject, QRect, QSize, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QWidget

#: Room left for the window manager's frame when it is not known yet.
FRAME_GUESS = QSize(8, 36)


def available_geometry(window: QWidget) -> QRect:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget) -> None:
    """Shrink `window` to the available geometry of its screen, then (once the window
    system or Qt has placed it) move it inside."""
    shrink_to_screen(window)
    QTimer.singleShot(0, window, lambda: move_into_screen(window))


def shrink_to_screen(window: QWidget) -> None:
    available = available_geometry(window)
    frame = window.frameGeometry()
    extra = frame.size() - window.size()
    if extra.width() <= 0 and extra.height() <= 0 and window.isWindow():
        extra = FRAME_GUESS if not window.isVisible() else QSize(0, 0)
    width = min(window.width(), available.width() - extra.width())
    height = min(window.height(), available.height() - extra.height())
    width = max(width, window.minimumWidth())
    height = max(height, window.minimumHeight())
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)


def move_into_screen(window: QWidget) -> None:
    if not window.isVisible():
        return
    available = available_geometry(window)
    frame = window.frameGeometry()
    x = min(max(frame.x(), available.left()), available.right() + 1 - frame.width())
    y = min(max(frame.y(), available.top()), available.bottom() + 1 - frame.height())
    x, y = max(x, available.left()), max(y, available.top())
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


class ScreenFit(QObject):
    """Fits a window, and each dialog made with it as parent, when shown.

    Not an application-wide filter: that would run Python for every event of the app (a
    thousand per window shown). It watches the main window and the dialogs under it: a
    dialog announces itself to its parent with ChildPolished before it is first shown."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show:
            if isinstance(watched, QWidget) and watched.isWindow():
                fit_to_screen(watched)
        elif kind == QEvent.Type.ChildPolished and isinstance(event, QChildEvent):
            child = event.child()
            if isinstance(child, QDialog):
                # its own dialogs were polished with it, before it was watched
                for dialog in (child, *child.findChildren(QDialog)):
                    if not dialog.property(_WATCHED):
                        dialog.setProperty(_WATCHED, True)
                        dialog.installEventFilter(self)
        return False


_WATCHED = "earmark-screen-fit"
_fit: list[ScreenFit] = []


def watch_screen_fit(window: QMainWindow | QDialog) -> None:
    """Fit `window` and the dialogs opened under it to the screen, at any scale."""
    if not _fit:
        app = QApplication.instance()
        _fit.append(ScreenFit(app))
    if not window.property(_WATCHED):
        window.setProperty(_WATCHED, True)
        window.installEventFilter(_fit[0])
