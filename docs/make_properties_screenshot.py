"""The README's screenshot of the side panel and the properties panel during a real transfer.

Real qbittorrent-nox instances on loopback: a seeder with a capped upload rate feeds a
leecher, and the app (in this process, on an Xvfb screen) is connected to the leecher.
The screen is grabbed through Qt (no ImageMagick needed). Run from the repository root:
`.venv/bin/python docs/make_properties_screenshot.py [DISPLAY]` (default :84).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DISPLAY = sys.argv[1] if len(sys.argv) > 1 else ":84"
os.environ["DISPLAY"] = DISPLAY
os.environ["QT_QPA_PLATFORM"] = "xcb"
os.environ["QT_API"] = "pyside6"
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

OUT = ROOT / "docs" / "screenshots"
BOOKS = [
    ("Frank Herbert - Dune (Unabridged) [M4B]", 6, 300, "m4b", "audiobooks", "earmark"),
    ("Jane Austen - Emma [MP3 64kbps]", 4, 240, "mp3", "audiobooks", "earmark,lent"),
    ("Terry Pratchett - Guards! Guards! {Nigel Planer}", 3, 200, "mp3", "librivox", ""),
]


def main() -> None:
    from tests.harness.audiobook import build_torrent, info_hash, make_audiobook
    from tests.harness.qbt import QBT_PASSWORD, QBT_USER, start_qbittorrent
    from tests.harness.wait import wait_until

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="earmark-props-"))
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
    seeder = start_qbittorrent(tmp / "seeder")
    leecher = start_qbittorrent(tmp / "leecher")
    try:
        seeder.admin().set_preferences({"up_limit": 80_000})
        hashes = []
        for title, files, seconds, fmt, category, tags in BOOKS:
            book = make_audiobook(tmp / "books", title, files=files, seconds=seconds, fmt=fmt)
            torrent = build_torrent(book)
            seeder.admin().add_torrent(torrent, savepath=str(book.parent))
            leecher.admin().add_torrent(torrent, category=category, tags=tags)
            hashes.append(info_hash(torrent))
        for digest in hashes:
            wait_until(lambda d=digest: leecher.admin().torrent(d), 20, what="leecher torrent")
            wait_until(
                lambda d=digest: (t := seeder.admin().torrent(d)) and t["progress"] == 1,
                60,
                what="seeder ready",
            )
            leecher.admin().post(
                "/api/v2/torrents/addPeers",
                {"hashes": digest, "peers": f"127.0.0.1:{seeder.bt_port}"},
            )
        os.environ["EARMARK_CONFIG_DIR"] = str(tmp / "profile")
        os.environ["EARMARK_QBT_PASSWORD"] = QBT_PASSWORD
        loop = _loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_shoot(leecher.url, QBT_USER, hashes[0], leecher.stop))
        finally:
            loop.close()  # qasync's executor threads end here, not at interpreter exit
    finally:
        seeder.stop()
        leecher.stop()
        xvfb.terminate()


def _loop() -> asyncio.AbstractEventLoop:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


async def _shoot(url: str, user: str, digest: str, stop_qbittorrent: Callable[[], None]) -> None:
    from PySide6.QtGui import QGuiApplication

    from gui.controller import AppController
    from gui.services.properties import FILES, PEERS, SPEED
    from gui.settings import SecretStore, Settings, save_settings
    from gui.store import Store

    settings = Settings(qbt_url=url, qbt_username=user)
    save_settings(settings)
    controller = AppController(
        settings, SecretStore(), Store.open_in(Path(os.environ["EARMARK_CONFIG_DIR"]))
    )
    controller.start()
    window = controller.window
    window.move(0, 0)
    window.resize(1400, 900)
    window.show_downloads()
    view = controller.downloads_view

    async def until(predicate: object, limit: float = 60) -> None:
        deadline = time.monotonic() + limit
        while not predicate():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError("screenshot: waited too long")
            await asyncio.sleep(0.1)

    await until(lambda: view.proxy.row_of(digest) >= 0)
    await until(
        lambda: float((controller.service.mirror.torrents[digest]).get("progress") or 0) > 0.15
    )
    view.select_hashes([digest])
    view.properties.show_tab(PEERS)
    await until(lambda: view.properties.peers_model.rowCount() > 0)
    await asyncio.sleep(4)  # a few speed samples and refreshes painted
    screen = QGuiApplication.primaryScreen()
    screen.grabWindow(0).save(str(OUT / "properties-peers.png"))
    view.properties.show_tab(FILES)
    await until(lambda: view.properties.files_model.rowCount() > 0)
    await asyncio.sleep(1.5)
    screen.grabWindow(0).save(str(OUT / "properties-files.png"))
    view.properties.show_tab(SPEED)
    await asyncio.sleep(1)
    screen.grabWindow(0).save(str(OUT / "properties-speed.png"))
    view.properties.show_tab(FILES)
    stop_qbittorrent()  # defect 10: the old rows must not look live
    await until(lambda: view.stale)
    await asyncio.sleep(1)
    screen.grabWindow(0).save(str(OUT / "unreachable.png"))
    print("wrote properties-peers.png, properties-files.png, properties-speed.png, unreachable.png")
    await controller.shutdown()
    window.close()
    controller.store.close()


if __name__ == "__main__":
    main()
