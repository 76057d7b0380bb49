"""Make the README's screenshots: the real app under Xvfb against real qbittorrent-nox.

A seeder with a capped upload rate feeds a leecher, so the window shows downloads really
in progress. Needs Xvfb, xdotool and imagemagick's `import` (apt), and `make test`'s deps.
Run from the repository root: `.venv/bin/python docs/make_screenshots.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.audiobook import build_torrent, info_hash, make_audiobook  # noqa: E402
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, start_qbittorrent  # noqa: E402
from tests.harness.wait import wait_until  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DISPLAY = ":77"
BOOKS = [
    ("Frank Herbert - Dune (Unabridged) [M4B]", 6, 300, "m4b"),
    ("Jane Austen - Emma [MP3 64kbps]", 4, 240, "mp3"),
    ("Terry Pratchett - Guards! Guards! {Nigel Planer}", 3, 200, "mp3"),
]


def shoot(name: str) -> None:
    subprocess.run(
        ["import", "-window", "root", str(OUT / name)], env={**os.environ, "DISPLAY": DISPLAY}
    )
    print("wrote", OUT / name)


def xdotool(*args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args], env={**os.environ, "DISPLAY": DISPLAY}, capture_output=True, text=True
    )
    return result.stdout.strip()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="earmark-shots-"))
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1280x760x24", "-nolisten", "tcp"])
    seeder = start_qbittorrent(tmp / "seeder")
    leecher = start_qbittorrent(tmp / "leecher")
    app = None
    try:
        seeder.admin().set_preferences({"up_limit": 60_000})
        hashes = []
        for title, files, seconds, fmt in BOOKS:
            book = make_audiobook(tmp / "books", title, files=files, seconds=seconds, fmt=fmt)
            torrent = build_torrent(book)
            seeder.admin().add_torrent(torrent, savepath=str(book.parent))
            leecher.admin().add_torrent(torrent, category="audiobooks", tags="earmark")
            hashes.append(info_hash(torrent))
        done = make_audiobook(tmp / "done", "Mary Shelley - Frankenstein", files=2, seconds=30)
        leecher.admin().add_torrent(
            build_torrent(done), savepath=str(done.parent), skip_checking="true",
            category="audiobooks",
        )  # fmt: skip
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
        env = {
            **os.environ,
            "DISPLAY": DISPLAY,
            "QT_QPA_PLATFORM": "xcb",
            "EARMARK_CONFIG_DIR": str(tmp / "profile"),
            "EARMARK_QBT_URL": leecher.url,
            "EARMARK_QBT_USERNAME": QBT_USER,
            "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        subprocess.run([sys.executable, "-c", WANT_SCRIPT], env=env, check=True, cwd=ROOT)
        app = subprocess.Popen([sys.executable, "-m", "gui"], env=env, cwd=ROOT)
        window = wait_until(lambda: xdotool("search", "--name", "^Earmark "), 30, what="window")
        window = window.splitlines()[0]
        xdotool("windowmove", window, "0", "0")
        xdotool("windowsize", window, "1280", "760")
        wait_until(
            lambda: any(0.1 < (t["progress"] or 0) < 0.9 for t in leecher.admin().torrents()),
            60,
            what="downloads in progress",
        )
        time.sleep(2)  # let a couple of refreshes paint (a screenshot, not a test)
        shoot("main-window-wanted.png")
        xdotool("mousemove", "--window", window, "114", "42", "click", "1")  # Downloads tab
        time.sleep(3)
        shoot("main-window.png")
        xdotool("mousemove", "--window", window, "23", "14", "click", "1")  # Add…
        time.sleep(1.5)
        dialog = xdotool("search", "--name", "^Add torrent$").splitlines()
        if dialog:
            xdotool("windowmove", dialog[0], "300", "150")
            xdotool("windowfocus", dialog[0])
            xdotool(
                "type",
                "magnet:?xt=urn:btih:" + "3b" * 20 + "&dn=Brandon+Sanderson+-+Mistborn+[M4B]",
            )
            time.sleep(1)
            shoot("add-dialog.png")
    finally:
        if app is not None:
            app.terminate()
            app.wait(10)
        seeder.stop()
        leecher.stop()
        xvfb.terminate()


WANT_SCRIPT = """
from gui.settings import config_dir
from gui.store import Book, Store
store = Store.open_in(config_dir())
for title, author, series, pos, narrator, state in [
    ("Dune", "Frank Herbert", "Dune", "1", "Scott Brick", "downloading"),
    ("Emma", "Jane Austen", "", "", "Juliet Stevenson", "downloading"),
    ("Guards! Guards!", "Terry Pratchett", "Discworld", "8", "Nigel Planer", "downloading"),
    ("Mistborn: The Final Empire", "Brandon Sanderson", "Mistborn", "1", "Michael Kramer",
     "wanted"),
    ("The Way of Kings", "Brandon Sanderson", "The Stormlight Archive", "1", "Kate Reading",
     "wanted"),
    ("Frankenstein", "Mary Shelley", "", "", "Dan Stevens", "downloaded"),
]:
    book = store.add_book(Book(title, author, narrator=narrator, series=series, position=pos))
    if state != "wanted":
        store.set_state(book, state, event=state)
store.close()
"""


if __name__ == "__main__":
    main()
