"""Make the README's Library and metadata-review screenshots from the real app under Xvfb.

The app runs as users start it (`python -m gui`) against the Audiobookshelf double (run
here, on loopback) and a profile holding a book whose metadata match waits for review.
Needs Xvfb, xdotool and imagemagick's `import`, and `make test`'s dependencies.
Run from the repository root: `.venv/bin/python docs/make_library_screenshots.py`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter  # noqa: E402

from gui.core.metadata import BookMetadata, metadata_to_json  # noqa: E402
from gui.services.workflow import want_book  # noqa: E402
from gui.store import Review, Store  # noqa: E402
from tests.doubles.audiobookshelf import ADMIN_KEY, AbsServerDouble, BookSpec  # noqa: E402
from tests.harness.wait import free_port, wait_until  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DISPLAY = ":78"


def cover(colour: str, text: str) -> bytes:
    image = QImage(300, 300, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    painter = QPainter(image)
    painter.setPen(QColor("white"))
    painter.setFont(QFont("DejaVu Sans", 28, QFont.Weight.Bold))
    painter.drawText(QRect(0, 0, 300, 300), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPG")
    return bytes(data.data())


def library_books() -> list[BookSpec]:
    full = {"language": "English", "publisher": "Macmillan Audio", "genres": ["Fantasy"]}
    return [
        BookSpec("Dune", ["Frank Herbert"], ["Scott Brick"], [("Dune", "1")],
                 published_year="1965", description="Arrakis.", asin="B002V1OF70",
                 cover=cover("#c47a2c", "DUNE"), **full),  # type: ignore[arg-type]
        BookSpec("The Final Empire", ["Brandon Sanderson"], ["Michael Kramer"],
                 [("Mistborn", "1")], published_year="2006", asin="B002UZMLXM",
                 cover=cover("#2b3a67", "MISTBORN"), **full),  # type: ignore[arg-type]
        BookSpec("The Well of Ascension", ["Brandon Sanderson"], ["Michael Kramer"],
                 [("Mistborn", "2")]),
        BookSpec("Circe", ["Madeline Miller"], ["Perdita Weeks"], published_year="2018",
                 cover=cover("#7a1f3d", "CIRCE")),
        BookSpec("Emma", ["Jane Austen"]),
        BookSpec("Leviathan Wakes", ["James S. A. Corey"], ["Jefferson Mays"],
                 [("The Expanse", "1")], published_year="2011", description="Space.",
                 cover=cover("#333333", "LEVIATHAN\nWAKES"), **full),  # type: ignore[arg-type]
    ]  # fmt: skip


def profile_with_review(profile: Path) -> None:
    """A book that finished downloading and waits for the user's review of a match."""
    store = Store.open_in(profile)
    book, _ = want_book(store, "Project Hail Mary", "Andy Weir")
    assert book.id is not None
    before = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",), year=2021)
    proposal = BookMetadata(
        title="Project Hail Mary",
        authors=("Andy Weir",),
        narrators=("Ray Porter",),
        year=2021,
        publisher="Audible Studios",
        genres=("Science Fiction", "Space Opera"),
        language="English",
        asin="B08G9PRS1K",
        description="Ryland Grace is the sole survivor on a desperate, last-chance mission.",
        cover=cover("#1f6f8b", "PROJECT\nHAIL MARY"),
    ).cleaned()
    store.save_review(
        Review(
            book.id,
            "ab" * 20,
            before=metadata_to_json(before),
            proposal=metadata_to_json(proposal),
            provider="Audible",
            confidence=0.78,
            proposal_cover=proposal.cover,
        )
    )
    book.torrent_hash = "ab" * 20
    store.set_state(
        book,
        "importing",
        reason="metadata waits for your review: a 78% match from Audible (45% -> 94%); "
        "open the book to check it",
    )
    store.close()


def run(*command: str) -> str:
    env = {**os.environ, "DISPLAY": DISPLAY}
    return subprocess.run(command, env=env, capture_output=True, text=True).stdout.strip()


def shoot(name: str) -> None:
    run("import", "-window", "root", str(OUT / name))
    print("wrote", OUT / name)


def main() -> None:
    QGuiApplication([])  # fonts for the covers
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="earmark-library-shots-"))
    profile_with_review(tmp / "profile")
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    double = AbsServerDouble(include_recorded=False)
    asyncio.run_coroutine_threadsafe(double.__aenter__(), loop).result(10)
    double.add_books(library_books())
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1280x760x24", "-nolisten", "tcp"])
    app = None
    try:
        env = {
            **os.environ,
            "DISPLAY": DISPLAY,
            "QT_QPA_PLATFORM": "xcb",
            "EARMARK_CONFIG_DIR": str(tmp / "profile"),
            "EARMARK_QBT_URL": f"http://127.0.0.1:{free_port()}",  # not needed here
            "EARMARK_QBT_USERNAME": "admin",
            "EARMARK_QBT_PASSWORD": "unused",
            "EARMARK_ABS_URL": double.url,
            "EARMARK_ABS_TOKEN": ADMIN_KEY,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        app = subprocess.Popen([sys.executable, "-m", "gui"], env=env, cwd=ROOT)
        found = wait_until(lambda: run("xdotool", "search", "--name", "^Earmark "), 30)
        window = found.splitlines()[0]
        run("xdotool", "windowmove", window, "0", "0")
        run("xdotool", "windowsize", window, "1280", "760")
        time.sleep(2)  # painted (a screenshot, not a test)
        # the wanted book waiting for review: double-click opens its page
        run("xdotool", "mousemove", "--window", window, "120", "125", "click", "--repeat", "2", "1")
        time.sleep(2)
        dialog = run("xdotool", "search", "--name", "Project Hail Mary").splitlines()
        if dialog:
            run("xdotool", "windowmove", dialog[0], "150", "10")
            time.sleep(1)
            shoot("review.png")
            run("xdotool", "key", "--window", dialog[0], "Escape")
        run("xdotool", "mousemove", "--window", window, "190", "42", "click", "1")  # Library
        time.sleep(1)
        run("xdotool", "mousemove", "--window", window, "1180", "64", "click", "1")  # Refresh
        time.sleep(3)
        shoot("library.png")
    finally:
        if app is not None:
            app.terminate()
            app.wait(10)
        xvfb.terminate()
        asyncio.run_coroutine_threadsafe(double.__aexit__(None, None, None), loop).result(10)


if __name__ == "__main__":
    main()
