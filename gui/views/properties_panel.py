"""The properties panel under the transfer list, as qBittorrent's src/gui/properties.

Tabs General, Trackers, Peers, Files (a tree with priorities) and Speed (a graph of the
transfer speeds). The panel only shows what it is given (`apply(reading)`,
`add_speed_sample`) and says what the user wants (`tab_changed`, `priority_requested`);
`gui.services.properties.PropertiesWatcher` keeps it fed while a torrent is selected.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPoint,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QScrollArea,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.core.formatting import human_speed
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.downloads import RawSortProxy
from gui.models.files_tree import IDS_ROLE, PRIORITY_WORDS, FilesTreeModel, TreeColumn
from gui.models.palette import GOOD, INFO
from gui.models.properties import PeersModel, TrackersModel
from gui.services.properties import FILES, GENERAL, PEERS, SPEED, TRACKERS, Reading
from gui.views.torrent_details import GeneralPage

#: Marked for the translator (QT_TRANSLATE_NOOP), translated where shown.
TAB_TITLES = (
    (GENERAL, QT_TRANSLATE_NOOP("PropertiesPanel", "General")),
    (TRACKERS, QT_TRANSLATE_NOOP("PropertiesPanel", "Trackers")),
    (PEERS, QT_TRANSLATE_NOOP("PropertiesPanel", "Peers")),
    (FILES, QT_TRANSLATE_NOOP("PropertiesPanel", "Files")),
    (SPEED, QT_TRANSLATE_NOOP("PropertiesPanel", "Speed")),
)


def _table(parent: QWidget, name: str, model: Any) -> QTableView:
    proxy = RawSortProxy(parent)
    proxy.setSourceModel(model)
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + 6)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setStretchLastSection(True)
    header.resizeSection(0, 260)
    return table


def selected_file_ids(files: QTreeView) -> list[int]:
    """The file ids under the selected rows of a files tree (a folder stands for its files)."""
    ids: set[int] = set()
    for index in files.selectionModel().selectedRows(TreeColumn.NAME):
        ids.update(index.data(IDS_ROLE) or [])
    return sorted(ids)


def priority_menu(
    parent: QWidget, ids: list[int], choose: Callable[[list[int], int], None]
) -> QMenu:
    """A files tree's context menu: Priority > Do not download / Normal / High / Maximum."""
    menu = QMenu(parent)
    sub = menu.addMenu(QCoreApplication.translate("PropertiesPanel", "Priority"))
    for priority, words in PRIORITY_WORDS.items():
        action = sub.addAction(QCoreApplication.translate("FilesTreeModel", words))
        action.setEnabled(bool(ids))
        action.triggered.connect(lambda _=False, p=priority, i=ids: choose(i, p))
    return menu


class SpeedGraph(QWidget):
    """Download and upload speed over the last minutes (qBittorrent's Speed tab).

    One sample per maindata refresh; the scale follows the highest speed shown.
    """

    SAMPLES = 300

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("speed-graph")
        self.samples: deque[tuple[int, int]] = deque(maxlen=self.SAMPLES)
        self.setMinimumHeight(60)  # still readable; the panel must not hold the window tall

    def add_sample(self, down: int, up: int) -> None:
        self.samples.append((max(0, int(down)), max(0, int(up))))
        if self.isVisible():
            self.update()

    def scale(self) -> int:
        """The top of the graph: a round number above the fastest speed shown."""
        top = max((max(d, u) for d, u in self.samples), default=0)
        step = 1024
        while step < top:
            step *= 2
        return step

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        metrics = self.fontMetrics()
        left = metrics.horizontalAdvance("999.9 MiB/s") + 8
        top_margin = metrics.height() + 6
        area = self.rect().adjusted(left, top_margin, -8, -metrics.height())
        if area.width() < 10 or area.height() < 10:
            return
        text = palette.color(QPalette.ColorRole.Text)
        grid = QColor(text)
        grid.setAlpha(50)
        scale = self.scale()
        painter.setPen(QPen(grid, 1, Qt.PenStyle.DashLine))
        for i in range(5):
            y = area.top() + area.height() * i / 4
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text)
            painter.drawText(QPointF(2, y + metrics.ascent() / 2), human_speed(scale * (4 - i) / 4))
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DashLine))
        down_colour, up_colour = QColor(INFO), QColor(GOOD)
        samples = list(self.samples)
        for which, colour in ((0, down_colour), (1, up_colour)):
            if len(samples) < 2:
                break
            path = QPainterPath()
            step = area.width() / (self.SAMPLES - 1)
            x0 = area.right() - step * (len(samples) - 1)
            for i, sample in enumerate(samples):
                point = QPointF(
                    x0 + step * i, area.bottom() - area.height() * sample[which] / scale
                )
                if i == 0:
                    path.moveTo(point)
                else:
                    path.lineTo(point)
            painter.setPen(QPen(colour, 2))
            painter.drawPath(path)
        down, up = samples[-1] if samples else (0, 0)
        painter.setPen(down_colour)
        legend = self.tr("↓ Download {speed}").format(speed=human_speed(down))
        painter.drawText(QPointF(left, metrics.ascent() + 2), legend)
        painter.setPen(up_colour)
        painter.drawText(
            QPointF(left + metrics.horizontalAdvance(legend) + 24, metrics.ascent() + 2),
            self.tr("↑ Upload {speed}").format(speed=human_speed(up)),
        )
        painter.end()


class PropertiesPanel(QWidget):
    tab_changed = Signal(str)  # GENERAL, TRACKERS, ...
    priority_requested = Signal(str, list, int)  # torrent hash, file ids, priority

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("properties-panel")
        self.torrent_hash: str | None = None

        self.title = QLabel(self.tr("No torrent selected"), self)
        self.title.setObjectName("properties-title")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel("", self)
        self.status.setObjectName("properties-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        self.general = GeneralPage(self)
        # Scrolled, so its two forms do not set the panel's (and the window's) minimum
        # height: the window must fit 1920x1080 at 200 % with a task bar.
        self.general_scroll = QScrollArea(self)
        self.general_scroll.setObjectName("properties-general")
        self.general_scroll.setWidgetResizable(True)
        self.general_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.general_scroll.setWidget(self.general)
        self.trackers_model = TrackersModel(self)
        self.trackers = _table(self, "properties-trackers", self.trackers_model)
        self.peers_model = PeersModel(self)
        self.peers = _table(self, "properties-peers", self.peers_model)
        self.files_model = FilesTreeModel(self)
        self.files_model.priority_requested.connect(self._ask_priority)
        self.files_proxy = RawSortProxy(self)
        self.files_proxy.setSourceModel(self.files_model)
        self.files = QTreeView(self)
        self.files.setObjectName("properties-files")
        self.files.setModel(self.files_proxy)
        # Connected after the view's own reset handler, which forgets what was expanded.
        self.files_proxy.modelReset.connect(self._expand_files)
        self.files.setSortingEnabled(True)
        self.files.sortByColumn(TreeColumn.NAME, Qt.SortOrder.AscendingOrder)
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.files.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.files.setAlternatingRowColors(True)
        self.files.setUniformRowHeights(True)
        self.files.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.files.customContextMenuRequested.connect(self._files_menu)
        self.files.header().resizeSection(TreeColumn.NAME, 420)
        self.files.header().resizeSection(TreeColumn.PRIORITY, 130)
        # Imported here: the downloads view (which holds this panel) defines the delegate.
        from gui.views.downloads_view import ProgressDelegate

        self.files_progress = ProgressDelegate(self.files)
        self.files.setItemDelegateForColumn(TreeColumn.PROGRESS, self.files_progress)
        self.speed = SpeedGraph(self)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setTabPosition(QTabWidget.TabPosition.South)  # as qBittorrent
        self._pages = {
            GENERAL: self.general_scroll,
            TRACKERS: self.trackers,
            PEERS: self.peers,
            FILES: self.files,
            SPEED: self.speed,
        }
        for key, title in TAB_TITLES:
            self.tabs.addTab(self._pages[key], QCoreApplication.translate("PropertiesPanel", title))
        self.tabs.currentChanged.connect(lambda _: self.tab_changed.emit(self.current_tab()))

        top = QHBoxLayout()
        top.setContentsMargins(6, 2, 6, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

    # ---- what is shown ------------------------------------------------------------------

    def current_tab(self) -> str:
        return TAB_TITLES[max(0, self.tabs.currentIndex())][0]

    def show_tab(self, tab: str) -> None:
        self.tabs.setCurrentWidget(self._pages[tab])

    def show_torrent(self, torrent_hash: str | None, name: str = "") -> None:
        """Another torrent (or none): forget what the old one showed."""
        if torrent_hash == self.torrent_hash:
            if name:
                self.title.setText(name)
            return
        self.torrent_hash = torrent_hash
        self.general.torrent_hash = torrent_hash or ""
        self.title.setText(name or (torrent_hash or self.tr("No torrent selected")))
        self.status.setText(self.tr("Loading…") if torrent_hash else "")
        self.general.clear()
        self.trackers_model.set_trackers([])
        self.peers_model.set_peers({})
        self.files_model.clear()

    def apply(self, reading: Reading) -> None:
        """Show one answer of the watcher, if it is still about the shown torrent."""
        if reading.torrent_hash != self.torrent_hash:
            return
        if reading.error is not None:
            if self.isEnabled():  # greyed: the transfer list already says qBittorrent is away
                self.status.setText(reading.error)
            return
        self.status.setText("")
        data = reading.data
        if reading.tab == GENERAL and isinstance(data, Mapping):
            self.general.set_properties(data)
        elif reading.tab == TRACKERS and isinstance(data, list):
            self.trackers_model.set_trackers(data)
        elif reading.tab == PEERS and isinstance(data, Mapping):
            self.peers_model.set_peers(data)
        elif reading.tab == FILES and isinstance(data, list):
            self.files_model.set_files(data)

    def add_speed_sample(self, down: int, up: int) -> None:
        self.speed.add_sample(down, up)

    # ---- files ---------------------------------------------------------------------------

    def _expand_files(self) -> None:
        self.files.expandToDepth(1)

    def selected_file_ids(self) -> list[int]:
        return selected_file_ids(self.files)

    def request_priority(self, file_ids: list[int], priority: int) -> None:
        if self.torrent_hash and file_ids:
            self.priority_requested.emit(self.torrent_hash, file_ids, priority)

    def _ask_priority(self, file_ids: list[int], priority: int) -> None:
        self.request_priority(file_ids, priority)

    def priority_menu(self) -> QMenu:
        """The files' context menu: Priority > Do not download / Normal / High / Maximum."""
        return priority_menu(self, self.selected_file_ids(), self.request_priority)

    def _files_menu(self, pos: QPoint) -> None:
        index: QModelIndex = self.files.indexAt(pos)
        if not index.isValid():
            return
        menu = self.priority_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.files.viewport().mapToGlobal(pos))
