"""Build the frozen Earmark for the machine this runs on (PyInstaller cannot cross-build).

    python packaging/build.py [--force] [--onefile]

Onedir (default) -> dist/earmark/ ; onefile (--onefile or EARMARK_ONEFILE=1) ->
dist/onefile/Earmark.exe on Windows, dist/onefile/earmark elsewhere.

The build is skipped when dist/ holds one made from the same inputs: a digest of the sources,
resources, packaging files and the versions of PyInstaller and Qt is written beside the build
(`.build-stamp`) and compared, by content rather than mtimes, so tests and `make` targets
reuse a fresh build and rebuild a stale one. In Python rather than shell so Windows runs the
same code (no bash needed) and tests/packaging can call it with the interpreter it runs on.

PyInstaller is installed into this interpreter when missing (PYINSTALLER_REQUIREMENT). On
Linux PyInstaller needs `objdump` and `strip` (binutils) and `ldd` (libc-bin).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYINSTALLER_REQUIREMENT = "pyinstaller>=6.10,<7"
STAMP_NAME = ".build-stamp"
STAMP_INPUTS = ("gui", "resources", "packaging")
STAMP_SUFFIXES = {".py", ".spec", ".svg", ".ico", ".png", ".qrc", ".json", ".txt"}
STAMP_DISTRIBUTIONS = (
    "pyinstaller",
    "pyinstaller-hooks-contrib",
    "PySide6-Essentials",
    "shiboken6",
    "qasync",
    "aiohttp",
    "keyring",
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def digest(onefile: bool, root: Path = ROOT) -> str:
    h = hashlib.sha256()
    h.update(f"{sys.version}|{platform.machine()}|onefile={onefile}".encode())
    for name in STAMP_DISTRIBUTIONS:
        h.update(f"|{name}={_version(name)}".encode())
    for top in STAMP_INPUTS:
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and path.suffix in STAMP_SUFFIXES and "__pycache__" not in path.parts:
                h.update(path.relative_to(root).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def layout(onefile: bool, root: Path = ROOT) -> tuple[Path, Path, Path]:
    """(distpath, workpath, stamp file) for the chosen mode."""
    if onefile:
        dist = root / "dist" / "onefile"
        return dist, root / "build" / "pyinstaller-onefile", dist / STAMP_NAME
    dist = root / "dist"
    return dist, root / "build" / "pyinstaller", dist / "earmark" / STAMP_NAME


def onedir_executables(root: Path = ROOT) -> dict[str, Path]:
    """The executables in dist/earmark: 'gui' (windowed on Windows) and 'cli' (console)."""
    base = root / "dist" / "earmark"
    if sys.platform == "win32":
        return {"gui": base / "Earmark.exe", "cli": base / "earmark-cli.exe"}
    return {"gui": base / "earmark", "cli": base / "earmark"}


def ensure_pyinstaller() -> None:
    from packaging.requirements import Requirement

    wanted = Requirement(PYINSTALLER_REQUIREMENT)
    have = _version("pyinstaller")
    if have != "-" and wanted.specifier.contains(have):
        return
    print(f"build: installing {PYINSTALLER_REQUIREMENT} into {sys.executable}", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", PYINSTALLER_REQUIREMENT], check=True
    )


def ensure_icon() -> None:
    """The .ico is committed; make it only when it is missing (`make icon` remakes it).

    Comparing modification times rewrote the committed file on a fresh clone, where git
    writes the two files in no particular order.
    """
    ico = ROOT / "resources" / "icons" / "earmark.ico"
    if ico.exists():
        return
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icon.py")], check=True, env=env)


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir()) / 2**20


def build(force: bool = False, onefile: bool = False) -> Path:
    """Build (or reuse) and return the onedir folder or the onefile executable."""
    if sys.platform.startswith("linux"):
        missing = [tool for tool in ("objdump", "strip") if shutil.which(tool) is None]
        if missing:
            raise SystemExit(f"build: PyInstaller needs {' and '.join(missing)}: install binutils")
    ensure_pyinstaller()
    ensure_icon()
    distpath, workpath, stamp_file = layout(onefile)
    if onefile:
        product = distpath / ("Earmark.exe" if sys.platform == "win32" else "earmark")
    else:
        product = distpath / "earmark"
    stamp = digest(onefile)
    if (
        not force
        and product.exists()
        and stamp_file.exists()
        and stamp_file.read_text().strip() == stamp
    ):
        print(f"build: {product} is up to date (stamp {stamp[:12]}); --force rebuilds", flush=True)
        return product
    stamp_file.unlink(missing_ok=True)
    env = {**os.environ, "EARMARK_ONEFILE": "1" if onefile else ""}
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(distpath),
        "--workpath",
        str(workpath),
        str(ROOT / "packaging" / "earmark.spec"),
    ]
    start = time.monotonic()
    # Not from the repository root: `python -m` puts the working directory first on sys.path,
    # where this folder's name would shadow the `packaging` distribution PyInstaller imports.
    workpath.mkdir(parents=True, exist_ok=True)
    subprocess.run(command, check=True, cwd=workpath, env=env)
    elapsed = time.monotonic() - start
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(stamp + "\n")
    print(f"build: built {product} in {elapsed:.0f} s ({_size_mb(product):.0f} MiB)", flush=True)
    return product


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--onefile", action="store_true", help="one executable (slower start)")
    args = parser.parse_args(argv)
    onefile = args.onefile or os.environ.get("EARMARK_ONEFILE", "") not in ("", "0", "false", "no")
    force = args.force or bool(os.environ.get("EARMARK_FORCE_BUILD"))
    try:
        build(force=force, onefile=onefile)
    except subprocess.CalledProcessError as exc:
        print(f"build: failed: {' '.join(map(str, exc.cmd))} exited {exc.returncode}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
