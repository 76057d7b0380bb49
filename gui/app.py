"""The QApplication, its single qasync event loop, single instance and wiring.

One asyncio loop (qasync's) drives both Qt and every network client, so I/O never blocks
the window. QT_API is set before qasync is imported so it picks PySide6.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
import threading
import time
import traceback
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gui import __version__
from gui.i18n import install_translator
from gui.single_instance import SingleInstance, hand_off_arguments
from gui.views.icons import app_icon, resources_dir
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
    install_translator(app, resources_dir() / "translations")
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
    """For bench/startup.py: print the wall-clock time of the first paint, then quit.

    With `watch_seconds`, it first watches the event loop that long after the first paint
    and prints the longest time it was blocked (`longest-stall-ms`): a window that appears
    and then freezes while the rest loads is what a user notices.
    """

    TICK_MS = 5

    def __init__(self, window: MainWindow, watch_seconds: float = 0.0) -> None:
        super().__init__(window)
        self.painted = False
        self.done = False  # the measurement is over: quit as soon as the app runs
        self.watch_seconds = watch_seconds
        self.controller: AppController | None = None
        self._timer: QTimer | None = None
        self._painted_at = 0.0
        self._last = 0.0
        self.longest = (0.0, 0.0)  # (stall, seconds after the first paint it ended)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            print(f"first-paint {time.time():.6f}", flush=True)
            if self.watch_seconds > 0:
                self._painted_at = self._last = time.perf_counter()
                self._timer = QTimer(self)
                self._timer.setTimerType(Qt.TimerType.PreciseTimer)
                self._timer.setInterval(self.TICK_MS)
                self._timer.timeout.connect(self._tick)
                self._timer.start()
            else:
                self._finish()
        return False

    def _tick(self) -> None:
        now = time.perf_counter()
        stall = now - self._last - self.TICK_MS / 1000
        if stall > self.longest[0]:
            self.longest = (stall, now - self._painted_at)
        self._last = now
        if now - self._painted_at >= self.watch_seconds and self._timer is not None:
            self._timer.stop()
            stall, at = self.longest
            print(f"longest-stall-ms {stall * 1000:.1f} at-ms {at * 1000:.0f}", flush=True)
            self._finish()

    def _finish(self) -> None:
        self.done = True
        if self.controller is not None:
            self.controller.quit()


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
        if probe.done:
            controller.quit()
    controller.start()
    if args:
        controller.take_arguments(args)
    await controller.quit_requested.wait()
    await controller.shutdown()
    controller.window.close()
    return 0


#: What the app needs once the window is up: ~0.5 s of imports (aiohttp, every view and
#: service, keyring and its backends), which on the GUI thread froze the fresh window.
BEHIND_WINDOW = ("asyncio", "qasync", "keyring", "gui.controller")


def import_behind_window(modules: tuple[str, ...]) -> None:
    """Import `modules` in a worker thread while the GUI thread keeps painting.

    Python's imports are thread-safe (one lock per module) and these modules create no Qt
    object when imported, so only their bytecode runs on the worker; the GUI thread waits
    in a local event loop, where a tick every 10 ms (and the GIL's 5 ms switch interval)
    keeps it answering. An import error is raised here, as a plain import would.
    """
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for name in modules:
                importlib.import_module(name)
        except BaseException as exc:  # re-raised on the GUI thread below
            errors.append(exc)

    worker = threading.Thread(target=work, name="earmark-imports", daemon=True)
    worker.start()
    waiting = QEventLoop()
    tick = QTimer()
    tick.setInterval(10)
    tick.timeout.connect(lambda: None if worker.is_alive() else waiting.quit())
    tick.start()
    if worker.is_alive():
        waiting.exec()
    tick.stop()
    worker.join()
    if errors:
        raise errors[0]


def run_app(args: list[str] | None = None) -> int:
    args = list(args or [])
    app = _application()
    instance = SingleInstance()
    if not instance.is_primary():
        if instance.send_to_primary(hand_off_arguments(args)):
            return 0
        print("earmark: another Earmark is running but did not answer", file=sys.stderr)
        return 1
    # Show the window first; logging, the settings, the database and the network stack
    # (aiohttp, qasync) load behind it.
    window = MainWindow()
    probe = None
    if os.environ.get("EARMARK_EXIT_AFTER_FIRST_PAINT"):
        watch = float(os.environ.get("EARMARK_WATCH_AFTER_FIRST_PAINT") or 0)
        probe = FirstPaintProbe(window, watch)
        window.installEventFilter(probe)
    window.show()
    app.processEvents()
    from gui.logging_setup import setup_logging
    from gui.settings import SecretStore, SettingsError, config_dir, load_settings
    from gui.store import Store, StoreError

    log_file = setup_logging()
    hook = ExceptHook()
    sys.excepthook = hook
    try:
        settings = load_settings()
        store = Store.open_in(config_dir())
    except (SettingsError, StoreError) as exc:
        QMessageBox.critical(window, "Earmark cannot start", str(exc))  # no loop runs yet
        instance.close()
        return 1
    log.info("Earmark %s starting; log file %s", __version__, log_file)
    try:
        import_behind_window(BEHIND_WINDOW)
        import asyncio

        import qasync

        from gui.controller import AppController

        secrets = SecretStore()
        secrets.register_all()  # after the first paint: the redactor knows every secret
        controller = AppController(settings, secrets, store, window)
        hook.controller = controller
        # Everything made so far (modules, classes, the window) lives as long as the app:
        # out of the collector's sight, a full collection later (e.g. while the library's
        # rows are built) walks only what came after, instead of stalling the GUI for
        # ~100 ms. Reference counting still frees these objects.
        gc.freeze()
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
    from gui.settings import config_dir
    from gui.store import Store

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
