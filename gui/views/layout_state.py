"""The window's layout survives a restart: geometry and state, splitters, each table's
columns (widths, order, visibility, sort), the current tab, the filter boxes and the
side panel's choices (status, category, tag, tracker).

Kept with QSettings in `window.ini` next to the database, apart from `settings.json`
(which holds the user's choices, and whose secrets live in the keyring anyway): a layout
is not a setting, and a broken one must never stop the settings from loading. Qt's own
saveState blobs are used, so a column added by a newer version simply takes its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSplitter,
    QTableView,
    QTabWidget,
)

from gui.views.filter_panel import FilterPanel

LAYOUT_FILE = "window.ini"
#: Bumped when a saved layout can no longer be read as is.
LAYOUT_VERSION = 1


def _bytes(value: object) -> QByteArray | None:
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, bytes | bytearray) and value:
        return QByteArray(bytes(value))
    return None


class WindowLayout:
    def __init__(self, directory: Path) -> None:
        self.path = directory / LAYOUT_FILE
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def save(
        self,
        window: QMainWindow,
        tabs: QTabWidget,
        tables: Mapping[str, QTableView],
        filters: Mapping[str, QLineEdit | QComboBox],
        panels: Mapping[str, FilterPanel] | None = None,
    ) -> None:
        qs = self._settings
        qs.setValue("version", LAYOUT_VERSION)
        qs.setValue("window/geometry", window.saveGeometry())
        qs.setValue("window/state", window.saveState(LAYOUT_VERSION))
        qs.setValue("window/tab", tabs.currentIndex())
        for splitter in window.findChildren(QSplitter):
            if splitter.objectName():
                qs.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        for name, table in tables.items():
            qs.setValue(f"tables/{name}", table.horizontalHeader().saveState())
        for name, box in filters.items():
            text = box.currentText() if isinstance(box, QComboBox) else box.text()
            qs.setValue(f"filters/{name}", text)
        for name, panel in (panels or {}).items():
            qs.remove(f"panels/{name}")  # a section back at "All" has no key
            for key, value in panel.saved_choices().items():
                qs.setValue(f"panels/{name}/{key}", value)
        qs.sync()

    def restore(
        self,
        window: QMainWindow,
        tabs: QTabWidget,
        tables: Mapping[str, QTableView],
        filters: Mapping[str, QLineEdit | QComboBox],
        panels: Mapping[str, FilterPanel] | None = None,
    ) -> bool:
        """Put the saved layout back; False when there is none (first run) or it is from
        another layout version (then the defaults stay)."""
        qs = self._settings
        if qs.value("version") is None or int(str(qs.value("version"))) != LAYOUT_VERSION:
            return False
        geometry = _bytes(qs.value("window/geometry"))
        if geometry is not None:
            window.restoreGeometry(geometry)
        state = _bytes(qs.value("window/state"))
        if state is not None:
            window.restoreState(state, LAYOUT_VERSION)
        for splitter in window.findChildren(QSplitter):
            saved = _bytes(qs.value(f"splitters/{splitter.objectName()}"))
            if splitter.objectName() and saved is not None:
                splitter.restoreState(saved)
        for name, table in tables.items():
            saved = _bytes(qs.value(f"tables/{name}"))
            header = table.horizontalHeader()
            restored = saved is not None and header.restoreState(saved)
            if restored and table.isSortingEnabled():  # the proxy sorts as the header says
                table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        for name, box in filters.items():
            text = qs.value(f"filters/{name}")
            if not isinstance(text, str) or not text:
                continue
            if isinstance(box, QComboBox):
                found = box.findText(text)  # (a choice that is gone stays unchosen)
                if found >= 0:
                    box.setCurrentIndex(found)
            else:
                box.setText(text)
        for name, panel in (panels or {}).items():
            qs.beginGroup(f"panels/{name}")
            choices = {key: qs.value(key) for key in qs.childKeys()}
            qs.endGroup()
            panel.restore_choices(choices)
        tab = qs.value("window/tab")
        if tab is not None:
            index = int(str(tab))
            if 0 <= index < tabs.count() and tabs.isTabEnabled(index):
                tabs.setCurrentIndex(index)
        return True


def column_menu(header: QHeaderView, position: QPoint) -> QMenu:
    """A header's menu to choose the columns shown (the last visible one stays)."""
    model = header.model()
    menu = QMenu(header)
    visible = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    for column in range(header.count()):
        title = model.headerData(column, header.orientation()) if model is not None else None
        action = menu.addAction(str(title or f"Column {column + 1}"))
        action.setCheckable(True)
        action.setChecked(column in visible)
        action.setEnabled(not (column in visible and len(visible) == 1))
        action.toggled.connect(
            lambda shown, column=column: header.setSectionHidden(column, not shown)
        )
    menu.popup(header.mapToGlobal(position))
    return menu


def offer_column_menu(table: QTableView) -> None:
    """Right-click on a table's header chooses its columns (where the view has no menu of
    its own there, as the Downloads view has)."""
    header = table.horizontalHeader()
    if header.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu:
        return
    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    header.setSectionsMovable(True)
    header.customContextMenuRequested.connect(lambda position: column_menu(header, position))
