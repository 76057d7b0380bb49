"""libtorrent (a real qbittorrent-nox) is the oracle for what a .torrent is.

What qBittorrent loads, `parse_torrent` accepts with the info-hash qBittorrent reports;
what qBittorrent refuses (with a bare "Fails."), `parse_torrent` refuses first and says why.
"""

from __future__ import annotations

import hashlib
from typing import Any

import bencode2
import pytest

from gui.core.torrents import TorrentInputError, parse_torrent
from tests.harness.qbt import QbtAddRefused, QbtHttpError, QbtInstance, add_accepted
from tests.harness.wait import wait_until

pytestmark = pytest.mark.qbt

PIECE = 16384
PIECES = b"6:pieces20:" + hashlib.sha1(b"x").digest()


def _v1(info_body: bytes, tail: bytes = b"") -> bytes:
    return b"d4:infod" + info_body + b"ee" + tail


def _info_hash(info_body: bytes) -> str:
    return hashlib.sha1(b"d" + info_body + b"e").hexdigest()


ACCEPTED = {
    "trailing newline": (
        b"6:lengthi5e4:name5:a.mp312:piece lengthi16384e" + PIECES,
        b"\n",
    ),
    "trailing junk": (
        b"6:lengthi6e4:name5:b.mp312:piece lengthi16384e" + PIECES,
        b"\r\n\x00garbage",
    ),
    "unsorted keys": (
        b"4:name5:c.mp36:lengthi7e12:piece lengthi16384e" + PIECES,
        b"",
    ),
    "duplicate key": (
        b"6:lengthi8e4:name5:d.mp34:name5:e.mp312:piece lengthi16384e" + PIECES,
        b"",
    ),
}

# A v2 info dictionary whose keys are out of order: libtorrent's "soft error", fatal for v2.
_V2_UNSORTED = (
    b"d4:infod4:name2:v29:file treed5:a.mp3d0:d6:lengthi5e11:pieces root32:"
    + hashlib.sha256(b"r").digest()
    + b"eee12:meta versioni2e12:piece lengthi16384ee12:piece layersdee"
)


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_what_qbittorrent_loads_is_accepted_with_its_info_hash(
    qbt: QbtInstance, case: str
) -> None:
    body, tail = ACCEPTED[case]
    data = _v1(body, tail)
    parsed = parse_torrent(data)
    assert parsed.info_hash == _info_hash(body)
    admin = qbt.admin()
    admin.add_torrent(data, paused="true", stopped="true")
    listed = admin.wait_for_torrent(parsed.info_hash, timeout=15)
    assert listed["name"] == parsed.name


def _v2(piece_length: int, tree: dict[bytes, Any], layers: dict[bytes, bytes] | None) -> bytes:
    info = {b"file tree": tree, b"meta version": 2, b"name": b"v2", b"piece length": piece_length}
    top: dict[bytes, Any] = {b"info": info}
    if layers is not None:
        top[b"piece layers"] = layers
    return bytes(bencode2.bencode(top))


ROOT = hashlib.sha256(b"root").digest()
REFUSED = {
    "no data": (
        bencode2.bencode(
            {b"info": {b"length": 0, b"name": b"e.mp3", b"piece length": PIECE, b"pieces": b""}}
        ),
        "every file in it is empty",
    ),
    "v2 piece length not a power of two": (
        _v2(3 * PIECE, {b"a": {b"": {b"length": 5, b"pieces root": ROOT}}}, {}),
        "not a power of two",
    ),
    "v2 all-zero pieces root": (
        _v2(PIECE, {b"a": {b"": {b"length": 5, b"pieces root": bytes(32)}}}, {}),
        "all-zero pieces root",
    ),
    "v2 piece layer of the wrong length": (
        _v2(PIECE, {b"a": {b"": {b"length": 3 * PIECE, b"pieces root": ROOT}}}, {ROOT: b"x" * 32}),
        "expected 96",
    ),
    "v2 info with unsorted keys": (_V2_UNSORTED, "unsorted or repeated keys"),
    "v2 piece layer that does not hash to the root": (
        _v2(PIECE, {b"a": {b"": {b"length": 2 * PIECE, b"pieces root": ROOT}}}, {ROOT: b"x" * 64}),
        "does not match its pieces root",
    ),
}


def test_a_v2_torrent_without_piece_layers_is_loaded_as_libtorrent_does(qbt: QbtInstance) -> None:
    """libtorrent 2.0.8 takes it (and would ask peers for the hashes)."""
    data = _v2(PIECE, {b"big.mp3": {b"": {b"length": 3 * PIECE, b"pieces root": ROOT}}}, None)
    parsed = parse_torrent(data)
    admin = qbt.admin()
    admin.add_torrent(data, paused="true", stopped="true")
    assert admin.wait_for_torrent(parsed.info_hash, timeout=15)["name"] == "big.mp3"


def _load_failures(qbt: QbtInstance) -> list[str]:
    """qBittorrent's log lines saying a torrent it answered "Ok." for did not load."""
    log = qbt.admin().get_json("/api/v2/log/main", normal="true", warning="true")
    return [entry["message"] for entry in log if "Failed to load torrent" in entry["message"]]


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_qbittorrent_refuses_is_refused_first_with_a_reason(
    qbt: QbtInstance, case: str
) -> None:
    data, reason = REFUSED[case]
    with pytest.raises(TorrentInputError, match=reason):
        parse_torrent(data)
    # 4.5 answers 415 "not a valid torrent file" (5.2+: a JSON refusal) -- or "Ok." and
    # then logs that the torrent failed to load (a bad piece layer).
    try:
        qbt.admin().add_torrent(data, paused="true", stopped="true")
    except (QbtAddRefused, QbtHttpError):
        return
    wait_until(lambda: _load_failures(qbt), 15, 0.1, what="qBittorrent to log the failed load")


MAGNET_HASH = "c9e15763f722f23e98a29decdfae341b98d53056"


@pytest.mark.parametrize(
    "typed",
    [
        f"magnet:xt=urn:btih:{MAGNET_HASH}&dn=no+question+mark",
        f"MAGNET:?xt=urn:btih:{MAGNET_HASH}&dn=upper+case",
        f"magnet:?&&xt=urn:btih:{MAGNET_HASH}&dn=empty+parameters",
    ],
)
def test_magnets_qbittorrent_drops_are_sent_in_the_form_it_reads(
    qbt: QbtInstance, typed: str
) -> None:
    from gui.core.torrents import parse_magnet

    admin = qbt.admin()
    params = {"paused": "true", "stopped": "true"}
    # 4.5 answers "Fails." and logs "Failed to load torrent ... No such file or directory"
    with pytest.raises(QbtAddRefused):
        _add_url(admin, typed, params)
    normalised = parse_magnet(typed).uri
    _add_url(admin, normalised, params)
    assert admin.wait_for_torrent(MAGNET_HASH, timeout=15)["hash"] == MAGNET_HASH


def _add_url(admin: Any, url: str, params: dict[str, str]) -> None:
    answer = admin.post("/api/v2/torrents/add", {"urls": url, **params})
    if not add_accepted(answer):
        raise QbtAddRefused(f"refused {url!r}: {answer!r}")
