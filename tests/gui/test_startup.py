"""Start-up: what loads after the first paint must not freeze the window (issue 12).

The imports behind the window run in a worker thread while the GUI thread keeps its
event loop going. The module imported here only finishes once a GUI-thread timer has
fired, so the test passes only if the event loop ran during the import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.app import import_behind_window

GATE = threading.Event()


def test_the_window_keeps_running_its_event_loop_while_modules_import(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "earmark_slow_module.py").write_text(
        "from tests.gui.test_startup import GATE\n"
        "if not GATE.wait(10):\n"
        "    raise RuntimeError('the GUI thread was blocked during the import')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "earmark_slow_module", raising=False)
    GATE.clear()
    fired: list[bool] = []

    def on_gui_thread() -> None:
        fired.append(threading.current_thread() is threading.main_thread())
        GATE.set()

    QTimer.singleShot(50, on_gui_thread)
    import_behind_window(("earmark_slow_module",))
    assert fired == [True]
    assert "earmark_slow_module" in sys.modules


def test_an_import_error_behind_the_window_is_raised(qapp: QApplication) -> None:
    with pytest.raises(ModuleNotFoundError):
        import_behind_window(("earmark_no_such_module_here",))


def test_library_bench_ends_its_threads_cleanly() -> None:
    """Issue 12: "QThread: Destroyed while thread is still running" at the end of
    bench/library_view.py. Only the exit is checked here, not the figures."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "bench" / "library_view.py"), "--books", "200"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert "reload" in done.stdout, done.stderr[-2000:]
    assert "QThread: Destroyed" not in done.stderr
