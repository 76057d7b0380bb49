"""What every Earmark PyInstaller build leaves out, shared by earmark.spec and the bare-window
spec that bench/frozen_size_start.py builds for comparison (so the two differ only by the app).

Earmark uses QtCore, QtGui, QtWidgets and QtNetwork from Python; SVG icons reach QtSvg through
Qt's own iconengines/imageformats plugins, which PyInstaller collects with QtGui and whose
libQt6Svg dependency its binary analysis follows. Everything else in PySide6-Essentials is
excluded at the Python level, so the hooks for those modules never run and never collect their
libraries, plugins or translations. What hooks collect anyway and the app cannot use is dropped
from the TOC by `prune` (see the patterns below).
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable

# A second Qt binding makes PyInstaller abort ("multiple Qt bindings packages"); tkinter is
# unused and drags in Tcl/Tk.
OTHER_BINDINGS = ["PyQt5", "PyQt6", "PySide2", "shiboken2", "sip", "PyQt5.sip", "PyQt6.sip"]
UNUSED_STDLIB = ["tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "pydoc_data", "test"]
UNUSED_QT = [
    "PySide6.QtQml",
    "PySide6.QtQmlFeatures",
    "PySide6.QtQuick",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest",
    "PySide6.QtQuickWidgets",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebChannel",
    "PySide6.QtWebSockets",
    "PySide6.Qt3DAnimation",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DRender",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtSpatialAudio",
    "PySide6.QtCharts",
    "PySide6.QtDataVisualization",
    "PySide6.QtGraphs",
    "PySide6.QtGraphsWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtBluetooth",
    "PySide6.QtNfc",
    "PySide6.QtPositioning",
    "PySide6.QtLocation",
    "PySide6.QtSensors",
    "PySide6.QtSerialPort",
    "PySide6.QtSerialBus",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtXml",
    "PySide6.QtConcurrent",
    "PySide6.QtDBus",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtSvgWidgets",
    "PySide6.QtStateMachine",
    "PySide6.QtScxml",
    "PySide6.QtRemoteObjects",
    "PySide6.QtTextToSpeech",
    "PySide6.QtHttpServer",
    "PySide6.QtNetworkAuth",
    "PySide6.QtAxContainer",
    "PySide6.QtLabsStyleKit",
]
EXCLUDES = OTHER_BINDINGS + UNUSED_STDLIB + UNUSED_QT

# Collected by the QtCore/QtGui hooks but unusable by this app (destination-path globs,
# '/'-separated). Translations: nothing installs a QTranslator, so Qt never loads them.
# Platform plugins for embedded/kiosk targets (eglfs, linuxfb, vnc, vkkhrdisplay) and their EGL
# device integrations are never chosen on a desktop; xcb, wayland, offscreen, minimal, windows
# and cocoa stay.
PRUNE = [
    "PySide6/Qt/translations/*",
    "PySide6/translations/*",
    "PySide6/Qt/plugins/platforms/libqeglfs*",
    "PySide6/Qt/plugins/platforms/libqlinuxfb*",
    "PySide6/Qt/plugins/platforms/libqvnc*",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay*",
    "PySide6/Qt/plugins/platforms/libqminimalegl*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "*libQt6EglFSDeviceIntegration*",  # in Qt/lib and as a symlink at the top
    "*libQt6EglFsKms*",
    "PySide6/plugins/platforms/qdirect2d*",
]


def _dest(entry: tuple[str, ...]) -> str:
    return entry[0].replace("\\", "/")


def prune(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The TOC without entries matching PRUNE; prints what it dropped so a build log shows it."""
    kept: list[tuple[str, str, str]] = []
    dropped: list[tuple[str, str, str]] = []
    for entry in toc:
        (dropped if any(fnmatch.fnmatch(_dest(entry), p) for p in PRUNE) else kept).append(entry)
    if dropped:
        print(f"freeze_common: pruned {len(dropped)} entries (translations, embedded platforms)")
    return kept


def onefile_requested(environ: dict[str, str]) -> bool:
    return environ.get("EARMARK_ONEFILE", "") not in ("", "0", "false", "no")


IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform == "darwin"

# Strip symbol tables from the collected shared libraries on Linux, where wheels and some
# Pythons ship them unstripped (this machine's libpython: 22 MiB -> 5.5 MiB; aiohttp's and
# multidict's extensions shrink 5-10x). Nothing at run time reads them; Qt's own libraries are
# already stripped. Not on Windows (PyInstaller advises against it) nor macOS (signatures).
# EXE(strip=...) strips the binaries it archives, never the bootloader.
STRIP = sys.platform.startswith("linux")
