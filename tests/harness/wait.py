"""Deadline-based waiting and loopback port allocation.

Tests never sleep to synchronise: they poll a condition until a deadline and fail
with a message naming what they waited for.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


class GiveUp(Exception):
    """Raised by a predicate when waiting longer is pointless (e.g. the process died).

    Propagates out of ``wait_until`` at once instead of being retried.
    """


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float = 10.0,
    interval: float = 0.05,
    *,
    what: str | None = None,
) -> T:
    """Poll ``predicate`` until it returns a truthy value, and return that value.

    Exceptions raised by the predicate count as "not yet" (services that are still
    starting refuse connections); the last one is chained to the TimeoutError so a
    failure shows why the condition never held. ``GiveUp`` ends the wait at once.
    """
    description = what or getattr(predicate, "__name__", repr(predicate))
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    last_value: object = None
    while True:
        try:
            value = predicate()
        except GiveUp:
            raise
        except Exception as exc:  # still starting up: retry until the deadline
            last_error = exc
        else:
            if value:
                return value
            last_value = value
        if time.monotonic() >= deadline:
            detail = f"; last error: {last_error!r}" if last_error else ""
            raise TimeoutError(
                f"timed out after {timeout:.1f}s waiting for {description} "
                f"(last value: {last_value!r}{detail})"
            ) from last_error
        time.sleep(interval)  # poll interval, not synchronisation


@overload
async def async_wait_until(
    predicate: Callable[[], Awaitable[T | None]],
    timeout: float = ...,  # noqa: ASYNC109
    interval: float = ...,
    *,
    what: str | None = ...,
) -> T: ...


@overload
async def async_wait_until(
    predicate: Callable[[], T | None],
    timeout: float = ...,  # noqa: ASYNC109
    interval: float = ...,
    *,
    what: str | None = ...,
) -> T: ...


async def async_wait_until(
    predicate: Callable[[], Any],
    timeout: float = 10.0,  # noqa: ASYNC109  # same signature as wait_until on purpose
    interval: float = 0.05,
    *,
    what: str | None = None,
) -> Any:
    """``wait_until`` for async tests: yields to the event loop between polls.

    ``predicate`` may be a plain callable or a coroutine function. Blocking in
    ``wait_until`` would starve product code running on the same loop.
    """
    description = what or getattr(predicate, "__name__", repr(predicate))
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    last_value: object = None
    while True:
        try:
            value = predicate()
            if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
                value = await value
        except GiveUp:
            raise
        except Exception as exc:  # still starting up: retry until the deadline
            last_error = exc
        else:
            if value:
                return value
            last_value = value
        if time.monotonic() >= deadline:
            detail = f"; last error: {last_error!r}" if last_error else ""
            raise TimeoutError(
                f"timed out after {timeout:.1f}s waiting for {description} "
                f"(last value: {last_value!r}{detail})"
            ) from last_error
        await asyncio.sleep(interval)  # poll interval, not synchronisation


_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, then release).

    Never hands out the same port twice in one test run, so servers started in
    parallel cannot be given the same port. A small race with other programs
    remains; start-up helpers retry on a bind failure.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with _handed_out_lock:
            if port not in _handed_out:
                _handed_out.add(port)
                return port


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def until(predicate: Callable[[], object], what: str, limit: float = 20.0) -> None:
    """The short form async tests use: `await until(lambda: ..., "what", limit)`."""
    await async_wait_until(predicate, limit, 0.02, what=what)
