"""The main window: toolbar, Wanted, Downloads, Library and History tabs, notices, status bar.

A view only: it shows what the models hold and forwards what the user wants (toolbar
actions, drops, pastes) as signals; `gui.app` wires them to the services.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui import __version__
from gui.core.formatting import human_speed
from gui.models.palette import BAD, GOOD, WARN
from gui.services.status import Link, Status
from gui.views.drop import Candidate, accepts, candidates_from_mime
from gui.views.icons import app_icon
from gui.views.notices import NoticeBar
from gui.views.pending_view import PendingView

WANTED_TAB, DOWNLOADS_TAB, LIBRARY_TAB, HISTORY_TAB = range(4)

LINK_WORDS = {
    Link.NOT_CONFIGURED: ("Not configured", "#777777"),
    Link.CONNECTING: ("Connecting…", WARN),
    Link.CONNECTED: ("Connected", GOOD),
    Link.UNREACHABLE: ("Unreachable — retrying", BAD),
    Link.REFUSED: ("Refused — check settings", BAD),
}


class MainWindow(QMainWindow):
    add_clicked = Signal()
    start_clicked = Signal()
    stop_clicked = Signal()
    remove_clicked = Signal()
    settings_clicked = Signal()
    doctor_clicked = Signal()
    reconnect_clicked = Signal()
    sources_dropped = Signal(list)  # list[Candidate]
    close_requested = Signal()  # the window was closed (quit, or hide to tray)
    minimized = Signal()

    def __init__(
        self,
        wanted: QWidget | None = None,
        downloads: QWidget | None = None,
        parent: QWidget | None = None,
        history: QWidget | None = None,
        library: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Earmark {__version__}")
        self.setWindowIcon(app_icon())
        self.resize(1180, 720)
        self.setAcceptDrops(True)

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, signal, shortcut in (
            ("add", "Add…", self.add_clicked, QKeySequence.StandardKey.Open),
            ("start", "Start", self.start_clicked, None),
            ("stop", "Stop", self.stop_clicked, None),
            # Delete belongs to each table's own Remove (a second binding here made the
            # key ambiguous to Qt, which then ran neither)
            ("remove", "Remove", self.remove_clicked, None),
            ("settings", "Settings", self.settings_clicked, QKeySequence.StandardKey.Preferences),
            ("doctor", "Connection doctor", self.doctor_clicked, None),
        ):
            if name == "settings":
                toolbar.addSeparator()
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(signal)
            toolbar.addAction(action)
            self.actions_by_name[name] = action
        self.addToolBar(toolbar)

        self.notices = NoticeBar()
        self.pending = PendingView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._wanted = wanted or _placeholder("Loading…")
        self.tabs.addTab(self._wanted, "Wanted")
        downloads_page = QWidget()
        self._downloads_layout = QVBoxLayout(downloads_page)
        self._downloads_layout.setContentsMargins(0, 0, 0, 0)
        self._downloads_layout.addWidget(self.pending)
        self._downloads = downloads or _placeholder("Loading…")
        self._downloads_layout.addWidget(self._downloads, 1)
        self.tabs.addTab(downloads_page, "Downloads")
        self._library = library or _placeholder("Your Audiobookshelf library will show here.")
        self.tabs.addTab(self._library, "Library")
        self.tabs.setTabEnabled(LIBRARY_TAB, library is not None)
        self._history = history or _placeholder("The history of every book will show here.")
        self.tabs.addTab(self._history, "History")
        self.tabs.setTabEnabled(HISTORY_TAB, history is not None)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notices)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.link_label = QLabel()
        self.import_label = QLabel()  # "Importing 'Dune': 45%" while a copy runs
        self.import_label.setObjectName("import-progress")
        self.import_label.hide()
        self.speed_label = QLabel()
        self.version_label = QLabel()
        status = self.statusBar()
        status.addWidget(self.link_label, 1)
        status.addPermanentWidget(self.import_label)
        status.addPermanentWidget(self.speed_label)
        status.addPermanentWidget(self.version_label)
        self.show_status(Status(Link.NOT_CONFIGURED, "qBittorrent is not configured"))

    def set_pages(
        self,
        wanted: QWidget,
        downloads: QWidget,
        history: QWidget | None = None,
        library: QWidget | None = None,
    ) -> None:
        """Put the real views in place: the window is shown (and painted) before the
        network stack they need is even imported."""
        current = self.tabs.currentIndex()
        self._wanted = self._replace_tab(WANTED_TAB, self._wanted, wanted, "Wanted")
        self._downloads_layout.replaceWidget(self._downloads, downloads)
        self._downloads.deleteLater()
        self._downloads = downloads
        if library is not None:
            self._library = self._replace_tab(LIBRARY_TAB, self._library, library, "Library")
        if history is not None:
            self._history = self._replace_tab(HISTORY_TAB, self._history, history, "History")
        self.tabs.setCurrentIndex(current)

    def add_page(self, page: QWidget, title: str) -> None:
        """A further page after the fixed ones (the Following page)."""
        self.tabs.addTab(page, title)

    def _replace_tab(self, index: int, old: QWidget, new: QWidget, title: str) -> QWidget:
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, new, title)
        self.tabs.setTabEnabled(index, True)
        old.deleteLater()
        return new

    # ---- what the window shows ------------------------------------------------------

    def show_status(self, status: Status) -> None:
        words, colour = LINK_WORDS[status.link]
        self.link_label.setText(f"<span style='color:{colour}'>●</span> qBittorrent: {words}")
        self.link_label.setToolTip(status.message)
        connected = status.link is Link.CONNECTED
        self.speed_label.setText(
            f"↓ {human_speed(status.download_speed)}   ↑ {human_speed(status.upload_speed)}"
            if connected
            else ""
        )
        self.version_label.setText(status.version or "")
        for name in ("start", "stop", "remove"):
            self.actions_by_name[name].setEnabled(connected)

    def show_import_progress(self, text: str) -> None:
        """The status bar's import line ("" hides it)."""
        self.import_label.setText(text)
        self.import_label.setVisible(bool(text))

    def show_downloads(self) -> None:
        self.tabs.setCurrentIndex(DOWNLOADS_TAB)

    def show_wanted(self) -> None:
        self.tabs.setCurrentIndex(WANTED_TAB)

    def showing_wanted(self) -> bool:
        return self.tabs.currentIndex() == WANTED_TAB

    def show_history(self) -> None:
        if self.tabs.isTabEnabled(HISTORY_TAB):
            self.tabs.setCurrentIndex(HISTORY_TAB)

    # ---- drops and pastes -----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)  # never Move: it can delete the source
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = _copy(event.mimeData())
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        # Parse outside the drop handler: the drag source waits until it returns.
        QTimer.singleShot(0, self, lambda: self._take(mime))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Reaches the window only when the focused widget (a line edit) did not take it.
        if event.matches(QKeySequence.StandardKey.Paste):
            mime = QGuiApplication.clipboard().mimeData()
            if mime is not None and accepts(mime):
                self._take(_copy(mime))
                return
        super().keyPressEvent(event)

    def _take(self, mime: QMimeData) -> None:
        candidates: list[Candidate] = candidates_from_mime(mime)
        if candidates:
            self.sources_dropped.emit(candidates)

    # ---- window life ------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.WindowStateChange and self.isMinimized():
            self.minimized.emit()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_requested.emit()
        super().closeEvent(event)


def _copy(mime: QMimeData) -> QMimeData:
    """The drag's data is gone after the drop handler returns; keep what is needed."""
    copy = QMimeData()
    if mime.hasUrls():
        copy.setUrls(mime.urls())
    if mime.hasText():
        copy.setText(mime.text())
    return copy


def _placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color:#888")
    return label
