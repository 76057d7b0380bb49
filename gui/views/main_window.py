"""The main window: toolbar, Wanted, Downloads, Library and History tabs, notices, status bar.

A view only: it shows what the models hold and forwards what the user wants (toolbar
actions, drops, pastes) as signals; `gui.app` wires them to the services.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui import __version__
from gui.core.formatting import human_size, human_speed
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.palette import BAD, GOOD, WARN
from gui.models.themed import muted_style, muted_text, status_text
from gui.services.status import Link, Status
from gui.views.drop import Candidate, accepts, candidates_from_mime
from gui.views.icons import app_icon, icon
from gui.views.menus import build_menu_bar, free_tab_key
from gui.views.notices import NoticeBar
from gui.views.pending_view import PendingView
from gui.views.screen_fit import watch_screen_fit

WANTED_TAB, DOWNLOADS_TAB, LIBRARY_TAB, HISTORY_TAB = range(4)
#: Toolbar action -> Lucide icon (resources/icons/lucide).
TOOLBAR_ICONS = {
    "add": "circle-plus",
    "start": "play",
    "stop": "pause",
    "remove": "trash-2",
    "settings": "settings",
    "doctor": "stethoscope",
}

#: Marked for the translator, translated where shown (context "MainWindow").
LINK_WORDS = {
    Link.NOT_CONFIGURED: (QT_TRANSLATE_NOOP("MainWindow", "Not configured"), ""),  # muted
    Link.CONNECTING: (QT_TRANSLATE_NOOP("MainWindow", "Connecting…"), WARN),
    Link.CONNECTED: (QT_TRANSLATE_NOOP("MainWindow", "Connected"), GOOD),
    Link.UNREACHABLE: (QT_TRANSLATE_NOOP("MainWindow", "Unreachable — retrying"), BAD),
    Link.REFUSED: (QT_TRANSLATE_NOOP("MainWindow", "Refused — check settings"), BAD),
}


class MainWindow(QMainWindow):
    add_clicked = Signal()
    start_clicked = Signal()
    stop_clicked = Signal()
    remove_clicked = Signal()
    settings_clicked = Signal()
    doctor_clicked = Signal()
    reconnect_clicked = Signal()
    limits_clicked = Signal()  # the global speed limits
    alternative_limits_clicked = Signal()
    sources_dropped = Signal(list)  # list[Candidate]
    close_requested = Signal()  # the window was closed (quit, or hide to tray)
    minimized = Signal()
    quit_clicked = Signal()
    import_csv_clicked = Signal()
    search_clicked = Signal()

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
        watch_screen_fit(self)
        self.resize(1180, 720)  # (less where the screen is smaller: gui.views.screen_fit)
        self.setAcceptDrops(True)

        # One action per command, shared by the menu bar and the toolbar (gui.views.menus).
        self.actions_by_name: dict[str, QAction]
        self.actions_by_name, self.menus = build_menu_bar(self)
        for name, signal in (
            ("add", self.add_clicked),
            ("start", self.start_clicked),
            ("stop", self.stop_clicked),
            ("remove", self.remove_clicked),
            ("settings", self.settings_clicked),
            ("doctor", self.doctor_clicked),
            ("reconnect", self.reconnect_clicked),
            ("quit", self.quit_clicked),
            ("import_csv", self.import_csv_clicked),
            ("search", self.search_clicked),
        ):
            self.actions_by_name[name].triggered.connect(signal)
        self.actions_by_name["find"].triggered.connect(self.focus_filter)
        self.actions_by_name["about"].triggered.connect(self.show_about)
        for name, index in (
            ("show_wanted", WANTED_TAB),
            ("show_downloads", DOWNLOADS_TAB),
            ("show_library", LIBRARY_TAB),
            ("show_history", HISTORY_TAB),
        ):
            self.actions_by_name[name].triggered.connect(
                lambda _checked=False, index=index: self._show_tab(index)
            )
        toolbar = QToolBar(self.tr("Main"), self)
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar_items: tuple[tuple[str, str], ...] = (
            ("add", self.tr("Add…")),
            ("start", self.tr("Start")),
            ("stop", self.tr("Stop")),
            ("remove", self.tr("Remove")),
            ("", ""),  # a separator
            ("settings", self.tr("Settings")),
            ("doctor", self.tr("Connection doctor")),
        )
        for item, label in toolbar_items:
            if not item:
                toolbar.addSeparator()
                continue
            action = self.actions_by_name[item]
            action.setIconText(label)
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        toggle = toolbar.toggleViewAction()
        toggle.setText(self.tr("&Toolbar"))
        self.menus["view"].addAction(toggle)
        self._connected = False

        self.notices = NoticeBar()
        self.pending = PendingView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._wanted = wanted or _placeholder(self.tr("Loading…"))
        self.tabs.addTab(self._wanted, self.tr("Wanted"))
        downloads_page = QWidget()
        self._downloads_layout = QVBoxLayout(downloads_page)
        self._downloads_layout.setContentsMargins(0, 0, 0, 0)
        self._downloads_layout.addWidget(self.pending)
        self._downloads = downloads or _placeholder(self.tr("Loading…"))
        self._downloads_layout.addWidget(self._downloads, 1)
        self.tabs.addTab(downloads_page, self.tr("Downloads"))
        self._library = library or _placeholder(
            self.tr("Your Audiobookshelf library will show here.")
        )
        self.tabs.addTab(self._library, self.tr("Library"))
        self.tabs.setTabEnabled(LIBRARY_TAB, library is not None)
        self._history = history or _placeholder(
            self.tr("The history of every book will show here.")
        )
        self.tabs.addTab(self._history, self.tr("History"))
        self.tabs.setTabEnabled(HISTORY_TAB, history is not None)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # Notices float over the bottom of the page instead of pushing the table down and
        # back up (33-65 px jumps) as they come and go.
        self.notices.setParent(central)
        self.notices.changed.connect(self._place_notices)
        central.installEventFilter(self)
        self.tabs.currentChanged.connect(lambda _index: self.update_actions())
        free_tab_key(self)

        self.link_label = QLabel()
        self.import_label = QLabel()  # "Importing 'Dune': 45%" while a copy runs
        self.import_label.setObjectName("import-progress")
        self.import_label.hide()
        self.speed_label = QLabel()
        self.free_label = QLabel()  # qBittorrent's "Free space: …"
        self.free_label.setObjectName("free-space")
        self.limits_button = QToolButton()
        self.limits_button.setObjectName("speed-limits")
        self.limits_button.setAutoRaise(True)
        self.limits_button.setText(self.tr("Limits…"))
        self.limits_button.setToolTip(self.tr("Global download and upload speed limits"))
        self.limits_button.clicked.connect(self.limits_clicked)
        self.alt_button = QToolButton()
        self.alt_button.setObjectName("alternative-limits")
        self.alt_button.setAutoRaise(True)
        self.alt_button.setCheckable(True)
        self.alt_button.setText(self.tr("Alt. speed"))
        self.alt_button.setToolTip(self.tr("Use the alternative speed limits (set in qBittorrent)"))
        self.alt_button.clicked.connect(self.alternative_limits_clicked)
        self.version_label = QLabel()
        status = self.statusBar()
        status.addWidget(self.link_label, 1)
        status.addPermanentWidget(self.import_label)
        status.addPermanentWidget(self.free_label)
        status.addPermanentWidget(self.speed_label)
        status.addPermanentWidget(self.limits_button)
        status.addPermanentWidget(self.alt_button)
        status.addPermanentWidget(self.version_label)
        self._apply_icons()
        self.show_status(Status(Link.NOT_CONFIGURED, self.tr("qBittorrent is not configured")))

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
        self._wanted = self._replace_tab(WANTED_TAB, self._wanted, wanted, self.tr("Wanted"))
        self._downloads_layout.replaceWidget(self._downloads, downloads)
        self._downloads.deleteLater()
        self._downloads = downloads
        if library is not None:
            self._library = self._replace_tab(
                LIBRARY_TAB, self._library, library, self.tr("Library")
            )
        if history is not None:
            self._history = self._replace_tab(
                HISTORY_TAB, self._history, history, self.tr("History")
            )
        self.tabs.setCurrentIndex(current)
        free_tab_key(self)
        self.update_actions()

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
        words = self.tr(words)
        ground = self.statusBar().palette().color(QPalette.ColorRole.Window)
        colour = status_text(colour, ground).name() if colour else muted_text().name()
        self.link_label.setText(
            self.tr("{dot} qBittorrent: {state}").format(
                dot=f"<span style='color:{colour}'>●</span>", state=words
            )
        )
        self.link_label.setToolTip(status.message)
        connected = status.link is Link.CONNECTED
        self.speed_label.setText(speeds_text(status) if connected else "")
        self.free_label.setText(
            self.tr("Free space: {size}").format(size=human_size(status.free_space))
            if connected and status.free_space is not None
            else ""
        )
        self.limits_button.setVisible(connected)
        self.alt_button.setVisible(connected)
        self.alt_button.setChecked(status.alternative_limits)
        self.version_label.setText(status.version or "")
        self._connected = connected
        self.update_actions()

    def update_actions(self) -> None:
        """Start/Stop/Remove act on the page shown: Start and Stop only on Downloads
        (with qBittorrent connected), Remove on Downloads (connected) and Wanted; on the
        Library and History pages they are off, never acting on a table out of sight."""
        page = self.tabs.currentIndex()
        downloads = page == DOWNLOADS_TAB and self._connected
        self.actions_by_name["start"].setEnabled(downloads)
        self.actions_by_name["stop"].setEnabled(downloads)
        self.actions_by_name["remove"].setEnabled(downloads or page == WANTED_TAB)
        self.actions_by_name["import_csv"].setEnabled(True)

    def current_page(self) -> int:
        return self.tabs.currentIndex()

    def _show_tab(self, index: int) -> None:
        if self.tabs.isTabEnabled(index):
            self.tabs.setCurrentIndex(index)

    def focus_filter(self) -> QLineEdit | None:
        """Ctrl+F: the filter box of the page shown."""
        page = self.tabs.currentWidget()
        boxes = [b for b in page.findChildren(QLineEdit) if b.isVisibleTo(page)] if page else []
        # the page's filter box first (FilterEdit marks itself; not imported here, as
        # the window paints before the views' modules load)
        boxes.sort(key=lambda box: not box.property("earmark-filter-box"))
        if not boxes:
            return None
        boxes[0].setFocus(Qt.FocusReason.ShortcutFocusReason)
        boxes[0].selectAll()
        return boxes[0]

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About Earmark"))
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(
            f"<b>Earmark {__version__}</b><br>"
            + self.tr("Audiobooks from your indexers through qBittorrent into Audiobookshelf.")
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        return box

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

    def _place_notices(self) -> None:
        central = self.centralWidget()
        if central is None:
            return
        bar = self.notices
        bar.adjustSize()
        height = min(bar.sizeHint().height(), max(central.height() // 2, 40))
        bar.setGeometry(0, central.height() - height, central.width(), height)
        bar.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.centralWidget() and event.type() == QEvent.Type.Resize:
            self._place_notices()
        return super().eventFilter(watched, event)

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

    def _apply_icons(self) -> None:
        """The toolbar's Lucide icons, drawn in the palette's text colour."""
        for name, icon_name in TOOLBAR_ICONS.items():
            action = self.actions_by_name.get(name)
            if action is not None:
                action.setIcon(icon(icon_name, self.palette()))
        self.limits_button.setIcon(icon("gauge", self.palette()))
        self.alt_button.setIcon(icon("turtle", self.palette()))
        for button in (self.limits_button, self.alt_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_icons()
        if event.type() == QEvent.Type.WindowStateChange and self.isMinimized():
            self.minimized.emit()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_requested.emit()
        super().closeEvent(event)


def speeds_text(status: Status) -> str:
    """qBittorrent's status bar: "↓ 1.2 MiB/s [500 KiB/s] (34.5 MiB)", the limit if any."""
    parts = []
    for arrow, speed, limit, total in (
        ("↓", status.download_speed, status.download_limit, status.download_total),
        ("↑", status.upload_speed, status.upload_limit, status.upload_total),
    ):
        text = f"{arrow} {human_speed(speed)}"
        if limit > 0:
            text += f" [{human_speed(limit)}]"
        parts.append(f"{text} ({human_size(total)})")
    return "   ".join(parts)


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
    label.setStyleSheet(muted_style())
    return label
