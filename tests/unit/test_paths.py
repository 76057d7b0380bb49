r"""Remote path mappings (Windows <-> POSIX, UNC, drive letters) and safe names.

The mapping cases are the ones users actually have: qBittorrent on a Windows box saving
to ``F:\Audiobookshelf\Downloads`` seen from Linux as ``/mnt/downloads``, qBittorrent in
Docker saving to ``/downloads`` seen from Windows as ``\\nas\downloads``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gui.core.paths import (
    MAX_COMPONENT_BYTES,
    MAX_COMPONENT_LENGTH,
    PathMapping,
    check_mapping,
    is_windows_path,
    map_remote_path,
    safe_relative,
    sanitize_component,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

WIN_TO_POSIX = PathMapping(r"F:\Audiobookshelf\Downloads", "/mnt/downloads")
POSIX_TO_UNC = PathMapping("/downloads", r"\\nas\downloads")


# --- map_remote_path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "mappings", "expected"),
    [
        # the example from the issue
        (r"F:\Audiobookshelf\Downloads\Dune\01.mp3", [WIN_TO_POSIX], "/mnt/downloads/Dune/01.mp3"),
        # Windows compares without case and with either slash
        ("f:/audiobookshelf/DOWNLOADS/Dune/01.mp3", [WIN_TO_POSIX], "/mnt/downloads/Dune/01.mp3"),
        (r"F:\Audiobookshelf\Downloads", [WIN_TO_POSIX], "/mnt/downloads"),
        (r"F:\Audiobookshelf\Downloads\\", [WIN_TO_POSIX], "/mnt/downloads"),
        # trailing separators on both sides of the mapping do not matter
        (
            r"F:\Audiobookshelf\Downloads\Dune",
            [PathMapping("F:\\Audiobookshelf\\Downloads\\", "/mnt/downloads/")],
            "/mnt/downloads/Dune",
        ),
        # POSIX -> UNC
        ("/downloads/Dune/01.mp3", [POSIX_TO_UNC], r"\\nas\downloads\Dune\01.mp3"),
        ("/downloads", [POSIX_TO_UNC], r"\\nas\downloads"),
        ("/downloads/", [POSIX_TO_UNC], r"\\nas\downloads"),
        # POSIX -> drive letter, and drive root -> POSIX
        ("/downloads/Dune", [PathMapping("/downloads", "Z:\\")], r"Z:\Dune"),
        ("/downloads/Dune", [PathMapping("/downloads", "z:")], r"Z:\Dune"),
        (r"D:\Dune\01.mp3", [PathMapping("D:\\", "/mnt/d")], "/mnt/d/Dune/01.mp3"),
        # drive letter -> another drive letter
        (
            r"D:\Torrents\Dune",
            [PathMapping("D:\\Torrents", r"E:\Media\Torrents")],
            r"E:\Media\Torrents\Dune",
        ),
        # UNC remote, case-insensitive, written with forward slashes by Qt
        (
            r"\\NAS\Share\books\Dune",
            [PathMapping("//nas/share", "/mnt/share")],
            "/mnt/share/books/Dune",
        ),
        (
            "//nas/share/books/Dune",
            [PathMapping(r"\\nas\share", "/mnt/share")],
            "/mnt/share/books/Dune",
        ),
        # POSIX is case-sensitive
        ("/Downloads/Dune", [PathMapping("/downloads", "/mnt/d")], "/Downloads/Dune"),
        # component boundary: /downloads is not a prefix of /downloads2
        ("/downloads2/Dune", [PathMapping("/downloads", "/mnt/d")], "/downloads2/Dune"),
        (r"F:\Audiobookshelf\Downloads2\x", [WIN_TO_POSIX], r"F:\Audiobookshelf\Downloads2\x"),
        # a Windows path is never matched by a POSIX mapping and vice versa
        (r"F:\downloads\Dune", [PathMapping("/downloads", "/mnt/d")], r"F:\downloads\Dune"),
        ("/F:/x", [PathMapping("F:\\", "/mnt/f")], "/F:/x"),
        # the root maps everything
        ("/data/Dune", [PathMapping("/", "/mnt/remote")], "/mnt/remote/data/Dune"),
        # ".." is resolved before matching: it cannot climb out of the mapped folder
        (
            r"F:\Audiobookshelf\Downloads\..\Secret\x",
            [WIN_TO_POSIX],
            r"F:\Audiobookshelf\Downloads\..\Secret\x",
        ),
        ("/downloads/./Dune//01.mp3", [PathMapping("/downloads", "/mnt/d")], "/mnt/d/Dune/01.mp3"),
        # no mapping: unchanged, exactly as given
        (r"F:\Audiobookshelf\Downloads\Dune", [], r"F:\Audiobookshelf\Downloads\Dune"),
        ("/srv/x/", [POSIX_TO_UNC], "/srv/x/"),
        # empty mappings are ignored rather than matching everything
        (
            "/downloads/x",
            [PathMapping("", "/mnt/d"), PathMapping("/downloads", "")],
            "/downloads/x",
        ),
    ],
)
def test_map_remote_path(remote: str, mappings: list[PathMapping], expected: str) -> None:
    assert map_remote_path(remote, mappings) == expected


def test_longest_prefix_wins_whatever_the_order() -> None:
    general = PathMapping("/downloads", "/mnt/all")
    specific = PathMapping("/downloads/audiobooks", "/mnt/books")
    for mappings in ([general, specific], [specific, general]):
        assert map_remote_path("/downloads/audiobooks/Dune", mappings) == "/mnt/books/Dune"
        assert map_remote_path("/downloads/music/x", mappings) == "/mnt/all/music/x"
    windows = [
        PathMapping("F:\\", "/mnt/f"),
        PathMapping(r"F:\Audiobookshelf", "/mnt/abs"),
        PathMapping(r"f:\audiobookshelf\downloads", "/mnt/dl"),
    ]
    assert map_remote_path(r"F:\Audiobookshelf\Downloads\a.mp3", windows) == "/mnt/dl/a.mp3"
    assert map_remote_path(r"F:\Audiobookshelf\Library\a.mp3", windows) == "/mnt/abs/Library/a.mp3"
    assert map_remote_path(r"F:\Other\a.mp3", windows) == "/mnt/f/Other/a.mp3"


def test_rest_of_path_keeps_its_case_and_unicode() -> None:
    remote = r"F:\AUDIOBOOKSHELF\downloads\Café Crème\Ünïcödé 01.mp3"
    assert map_remote_path(remote, [WIN_TO_POSIX]) == "/mnt/downloads/Café Crème/Ünïcödé 01.mp3"


@pytest.mark.parametrize(
    ("path", "windows"),
    [
        (r"F:\x", True),
        ("F:/x", True),
        ("F:", True),
        (r"\\nas\share", True),
        ("//nas/share", True),
        (r"\x", True),
        ("/downloads", False),
        ("downloads", False),
        ("/F:/x", False),
        ("FF:/x", False),
    ],
)
def test_is_windows_path(path: str, windows: bool) -> None:
    assert is_windows_path(path) is windows


# --- check_mapping -----------------------------------------------------------------------


def test_check_mapping_accepts_a_readable_folder(tmp_path: Path) -> None:
    assert check_mapping(PathMapping("/downloads", str(tmp_path))) is None


def test_mapping_that_points_nowhere_names_both_paths(tmp_path: Path) -> None:
    local = tmp_path / "not-mounted"
    problem = check_mapping(PathMapping(r"F:\Audiobookshelf\Downloads", str(local)))
    assert problem is not None
    assert problem.reason == "missing"
    assert str(local) in problem.message
    assert r"F:\Audiobookshelf\Downloads" in problem.message
    assert "mounted" in problem.message


def test_mapping_to_a_file_is_reported(tmp_path: Path) -> None:
    local = tmp_path / "downloads.txt"
    local.write_text("not a folder")
    problem = check_mapping(PathMapping("/downloads", str(local)))
    assert problem is not None
    assert problem.reason == "not_a_folder"
    assert str(local) in problem.message and "/downloads" in problem.message


def test_windows_path_on_linux_gets_a_hint(tmp_path: Path) -> None:
    problem = check_mapping(PathMapping("/downloads", r"\\nas\downloads"))
    assert problem is not None
    assert problem.reason == "missing"
    if sys.platform != "win32":
        assert "Windows path" in problem.message


def test_empty_side_is_reported() -> None:
    problem = check_mapping(PathMapping("/downloads", "  "))
    assert problem is not None and problem.reason == "empty"
    problem = check_mapping(PathMapping("", "/mnt"))
    assert problem is not None and problem.reason == "empty"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_folder_is_reported() -> None:
    """Root reads everything, so the check runs in a child that drops to ``nobody``.

    The folder lives directly under the system temp folder because pytest's own
    temporary folders are private to root and ``nobody`` could not even reach it.
    """
    scratch = Path(tempfile.mkdtemp(prefix="earmark-unreadable-"))
    scratch.chmod(0o755)
    local = scratch / "locked"
    local.mkdir()
    (local / "book.mp3").write_bytes(b"x")
    local.chmod(0o000)
    code = (
        "import json, os, sys\n"
        "from gui.core.paths import PathMapping, check_mapping\n"
        "if os.geteuid() == 0:\n"
        "    os.setgid(65534); os.setuid(65534)\n"
        "problem = check_mapping(PathMapping('/downloads', sys.argv[1]))\n"
        "print(json.dumps(None if problem is None else [problem.reason, problem.message]))\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code, str(local)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
    finally:
        local.chmod(0o755)
        shutil.rmtree(scratch)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome is not None, "a folder with mode 000 was reported readable"
    reason, message = outcome
    assert reason == "unreadable"
    assert str(local) in message and "/downloads" in message


# --- sanitize_component ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dune", "Dune"),
        # reserved device names, bare, with extensions, any case, with trailing junk
        ("CON", "CON_"),
        ("con.txt", "con_.txt"),
        ("Aux", "Aux_"),
        ("NUL.tar.gz", "NUL_.tar.gz"),
        ("COM1", "COM1_"),
        ("lpt9.mp3", "lpt9_.mp3"),
        ("COM¹.mp3", "COM¹_.mp3"),
        ("CON .mp3", "CON_ .mp3"),
        ("con.", "con_"),
        ("CONSOLE", "CONSOLE"),
        ("COM10", "COM10"),
        ("Icon.png", "Icon.png"),
        # trailing dots and spaces (Windows drops them), leading dots (ABS hides them)
        ("Title...", "Title"),
        ("Title. . ", "Title"),
        ("  Title  ", "Title"),
        (".hidden", "hidden"),
        ("..", "_"),
        ("...", "_"),
        # forbidden characters and control characters
        ('a<b>c:d"e|f?g*h', "abcdefgh"),
        ("AC/DC", "ACDC"),
        ("back\\slash", "backslash"),
        ("Dune: Messiah?", "Dune Messiah"),
        ("tab\there\nnew\rline", "tab here new line"),
        ("nul\x00byte\x1f\x7f\x85", "nulbyte"),
        ("many     spaces", "many spaces"),
        # nothing left
        ("", "_"),
        ("???", "_"),
        ("   ", "_"),
        # names Audiobookshelf's scanner would skip
        ("Book.part", "Book.part_"),
        ("Notes.TMP", "Notes.TMP_"),
    ],
)
def test_sanitize_component(name: str, expected: str) -> None:
    assert sanitize_component(name) == expected


def test_long_names_are_capped_keeping_the_extension() -> None:
    name = "A" * 300 + ".m4b"
    result = sanitize_component(name)
    assert len(result) == MAX_COMPONENT_LENGTH
    assert result.endswith(".m4b")
    assert sanitize_component("B" * 300) == "B" * MAX_COMPONENT_LENGTH
    assert len(sanitize_component("x" * 50 + ".mp3", max_length=20)) == 20


def test_long_names_are_capped_in_bytes_too() -> None:
    result = sanitize_component("日本語" * 70 + ".mp3")  # 214 characters, 634 bytes
    assert len(result.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert result.endswith(".mp3")
    assert result.startswith("日本語")


def test_truncation_does_not_leave_a_trailing_dot_or_space() -> None:
    result = sanitize_component("word " * 60 + ".mp3")
    assert not result[: -len(".mp3")].endswith((" ", "."))


def test_unicode_is_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Café Crème – Brontë")
    assert nfd != "Café Crème – Brontë"
    assert sanitize_component(nfd) == "Café Crème – Brontë"
    assert sanitize_component(nfd) == sanitize_component("Café Crème – Brontë")


_WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}


@given(st.text(max_size=400))
def test_sanitized_names_are_always_valid(name: str) -> None:
    result = sanitize_component(name)
    assert result
    assert not (_WINDOWS_FORBIDDEN & set(result))
    assert result not in (".", "..")
    assert not result.startswith(".")
    assert result == "_" or not result.endswith((" ", "."))
    assert len(result) <= MAX_COMPONENT_LENGTH
    assert len(result.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert unicodedata.is_normalized("NFC", result)
    assert result.split(".")[0].rstrip(" ").upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert sanitize_component(result) == result  # idempotent


# --- safe_relative -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_path", "expected"),
    [
        ("../../x.mp3", "x.mp3"),
        ("Dune/../../../etc/passwd", "Dune/etc/passwd"),
        ("/etc/passwd", "etc/passwd"),
        (r"C:\Windows\x.mp3", "Windows/x.mp3"),
        ("C:x.mp3", "x.mp3"),
        (r"\\server\share\x.mp3", "server/share/x.mp3"),
        (r"..\..\x.mp3", "x.mp3"),
        ("Dune/./CD1//01.mp3", "Dune/CD1/01.mp3"),
        ("Dune/.../01.mp3", "Dune/01.mp3"),
        ("Dune/???/01.mp3", "Dune/01.mp3"),
        ("Dune/CON/01.mp3", "Dune/CON_/01.mp3"),
        ("Dune: Book 1/01: Prologue.mp3", "Dune Book 1/01 Prologue.mp3"),
        (["..", "..", "x.mp3"], "x.mp3"),
        (["Dune", "../../x.mp3"], "Dune/x.mp3"),
        (["Dune", "a/b", "c.mp3"], "Dune/a/b/c.mp3"),
        ("Dune/???", "Dune/_"),
    ],
)
def test_safe_relative(given_path: str | list[str], expected: str) -> None:
    assert safe_relative(given_path) == PurePosixPath(expected)


@pytest.mark.parametrize("given_path", ["", "..", "../..", "/", "./.", r"C:\\", ["..", "."]])
def test_safe_relative_refuses_paths_with_nothing_left(given_path: str | list[str]) -> None:
    with pytest.raises(ValueError, match="no usable path component"):
        safe_relative(given_path)


@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_safe_relative_never_leaves_the_folder(parts: list[str]) -> None:
    try:
        result = safe_relative(parts)
    except ValueError:
        return
    assert not result.is_absolute()
    assert all(part not in ("", ".", "..") and not part.startswith(".") for part in result.parts)
    base = Path("/library/Author/Book")
    joined = Path(os.path.normpath(base / result))
    assert joined.is_relative_to(base) and joined != base
