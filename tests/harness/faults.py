"""Real filesystem faults for tests: a tiny tmpfs for a full disk, ``chattr +i`` for an
immutable folder (root ignores permission bits), a read-only remount.

Mounting needs root, as in CI; without it these helpers fail the test with a message,
never skip it, because a skipped fault test hides exactly the bugs it exists for.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.harness.tools import require_tool


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    """Mount a small tmpfs at ``path`` (root only), always unmounted afterwards."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if mount is None or umount is None:
        pytest.fail("mount/umount (util-linux) are needed for the full-disk tests", pytrace=False)
    path.mkdir(parents=True, exist_ok=True)
    result = _run(mount, "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    if result.returncode != 0:
        pytest.fail(
            f"cannot mount a tmpfs at {path}: {result.stderr.strip()} -- the fault tests need "
            "root (CAP_SYS_ADMIN), as in CI; run them as root instead of skipping them",
            pytrace=False,
        )
    try:
        yield path
    finally:
        if _run(umount, str(path)).returncode != 0:
            _run(umount, "-l", str(path))


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: even root cannot create, delete or write anything in ``path``."""
    chattr = require_tool("chattr")
    result = _run(chattr, "+i", str(path))
    if result.returncode != 0:
        pytest.fail(f"chattr +i {path} failed: {result.stderr.strip()}", pytrace=False)
    try:
        yield
    finally:
        _run(chattr, "-i", str(path))


def fill_disk(folder: Path) -> Path:
    """Write a file until the filesystem is full; return it."""
    filler = folder / "filler.bin"
    block = b"\0" * 4096
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Remount the tmpfs at ``path`` read-only, read-write again afterwards."""
    result = _run("mount", "-o", "remount,ro", str(path))
    if result.returncode != 0:
        pytest.fail(f"cannot remount {path} read-only: {result.stderr.strip()}", pytrace=False)
    try:
        yield
    finally:
        _run("mount", "-o", "remount,rw", str(path))
