"""The window opens in a real Qt event loop (offscreen) and the packaging self-test passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from gui.views.main_window import MainWindow

REPO = Path(__file__).resolve().parents[2]


def test_main_window_shows_its_tabs(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle().startswith("Earmark")
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Wanted", "Downloads", "Library", "History"]


def test_self_test_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gui", "self-test"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "EARMARK_CONFIG_DIR": str(tmp_path), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "self-test ok"
