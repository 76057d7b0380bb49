"""Copy a finished download into the library: verified, resumable, never touching the source.

Synchronous on purpose: it is disk-bound work meant for a worker thread (the caller
wraps :func:`import_book` in ``asyncio.to_thread``); progress and cancellation cross the
thread boundary through a callback and a ``threading.Event``.

How an import runs, and why:

1. **Preflight, before anything is written.** Every planned file is found under the
   (mapped) download folder, with the size qBittorrent reported (a different size means
   an unfinished download or a mapping that points at another copy); the book folder is
   checked (already imported -> done; other content -> refused unless ``upgrade``); the
   free space is checked against what is left to copy plus a margin.
2. **Copy into a hidden temporary folder** ``<library>/.earmark-import-<id>/``: ABS skips
   dot-folders, so a half-copied book never shows up as a broken item. ``<id>`` derives
   from the book folder, so a restarted import finds its own leftovers.
3. **Each file is verified**: the copy read back equals the source byte for byte, sizes
   match, the source's size and mtime did not change meanwhile; its checksum is
   recorded (see below). A JSON manifest, replaced atomically as files complete,
   records what is done.
4. **Rename into place** when all files are verified and flushed (``fsync``): on one
   filesystem a rename is atomic, so ABS sees either no book or the whole book.
   The manifest stays in the book folder as ``.earmark-import.json`` (a dot-file ABS
   ignores); it is what recognises the book as already imported after the tagger
   has rewritten its files.

**Sources are never modified**: they are opened read-only, their size and mtime are
compared before and after, so the torrent keeps seeding. Hardlinks (``hardlink=True``)
share the seeding file's data, so the caller may ask for them only when nothing will
tag the copy; across filesystems they fall back to copying, with a note.

**Resume.** After a crash or a kill, files the manifest lists as complete are checked
again (size, checksum of the temporary copy, the source unchanged) and kept; anything
else in the temporary folder, such as the file being copied at the time, is deleted and
copied again. The manifest itself needs no fsync: a stale or lost one only means more
copying, and every file it does list is re-checked before it is trusted.

**Verification, and what it costs.** The copy itself is made by the kernel
(``copy_file_range``, else ``sendfile``, else a read/write loop), chunk by chunk. Right
behind it a second thread reads the chunk back from the copy and from the source (both
still in the page cache, so no extra disk reads), compares them byte for byte and feeds
the source bytes to a checksum, which, the copy being equal, is the copy's checksum
too; the manifest records it, and a resume re-checks kept files against it. This catches
short or lost writes, a source rewritten mid-copy (qBittorrent re-checking or moving
the torrent), copy-offload bugs in filesystems and network shares, and a temporary file
damaged between a kill and the resume.

Measured with ``bench/import.py`` (400 MB, cold cache, 2 shared CPUs with SHA
extensions) against ``copytree`` followed by a sync, i.e. an equally durable copy: a
first version hashing both files with SHA-256 and pausing between files reached about
0.35x; comparing bytes and hashing only the source brought SHA-256 to about 0.6x and
CRC-32 to about 0.85x on a busy machine; letting the verification overlap the next file
brought both to about 0.97x on a quieter one. SHA-256 still takes some 20 % more CPU
(several times more on CPUs without SHA extensions), so CRC-32 is the default: the byte
comparison is what verifies the copy, and the checksum only has to catch accidental
damage to a kept file, which is what CRC-32 is made for (the source is a stranger's
file anyway, so a cryptographic hash adds no defence). The manifest names the algorithm
per file, so ``CHECKSUM_ALGORITHM = "sha256"`` can be set where CPU is cheap.

**Errors** are :class:`ImportFailed` subclasses naming the paths involved. Which ones
leave the temporary folder for a resume (``resumable``) is documented on each class;
non-resumable ones remove it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import threading
import unicodedata
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol

from gui.core.formatting import human_size
from gui.core.layout import ImportPlan, PlannedFile, SkippedFile

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

__all__ = [
    "BACKUP_PREFIX",
    "CHECKSUM_ALGORITHM",
    "MANIFEST_NAME",
    "TEMP_PREFIX",
    "DestinationConflict",
    "ImportCancelled",
    "ImportFailed",
    "ImportInProgress",
    "ImportResult",
    "ImportedFile",
    "NotEnoughSpace",
    "NothingToImport",
    "PermissionDenied",
    "SourceChanged",
    "SourceMissing",
    "VerificationFailed",
    "abandon_import",
    "import_book",
    "leftover_imports",
    "temp_folder",
]

MANIFEST_NAME = ".earmark-import.json"
TEMP_PREFIX = ".earmark-import-"
BACKUP_PREFIX = ".earmark-backup-"
CHECKSUM_ALGORITHM = "crc32"
"""``crc32`` or any hashlib name; recorded per file, so changing it breaks no resume."""
CHUNK_SIZE = 8 * 1024 * 1024
"""Bytes per copy step: large enough that per-call overhead vanishes, small enough that
progress moves, cancellation is quick and the chunk is still in the page cache when the
verifier reads it back."""
MAX_IN_FLIGHT = 4
"""Chunks the verifier may lag behind the copy before the copy waits for it."""
READ_BLOCK = 128 * 1024
"""Bytes per read in the verifier: small enough to stay in the CPU cache between the
read, the comparison and the checksum, which measurably beats reading whole chunks."""
_MANIFEST_VERSION = 1

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class ImportFailed(Exception):
    """Base of every import error. ``paths`` are the paths involved, for the log and the
    UI; ``resumable`` says whether the temporary folder was kept for the next attempt."""

    resumable: bool = True

    def __init__(self, message: str, *, paths: tuple[str | os.PathLike[str], ...] = ()) -> None:
        super().__init__(message)
        self.paths = tuple(os.fspath(path) for path in paths)


class NotEnoughSpace(ImportFailed):
    """The library's filesystem lacks room. Raised before copying (the temporary folder,
    if any from an earlier attempt, is kept) or when the disk fills up during the copy
    (the partial file is deleted, the completed ones kept): free space, import again."""

    def __init__(self, needed: int, available: int, path: Path, *, during_copy: bool = False):
        when = "filled up while copying" if during_copy else "has too little free space"
        super().__init__(
            f"The library at {path} {when}: the book needs {human_size(needed)} ({needed} bytes) "
            f"but only {human_size(available)} ({available} bytes) are free.",
            paths=(path,),
        )
        self.needed = needed
        self.available = available


class PermissionDenied(ImportFailed):
    """The system refused a write in the library (or a read of a download). Nothing is
    lost: whatever was copied stays in the temporary folder for after the fix."""

    def __init__(self, path: Path, detail: str = "permission denied", *, action: str = "write to"):
        super().__init__(f"Cannot {action} {path}: {detail}.", paths=(path,))


class SourceMissing(ImportFailed):
    """A torrent file is not where the (mapped) save path says. Raised before copying."""

    def __init__(self, missing: list[tuple[str, list[str], str]], source_root: Path) -> None:
        lines = []
        for name, tried, note in missing:
            where = "; ".join(tried)
            lines.append(f"  {name}: not found (tried {where}){f'; {note}' if note else ''}")
        super().__init__(
            f"{len(missing)} file(s) of the download are missing under {source_root} "
            "(check the remote path mapping and that the download finished):\n" + "\n".join(lines),
            paths=(source_root, *(path for _, tried, _ in missing for path in tried)),
        )
        self.missing = missing


class SourceChanged(ImportFailed):
    """A download file is not the size the torrent says, or changed while being copied
    (qBittorrent re-checking or moving it). The copy of that file is discarded."""


class VerificationFailed(ImportFailed):
    """A copy does not match its source (checksum or size). The bad copy is deleted;
    importing again copies that file again."""


class DestinationConflict(ImportFailed):
    """The book folder already holds something else and no upgrade was asked for.
    Not resumable: the temporary folder is removed; the caller decides on an upgrade."""

    resumable = False


class ImportCancelled(ImportFailed):
    """The cancel event was set. Completed files stay in the temporary folder."""


class ImportInProgress(ImportFailed):
    """Another import of the same book (another Earmark process) holds its lock.
    Nothing was touched."""


class NothingToImport(ImportFailed):
    """The plan has no audio file. Not resumable; nothing was written."""

    resumable = False


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedFile:
    """One file in the book folder. ``method``: ``copy``, ``hardlink`` or ``reused``
    (completed by an earlier, interrupted attempt and verified again). For a book that
    was already imported, ``copy`` or ``hardlink`` says what the file in place is."""

    target: PurePosixPath
    size: int
    checksum: str | None
    method: Literal["copy", "hardlink", "reused"]


@dataclass(frozen=True)
class ImportResult:
    """What happened. ``status`` is ``imported``, ``upgraded`` (an older copy was
    replaced) or ``already_imported`` (nothing was done)."""

    status: Literal["imported", "upgraded", "already_imported"]
    path: Path
    files: tuple[ImportedFile, ...] = ()
    bytes_copied: int = 0
    notes: tuple[str, ...] = ()

    @property
    def already_imported(self) -> bool:
        return self.status == "already_imported"

    @property
    def reused_files(self) -> int:
        return sum(1 for item in self.files if item.method == "reused")


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


class _Checksum(Protocol):
    def update(self, data: memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Crc32:
    """CRC-32 behind the hashlib interface; selectable for slow CPUs and the bench."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: memoryview, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def hexdigest(self) -> str:
        return f"{self._value:08x}"


def _new_checksum(algorithm: str) -> _Checksum:
    if algorithm == "crc32":
        return _Crc32()
    return hashlib.new(algorithm)


_O_BINARY: int = getattr(os, "O_BINARY", 0)


def temp_folder(library_root: Path, book_folder: PurePosixPath) -> Path:
    """The hidden folder an import of ``book_folder`` copies into. Stable, so a restart
    finds it; folded to NFC and lower case like the names NTFS and SMB consider equal."""
    key = unicodedata.normalize("NFC", book_folder.as_posix()).casefold()
    return library_root / f"{TEMP_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _backup_folder(library_root: Path, book_folder: PurePosixPath) -> Path:
    name = temp_folder(library_root, book_folder).name[len(TEMP_PREFIX) :]
    return library_root / f"{BACKUP_PREFIX}{name}"


def leftover_imports(library_root: Path) -> list[Path]:
    """Temporary and backup folders in the library: interrupted imports and upgrades.

    They are hidden from ABS, so a settings page should offer to clean them up.
    """
    try:
        entries = list(library_root.iterdir())
    except OSError:
        return []
    return sorted(
        entry
        for entry in entries
        if entry.name.startswith((TEMP_PREFIX, BACKUP_PREFIX)) and entry.is_dir()
    )


def abandon_import(library_root: Path, book_folder: PurePosixPath) -> bool:
    """Delete the temporary folder of an import that will not be resumed. True if any."""
    folder = temp_folder(library_root, book_folder)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


def _validate_relative(path: PurePosixPath, what: str) -> None:
    """Refuse anything that could leave the library or hide from ABS."""
    if path.is_absolute() or not path.parts:
        raise ValueError(f"{what} must be a non-empty relative path, not {path!s}")
    for part in path.parts:
        if part in (".", "..") or part.startswith(".") or "\\" in part or ":" in part:
            raise ValueError(f"{what} {path!s} has an unsafe component {part!r}")


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX; NTFS journals it)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _os_error(
    exc: OSError, path: Path, *, library_root: Path, needed: int, source: Path | None = None
) -> ImportFailed:
    """Turn an OSError on the library side into the error the user can act on.

    ``source`` is given when the failing call also read a download file (an in-kernel
    copy), so an I/O error names both ends."""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        try:
            free = shutil.disk_usage(library_root).free
        except OSError:
            free = 0
        return NotEnoughSpace(needed, free, library_root, during_copy=True)
    if code in (errno.EACCES, errno.EPERM):
        return PermissionDenied(path)
    if code == errno.EROFS:
        return PermissionDenied(path, "read-only file system")
    if source is not None:
        return ImportFailed(
            f"Cannot copy {source} to {path}: {exc.strerror or exc}.", paths=(source, path)
        )
    return ImportFailed(f"Cannot write {path}: {exc.strerror or exc}.", paths=(path,))


# ---------------------------------------------------------------------------------------
# Writeback and locking (platform details)
# ---------------------------------------------------------------------------------------

_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range: Any = None
_sync_file_range_loaded = False


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask Linux to start writing a chunk to disk now (``sync_file_range``).

    The final fsync then finds little left to write, so flushing overlaps with copying
    instead of following it. Purely a hint: anywhere it is missing it does nothing.
    """
    global _sync_file_range, _sync_file_range_loaded
    if not _sync_file_range_loaded:
        _sync_file_range_loaded = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
                function = libc.sync_file_range
                function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                function.restype = ctypes.c_int
                _sync_file_range = function
            except (OSError, AttributeError):
                _sync_file_range = None
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


class _BookLock:
    """An exclusive lock per book, so the GUI and ``earmark import`` cannot copy the
    same book into the same temporary folder at once. The OS drops it when the process
    dies, so a killed import never leaves a stale lock behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> _BookLock:
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _O_BINARY, 0o644)
            except OSError as exc:
                raise _os_error(
                    exc, self.path.parent, library_root=self.path.parent, needed=0
                ) from exc
            try:
                if sys.platform == "win32":
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                else:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise ImportInProgress(
                    f"Another import of this book is running (lock {self.path}).",
                    paths=(self.path,),
                ) from None
            # The previous holder may have deleted the file between our open and lock:
            # then we hold a lock on a file nobody else can see; open it again.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except OSError:
                same = False
            if same:
                self._fd = fd
                return self
            os.close(fd)
        raise ImportInProgress(f"Could not lock {self.path}.", paths=(self.path,))

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is None:
            return
        if sys.platform == "win32":
            os.close(self._fd)
            with contextlib.suppress(OSError):
                self.path.unlink()
        else:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
        self._fd = None


# ---------------------------------------------------------------------------------------
# Copying one file
# ---------------------------------------------------------------------------------------


class _Copier:
    """Moves bytes from ``src`` to ``dst`` at their current positions, the fastest way the
    platform offers: ``copy_file_range`` (in-kernel, reflinks on btrfs/XFS, server-side
    copy on NFS 4.2/SMB), else ``sendfile``, else a read/write loop."""

    _FALLBACK_ERRNOS = frozenset(
        {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}
        | ({errno.ENOTSUP} if hasattr(errno, "ENOTSUP") else set())
    )

    def __init__(self, src: int, dst: int) -> None:
        self.src = src
        self.dst = dst
        if sys.platform.startswith("linux"):
            self.mode = "copy_file_range" if hasattr(os, "copy_file_range") else "sendfile"
        else:
            self.mode = "loop"
        self._buffer: memoryview | None = None
        self._reader: io.FileIO | None = None

    def copy(self, count: int) -> int:
        """Copy up to ``count`` bytes; 0 means the source ended."""
        if self.mode == "copy_file_range":
            try:
                return os.copy_file_range(self.src, self.dst, count)
            except OSError as exc:
                # nothing moves when it fails, so another method can take over here
                if exc.errno not in self._FALLBACK_ERRNOS:
                    raise
                self.mode = "sendfile"
        if self.mode == "sendfile":
            try:
                return os.sendfile(self.dst, self.src, None, count)
            except OSError as exc:
                if exc.errno not in self._FALLBACK_ERRNOS:
                    raise
                self.mode = "loop"
        return self._loop(count)

    def _loop(self, count: int) -> int:
        if self._buffer is None:
            self._buffer = memoryview(bytearray(CHUNK_SIZE))
            self._reader = io.FileIO(self.src, "rb", closefd=False)
        assert self._reader is not None
        view = self._buffer[: min(count, len(self._buffer))]
        got = self._reader.readinto(view) or 0
        written = 0
        while written < got:
            written += os.write(self.dst, view[written:got])
        return got

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()  # closefd=False: only the wrapper


class _Verifier:
    """Reads the source and the fresh copy back, block by block, compares them byte for
    byte and checksums the source. Runs in a thread beside the copy (reads, ``==`` on
    bytearrays, hashlib and zlib all release the GIL or are memcmp-fast), each on its own
    descriptors so the copy's file positions are never disturbed.

    Comparing bytes and checksumming one side costs half the checksum work of hashing
    both, and is the stricter check; since the copy equals the source, the one checksum
    is the copy's too, and is what the manifest records.
    """

    def __init__(self, source: Path, copy: Path, algorithm: str) -> None:
        self.source = source
        self.copy = copy
        self._source = io.FileIO(source, "rb")
        try:
            self._copy = io.FileIO(copy, "rb")
        except BaseException:
            self._source.close()
            raise
        self._a = bytearray(READ_BLOCK)
        self._b = bytearray(READ_BLOCK)
        self.algorithm = algorithm
        self.checksum = _new_checksum(algorithm)
        self.verified = 0
        self.error: BaseException | None = None

    def consume(self, count: int) -> None:
        if self.error is not None:
            return  # the file is lost anyway; the finishing step reports why
        try:
            self._consume(count)
        except BaseException as exc:
            self.error = exc
            raise

    def _consume(self, count: int) -> None:
        while count > 0:
            want = min(count, READ_BLOCK)
            if want == READ_BLOCK:
                a, b = self._a, self._b
            else:
                a, b = bytearray(want), bytearray(want)
            got_a = self._source.readinto(a) or 0
            got_b = self._copy.readinto(b) or 0
            if got_a != want or got_b != want:
                short = self.source if got_a != want else self.copy
                raise VerificationFailed(
                    f"{short} ended after {self.verified + min(got_a, got_b)} bytes while "
                    "being verified.",
                    paths=(self.source, self.copy),
                )
            if a != b:
                raise VerificationFailed(
                    f"The copy {self.copy} differs from {self.source} between bytes "
                    f"{self.verified} and {self.verified + want}.",
                    paths=(self.source, self.copy),
                )
            self.checksum.update(memoryview(a))
            self.verified += want
            count -= want

    def close(self) -> None:
        self._source.close()
        self._copy.close()


def _hash_file(path: Path, algorithm: str) -> str:
    """Checksum of a whole file (re-checking a copy kept from an earlier attempt)."""
    checksum = _new_checksum(algorithm)
    buffer = memoryview(bytearray(CHUNK_SIZE))
    with open(path, "rb", buffering=0) as handle:
        while got := handle.readinto(buffer):
            checksum.update(buffer[:got])
    return checksum.hexdigest()


@dataclass
class _Workers:
    """Two single-thread executors: one verifies (its FIFO order keeps the blocks of a
    file in order), one flushes finished files to disk while the next one copies."""

    verify: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="import-verify")
    )
    sync: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="import-fsync")
    )
    flushes: list[tuple[Path, Future[None]]] = field(default_factory=list)

    def shutdown(self) -> None:
        for executor in (self.verify, self.sync):
            executor.shutdown(wait=True)


def _fsync_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Context:
    """What the per-file steps need to report progress, cancel and explain errors."""

    library_root: Path
    total: int
    done: int
    remaining: int
    progress: Progress | None
    cancel: threading.Event | None
    algorithm: str
    poll: Callable[[], None] | None = None

    def advance(self, count: int) -> None:
        """``count`` more bytes copied: record finished files, then report progress."""
        self.done += count
        self.remaining -= count
        if self.poll is not None:
            self.poll()
        if self.progress is not None:
            self.progress(self.done, self.total)

    def check_cancel(self, folder: Path) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ImportCancelled(
                f"Import cancelled; {self.done} of {self.total} bytes are kept in {folder} "
                "for the next attempt.",
                paths=(folder,),
            )


def _copy_file(
    source: Path, target: Path, size: int, workers: _Workers, ctx: _Context
) -> Future[str]:
    """Copy ``source`` to ``target``; the returned future yields ``"<algorithm>:<hex>"``
    once the copy is verified, or raises why it is not.

    The copy is done here, in the caller's thread; the verification of the last chunks
    and the final checks run in the verifier thread while the caller already copies the
    next file, so files are not separated by a pause. A failed copy deletes ``target``
    (a partial file can never be reused).
    """
    try:
        # read-only: seeding data stays intact; non-blocking so a FIFO swapped in since
        # check_sources cannot block the open (the fstat below then refuses it)
        src = os.open(source, os.O_RDONLY | _O_BINARY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise PermissionDenied(source, action="read") from exc
        raise SourceChanged(f"Cannot open {source}: {exc.strerror}.", paths=(source,)) from exc
    dst: int | None = None
    copier: _Copier | None = None
    verifier: _Verifier | None = None
    pending: deque[Future[None]] = deque()
    try:
        before = os.fstat(src)
        if not stat.S_ISREG(before.st_mode):
            raise SourceChanged(f"{source} is no longer a regular file.", paths=(source,))
        if before.st_size != size:
            raise SourceChanged(
                f"{source} is {before.st_size} bytes, but the torrent says {size}: the "
                "download is unfinished or the path mapping points at another copy.",
                paths=(source,),
            )
        try:
            dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY, 0o644)
        except OSError as exc:
            raise _os_error(
                exc, target.parent, library_root=ctx.library_root, needed=ctx.remaining
            ) from exc
        copier = _Copier(src, dst)
        verifier = _Verifier(source, target, ctx.algorithm)
        copied = 0
        while copied < size:
            ctx.check_cancel(target.parent)
            try:
                count = copier.copy(min(CHUNK_SIZE, size - copied))
            except OSError as exc:
                raise _os_error(
                    exc, target, library_root=ctx.library_root, needed=ctx.remaining, source=source
                ) from exc
            if count == 0:
                raise SourceChanged(
                    f"{source} ended after {copied} of {size} bytes while being copied.",
                    paths=(source,),
                )
            _start_writeback(dst, copied, count)
            pending.append(workers.verify.submit(verifier.consume, count))
            copied += count
            while len(pending) > MAX_IN_FLIGHT:
                pending.popleft().result()
            ctx.advance(count)
        copier.close()
    except BaseException:
        # Let the verifier finish with its descriptors before they close.
        for future in pending:
            with contextlib.suppress(BaseException):
                future.result()
        if copier is not None:
            copier.close()
        if verifier is not None:
            verifier.close()
        if dst is not None:
            os.close(dst)
        os.close(src)
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    return workers.verify.submit(
        _finish_file, source, target, size, src, dst, before, verifier, workers
    )


def _finish_file(
    source: Path,
    target: Path,
    size: int,
    src: int,
    dst: int,
    before: os.stat_result,
    verifier: _Verifier,
    workers: _Workers,
) -> str:
    """The checks after the last chunk (in the verifier thread, after all of them):
    nothing went wrong, every byte was compared, the source did not change meanwhile.
    Then the copy is handed to the flushing thread."""
    handed_over = False
    try:
        if verifier.error is not None:
            raise verifier.error
        after = os.fstat(src)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise SourceChanged(
                f"{source} changed while it was being copied (size or modification time).",
                paths=(source,),
            )
        written = os.fstat(dst).st_size
        if written != size or verifier.verified != size:
            raise VerificationFailed(
                f"The copy {target} has {written} bytes, {verifier.verified} verified, "
                f"instead of {size}.",
                paths=(source, target),
            )
        digest = f"{verifier.algorithm}:{verifier.checksum.hexdigest()}"
        workers.flushes.append((target, workers.sync.submit(_fsync_close, dst)))
        handed_over = True
        return digest
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    finally:
        verifier.close()
        os.close(src)
        if not handed_over:
            os.close(dst)


_LINK_FALLBACK = {
    errno.EXDEV: "they are on different filesystems",
    errno.EPERM: "the system does not allow it (protected hardlinks or filesystem)",
    errno.EMLINK: "the file has too many links",
    errno.EOPNOTSUPP: "the filesystem has no hardlinks",
    errno.ENOSYS: "the filesystem has no hardlinks",
}


def _link_file(source: Path, target: Path, ctx: _Context) -> str | None:
    """Hardlink ``source`` as ``target``; None on success, else why it was impossible
    (the caller copies instead)."""
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError as exc:
        reason = _LINK_FALLBACK.get(exc.errno or 0)
        if reason is None and exc.errno == getattr(errno, "ENOTSUP", -1):
            reason = "the filesystem has no hardlinks"
        if reason is None:
            raise _os_error(
                exc, target.parent, library_root=ctx.library_root, needed=ctx.remaining
            ) from exc
        return reason
    return None


# ---------------------------------------------------------------------------------------
# Manifest (resume state, then the imported book's marker)
# ---------------------------------------------------------------------------------------


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def _write_manifest(path: Path, data: dict[str, Any], *, durable: bool = False) -> None:
    """Replace the manifest atomically: a reader sees the old or the new one, whole."""
    scratch = path.with_name(path.name + ".new")
    with open(scratch, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(scratch, path)


def _fingerprint(files: dict[str, Any]) -> set[tuple[str, int]]:
    result: set[tuple[str, int]] = set()
    for target, entry in files.items():
        if isinstance(entry, dict) and isinstance(entry.get("size"), int):
            result.add((unicodedata.normalize("NFC", target), entry["size"]))
    return result


def _plan_fingerprint(plan: ImportPlan) -> set[tuple[str, int]]:
    return {(unicodedata.normalize("NFC", f.target.as_posix()), f.size) for f in plan.files}


# ---------------------------------------------------------------------------------------
# Preflight
# ---------------------------------------------------------------------------------------


def _inside(root_real: str, path: str) -> bool:
    try:
        return os.path.commonpath([root_real, path]) == root_real
    except ValueError:  # another drive on Windows
        return False


def _source_problem(candidate: Path, root_real: str) -> str | None:
    """Why ``candidate`` (which exists) cannot be imported, or None when it can.

    Checked with ``lstat`` before anything opens the file: a FIFO blocks its reader
    forever and a link to ``/dev/zero`` never ends, so only a regular file inside the
    download folder is read. Symbolic links (torrents can contain them) are never
    followed: one leading out of the download could point anywhere, one inside it
    points at a file that is imported under its own name.
    """
    info = os.lstat(candidate)
    link = stat.S_ISLNK(info.st_mode)
    real = os.path.realpath(candidate)
    if not _inside(root_real, real):
        return f"a symbolic link leading outside the download folder ({real}); not followed"
    if link:
        # A link inside the torrent (BEP 47) points at one of its own files, which is
        # imported by itself; a copy under the link's name would be a duplicate (and
        # qBittorrent lists the link with size 0).
        return f"a symbolic link to {os.path.relpath(real, root_real)} in the download"
    try:
        info = os.stat(candidate)
    except OSError:
        return "a symbolic link to nothing (dangling)" if link else "unreadable"
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
        return ("a symbolic link to " if link else "") + f"{kind}, not a regular file"
    return None


def check_sources(
    plan: ImportPlan, source_root: Path
) -> tuple[ImportPlan, dict[PurePosixPath, Path]]:
    """Find every planned file, safely, before anything reads one (tags included).

    Returns the plan without the files that are there but must not be read (symbolic
    links leading out of the download, FIFOs, devices: each moved to ``skipped`` with
    the reason, so the import finishes with the rest) and where each kept file is.
    Raises SourceMissing listing every file that is not there at all.
    """
    found: dict[PurePosixPath, Path] = {}
    skipped: list[SkippedFile] = []
    missing: list[tuple[str, list[str], str]] = []
    try:
        root_real = os.path.realpath(source_root)
    except OSError:
        root_real = os.fspath(source_root)
    root_exists = source_root.is_dir()
    for item in plan.files:
        tried: list[str] = []
        note = ""
        problem: str | None = None
        variants = dict.fromkeys(
            [item.source, *(unicodedata.normalize(form, item.source) for form in ("NFC", "NFD"))]
        )
        for variant in variants:
            candidate = source_root / variant
            tried.append(os.fspath(candidate))
            lexical = os.path.normpath(os.path.join(root_real, variant))
            if not _inside(root_real, lexical):
                # `..` in the torrent's own path: libtorrent never writes there, so
                # whatever is there is not this download's file.
                note = f"{candidate} leads outside the download folder ({lexical}); refused"
                continue
            try:
                problem = _source_problem(candidate, root_real)
            except (OSError, ValueError):
                continue  # not there under this spelling
            if problem is None:
                found[item.target] = candidate
            break
        else:
            if not root_exists:
                note = f"the download folder {source_root} itself does not exist"
            elif (source_root / (item.source + ".!qB")).exists():
                note = "only qBittorrent's unfinished .!qB file is there"
            missing.append((item.source, tried, note))
            continue
        if problem is not None:
            skipped.append(SkippedFile(item.source, item.size, problem))
    if missing:
        raise SourceMissing(missing, source_root)
    if skipped:
        plan = ImportPlan(
            files=tuple(item for item in plan.files if item.target in found),
            skipped=tuple(sorted((*plan.skipped, *skipped), key=lambda s: s.source)),
        )
    return plan, found


def _folder_state(final: Path, plan: ImportPlan) -> Literal["absent", "empty", "same", "other"]:
    """Is the book folder free, already this book, or something else?"""
    if not final.exists():
        return "absent"
    if not final.is_dir():
        return "other"
    marker = _read_manifest(final / MANIFEST_NAME)
    if marker is not None and marker.get("complete"):
        # Earmark imported it: sizes may since have changed through tagging.
        if _fingerprint(marker["files"]) == _plan_fingerprint(plan) and all(
            (final / item.target).is_file() for item in plan.files
        ):
            return "same"
        return "other"
    same = True
    for item in plan.files:
        try:
            if (final / item.target).stat().st_size != item.size:
                same = False
                break
        except OSError:
            same = False
            break
    if same:
        return "same"
    if all(entry.name.startswith(".") and entry.is_file() for entry in final.iterdir()):
        return "empty"
    return "other"


def _already_imported(
    plan: ImportPlan, sources: dict[PurePosixPath, Path], final: Path, notes: list[str]
) -> ImportResult:
    """The result for a book that is already in place, saying which of its files are
    hardlinks to the seeding files: the caller must not tag those."""
    marker = _read_manifest(final / MANIFEST_NAME) or {"files": {}}
    files: list[ImportedFile] = []
    for item in plan.files:
        entry = marker["files"].get(item.target.as_posix())
        checksum = entry.get("checksum") if isinstance(entry, dict) else None
        try:
            linked = os.path.samestat(sources[item.target].stat(), (final / item.target).stat())
        except OSError:
            linked = False
        method: Literal["copy", "hardlink"] = "hardlink" if linked else "copy"
        files.append(ImportedFile(item.target, item.size, None if linked else checksum, method))
    if any(item.method == "hardlink" for item in files):
        notes.append(
            f"{final} holds hardlinks to the seeding files: tagging them would change the "
            "torrent's data."
        )
    return ImportResult("already_imported", final, files=tuple(files), notes=tuple(notes))


def _remove(path: Path) -> None:
    """Delete a leftover folder (or file: an upgrade may have replaced a stray file)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def _recover_backup(final: Path, backup: Path, notes: list[str]) -> None:
    """Finish what an upgrade killed half-way left behind (see :func:`_swap_into_place`)."""
    if not backup.exists():
        return
    if final.exists():
        _remove(backup)
        notes.append(f"Removed {backup}, left over from a completed upgrade.")
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(backup, final)
        notes.append(f"Put the previous copy back in {final} (an upgrade had been interrupted).")


def _reconcile_temp(
    temp: Path,
    plan: ImportPlan,
    sources: dict[PurePosixPath, Path],
    *,
    hardlink: bool,
) -> tuple[dict[str, Any], dict[PurePosixPath, ImportedFile]]:
    """Keep what an earlier attempt completed and still verifies; delete the rest.

    A hardlink from an earlier attempt is kept only if links are still wanted: if the
    user has turned tagging on since, tagging it would rewrite the seeding file.
    """
    manifest = _read_manifest(temp / MANIFEST_NAME) or {}
    entries: dict[str, Any] = manifest.get("files", {}) if manifest else {}
    kept: dict[str, Any] = {}
    reused: dict[PurePosixPath, ImportedFile] = {}
    for item in plan.files:
        key = item.target.as_posix()
        entry = entries.get(key)
        if not isinstance(entry, dict) or entry.get("size") != item.size:
            continue
        if entry.get("source") != item.source:
            continue
        copy = temp / item.target
        source = sources[item.target]
        try:
            source_stat = source.stat()
            copy_stat = copy.stat()
        except OSError:
            continue
        if (source_stat.st_size, source_stat.st_mtime_ns) != (
            entry.get("source_size"),
            entry.get("source_mtime_ns"),
        ) or copy_stat.st_size != item.size:
            continue
        if entry.get("method") == "hardlink" or os.path.samestat(source_stat, copy_stat):
            if not hardlink or not os.path.samestat(source_stat, copy_stat):
                continue
            reused[item.target] = ImportedFile(item.target, item.size, None, "reused")
        else:
            recorded = entry.get("checksum")
            if not isinstance(recorded, str) or ":" not in recorded:
                continue
            algorithm, _, digest = recorded.partition(":")
            try:
                if _hash_file(copy, algorithm) != digest:
                    continue
            except (OSError, ValueError):
                continue
            reused[item.target] = ImportedFile(item.target, item.size, recorded, "reused")
        kept[key] = entry
    # Everything else in the folder is a partial or stale file: remove it.
    keep_paths = {os.path.normcase(os.fspath(temp / target)) for target in reused}
    keep_paths.add(os.path.normcase(os.fspath(temp / MANIFEST_NAME)))
    for dirpath, dirnames, filenames in os.walk(temp, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.normcase(path) not in keep_paths:
                os.unlink(path)
        for name in dirnames:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(dirpath, name))  # only succeeds when empty
    return kept, reused


def _swap_into_place(temp: Path, final: Path, backup: Path | None) -> None:
    """Rename the verified temporary folder to the book folder.

    For an upgrade the old folder is first renamed to ``backup`` (hidden, same
    filesystem, so both renames are atomic); if the new folder cannot take its place
    the old one is renamed back. A process killed between the two renames leaves the
    backup, which the next attempt restores before doing anything else.
    """
    if backup is not None:
        os.replace(final, backup)
        try:
            os.replace(temp, final)
        except BaseException:
            os.replace(backup, final)
            raise
        _fsync_dir(final.parent)
        _remove(backup)
        return
    if final.exists():
        # _folder_state found it empty but for dot-files such as .DS_Store
        for entry in final.iterdir():
            if entry.name.startswith(".") and entry.is_file():
                entry.unlink()
        try:
            final.rmdir()
        except OSError as exc:
            raise DestinationConflict(
                f"{final} is no longer empty; it was filled while the book was copied.",
                paths=(final,),
            ) from exc
    os.replace(temp, final)
    _fsync_dir(final.parent)


# ---------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------


def _check_inside_library(library_root: Path, final: Path) -> None:
    """Refuse a book folder that resolves outside the library: an author or series folder
    in the library may be a symbolic link to anywhere (the final path is resolved)."""
    root_real = os.path.realpath(library_root)
    real = os.path.realpath(final)
    if not _inside(root_real, real) or real == root_real:
        raise ImportFailed(
            f"{final} leads outside the library folder ({real}): a folder on the way is a "
            "symbolic link; the book is not copied there.",
            paths=(final,),
        )


def import_book(
    plan: ImportPlan,
    source_root: Path,
    library_root: Path,
    book_folder: PurePosixPath,
    *,
    hardlink: bool = False,
    upgrade: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    space_margin: int | None = None,
) -> ImportResult:
    """Copy (or hardlink) ``plan``'s files from ``source_root`` to
    ``library_root / book_folder``, verified, atomically, resumably.

    ``source_root`` is the torrent's save path as Earmark sees it (after the remote path
    mapping); ``plan.files[*].source`` are relative to it. ``book_folder`` usually comes
    from :func:`gui.core.layout.book_folder`.

    * ``hardlink``: link instead of copying; only when the copy will not be tagged
      (tagging a hardlink rewrites the seeding file). Falls back to a copy per file
      where linking is impossible, with a note in the result.
    * ``upgrade``: replace a different book already in ``book_folder`` (a better
      release); without it that case raises :class:`DestinationConflict`.
    * ``progress(done_bytes, total_bytes)`` is called from this thread after every
      chunk; ``cancel`` is checked between chunks.
    * ``space_margin``: bytes that must stay free beyond the book (default: 1 % of the
      book, at least 32 MiB) so the import cannot fill the library's disk to the brim
      and the tagger still has room to rewrite a file.

    Raises an :class:`ImportFailed` subclass; see each for what is left behind.
    """
    _validate_relative(book_folder, "the book folder")
    seen: set[str] = set()
    for item in plan.files:
        _validate_relative(item.target, "a planned file")
        key = unicodedata.normalize("NFC", item.target.as_posix()).casefold()
        if key in seen:
            raise ValueError(f"the plan has {item.target} twice (names differ only in case?)")
        seen.add(key)
    library_root = Path(library_root)
    if not library_root.is_dir():
        raise ImportFailed(
            f"The library folder {library_root} does not exist (is the share mounted?).",
            paths=(library_root,),
        )
    planned_skips = set(plan.skipped)
    plan, sources = check_sources(plan, Path(source_root))
    if not plan.has_audio:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in plan.skipped[:10])
        raise NothingToImport(
            "The download has no audio file to import" + (f" ({reasons})." if reasons else "."),
            paths=(source_root,),
        )
    final = library_root.joinpath(*book_folder.parts)
    _check_inside_library(library_root, final)
    temp = temp_folder(library_root, book_folder)
    backup_path = _backup_folder(library_root, book_folder)
    notes = [
        f"{item.source} skipped: {item.reason}"
        for item in plan.skipped
        if item not in planned_skips
    ]

    with _BookLock(library_root / f"{temp.name}.lock"):
        try:
            _recover_backup(final, backup_path, notes)
        except OSError as exc:
            raise _os_error(exc, final, library_root=library_root, needed=0) from exc
        state = _folder_state(final, plan)
        if state == "same":
            if temp.exists():
                shutil.rmtree(temp, ignore_errors=True)
            return _already_imported(plan, sources, final, notes)
        if state == "other" and not upgrade:
            if temp.exists():
                shutil.rmtree(temp, ignore_errors=True)
            raise DestinationConflict(
                f"{final} already holds a different copy of this book; import it as an "
                "upgrade to replace it.",
                paths=(final,),
            )
        return _run_import(
            plan,
            sources,
            library_root,
            final,
            temp,
            backup_path if state == "other" else None,
            notes,
            hardlink=hardlink,
            progress=progress,
            cancel=cancel,
            space_margin=space_margin,
        )


def _run_import(
    plan: ImportPlan,
    sources: dict[PurePosixPath, Path],
    library_root: Path,
    final: Path,
    temp: Path,
    backup: Path | None,
    notes: list[str],
    *,
    hardlink: bool,
    progress: Progress | None,
    cancel: threading.Event | None,
    space_margin: int | None,
) -> ImportResult:
    kept: dict[str, Any] = {}
    reused: dict[PurePosixPath, ImportedFile] = {}
    if temp.exists():
        try:
            kept, reused = _reconcile_temp(temp, plan, sources, hardlink=hardlink)
        except OSError as exc:
            raise _os_error(exc, temp, library_root=library_root, needed=0) from exc
    if reused:
        notes.append(
            f"Resumed: {len(reused)} file(s) from an interrupted attempt verified and kept."
        )

    library_device = os.stat(library_root).st_dev
    remaining = 0
    for item in plan.files:
        if item.target in reused:
            continue
        if hardlink and sources[item.target].stat().st_dev == library_device:
            continue  # a link takes no room
        remaining += item.size
    margin = space_margin if space_margin is not None else max(32 << 20, plan.total_size // 100)
    free = shutil.disk_usage(library_root).free
    if remaining and free < remaining + margin:
        raise NotEnoughSpace(remaining + margin, free, library_root)
    try:
        temp.mkdir(exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, library_root, library_root=library_root, needed=0) from exc

    manifest: dict[str, Any] = {
        "version": _MANIFEST_VERSION,
        "book_folder": final.relative_to(library_root).as_posix(),
        "complete": False,
        "files": kept,
    }
    ctx = _Context(
        library_root=library_root,
        total=plan.total_size,
        done=sum(item.size for item in plan.files if item.target in reused),
        remaining=remaining,
        progress=progress,
        cancel=cancel,
        algorithm=CHECKSUM_ALGORITHM,
    )
    if progress is not None:
        progress(ctx.done, ctx.total)

    results: dict[PurePosixPath, ImportedFile] = dict(reused)
    link_notes: set[str] = set()
    directories = {temp}
    workers = _Workers()
    # Copies whose verification is still running, oldest first: (file, manifest entry, future).
    verifying: deque[tuple[PlannedFile, dict[str, Any], Future[str]]] = deque()

    def record(item: PlannedFile, entry: dict[str, Any], done: ImportedFile) -> None:
        results[item.target] = done
        manifest["files"][item.target.as_posix()] = entry
        _write_manifest(temp / MANIFEST_NAME, manifest)

    def collect(*, wait: bool) -> None:
        """Record verified copies in the manifest, in order; raise the first failure."""
        while verifying and (wait or verifying[0][2].done()):
            item, entry, future = verifying.popleft()
            checksum = future.result()
            entry.update(method="copy", checksum=checksum)
            record(item, entry, ImportedFile(item.target, item.size, checksum, "copy"))

    ctx.poll = lambda: collect(wait=False)  # the manifest keeps up during long files
    try:
        for item in plan.files:
            if item.target in reused:
                continue
            collect(wait=False)
            ctx.check_cancel(temp)
            source = sources[item.target]
            target = temp.joinpath(*item.target.parts)
            for parent in reversed(target.relative_to(temp).parents):
                folder = temp / parent
                if folder not in directories:
                    try:
                        folder.mkdir(exist_ok=True)
                    except OSError as exc:
                        raise _os_error(
                            exc, folder, library_root=library_root, needed=ctx.remaining
                        ) from exc
                    directories.add(folder)
            source_stat = source.stat()
            entry: dict[str, Any] = {
                "size": item.size,
                "source": item.source,
                "source_size": source_stat.st_size,
                "source_mtime_ns": source_stat.st_mtime_ns,
            }
            why_not = _link_file(source, target, ctx) if hardlink else "not asked"
            if why_not is None:
                linked = os.stat(target)
                if not os.path.samestat(linked, os.stat(source)) or linked.st_size != item.size:
                    raise VerificationFailed(
                        f"The hardlink {target} does not point at {source}.",
                        paths=(source, target),
                    )
                entry.update(method="hardlink", checksum=None)
                ctx.advance(item.size)
                collect(wait=True)  # keep the manifest in plan order
                record(item, entry, ImportedFile(item.target, item.size, None, "hardlink"))
            else:
                if hardlink:
                    link_notes.add(f"Copied instead of hardlinking into {library_root}: {why_not}.")
                verifying.append((item, entry, _copy_file(source, target, item.size, workers, ctx)))
        collect(wait=True)
        for path, flush in workers.flushes:
            try:
                flush.result()
            except OSError as exc:
                raise _os_error(exc, path, library_root=library_root, needed=0) from exc
    except BaseException as failure:
        # Whatever did verify is recorded, so the next attempt keeps it.
        while verifying:
            with contextlib.suppress(BaseException):
                collect(wait=True)
        if isinstance(failure, OSError):
            raise _os_error(
                failure, temp, library_root=library_root, needed=ctx.remaining
            ) from failure
        raise
    finally:
        workers.shutdown()
        for _, flush in workers.flushes:
            with contextlib.suppress(BaseException):
                flush.result()  # descriptors closed even when we bail out
    bytes_copied = sum(item.size for item in results.values() if item.method == "copy")
    notes.extend(sorted(link_notes))

    try:
        for folder in sorted(directories, key=lambda p: len(p.parts), reverse=True):
            _fsync_dir(folder)
        manifest["complete"] = True
        _write_manifest(temp / MANIFEST_NAME, manifest, durable=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        _swap_into_place(temp, final, backup)
    except OSError as exc:
        raise _os_error(exc, final, library_root=library_root, needed=0) from exc
    return ImportResult(
        "upgraded" if backup is not None else "imported",
        final,
        files=tuple(results[item.target] for item in plan.files),
        bytes_copied=bytes_copied,
        notes=tuple(notes),
    )
