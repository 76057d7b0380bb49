"""One acquisition loop per profile: a lock file in the profile folder (no Qt).

Two loops on one profile (two `earmark run`, or the window and `earmark run`) would both
search and grab every wanted book. The loop therefore holds an OS lock on
``<profile>/loop.lock`` while it runs; the file says who holds it (pid, program, since),
so the second one can tell the user which process to stop. The OS drops the lock when
the holder exits, however it exits, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

LOCK_FILE = "loop.lock"

__all__ = ["LOCK_FILE", "LoopLock", "LoopLockHeld", "held_loop_lock"]


class LoopLockHeld(Exception):
    """Another process runs the acquisition loop of this profile; the message names it."""


class LoopLock:
    """The held lock; `release` (or process exit) gives it up."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, directory: Path, program: str) -> LoopLock:
        """Take the profile's loop lock for ``program`` or raise `LoopLockHeld`."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / LOCK_FILE
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held while the loop runs)
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read()
            handle.close()
            raise LoopLockHeld(_held_message(path, holder)) from None
        with contextlib.suppress(OSError):  # a full disk: the lock holds, unnamed
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "program": program, "since": time.time()}))
            handle.flush()
        return cls(path, handle)

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self._handle.seek(0)
            self._handle.truncate()
            _unlock(self._handle)
        self._handle.close()
        self._handle = None


@contextlib.contextmanager
def held_loop_lock(directory: Path, program: str) -> Iterator[LoopLock]:
    lock = LoopLock.acquire(directory, program)
    try:
        yield lock
    finally:
        lock.release()


def _held_message(path: Path, holder: str) -> str:
    try:
        info = json.loads(holder)
        who = f"{info['program']} (pid {int(info['pid'])}"
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(info["since"])))
        who += f", since {since})"
    except (ValueError, KeyError, TypeError):
        who = "another Earmark process"
    return (
        f"the acquisition loop of this profile already runs in {who}: only one loop may "
        f"search and grab for a profile ({path} is its lock) — stop that one first"
    )


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _REGION = 1 << 20  # a byte far past the text, which stays readable for the second

    def _lock(handle: IO[str]) -> None:
        handle.seek(_REGION)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[str]) -> None:
        handle.seek(_REGION)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
