"""Every window and dialog fits a 1920x1080 screen at 100, 150 and 200 % (issue 12,
defect 3: at 200 % the settings dialog was 1640x1200 device pixels, OK/Cancel off screen).

Each scale runs in its own process: QT_SCALE_FACTOR is read when Qt starts. The offscreen
platform is given a 1920x1080 screen through its configuration file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Room a real desktop takes: window frame, title bar (~32 px) and a task bar (48 px on
#: Windows 11, in device-independent pixels at any scale).
FRAME_ALLOWANCE = (16, 32 + 48)

SCRIPT = r"""
import json, sys
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox
app = QApplication([])
from gui.settings import SecretStore, Settings, Secret, qbt_config
from gui.views.add_dialog import AddTorrentDialog
from gui.views.doctor_wizard import DoctorWizard
from gui.views.main_window import MainWindow
from gui.views.queue_view import BookDialog
from gui.views.secret_prompt import SecretPrompt
from gui.views.settings_dialog import SettingsDialog
screen = app.primaryScreen().availableGeometry()
window = MainWindow()
from PySide6.QtWidgets import QWidget
from gui.clients.maindata import MaindataMirror
from gui.models.downloads import DownloadsModel
from gui.views.downloads_view import DownloadsView
# the real Downloads page, with its side panel and properties panel
window.set_pages(QWidget(), DownloadsView(DownloadsModel(MaindataMirror())))
window.show()
settings = Settings(qbt_url="http://127.0.0.1:9/")
shown = [
    window,
    SettingsDialog(settings, SecretStore(), parent=window),
    AddTorrentDialog("", parent=window),
    DoctorWizard(qbt_config(settings, SecretStore()), parent=window),
    BookDialog(None, window),
    SecretPrompt(list(Secret), False, window),
]
nested = QDialog(shown[1])  # a dialog opened from a dialog, far too big for any screen
nested.resize(3000, 2000)
shown.append(nested)
for widget in shown:
    widget.show()
for _ in range(5):
    app.processEvents()
report = {"screen": [screen.width(), screen.height()], "windows": {}}
for widget in shown:
    frame = widget.frameGeometry()
    report["windows"][type(widget).__name__] = [frame.x(), frame.y(), frame.width(), frame.height()]
ok = shown[1].buttons.button(QDialogButtonBox.StandardButton.Ok)
corner = ok.mapToGlobal(ok.rect().bottomRight())
report["settings_ok"] = [corner.x(), corner.y()]
hint = window.minimumSizeHint()
report["window_min"] = [max(hint.width(), window.minimumWidth()),
                        max(hint.height(), window.minimumHeight())]
print(json.dumps(report))
"""


@pytest.mark.parametrize("scale", ["1", "1.5", "2"])
def test_windows_fit_the_screen(scale: str, tmp_path: Path) -> None:
    config = tmp_path / "screen.json"
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "fhd",
                        "x": 0,
                        "y": 0,
                        "width": 1920,
                        "height": 1080,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        # Qt splits QT_QPA_PLATFORM's options at ":", so a Windows path (C:\...) cannot be
        # given there: the file is named relative to the working folder, the checkout is
        # found through PYTHONPATH.
        cwd=tmp_path,
        timeout=120,
        env={
            "QT_QPA_PLATFORM": f"offscreen:configfile={config.name}",
            "PYTHONPATH": str(REPO),
            "QT_SCALE_FACTOR": scale,
            "EARMARK_CONFIG_DIR": str(tmp_path / "profile"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "PATH": "",
            # Windows needs SYSTEMROOT (sockets, random numbers); a wine prefix has no fonts of
            # its own for the offscreen platform and names the host's here.
            **{k: os.environ[k] for k in ("SYSTEMROOT", "QT_QPA_FONTDIR") if k in os.environ},
        },
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    width, height = report["screen"]
    assert [width, height] == [round(1920 / float(scale)), round(1080 / float(scale))]
    for name, (x, y, w, h) in report["windows"].items():
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, (name, report)
    ok_x, ok_y = report["settings_ok"]
    assert ok_x < width and ok_y < height, report
    # A real desktop takes a title bar and a task bar off the screen (offscreen has
    # neither): the main window, with its properties panel, must still fit.
    min_width, min_height = report["window_min"]
    assert min_width + FRAME_ALLOWANCE[0] <= width, report
    assert min_height + FRAME_ALLOWANCE[1] <= height, report
