"""A torrent that contains symbolic links, through a real qbittorrent-nox and the import.

BEP 47 lets a torrent carry links (attr "l" + "symlink path"); libtorrent creates them
on disk. Earmark used to refuse the whole import ("missing" files blamed on the path
mapping, retried every 5 minutes forever); the links are now skipped with a reason and
the book is imported.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import bencode2
import pytest

from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.core.torrents import parse_torrent
from gui.services.importing import ImportOptions, import_download
from tests.harness.audiobook import make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import async_wait_until

pytestmark = pytest.mark.qbt

PIECE = 16384


def _torrent_with_links(book: Path, links: dict[str, list[str]]) -> bytes:
    """A v1 torrent of ``book``'s files plus symbolic-link entries (no room in pieces)."""
    files = sorted(p for p in book.iterdir() if p.is_file())
    data = b"".join(p.read_bytes() for p in files)
    pieces = b"".join(
        hashlib.sha1(data[i : i + PIECE]).digest() for i in range(0, len(data), PIECE)
    )
    entries: list[dict[bytes, Any]] = [
        {b"length": p.stat().st_size, b"path": [p.name.encode()]} for p in files
    ]
    for name, target in links.items():
        entries.append(
            {
                b"attr": b"l",
                b"length": 0,
                b"path": [name.encode()],
                b"symlink path": [part.encode() for part in target],
            }
        )
    info = {
        b"files": entries,
        b"name": book.name.encode(),
        b"piece length": PIECE,
        b"pieces": pieces,
        b"private": 1,
    }
    return bytes(bencode2.bencode({b"info": info}))


async def test_a_torrent_with_symlinks_is_imported_without_its_links(
    qbt: QbtInstance, tmp_path: Path
) -> None:
    book = make_audiobook(tmp_path / "seed", "Linked Book", files=2, seconds=2)
    tracks = sorted(p.name for p in book.glob("*.mp3"))
    torrent = _torrent_with_links(
        book, {"Bonus.mp3": [tracks[0]], "Escape.mp3": ["..", "..", "etc", "passwd"]}
    )
    parsed = parse_torrent(torrent)
    library = tmp_path / "library"
    library.mkdir()
    async with QBittorrentClient(QbtConfig(qbt.url, QBT_USER, QBT_PASSWORD)) as client:
        qbt.admin().add_torrent(torrent, savepath=str(book.parent))

        async def complete() -> bool:
            found = await client.torrent(parsed.info_hash)
            return found is not None and float(found.get("progress", 0)) >= 1.0

        await async_wait_until(complete, timeout=30, what="the linked torrent to be complete")
        files = await client.files(parsed.info_hash)
        report = await import_download(
            None,
            parsed.info_hash,
            qbt=client,
            store=None,
            settings=ImportOptions(library_dir=str(library), review_below_threshold=False),
        )
    _check(book.name, tracks, {f["name"] for f in files}, Path(report.library_path), report.notes)


def _check(
    name: str, tracks: list[str], listed: set[str], folder: Path, notes: tuple[str, ...]
) -> None:
    assert {f"{name}/{t}" for t in tracks} <= listed
    copied = sorted(p.name for p in folder.glob("*.mp3"))
    assert copied == tracks, (copied, listed, notes)
    assert all(not (folder / n).is_symlink() for n in copied)
    text = "\n".join(notes)
    assert "Bonus.mp3 skipped: a symbolic link" in text, text
    assert "Escape.mp3 skipped: a symbolic link" in text, text
