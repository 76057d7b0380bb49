"""Ask for the secrets nothing holds (no keyring, "don't remember"), once, before use.

Without it a restart logged in to qBittorrent with an empty password: a failed login that
counts toward qBittorrent's IP ban. Non-modal (qasync forbids nested loops in tasks): the
answer comes back as `answered(dict[Secret, str])`, or `declined()`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gui.settings import Secret

LABELS = {
    Secret.QBT_PASSWORD: "qBittorrent password",
    Secret.QBT_HTTP_PASSWORD: "Reverse proxy password (qBittorrent)",
    Secret.PROWLARR_API_KEY: "Prowlarr API key",
    Secret.TORZNAB_API_KEY: "Torznab API key",
    Secret.ABS_TOKEN: "Audiobookshelf API key",
}


class SecretPrompt(QDialog):
    answered = Signal(dict)  # dict[Secret, str], with "remember" in `remember()`
    declined = Signal()

    def __init__(
        self, missing: list[Secret], keyring_ok: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._keyring_ok = keyring_ok
        self.setWindowTitle("Earmark needs your password")
        self.setObjectName("secret-prompt")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        intro = QLabel(
            "Earmark does not have these secrets (there is no system keyring, or you chose "
            "not to save them). Nothing is sent until you give them."
            if not keyring_ok
            else "These secrets are not in the system keyring. Nothing is sent until you give them."
        )
        intro.setWordWrap(True)
        self.fields: dict[Secret, QLineEdit] = {}
        form = QFormLayout()
        for secret in missing:
            field = QLineEdit()
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setObjectName(f"prompt-{secret.value}")
            field.setToolTip(f"or set {secret.env_var} before starting Earmark")
            form.addRow(LABELS[secret], field)
            self.fields[secret] = field
        self.save = QCheckBox("Save in the system keyring")
        self.save.setVisible(keyring_ok)
        self.save.setChecked(keyring_ok)
        note = QLabel(
            "Kept in memory until Earmark quits; asked again after a restart."
            if not keyring_ok
            else ""
        )
        note.setWordWrap(True)
        note.setVisible(not keyring_ok)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Not now")
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.rejected.connect(self.declined)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.save)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        if self.fields:
            next(iter(self.fields.values())).setFocus()

    def remember(self) -> bool:
        return self._keyring_ok and self.save.isChecked()

    def _ok(self) -> None:
        values = {secret: field.text() for secret, field in self.fields.items()}
        self.answered.emit(values)
        self.accept()
