"""A dark Fusion palette, as a user of a dark desktop theme has (tests and screenshots)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette


def dark_fusion_palette() -> QPalette:
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for name, colour in (
        (role.Window, "#353535"),
        (role.WindowText, "#ffffff"),
        (role.Base, "#232323"),
        (role.AlternateBase, "#2c2c2c"),
        (role.ToolTipBase, "#353535"),
        (role.ToolTipText, "#ffffff"),
        (role.Text, "#ffffff"),
        (role.Button, "#353535"),
        (role.ButtonText, "#ffffff"),
        (role.BrightText, "#ff5555"),
        (role.Link, "#5ea4ff"),
        (role.Highlight, "#2a82da"),
        (role.HighlightedText, "#ffffff"),
        (role.PlaceholderText, "#9a9a9a"),
        (role.Light, "#505050"),
        (role.Midlight, "#454545"),
        (role.Mid, "#303030"),
        (role.Dark, "#202020"),
        (role.Shadow, "#141414"),
    ):
        palette.setColor(name, QColor(colour))
    for name in (role.Text, role.WindowText, role.ButtonText):
        palette.setColor(group.Disabled, name, QColor("#7f7f7f"))
    return palette
