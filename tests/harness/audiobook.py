"""Real audiobook files (ffmpeg) and real .torrent files (bencode2) for tests.

The product reads durations and tags from actual media and hands actual torrents to
qBittorrent, so fakes would prove nothing. Files are tiny (mono sine, low bitrate).
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bencode2

from tests.harness.tools import require_tool

# fmt -> (file extension, ffmpeg codec/container arguments)
AUDIO_FORMATS: dict[str, tuple[str, list[str]]] = {
    "mp3": (".mp3", ["-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"]),
    "m4b": (".m4b", ["-c:a", "aac", "-b:a", "32k", "-f", "mp4"]),
    "flac": (".flac", ["-c:a", "flac", "-f", "flac"]),
    "opus": (".opus", ["-c:a", "libopus", "-b:a", "16k", "-f", "opus"]),
}
SAMPLE_RATE = 24000  # accepted by all four encoders (opus needs 8/12/16/24/48 kHz)
AUTHOR = "Test Author"


def make_audiobook(
    dest: Path,
    title: str,
    *,
    files: int = 3,
    seconds: float = 2.0,
    fmt: str = "mp3",
    disc_folders: bool = False,
    tags: dict[str, str] | None = None,
) -> Path:
    """Create ``dest/<title>/`` holding ``files`` tracks "NN - <title>.<ext>"; return it.

    Each track is ``seconds`` of a sine tone tagged with title/album/artist/track.
    With ``disc_folders`` the tracks are split over "Disc 1" and "Disc 2" (numbering
    restarts per disc), as ripped multi-CD books are laid out. ``tags`` adds ffmpeg
    metadata keys to every track ("composer" is the narrator in ID3, "language" TLAN).
    """
    if fmt not in AUDIO_FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}; known: {sorted(AUDIO_FORMATS)}")
    if files < 1:
        raise ValueError("an audiobook needs at least one file")
    ffmpeg = require_tool("ffmpeg")
    ext, codec_args = AUDIO_FORMATS[fmt]
    book = dest / title
    book.mkdir(parents=True, exist_ok=True)

    jobs: list[tuple[Path, int, int, int]] = []  # (path, track, tracks on disc, global index)
    if disc_folders:
        first = (files + 1) // 2
        discs = [(1, list(range(first))), (2, list(range(first, files)))]
        for disc, indexes in discs:
            folder = book / f"Disc {disc}"
            folder.mkdir(exist_ok=True)
            for track, index in enumerate(indexes, start=1):
                name = f"{track:02d} - {title}{ext}"
                jobs.append((folder / name, track, len(indexes), index))
    else:
        for index in range(files):
            name = f"{index + 1:02d} - {title}{ext}"
            jobs.append((book / name, index + 1, files, index))

    def encode(job: tuple[Path, int, int, int]) -> None:
        path, track, total, index = job
        frequency = 220 + 55 * index  # distinct content per file: distinct pieces
        command = [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:sample_rate={SAMPLE_RATE}:duration={seconds}",
            "-ac",
            "1",
            "-map_metadata",
            "-1",
            "-metadata",
            f"title={title} - Part {index + 1}",
            "-metadata",
            f"album={title}",
            "-metadata",
            f"artist={AUTHOR}",
            "-metadata",
            f"track={track}/{total}",
            *(
                arg
                for key, value in (tags or {}).items()
                for arg in ("-metadata", f"{key}={value}")
            ),
            *codec_args,
            str(path),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg failed for {path}: {result.stderr.strip()}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(encode, jobs))
    return book


def _content_files(content: Path) -> list[tuple[Path, list[str]]]:
    """(absolute path, path components inside the torrent) in sorted order."""
    if content.is_file():
        return [(content, [content.name])]
    found = [p for p in content.rglob("*") if p.is_file()]
    entries = [(p, list(p.relative_to(content).parts)) for p in found]
    entries.sort(key=lambda entry: entry[1])
    if not entries:
        raise ValueError(f"no files under {content}")
    return entries


def build_torrent(
    content: Path,
    *,
    piece_length: int = 16384,
    private: bool = True,
    trackers: list[str] | None = None,
) -> bytes:
    """A BitTorrent v1 metainfo for ``content`` (single-file or multi-file, files sorted).

    No trackers by default so nothing leaves the machine; ``private=1`` so clients
    would not use DHT/PeX for it even if those were on. Peers are added by hand.
    """
    entries = _content_files(content)
    pieces = bytearray()
    buffer = bytearray()
    for path, _ in entries:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                buffer += chunk
                while len(buffer) >= piece_length:
                    pieces += hashlib.sha1(bytes(buffer[:piece_length])).digest()
                    del buffer[:piece_length]
    if buffer:
        pieces += hashlib.sha1(bytes(buffer)).digest()

    info: dict[str, Any] = {
        "name": content.name,
        "piece length": piece_length,
        "pieces": bytes(pieces),
    }
    if content.is_file():
        info["length"] = content.stat().st_size
    else:
        info["files"] = [{"length": p.stat().st_size, "path": parts} for p, parts in entries]
    if private:
        info["private"] = 1
    meta: dict[str, Any] = {
        "info": info,
        "created by": "earmark test harness",
        "creation date": int(time.time()),
    }
    if trackers:
        meta["announce"] = trackers[0]
        meta["announce-list"] = [[tracker] for tracker in trackers]
    return bytes(bencode2.bencode(meta))


def _skip_value(data: bytes, pos: int) -> int:
    """Index just past the bencoded value starting at ``pos``."""
    lead = data[pos : pos + 1]
    if lead == b"i":
        return data.index(b"e", pos) + 1
    if lead in (b"l", b"d"):
        pos += 1
        while data[pos : pos + 1] != b"e":
            pos = _skip_value(data, pos)
        return pos + 1
    if lead.isdigit():
        colon = data.index(b":", pos)
        return colon + 1 + int(data[pos:colon])
    raise ValueError(f"invalid bencode at offset {pos}")


def info_hash(torrent_bytes: bytes) -> str:
    """The v1 info-hash: SHA-1 of the info dict's exact bytes, lowercase hex.

    The raw span is hashed (not a re-encoding) so foreign torrents hash correctly too.
    """
    if torrent_bytes[:1] != b"d":
        raise ValueError("a .torrent is a bencoded dictionary")
    pos = 1
    while torrent_bytes[pos : pos + 1] != b"e":
        key_end = _skip_value(torrent_bytes, pos)
        key = torrent_bytes[torrent_bytes.index(b":", pos) + 1 : key_end]
        value_end = _skip_value(torrent_bytes, key_end)
        if key == b"info":
            return hashlib.sha1(torrent_bytes[key_end:value_end]).hexdigest()
        pos = value_end
    raise ValueError("no info dictionary in torrent")
