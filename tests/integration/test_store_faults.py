"""The database on a real faulty disk: full, read-only, damaged — each said as it is.

A full disk or a read-only file leaves an intact database: the message must say so and
never advise moving it aside (that would lose the queue). Only a damaged file is.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gui.store import DB_FILE, Book, Store, StoreError
from tests.harness.faults import fill_disk, immutable, read_only, tmpfs

REPO = Path(__file__).resolve().parents[2]


def make_profile(folder: Path, books: int = 3) -> Path:
    store = Store.open_in(folder)
    try:
        for n in range(books):
            store.add_book(Book(f"Book {n}", "Some Author"))
    finally:
        store.close()
    return folder / DB_FILE


def titles(folder: Path) -> list[str]:
    store = Store.open_in(folder)
    try:
        return [b.title for b in store.books()]
    finally:
        store.close()


def earmark(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EARMARK_CONFIG_DIR": str(profile),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "gui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_the_profile_disk_filling_up_after_opening_says_disk_full(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "profile", size="2m") as profile:
        make_profile(profile)
        store = Store.open_in(profile)
        try:
            filler = fill_disk(profile)
            with pytest.raises(StoreError) as caught:
                for n in range(200):  # the WAL grows until the disk refuses
                    store.add_book(Book(f"Big {n}", "A" * 20_000))
            assert caught.value.kind == "full"
            assert "is full" in str(caught.value) and "intact" in str(caught.value)
            assert "move" not in str(caught.value)
        finally:
            store.close()
        filler.unlink()
        assert titles(profile)[:3] == ["Book 0", "Book 1", "Book 2"]  # nothing lost


def test_opening_on_a_full_disk_says_disk_full_not_move_it_aside(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "profile", size="2m") as profile:
        make_profile(profile)
        filler = fill_disk(profile)
        result = earmark(profile, "queue")
        line = assert_one_line(result, "is full")
        assert "move" not in line and "cannot be opened" not in line
        filler.unlink()
        assert titles(profile) == ["Book 0", "Book 1", "Book 2"]


def test_a_read_only_database_says_read_only(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "profile", size="4m") as profile:
        make_profile(profile)
        with read_only(profile):
            with pytest.raises(StoreError) as caught:
                Store.open_in(profile)
            assert caught.value.kind == "read_only", caught.value
            line = assert_one_line(earmark(profile, "want", "Dune", "--author", "F H"))
            assert "read-only" in line and "move" not in line
        assert titles(profile) == ["Book 0", "Book 1", "Book 2"]


def test_an_immutable_database_file_says_read_only(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    database = make_profile(profile)
    with immutable(database):
        line = assert_one_line(earmark(profile, "want", "Dune", "--author", "F H"))
        assert "read-only" in line and "move" not in line
    assert titles(profile) == ["Book 0", "Book 1", "Book 2"]


def test_a_damaged_page_says_damaged(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    database = make_profile(profile, books=200)
    page_size = sqlite3.connect(database).execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(database.read_bytes())
    assert len(data) > 4 * page_size
    data[page_size:] = b"\xa5" * (len(data) - page_size)  # every page but the schema
    database.write_bytes(bytes(data))
    result = earmark(profile, "queue")
    line = assert_one_line(result, "damaged")
    assert "backup" in line
    with pytest.raises(StoreError) as caught:
        titles(profile)
    assert caught.value.kind == "corrupt"


def test_a_file_that_is_no_database_says_damaged(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / DB_FILE).write_bytes(b"not a database at all" * 100)
    assert_one_line(earmark(profile, "queue"), "damaged")
