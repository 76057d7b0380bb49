"""The main window's menu bar and the actions it shares with the toolbar.

One QAction per command, used by both the menu and the toolbar, so a shortcut exists once
(two bindings of one key make Qt run neither). Shortcuts are Qt's standard keys
(`QKeySequence.StandardKey`), with a fallback where the platform defines none (Linux has
no Preferences key: Ctrl+, as in most Linux apps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QMainWindow, QMenu, QMenuBar, QWidget

from gui.i18n import QT_TRANSLATE_NOOP

StandardKey = QKeySequence.StandardKey
CONTEXT = "Menus"


def _tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text) if text else text


@dataclass(frozen=True)
class Command:
    name: str
    text: str
    keys: tuple[StandardKey | str, ...] = ()
    tip: str = ""


#: Every command of the window, by menu (None: a separator). The words are marked for the
#: translator (context "Menus") and translated in `build_menu_bar`.
MENUS: tuple[tuple[str, tuple[Command | None, ...]], ...] = (
    (
        QT_TRANSLATE_NOOP("Menus", "&File"),
        (
            Command(
                "add",
                QT_TRANSLATE_NOOP("Menus", "&Add torrent…"),
                (StandardKey.Open,),
                QT_TRANSLATE_NOOP("Menus", "Add a magnet link or .torrent"),
            ),
            Command("import_csv", QT_TRANSLATE_NOOP("Menus", "&Import wanted books from CSV…")),
            None,
            Command(
                "quit",
                QT_TRANSLATE_NOOP("Menus", "&Quit"),
                (StandardKey.Quit, "Ctrl+Q"),
                QT_TRANSLATE_NOOP("Menus", "Quit Earmark"),
            ),
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Menus", "&Edit"),
        (
            Command(
                "find",
                QT_TRANSLATE_NOOP("Menus", "&Find…"),
                (StandardKey.Find,),
                QT_TRANSLATE_NOOP("Menus", "Filter the list shown"),
            ),
            Command(
                "remove",
                QT_TRANSLATE_NOOP("Menus", "&Remove…"),
                (StandardKey.Delete,),
                QT_TRANSLATE_NOOP("Menus", "Remove the selection"),
            ),
            None,
            Command(
                "settings",
                QT_TRANSLATE_NOOP("Menus", "&Preferences…"),
                (StandardKey.Preferences, "Ctrl+,"),
            ),
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Menus", "&View"),
        (
            Command("show_wanted", QT_TRANSLATE_NOOP("Menus", "&Wanted"), ("Ctrl+1",)),
            Command("show_downloads", QT_TRANSLATE_NOOP("Menus", "&Downloads"), ("Ctrl+2",)),
            Command("show_library", QT_TRANSLATE_NOOP("Menus", "&Library"), ("Ctrl+3",)),
            Command("show_history", QT_TRANSLATE_NOOP("Menus", "&History"), ("Ctrl+4",)),
            None,  # then the toolbar's own show/hide action (MainWindow adds it)
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Menus", "&Tools"),
        (
            Command(
                "start",
                QT_TRANSLATE_NOOP("Menus", "&Start"),
                (),
                QT_TRANSLATE_NOOP("Menus", "Start the selected downloads"),
            ),
            Command(
                "stop",
                QT_TRANSLATE_NOOP("Menus", "S&top"),
                (),
                QT_TRANSLATE_NOOP("Menus", "Stop the selected downloads"),
            ),
            None,
            Command("search", QT_TRANSLATE_NOOP("Menus", "&Search indexers…")),
            Command(
                "doctor",
                QT_TRANSLATE_NOOP("Menus", "Connection &doctor…"),
                (),
                QT_TRANSLATE_NOOP("Menus", "Find why qBittorrent refuses"),
            ),
            Command(
                "reconnect", QT_TRANSLATE_NOOP("Menus", "&Reconnect to qBittorrent")
            ),  # a login: no stray key
        ),
    ),
    (
        QT_TRANSLATE_NOOP("Menus", "&Help"),
        (Command("about", QT_TRANSLATE_NOOP("Menus", "&About Earmark")),),
    ),
)


def shortcuts(keys: tuple[StandardKey | str, ...]) -> list[QKeySequence]:
    """The platform's standard keys first; a fallback only where the platform has none."""
    found: list[QKeySequence] = []
    for key in keys:
        if isinstance(key, StandardKey):
            found.extend(QKeySequence.keyBindings(key))
        elif not found:
            found.append(QKeySequence(key))
    unique: list[QKeySequence] = []
    for sequence in found:
        if not sequence.isEmpty() and sequence not in unique:
            unique.append(sequence)
    return unique


def build_menu_bar(window: QMainWindow) -> tuple[dict[str, QAction], dict[str, QMenu]]:
    """The menu bar on `window`: its actions by command name (not yet connected) and its
    menus by name ("file", "edit", "view", "tools", "help")."""
    bar: QMenuBar = window.menuBar()
    actions: dict[str, QAction] = {}
    menus: dict[str, QMenu] = {}
    for title, commands in MENUS:
        menu = bar.addMenu(_tr(title))
        menus[title.replace("&", "").lower()] = menu
        for command in commands:
            if command is None:
                menu.addSeparator()
                continue
            action = QAction(_tr(command.text), window)
            action.setObjectName(f"action-{command.name}")
            keys = shortcuts(command.keys)
            if keys:
                action.setShortcuts(keys)
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if command.tip:
                action.setStatusTip(_tr(command.tip))
                action.setToolTip(_tr(command.tip))
            menu.addAction(action)
            actions[command.name] = action
    return actions, menus


def bind_enter(table: QAbstractItemView, action: QAction) -> None:
    """Enter/Return on a table runs `action` (open the current row), as a double-click."""
    action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
    action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    table.addAction(action)


def enter_action(table: QAbstractItemView, run: Callable[[], object], parent: QObject) -> QAction:
    """An Enter/Return action for a table whose view has no action of its own for it."""
    action = QAction(QCoreApplication.translate(CONTEXT, "Open"), parent)
    action.triggered.connect(run)
    bind_enter(table, action)
    return action


#: Focus drawn where Fusion draws none (an item view's frame): the palette's highlight.
FOCUS_STYLE = "QAbstractItemView:focus { border: 2px solid palette(highlight); }"


def free_tab_key(root: QWidget) -> None:
    """Tab leaves a table for the next widget instead of walking its cells (the cells are
    reached with the arrow keys), and a focused table shows it."""
    for view in root.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)
        if FOCUS_STYLE not in view.styleSheet():
            view.setStyleSheet(view.styleSheet() + FOCUS_STYLE)
