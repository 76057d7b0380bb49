"""Render resources/icons/earmark.svg into the Windows .ico the frozen exe and installer use.

Qt draws the SVG (the same renderer the running app uses for its window icon), so the exe
icon matches the window icon; the ICO container is written by hand with the standard
library because it is a 6-byte header, 16 bytes per image and the PNG data, and a Pillow
dependency for that is not worth it. PNG-compressed entries are what Windows Vista and
later expect for 256 px and accept for every size.

    python packaging/make_icon.py [SVG] [ICO]
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "earmark.svg"
ICO = ROOT / "resources" / "icons" / "earmark.ico"
SIZES = (16, 24, 32, 48, 64, 256)


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs say bytes; PySide6 6.12 accepts only str for the char* format at run time.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise RuntimeError(f"Qt could not encode the {size} px PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(images: dict[int, bytes]) -> bytes:
    """ICONDIR, one ICONDIRENTRY per image (0 in a size byte means 256), then the images."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = [], []
    for size, png in sorted(images.items()):
        side = 0 if size >= 256 else size
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset))
        blobs.append(png)
        offset += len(png)
    return header + b"".join(entries) + b"".join(blobs)


def make_icon(svg: Path = SVG, ico: Path = ICO, sizes: tuple[int, ...] = SIZES) -> Path:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise RuntimeError(f"Qt cannot read {svg}")
    ico.write_bytes(ico_bytes({size: render_png(renderer, size) for size in sizes}))
    return ico


if __name__ == "__main__":
    args = sys.argv[1:]
    out = make_icon(Path(args[0]) if args else SVG, Path(args[1]) if len(args) > 1 else ICO)
    print(f"wrote {out} ({out.stat().st_size} bytes, sizes {', '.join(map(str, SIZES))})")
