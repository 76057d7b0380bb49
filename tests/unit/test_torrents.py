"""Tests for gui.core.torrents: every accepted form of input and every message a user can see."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Any

import bencode2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui.core.torrents import (
    MAX_MAGNET_CHARS,
    MAX_MAGNET_TRACKERS,
    MAX_TORRENT_BYTES,
    Magnet,
    TorrentFile,
    TorrentInputError,
    TorrentUrl,
    magnet_info_hash,
    parse_magnet,
    parse_source,
    parse_torrent,
    read_torrent_file,
)
from tests.harness.platforms import posix_special_files

# Big Buck Bunny, the WebTorrent demo torrent: a widely published real-world magnet.
BBB_HASH = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"
BBB_BASE32 = "3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4"
BBB_MAGNET = (
    f"magnet:?xt=urn:btih:{BBB_HASH}&dn=Big+Buck+Bunny"
    "&tr=udp%3A%2F%2Fexplodie.org%3A6969"
    "&tr=udp%3A%2F%2Ftracker.coppersurfer.tk%3A6969"
    "&tr=udp%3A%2F%2Ftracker.empire-js.us%3A1337"
    "&tr=wss%3A%2F%2Ftracker.btorrent.xyz"
    "&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F"
    "&xs=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2Fbig-buck-bunny.torrent"
)
# The BitTorrent v2 announcement's hybrid test torrent.
HYBRID_V1 = "631a31dd0a46257d5078c0dee4e66e26f73e42ac"
HYBRID_V2 = "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb"
HYBRID_MAGNET = (
    f"magnet:?xt=urn:btih:{HYBRID_V1}&xt=urn:btmh:1220{HYBRID_V2}&dn=bittorrent-v1-v2-hybrid-test"
)
PIECE = 16384


# --------------------------------------------------------------------------------------------
# Builders for .torrent data
# --------------------------------------------------------------------------------------------


def _pieces(total: int, piece_length: int = PIECE) -> bytes:
    return bytes(range(20)) * math.ceil(total / piece_length)


def v1_single(name: str = "book.m4b", length: int = 100_000) -> dict[bytes, Any]:
    return {
        b"length": length,
        b"name": name.encode(),
        b"piece length": PIECE,
        b"pieces": _pieces(length),
    }


def v1_multi(name: str, files: list[tuple[list[str], int]]) -> dict[bytes, Any]:
    return {
        b"files": [
            {b"length": size, b"path": [part.encode() for part in path]} for path, size in files
        ],
        b"name": name.encode(),
        b"piece length": PIECE,
        b"pieces": _pieces(sum(size for _, size in files)),
    }


#: Piece layers of the files `leaf` made, by pieces root; `torrent` puts them in.
_LAYERS: dict[bytes, bytes] = {}


def _merkle(nodes: list[bytes], pad: bytes) -> bytes:
    """BEP 52's tree, written out plainly (independent of the module's own)."""
    if len(nodes) == 1:
        return nodes[0]
    if len(nodes) % 2:
        nodes = [*nodes, pad]
    parents = [hashlib.sha256(nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes), 2)]
    return _merkle(parents, hashlib.sha256(pad + pad).digest())


def _layer_root(layer: list[bytes], piece_length: int = PIECE) -> bytes:
    blocks = [bytes(32)] * (piece_length // 16384)
    pad = _merkle(blocks, bytes(32)) if len(blocks) > 1 else bytes(32)
    width = 1
    while width < len(layer):
        width *= 2
    return _merkle(layer + [pad] * (width - len(layer)), hashlib.sha256(pad + pad).digest())


def leaf(length: int) -> dict[bytes, Any]:
    entry: dict[bytes, Any] = {b"length": length}
    if length > PIECE:
        count = -(-length // PIECE)
        layer = [hashlib.sha256(f"{length}/{i}".encode()).digest() for i in range(count)]
        root = _layer_root(layer)
        _LAYERS[root] = b"".join(layer)
        entry[b"pieces root"] = root
    elif length:
        entry[b"pieces root"] = hashlib.sha256(str(length).encode()).digest()
    return {b"": entry}


def v2_info(name: str, tree: dict[bytes, Any]) -> dict[bytes, Any]:
    return {b"file tree": tree, b"meta version": 2, b"name": name.encode(), b"piece length": PIECE}


def hybrid_info(name: str, files: list[tuple[str, int]]) -> dict[bytes, Any]:
    """A hybrid multi-file torrent whose v1 list aligns files with BEP 47 padding files."""
    v1_files: list[dict[bytes, Any]] = []
    for index, (file_name, size) in enumerate(files):
        v1_files.append({b"length": size, b"path": [file_name.encode()]})
        pad = -size % PIECE
        if pad and index < len(files) - 1:
            v1_files.append({b"attr": b"p", b"length": pad, b"path": [b".pad", str(pad).encode()]})
    covered = sum(entry[b"length"] for entry in v1_files)
    info = v2_info(name, {n.encode(): leaf(size) for n, size in files})
    info.update({b"files": v1_files, b"pieces": _pieces(covered)})
    return info


def torrent(info: dict[bytes, Any], **top: Any) -> bytes:
    """A .torrent; a v2 one gets the piece layers of its files, as creators write them."""
    fields = {b"info": info, **{k.encode(): v for k, v in top.items()}}
    if info.get(b"meta version") == 2 and b"piece layers" not in fields:
        encoded = bencode2.bencode(info)
        fields[b"piece layers"] = {r: layer for r, layer in _LAYERS.items() if r in encoded}
    return bencode2.bencode(fields)


def sha1(info: dict[bytes, Any]) -> str:
    return hashlib.sha1(bencode2.bencode(info)).hexdigest()


def sha256(info: dict[bytes, Any]) -> str:
    return hashlib.sha256(bencode2.bencode(info)).hexdigest()


# --------------------------------------------------------------------------------------------
# Magnets
# --------------------------------------------------------------------------------------------


def test_real_world_magnet() -> None:
    magnet = parse_magnet(f"  {BBB_MAGNET}\n")
    assert magnet.uri == BBB_MAGNET
    assert magnet.btih == BBB_HASH
    assert magnet.btmh is None
    assert magnet.info_hash == BBB_HASH
    assert magnet.display_name == "Big Buck Bunny"
    assert magnet.trackers == (
        "udp://explodie.org:6969",
        "udp://tracker.coppersurfer.tk:6969",
        "udp://tracker.empire-js.us:1337",
        "wss://tracker.btorrent.xyz",
    )
    assert magnet.exact_length is None


def test_base32_hash_equals_hex() -> None:
    assert base64.b32encode(bytes.fromhex(BBB_HASH)).decode() == BBB_BASE32
    for text in (BBB_BASE32, BBB_BASE32.lower()):
        assert parse_magnet(f"magnet:?xt=urn:btih:{text}").btih == BBB_HASH


def test_uppercase_hex_and_scheme_are_normalised() -> None:
    magnet = parse_magnet(f"MAGNET:?XT=URN:BTIH:{BBB_HASH.upper()}")
    assert magnet.btih == BBB_HASH


def test_v2_only_magnet() -> None:
    magnet = parse_magnet(f"magnet:?xt=urn:btmh:1220{HYBRID_V2.upper()}&dn=x")
    assert magnet.btih is None
    assert magnet.btmh == HYBRID_V2
    assert magnet.info_hash == HYBRID_V2[:40]


def test_hybrid_magnet() -> None:
    magnet = parse_magnet(HYBRID_MAGNET)
    assert (magnet.btih, magnet.btmh) == (HYBRID_V1, HYBRID_V2)
    assert magnet.info_hash == HYBRID_V1
    assert magnet.display_name == "bittorrent-v1-v2-hybrid-test"


def test_duplicate_xt_of_the_same_hash_is_fine() -> None:
    text = f"magnet:?xt=urn:btih:{BBB_HASH}&xt=urn:btih:{BBB_BASE32}&xt.1=urn:btih:{BBB_HASH}"
    assert parse_magnet(text).btih == BBB_HASH


def test_parameters_in_any_order_numbered_and_repeated() -> None:
    magnet = parse_magnet(
        "magnet:?tr.1=http%3A%2F%2Fa%2Fannounce&dn=First%20name&x.pe=1.2.3.4%3A5"
        f"&tr.2=udp%3A%2F%2Fb%3A1&xl=1234&tr=http%3A%2F%2Fa%2Fannounce&xt=urn:btih:{BBB_HASH}"
        "&dn=Second&unknown=whatever&kt=a+b&tr="
    )
    assert magnet.trackers == ("http://a/announce", "udp://b:1")
    assert magnet.display_name == "First name"
    assert magnet.exact_length == 1234


def test_non_ascii_display_name() -> None:
    magnet = parse_magnet(f"magnet:?xt=urn:btih:{BBB_HASH}&dn=H%C3%B6rbuch+%E2%80%93+Teil%201")
    assert magnet.display_name == "Hörbuch – Teil 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("magnet:?dn=nothing", r"has no info-hash \(xt=urn:btih:… or urn:btmh:…\)"),
        ("magnet:", "has no info-hash"),
        ("magnet:?xt=urn:sha1:abc", "has no info-hash"),
        ("magnet:?xt=urn:btih:abc", "info-hash 'abc' is neither 40 hex nor 32 base32 characters"),
        (f"magnet:?xt=urn:btih:{BBB_HASH}0", "is neither 40 hex nor 32 base32"),
        (f"magnet:?xt=urn:btih:{BBB_BASE32[:-1]}1", "is neither 40 hex nor 32 base32"),
        (
            f"magnet:?xt=urn:btmh:1114{HYBRID_V1}",
            r"unsupported multihash \(expected sha2-256, 1220…\)",
        ),
        (f"magnet:?xt=urn:btmh:1220{HYBRID_V2[:-2]}", "expected 64"),
        ("magnet:?xt=urn:btmh:zz", "not hexadecimal"),
        (
            f"magnet:?xt=urn:btih:{BBB_HASH}&xt=urn:btih:{HYBRID_V1}",
            "has two different v1 info-hashes",
        ),
        (
            f"magnet:?xt=urn:btmh:1220{HYBRID_V2}&xt=urn:btmh:1220{'0' * 64}",
            "has two different v2 info-hashes",
        ),
        (f"magnet:?xt=urn:btih:{BBB_HASH}&xl=-5", r"xl\) '-5' is not a non-negative integer"),
        (f"magnet:?xt=urn:btih:{BBB_HASH}&xl=1.5", "is not a non-negative integer"),
        (f"magnet:?xt=urn:btih:{BBB_HASH}&xl=%C2%B2", "is not a non-negative integer"),
        ("http://example.com", "not a magnet link"),
    ],
)
def test_magnet_errors(text: str, message: str) -> None:
    with pytest.raises(TorrentInputError, match=message):
        parse_magnet(text)


@pytest.mark.parametrize(
    "text",
    [
        f"magnet:xt=urn:btih:{BBB_HASH}&dn=x",
        f"MAGNET:?xt=urn:btih:{BBB_HASH}&dn=x",
        f"magnet:?&&xt=urn:btih:{BBB_HASH}&&dn=x&",
        f"Magnet://?XT=urn:btih:{BBB_HASH}&DN=x",
        f"magnet:xt=urn:btih:{BBB_HASH}&&dn=x",
    ],
)
def test_magnets_libtorrent_would_drop_are_normalised(text: str) -> None:
    magnet = parse_magnet(text)
    assert magnet.uri == f"magnet:?xt=urn:btih:{BBB_HASH}&dn=x"
    assert magnet_info_hash(text) == BBB_HASH


def test_unknown_magnet_parameters_are_kept_as_written() -> None:
    magnet = parse_magnet(f"magnet:?xt=urn:btih:{BBB_HASH}&x.pe=1.2.3.4:5&Kt=a+b&junk")
    assert magnet.uri == f"magnet:?xt=urn:btih:{BBB_HASH}&x.pe=1.2.3.4:5&kt=a+b&junk"


def test_many_trackers_are_deduplicated_and_capped() -> None:
    trackers = "".join(f"&tr=udp%3A%2F%2Ft{i % 70_000}.example%3A1" for i in range(60_000))
    magnet = parse_magnet(f"magnet:?xt=urn:btih:{BBB_HASH}{trackers}&tr=udp%3A%2F%2Ft0.example%3A1")
    assert len(magnet.trackers) == MAX_MAGNET_TRACKERS
    assert magnet.trackers[:2] == ("udp://t0.example:1", "udp://t1.example:1")


def test_a_magnet_longer_than_the_cap_is_refused() -> None:
    with pytest.raises(TorrentInputError, match="characters long"):
        parse_magnet(f"magnet:?xt=urn:btih:{BBB_HASH}&dn=" + "a" * MAX_MAGNET_CHARS)


def test_an_exact_length_of_5000_digits_is_a_clear_error() -> None:
    with pytest.raises(TorrentInputError, match="has 5000 digits"):
        parse_magnet(f"magnet:?xt=urn:btih:{BBB_HASH}&xl=" + "9" * 5000)
    assert parse_magnet(f"magnet:?xt=urn:btih:{BBB_HASH}&xl=00012").exact_length == 12


def test_magnet_without_hash_cannot_be_constructed() -> None:
    with pytest.raises(TorrentInputError, match="no info-hash"):
        Magnet(uri="magnet:?", btih=None, btmh=None, display_name=None, trackers=(), exact_length=0)


# --------------------------------------------------------------------------------------------
# .torrent files
# --------------------------------------------------------------------------------------------


def test_v1_single_file() -> None:
    info = v1_single("Book – Part 1.m4b", 100_000)
    data = torrent(
        info,
        announce=b"http://t1/announce",
        **{"announce-list": [[b"http://t1/announce", b"udp://t2:80"], [b"http://t3/a"]]},
    )
    parsed = parse_torrent(data)
    assert parsed.data == data
    assert parsed.name == "Book – Part 1.m4b"
    assert parsed.info_hash_v1 == sha1(info) == parsed.info_hash
    assert parsed.info_hash_v2 is None
    assert parsed.total_size == 100_000
    assert parsed.files == (("Book – Part 1.m4b", 100_000),)
    assert parsed.trackers == ("http://t1/announce", "udp://t2:80", "http://t3/a")


def test_v1_multi_file() -> None:
    info = v1_multi("Author - Title", [(["01.mp3"], 5000), (["cd 2", "02.mp3"], 7000)])
    parsed = parse_torrent(torrent(info))
    assert parsed.info_hash_v1 == sha1(info)
    assert parsed.files == (("Author - Title/01.mp3", 5000), ("Author - Title/cd 2/02.mp3", 7000))
    assert parsed.total_size == 12000
    assert parsed.trackers == ()


def test_utf8_variants_are_preferred_and_bad_utf8_is_replaced() -> None:
    info = v1_multi("legacy", [(["x"], 10)])
    info[b"name"] = b"caf\xe9"
    info[b"name.utf-8"] = "café".encode()
    info[b"files"][0][b"path.utf-8"] = ["ünï".encode()]
    parsed = parse_torrent(torrent(info))
    assert parsed.files == (("café/ünï", 10),)
    del info[b"name.utf-8"]
    assert parse_torrent(torrent(info)).name == "caf\ufffd"


def test_v2_only() -> None:
    tree = {b"a.mp3": leaf(20000), b"dir": {b"b.mp3": leaf(0), b"c.mp3": leaf(5)}}
    info = v2_info("Album", tree)
    parsed = parse_torrent(torrent(info))
    assert parsed.info_hash_v1 is None
    assert parsed.info_hash_v2 == sha256(info)
    assert parsed.info_hash == sha256(info)[:40]
    assert parsed.files == (("Album/a.mp3", 20000), ("Album/dir/b.mp3", 0), ("Album/dir/c.mp3", 5))
    assert parsed.total_size == 20005


def test_v2_single_file() -> None:
    info = v2_info("one.m4b", {b"one.m4b": leaf(123)})
    assert parse_torrent(torrent(info)).files == (("one.m4b", 123),)


def test_hybrid() -> None:
    info = hybrid_info("Hybrid", [("a.mp3", 20000), ("b.mp3", 100)])
    parsed = parse_torrent(torrent(info))
    assert parsed.info_hash_v1 == sha1(info)
    assert parsed.info_hash_v2 == sha256(info)
    assert parsed.info_hash == sha1(info)
    # Padding files belong to the v1 layout only; the user sees the real files.
    assert parsed.files == (("Hybrid/a.mp3", 20000), ("Hybrid/b.mp3", 100))
    assert parsed.total_size == 20100


@pytest.mark.parametrize(
    "info",
    [
        v1_single(),
        v1_multi("d", [(["a"], 1), (["b"], 2)]),
        v2_info("v2", {b"x": leaf(1), b"y": leaf(2)}),
        hybrid_info("h", [("a", 20000), ("b", 3)]),
    ],
)
def test_magnet_uri_round_trips(info: dict[bytes, Any]) -> None:
    parsed = parse_torrent(torrent(info, announce=b"udp://t:1/a?b=c&d"))
    magnet = parse_magnet(parsed.magnet_uri())
    assert magnet.info_hash == parsed.info_hash
    assert (magnet.btih, magnet.btmh) == (parsed.info_hash_v1, parsed.info_hash_v2)
    assert magnet.display_name == parsed.name
    assert magnet.trackers == parsed.trackers == ("udp://t:1/a?b=c&d",)


def test_magnet_uri_quotes_awkward_names() -> None:
    parsed = parse_torrent(torrent(v1_single("a+b & c=d %20.m4b", 1)))
    assert parse_magnet(parsed.magnet_uri()).display_name == "a+b & c=d %20.m4b"


def test_size_limit() -> None:
    with pytest.raises(TorrentInputError, match="torrent is 12 MB, larger than the 10 MB limit"):
        parse_torrent(b"d" * (12 * 1024 * 1024))
    data = torrent(v1_single())
    with pytest.raises(TorrentInputError, match=f"torrent is {len(data)} bytes, larger than"):
        parse_torrent(data, max_bytes=len(data) - 1)
    assert MAX_TORRENT_BYTES == 10 * 1024 * 1024


def test_bencode_error_position() -> None:
    with pytest.raises(TorrentInputError, match="file is not a torrent: bencode error at byte 8"):
        parse_torrent(b"d4:infod")
    with pytest.raises(TorrentInputError, match="bencode error at byte 1"):
        parse_torrent(b"i-e")
    with pytest.raises(TorrentInputError, match="a string runs past the end"):
        parse_torrent(b"d4:info99:abce")
    with pytest.raises(TorrentInputError, match="integer overflow"):
        parse_torrent(b"d4:infoi9223372036854775808ee")
    with pytest.raises(TorrentInputError, match="a key is not a string"):
        parse_torrent(b"di1ei2ee")


def _raw_v1(info_body: bytes) -> bytes:
    return b"d4:infod" + info_body + b"ee"


PIECES20 = b"6:pieces20:" + b"x" * 20


def test_trailing_bytes_after_the_torrent_are_ignored_as_libtorrent_does() -> None:
    data = torrent(v1_single())
    for tail in (b"\n", b"\r\n", b"\x00" * 16, b"junk"):
        assert parse_torrent(data + tail).info_hash == sha1(v1_single())


def test_unsorted_keys_are_loaded_and_hashed_over_the_raw_info_bytes() -> None:
    body = b"4:name1:a6:lengthi1e12:piece lengthi16384e" + PIECES20
    parsed = parse_torrent(_raw_v1(body))
    assert parsed.name == "a" and parsed.total_size == 1
    assert parsed.info_hash == hashlib.sha1(b"d" + body + b"e").hexdigest()


def test_duplicate_keys_keep_the_first_value_and_the_raw_hash() -> None:
    body = b"6:lengthi1e4:name1:a4:name1:b12:piece lengthi16384e" + PIECES20
    parsed = parse_torrent(_raw_v1(body))
    assert parsed.name == "a"
    assert parsed.info_hash == hashlib.sha1(b"d" + body + b"e").hexdigest()


def test_non_canonical_numbers_are_hashed_as_written() -> None:
    body = b"6:lengthi01e4:name1:a12:piece lengthi16384e" + PIECES20
    assert parse_torrent(_raw_v1(body)).info_hash == hashlib.sha1(b"d" + body + b"e").hexdigest()


def test_zero_length_torrents_are_refused() -> None:
    with pytest.raises(TorrentInputError, match="every file in it is empty"):
        parse_torrent(torrent({**v1_single(length=0), b"pieces": b""}))
    with pytest.raises(TorrentInputError, match="every file in it is empty"):
        parse_torrent(torrent(v2_info("v2", {b"a": leaf(0)})))


@pytest.mark.parametrize("piece_length", [16384 * 3, 8192, 16385])
def test_v2_piece_length_must_be_a_power_of_two_of_16k_or_more(piece_length: int) -> None:
    info = {**v2_info("v2", {b"a": leaf(5)}), b"piece length": piece_length}
    with pytest.raises(TorrentInputError, match="not a power of two of at least 16 KiB"):
        parse_torrent(torrent(info))


def test_v2_zero_pieces_root_is_refused() -> None:
    tree = {b"a": {b"": {b"length": 5, b"pieces root": bytes(32)}}}
    with pytest.raises(TorrentInputError, match="all-zero pieces root"):
        parse_torrent(torrent(v2_info("v2", tree)))


def test_v2_unsorted_keys_are_refused() -> None:
    info = bencode2.bencode(v2_info("v2", {b"a": leaf(5)}))
    unsorted = b"d4:name2:v2" + info[1:].replace(b"4:name2:v2", b"", 1)
    data = b"d4:info" + unsorted + b"12:piece layersdee"
    with pytest.raises(TorrentInputError, match="unsorted or repeated keys"):
        parse_torrent(data)


def test_v2_piece_layers_are_checked() -> None:
    info = v2_info("v2", {b"a": leaf(100_000)})
    root = info[b"file tree"][b"a"][b""][b"pieces root"]
    good = _LAYERS[root]
    assert parse_torrent(torrent(info)).total_size == 100_000
    # libtorrent 2.0.8 loads a missing layer (it asks peers for it): so does Earmark
    assert parse_torrent(bencode2.bencode({b"info": info})).total_size == 100_000
    assert parse_torrent(torrent(info, **{"piece layers": {}})).total_size == 100_000
    with pytest.raises(TorrentInputError, match="piece layer of 32 bytes, expected 224"):
        parse_torrent(torrent(info, **{"piece layers": {root: good[:32]}}))
    bad = bytes(32) + good[32:]
    with pytest.raises(TorrentInputError, match="does not match its pieces root"):
        parse_torrent(torrent(info, **{"piece layers": {root: bad}}))


def test_v2_piece_layers_with_bigger_pieces() -> None:
    piece = 4 * 16384
    layer = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
    root = _layer_root(layer, piece)
    tree = {b"a": {b"": {b"length": 3 * piece - 5, b"pieces root": root}}}
    info = {**v2_info("v2", tree), b"piece length": piece}
    data = torrent(info, **{"piece layers": {root: b"".join(layer)}})
    assert parse_torrent(data).total_size == 3 * piece - 5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is not a torrent: it is empty"),
        (b"i42e", "file is not a torrent: it is not a bencoded dictionary"),
        (b"le", "not a bencoded dictionary"),
        (b"de" + b"junk", "torrent has no info dictionary"),
        (b"l" * 5000, "nested too deeply"),
        (b"l" * 101 + b"e" * 101, "nested too deeply"),
        (b"<!DOCTYPE html><html>", "looks like a web page"),
        (b"magnet:?xt=urn:btih:" + BBB_HASH.encode(), "contains a magnet link"),
        (b"de", "torrent has no info dictionary"),
        (b"d4:infoi1ee", "torrent has no info dictionary"),
    ],
)
def test_not_a_torrent(data: bytes, message: str) -> None:
    with pytest.raises(TorrentInputError, match=message):
        parse_torrent(data)


def _broken(change: dict[bytes, Any], base: dict[bytes, Any] | None = None) -> bytes:
    info = dict(v1_single() if base is None else base)
    for key, value in change.items():
        if value is None:
            info.pop(key, None)
        else:
            info[key] = value
    return torrent(info)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_broken({b"name": None}), "torrent info has no name"),
        (_broken({b"name": b""}), "torrent info has no name"),
        (_broken({b"name": 5}), "torrent name is not a string"),
        (_broken({b"name": b".."}), "torrent name '..' is not a valid file name"),
        (_broken({b"name": b"a/b"}), "is not a valid file name"),
        (_broken({b"pieces": None}), r"neither pieces \(v1\) nor a file tree \(v2\)"),
        (_broken({b"pieces": b"x" * 21}), "piece hashes are not a multiple of 20 bytes"),
        (_broken({b"pieces": 7}), "piece hashes are not a byte string"),
        (_broken({b"piece length": 0}), "no valid piece length"),
        (_broken({b"piece length": None}), "no valid piece length"),
        (_broken({b"length": -1}), r"has a negative length \(-1\)"),
        (_broken({b"length": b"12"}), "has no integer length"),
        (_broken({b"length": None}), "neither a length nor a file list"),
        (_broken({b"files": []}), "both a length and a file list"),
        (_broken({b"meta version": 3}), "meta version 3, which is unsupported"),
        (_broken({b"meta version": b"2"}), "meta version is not an integer"),
        (_broken({b"meta version": 2}), "meta version 2 but has no file tree"),
    ],
)
def test_invalid_v1_info(data: bytes, message: str) -> None:
    with pytest.raises(TorrentInputError, match=message):
        parse_torrent(data)


def test_piece_count_must_match_size() -> None:
    with pytest.raises(TorrentInputError, match="has 8 piece hashes but its 100000 bytes need 7"):
        parse_torrent(_broken({b"pieces": b"x" * 160}))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([{b"length": 1, b"path": [b"a", b".."]}], "invalid component '..'"),
        ([{b"length": 1, b"path": [b"..", b"etc", b"passwd"]}], "invalid component '..'"),
        ([{b"length": 1, b"path": [b"."]}], "invalid component '.'"),
        ([{b"length": 1, b"path": [b""]}], "invalid component ''"),
        ([{b"length": 1, b"path": [b"a/b"]}], "invalid component 'a/b'"),
        ([{b"length": 1, b"path": [b"a\\..\\b"]}], "invalid component"),
        ([{b"length": 1, b"path": []}], "entry without a path"),
        ([{b"length": 1, b"path": [3]}], "component that is not a string"),
        ([{b"length": -3, b"path": [b"a"]}], r"torrent file 'd/a' has a negative length \(-3\)"),
        ([{b"path": [b"a"]}], "torrent file 'd/a' has no integer length"),
        ([b"a"], "entry that is not a dictionary"),
        ([], "torrent file list is empty"),
    ],
)
def test_invalid_v1_file_list(files: list[Any], message: str) -> None:
    info = v1_multi("d", [(["x"], 1)])
    info[b"files"] = files
    with pytest.raises(TorrentInputError, match=message):
        parse_torrent(torrent(info))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({}, "file tree is empty"),
        ({b"..": leaf(1)}, "invalid component '..'"),
        ({b"a": {b"..": leaf(1)}}, "invalid component '..'"),
        ({b"a": {b"": {b"length": -1}}}, "negative length"),
        ({b"a": {b"": {b"length": b"1"}}}, "no integer length"),
        ({b"a": {b"": {b"length": 5}}}, "no valid pieces root"),
        ({b"a": {b"": 1}}, "has no length"),
        ({b"a": {}}, "empty directory 'a'"),
        ({b"a": 1}, "entry 'a' is not a dictionary"),
        ({b"a": {**leaf(1), b"b": leaf(1)}}, "both a file and a directory"),
    ],
)
def test_invalid_file_tree(tree: dict[bytes, Any], message: str) -> None:
    with pytest.raises(TorrentInputError, match=message):
        parse_torrent(torrent(v2_info("t", tree)))


def test_file_tree_depth_follows_libtorrents_limit() -> None:
    tree: dict[bytes, Any] = leaf(1)
    for _ in range(90):
        tree = {b"d": tree}
    parsed = parse_torrent(torrent(v2_info("deep", tree)))
    assert parsed.files == (("/".join(["deep"] + ["d"] * 90), 1),)
    for _ in range(20):  # libtorrent's bdecode stops at 100 levels
        tree = {b"d": tree}
    with pytest.raises(TorrentInputError, match="nested too deeply"):
        parse_torrent(torrent(v2_info("deep", tree)))


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def test_read_torrent_file(tmp_path: Path) -> None:
    path = tmp_path / "book.torrent"
    path.write_bytes(torrent(v1_single()))
    assert read_torrent_file(path).info_hash == sha1(v1_single())
    assert read_torrent_file(str(path)).name == "book.m4b"


def test_read_torrent_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.torrent"
    with pytest.raises(TorrentInputError, match=re.escape(f"{missing} does not exist")):
        read_torrent_file(missing)
    with pytest.raises(TorrentInputError, match=re.escape("is a directory, not a .torrent file")):
        read_torrent_file(tmp_path)
    big = tmp_path / "big.torrent"
    big.write_bytes(b"d" * 2048)
    with pytest.raises(
        TorrentInputError, match=re.escape("big.torrent: torrent is 2 KB, larger than the 1 KB")
    ):
        read_torrent_file(big, max_bytes=1024)
    bad = tmp_path / "bad.torrent"
    bad.write_bytes(b"d4:infod")
    with pytest.raises(
        TorrentInputError, match=re.escape("bad.torrent: file is not a torrent: bencode")
    ):
        read_torrent_file(bad)


def test_read_torrent_file_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated: root (as in CI) can read a chmod-0 file, so the refusal is injected.
    path = tmp_path / "secret.torrent"
    path.write_bytes(torrent(v1_single()))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(TorrentInputError, match=r"cannot read .*secret\.torrent: permission"):
        read_torrent_file(path)


@posix_special_files
def test_read_torrent_file_refuses_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.torrent"
    os.mkfifo(fifo)
    with pytest.raises(TorrentInputError, match="is not a regular file"):
        read_torrent_file(fifo)


# --------------------------------------------------------------------------------------------
# parse_source
# --------------------------------------------------------------------------------------------


def test_source_magnet() -> None:
    source = parse_source(f"  {BBB_MAGNET} ")
    assert isinstance(source, Magnet)
    assert source.info_hash == BBB_HASH


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/file.torrent",
        "https://tracker.example.org:8443/download.php?id=5&passkey=abc",
        "HTTPS://EXAMPLE.COM/x",
        "http://[::1]:8080/x.torrent",
    ],
)
def test_source_http_urls(url: str) -> None:
    assert parse_source(url) == TorrentUrl(url=url)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://example.com/x.torrent", "ftp URLs are not supported, only http and https"),
        ("http://", "URL has no host name"),
        ("http:///path", "URL has no host name"),
        ("http://example.com:99999/x", "not a valid URL"),
        ("http://[::1/x", "not a valid URL"),
        ("http://example.com/a b", "spaces or control characters"),
        ("hello", r"not a magnet link, \.torrent file or http\(s\) URL: 'hello'$"),
        ("", "nothing to add"),
        ("   ", "nothing to add"),
        ("/nonexistent/dir/book.torrent", "/nonexistent/dir/book.torrent does not exist"),
        ("file://otherhost/x.torrent", "points to another computer"),
        ("magnet:?xt=urn:btih:abc", "is neither 40 hex nor 32 base32"),
        ("a" * 500, r"http\(s\) URL: 'aaaa.*…'$"),
    ],
)
def test_source_errors(text: str, message: str) -> None:
    with pytest.raises(TorrentInputError, match=message):
        parse_source(text)


def test_source_paths(tmp_path: Path) -> None:
    info = v1_single()
    path = tmp_path / "My Book.torrent"
    path.write_bytes(torrent(info))
    for text in (str(path), f'"{path}"', path.as_uri(), f"  {path.as_uri()}\n"):
        source = parse_source(text)
        assert isinstance(source, TorrentFile), text
        assert source.info_hash == sha1(info)
    upper = tmp_path / "UPPER.TORRENT"
    upper.write_bytes(torrent(info))
    assert isinstance(parse_source(str(upper)), TorrentFile)


def test_source_non_torrent_paths(tmp_path: Path) -> None:
    mp3 = tmp_path / "x.mp3"
    mp3.write_bytes(b"ID3")
    with pytest.raises(TorrentInputError, match=re.escape("x.mp3 is not a .torrent file")):
        parse_source(str(mp3))
    with pytest.raises(TorrentInputError, match=re.escape("x.mp3 is not a .torrent file")):
        parse_source(mp3.as_uri())
    with pytest.raises(TorrentInputError, match=re.escape("is a directory, not a .torrent file")):
        parse_source(str(tmp_path))
    fake = tmp_path / "fake.torrent"
    fake.write_bytes(b"<html>login required</html>")
    with pytest.raises(
        TorrentInputError, match=re.escape("fake.torrent: file is not a torrent: it looks")
    ):
        parse_source(str(fake))


@pytest.mark.parametrize(
    ("text", "btih", "btmh"),
    [
        (BBB_HASH, BBB_HASH, None),
        (BBB_HASH.upper(), BBB_HASH, None),
        (BBB_BASE32, BBB_HASH, None),
        (BBB_BASE32.lower(), BBB_HASH, None),
        (HYBRID_V2, None, HYBRID_V2),
    ],
)
def test_source_bare_hash(text: str, btih: str | None, btmh: str | None) -> None:
    source = parse_source(text)
    assert isinstance(source, Magnet)
    assert (source.btih, source.btmh) == (btih, btmh)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_magnet_fragments = st.lists(
    st.sampled_from(
        [
            "xt=urn:btih:",
            "xt=urn:btmh:1220",
            BBB_HASH,
            BBB_BASE32,
            HYBRID_V2,
            "&",
            "=",
            "dn=",
            "tr.1=",
            "xl=",
            "%",
            "%C3",
            "%zz",
            "+",
            "-1",
            "0",
            "\x00",
            "\ud800",
            "ü",
        ]
    )
    | st.text(max_size=5),
    max_size=12,
).map(lambda parts: "magnet:?" + "".join(parts))

_texts = st.text(max_size=200) | _magnet_fragments


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_parse_magnet_only_raises_input_errors(text: str) -> None:
    try:
        magnet = parse_magnet(text)
    except TorrentInputError:
        return
    assert len(magnet.info_hash) == 40
    assert all(c in "0123456789abcdef" for c in magnet.info_hash)


_source_prefixes = st.sampled_from(
    ["", "magnet:?", "http://", "https://", "file://", "ftp://", "/", "~", "./", "C:\\", '"']
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_source_prefixes, _texts)
def test_parse_source_only_raises_input_errors(prefix: str, text: str) -> None:
    with contextlib.suppress(TorrentInputError):
        parse_source(prefix + text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parse_torrent_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(TorrentInputError):
        parse_torrent(data)


_VALID = [
    torrent(v1_single(), announce=b"http://t/a"),
    torrent(v1_multi("m", [(["a"], 20000), (["b", "c"], 5)])),
    torrent(v2_info("v2", {b"a": leaf(3), b"b": {b"c": leaf(20000)}})),
    torrent(hybrid_info("h", [("a", 20000), ("b", 7)]), **{"announce-list": [[b"udp://x:1"]]}),
]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "digit"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "digit" and data:
            data[at] = ord(draw(st.sampled_from("0123456789-eilde:")))
    return bytes(data)


@settings(max_examples=500, deadline=None)
@given(_mutated())
def test_parse_torrent_mutated(data: bytes) -> None:
    try:
        parsed = parse_torrent(data)
    except TorrentInputError:
        return
    assert parsed.info_hash_v1 or parsed.info_hash_v2
    assert parsed.total_size == sum(size for _, size in parsed.files)


_names = st.text(
    st.characters(codec="utf-8", exclude_characters="/\\\x00"),
    min_size=1,
    max_size=10,
).filter(lambda name: name not in (".", ".."))
_sizes = st.integers(0, 70_000)
_trees: st.SearchStrategy[dict[bytes, Any]] = st.recursive(
    _sizes.map(leaf),
    lambda children: st.dictionaries(_names.map(str.encode), children, min_size=1, max_size=3),
    max_leaves=6,
)
_file_trees = st.dictionaries(_names.map(str.encode), _trees, min_size=1, max_size=3)


def _tree_files(tree: dict[bytes, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    if b"" in tree:
        return [("/".join(prefix), tree[b""][b"length"])]
    return [
        file
        for key, child in sorted(tree.items())
        for file in _tree_files(child, (*prefix, key.decode()))
    ]


@st.composite
def _valid_info(draw: st.DrawFn) -> tuple[dict[bytes, Any], list[tuple[str, int]]]:
    name = draw(_names)
    kind = draw(st.sampled_from(["single", "multi", "v2", "hybrid"]))
    if kind == "single":
        size = draw(_sizes)
        return v1_single(name, size), [(name, size)]
    if kind == "multi":
        files = draw(
            st.lists(st.tuples(st.lists(_names, min_size=1, max_size=3), _sizes), min_size=1)
        )
        return v1_multi(name, files), [("/".join([name, *path]), size) for path, size in files]
    if kind == "hybrid":
        flat = draw(st.dictionaries(_names, _sizes, min_size=2, max_size=4))
        flat_files = sorted(flat.items(), key=lambda item: item[0].encode())
        return hybrid_info(name, flat_files), [(f"{name}/{n}", size) for n, size in flat_files]
    tree = draw(_file_trees)
    expected = _tree_files(tree)
    if len(expected) != 1 or "/" in expected[0][0]:
        expected = [(f"{name}/{path}", size) for path, size in expected]
    return v2_info(name, tree), expected


@settings(max_examples=150, deadline=None)
@given(_valid_info(), st.lists(st.text(min_size=1, max_size=20).map(str.strip), max_size=3))
def test_valid_torrents_parse(
    case: tuple[dict[bytes, Any], list[tuple[str, int]]], trackers: list[str]
) -> None:
    info, expected = case
    tiers = [[t.encode()] for t in trackers if t]
    if not any(size for _, size in expected):
        with pytest.raises(TorrentInputError, match="every file in it is empty"):
            parse_torrent(torrent(info, **{"announce-list": tiers}))
        return
    parsed = parse_torrent(torrent(info, **{"announce-list": tiers}))
    assert parsed.files == tuple(expected)
    assert parsed.total_size == sum(size for _, size in expected)
    has_v1, has_v2 = b"pieces" in info, b"file tree" in info
    assert parsed.info_hash_v1 == (sha1(info) if has_v1 else None)
    assert parsed.info_hash_v2 == (sha256(info) if has_v2 else None)
    assert parsed.trackers == tuple(dict.fromkeys(t for t in trackers if t))
    assert parse_magnet(parsed.magnet_uri()).info_hash == parsed.info_hash


def test_symlinks_in_a_torrent_take_no_room_in_the_pieces() -> None:
    """BEP 47 links (attr "l") have an implied size of 0 in libtorrent, v1 and v2 alike."""
    info = v1_multi("d", [(["a.mp3"], 20000)])
    info[b"files"].append(
        {b"attr": b"l", b"length": 999, b"path": [b"link.mp3"], b"symlink path": [b"a.mp3"]}
    )
    parsed = parse_torrent(torrent(info))
    assert parsed.files == (("d/a.mp3", 20000), ("d/link.mp3", 0))
    tree = {
        b"a.mp3": leaf(20000),
        b"link.mp3": {b"": {b"attr": b"l", b"symlink path": [b"a.mp3"]}},
    }
    parsed = parse_torrent(torrent(v2_info("v2", tree)))
    assert parsed.files == (("v2/a.mp3", 20000), ("v2/link.mp3", 0))
