"""Single instance: a second launch hands its arguments to the first, over a user-only socket.

Every test uses its own key, so nothing here meets a real Earmark of the same user. A second
process is a real Python process; a second instance inside this process sends from a thread,
because the secondary's blocking waits would otherwise stall the primary's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtNetwork import QLocalSocket

from gui import single_instance as si
from gui.single_instance import (
    ACK,
    MAX_MESSAGE_BYTES,
    MessageError,
    SingleInstance,
    decode_message,
    encode_message,
    hand_off_arguments,
)
from tests.gui.conftest import run_until

REPO = Path(__file__).resolve().parents[2]

MAGNET = (
    "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
    "&dn=H%C3%B6rbuch%20Zauberberg&dn.1=Hörbuch – Der Zauberberg (Thomas Mann)"
    "&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&x.pe=127.0.0.1:6881"
)
TORRENT_PATH = '/tmp/Bücher & Hörspiele/Der "Zauberberg" $HOME `x`.torrent'

SECONDARY = """
import sys
from PySide6.QtCore import QCoreApplication
from gui.single_instance import SingleInstance
app = QCoreApplication(sys.argv[:1])
instance = SingleInstance(sys.argv[1])
if instance.is_primary():
    sys.exit(3)
sys.exit(0 if instance.send_to_primary(sys.argv[2:], timeout_ms=15000) else 1)
"""

# Becomes primary, says where it listens, then dies without any clean-up (like a crash).
CRASHING_PRIMARY = """
import os, sys
from PySide6.QtCore import QCoreApplication
from gui.single_instance import SingleInstance
app = QCoreApplication(sys.argv[:1])
instance = SingleInstance(sys.argv[1])
print(instance.is_primary(), instance.full_server_name(), flush=True)
os._exit(0)
"""


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUTF8="1", QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def key() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def make_instance() -> Iterator[Callable[[str | None], SingleInstance]]:
    """SingleInstance objects that are all closed at teardown (lock released, socket gone)."""
    made: list[SingleInstance] = []

    def make(key: str | None) -> SingleInstance:
        instance = SingleInstance(key)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


class Received:
    """Collects what a primary emits."""

    def __init__(self, instance: SingleInstance) -> None:
        self.calls: list[list[str]] = []
        instance.arguments_received.connect(self.calls.append)


def _send_from_thread(instance: SingleInstance, args: list[str]) -> list[bool]:
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(instance.send_to_primary(args, timeout_ms=10000)),
        daemon=True,
    )
    thread.start()
    return result


def _raw_exchange(
    qloop: asyncio.AbstractEventLoop, server_name: str, data: bytes
) -> tuple[bytes, QLocalSocket]:
    """Write raw bytes to the primary and wait until it hangs up; what it answered."""
    socket = QLocalSocket()
    socket.connectToServer(server_name)
    run_until(
        qloop, lambda: socket.state() == QLocalSocket.LocalSocketState.ConnectedState, 10, "connect"
    )
    answer = bytearray()
    socket.readyRead.connect(lambda: answer.extend(socket.readAll().data()))
    socket.write(data)
    run_until(
        qloop,
        lambda: socket.state() == QLocalSocket.LocalSocketState.UnconnectedState,
        10,
        "the primary to hang up",
    )
    answer += socket.readAll().data()
    return bytes(answer), socket


def test_second_instance_in_process_hands_over_exact_arguments(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
) -> None:
    primary, second = make_instance(key), make_instance(key)
    assert primary.is_primary()
    assert not second.is_primary()
    received = Received(primary)
    result = _send_from_thread(second, [MAGNET, TORRENT_PATH])
    run_until(qloop, lambda: result and received.calls, 15, "the hand-over")
    assert result == [True]
    assert received.calls == [[MAGNET, TORRENT_PATH]]


def test_second_process_hands_over_and_exits_zero(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
) -> None:
    primary = make_instance(key)
    assert primary.is_primary()
    received = Received(primary)
    process = _python(SECONDARY, key, MAGNET, TORRENT_PATH)
    try:
        run_until(qloop, lambda: process.poll() is not None, 60, "the second process to exit")
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert received.calls == [[MAGNET, TORRENT_PATH]]


def test_empty_argument_list_is_delivered_as_activation(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
) -> None:
    primary, second = make_instance(key), make_instance(key)
    assert primary.is_primary() and not second.is_primary()
    received = Received(primary)
    result = _send_from_thread(second, [])
    run_until(qloop, lambda: result and received.calls, 15, "the hand-over")
    assert (result, received.calls) == ([True], [[]])


def test_different_keys_are_separate_primaries(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    first, other = make_instance(key), make_instance(key + "-other")
    assert first.is_primary()
    assert other.is_primary()
    assert first.server_name != other.server_name
    assert first.lock_path != other.lock_path


def test_profile_folder_is_the_default_key(
    make_instance: Callable[[str | None], SingleInstance],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile-a"))
    a, a_again = make_instance(None), make_instance(None)
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile-b"))
    b = make_instance(None)
    assert a.is_primary()
    assert not a_again.is_primary()
    assert b.is_primary()


def test_name_holds_the_user_name(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    instance = make_instance(key)
    assert f"earmark-{si._user_name()}-" in instance.server_name


def test_lock_left_by_a_dead_process_does_not_block_a_new_primary(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
) -> None:
    crashed = _python(CRASHING_PRIMARY, key)
    out, err = crashed.communicate(timeout=60)
    was_primary, socket_file = out.split()
    assert was_primary == "True", err
    probe = make_instance(key)
    # The dead process left its lock file behind, and on POSIX its socket file too (a Windows
    # named pipe vanishes with its process).
    assert probe.lock_path.exists()
    if sys.platform != "win32":
        assert Path(socket_file).exists()

    assert probe.is_primary()
    received = Received(probe)
    sender = make_instance(key)
    assert not sender.is_primary()
    result = _send_from_thread(sender, [MAGNET])
    run_until(qloop, lambda: result and received.calls, 15, "the hand-over")
    assert received.calls == [[MAGNET]]


def test_old_lock_of_a_live_primary_is_not_taken_as_stale(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    primary = make_instance(key)
    assert primary.is_primary()
    an_hour_ago = time.time() - 3600
    os.utime(primary.lock_path, (an_hour_ago, an_hour_ago))
    assert not make_instance(key).is_primary()


def test_close_lets_the_next_launch_become_primary(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    first = make_instance(key)
    assert first.is_primary()
    socket_file = first.full_server_name()
    first.close()
    assert not first.lock_path.exists()
    if sys.platform != "win32":
        assert not Path(socket_file).exists()
    assert make_instance(key).is_primary()


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket file permissions")
def test_socket_and_its_folder_are_user_only(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    primary = make_instance(key)
    assert primary.is_primary()
    socket_file = Path(primary.full_server_name())
    mode = os.stat(socket_file).st_mode
    assert stat.S_ISSOCK(mode)
    assert mode & 0o077 == 0, oct(mode)
    assert os.stat(socket_file.parent).st_mode & 0o077 == 0
    assert socket_file.parent == primary.lock_path.parent


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


MALFORMED = {
    "not JSON": _frame(b"hello"),
    "not UTF-8": _frame(b'["\xff\xfe"]'),
    "JSON object": _frame(b'{"args": ["magnet:?xt=x"]}'),
    "list of numbers": _frame(b"[1, 2]"),
    "nested lists": _frame(b'[["magnet:?xt=x"]]'),
    "deep nesting": _frame(b"[" * 200_000 + b"]" * 200_000),
    "oversized announcement": (MAX_MESSAGE_BYTES + 1).to_bytes(4, "big") + b"[",
    "4 GiB announcement": b"\xff\xff\xff\xff",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_message_is_dropped_and_primary_keeps_working(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
    data: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary = make_instance(key)
    assert primary.is_primary()
    received = Received(primary)
    with caplog.at_level(logging.WARNING, logger="gui.single_instance"):
        answer, _ = _raw_exchange(qloop, primary.server_name, data)
    assert answer == b""  # no ACK
    assert received.calls == []
    assert "dropped a message" in caplog.text

    sender = make_instance(key)
    assert not sender.is_primary()
    result = _send_from_thread(sender, [MAGNET])
    run_until(qloop, lambda: result and received.calls, 15, "the hand-over")
    assert received.calls == [[MAGNET]]


def test_well_formed_raw_message_gets_the_ack(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
) -> None:
    """The wire format is what the docstring says, independent of send_to_primary."""
    primary = make_instance(key)
    assert primary.is_primary()
    received = Received(primary)
    payload = json.dumps([MAGNET, TORRENT_PATH], ensure_ascii=False).encode()
    answer, _ = _raw_exchange(qloop, primary.server_name, _frame(payload))
    assert answer == _frame(ACK)
    assert received.calls == [[MAGNET, TORRENT_PATH]]


def test_stuck_peer_is_cut_off_without_blocking_others(
    qloop: asyncio.AbstractEventLoop,
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(si, "CONNECTION_TIMEOUT_MS", 1500)
    primary = make_instance(key)
    assert primary.is_primary()
    received = Received(primary)
    stuck = QLocalSocket()
    stuck.connectToServer(primary.server_name)
    stuck.write(b"\x00\x00\x01")  # not even a whole header, and then nothing
    run_until(
        qloop, lambda: stuck.state() == QLocalSocket.LocalSocketState.ConnectedState, 10, "connect"
    )

    # While that peer hangs, another launch is served at once.
    sender = make_instance(key)
    assert not sender.is_primary()
    result = _send_from_thread(sender, [MAGNET])
    run_until(qloop, lambda: result and received.calls, 15, "the hand-over")
    assert stuck.state() == QLocalSocket.LocalSocketState.ConnectedState

    with caplog.at_level(logging.WARNING, logger="gui.single_instance"):
        run_until(
            qloop,
            lambda: stuck.state() == QLocalSocket.LocalSocketState.UnconnectedState,
            10,
            "the stuck peer to be cut off",
        )
    assert "no complete message in time" in caplog.text
    assert received.calls == [[MAGNET]]


@pytest.mark.parametrize("budget_ms", [1000, 300])
def test_without_a_primary_send_fails_within_its_timeout(
    make_instance: Callable[[str | None], SingleInstance],
    key: str,
    budget_ms: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No answer: a few connect attempts, and the pauses between them (on a clock the
    test drives) never add up to more than the caller's budget."""
    sender = make_instance(key)
    now, slept = [1000.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    clock = SimpleNamespace(monotonic=lambda: now[0], sleep=sleep)
    monkeypatch.setattr(si, "time", clock)
    with caplog.at_level(logging.DEBUG, logger="gui.single_instance"):
        assert sender.send_to_primary([MAGNET], timeout_ms=budget_ms) is False
    attempts = [r for r in caplog.records if "connect attempt" in r.getMessage()]
    assert 1 <= len(attempts) <= si.CONNECT_ATTEMPTS
    assert len(slept) == len(attempts) - 1  # a pause between attempts, none after the last
    assert sum(slept) <= budget_ms / 1000
    assert "no running Earmark answered" in caplog.text


def test_primary_refuses_to_send_to_itself(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    primary = make_instance(key)
    assert primary.is_primary()
    with pytest.raises(RuntimeError):
        primary.send_to_primary([MAGNET])


def test_oversized_arguments_are_not_sent(
    make_instance: Callable[[str | None], SingleInstance], key: str
) -> None:
    assert make_instance(key).send_to_primary(["x" * (MAX_MESSAGE_BYTES + 1)]) is False


# -- the message format and the argument preparation, without sockets -------------------------


def test_message_round_trip_keeps_undecodable_file_names() -> None:
    # What os.fsdecode makes of Latin-1 bytes on POSIX (and what an unpaired UTF-16 half in a
    # Windows file name becomes): a lone surrogate. Written out, as Windows' fsdecode is strict.
    undecodable = "/tmp/caf\udce9.torrent"
    frame = encode_message([MAGNET, undecodable, ""])
    frame[4:].decode("utf-8")  # the body is valid UTF-8
    assert decode_message(frame[4:]) == [MAGNET, undecodable, ""]
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4


@pytest.mark.parametrize("payload", [b"", b"null", b'"magnet:?"', b"[null]", b"\xc3("])
def test_decode_rejects_anything_but_a_list_of_strings(payload: bytes) -> None:
    with pytest.raises(MessageError):
        decode_message(payload)


def test_hand_off_arguments_makes_existing_relative_paths_absolute(tmp_path: Path) -> None:
    torrent = tmp_path / "Der Zauberberg & mehr.torrent"
    torrent.write_bytes(b"d4:infod4:name1:aee")
    args = [
        "Der Zauberberg & mehr.torrent",
        str(torrent),
        MAGNET,
        "https://example.invalid/a.torrent",
        "missing.torrent",
        "x" * 5000,
        "",
    ]
    assert hand_off_arguments(args, cwd=tmp_path) == [
        str(torrent),
        str(torrent),
        MAGNET,
        "https://example.invalid/a.torrent",
        "missing.torrent",
        "x" * 5000,
        "",
    ]
