"""Files handed to Earmark are read bounded: no hang on a FIFO, no endless /dev/zero."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gui.core.goodreads import read_csv_file
from gui.core.safe_read import FileTooLarge, NotRegularFile, read_regular_file
from gui.core.torrents import TorrentInputError, read_torrent_file
from tests.harness.platforms import posix_special_files


@posix_special_files
@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "books.csv"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match="a FIFO"):
        read_regular_file(fifo, 1000)
    with pytest.raises(ValueError, match="not a regular file"):
        read_csv_file(fifo)  # used to block in read_bytes() for good


@posix_special_files
@pytest.mark.timeout(20)
def test_a_link_to_dev_zero_is_refused_not_read_forever(tmp_path: Path) -> None:
    for name in ("zero.csv", "zero.torrent"):
        (tmp_path / name).symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        read_csv_file(tmp_path / "zero.csv")  # size 0, then read_bytes() never ended
    with pytest.raises(TorrentInputError, match="is not a regular file"):
        read_torrent_file(tmp_path / "zero.torrent")


def test_the_cap_holds(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2048)
    assert read_regular_file(big, 2048) == b"x" * 2048
    with pytest.raises(FileTooLarge) as caught:
        read_regular_file(big, 2047)
    assert caught.value.size == 2048
    with pytest.raises(NotRegularFile, match="a folder"):
        read_regular_file(tmp_path, 10)
