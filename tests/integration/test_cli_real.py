"""`earmark add` and `earmark list` against a real qBittorrent, per the CLI contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.audiobook import build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import wait_until

pytestmark = pytest.mark.qbt

REPO = Path(__file__).resolve().parents[2]
LIST_KEYS = {"hash", "name", "state", "progress", "size", "dlspeed", "eta", "category", "save_path"}


def earmark(qbt: QbtInstance, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EARMARK_CONFIG_DIR": str(tmp_path / "profile"),
        "EARMARK_QBT_URL": qbt.url,
        "EARMARK_QBT_USERNAME": QBT_USER,
        "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "gui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_add_file_with_options_then_list(qbt: QbtInstance, tmp_path: Path) -> None:
    book = make_audiobook(tmp_path / "src", "Cli Book", files=1, seconds=1)
    torrent_path = tmp_path / "Cli Book.torrent"
    torrent_path.write_bytes(build_torrent(book))
    save = tmp_path / "dl"
    added = earmark(
        qbt,
        tmp_path,
        "add",
        str(torrent_path),
        "--category",
        "audiobooks",
        "--save-path",
        str(save),
        "--tags",
        "earmark,cli",
        "--paused",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    document = json.loads(added.stdout)
    assert document == {"hash": info_hash(torrent_path.read_bytes()), "name": "Cli Book"}

    # Just after an add qBittorrent may still report checkingResumeData: wait for it to settle.
    torrent = wait_until(
        lambda: (
            (t := qbt.admin().torrent(document["hash"]))
            and t["state"] != "checkingResumeData"
            and t
        ),
        20,
        what="the added torrent to settle",
    )
    assert torrent["category"] == "audiobooks"
    assert Path(torrent["save_path"]) == save
    assert torrent["state"] == qbt.admin().facts().stopped_dl
    assert {t.strip() for t in torrent["tags"].split(",")} == {"earmark", "cli"}

    listed = earmark(qbt, tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and set(rows[0]) == LIST_KEYS
    assert rows[0]["state"] == "stoppedDL" and rows[0]["category"] == "audiobooks"

    again = earmark(qbt, tmp_path, "add", str(torrent_path))
    assert again.returncode == 0
    assert "Already in qBittorrent" in again.stdout


def test_add_magnet_and_bad_inputs(qbt: QbtInstance, tmp_path: Path) -> None:
    magnet = "magnet:?xt=urn:btih:" + "c" * 40 + "&dn=Magnet+Book"
    ok = earmark(qbt, tmp_path, "add", magnet, "--paused", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["hash"] == "c" * 40

    not_torrent = tmp_path / "song.mp3"
    not_torrent.write_bytes(b"ID3")
    refused = earmark(qbt, tmp_path, "add", str(not_torrent), "--json")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "is not a .torrent file" in refused.stderr

    fake = tmp_path / "fake.torrent"
    fake.write_bytes(b"d4:infod")
    broken = earmark(qbt, tmp_path, "add", str(fake))
    assert broken.returncode == 1
    assert "file is not a torrent: bencode error at byte" in broken.stderr
    assert len(qbt.admin().torrents()) == 1
