"""The frozen (PyInstaller onedir) Earmark starts and works: a missing hidden import, data
file, Qt plugin or keyring backend fails here, not on a user's machine.

The build comes from packaging/build.py, which reuses dist/earmark when its stamp matches
the current sources and rebuilds it otherwise (20-30 s on a 2-core machine). The frozen
executables are then run as a user would run them, with a throw-away profile folder.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.wait import free_port

ROOT = Path(__file__).resolve().parents[2]
ONEDIR = ROOT / "dist" / "earmark"
BUILD_TIMEOUT = 900  # a cold CI build with --clean; measured 20-30 s here

pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 120)


def _executables() -> dict[str, Path]:
    if sys.platform == "win32":
        return {"gui": ONEDIR / "Earmark.exe", "cli": ONEDIR / "earmark-cli.exe"}
    return {"gui": ONEDIR / "earmark", "cli": ONEDIR / "earmark"}


@pytest.fixture(scope="module")
def frozen() -> dict[str, Path]:
    """Build (or reuse an up-to-date) dist/earmark with the interpreter running the tests."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert done.returncode == 0, f"frozen build failed:\n{done.stdout}\n{done.stderr}"
    executables = _executables()  # on Windows two: windowed Earmark.exe, console earmark-cli.exe
    for role, path in executables.items():
        assert path.is_file(), f"the build made no {role} executable {path}"
    return executables


def run_frozen(
    exe: Path, tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "EARMARK_CONFIG_DIR": str(tmp_path / "profile"),
        **(extra_env or {}),
    }
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # nothing may be found through the working directory
        timeout=120,
    )


def test_self_test_opens_the_window_and_the_database(
    frozen: dict[str, Path], tmp_path: Path
) -> None:
    done = run_frozen(frozen["cli"], tmp_path, "self-test")
    assert done.returncode == 0, done.stderr
    assert "self-test ok" in done.stdout.splitlines(), done.stdout + done.stderr
    assert (tmp_path / "profile" / "earmark.sqlite3").is_file(), "the database was not created"


def test_self_test_json_is_one_document(frozen: dict[str, Path], tmp_path: Path) -> None:
    done = run_frozen(frozen["cli"], tmp_path, "self-test", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True, document


def test_help_lists_the_commands(frozen: dict[str, Path], tmp_path: Path) -> None:
    done = run_frozen(frozen["cli"], tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: earmark")
    for command in ("doctor", "add", "list", "self-test"):
        assert command in done.stdout


def test_doctor_against_a_closed_port_says_unreachable(
    frozen: dict[str, Path], tmp_path: Path
) -> None:
    port = free_port()  # bound and released: nothing listens there
    done = run_frozen(
        frozen["cli"],
        tmp_path,
        "doctor",
        "--json",
        extra_env={
            "EARMARK_QBT_URL": f"http://127.0.0.1:{port}",
            # Loads a backend by name: keyring's backends must be in the bundle.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        },
    )
    assert done.returncode == 1, done.stdout + done.stderr
    verdict = json.loads(done.stdout)  # stdout holds the JSON document and nothing else
    assert verdict["ok"] is False
    assert verdict["verdict"] == "unreachable", verdict
    assert any(step["name"] == "connect" and not step["ok"] for step in verdict["steps"])


def test_bad_usage_exits_2(frozen: dict[str, Path], tmp_path: Path) -> None:
    done = run_frozen(frozen["cli"], tmp_path, "doctor", "--no-such-option")
    assert done.returncode == 2, done.stdout + done.stderr


def _bundle_files() -> list[str]:
    return [p.relative_to(ONEDIR).as_posix() for p in ONEDIR.rglob("*") if not p.is_dir()]


def test_bundle_has_resources_svg_plugins_and_keyring(frozen: dict[str, Path]) -> None:
    importlib.invalidate_caches()  # build.py may have just pip-installed PyInstaller
    from PyInstaller.archive.readers import CArchiveReader

    files = _bundle_files()
    assert "_internal/resources/icons/earmark.svg" in files  # gui/views/icons.py finds it there
    # Without Qt's SVG icon engine the window and tray icons are blank, silently.
    assert any("iconengines/" in f and "qsvgicon" in f for f in files), "no SVG icon engine"
    # keyring finds its backends through its entry points: metadata and modules both.
    assert any(f.startswith("_internal/keyring-") and f.endswith("entry_points.txt") for f in files)
    modules = set(CArchiveReader(str(frozen["cli"])).open_embedded_archive("PYZ.pyz").toc)
    for backend in ("SecretService", "Windows", "macOS", "kwallet", "chainer", "fail", "null"):
        assert f"keyring.backends.{backend}" in modules, f"keyring backend {backend} missing"


def test_bundle_leaves_out_unused_qt_and_tk(frozen: dict[str, Path]) -> None:
    """The excludes of packaging/freeze_common.py hold (a regression would add ~100 MB)."""
    banned: tuple[str, ...] = ("Qt6Qml", "Qt6Quick", "WebEngine", "Qt63D", "Qt6Multimedia")
    banned += ("Qt6Pdf", "PyQt", "Qt6Sql", "Qt6Test", "Qt6Designer", "_tkinter", "libtk", "libtcl")
    offenders = [f for f in _bundle_files() if any(b in f for b in banned)]
    assert not offenders, f"unused Qt/Tk files bundled: {offenders[:10]}"
    translations = [f for f in _bundle_files() if f.endswith(".qm")]
    assert not translations, f"Qt translations bundled, nothing loads them: {translations[:5]}"
