"""The global speed limits, as qBittorrent's "Global Speed Limits" dialog (non-modal).

While the alternative limits are on, qBittorrent applies what is set here to them; the
dialog says which ones it edits.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

MAX_KIB = 10_000_000


def _spin(value_bytes: int, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(0, MAX_KIB)
    spin.setSuffix(QCoreApplication.translate("SpeedLimitsDialog", " KiB/s"))
    spin.setSpecialValueText(QCoreApplication.translate("SpeedLimitsDialog", "∞ (no limit)"))
    spin.setValue(max(0, value_bytes) // 1024)
    return spin


class SpeedLimitsDialog(QDialog):
    limits_chosen = Signal(int, int)  # download, upload in bytes/s (0: no limit)

    def __init__(
        self, download: int, upload: int, alternative: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("speed-limits-dialog")
        self.setWindowTitle(self.tr("Global speed limits"))
        self.setModal(False)
        self.download = _spin(download, self)
        self.upload = _spin(upload, self)
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                self.tr("qBittorrent's alternative limits, for every torrent:")
                if alternative
                else self.tr("qBittorrent's normal limits, for every torrent:"),
                self,
            )
        )
        form.addRow(self.tr("Download:"), self.download)
        form.addRow(self.tr("Upload:"), self.upload)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _accept(self) -> None:
        self.limits_chosen.emit(self.download.value() * 1024, self.upload.value() * 1024)
        self.accept()
