"""The QApplication, its single qasync event loop, single instance and wiring.

One asyncio loop (qasync's) drives both Qt and every network client, so I/O never blocks
the window. QT_API is set before qasync is imported so it picks PySide6.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import traceback
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMessageBox

from gui import __version__
from gui.logging_setup import setup_logging
from gui.settings import SecretStore, SettingsError, config_dir, load_settings
from gui.single_instance import SingleInstance, hand_off_arguments
from gui.store import Store, StoreError
from gui.views.icons import app_icon
from gui.views.main_window import MainWindow

if TYPE_CHECKING:
    from gui.controller import AppController

os.environ.setdefault("QT_API", "pyside6")  # qasync picks its binding when imported

log = logging.getLogger(__name__)


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Earmark")
    app.setOrganizationName("Earmark")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the tray may outlive the window
    return app


class ExceptHook:
    """qasync reports errors in slots only through sys.excepthook: log and show them."""

    def __init__(self) -> None:
        self.controller: AppController | None = None

    def __call__(
        self,
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        log.error("uncaught error:\n%s", "".join(traceback.format_exception(kind, error, trace)))
        if self.controller is not None:
            self.controller.window.notices.show_notice(f"Unexpected error: {error}", "error")


class FirstPaintProbe(QObject):
    """For bench/startup.py: print the wall-clock time of the first paint, then quit."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.painted = False
        self.controller: AppController | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            print(f"first-paint {time.time():.6f}", flush=True)
            if self.controller is not None:
                self.controller.quit()
        return False


async def _run(
    controller: AppController,
    instance: SingleInstance,
    args: list[str],
    probe: FirstPaintProbe | None,
) -> int:
    app = _application()
    app.aboutToQuit.connect(controller.quit)  # the session ends: shut down all the same
    instance.arguments_received.connect(controller.take_arguments)
    if probe is not None:
        probe.controller = controller
        if probe.painted:
            controller.quit()
    controller.start()
    if args:
        controller.take_arguments(args)
    await controller.quit_requested.wait()
    await controller.shutdown()
    controller.window.close()
    return 0


def run_app(args: list[str] | None = None) -> int:
    args = list(args or [])
    log_file = setup_logging()
    app = _application()
    instance = SingleInstance()
    if not instance.is_primary():
        if instance.send_to_primary(hand_off_arguments(args)):
            return 0
        print("earmark: another Earmark is running but did not answer", file=sys.stderr)
        return 1
    hook = ExceptHook()
    sys.excepthook = hook
    try:
        settings = load_settings()
        store = Store.open_in(config_dir())
    except (SettingsError, StoreError) as exc:
        QMessageBox.critical(None, "Earmark cannot start", str(exc))  # no loop runs yet
        return 1
    log.info("Earmark %s starting; log file %s", __version__, log_file)
    # Show the window first; the network stack (aiohttp, qasync) loads behind it.
    window = MainWindow()
    probe = None
    if os.environ.get("EARMARK_EXIT_AFTER_FIRST_PAINT"):
        probe = FirstPaintProbe(window)
        window.installEventFilter(probe)
    window.show()
    app.processEvents()
    try:
        import qasync

        from gui.controller import AppController

        secrets = SecretStore()
        secrets.register_all()  # after the first paint: the redactor knows every secret
        controller = AppController(settings, secrets, store, window)
        hook.controller = controller
        # asyncio.run(loop_factory=...) is 3.12+; Runner is the same thing on 3.11.
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            return runner.run(_run(controller, instance, args, probe))
    finally:
        store.close()
        instance.close()
        del app


def self_test() -> None:
    """What the frozen build's smoke test runs: Qt imports, the window opens and closes,
    the database opens."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _application()
    store = Store.open_in(config_dir())
    try:
        store.books()
    finally:
        store.close()
    window = MainWindow()
    window.show()
    app.processEvents()
    if not window.isVisible():
        raise RuntimeError("the main window did not open")
    window.close()
    app.processEvents()
