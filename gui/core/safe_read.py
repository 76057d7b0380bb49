"""Read a file a user (or a torrent) handed us without hanging or filling memory.

`open()` of a FIFO blocks until a writer appears (Ctrl+C cannot interrupt it in a worker
thread), and `/dev/zero` or `/dev/urandom` report size 0 and never end, so a plain
`path.read_bytes()` after a size check is not bounded. Here the file is opened
non-blocking, checked with `fstat` to be a regular file, and read up to a cap.
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["FileTooLarge", "NotRegularFile", "read_regular_file"]


class NotRegularFile(OSError):
    """A FIFO, socket, device or folder where a regular file was expected."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({what})", path)
        self.what = what


class FileTooLarge(OSError):
    """More than the cap; `size` is what the file holds (at least what was read)."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit} bytes", path)
        self.size = size
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def read_regular_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of the regular file at `path` (links followed), at most `max_bytes`.

    Raises `NotRegularFile`, `FileTooLarge` or the `OSError` of the open or read.
    """
    shown = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        # Windows cannot open a folder as a file at all (EACCES, as for an unreadable file):
        # name the folder as what it is. A stat does not open, so it cannot block.
        if os.path.isdir(path):
            raise NotRegularFile(shown, "a folder") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(shown, _kind(info.st_mode))
        if info.st_size > max_bytes:
            raise FileTooLarge(shown, info.st_size, max_bytes)
        handle = open(fd, "rb")  # noqa: SIM115 - closed below, and owns fd from here
    except BaseException:
        os.close(fd)
        raise
    with handle:
        data = handle.read(max_bytes + 1)  # it may have grown since the fstat
    if len(data) > max_bytes:
        raise FileTooLarge(shown, len(data), max_bytes)
    return data
