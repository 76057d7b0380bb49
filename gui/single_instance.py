"""One Earmark per user and profile: a second launch hands its arguments to the first and exits.

Clicking a magnet link in a browser starts a new process; without this, every click would open
another window talking to the same database. The pattern is qBittorrent's (``localpeer.cpp``):

* A ``QLockFile`` in the user's runtime folder decides who is primary. Qt removes a lock left by
  a dead process; ``setStaleLockTime(0)`` stops it from also treating a *live* primary's lock
  as stale merely because it is old (the default is 30 s).
* The primary listens on a ``QLocalServer`` with ``UserAccessOption`` (socket mode 0700 on
  Unix, a per-user ACL on the Windows pipe). On Unix the socket sits in the same per-user
  runtime folder, so another user can neither connect nor squat the name first. The name holds
  the user name and a hash of the profile folder, so two profiles are two instances.
* A message is a 4-byte big-endian length and that many bytes of UTF-8 JSON: a list of
  strings. The primary answers with a framed ``ok`` (the ACK); a secondary that gets it knows
  its arguments arrived and may exit.

Everything that arrives over the socket is untrusted input, even from the same user: the
primary only checks the framing and that it got a list of strings, then emits those strings.
Callers must validate them exactly like a drop on the window (``gui.core.torrents``), which is
the only place that decides what a magnet or a .torrent path is. Malformed, oversized or stuck
messages are dropped with a log line; the primary never blocks on a peer (it reads on
``readyRead``). The secondary has no window yet, so it uses Qt's blocking ``waitFor*`` calls.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import re
import struct
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, QStandardPaths, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

__all__ = [
    "ACK",
    "MAX_MESSAGE_BYTES",
    "MessageError",
    "SingleInstance",
    "decode_message",
    "encode_message",
    "hand_off_arguments",
]

log = logging.getLogger(__name__)

#: Larger messages are refused before they are buffered: a few magnets are kilobytes.
MAX_MESSAGE_BYTES = 1024 * 1024
#: The primary's answer once it has taken the arguments.
ACK = b"ok"
#: A peer that has not sent a whole message by then is cut off, so none can pile up.
CONNECTION_TIMEOUT_MS = 5000
#: More simultaneous peers than this are refused at once (a launch storm or a misbehaving one).
MAX_CONNECTIONS = 32
#: The secondary tries this often while a primary that holds the lock may still be starting.
CONNECT_ATTEMPTS = 3
RETRY_DELAY_S = 0.2

_HEADER = struct.Struct(">I")
# magnet:, http://, file:// ... but not a Windows drive letter (C:\x), hence two characters.
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
# sockaddr_un.sun_path is 108 bytes on Linux and 104 on macOS, the terminating NUL included.
_MAX_SOCKET_PATH = 100


class MessageError(ValueError):
    """A message that is not a length-prefixed UTF-8 JSON list of strings."""


def encode_message(args: Sequence[str]) -> bytes:
    """Frame ``args`` for the primary.

    ``ensure_ascii`` keeps it valid UTF-8 even for file names Python holds as lone surrogates
    (undecodable bytes in ``sys.argv`` on Linux); the primary gets back the very same string.
    """
    if not all(isinstance(arg, str) for arg in args):
        raise MessageError("arguments must be strings")
    payload = json.dumps(list(args), ensure_ascii=True).encode("utf-8")
    if len(payload) > MAX_MESSAGE_BYTES:
        raise MessageError(f"message of {len(payload)} bytes exceeds {MAX_MESSAGE_BYTES}")
    return _HEADER.pack(len(payload)) + payload


def decode_message(payload: bytes) -> list[str]:
    """The arguments in a message body (without its length prefix), or MessageError."""
    try:
        text = payload.decode("utf-8")
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: "[[[[..." nested deeper than the parser's stack, well within 1 MiB.
        raise MessageError(f"not UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MessageError("not a JSON list of strings")
    return value


def hand_off_arguments(args: Sequence[str], cwd: Path | None = None) -> list[str]:
    """``args`` as the primary must see them: relative paths of existing files made absolute.

    The primary runs in another working folder, so ``earmark book.torrent`` would otherwise
    name a file it cannot find. URLs and anything that is not an existing file pass unchanged.
    """
    base = Path.cwd() if cwd is None else cwd
    out: list[str] = []
    for arg in args:
        if arg and not _URL_SCHEME.match(arg):
            candidate = base / arg  # an absolute `arg` replaces `base`
            try:
                exists = candidate.is_file()
            except (OSError, ValueError):  # a name too long, a NUL byte: not a file, pass it on
                exists = False
            if exists:
                out.append(os.path.abspath(candidate))
                continue
        out.append(arg)
    return out


def _user_name() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no login name and no passwd entry (some containers)
        name = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:32] or "user"


def _profile_key() -> str:
    from gui.settings import config_dir

    return os.path.normcase(os.path.abspath(config_dir()))


def _runtime_dir() -> Path:
    """A folder only this user can write to, for the lock file and (on Unix) the socket.

    Linux: ``$XDG_RUNTIME_DIR`` (Qt falls back to a private ``/tmp/runtime-<user>``).
    Elsewhere Qt's runtime location is the home or Application Support folder, so the per-user
    temporary folder is used instead (``%TEMP%``, macOS ``$TMPDIR``).
    """
    location = (
        QStandardPaths.StandardLocation.RuntimeLocation
        if sys.platform.startswith("linux")
        else QStandardPaths.StandardLocation.TempLocation
    )
    path = QStandardPaths.writableLocation(location) or QDir.tempPath()
    QDir().mkpath(path)
    return Path(path)


def _allow_primary_to_take_focus() -> None:
    """Let the primary raise its window: Windows only lets the foreground process do that."""
    if sys.platform == "win32":
        import ctypes

        asfw_any = -1
        with contextlib.suppress(AttributeError, OSError):
            ctypes.windll.user32.AllowSetForegroundWindow(asfw_any)


class _SlicedWait:
    """Qt's blocking ``waitFor*`` in short slices up to one deadline.

    PySide6 holds the GIL inside ``QLocalSocket.waitFor*`` (measured with 6.12), so one long
    wait would freeze every other Python thread of the process; slices let them run.
    """

    SLICE_MS = 20

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def remaining_ms(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))

    def wait(self, socket: QLocalSocket, wait_for: Callable[[int], bool]) -> bool:
        while True:
            left = self.remaining_ms()
            if wait_for(min(self.SLICE_MS, left)):
                return True
            if left == 0 or socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
                return False


class _Peer:
    """One connection to the primary: what it has sent so far, and its deadline."""

    def __init__(self, socket: QLocalSocket) -> None:
        self.buffer = bytearray()
        self.answered = False
        self.timer = QTimer(socket)
        self.timer.setSingleShot(True)


class SingleInstance(QObject):
    """Decides whether this process is the primary Earmark and carries arguments to it.

    ``key`` scopes the instance; by default it is the profile folder (``config_dir()``), so
    ``EARMARK_CONFIG_DIR=/other`` runs a second, independent Earmark. ``arguments_received``
    carries a ``list[str]`` of untrusted strings (see the module docstring); an empty list means
    "someone launched Earmark again": raise the window.
    """

    arguments_received = Signal(list)

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        scope = _profile_key() if key is None else key
        digest = hashlib.sha256(scope.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        base = f"earmark-{_user_name()}-{digest}"
        folder = _runtime_dir()
        self.lock_path = folder / f"{base}.lock"
        socket_path = folder / f"{base}.sock"
        use_path = sys.platform != "win32" and len(os.fsencode(socket_path)) < _MAX_SOCKET_PATH
        # Windows: a named pipe \\.\pipe\<name>; Unix fallback: Qt puts a bare name in /tmp.
        self.server_name = str(socket_path) if use_path else base
        self._lock: QLockFile | None = None
        self._server: QLocalServer | None = None
        self._primary: bool | None = None
        self._peers: dict[QLocalSocket, _Peer] = {}

    # -- primary -------------------------------------------------------------------------------

    def is_primary(self) -> bool:
        """Take the lock and start listening; False when another live process holds the lock.

        Asked once, the answer is kept. When the lock file cannot be created at all (a
        read-only or full disk), Earmark still starts, without single-instance protection,
        rather than refuse to run.
        """
        if self._primary is not None:
            return self._primary
        lock = QLockFile(str(self.lock_path))
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):  # a lock left by a dead process is removed inside tryLock
            if lock.error() == QLockFile.LockError.LockFailedError:
                self._primary = False
                return False
            # Without the lock, listening could take over a live primary's socket (see
            # _listen), so this process runs alone and later launches cannot hand over.
            log.warning(
                "cannot create the single-instance lock %s (%s); running without it",
                self.lock_path,
                lock.error().name,
            )
            self._primary = True
            return True
        self._lock = lock
        self._primary = True
        self._listen()
        return True

    def _listen(self) -> None:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.setMaxPendingConnections(MAX_CONNECTIONS)
        server.newConnection.connect(self._accept)
        ok = server.listen(self.server_name)
        if not ok and server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
            # A socket (file) left by a crashed primary; ours to clear since we hold the lock.
            # (On Unix, Qt 6 with socket options binds elsewhere and rename()s over the path,
            # replacing even a *live* server's socket: only the lock may decide who listens.)
            QLocalServer.removeServer(self.server_name)
            ok = server.listen(self.server_name)
        if not ok:
            log.warning(
                "single instance: cannot listen on %s (%s); later launches cannot hand over",
                self.server_name,
                server.errorString(),
            )
            server.deleteLater()
            return
        self._server = server
        log.debug("single instance: primary, listening on %s", server.fullServerName())

    def full_server_name(self) -> str:
        """Where the primary listens (the socket file on Unix); empty when it does not."""
        return self._server.fullServerName() if self._server is not None else ""

    def _accept(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            if socket is None:
                break
            if len(self._peers) >= MAX_CONNECTIONS:
                log.warning("single instance: too many connections; dropping one")
                socket.abort()
                socket.deleteLater()
                continue
            peer = _Peer(socket)
            self._peers[socket] = peer
            peer.timer.timeout.connect(partial(self._drop, socket, "no complete message in time"))
            peer.timer.start(CONNECTION_TIMEOUT_MS)
            socket.readyRead.connect(partial(self._read, socket))
            socket.disconnected.connect(partial(self._forget, socket))
            if socket.bytesAvailable() > 0:  # data that came with the connection
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = socket.readAll().data()
        peer = self._peers.get(socket)
        if peer is None or peer.answered:  # trailing bytes after the message: ignored
            return
        peer.buffer += data
        if len(peer.buffer) < _HEADER.size:
            return
        (length,) = _HEADER.unpack_from(peer.buffer)
        if length > MAX_MESSAGE_BYTES:
            self._drop(socket, f"it announced {length} bytes, more than {MAX_MESSAGE_BYTES}")
            return
        if len(peer.buffer) < _HEADER.size + length:
            return
        payload = bytes(peer.buffer[_HEADER.size : _HEADER.size + length])
        try:
            args = decode_message(payload)
        except MessageError as exc:
            self._drop(socket, str(exc))
            return
        peer.answered = True
        peer.buffer.clear()
        peer.timer.stop()
        socket.write(_HEADER.pack(len(ACK)) + ACK)
        socket.disconnectFromServer()  # once the ACK is written; deleted on `disconnected`
        log.info("single instance: received %d argument(s) from another launch", len(args))
        self.arguments_received.emit(args)

    def _drop(self, socket: QLocalSocket, reason: str) -> None:
        if socket not in self._peers:
            return
        log.warning("single instance: dropped a message from another launch: %s", reason)
        self._forget(socket)
        socket.abort()

    def _forget(self, socket: QLocalSocket) -> None:
        peer = self._peers.pop(socket, None)
        if peer is not None:
            peer.timer.stop()
            socket.deleteLater()

    # -- secondary ----------------------------------------------------------------------------

    def send_to_primary(self, args: list[str], timeout_ms: int = 3000) -> bool:
        """Hand ``args`` to the primary and wait for its ACK; False when it did not confirm.

        Blocks for at most ``timeout_ms`` (the secondary has no window to keep alive). Call it
        only when ``is_primary()`` said False; a primary would wait on itself.
        """
        if self._primary:
            raise RuntimeError("this process is the primary instance")
        try:
            frame = encode_message(args)
        except MessageError as exc:
            log.error("single instance: cannot hand over the arguments: %s", exc)
            return False
        waiter = _SlicedWait(time.monotonic() + timeout_ms / 1000)
        socket = QLocalSocket()
        try:
            for attempt in range(1, CONNECT_ATTEMPTS + 1):
                socket.connectToServer(self.server_name)
                if waiter.wait(socket, socket.waitForConnected):
                    break
                log.debug(
                    "single instance: connect attempt %d failed: %s", attempt, socket.errorString()
                )
                socket.abort()
                if attempt == CONNECT_ATTEMPTS or waiter.remaining_ms() == 0:
                    log.error(
                        "single instance: no running Earmark answered at %s", self.server_name
                    )
                    return False
                # The lock holder may be between taking the lock and listening.
                time.sleep(min(RETRY_DELAY_S, waiter.remaining_ms() / 1000))
            _allow_primary_to_take_focus()
            socket.write(frame)
            while socket.bytesToWrite() > 0:
                if not waiter.wait(socket, socket.waitForBytesWritten):
                    log.error("single instance: sending failed: %s", socket.errorString())
                    return False
            expected = _HEADER.pack(len(ACK)) + ACK
            answer = bytearray()
            while len(answer) < len(expected):
                if socket.bytesAvailable() == 0 and not waiter.wait(
                    socket, socket.waitForReadyRead
                ):
                    break
                answer += socket.readAll().data()
            if bytes(answer[: len(expected)]) != expected:
                log.error("single instance: the running Earmark did not confirm the hand-over")
                return False
            return True
        finally:
            socket.abort()

    # -- both -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening and release the lock, so the next launch becomes primary."""
        for socket in list(self._peers):
            self._forget(socket)
            socket.abort()
        if self._server is not None:
            self._server.close()  # also removes the socket file on Unix
            self._server.deleteLater()
            self._server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        self._primary = None
