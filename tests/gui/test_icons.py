"""The toolbar and menus carry one icon set (Lucide, shipped in resources/icons/lucide),
drawn in the palette's text colour so a dark palette keeps them visible."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.views.icons import icon, resources_dir
from gui.views.main_window import TOOLBAR_ICONS, MainWindow


def drawn_colours(image_icon: object, size: int = 24) -> set[str]:
    pixmap = image_icon.pixmap(size)  # type: ignore[attr-defined]
    image = pixmap.toImage()
    return {
        image.pixelColor(x, y).name()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    }


def test_toolbar_actions_have_icons_with_text_beside(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    for name in TOOLBAR_ICONS:
        action = window.actions_by_name[name]
        assert not action.icon().isNull(), name
        assert action.text()  # text beside the icon, as qBittorrent
    assert (resources_dir() / "icons" / "lucide" / "LICENSE").is_file()


def test_icons_follow_a_dark_palette(qapp: QApplication) -> None:
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
    dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#777777"))
    light = QPalette()
    light.setColor(QPalette.ColorRole.WindowText, QColor("#111111"))
    assert "#eeeeee" in drawn_colours(icon("play", dark))
    assert "#111111" in drawn_colours(icon("play", light))
    disabled = icon("play", dark).pixmap(24, mode=icon("play", dark).Mode.Disabled)
    image = disabled.toImage()
    opaque = {
        image.pixelColor(x, y).name()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    }
    assert "#777777" in opaque
    assert icon("no-such-icon", dark).isNull()
