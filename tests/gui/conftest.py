"""GUI tests run in a real Qt event loop (offscreen unless a screen is given).

Widgets that do I/O use qasync's loop, so `qloop` gives a test the same loop the app runs:
`qloop.run_until_complete(coro)` drives asyncio *and* Qt events until `coro` is done.
`run_until(qloop, predicate, timeout)` waits on a condition with a deadline (no sleeps).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")  # qasync must not pick another binding

import pytest
import qasync
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from gui.store import Store


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)


def run_until(
    loop: asyncio.AbstractEventLoop,
    predicate: Callable[[], object],
    timeout: float = 20.0,
    what: str = "condition",
) -> None:
    """Run the loop (Qt and asyncio) until `predicate()` is truthy or fail after `timeout`."""

    async def poll() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.02)

    loop.run_until_complete(poll())


def call_in_loop(loop: asyncio.AbstractEventLoop, action: Callable[[], object]) -> None:
    """Do `action` (show a window, press Cancel) from inside the running loop, as the app does.

    Outside it, a window's show() or hide() on Windows dispatches native messages, Qt fires
    qasync's zero timers among them, and a task the action started takes its first steps with
    no asyncio loop running ("RuntimeError: no running event loop" in `asyncio.timeout`): a
    race on the timer, so the doctor-wizard test failed only sometimes, only on Windows."""

    async def act() -> None:
        action()

    loop.run_until_complete(act())


@pytest.fixture(autouse=True)
def collect_qt_garbage(qapp: QApplication) -> Iterator[None]:
    """Destroy what a test left behind at a known point, not mid-way through the next test.

    Python's garbage collector otherwise frees a finished test's wrappers at an arbitrary
    moment, possibly while Qt is dispatching events to the C++ objects behind them; with
    PySide6 that is a segfault in a later, unrelated test.
    """
    yield
    for widget in QApplication.topLevelWidgets():
        widget.close()
    gc.collect()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(autouse=True)
def keep_running(qapp: QApplication) -> Iterator[None]:
    """As in the app: closing the last window (a dialog) must not stop the loop."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(before)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_in(tmp_path / "profile")
    yield opened
    opened.close()
