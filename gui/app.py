"""The QApplication, its single qasync event loop, and the main window's wiring.

One asyncio loop (qasync's) drives both Qt and every network client, so I/O never blocks
the window. QT_API is set before qasync is imported so it picks PySide6.
"""

from __future__ import annotations

import asyncio
import os
import sys

os.environ.setdefault("QT_API", "pyside6")  # qasync picks its binding when imported

import qasync
from PySide6.QtWidgets import QApplication

from gui import __version__
from gui.views.main_window import MainWindow


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Earmark")
    app.setOrganizationName("Earmark")
    app.setApplicationVersion(__version__)
    return app


async def _run_window() -> int:
    app = _application()
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window = MainWindow()
    window.show()
    await closed.wait()
    return 0


def run_app() -> int:
    _application()
    # asyncio.run(loop_factory=...) is 3.12+; Runner is the same thing on 3.11.
    with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
        return runner.run(_run_window())


def self_test() -> None:
    """What the frozen build's smoke test runs: Qt imports, the window opens and closes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _application()
    window = MainWindow()
    window.show()
    app.processEvents()
    if not window.isVisible():
        raise RuntimeError("the main window did not open")
    window.close()
    app.processEvents()
