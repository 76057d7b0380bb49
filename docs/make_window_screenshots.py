"""Screenshots of the window's menu bar, a dark palette, 200 % scale on a 1920x1080
screen with the settings dialog, and the doctor's safe Host-header fix.

The real app (AppController) against a real qbittorrent-nox under Xvfb; the doctor runs
against qBittorrent behind a port remap (tests/harness/forwarder.py). Needs Xvfb and
nothing else (Qt grabs the X screen). Run from the repository root:
`.venv/bin/python docs/make_window_screenshots.py` (DISPLAY number: EARMARK_SHOT_DISPLAY,
default :83). Each shot runs in its own process: the scale factor is read when Qt starts.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "screenshots"
DISPLAY = os.environ.get("EARMARK_SHOT_DISPLAY", ":83")
SHOTS = ("menu-bar", "dark-palette", "scale-2-settings", "doctor-safe-host-fix")

BOOKS = [
    ("Dune", "Frank Herbert", "Dune", "1", "Scott Brick", "in_library",
     "imported into /audiobooks/Frank Herbert/Dune/Vol. 1 - Dune {Scott Brick}"),
    ("Emma", "Jane Austen", "", "", "Juliet Stevenson", "downloading", None),
    ("Guards! Guards!", "Terry Pratchett", "Discworld", "8", "Nigel Planer", "failed",
     "no release found after 10 searches (no results)"),
    ("Mistborn: The Final Empire", "Brandon Sanderson", "Mistborn", "1", "Michael Kramer",
     "wanted", None),
    ("Frankenstein", "Mary Shelley", "", "", "Dan Stevens", "downloaded",
     "downloaded; the import needs a library folder: set it in Settings → Library "
     "(Library folder) or in EARMARK_LIBRARY_DIR"),
]  # fmt: skip


def grab(name: str, x: int = 0, y: int = 0, width: int = -1, height: int = -1) -> None:
    """The X screen's pixels in that rectangle (menus and dialogs included), as the
    user sees them; coordinates in Qt's device-independent pixels (default: the whole
    screen)."""
    from PySide6.QtGui import QGuiApplication

    target = OUT / f"{name}.png"
    screen = QGuiApplication.primaryScreen()
    if not screen.grabWindow(0, x, y, width, height).save(str(target)):
        raise RuntimeError(f"could not write {target}")
    print("wrote", target)


async def settle(seconds: float) -> None:
    """Let the window paint (a screenshot, not a test: a fixed pause is fine here)."""
    await asyncio.sleep(seconds)  # qasync's loop paints meanwhile


def one_shot(shot: str, tmp: Path) -> None:
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ["DISPLAY"] = DISPLAY
    os.environ["EARMARK_CONFIG_DIR"] = str(tmp / "profile")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    os.environ.setdefault("QT_API", "pyside6")
    import qasync
    from PySide6.QtWidgets import QApplication, QStyleFactory

    from tests.harness.qbt import QBT_PASSWORD, QBT_USER, start_qbittorrent

    app = QApplication([])
    app.setStyle(QStyleFactory.create("Fusion"))
    qbt = start_qbittorrent(tmp / "qbt")
    os.environ["EARMARK_QBT_PASSWORD"] = QBT_PASSWORD
    try:
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            runner.run(SCENES[shot](app, qbt.url, QBT_USER, qbt.web_port))
    finally:
        qbt.stop()


def _controller(url: str, user: str, **values: object) -> object:
    from gui.controller import AppController
    from gui.settings import SecretStore, Settings, save_settings
    from gui.store import Book, Store

    settings = Settings(qbt_url=url, qbt_username=user, **values)  # type: ignore[arg-type]
    profile = Path(os.environ["EARMARK_CONFIG_DIR"])
    save_settings(settings, profile)
    store = Store.open_in(profile)
    for title, author, series, pos, narrator, state, reason in BOOKS:
        book = store.add_book(Book(title, author, narrator=narrator, series=series, position=pos))
        if state != "wanted":
            kept = reason if state in ("failed", "downloaded") else None
            store.set_state(book, state, reason=kept, event=reason or state)
    return AppController(settings, SecretStore(), store)


async def _started(controller: object) -> None:
    from gui.controller import AppController
    from gui.services.status import Link

    assert isinstance(controller, AppController)
    controller.start()
    deadline = time.monotonic() + 30
    while controller.service.status.link is not Link.CONNECTED:
        if time.monotonic() > deadline:
            raise RuntimeError("qBittorrent did not connect")
        await asyncio.sleep(0.05)
    controller.window.move(0, 0)
    controller.window.resize(1180, 640)
    await settle(1.5)


async def menu_bar(app: object, url: str, user: str, _port: int) -> None:
    from gui.controller import AppController

    controller = _controller(url, user)
    assert isinstance(controller, AppController)
    await _started(controller)
    window = controller.window
    menu = window.menus["edit"]
    bar = window.menuBar()
    edit = next(a for a in bar.actions() if a.menu() is menu)
    bar.setActiveAction(edit)
    await settle(1.0)
    geometry = menu.geometry()
    grab("menu-bar", 0, 0, max(geometry.right() + 200, 720), max(geometry.bottom() + 40, 260))
    menu.hide()
    await controller.shutdown()


async def dark_palette(app: object, url: str, user: str, _port: int) -> None:
    from PySide6.QtWidgets import QApplication

    from gui.controller import AppController
    from tests.harness.palettes import dark_fusion_palette

    assert isinstance(app, QApplication)
    app.setPalette(dark_fusion_palette())
    controller = _controller(url, user)
    assert isinstance(controller, AppController)
    await _started(controller)
    window = controller.window
    window.notices.show_notice(
        "<b>Added to your library</b> — 'Dune' is in your library.", "success", 0
    )
    window.notices.show_notice("Not added: magnet:?xt=urn:btih:zz — not a torrent", "error")
    await settle(1.0)
    frame = window.frameGeometry()
    grab("dark-palette", frame.x(), frame.y(), frame.width(), frame.height())
    await controller.shutdown()


async def scale_2_settings(app: object, url: str, user: str, _port: int) -> None:
    from gui.controller import AppController
    from gui.views.settings_dialog import SettingsDialog

    controller = _controller(url, user)
    assert isinstance(controller, AppController)
    controller.start()
    await settle(1.0)
    dialog = controller.open_settings("qbittorrent")
    assert isinstance(dialog, SettingsDialog)
    await settle(1.5)
    # the whole 1920x1080 screen: the main window and the dialog both fit it
    grab("scale-2-settings")
    await controller.shutdown()


async def doctor_safe_host_fix(app: object, url: str, user: str, port: int) -> None:
    from gui.clients.http import HttpOptions
    from gui.clients.qbittorrent import QbtConfig
    from gui.views.doctor_wizard import DoctorWizard
    from tests.harness.forwarder import PortForwarder
    from tests.harness.qbt import QBT_PASSWORD

    with PortForwarder(port) as remap:
        wizard = DoctorWizard(QbtConfig(remap.url, user, QBT_PASSWORD, http=HttpOptions()))
        wizard.move(0, 0)
        wizard.resize(760, 700)
        wizard.show()
        deadline = time.monotonic() + 30
        while wizard.diagnosis is None or wizard.is_busy():
            if time.monotonic() > deadline:
                raise RuntimeError("no diagnosis")
            await asyncio.sleep(0.05)
        wizard.next()
        await settle(1.0)
        frame = wizard.frameGeometry()
        grab("doctor-safe-host-fix", frame.x(), frame.y(), frame.width(), frame.height())
        wizard.close()


SCENES = {
    "menu-bar": menu_bar,
    "dark-palette": dark_palette,
    "scale-2-settings": scale_2_settings,
    "doctor-safe-host-fix": doctor_safe_host_fix,
}


def main() -> None:
    if len(sys.argv) > 1:
        one_shot(sys.argv[1], Path(tempfile.mkdtemp(prefix="earmark-shot-")))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
    try:
        time.sleep(1)
        for shot in SHOTS:
            env = {**os.environ}
            if shot == "scale-2-settings":
                env["QT_SCALE_FACTOR"] = "2"
            subprocess.run([sys.executable, __file__, shot], env=env, check=True, cwd=ROOT)
    finally:
        xvfb.terminate()
        xvfb.wait(10)


if __name__ == "__main__":
    main()
