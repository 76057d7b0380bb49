"""The status colours of `gui.models.palette`, made readable in the palette in use.

The fixed colours were chosen for a light palette: a pale "In library" row under the
white text of a dark palette could not be read. Here a row or notice background is the
palette's own base tinted towards the status colour (pale on light palettes, dark on
dark ones), and a status text colour is lightened or darkened until it has a WCAG
contrast of at least 4.5 against what it is drawn on.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QColor, QGuiApplication, QPalette

#: WCAG AA for normal text.
MIN_CONTRAST = 4.5
#: How much of the status colour tints a background.
LIGHT_TINT = 0.12
DARK_TINT = 0.28


def luminance(colour: QColor) -> float:
    """WCAG relative luminance."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(one: QColor, other: QColor) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    a, b = sorted((luminance(one), luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def mix(base: QColor, tint: QColor, amount: float) -> QColor:
    return QColor.fromRgbF(
        base.redF() + (tint.redF() - base.redF()) * amount,
        base.greenF() + (tint.greenF() - base.greenF()) * amount,
        base.blueF() + (tint.blueF() - base.blueF()) * amount,
    )


def readable(colour: QColor, background: QColor, minimum: float = MIN_CONTRAST) -> QColor:
    """`colour`, made lighter (on a dark background) or darker until it can be read."""
    found = QColor(colour)
    towards = QColor("white") if luminance(background) < 0.18 else QColor("black")
    step = 0
    while contrast(found, background) < minimum and step < 20:
        step += 1
        found = mix(colour, towards, step / 20)
    return found


def current_palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or current_palette()
    return luminance(palette.color(QPalette.ColorRole.Base)) < 0.18


@lru_cache(maxsize=64)
def _background(colour: str, base: str, text: str) -> QColor:
    base_colour, text_colour = QColor(base), QColor(text)
    dark = luminance(base_colour) < 0.18
    tinted = mix(base_colour, QColor(colour), DARK_TINT if dark else LIGHT_TINT)
    while contrast(text_colour, tinted) < MIN_CONTRAST and dark:
        tinted = tinted.darker(110)
    return tinted


def status_background(colour: str, palette: QPalette | None = None) -> QColor:
    """A row's (or a notice's) background that says `colour` and keeps the palette's text
    readable on it."""
    palette = palette or current_palette()
    return QColor(
        _background(
            colour,
            palette.color(QPalette.ColorRole.Base).name(),
            palette.color(QPalette.ColorRole.Text).name(),
        )
    )


@lru_cache(maxsize=64)
def _text(colour: str, background: str) -> QColor:
    return readable(QColor(colour), QColor(background))


def status_text(
    colour: str, background: QColor | None = None, palette: QPalette | None = None
) -> QColor:
    """`colour` for text, readable on `background` (default: the palette's base)."""
    palette = palette or current_palette()
    ground = background or palette.color(QPalette.ColorRole.Base)
    return QColor(_text(colour, ground.name()))


def muted_text(palette: QPalette | None = None) -> QColor:
    """Secondary text (counts, hints, placeholders): the palette's placeholder colour,
    flattened onto the window colour and made readable."""
    palette = palette or current_palette()
    window = palette.color(QPalette.ColorRole.Window)
    placeholder = palette.color(QPalette.ColorRole.PlaceholderText)
    flat = mix(window, placeholder, placeholder.alphaF())
    return readable(flat, window, 3.0)


def muted_style() -> str:
    return f"color:{muted_text().name()}"


def on_window(colour: str) -> str:
    """`colour` (a "#rrggbb" status colour) for text on the window's background, as a
    style-sheet colour; anything else (e.g. "palette(text)") is returned as it is."""
    if not colour.startswith("#"):
        return colour
    window = current_palette().color(QPalette.ColorRole.Window)
    return status_text(colour, window).name()


def on_base(colour: str) -> QColor:
    """`colour` for text in a list or table (on the palette's base)."""
    return status_text(colour)
