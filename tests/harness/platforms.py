"""Markers for the few tests of things that cannot exist on some platform.

Only what the platform itself lacks is skipped, with the reason; everything that exists
everywhere is tested everywhere (the Windows job runs tests/unit, tests/gui, tests/packaging).
Linux CI skips none of these.
"""

from __future__ import annotations

import sys

import pytest

#: os.mkfifo: a Windows file system has no FIFOs (its named pipes live in \\.\pipe\, not in a
#: folder a download or a path argument could point into), and /dev/zero does not exist.
posix_special_files = pytest.mark.skipif(
    sys.platform == "win32",
    reason="FIFOs and /dev/zero do not exist in a Windows file system",
)
