"""The downloads table: qBittorrent's transfer list, with its filters and its context menu.

The view shows a `DownloadsModel` through a `DownloadsFilterProxy` and turns what the user
does into signals carrying info-hashes; it never talks to qBittorrent itself. Dialogs it
opens (remove confirmation, new category) are non-modal: the app runs one qasync loop and a
nested modal `exec()` would stall it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QCoreApplication,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleFactory,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.core.redact import REDACTOR
from gui.core.torrent_states import ERROR_STATES, STOPPED_STATES, StateGroup
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.downloads import (
    COLUMN_ALIGNMENT,
    HASH_ROLE,
    HEADERS,
    PROGRESS_ROLE,
    Column,
    DownloadsFilterProxy,
    DownloadsModel,
    tags_of,
)
from gui.services.properties import GENERAL
from gui.views.filter_panel import CATEGORIES, STATUS, FilterPanel
from gui.views.icons import icon
from gui.views.properties_panel import PropertiesPanel

Index = QModelIndex | QPersistentModelIndex

GROUP_LABELS: dict[StateGroup, str] = {
    StateGroup.ALL: "All",
    StateGroup.DOWNLOADING: "Downloading",
    StateGroup.SEEDING: "Seeding",
    StateGroup.COMPLETED: "Completed",
    StateGroup.STOPPED: "Stopped",
    StateGroup.ERROR: "Errored",
    StateGroup.RUNNING: "Running",
    StateGroup.ACTIVE: "Active",
    StateGroup.INACTIVE: "Inactive",
    StateGroup.STALLED: "Stalled",
    StateGroup.STALLED_UPLOADING: "Stalled Uploading",
    StateGroup.STALLED_DOWNLOADING: "Stalled Downloading",
    StateGroup.CHECKING: "Checking",
    StateGroup.MOVING: "Moving",
}

#: Starting widths (pixels); the name column takes what is left (`fit_columns`).
COLUMN_WIDTHS: dict[Column, int] = {
    Column.NAME: 300,
    Column.SIZE: 75,
    Column.PROGRESS: 100,
    Column.STATUS: 130,
    Column.DOWN_SPEED: 80,
    Column.UP_SPEED: 80,
    Column.ETA: 55,
    Column.SEEDS: 65,
    Column.PEERS: 65,
    Column.RATIO: 50,
    Column.CATEGORY: 90,
    Column.TAGS: 100,
    Column.ADDED_ON: 115,
    Column.SAVE_PATH: 220,
}
MIN_NAME_WIDTH = 220
#: Hidden until the user asks for them in the header menu (qBittorrent hides many too).
HIDDEN_BY_DEFAULT = frozenset({Column.PEERS, Column.TAGS, Column.SAVE_PATH})

_LOOK_CHANGES = frozenset(
    {QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.FontChange}
)

#: The Queue submenu: qBittorrent's torrents/<move> endpoints, in its menu's words.
QUEUE_WORDS = (
    ("topPrio", QT_TRANSLATE_NOOP("DownloadsView", "Move to top"), "arrow-up-to-line"),
    ("increasePrio", QT_TRANSLATE_NOOP("DownloadsView", "Move up"), "arrow-up"),
    ("decreasePrio", QT_TRANSLATE_NOOP("DownloadsView", "Move down"), "arrow-down"),
    ("bottomPrio", QT_TRANSLATE_NOOP("DownloadsView", "Move to bottom"), "arrow-down-to-line"),
)
TORRENT_ACTIONS = (
    "recheck",
    "reannounce",
    "location",
    "rename",
    "tags",
    "queue",
    "download_limit",
    "upload_limit",
)

SEARCH_DELAY_MS = 200
#: While the model signals a big refresh over several turns, the table is repainted at
#: most this often (ms) instead of after every slice.
REPAINT_HOLD_MS = 150  # typing refilters 10,000 rows: wait for a pause


FOLDER_CHECK_TTL = 5.0  # seconds; a slow network share is asked at most this often
_folder_checks: dict[str, tuple[float, bool]] = {}


def _existing_folder(path: str) -> Path | None:
    """The folder if it exists here; remembered briefly so selection changes stay quick."""
    now = time.monotonic()
    seen = _folder_checks.get(path)
    if seen is None or now - seen[0] > FOLDER_CHECK_TTL:
        try:
            exists = Path(path).is_dir()
        except (OSError, ValueError):  # an unreachable share, a path this OS cannot parse
            exists = False
        if len(_folder_checks) > 256:
            _folder_checks.clear()
        seen = _folder_checks[path] = (now, exists)
    return Path(path) if seen[1] else None


_HORIZONTAL = QStyle.StateFlag.State_Horizontal
_ENABLED_BIT = int(QStyle.StateFlag.State_Enabled.value)
_ACTIVE_BIT = int(QStyle.StateFlag.State_Active.value)
_SELECTED_BIT = int(QStyle.StateFlag.State_Selected.value)
# Looked up once: reading a PySide enum member costs a microsecond, per cell per repaint.
_FOCUS_MARGIN = QStyle.PixelMetric.PM_FocusFrameHMargin
_DISABLED = QPalette.ColorGroup.Disabled
_ACTIVE = QPalette.ColorGroup.Active
_INACTIVE = QPalette.ColorGroup.Inactive
_ON_SELECTED = QPalette.ColorRole.HighlightedText
_ON_BASE = QPalette.ColorRole.Text
_BAR_STATE_BITS = _ENABLED_BIT | _ACTIVE_BIT | int(QStyle.StateFlag.State_Selected.value)
_RIGHT_ALIGNED = tuple(bool(a & Qt.AlignmentFlag.AlignRight) for a in COLUMN_ALIGNMENT)
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
_BAR = QStyle.ControlElement.CE_ProgressBar


class _DirectDelegate(QStyledItemDelegate):
    """A delegate that, once bound, reads cells straight from a `DownloadsModel`.

    QStyledItemDelegate asks the model for seven roles per cell, each a trip through the
    proxy into Python; a 1280x800 table then costs ~35 ms to repaint, and it repaints on
    every refresh. Bound to the proxy and model, a cell costs one `mapToSource` instead.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._proxy: QAbstractProxyModel | None = None
        self._model: DownloadsModel | None = None
        self._source_rows: dict[int, int] = {}  # proxy row -> model row, until rows move
        #: Paint as disabled: the rows are qBittorrent's last known state, not live.
        self.stale = False

    def bind(self, proxy: QAbstractProxyModel | None, model: DownloadsModel) -> None:
        """Read cells of `model`, shown through `proxy` (None: the view shows `model`)."""
        self._proxy = proxy
        self._model = model
        self._source_rows.clear()
        if proxy is not None:
            for signal in (
                proxy.layoutChanged,
                proxy.modelReset,
                proxy.rowsInserted,
                proxy.rowsRemoved,
                proxy.rowsMoved,
            ):
                signal.connect(self._forget_rows)

    def _forget_rows(self, *_: object) -> None:
        self._source_rows.clear()

    def _source_cell(self, index: Index) -> tuple[DownloadsModel, int, int] | None:
        model = self._model
        if model is None:
            return None
        row = index.row()
        if self._proxy is None:
            return model, row, index.column()
        # Mapped once per row, not per cell: mapToSource is a call back into Python.
        source_row = self._source_rows.get(row)
        if source_row is None:
            source = self._proxy.mapToSource(index)
            if not source.isValid():
                return None
            source_row = self._source_rows[row] = source.row()
        return model, source_row, index.column()


class TorrentCellDelegate(_DirectDelegate):
    """Draws a text cell of the transfer list: the style's item background, then the text.

    Text is drawn from a cache of laid-out `QStaticText` (by text and width): laying out
    and drawing a string costs ~25 us, drawing a prepared one ~6 us, and most cells show
    the same text from one refresh to the next. Long text is elided on the right, as
    QStyledItemDelegate does.
    """

    CACHE_LIMIT = 20_000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: dict[tuple[str, int], tuple[QStaticText, float, float]] = {}
        self._font: QFont | None = None
        self._margin = -1  # the style's text margin, asked once
        self._colors: dict[tuple[QPalette.ColorGroup, bool], QColor] = {}

    def forget_style(self) -> None:
        """Drop cached colours and layouts after a palette, font or style change."""
        self._colors.clear()
        self._texts.clear()
        self._margin = -1

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        cell = self._source_cell(index)
        widget = option.widget
        if cell is None or widget is None:
            super().paint(painter, option, index)
            return
        model, row, column = cell
        style = widget.style()
        style.drawPrimitive(_PANEL, option, painter, widget)
        rect = option.rect
        margin = self._margin
        if margin < 0:
            margin = self._margin = style.pixelMetric(_FOCUS_MARGIN, None, widget) + 1
        width = rect.width() - 2 * margin
        if width <= 0:
            return
        font = option.font
        static, text_width, text_height = self._prepared(font, model.text(row, column), width)
        state = int(option.state.value)
        group = (
            _DISABLED
            if self.stale or not state & _ENABLED_BIT
            else _ACTIVE
            if state & _ACTIVE_BIT
            else _INACTIVE
        )
        if _RIGHT_ALIGNED[column]:
            x = rect.right() + 1 - margin - text_width
        else:
            x = rect.left() + margin
        selected = bool(state & _SELECTED_BIT)
        color = self._colors.get((group, selected))
        if color is None:
            color = self._colors[(group, selected)] = QColor(
                option.palette.color(group, _ON_SELECTED if selected else _ON_BASE)
            )
        painter.setPen(color)
        painter.setFont(font)
        painter.drawStaticText(QPointF(x, rect.top() + (rect.height() - text_height) / 2), static)

    def _prepared(self, font: QFont, text: str, width: int) -> tuple[QStaticText, float, float]:
        # `font` belongs to the option being painted: copied before it is kept.
        if self._font is None or font != self._font or len(self._texts) > self.CACHE_LIMIT:
            self._texts.clear()
            self._font = QFont(font)
        key = (text, width)
        found = self._texts.get(key)
        if found is None:
            metrics = QFontMetrics(font)
            shown = text
            if metrics.horizontalAdvance(text) > width:
                shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), font)
            size = static.size()
            found = self._texts[key] = (static, size.width(), size.height())
        return found


class ProgressDelegate(_DirectDelegate):
    """Paints a real progress bar with its percentage, as qBittorrent's transfer list does.

    Like qBittorrent's `ProgressBarPainter`, it draws through a never-shown QProgressBar
    styled with Fusion on Windows and macOS, whose native styles put the text beside the
    bar or animate it; elsewhere the application's style is used. Qt 6 needs
    `State_Horizontal` set or the bar is drawn vertically. Any model works (it reads
    `PROGRESS_ROLE` and the display text); bound to a `DownloadsModel` it reads directly.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bar = QProgressBar()
        self._bars: dict[tuple[int, int, float, int, int, str], QPixmap] = {}
        if sys.platform in ("win32", "darwin"):
            fusion = QStyleFactory.create("Fusion")
            if fusion is not None:
                fusion.setParent(self._bar)
                self._bar.setStyle(fusion)

    CACHE_LIMIT = 600  # bars of ~110x24 px: a few MB at most

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        cell = self._source_cell(index)
        if cell is not None:
            model, row, column = cell
            progress = float(model.torrent_at(row).get("progress") or 0.0)
            text = model.text(row, column)
        else:
            progress = float(index.data(PROGRESS_ROLE) or 0.0)
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        widget = option.widget
        self._bar.style().drawPrimitive(_PANEL, option, painter, widget)
        rect = option.rect.adjusted(1, 1, -1, -1)
        if rect.width() <= 0 or rect.height() <= 0:
            return
        state = int(option.state.value) & _BAR_STATE_BITS
        if self.stale:
            state &= ~_ENABLED_BIT
        permille = max(0, min(1000, int(progress * 1000)))
        ratio = painter.device().devicePixelRatioF()
        key = (rect.width(), rect.height(), ratio, permille, state, text)
        pixmap = self._bars.pop(key, None)  # re-inserted below: most recently used last
        if pixmap is None:
            pixmap = self._render(rect.size(), ratio, permille, state, text)
            if len(self._bars) >= self.CACHE_LIMIT:
                del self._bars[next(iter(self._bars))]
        self._bars[key] = pixmap
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _render(self, size: QSize, ratio: float, permille: int, state: int, text: str) -> QPixmap:
        """Fusion's bar is gradients and rounded frames (~200 us): drawn once per look."""
        bar = QStyleOptionProgressBar()
        bar.initFrom(self._bar)
        bar.minimum = 0
        bar.maximum = 1000
        bar.progress = permille
        bar.text = text
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.rect = QRect(QPoint(0, 0), size)
        bar.state = QStyle.StateFlag(state) | _HORIZONTAL
        palette = bar.palette
        palette.setCurrentColorGroup(_ACTIVE if state & _ENABLED_BIT else _DISABLED)
        bar.palette = palette
        pixmap = QPixmap(size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        try:
            self._bar.style().drawControl(_BAR, bar, painter, self._bar)
        finally:
            painter.end()
        return pixmap

    def forget_style(self) -> None:
        """Drop cached bars after a palette or style change."""
        self._bars.clear()


#: The property that marks a page's filter box (gui.views.main_window's Find).
FILTER_BOX = "earmark-filter-box"


class FilterEdit(QLineEdit):
    """A table's filter box: placeholder, clear button, and `apply(text)` once the typing
    pauses for `delay_ms` (0: at every change), or at once on Enter or `apply_now`.

    Shared by the Wanted, Downloads, Library and History views."""

    def __init__(
        self,
        placeholder: str,
        apply: Callable[[str], object],
        delay_ms: int = SEARCH_DELAY_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setProperty(FILTER_BOX, True)  # what Edit → Find (Ctrl+F) focuses
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self._apply = apply
        self._timer: QTimer | None = None
        if delay_ms > 0:
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.setInterval(delay_ms)
            self._timer.timeout.connect(self.apply_now)
            self.textChanged.connect(self._timer.start)
            self.returnPressed.connect(self.apply_now)
        else:
            self.textChanged.connect(self.apply_now)

    def apply_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._apply(self.text())


class DownloadsView(QWidget):
    """Side panel of filters, transfer list with its context menu, and the properties
    panel under it (qBittorrent's layout); emits what the user asked for."""

    start_requested = Signal(list)  # list[str] info-hashes
    stop_requested = Signal(list)
    remove_requested = Signal(list, bool)  # hashes, delete files too
    category_requested = Signal(list, str)  # hashes, category ("" = none)
    details_requested = Signal(str)  # info-hash
    #: The torrent the properties panel shows changed (None: no selection).
    current_changed = Signal(object)
    #: One of TORRENT_ACTIONS, the selected hashes, and its value (a path, a name, tags,
    #: a queue move, a limit in bytes/s) or None.
    torrent_action = Signal(str, list, object)

    def __init__(
        self,
        model: DownloadsModel,
        parent: QWidget | None = None,
        *,
        local_path: Callable[[str], str | None] | None = None,
    ) -> None:
        """`local_path` maps qBittorrent's save path to this computer's (remote mapping)."""
        super().__init__(parent)
        self.model = model
        self.local_path: Callable[[str], str | None] = local_path or (lambda path: path)
        #: How "Open containing folder" opens a folder; tests replace it.
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl
        self.remove_dialog: QMessageBox | None = None
        #: What removing means beyond qBittorrent (a wanted book's release is blocklisted),
        #: told in the question; set by the controller, which knows the wanted books.
        self.remove_note: Callable[[list[str]], str] | None = None
        self.category_dialog: QInputDialog | None = None
        self.input_dialog: QInputDialog | None = None  # set location, rename, tags, limits
        self._saved_selection: list[str] = []
        self._fitted = False

        self.proxy = DownloadsFilterProxy(self)
        self.proxy.setSourceModel(model)

        self._build_filter_bar()
        self._build_table()
        self._build_actions()
        self.side = FilterPanel(self)
        self.side.status_chosen.connect(self.set_group)
        self.side.category_chosen.connect(self.set_category)
        self.side.tag_chosen.connect(self.proxy.set_tag)
        self.side.tracker_chosen.connect(self.proxy.set_tracker)
        self.properties = PropertiesPanel(self)
        self.stale_overlay = QLabel(self.table.viewport())
        self.stale_overlay.setObjectName("downloads-stale")
        self.stale_overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stale_overlay.setAutoFillBackground(True)
        # a tooltip's colours: they stand out from the rows on light and dark palettes alike
        self.stale_overlay.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.stale_overlay.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.stale_overlay.setFrameShape(QLabel.Shape.Box)
        self.stale_overlay.setMargin(8)
        self.stale_overlay.setTextFormat(Qt.TextFormat.PlainText)
        self.stale_overlay.hide()
        self.stale = False

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(4)
        top_layout.addLayout(self._filter_bar)
        top_layout.addWidget(self.table)
        self.vertical_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.vertical_splitter.setObjectName("downloads-properties-splitter")
        self.vertical_splitter.addWidget(top)
        self.vertical_splitter.addWidget(self.properties)
        self.vertical_splitter.setStretchFactor(0, 3)
        self.vertical_splitter.setStretchFactor(1, 2)
        self.vertical_splitter.setChildrenCollapsible(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("downloads-side-splitter")
        self.splitter.addWidget(self.side)
        self.splitter.addWidget(self.vertical_splitter)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([190, 1000])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.splitter)

        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.setInterval(REPAINT_HOLD_MS)
        self._hold.timeout.connect(self._repaint_during_flush)
        model.flushing_changed.connect(self._hold_repaints)
        model.counts_changed.connect(self._update_filters)
        model.modelAboutToBeReset.connect(self._save_selection)
        model.modelReset.connect(self._restore_selection)
        self._update_filters()

    # ---- construction ----------------------------------------------------------------------

    def _build_filter_bar(self) -> None:
        # The values behind the combo entries (item data would turn None into a QVariant).
        self._group_values = list(GROUP_LABELS)
        self._category_values: list[str | None] = []
        self.group_combo = QComboBox(self)
        self.group_combo.setObjectName("downloads-group")
        for label in GROUP_LABELS.values():
            self.group_combo.addItem(label)
        self.group_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.group_combo.currentIndexChanged.connect(self._group_chosen)

        self.category_combo = QComboBox(self)
        self.category_combo.setObjectName("downloads-category")
        self.category_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.category_combo.currentIndexChanged.connect(self._category_chosen)

        self.search = FilterEdit("Filter by name…", self.proxy.set_text, SEARCH_DELAY_MS, self)
        self.search.setObjectName("downloads-search")

        # The side panel shows these choices; the combos stay as their compact form
        # (hidden) so a choice made either way reads the same.
        self.group_combo.hide()
        self.category_combo.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.group_combo)
        bar.addWidget(self.category_combo)
        bar.addStretch(1)
        bar.addWidget(self.search, 1)
        self._filter_bar = bar

    def _build_table(self) -> None:
        table = QTableView(self)
        table.setObjectName("downloads-table")
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Fixed-height rows: with 10,000 rows Qt must never measure them one by one.
        rows = table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        for column in HIDDEN_BY_DEFAULT:
            header.hideSection(column)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_header_menu)

        self.cell_delegate = TorrentCellDelegate(table)
        self.cell_delegate.bind(self.proxy, self.model)
        table.setItemDelegate(self.cell_delegate)
        self.progress_delegate = ProgressDelegate(table)
        self.progress_delegate.bind(self.proxy, self.model)
        table.setItemDelegateForColumn(Column.PROGRESS, self.progress_delegate)
        table.setSortingEnabled(True)
        table.sortByColumn(Column.ADDED_ON, Qt.SortOrder.DescendingOrder)

        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._show_menu)
        table.doubleClicked.connect(self._double_clicked)
        self.table = table
        table.selectionModel().selectionChanged.connect(self._selection_changed)
        table.selectionModel().currentRowChanged.connect(self._current_changed)

    def _build_actions(self) -> None:
        self.start_action = QAction(icon("play"), self.tr("Start"), self)
        self.stop_action = QAction(icon("pause"), self.tr("Stop"), self)
        self.remove_action = QAction(icon("trash-2"), self.tr("Remove…"), self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.category_menu = QMenu(self.tr("Set category"), self)
        self.reset_category_action = QAction(self.tr("Reset"), self)
        self.new_category_action = QAction(self.tr("New…"), self)
        self.copy_magnet_action = QAction(icon("magnet"), self.tr("Copy magnet link"), self)
        self.open_folder_action = QAction(
            icon("folder-open"), self.tr("Open containing folder"), self
        )
        self.details_action = QAction(icon("info"), self.tr("Details"), self)
        self.location_action = QAction(icon("folder-input"), self.tr("Set location…"), self)
        self.rename_action = QAction(icon("pencil"), self.tr("Rename…"), self)
        self.tags_action = QAction(icon("tag"), self.tr("Edit tags…"), self)
        self.download_limit_action = QAction(icon("gauge"), self.tr("Limit download rate…"), self)
        self.upload_limit_action = QAction(icon("gauge"), self.tr("Limit upload rate…"), self)
        self.recheck_action = QAction(icon("refresh-cw"), self.tr("Force recheck"), self)
        self.reannounce_action = QAction(icon("megaphone"), self.tr("Force reannounce"), self)
        self.queue_menu = QMenu(self.tr("Queue"), self)
        self.queue_actions: dict[str, QAction] = {}
        for move, words, icon_name in QUEUE_WORDS:
            action = self.queue_menu.addAction(
                icon(icon_name), QCoreApplication.translate("DownloadsView", words)
            )
            action.triggered.connect(
                lambda _=False, m=move: self._emit_action("queue", self.selected_hashes(), m)
            )
            self.queue_actions[move] = action
        self.location_action.triggered.connect(self.ask_location)
        self.rename_action.triggered.connect(self.ask_rename)
        self.tags_action.triggered.connect(self.ask_tags)
        self.download_limit_action.triggered.connect(lambda: self.ask_limit("download_limit"))
        self.upload_limit_action.triggered.connect(lambda: self.ask_limit("upload_limit"))
        self.recheck_action.triggered.connect(
            lambda: self._emit_action("recheck", self.selected_hashes(), None)
        )
        self.reannounce_action.triggered.connect(
            lambda: self._emit_action("reannounce", self.selected_hashes(), None)
        )
        self._selection_actions = (
            self.location_action,
            self.tags_action,
            self.download_limit_action,
            self.upload_limit_action,
            self.recheck_action,
            self.reannounce_action,
        )

        self.start_action.triggered.connect(self._start)
        self.stop_action.triggered.connect(self._stop)
        self.remove_action.triggered.connect(self.request_remove)
        self.reset_category_action.triggered.connect(lambda: self._set_category(""))
        self.new_category_action.triggered.connect(self.ask_new_category)
        self.copy_magnet_action.triggered.connect(self.copy_magnets)
        self.open_folder_action.triggered.connect(self.open_folder)
        self.details_action.triggered.connect(self._details)
        self.category_menu.aboutToShow.connect(self._fill_category_menu)
        # Delete is the window's Edit → Remove (gui.views.menus), which calls this action:
        # bound here as well, the key would be ambiguous to Qt, which then runs neither.

        menu = QMenu(self)
        menu.addAction(self.start_action)
        menu.addAction(self.stop_action)
        menu.addSeparator()
        menu.addAction(self.remove_action)
        menu.addSeparator()
        menu.addAction(self.location_action)
        menu.addAction(self.rename_action)
        menu.addMenu(self.category_menu)
        menu.addAction(self.tags_action)
        menu.addSeparator()
        menu.addAction(self.download_limit_action)
        menu.addAction(self.upload_limit_action)
        menu.addSeparator()
        menu.addAction(self.recheck_action)
        menu.addAction(self.reannounce_action)
        menu.addSeparator()
        menu.addMenu(self.queue_menu)
        menu.addSeparator()
        menu.addAction(self.copy_magnet_action)
        menu.addAction(self.open_folder_action)
        menu.addSeparator()
        menu.addAction(self.details_action)
        self.menu = menu
        self._fill_category_menu()
        self.update_actions()

    def _hold_repaints(self, flushing: bool) -> None:
        viewport = self.table.viewport()
        if flushing:
            viewport.setUpdatesEnabled(False)
            self._hold.start()
        else:
            self._hold.stop()
            viewport.setUpdatesEnabled(True)  # schedules one repaint of everything

    def _repaint_during_flush(self) -> None:
        """A long refresh still shows progress every REPAINT_HOLD_MS."""
        viewport = self.table.viewport()
        viewport.setUpdatesEnabled(True)
        if self.model.flushing:
            viewport.repaint()
            viewport.setUpdatesEnabled(False)
            self._hold.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_columns()

    def fit_columns(self) -> None:
        """Give the name column the width the other visible columns leave."""
        header = self.table.horizontalHeader()
        others = sum(
            header.sectionSize(c)
            for c in Column
            if c is not Column.NAME and not header.isSectionHidden(c)
        )
        available = self.table.viewport().width() - others
        header.resizeSection(Column.NAME, max(MIN_NAME_WIDTH, available))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in _LOOK_CHANGES:
            self.cell_delegate.forget_style()
            self.progress_delegate.forget_style()
        super().changeEvent(event)

    # ---- selection -------------------------------------------------------------------------

    def selected_hashes(self) -> list[str]:
        """The selected torrents' info-hashes, top to bottom as shown."""
        rows = self.table.selectionModel().selectedRows()
        rows.sort(key=lambda index: index.row())
        return [str(index.data(HASH_ROLE)) for index in rows]

    def current_hash(self) -> str | None:
        index = self.table.currentIndex()
        if index.isValid() and self.table.selectionModel().isRowSelected(index.row()):
            return str(index.data(HASH_ROLE))
        hashes = self.selected_hashes()
        return hashes[0] if hashes else None

    def select_hashes(self, hashes: Sequence[str]) -> None:
        """Select these torrents (those currently shown), e.g. after a reset."""
        selection = QItemSelection()
        last_column = self.proxy.columnCount() - 1
        for torrent_hash in hashes:
            row = self.proxy.row_of(torrent_hash)
            if row >= 0:
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, last_column))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.table.selectionModel().select(selection, flags)

    def _save_selection(self) -> None:
        self._saved_selection = self.selected_hashes()

    def _restore_selection(self) -> None:
        if self._saved_selection:
            self.select_hashes(self._saved_selection)
            self._saved_selection = []

    def _selection_changed(self, *_: object) -> None:
        self.update_actions()
        self._current_changed()

    def _current_changed(self, *_: object) -> None:
        """The properties panel follows the current (selected) torrent."""
        torrent_hash = self.current_hash()
        torrent = self.model.torrent(torrent_hash) if torrent_hash else None
        if torrent_hash == self.properties.torrent_hash:
            return
        self.properties.show_torrent(torrent_hash, str((torrent or {}).get("name") or ""))
        self.current_changed.emit(torrent_hash)

    # ---- while qBittorrent is away -----------------------------------------------------

    def set_stale(self, reason: str | None, detail: str = "") -> None:
        """Grey the rows and say why (None: they are live again); `detail` in a tooltip.

        The rows are qBittorrent's last known state; shown as if live they would mislead
        (speeds and ETAs that no longer move)."""
        self.stale = reason is not None
        self.table.setProperty("stale", self.stale)
        self.cell_delegate.stale = self.stale
        self.progress_delegate.stale = self.stale
        self.properties.setEnabled(not self.stale)  # its figures stopped too
        if self.stale:
            self.properties.status.setText("")
        self.stale_overlay.setToolTip(detail)
        if reason is None:
            self.stale_overlay.hide()
        else:
            self.stale_overlay.setText(
                self.tr("{reason}\nThe list shows the last known state.").format(reason=reason)
            )
            self._place_overlay()
            self.stale_overlay.show()
            self.stale_overlay.raise_()
        self.table.viewport().update()

    def _place_overlay(self) -> None:
        viewport = self.table.viewport()
        hint = self.stale_overlay.sizeHint()
        width = min(viewport.width() - 20, max(hint.width() + 40, 320))
        height = hint.height() + 16
        self.stale_overlay.setGeometry(
            (viewport.width() - width) // 2,
            max(10, (viewport.height() - height) // 3),
            width,
            height,
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.stale:
            self._place_overlay()

    def update_actions(self) -> None:
        """Enable only what makes sense for the selected torrents."""
        torrents = [t for t in (self.model.torrent(h) for h in self.selected_hashes()) if t]
        any_selected = bool(torrents)
        states = {t.get("state", "") for t in torrents}
        self.start_action.setEnabled(bool(states & (STOPPED_STATES | ERROR_STATES)))
        self.stop_action.setEnabled(bool(states - STOPPED_STATES))
        self.remove_action.setEnabled(any_selected)
        self.category_menu.setEnabled(any_selected)
        self.copy_magnet_action.setEnabled(any(t.get("magnet_uri") for t in torrents))
        self.open_folder_action.setEnabled(self._folder_to_open() is not None)
        self.details_action.setEnabled(any_selected)
        for action in self._selection_actions:
            action.setEnabled(any_selected)
        self.rename_action.setEnabled(len(torrents) == 1)
        self.queue_menu.setEnabled(any_selected)

    # ---- filters ---------------------------------------------------------------------------

    def _update_filters(self) -> None:
        # The combos first: a category the side panel chooses (one restored from the last
        # session) must already be among the combo's values.
        self._update_combos()
        self.side.set_counts(
            self.model.group_counts(),
            self.model.category_counts(),
            self.model.categories(),
            self.model.tag_counts(),
            self.model.tags(),
            self.model.tracker_counts(),
        )

    def _update_combos(self) -> None:
        counts = self.model.group_counts()
        for i, group in enumerate(self._group_values):
            self.group_combo.setItemText(i, f"{GROUP_LABELS[group]} ({counts.get(group, 0)})")

        per_category = self.model.category_counts()
        wanted: list[tuple[str, str | None]] = [
            (f"All categories ({len(self.model.hashes())})", None),
            (f"Uncategorised ({per_category.get('', 0)})", ""),
        ]
        wanted += [
            (f"{name} ({per_category.get(name, 0)})", name) for name in self.model.categories()
        ]
        combo = self.category_combo
        values = [value for _, value in wanted]
        if values == self._category_values:
            for i, (label, _) in enumerate(wanted):
                combo.setItemText(i, label)
            return
        current = self.proxy.category
        combo.blockSignals(True)
        try:
            combo.clear()
            for label, _ in wanted:
                combo.addItem(label)
            self._category_values = values
            combo.setCurrentIndex(values.index(current) if current in values else 0)
        finally:
            combo.blockSignals(False)
        if current not in values:
            self.proxy.set_category(None)  # the category went away: show everything

    def _group_chosen(self, index: int) -> None:
        if 0 <= index < len(self._group_values):
            self.proxy.set_group(self._group_values[index])
            self.side.choose(STATUS, self._group_values[index])

    def _category_chosen(self, index: int) -> None:
        if 0 <= index < len(self._category_values):
            self.proxy.set_category(self._category_values[index])
            self.side.choose(CATEGORIES, self._category_values[index])

    def set_group(self, group: StateGroup) -> None:
        """Show one state group, as if the user picked it."""
        self.group_combo.setCurrentIndex(self._group_values.index(group))

    def set_category(self, category: str | None) -> None:
        """Show one category (None: all, "": uncategorised), as if the user picked it."""
        if category in self._category_values:
            self.category_combo.setCurrentIndex(self._category_values.index(category))

    # ---- menus -----------------------------------------------------------------------------

    def _show_menu(self, pos: QPoint) -> None:
        if not self.table.indexAt(pos).isValid():
            return
        self.update_actions()
        self.menu.popup(self.table.viewport().mapToGlobal(pos))

    def _show_header_menu(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        menu = QMenu(self)
        visible = [c for c in Column if not header.isSectionHidden(c)]
        for column in Column:
            action = menu.addAction(HEADERS[column])
            action.setCheckable(True)
            action.setChecked(column in visible)
            # Never let the user hide the last visible column: the table would vanish.
            action.setEnabled(not (column in visible and len(visible) == 1))
            action.toggled.connect(lambda shown, c=column: header.setSectionHidden(c, not shown))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(header.mapToGlobal(pos))

    def _fill_category_menu(self) -> None:
        menu = self.category_menu
        menu.clear()
        menu.addAction(self.new_category_action)
        menu.addAction(self.reset_category_action)
        names = self.model.categories()
        if names:
            menu.addSeparator()
        torrents = [t for t in (self.model.torrent(h) for h in self.selected_hashes()) if t]
        current = {t.get("category") or "" for t in torrents}
        for name in names:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(current == {name})
            action.triggered.connect(lambda _=False, n=name: self._set_category(n))

    def category_actions(self) -> dict[str, QAction]:
        """The submenu's entries for existing categories, by name."""
        self._fill_category_menu()
        skip = {self.new_category_action, self.reset_category_action}
        return {
            a.text(): a
            for a in self.category_menu.actions()
            if not a.isSeparator() and a not in skip
        }

    # ---- intents ---------------------------------------------------------------------------

    def _start(self) -> None:
        hashes = self.selected_hashes()
        if hashes:
            self.start_requested.emit(hashes)

    def _stop(self) -> None:
        hashes = self.selected_hashes()
        if hashes:
            self.stop_requested.emit(hashes)

    def _details(self) -> None:
        torrent_hash = self.current_hash()
        if torrent_hash:
            self.show_details()
            self.details_requested.emit(torrent_hash)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.show_details()
            self.details_requested.emit(str(index.data(HASH_ROLE)))

    def show_details(self) -> None:
        """Open the properties panel (the user may have collapsed it) on its General tab."""
        sizes = self.vertical_splitter.sizes()
        if len(sizes) == 2 and sizes[1] == 0:
            total = sum(sizes)
            self.vertical_splitter.setSizes([total * 3 // 5, total * 2 // 5])
        self.properties.show_tab(GENERAL)

    def _set_category(self, name: str) -> None:
        hashes = self.selected_hashes()
        if hashes:
            self.category_requested.emit(hashes, name)

    def request_remove(self) -> None:
        """Ask (non-modally) whether to remove the selected torrents, and their files."""
        hashes = self.selected_hashes()
        if not hashes:
            return
        if self.remove_dialog is not None:
            self.remove_dialog.close()
        names = [str((self.model.torrent(h) or {}).get("name", h)) for h in hashes]
        many = len(hashes) > 1
        box = QMessageBox(self)
        box.setObjectName("downloads-remove")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove torrents" if many else "Remove torrent")
        box.setTextFormat(Qt.TextFormat.PlainText)  # torrent names are not markup
        box.setText(
            f"Remove these {len(hashes)} torrents from qBittorrent?"
            if many
            else f"Remove “{names[0]}” from qBittorrent?"
        )
        if many:
            box.setDetailedText("\n".join(names))
        consequence = self.remove_note(hashes) if self.remove_note is not None else ""
        box.setInformativeText(
            (consequence + "\n\n" if consequence else "")
            + "Removing the files deletes the downloaded data on qBittorrent's computer."
        )
        noun = "torrents" if many else "torrent"
        keep = box.addButton(f"Remove {noun}", QMessageBox.ButtonRole.AcceptRole)
        delete = box.addButton(
            f"Remove {noun} and {'their' if many else 'its'} files",
            QMessageBox.ButtonRole.DestructiveRole,
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(button: QAbstractButton) -> None:
            if button is keep:
                self.remove_requested.emit(hashes, False)
            elif button is delete:
                self.remove_requested.emit(hashes, True)

        box.buttonClicked.connect(chosen)
        box.destroyed.connect(lambda *_: self._forget_remove_dialog(box))
        self.remove_dialog = box
        box.show()

    def _forget_remove_dialog(self, box: QMessageBox) -> None:
        if self.remove_dialog is box:
            self.remove_dialog = None

    def ask_new_category(self) -> None:
        """Ask (non-modally) for a new category name for the selected torrents."""
        hashes = self.selected_hashes()
        if not hashes:
            return
        dialog = QInputDialog(self)
        dialog.setObjectName("downloads-new-category")
        dialog.setWindowTitle("New category")
        dialog.setLabelText("Category name:")
        dialog.setInputMode(QInputDialog.InputMode.TextInput)
        dialog.setModal(False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(text: str) -> None:
            name = text.strip()
            if name:
                self.category_requested.emit(hashes, name)

        dialog.textValueSelected.connect(chosen)
        dialog.destroyed.connect(lambda *_: self._forget_category_dialog(dialog))
        self.category_dialog = dialog
        dialog.show()

    def _forget_category_dialog(self, dialog: QInputDialog) -> None:
        if self.category_dialog is dialog:
            self.category_dialog = None

    # ---- more actions: set location, rename, tags, limits ----------------------------------

    def _emit_action(self, name: str, hashes: list[str], value: object) -> None:
        if hashes:
            self.torrent_action.emit(name, hashes, value)

    def _ask(
        self, name: str, title: str, label: str, value: str | int, *, suffix: str = ""
    ) -> QInputDialog | None:
        """A non-modal input dialog whose answer becomes `torrent_action(name, …)`."""
        hashes = self.selected_hashes()
        if not hashes:
            return None
        if self.input_dialog is not None:
            self.input_dialog.close()
        dialog = QInputDialog(self)
        dialog.setObjectName(f"downloads-{name}")
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setModal(False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if isinstance(value, int):
            dialog.setInputMode(QInputDialog.InputMode.IntInput)
            dialog.setIntRange(0, 10_000_000)
            dialog.setIntValue(value)
            dialog.intValueSelected.connect(
                lambda number: self._emit_action(name, hashes, int(number) * 1024)
            )
        else:
            dialog.setInputMode(QInputDialog.InputMode.TextInput)
            dialog.setTextValue(value)
            dialog.textValueSelected.connect(
                lambda text: self._emit_action(name, hashes, str(text).strip())
            )
        dialog.destroyed.connect(lambda *_: self._forget_input_dialog(dialog))
        self.input_dialog = dialog
        dialog.show()
        return dialog

    def _forget_input_dialog(self, dialog: QInputDialog) -> None:
        if self.input_dialog is dialog:
            self.input_dialog = None

    def _selected_torrents(self) -> list[dict[str, Any]]:
        return [t for t in (self.model.torrent(h) for h in self.selected_hashes()) if t]

    def ask_location(self) -> None:
        """qBittorrent moves the data to the new folder (on its own computer)."""
        torrents = self._selected_torrents()
        current = str(torrents[0].get("save_path") or "") if torrents else ""
        self._ask(
            "location",
            self.tr("Set location"),
            self.tr("New folder on qBittorrent's computer (the data is moved there):"),
            current,
        )

    def ask_rename(self) -> None:
        torrents = self._selected_torrents()
        if len(torrents) == 1:
            self._ask(
                "rename",
                self.tr("Rename"),
                self.tr("New name:"),
                str(torrents[0].get("name") or ""),
            )

    def ask_tags(self) -> None:
        torrents = self._selected_torrents()
        shared = set.intersection(*(set(tags_of(t)) for t in torrents)) if torrents else set()
        dialog = self._ask(
            "tags",
            self.tr("Edit tags"),
            self.tr("Tags, separated by commas:"),
            ", ".join(sorted(shared)),
        )
        if dialog is not None:
            hashes = self.selected_hashes()
            dialog.textValueSelected.disconnect()
            dialog.textValueSelected.connect(
                lambda text: self._emit_action(
                    "tags", hashes, [t.strip() for t in str(text).split(",") if t.strip()]
                )
            )

    def ask_limit(self, name: str) -> None:
        """A rate in KiB/s (0: no limit), emitted in bytes/s as qBittorrent takes it."""
        torrents = self._selected_torrents()
        key = "dl_limit" if name == "download_limit" else "up_limit"
        current = max(0, int(torrents[0].get(key) or 0)) // 1024 if torrents else 0
        download = name == "download_limit"
        self._ask(
            name,
            self.tr("Limit download rate") if download else self.tr("Limit upload rate"),
            self.tr("Download limit in KiB/s (0: no limit):")
            if download
            else self.tr("Upload limit in KiB/s (0: no limit):"),
            current,
        )

    def copy_magnets(self) -> None:
        magnets = [
            str(t["magnet_uri"])
            for t in (self.model.torrent(h) for h in self.selected_hashes())
            if t and t.get("magnet_uri")
        ]
        if magnets:
            QGuiApplication.clipboard().setText(REDACTOR.conceal("\n".join(magnets)))

    def _folder_to_open(self) -> Path | None:
        torrent_hash = self.current_hash()
        torrent = self.model.torrent(torrent_hash) if torrent_hash else None
        save_path = str((torrent or {}).get("save_path") or "")
        if not save_path:
            return None
        local = self.local_path(save_path)
        if not local:
            return None
        return _existing_folder(local)

    def open_folder(self) -> None:
        folder = self._folder_to_open()
        if folder is not None:
            self.open_url(QUrl.fromLocalFile(str(folder)))
