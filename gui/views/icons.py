"""The application icon and the toolbar's and menus' icons (Lucide), found next to the
source tree or inside a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QIcon, QPalette, QPixmap


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "earmark.svg"))


#: Sizes each themed icon is drawn at (toolbar, menus, HiDPI).
ICON_SIZES = (16, 24, 32, 48)
_MODES = (
    (QIcon.Mode.Normal, QPalette.ColorGroup.Active),
    (QIcon.Mode.Active, QPalette.ColorGroup.Active),
    (QIcon.Mode.Selected, QPalette.ColorGroup.Active),
    (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled),
)
_themed: dict[tuple[str, str, str], QIcon] = {}


def icon(name: str, palette: QPalette | None = None) -> QIcon:
    """A Lucide icon (resources/icons/lucide, ISC licence) in the palette's text colour.

    Lucide draws with `stroke="currentColor"`, which Qt's SVG reader does not resolve: the
    colour is written in before the SVG is read, the normal one and the disabled one, so
    the icon stays readable on a dark palette. Unknown names give an empty icon.
    """
    if palette is None:
        palette = QGuiApplication.palette()
    normal = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText).name()
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText).name()
    key = (name, normal, disabled)
    found = _themed.get(key)
    if found is not None:
        return found
    path = resources_dir() / "icons" / "lucide" / f"{name}.svg"
    result = QIcon()
    try:
        svg = path.read_text(encoding="utf-8")
    except OSError:
        return result
    for mode, group in _MODES:
        colour = palette.color(group, QPalette.ColorRole.WindowText).name()
        for size in ICON_SIZES:
            data = (
                svg.replace("currentColor", colour)
                .replace('width="24"', f'width="{size}"')
                .replace('height="24"', f'height="{size}"')
            )
            pixmap = QPixmap()
            if pixmap.loadFromData(data.encode("utf-8"), "SVG"):
                result.addPixmap(pixmap, mode)
    _themed[key] = result
    return result
