"""Locating the external programs the real-server tests drive.

A missing tool is a broken test environment, never a reason to skip: the error says
which package provides it and that ``make test`` installs it.
"""

from __future__ import annotations

import os
import shutil

# program -> Debian package that provides it (the APT_TEST list of the Makefile)
TOOLS: dict[str, str] = {
    "qbittorrent-nox": "qbittorrent-nox",
    "ffmpeg": "ffmpeg",
    "ffprobe": "ffmpeg",
    "nginx": "nginx-light",
    "openssl": "openssl",
    "chattr": "e2fsprogs",  # not in a minimal Debian 13
}

# nginx lives in /usr/sbin, which a non-root PATH often lacks
_EXTRA_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


class MissingToolError(RuntimeError):
    """A program the tests need is not installed."""


def find_tool(name: str) -> str | None:
    """Absolute path of ``name`` on PATH (or the sbin dirs), None when absent."""
    path = os.environ.get("PATH", os.defpath) + os.pathsep + os.pathsep.join(_EXTRA_DIRS)
    return shutil.which(name, path=path)


def require_tool(name: str) -> str:
    """Absolute path of ``name``; raises MissingToolError telling how to install it."""
    found = find_tool(name)
    if found is None:
        raise MissingToolError(missing_message([name]))
    return found


def qbittorrent_binary() -> str:
    """The qbittorrent-nox under test.

    ``EARMARK_TEST_QBT`` runs the real-server tests against another build (for example the
    wrapper ``tests/harness/qbt-chroot.sh`` makes for Debian 13's 5.1 or sid's 5.3); the
    default is Debian's package on PATH.
    """
    override = os.environ.get("EARMARK_TEST_QBT")
    if not override:
        return require_tool("qbittorrent-nox")
    if not (os.path.isfile(override) and os.access(override, os.X_OK)):
        raise MissingToolError(f"EARMARK_TEST_QBT={override!r} is not an executable file")
    return override


def missing_tools() -> list[str]:
    """The programs of TOOLS that are not installed (qbittorrent-nox: the one under test)."""
    overridden = {"qbittorrent-nox"} if os.environ.get("EARMARK_TEST_QBT") else set()
    return [name for name in TOOLS if name not in overridden and find_tool(name) is None]


def missing_message(names: list[str]) -> str:
    """The loud, actionable message for missing programs."""
    packages = sorted({TOOLS.get(n, n) for n in names})
    return (
        f"required program(s) not found: {', '.join(names)}. "
        f"`make test` installs them (apt packages: {' '.join(packages)}); "
        "real-server tests are never skipped."
    )
