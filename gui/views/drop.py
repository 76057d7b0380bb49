"""What a drop or a paste holds, as torrent sources or reasons for refusing them.

qBittorrent's transfer list reads `text/uri-list` first (local files and links) and falls
back to plain text split into lines; so does this. Every candidate goes through the same
parser as the command line and the single-instance hand-off.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QMimeData

from gui.core.torrents import TorrentInputError, TorrentSource, parse_source

MAX_ITEMS = 50  # a drop of a whole folder's worth of links is a mistake, not a request


@dataclass(frozen=True)
class Candidate:
    text: str
    source: TorrentSource | None
    error: str | None


def candidates_from_texts(texts: list[str]) -> list[Candidate]:
    found: list[Candidate] = []
    for raw in texts:
        text = raw.strip()
        if not text:
            continue
        if len(found) == MAX_ITEMS:
            found.append(Candidate(text, None, f"only {MAX_ITEMS} items are taken at once"))
            break
        try:
            found.append(Candidate(text, parse_source(text), None))
        except TorrentInputError as exc:
            found.append(Candidate(text, None, str(exc)))
    return found


def candidates_from_mime(mime: QMimeData) -> list[Candidate]:
    if mime.hasUrls():
        texts = [url.toLocalFile() if url.isLocalFile() else url.toString() for url in mime.urls()]
    elif mime.hasText():
        texts = mime.text().splitlines()
    else:
        texts = []
    return candidates_from_texts(texts)


def accepts(mime: QMimeData) -> bool:
    return mime.hasUrls() or mime.hasText()
