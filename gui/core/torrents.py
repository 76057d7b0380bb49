"""Understand whatever a user hands us as "a torrent" before anything is sent to qBittorrent.

qBittorrent answers a bad upload with a bare "Fails." and a bad magnet link with nothing at all,
so every input is checked here first and rejected with a message that says what is wrong.
This module stays free of Qt and HTTP so the checks can run (and be tested) anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from gui.core.safe_read import FileTooLarge, NotRegularFile, read_regular_file

__all__ = [
    "MAX_MAGNET_CHARS",
    "MAX_MAGNET_TRACKERS",
    "MAX_TORRENT_BYTES",
    "Magnet",
    "TorrentFile",
    "TorrentInputError",
    "TorrentSource",
    "TorrentUrl",
    "decode_source",
    "describe_source",
    "encode_source",
    "magnet_info_hash",
    "normalize_info_hash",
    "parse_magnet",
    "parse_source",
    "parse_torrent",
    "read_torrent_file",
]


class TorrentInputError(ValueError):
    """The only exception any parser here raises, with a message a user can act on.

    Callers show the message as-is, so they can catch one type and never leak a traceback
    from a decoder or the filesystem into the UI.
    """


# Real .torrent files are kilobytes; even huge v1 torrents stay well under this.  The cap keeps
# a mistakenly chosen video or disk image from being read into memory and uploaded.
MAX_TORRENT_BYTES = 10 * 1024 * 1024

_HEX40 = re.compile(r"[0-9a-fA-F]{40}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_BASE32_32 = re.compile(r"[A-Za-z2-7]{32}")
# Lenient: finds the btih of a magnet URI without parsing (or validating) the rest of it.
_MAGNET_BTIH = re.compile(r"(?:[?&]|^magnet:/*)xt=urn:btih:([0-9A-Za-z]+)", re.IGNORECASE)
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGITS = re.compile(r"[0-9]+")
_MAGNET_KEY = re.compile(r"([a-z]+)(?:\.[0-9]+)?")
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")
_SHA256_MULTIHASH_PREFIX = "1220"  # multihash code 0x12 (sha2-256), digest length 0x20


def _shorten(text: str, limit: int = 80) -> str:
    """Quote user text in a message without letting a pasted novel flood the dialog."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{size} bytes"


def _too_large(size: int, limit: int) -> TorrentInputError:
    shown, shown_limit = _format_size(size), _format_size(limit)
    if shown == shown_limit:  # "10 MB, larger than the 10 MB limit" would read as a bug
        shown, shown_limit = f"{size} bytes", f"{limit} bytes"
    return TorrentInputError(f"torrent is {shown}, larger than the {shown_limit} limit")


def _v2_to_v1_id(btmh: str) -> str:
    # qBittorrent identifies a v2-only torrent by its truncated sha-256, in the same 40-hex slot.
    return btmh[:40]


# --------------------------------------------------------------------------------------------
# Magnet links
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Magnet:
    """A magnet link reduced to what qBittorrent and our UI need.

    The original text is kept because qBittorrent is given the link itself: it knows about
    parameters (web seeds, peer addresses) that we deliberately ignore.
    """

    uri: str
    btih: str | None
    btmh: str | None
    display_name: str | None
    trackers: tuple[str, ...]
    exact_length: int | None

    def __post_init__(self) -> None:
        if self.btih is None and self.btmh is None:
            raise TorrentInputError(_NO_INFO_HASH)

    @property
    def info_hash(self) -> str:
        """The id qBittorrent's Web API uses, so a magnet can be matched to its torrent later."""
        if self.btih is not None:
            return self.btih
        assert self.btmh is not None  # guaranteed by __post_init__
        return _v2_to_v1_id(self.btmh)


_NO_INFO_HASH = "magnet link has no info-hash (xt=urn:btih:… or urn:btmh:…)"


def _parse_btih(value: str) -> str:
    if _HEX40.fullmatch(value):
        return value.lower()
    if _BASE32_32.fullmatch(value):
        return base64.b32decode(value.upper()).hex()
    raise TorrentInputError(
        f"magnet link info-hash {_shorten(value)} is neither 40 hex nor 32 base32 characters"
    )


def normalize_info_hash(value: str | None) -> str | None:
    """A v1 info-hash as 40 lowercase hex digits (base32 accepted), else None."""
    if not value:
        return None
    try:
        return _parse_btih(value.strip())
    except TorrentInputError:
        return None


def magnet_info_hash(magnet: str | None) -> str | None:
    """The btih of a magnet URI, normalised; None when absent or malformed."""
    if not magnet:
        return None
    match = _MAGNET_BTIH.search(magnet)
    return normalize_info_hash(match.group(1)) if match else None


def _parse_btmh(value: str) -> str:
    if not _HEX.fullmatch(value):
        raise TorrentInputError(
            f"magnet link v2 info-hash {_shorten(value)} is not hexadecimal "
            f"(expected {_SHA256_MULTIHASH_PREFIX} followed by 64 hex characters)"
        )
    if not value.startswith(_SHA256_MULTIHASH_PREFIX):
        raise TorrentInputError(
            "magnet link has an unsupported multihash (expected sha2-256, 1220…)"
        )
    digest = value[len(_SHA256_MULTIHASH_PREFIX) :]
    if len(digest) != 64:
        raise TorrentInputError(
            f"magnet link v2 info-hash has {len(digest)} hex digits after 1220, expected 64"
        )
    return digest.lower()


def _merge_hash(current: str | None, new: str, version: str) -> str:
    if current is not None and current != new:
        raise TorrentInputError(f"magnet link has two different {version} info-hashes")
    return new


#: A magnet is a line of text; a megabyte of trackers is already absurd. Longer ones are
#: refused before anything is split, and only the first trackers are kept for display.
MAX_MAGNET_CHARS = 4 * 1024 * 1024
MAX_MAGNET_TRACKERS = 1000
#: `xl` is a 64-bit byte count in libtorrent; more digits are no size at all.
_MAX_XL_DIGITS = 19


def _magnet_query(uri: str) -> str:
    """The part after `magnet:?`, leniently: `magnet:xt=`, `MAGNET:?`, `magnet://?xt=`."""
    return uri[7:].lstrip("/").removeprefix("?")


def parse_magnet(text: str) -> Magnet:
    """Validate a magnet link up front, because qBittorrent silently drops malformed ones.

    Hashes are normalised to lowercase hex so the same torrent is recognised however the
    link spelled it (base32, upper case, several xt parameters for hybrid torrents). The
    link kept in `uri` (the one qBittorrent is given) is rewritten into the form libtorrent
    parses when that is unambiguous: `magnet:?` in lower case with the `?`, empty
    parameters (`&&`) dropped, the parameter names Earmark knows in lower case. libtorrent
    drops `magnet:xt=...`, `MAGNET:?...` and `magnet:?&&xt=...` without a word.
    """
    uri = text.strip()
    if uri[:7].lower() != "magnet:":
        raise TorrentInputError(f"not a magnet link: {_shorten(uri)}")
    if len(uri) > MAX_MAGNET_CHARS:
        raise TorrentInputError(
            f"magnet link is {len(uri)} characters long, more than the "
            f"{MAX_MAGNET_CHARS} a magnet link can sensibly have"
        )

    btih: str | None = None
    btmh: str | None = None
    display_name: str | None = None
    trackers: dict[str, None] = {}  # ordered and deduplicated in linear time
    exact_length: int | None = None
    kept: list[str] = []

    for part in _magnet_query(uri).split("&"):
        if not part:
            continue
        raw_key, equals, raw_value = part.partition("=")
        match = _MAGNET_KEY.fullmatch(raw_key.strip().lower())
        if match is None:
            kept.append(part)
            continue  # unknown or mangled parameters are not ours to judge
        kept.append(match.group(0) + equals + raw_value)
        key = match.group(1)
        if key == "xt":
            urn = unquote(raw_value).strip()
            prefix = urn[:9].lower()
            if prefix == "urn:btih:":
                btih = _merge_hash(btih, _parse_btih(urn[9:]), "v1")
            elif prefix == "urn:btmh:":
                btmh = _merge_hash(btmh, _parse_btmh(urn[9:]), "v2")
        elif key == "dn":
            name = unquote_plus(raw_value).strip()
            if name and display_name is None:
                display_name = name
        elif key == "tr":
            if len(trackers) < MAX_MAGNET_TRACKERS:
                tracker = unquote(raw_value).strip()
                if tracker:
                    trackers[tracker] = None
        elif key == "xl":
            length = unquote(raw_value).strip()
            if not _DIGITS.fullmatch(length):
                raise TorrentInputError(
                    f"magnet link exact length (xl) {_shorten(length)} "
                    "is not a non-negative integer"
                )
            if len(length.lstrip("0")) > _MAX_XL_DIGITS:
                raise TorrentInputError(
                    f"magnet link exact length (xl) has {len(length)} digits, "
                    "more than any real size"
                )
            if exact_length is None:
                exact_length = int(length)

    if btih is None and btmh is None:
        raise TorrentInputError(_NO_INFO_HASH)
    return Magnet(
        uri="magnet:?" + "&".join(kept),
        btih=btih,
        btmh=btmh,
        display_name=display_name,
        trackers=tuple(trackers),
        exact_length=exact_length,
    )


# --------------------------------------------------------------------------------------------
# .torrent files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TorrentFile:
    """A .torrent that has been checked well enough that qBittorrent will accept it.

    The raw bytes are what gets uploaded; everything else is derived so the UI can show
    name, size and files, and find the torrent again by hash, before qBittorrent has it.
    """

    data: bytes = field(repr=False)
    name: str
    info_hash_v1: str | None
    info_hash_v2: str | None
    total_size: int
    files: tuple[tuple[str, int], ...]
    trackers: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.info_hash_v1 is None and self.info_hash_v2 is None:
            raise TorrentInputError("torrent info has neither pieces (v1) nor a file tree (v2)")

    @property
    def info_hash(self) -> str:
        """Same rule as Magnet.info_hash, so both kinds of source map to one qBittorrent id."""
        if self.info_hash_v1 is not None:
            return self.info_hash_v1
        assert self.info_hash_v2 is not None  # guaranteed by __post_init__
        return _v2_to_v1_id(self.info_hash_v2)

    def magnet_uri(self) -> str:
        """Let a user share or copy a torrent they only have as a file."""
        params: list[str] = []
        if self.info_hash_v1 is not None:
            params.append(f"xt=urn:btih:{self.info_hash_v1}")
        if self.info_hash_v2 is not None:
            params.append(f"xt=urn:btmh:{_SHA256_MULTIHASH_PREFIX}{self.info_hash_v2}")
        params.append("dn=" + quote(self.name, safe=""))
        params.extend("tr=" + quote(tracker, safe="") for tracker in self.trackers)
        return "magnet:?" + "&".join(params)


class _BencodeError(Exception):
    """Internal: where and why the bencoding broke (turned into a TorrentInputError)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# libtorrent's `load_torrent_limits` defaults (`max_decode_depth`, `max_decode_tokens`).
MAX_BENCODE_DEPTH = 100
MAX_BENCODE_TOKENS = 3_000_000
_BENCODE_INT = re.compile(rb"-?[0-9]+")
_INT64 = 2**63


@dataclass
class _Decoded:
    """A bdecoded document with what libtorrent takes from the raw bytes.

    `info_span` is the exact byte range of the top-level `info` value: the info-hash is the
    hash of those bytes as they are, not of a re-encoding (libtorrent hashes
    `info.data_section()`). `info_unsorted` says whether a dictionary inside `info` had
    unsorted or duplicate keys, libtorrent's "soft error" (fatal for v2 torrents only).
    """

    value: object
    info_span: tuple[int, int] | None
    info_unsorted: bool


def _bdecode(data: bytes) -> _Decoded:
    """Decode bencoding the way libtorrent's `bdecode` does, iteratively.

    Accepted like libtorrent: bytes after the first complete value (a trailing newline),
    dictionary keys out of order or repeated (the first one wins, as `dict_find` returns
    the first match). Refused: more than 100 levels, more than 3,000,000 items, integers
    outside 64 bits, truncated data, non-string keys.
    """
    end = len(data)
    pos = 0
    tokens = 0
    # A frame: [container, pending key, last key, start offset, is the info dict, unsorted]
    stack: list[list[Any]] = []
    info_span: tuple[int, int] | None = None
    info_unsorted = False
    top: object = None

    while True:
        if pos >= end:
            raise _BencodeError(f"bencode error at byte {pos}")
        tokens += 1
        if tokens > MAX_BENCODE_TOKENS:
            raise _BencodeError("bencode data has too many items")
        char = data[pos]
        value: object
        if char in (0x64, 0x6C):  # 'd', 'l'
            if len(stack) >= MAX_BENCODE_DEPTH:
                raise _BencodeError("bencode data is nested too deeply")
            is_info = (
                len(stack) == 1
                and stack[0][1] == b"info"
                and isinstance(stack[0][0], dict)
                and info_span is None
            )
            if stack and isinstance(stack[-1][0], dict) and stack[-1][1] is None:
                raise _BencodeError(f"bencode error at byte {pos}: a key is not a string")
            stack.append([{} if char == 0x64 else [], None, None, pos, is_info, False])
            pos += 1
            continue
        if char == 0x65:  # 'e'
            if not stack:  # pragma: no cover - a bare 'e' at the top is caught below
                raise _BencodeError(f"bencode error at byte {pos}")
            frame = stack.pop()
            if frame[1] is not None:
                raise _BencodeError(f"bencode error at byte {pos}: a key has no value")
            pos += 1
            if frame[4]:
                info_span = (frame[3], pos)
                info_unsorted = frame[5]
            elif frame[5] and stack:
                stack[-1][5] = True
            value = frame[0]
        elif char == 0x69:  # 'i'
            stop = data.find(b"e", pos + 1, pos + 23)
            digits = data[pos + 1 : stop] if stop > 0 else b""
            if stop < 0 or not _BENCODE_INT.fullmatch(digits):
                raise _BencodeError(f"bencode error at byte {pos + 1}")
            value = int(digits)
            if not -_INT64 <= value < _INT64:
                raise _BencodeError(f"bencode error at byte {pos + 1}: integer overflow")
            pos = stop + 1
        elif 0x30 <= char <= 0x39:  # a string's length
            colon = data.find(b":", pos, pos + 12)
            if colon < 0 or not data[pos:colon].isdigit():
                raise _BencodeError(f"bencode error at byte {pos}")
            size = int(data[pos:colon])
            start = colon + 1
            if start + size > end:
                raise _BencodeError(f"bencode error at byte {pos}: a string runs past the end")
            value = data[start : start + size]
            pos = start + size
        else:
            raise _BencodeError(f"bencode error at byte {pos}")

        if not stack:
            top = value
            break
        frame = stack[-1]
        container = frame[0]
        if isinstance(container, list):
            container.append(value)
        elif frame[1] is None:
            if not isinstance(value, bytes):
                raise _BencodeError(f"bencode error at byte {pos}: a key is not a string")
            if frame[2] is not None and value <= frame[2]:
                frame[5] = True
            frame[1] = frame[2] = value
        else:
            container.setdefault(frame[1], value)
            frame[1] = None
    return _Decoded(top, info_span, info_unsorted)


def _sniff_non_torrent(data: bytes) -> str | None:
    """Name the usual wrong downloads, since "bencode error at byte 0" helps nobody."""
    head = data[:256].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
        return "file is not a torrent: it looks like a web page (HTML)"
    if head.startswith(b"magnet:"):
        return "file is not a torrent: it contains a magnet link (paste the link instead)"
    if head.startswith((b"{", b"[")):
        return "file is not a torrent: it looks like JSON"
    return None


def _text(d: dict[object, object], key: bytes, what: str) -> str | None:
    """Read a byte string as text; the '.utf-8' variant exists because 'key' may be legacy."""
    for candidate in (key + b".utf-8", key):
        value = d.get(candidate)
        if value is None:
            continue
        if not isinstance(value, bytes):
            raise TorrentInputError(f"torrent {what} is not a string")
        return value.decode("utf-8", errors="replace")
    return None


def _bad_component(part: str) -> bool:
    # Anything else could escape the download folder or collide with it when qBittorrent
    # (or a later move) joins these names into a real path.
    return part in ("", ".", "..") or any(c in part for c in "/\\\x00")


def _check_component(part: str, path: Iterable[str]) -> None:
    if _bad_component(part):
        shown = "/".join(path)
        raise TorrentInputError(
            f"torrent file path {_shorten(shown)} has an invalid component {_shorten(part)} "
            "(empty, '.', '..' or containing a slash)"
        )


def _length(value: object, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TorrentInputError(f"torrent file {_shorten(path)} has no integer length")
    if value < 0:
        raise TorrentInputError(f"torrent file {_shorten(path)} has a negative length ({value})")
    return value


def _is_symlink(entry: dict[object, object]) -> bool:
    """BEP 47: attr "l" with a "symlink path" (without the path libtorrent ignores the flag)."""
    attr = entry.get(b"attr")
    return isinstance(attr, bytes) and b"l" in attr and isinstance(entry.get(b"symlink path"), list)


def _v1_files(info: dict[object, object], name: str) -> tuple[list[tuple[str, int]], int]:
    """Return the user-visible files and the size the piece hashes have to cover.

    The two differ by BEP 47 padding files, which exist only to align hybrid torrents.
    """
    has_length = b"length" in info
    has_files = b"files" in info
    if has_length and has_files:
        raise TorrentInputError("torrent info has both a length and a file list")
    if has_length:
        size = _length(info[b"length"], name)
        return [(name, size)], size
    if not has_files:
        raise TorrentInputError("torrent info has neither a length nor a file list")
    entries = info[b"files"]
    if not isinstance(entries, list):
        raise TorrentInputError("torrent file list is not a list")
    if not entries:
        raise TorrentInputError("torrent file list is empty")
    files: list[tuple[str, int]] = []
    covered = 0
    for entry in entries:
        if not isinstance(entry, dict):
            raise TorrentInputError("torrent file list has an entry that is not a dictionary")
        raw_path = entry.get(b"path.utf-8", entry.get(b"path"))
        if not isinstance(raw_path, list) or not raw_path:
            raise TorrentInputError("torrent file list has an entry without a path")
        parts = [name]
        for raw_part in raw_path:
            if not isinstance(raw_part, bytes):
                raise TorrentInputError("torrent file path has a component that is not a string")
            parts.append(raw_part.decode("utf-8", errors="replace"))
            _check_component(parts[-1], parts)
        path = "/".join(parts)
        attr = entry.get(b"attr")
        # A symbolic link (BEP 47 attr "l") takes no room in the pieces, whatever its
        # "length" says (libtorrent: "symlinks have an implied size of zero").
        size = 0 if _is_symlink(entry) else _length(entry.get(b"length"), path)
        covered += size
        if not (isinstance(attr, bytes) and b"p" in attr):
            files.append((path, size))
    return files, covered


def _walk_file_tree(tree: object) -> Iterator[_FileEntry]:
    """Yield (path components, length, pieces root) in file order, iteratively."""
    if not isinstance(tree, dict):
        raise TorrentInputError("torrent file tree is not a dictionary")
    if not tree:
        raise TorrentInputError("torrent file tree is empty")
    stack: list[tuple[list[str], dict[object, object]]] = [([], tree)]
    while stack:
        parts, node = stack.pop()
        if b"" in node:
            shown = "/".join(parts)
            if len(node) != 1 or not parts:
                raise TorrentInputError(
                    f"torrent file tree entry {_shorten(shown)} is both a file and a directory"
                )
            leaf = node[b""]
            if not isinstance(leaf, dict):
                raise TorrentInputError(f"torrent file {_shorten(shown)} has no length")
            if _is_symlink(leaf):
                yield parts, 0, None
                continue
            size = _length(leaf.get(b"length"), shown)
            root = leaf.get(b"pieces root")
            if size > 0 and not (isinstance(root, bytes) and len(root) == 32):
                raise TorrentInputError(f"torrent file {_shorten(shown)} has no valid pieces root")
            if size > 0 and root == bytes(32):
                raise TorrentInputError(
                    f"torrent file {_shorten(shown)} has an all-zero pieces root "
                    "(qBittorrent refuses it)"
                )
            yield parts, size, root if isinstance(root, bytes) else None
            continue
        if not node:
            raise TorrentInputError(
                f"torrent file tree has an empty directory {_shorten('/'.join(parts))}"
            )
        children: list[tuple[list[str], dict[object, object]]] = []
        for key, child in node.items():
            assert isinstance(key, bytes)  # bencode dictionary keys are always byte strings
            child_parts = [*parts, key.decode("utf-8", errors="replace")]
            _check_component(child_parts[-1], child_parts)
            if not isinstance(child, dict):
                raise TorrentInputError(
                    f"torrent file tree entry {_shorten('/'.join(child_parts))} is not a dictionary"
                )
            children.append((child_parts, child))
        stack.extend(reversed(children))


_FileEntry = tuple[list[str], int, bytes | None]


def _v2_files(entries: list[_FileEntry], name: str) -> list[tuple[str, int]]:
    if len(entries) == 1 and len(entries[0][0]) == 1:
        # A single top-level file is a single-file torrent: the file *is* the name, as in v1.
        return [(entries[0][0][0], entries[0][1])]
    return [("/".join([name, *parts]), size) for parts, size, _ in entries]


def _trackers(top: dict[object, object]) -> tuple[str, ...]:
    """Collect trackers leniently: a malformed list only costs peers, not the torrent."""
    raw: list[object] = [top.get(b"announce")]
    tiers = top.get(b"announce-list")
    if isinstance(tiers, list):
        for tier in tiers:
            raw.extend(tier if isinstance(tier, list) else [tier])
    found: list[str] = []
    for item in raw:
        if isinstance(item, bytes):
            url = item.decode("utf-8", errors="replace").strip()
            if url and url not in found:
                found.append(url)
    return tuple(found)


# libtorrent caps the piece length at INT_MAX / 2; BEP 52 wants a v2 one to be a power of two
# of at least 16 KiB (its block size).
_MAX_PIECE_LENGTH = (2**31 - 1) // 2
_BLOCK = 16 * 1024


def _check_v2_rules(decoded: _Decoded, piece_length: int) -> None:
    """What libtorrent refuses in a v2 (or hybrid) info dictionary before the files."""
    if piece_length < _BLOCK or piece_length & (piece_length - 1):
        raise TorrentInputError(
            f"torrent is version 2 but its piece length ({piece_length}) is not a power of "
            "two of at least 16 KiB (qBittorrent refuses it)"
        )
    if decoded.info_unsorted:
        raise TorrentInputError(
            "torrent is version 2 but its info dictionary has unsorted or repeated keys "
            "(qBittorrent refuses it)"
        )


def _merkle_root(layer: list[bytes], pad: bytes) -> bytes:
    """The root over `layer`, padded to a power of two with `pad` (BEP 52)."""
    width = 1
    while width < len(layer):
        width *= 2
    nodes = layer + [pad] * (width - len(layer))
    while len(nodes) > 1:
        pad = hashlib.sha256(pad + pad).digest()
        nodes = [
            hashlib.sha256(nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes), 2)
        ]
    return nodes[0]


def _pad_hash(piece_length: int) -> bytes:
    """The hash of one piece of zero blocks: a piece-layer entry beyond the file's end."""
    node = bytes(32)
    blocks = piece_length // _BLOCK
    while blocks > 1:
        node = hashlib.sha256(node + node).digest()
        blocks //= 2
    return node


def _check_piece_layers(layers: object, entries: list[_FileEntry], piece_length: int) -> None:
    """libtorrent's piece-layer checks for a file longer than a piece.

    A layer that is there (one sha-256 per piece) must have the right length (else
    qBittorrent 4.5 answers "not a valid torrent file") and hash up to the file's pieces
    root (else qBittorrent says "Ok." and only its log tells "a piece layer is invalid").
    A missing layer is loaded by libtorrent 2.0.8, which asks the peers for it.
    """
    if not isinstance(layers, dict):
        layers = {}
    pad = _pad_hash(piece_length)
    for parts, size, root in entries:
        if size <= piece_length or root is None:
            continue
        shown = _shorten("/".join(parts))
        layer = layers.get(root)
        pieces = -(-size // piece_length)
        if layer is None:
            continue  # libtorrent 2.0 loads it and asks peers for the hashes
        if not isinstance(layer, bytes) or len(layer) != pieces * 32:
            length = len(layer) if isinstance(layer, bytes) else 0
            raise TorrentInputError(
                f"torrent file {shown} has a piece layer of {length} bytes, expected "
                f"{pieces * 32} (qBittorrent refuses the torrent)"
            )
        hashes = [layer[i : i + 32] for i in range(0, len(layer), 32)]
        if _merkle_root(hashes, pad) != root:
            raise TorrentInputError(
                f"torrent file {shown} has a piece layer that does not match its pieces root "
                "(qBittorrent would fail to load the torrent)"
            )


def parse_torrent(data: bytes, *, max_bytes: int = MAX_TORRENT_BYTES) -> TorrentFile:
    """Check a .torrent the way qBittorrent (libtorrent) would, but explain the failure.

    What libtorrent loads is accepted (trailing bytes, unsorted keys in a v1 torrent) and
    what it refuses is refused here first with the reason, since qBittorrent only says
    "Fails.". The info-hashes are computed over the exact bytes of the info dictionary.
    """
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data:
        raise TorrentInputError("file is not a torrent: it is empty")
    data = bytes(data)
    try:
        decoded = _bdecode(data)
    except _BencodeError as exc:
        raise TorrentInputError(
            _sniff_non_torrent(data) or f"file is not a torrent: {exc.message}"
        ) from None
    top = decoded.value
    if not isinstance(top, dict):
        raise TorrentInputError("file is not a torrent: it is not a bencoded dictionary")

    info = top.get(b"info")
    if not isinstance(info, dict):
        raise TorrentInputError("torrent has no info dictionary")
    name = _text(info, b"name", "name")
    if not name:
        raise TorrentInputError("torrent info has no name")
    if _bad_component(name):
        raise TorrentInputError(f"torrent name {_shorten(name)} is not a valid file name")

    piece_length = info.get(b"piece length")
    if not isinstance(piece_length, int) or not 0 < piece_length <= _MAX_PIECE_LENGTH:
        raise TorrentInputError("torrent info has no valid piece length")

    meta_version = info.get(b"meta version", 1)
    if not isinstance(meta_version, int):
        raise TorrentInputError("torrent meta version is not an integer")
    if meta_version not in (1, 2):
        raise TorrentInputError(f"torrent uses meta version {meta_version}, which is unsupported")

    has_v1 = b"pieces" in info
    has_v2 = meta_version == 2
    if not has_v1 and not (has_v2 and b"file tree" in info):
        raise TorrentInputError("torrent info has neither pieces (v1) nor a file tree (v2)")
    if has_v2 and b"file tree" not in info:
        raise TorrentInputError("torrent is meta version 2 but has no file tree")
    if has_v2:
        _check_v2_rules(decoded, piece_length)

    files: list[tuple[str, int]] = []
    if has_v1:
        pieces = info[b"pieces"]
        if not isinstance(pieces, bytes):
            raise TorrentInputError("torrent piece hashes are not a byte string")
        if len(pieces) % 20:
            raise TorrentInputError("torrent piece hashes are not a multiple of 20 bytes")
        files, covered = _v1_files(info, name)
        expected = -(-covered // piece_length)
        if len(pieces) // 20 != expected:
            raise TorrentInputError(
                f"torrent has {len(pieces) // 20} piece hashes but its "
                f"{covered} bytes need {expected}"
            )
    if has_v2:
        # Hybrid torrents describe the same content twice; the file tree has no padding files.
        entries = list(_walk_file_tree(info[b"file tree"]))
        files = _v2_files(entries, name)
        _check_piece_layers(top.get(b"piece layers"), entries, piece_length)

    total_size = sum(size for _, size in files)
    if total_size == 0:
        raise TorrentInputError(
            "torrent has no data: every file in it is empty (qBittorrent refuses it)"
        )
    assert decoded.info_span is not None  # info is a dict, so its span was recorded
    encoded_info = data[decoded.info_span[0] : decoded.info_span[1]]
    return TorrentFile(
        data=data,
        name=name,
        info_hash_v1=hashlib.sha1(encoded_info).hexdigest() if has_v1 else None,
        info_hash_v2=hashlib.sha256(encoded_info).hexdigest() if has_v2 else None,
        total_size=total_size,
        files=tuple(files),
        trackers=_trackers(top),
    )


def _os_error(path: str, exc: OSError | ValueError) -> TorrentInputError:
    if isinstance(exc, FileNotFoundError):
        return TorrentInputError(f"{path} does not exist")
    if isinstance(exc, PermissionError):
        return TorrentInputError(f"cannot read {path}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return TorrentInputError(f"{path} is a directory, not a .torrent file")
    if isinstance(exc, OSError) and exc.strerror:
        return TorrentInputError(f"cannot read {path}: {exc.strerror.lower()}")
    return TorrentInputError(f"cannot read {path}: not a valid file name")


def read_torrent_file(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_TORRENT_BYTES
) -> TorrentFile:
    """Read a .torrent from disk, refusing before reading anything too large or not a file.

    A FIFO or device would block or never end, and a huge file should not be read at all,
    hence the stat first and the bounded read after.
    """
    shown = os.fspath(path)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        raise _os_error(shown, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise TorrentInputError(f"{shown} is a directory, not a .torrent file")
    if not stat.S_ISREG(info.st_mode):
        raise TorrentInputError(f"{shown} is not a regular file")
    if info.st_size > max_bytes:
        raise TorrentInputError(f"{shown}: {_too_large(info.st_size, max_bytes)}")
    try:
        data = read_regular_file(path, max_bytes)  # bounded, and a FIFO swapped in since
    except NotRegularFile:  # the stat cannot block the open
        raise TorrentInputError(f"{shown} is not a regular file") from None
    except FileTooLarge as exc:
        raise TorrentInputError(f"{shown}: {_too_large(exc.size, max_bytes)}") from None
    except (OSError, ValueError) as exc:
        raise _os_error(shown, exc) from None
    try:
        return parse_torrent(data, max_bytes=max_bytes)
    except TorrentInputError as exc:
        raise TorrentInputError(f"{shown}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Whatever the user typed, pasted or dropped
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TorrentUrl:
    """A link to fetch later: downloading is the client layer's job, not this module's."""

    url: str


TorrentSource = Magnet | TorrentFile | TorrentUrl


def _unquote_pasted(text: str) -> str:
    # "Copy as path" on Windows and many shells wrap paths in quotes.
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def _http_url(text: str) -> TorrentUrl:
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise TorrentInputError(f"URL contains spaces or control characters: {_shorten(text)}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise TorrentInputError(f"not a valid URL: {_shorten(text)}") from None
    if not parts.hostname:
        raise TorrentInputError(f"URL has no host name: {_shorten(text)}")
    return TorrentUrl(url=text)


def _file_url_path(text: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError:
        raise TorrentInputError(f"not a valid file URL: {_shorten(text)}") from None
    if parts.netloc not in ("", "localhost"):
        raise TorrentInputError(
            f"file URL points to another computer ({parts.netloc}): {_shorten(text)}"
        )
    if os.name == "nt":  # file:///C:/x -> C:\x; nturl2path unquotes by itself
        import nturl2path

        path = nturl2path.url2pathname(parts.path)
    else:
        path = unquote(parts.path)
    if not path:
        raise TorrentInputError(f"file URL has no path: {_shorten(text)}")
    return path


def _local_path(path: str) -> TorrentFile:
    """Open a path if it can be a torrent, with the message that fits what is really there."""
    try:
        info: os.stat_result | None = os.stat(path)
    except (OSError, ValueError):
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise TorrentInputError(f"{path} is a directory, not a .torrent file")
    if info is not None and not path.lower().endswith(".torrent"):
        raise TorrentInputError(f"{path} is not a .torrent file")
    return read_torrent_file(path)


def _exists(path: str) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def parse_source(text: str) -> TorrentSource:
    """Turn what a user pasted, dropped or passed on the command line into a source.

    Nothing is fetched here; a URL is only checked for being something we could fetch.
    """
    source = _unquote_pasted(text.strip())
    if not source:
        raise TorrentInputError("nothing to add: the text is empty")
    if source[:7].lower() == "magnet:":
        return parse_magnet(source)

    scheme_match = _URL_SCHEME.match(source)
    scheme = scheme_match.group(1).lower() if scheme_match else None
    if scheme in ("http", "https"):
        return _http_url(source)
    if scheme == "file":
        return _local_path(_file_url_path(source))

    if _HEX40.fullmatch(source) or _BASE32_32.fullmatch(source):
        return parse_magnet(f"magnet:?xt=urn:btih:{source}")
    if _HEX64.fullmatch(source):
        return parse_magnet(f"magnet:?xt=urn:btmh:{_SHA256_MULTIHASH_PREFIX}{source}")

    try:
        path = os.path.expanduser(source)
    except (OSError, ValueError, KeyError, RuntimeError):  # pragma: no cover - odd home dirs
        path = source
    if _exists(path):
        return _local_path(path)
    if scheme is not None:
        raise TorrentInputError(
            f"{scheme} URLs are not supported, only http and https: {_shorten(source)}"
        )
    if path.lower().endswith(".torrent"):
        return read_torrent_file(path)  # reports that it does not exist
    raise TorrentInputError(f"not a magnet link, .torrent file or http(s) URL: {_shorten(source)}")


DATA_PREFIX = "data:application/x-bittorrent;base64,"


def encode_source(source: TorrentSource) -> str:
    """A text form of any source that survives a restart (a .torrent's bytes included)."""
    if isinstance(source, Magnet):
        return source.uri
    if isinstance(source, TorrentUrl):
        return source.url
    return DATA_PREFIX + base64.b64encode(source.data).decode("ascii")


def decode_source(text: str) -> TorrentSource:
    if text.startswith(DATA_PREFIX):
        return parse_torrent(base64.b64decode(text[len(DATA_PREFIX) :]))
    return parse_source(text)


def describe_source(source: TorrentSource) -> str:
    """One line a user recognises a source by (name and hash), for lists and notices."""
    if isinstance(source, Magnet):
        return f"Magnet link: {source.display_name or '(no name)'} — {source.info_hash}"
    if isinstance(source, TorrentFile):
        return f"Torrent: {source.name}, {len(source.files)} file(s) — {source.info_hash}"
    return f"Link to a torrent: {source.url}"
