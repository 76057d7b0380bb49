"""The settings dialog: servers, keys and folders, with a Test button next to each server.

Secrets go to the OS keyring and nowhere else. When there is no keyring (headless Linux),
the dialog says so at the top and offers, for each secret, only what is safe: an
environment variable (whether it is set is shown, never its value) or "don't remember"
(the value lives in memory until Earmark closes). A secret that comes from an environment
variable is shown as such and cannot be edited here, because the environment wins anyway.

The dialog is non-modal (`show()`/`open_page()`), never blocks the loop, and its Test
buttons run as asyncio tasks that closing the dialog cancels.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.clients.doctor import Doctor
from gui.clients.http import HttpOptions, ensure_base_url, normalize_fingerprint
from gui.clients.qbittorrent import QbtConfig
from gui.clients.service_checks import (
    CheckResult,
    check_audiobookshelf,
    check_prowlarr,
    check_torznab,
)
from gui.core.ranking import RankingPolicy
from gui.core.redact import REDACTOR
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.themed import on_window
from gui.settings import (
    SETTING_ENV,
    Secret,
    SecretStore,
    SecretStoreUnavailable,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
)
from gui.views.doctor_wizard import BAD, GOOD, WARN, DoctorWizard, verdict_words
from gui.views.owned_details import PROVIDER_NAMES

#: The pages; titles marked for the translator, translated where shown.
PAGES = (
    ("qbittorrent", "qBittorrent"),
    ("indexers", QT_TRANSLATE_NOOP("SettingsDialog", "Indexers")),
    ("audiobookshelf", "Audiobookshelf"),
    ("library", QT_TRANSLATE_NOOP("SettingsDialog", "Library")),
    ("import", QT_TRANSLATE_NOOP("SettingsDialog", "Import")),
    ("window", QT_TRANSLATE_NOOP("SettingsDialog", "Window")),
)
#: Providers Audiobookshelf can match an item with after an import (the ones the book
#: details offer); "" = do not ask.
ABS_MATCH_CHOICES = (
    ("", QT_TRANSLATE_NOOP("SettingsDialog", "Don't ask Audiobookshelf to match")),
    *PROVIDER_NAMES.items(),
)

USE_ENV = "env"
DONT_REMEMBER = "session"


def _plain(text: str = "", *, wrap: bool = True) -> QLabel:
    """Plain text: check summaries quote servers and must never be read as HTML."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def _note(text: str = "") -> QLabel:
    label = _plain(text)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


class ResultLabel(QLabel):
    """A Test button's inline answer: green when it works, amber with caveats, red when not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state = "idle"

    def running(self, text: str = "") -> None:
        self.state = "running"
        self.setStyleSheet("")
        self.setText(text or self.tr("Testing…"))

    def show_result(self, ok: bool, text: str, *, caveat: bool = False) -> None:
        self.state = "ok" if ok else "failed"
        color = (WARN if caveat else GOOD) if ok else BAD
        self.setStyleSheet(f"color: {on_window(color)};")
        self.setText(("✔ " if ok else "✘ ") + REDACTOR.text(text))  # a server may echo a key

    def show_check(self, result: CheckResult) -> None:
        warnings = result.details.get("warnings") or []
        text = result.summary
        if warnings:
            text += "\n" + "\n".join(f"⚠ {w}" for w in warnings)
        self.show_result(result.ok, text, caveat=bool(warnings))


class SecretField(QWidget):
    """One secret: the masked field plus where the value comes from and where it goes."""

    changed = Signal()

    def __init__(
        self, secret: Secret, store: SecretStore, keyring_ok: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.secret = secret
        self._store = store
        self._keyring_ok = keyring_ok
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setObjectName(f"secret-{secret.value}")
        self.choice = QComboBox()
        self.choice.setObjectName(f"secret-source-{secret.value}")
        self.note = _note()
        self._original = ""
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.choice)
        layout.addWidget(self.note)
        self.setLayout(layout)

        env_set = self.env_is_set()
        if keyring_ok:
            self.choice.hide()
            if not env_set:
                self._original = store.get(secret) or ""
                self.edit.setText(self._original)
        else:
            state = self.tr("set") if env_set else self.tr("not set")
            self.choice.addItem(
                self.tr("Use the environment variable {var} ({state})").format(
                    var=secret.env_var, state=state
                ),
                USE_ENV,
            )
            self.choice.addItem(self.tr("Don't remember (ask each time)"), DONT_REMEMBER)
            self.choice.setCurrentIndex(0 if env_set else 1)
            self.choice.currentIndexChanged.connect(self._refresh)
        self.edit.textChanged.connect(self.changed)
        self._refresh()

    def env_is_set(self) -> bool:
        return bool(os.environ.get(self.secret.env_var))

    def uses_env(self) -> bool:
        if self._keyring_ok:
            return self.env_is_set()
        return bool(self.choice.currentData() == USE_ENV)

    def _refresh(self) -> None:
        var = self.secret.env_var
        if self.uses_env():
            self.edit.clear()
            self.edit.setEnabled(False)
            if self.env_is_set():
                self.edit.setPlaceholderText(self.tr("from {var}").format(var=var))
                self.note.setText(
                    self.tr("Comes from the environment variable {var}; change it there.").format(
                        var=var
                    )
                )
            else:
                self.edit.setPlaceholderText(self.tr("{var} is not set").format(var=var))
                self.note.setText(self.tr("Set {var} before starting Earmark.").format(var=var))
        else:
            self.edit.setEnabled(True)
            if self._keyring_ok:
                self.edit.setPlaceholderText("")
                self.note.setText(self.tr("Kept in the system keyring."))
            else:
                self.edit.setPlaceholderText(self.tr("used until Earmark closes, not saved"))
                self.note.setText(
                    self.tr("Not saved anywhere: Earmark asks again after a restart.")
                )
        self.changed.emit()

    def value(self) -> str:
        """The secret to use right now (for a Test button)."""
        if self.uses_env():
            return os.environ.get(self.secret.env_var, "")
        return self.edit.text()

    def session_value(self) -> str | None:
        """A typed secret that is kept in memory only (no keyring, "don't remember")."""
        if self._keyring_ok or self.uses_env():
            return None
        return self.edit.text() or None

    def reset(self) -> None:
        """Back to the stored value (Cancel)."""
        if not self.uses_env():
            self.edit.setText(self._original)

    def save(self) -> None:
        """Write to the keyring what changed; without a keyring write nothing at all."""
        if not self._keyring_ok or self.uses_env():
            return
        text = self.edit.text()
        if text == self._original:
            return
        if text:
            self._store.set(self.secret, text)
        else:
            self._store.delete(self.secret)
        self._original = text


class SettingsDialog(QDialog):
    """Non-modal settings; OK saves settings and secrets and emits `settings_saved(Settings)`.

    The emitted Settings are the effective ones (environment overrides applied), as every
    other part of the app reads them.
    """

    settings_saved = Signal(object)

    def __init__(
        self,
        settings: Settings | None = None,
        secrets: SecretStore | None = None,
        *,
        directory: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Earmark settings"))
        self.setModal(False)
        self.resize(820, 600)
        self._directory = directory
        self._store = secrets or SecretStore()
        self._keyring_ok = self._store.available()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._errors: dict[str, str] = {}
        self._error_labels: dict[str, QLabel] = {}
        self._secret_fields: list[SecretField] = []
        self._session_secrets: dict[Secret, str] = {}
        self._env_fields: set[str] = set()
        self._ready = False  # widgets emit changes while being built
        self.wizard: DoctorWizard | None = None
        self.browse_dialog: QFileDialog | None = None

        self.banner = _plain()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet(
            f"color: {on_window(WARN)}; border: 1px solid {on_window(WARN)}; border-radius: 4px; "
            "padding: 6px;"
        )
        self.banner.hide()
        load_problem = ""
        try:
            stored = load_settings(directory, env=False)
        except SettingsError as exc:
            stored = Settings()
            load_problem = self.tr(
                "{problem}. Saving will replace it with what this dialog shows."
            ).format(problem=exc)
        self._file_settings = self._without_env(settings, stored)
        notices = [] if self._keyring_ok else [self._store.unavailable_message()]
        if load_problem:
            notices.append(load_problem)
        if notices:
            self.banner.setText("\n\n".join(notices))
            self.banner.show()
        self.save_error = _plain()
        self.save_error.setObjectName("save-error")
        self.save_error.setStyleSheet(f"color: {on_window(BAD)};")
        self.save_error.hide()

        self.pages = QListWidget()
        self.pages.setObjectName("pages")
        self.pages.setFixedWidth(150)
        self.stack = QStackedWidget()
        builders: dict[str, Callable[[], QWidget]] = {
            "qbittorrent": self._qbt_page,
            "indexers": self._indexers_page,
            "audiobookshelf": self._abs_page,
            "library": self._library_page,
            "import": self._import_page,
            "window": self._window_page,
        }
        self.pages.setSpacing(3)
        for key, untranslated in PAGES:
            title = self.tr(untranslated)
            self.pages.addItem(title)
            page = builders[key]()
            page.setObjectName(f"page-{key}")
            self.stack.addWidget(self._titled(title, page))
        self.pages.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.pages.setCurrentRow(0)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        body = QHBoxLayout()
        body.addWidget(self.pages)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout()
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        layout.addWidget(self.save_error)
        layout.addWidget(self.buttons)
        # Layouts are attached last: setLayout hands every widget inside to Qt, whereas
        # widgets added to a layout not yet on a widget stay Python-owned and are freed
        # twice at exit (PySide6).
        self.setLayout(layout)
        self._ready = True
        self._load(self._file_settings)
        self._validate()

    @staticmethod
    def _without_env(given: Settings | None, stored: Settings) -> Settings:
        """What the dialog edits and saves: never a value that came from the environment.

        The caller's settings usually have the environment overrides applied; saving those
        would copy them into the file, so the stored values are used for those fields.
        """
        if given is None:
            return stored
        base = copy.deepcopy(given)
        for name, variable in SETTING_ENV.items():
            if os.environ.get(variable) is not None:
                setattr(base, name, getattr(stored, name))
        return base

    # ---- building --------------------------------------------------------------------

    def _line(self, name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(self._validate)
        return edit

    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        """The field and, under it, the inline message of what is wrong with it."""
        box = QWidget()
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        error = _plain()
        error.setObjectName(f"error-{key}")
        error.setStyleSheet(f"color: {on_window(BAD)};")
        error.hide()
        column.addWidget(error)
        box.setLayout(column)
        self._error_labels[key] = error
        return box

    def _secret(self, secret: Secret) -> SecretField:
        field = SecretField(secret, self._store, self._keyring_ok)
        field.changed.connect(self._validate)
        self._secret_fields.append(field)
        return field

    def _test_row(self, button: QPushButton, *more: QWidget) -> QWidget:
        row = QHBoxLayout()
        row.addWidget(button)
        for widget in more:
            row.addWidget(widget)
        row.addStretch(1)
        return self._wrap_row(row)

    def _qbt_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        self.qbt_url = self._line("qbt_url", "http://192.168.0.48:8080/")
        self.qbt_username = self._line("qbt_username")
        self.qbt_password = self._secret(Secret.QBT_PASSWORD)
        self.qbt_fingerprint = self._line(
            "qbt_tls_fingerprint", self.tr("only for a self-signed certificate: its SHA-256")
        )
        self.qbt_category = self._line("qbt_default_category")
        self.qbt_save_path = self._line(
            "qbt_default_save_path",
            self.tr("as qBittorrent sees it; empty = qBittorrent's default"),
        )
        form.addRow(self.tr("Web UI address"), self._with_error("qbt_url", self.qbt_url))
        form.addRow(self.tr("User name"), self.qbt_username)
        form.addRow(self.tr("Password"), self.qbt_password)
        form.addRow(
            self.tr("TLS certificate fingerprint"),
            self._with_error("qbt_tls_fingerprint", self.qbt_fingerprint),
        )
        form.addRow(self.tr("Default category"), self.qbt_category)
        form.addRow(self.tr("Default save path"), self.qbt_save_path)

        advanced = QGroupBox(self.tr("Advanced"))
        advanced_form = QFormLayout()
        self.qbt_http_username = self._line(
            "qbt_http_username", self.tr("only if a reverse proxy asks for its own login")
        )
        self.qbt_http_password = self._secret(Secret.QBT_HTTP_PASSWORD)
        self.qbt_host_header = self._line(
            "qbt_host_header",
            self.tr("empty = the address's own (the doctor sets it behind a port remap)"),
        )
        self.qbt_connect_timeout = self._seconds("qbt_connect_timeout", 1, 120)
        self.qbt_total_timeout = self._seconds("qbt_total_timeout", 1, 600)
        advanced_form.addRow(self.tr("Proxy user name"), self.qbt_http_username)
        advanced_form.addRow(self.tr("Proxy password"), self.qbt_http_password)
        advanced_form.addRow(self.tr("Host header"), self.qbt_host_header)
        advanced_form.addRow(self.tr("Connect timeout"), self.qbt_connect_timeout)
        advanced_form.addRow(
            self.tr("Total timeout"), self._with_error("qbt_total_timeout", self.qbt_total_timeout)
        )
        advanced.setLayout(advanced_form)

        self.qbt_test = QPushButton(self.tr("Test"))
        self.qbt_test.setObjectName("test-qbittorrent")
        self.qbt_test.setToolTip(
            self.tr("Runs the connection doctor once (at most one login attempt).")
        )
        self.qbt_test.clicked.connect(self.test_qbittorrent)
        self.qbt_doctor = QPushButton(self.tr("Run connection doctor…"))
        self.qbt_doctor.setObjectName("run-doctor")
        self.qbt_doctor.clicked.connect(self.open_doctor)
        self.qbt_result = ResultLabel()
        self.qbt_result.setObjectName("result-qbittorrent")

        layout = QVBoxLayout()
        layout.addLayout(form)
        layout.addWidget(advanced)
        layout.addWidget(self._test_row(self.qbt_test, self.qbt_doctor))
        layout.addWidget(self.qbt_result)
        layout.addStretch(1)
        page.setLayout(layout)
        return page

    def _seconds(self, name: str, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setDecimals(1)
        spin.setSuffix(self.tr(" s"))
        spin.valueChanged.connect(self._validate)
        return spin

    def _indexers_page(self) -> QWidget:
        page = QWidget()
        prowlarr = QGroupBox(self.tr("Prowlarr"))
        form = QFormLayout()
        self.prowlarr_url = self._line("prowlarr_url", "http://nas:9696/")
        self.prowlarr_key = self._secret(Secret.PROWLARR_API_KEY)
        self.prowlarr_test = QPushButton(self.tr("Test"))
        self.prowlarr_test.setObjectName("test-prowlarr")
        self.prowlarr_test.clicked.connect(self.test_prowlarr)
        self.prowlarr_result = ResultLabel()
        self.prowlarr_result.setObjectName("result-prowlarr")
        form.addRow(self.tr("Address"), self._with_error("prowlarr_url", self.prowlarr_url))
        form.addRow(self.tr("API key"), self.prowlarr_key)
        form.addRow("", self._test_row(self.prowlarr_test))
        form.addRow("", self.prowlarr_result)
        prowlarr.setLayout(form)

        torznab = QGroupBox(self.tr("Torznab feed (Jackett, or one Prowlarr indexer)"))
        form = QFormLayout()
        self.torznab_url = self._line(
            "torznab_url", "http://nas:9117/api/v2.0/indexers/all/results/torznab/"
        )
        self.torznab_key = self._secret(Secret.TORZNAB_API_KEY)
        self.torznab_test = QPushButton(self.tr("Test"))
        self.torznab_test.setObjectName("test-torznab")
        self.torznab_test.clicked.connect(self.test_torznab)
        self.torznab_result = ResultLabel()
        self.torznab_result.setObjectName("result-torznab")
        form.addRow(self.tr("Feed address"), self._with_error("torznab_url", self.torznab_url))
        form.addRow(self.tr("API key"), self.torznab_key)
        form.addRow("", self._test_row(self.torznab_test))
        form.addRow("", self.torznab_result)
        torznab.setLayout(form)

        layout = QVBoxLayout()
        layout.addWidget(prowlarr)
        layout.addWidget(torznab)
        layout.addWidget(self._ranking_box())
        layout.addStretch(1)
        page.setLayout(layout)
        return page

    def _ranking_box(self) -> QGroupBox:
        """The ranking policy's words and formats (gui.core.ranking.RankingPolicy)."""
        box = QGroupBox(self.tr("Choosing a release"))
        form = QFormLayout()
        self.format_preference = self._line(
            "format_preference", self.tr("m4b, m4a, flac, opus, mp3")
        )
        self.format_preference.setToolTip(
            self.tr("Best first; a release in none of them scores lowest")
        )
        self.must_contain = self._line("must_contain", self.tr("e.g. unabridged"))
        self.must_contain.setToolTip(
            self.tr("Every one of these words must be in a release's title")
        )
        self.must_not_contain = self._line("must_not_contain", self.tr("e.g. sample, epub"))
        self.must_not_contain.setToolTip(self.tr("A title with any of these words is rejected"))
        self.prefer_unabridged = QCheckBox(self.tr("Prefer unabridged releases"))
        self.reject_abridged = QCheckBox(self.tr("Reject abridged releases"))
        form.addRow(self.tr("Formats, best first"), self.format_preference)
        form.addRow(self.tr("Words required"), self.must_contain)
        form.addRow(self.tr("Words refused"), self.must_not_contain)
        form.addRow("", self.prefer_unabridged)
        form.addRow("", self.reject_abridged)
        box.setLayout(form)
        return box

    def _window_page(self) -> QWidget:
        page = QWidget()
        self.minimize_to_tray = QCheckBox(self.tr("Minimising the window hides it in the tray"))
        self.minimize_to_tray.setObjectName("minimize_to_tray")
        self.close_to_tray = QCheckBox(
            self.tr(
                "Closing the window keeps Earmark running in the tray (Quit from the tray menu)"
            )
        )
        self.close_to_tray.setObjectName("close_to_tray")
        tray_note = _plain(
            ""
            if QSystemTrayIcon.isSystemTrayAvailable()
            else self.tr("This desktop has no system tray: the window stays as it is.")
        )
        layout = QVBoxLayout()
        layout.addWidget(self.minimize_to_tray)
        layout.addWidget(self.close_to_tray)
        layout.addWidget(tray_note)
        layout.addStretch(1)
        page.setLayout(layout)
        return page

    @staticmethod
    def _titled(title: str, page: QWidget) -> QWidget:
        holder = QWidget()
        heading = _plain(title)
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        heading.setFont(font)
        # A scroll area: at 200 % on a 1920x1080 screen a page is taller than the screen.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(heading)
        column.addWidget(scroll, 1)
        holder.setLayout(column)
        return holder

    @staticmethod
    def _wrap_row(row: QHBoxLayout) -> QWidget:
        holder = QWidget()
        row.setContentsMargins(0, 0, 0, 0)
        holder.setLayout(row)
        return holder

    def _abs_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        self.abs_url = self._line("abs_url", "http://nas:13378/")
        self.abs_token = self._secret(Secret.ABS_TOKEN)
        self.abs_library = QComboBox()
        self.abs_library.setObjectName("abs_library")
        self.abs_library.setMinimumContentsLength(24)
        self.abs_test = QPushButton(self.tr("Test"))
        self.abs_test.setObjectName("test-audiobookshelf")
        self.abs_test.setToolTip(
            self.tr("Checks the address and the key, and lists the libraries.")
        )
        self.abs_test.clicked.connect(self.test_audiobookshelf)
        self.abs_result = ResultLabel()
        self.abs_result.setObjectName("result-audiobookshelf")
        form.addRow(self.tr("Address"), self._with_error("abs_url", self.abs_url))
        form.addRow(self.tr("API key"), self.abs_token)
        form.addRow(self.tr("Library"), self.abs_library)
        form.addRow("", _note(self.tr("Press Test to list the libraries the key can see.")))
        layout = QVBoxLayout()
        layout.addLayout(form)
        layout.addWidget(self._test_row(self.abs_test))
        layout.addWidget(self.abs_result)
        layout.addStretch(1)
        page.setLayout(layout)
        return page

    def _library_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        self.library_dir = self._line(
            "library_dir", self.tr("where Audiobookshelf reads the books")
        )
        self.library_browse = QPushButton(self.tr("Browse…"))
        self.library_browse.setObjectName("browse-library")
        self.library_browse.clicked.connect(self.browse_library)
        row = QHBoxLayout()
        row.addWidget(self.library_dir, 1)
        row.addWidget(self.library_browse)
        form.addRow(self.tr("Library folder"), self._with_error("library_dir", self._wrap_row(row)))

        self.mappings = QTableWidget(0, 2)
        self.mappings.setObjectName("path_mappings")
        self.mappings.setHorizontalHeaderLabels(
            [
                self.tr("Remote path (as qBittorrent sees it)"),
                self.tr("Local path (as Earmark sees it)"),
            ]
        )
        self.mappings.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mappings.verticalHeader().setVisible(False)
        self.mappings.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.mappings.itemChanged.connect(self._validate)
        self.add_mapping = QPushButton(self.tr("Add"))
        self.add_mapping.setObjectName("add-mapping")
        self.add_mapping.clicked.connect(self.add_empty_mapping)
        self.remove_mapping = QPushButton(self.tr("Remove"))
        self.remove_mapping.setObjectName("remove-mapping")
        self.remove_mapping.clicked.connect(self.remove_selected_mappings)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_mapping)
        buttons.addWidget(self.remove_mapping)
        buttons.addStretch(1)

        group = QGroupBox(self.tr("Remote path mappings"))
        group_layout = QVBoxLayout()
        group_layout.addWidget(
            _note(
                self.tr(
                    "When qBittorrent runs on another machine, its folders have other names "
                    "there: map each folder as qBittorrent names it to the same folder as this "
                    "computer reaches it ({remote} → {local})."
                ).format(remote="F:\\Downloads", local="/mnt/downloads")
            )
        )
        group_layout.addWidget(self._with_error("path_mappings", self.mappings))
        group_layout.addLayout(buttons)
        group.setLayout(group_layout)

        layout = QVBoxLayout()
        layout.addLayout(form)
        layout.addWidget(group, 1)
        page.setLayout(layout)
        return page

    def _option(self, name: str, text: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        return box

    def _import_page(self) -> QWidget:
        """What happens to a finished download: tags, metadata, Audiobookshelf, seeding."""
        page = QWidget()
        self.tag_files = self._option(
            "tag_files", self.tr("Write tags and cover art on the library copies")
        )
        self.id3_version = QComboBox()
        self.id3_version.setObjectName("id3_version")
        self.id3_version.addItem(self.tr("ID3v2.3 (Windows Explorer reads it)"), 3)
        self.id3_version.addItem(self.tr("ID3v2.4"), 4)
        self.use_hardlinks = self._option(
            "use_hardlinks_when_not_tagging",
            self.tr("Without tagging, hardlink instead of copying (saves space; same disk only)"),
        )
        self.allow_upgrades = self._option(
            "allow_upgrades", self.tr("Replace a book already in the library with a better release")
        )
        self.enhance_metadata = self._option(
            "enhance_metadata",
            self.tr("Complete the metadata from Audible, Open Library, Google Books"),
        )
        self.auto_apply_threshold = QSpinBox()
        self.auto_apply_threshold.setObjectName("auto_apply_threshold")
        self.auto_apply_threshold.setRange(50, 100)
        self.auto_apply_threshold.setSuffix(" %")
        self.review_below_threshold = self._option(
            "review_below_threshold",
            self.tr("Wait for my review when a match is less sure (otherwise leave it out)"),
        )
        self.abs_match_provider = QComboBox()
        self.abs_match_provider.setObjectName("abs_match_provider")
        for value, label in ABS_MATCH_CHOICES:
            self.abs_match_provider.addItem(self.tr(label) if not value else label, value)
        self.remove_after_seeding = self._option(
            "remove_after_seeding",
            self.tr("Remove the torrent once qBittorrent stopped it at its ratio or time limit"),
        )
        self.delete_data_after_seeding = self._option(
            "delete_data_after_seeding",
            self.tr("…and delete its downloaded files (the library copy stays)"),
        )
        self.tag_files.toggled.connect(self._import_enabled)
        self.enhance_metadata.toggled.connect(self._import_enabled)
        self.remove_after_seeding.toggled.connect(self._import_enabled)

        tags = QFormLayout()
        tags.addRow(self.tag_files)
        tags.addRow(self.tr("MP3 tags"), self.id3_version)
        tags.addRow(self.use_hardlinks)
        tags.addRow(self.allow_upgrades)
        metadata = QFormLayout()
        metadata.addRow(self.enhance_metadata)
        metadata.addRow(self.tr("Apply a match without asking from"), self.auto_apply_threshold)
        metadata.addRow(self.review_below_threshold)
        metadata.addRow(self.tr("After the scan"), self.abs_match_provider)
        seeding = QFormLayout()
        seeding.addRow(
            _note(self.tr("Earmark never changes the downloaded files: the torrent keeps seeding."))
        )
        seeding.addRow(self.remove_after_seeding)
        seeding.addRow(self.delete_data_after_seeding)
        layout = QVBoxLayout()
        for title, form in (
            (self.tr("Copies and tags"), tags),
            (self.tr("Metadata"), metadata),
            (self.tr("Seeding"), seeding),
        ):
            group = QGroupBox(title)
            group.setLayout(form)
            layout.addWidget(group)
        layout.addStretch(1)
        page.setLayout(layout)
        return page

    def _import_enabled(self) -> None:
        tagging = self.tag_files.isChecked()
        self.id3_version.setEnabled(tagging)
        self.use_hardlinks.setEnabled(not tagging)
        enhancing = self.enhance_metadata.isChecked()
        self.auto_apply_threshold.setEnabled(enhancing)
        self.review_below_threshold.setEnabled(enhancing)
        self.delete_data_after_seeding.setEnabled(self.remove_after_seeding.isChecked())

    def _import_checks(self) -> dict[str, QCheckBox]:
        return {
            "tag_files": self.tag_files,
            "use_hardlinks_when_not_tagging": self.use_hardlinks,
            "allow_upgrades": self.allow_upgrades,
            "enhance_metadata": self.enhance_metadata,
            "review_below_threshold": self.review_below_threshold,
            "remove_after_seeding": self.remove_after_seeding,
            "delete_data_after_seeding": self.delete_data_after_seeding,
        }

    # ---- loading and collecting ----------------------------------------------------

    def _text_fields(self) -> dict[str, QLineEdit]:
        return {
            "qbt_url": self.qbt_url,
            "qbt_username": self.qbt_username,
            "qbt_tls_fingerprint": self.qbt_fingerprint,
            "qbt_http_username": self.qbt_http_username,
            "qbt_host_header": self.qbt_host_header,
            "qbt_default_category": self.qbt_category,
            "qbt_default_save_path": self.qbt_save_path,
            "prowlarr_url": self.prowlarr_url,
            "torznab_url": self.torznab_url,
            "abs_url": self.abs_url,
            "library_dir": self.library_dir,
        }

    def _load(self, settings: Settings) -> None:
        for name, edit in self._text_fields().items():
            variable = SETTING_ENV.get(name)
            from_env = os.environ.get(variable) if variable else None
            if from_env is not None:
                self._env_fields.add(name)
                edit.setText(from_env)
                edit.setEnabled(False)
                edit.setToolTip(
                    self.tr("Set by the environment variable {var}; change it there.").format(
                        var=variable
                    )
                )
            else:
                edit.setText(str(getattr(settings, name)))
        self.qbt_connect_timeout.setValue(settings.qbt_connect_timeout)
        self.qbt_total_timeout.setValue(settings.qbt_total_timeout)
        self.abs_library.clear()
        if settings.abs_library_id:
            self.abs_library.addItem(
                self.tr("saved library {id}").format(id=settings.abs_library_id),
                settings.abs_library_id,
            )
        self.mappings.setRowCount(0)
        for remote, local in settings.path_mappings:
            self.add_mapping_row(remote, local)
        for name, box in self._import_checks().items():
            box.setChecked(bool(getattr(settings, name)))
        self.id3_version.setCurrentIndex(max(0, self.id3_version.findData(settings.id3_version)))
        self.auto_apply_threshold.setValue(round(settings.auto_apply_threshold * 100))
        choice = self.abs_match_provider.findData(settings.abs_match_provider)
        if choice < 0:  # a provider this list lacks (a custom one): keep it
            self.abs_match_provider.addItem(
                settings.abs_match_provider, settings.abs_match_provider
            )
            choice = self.abs_match_provider.count() - 1
        self.abs_match_provider.setCurrentIndex(choice)
        self._import_enabled()
        policy = RankingPolicy.from_dict(settings.ranking_policy)
        self.format_preference.setText(", ".join(policy.format_preference))
        self.must_contain.setText(", ".join(policy.must_contain))
        self.must_not_contain.setText(", ".join(policy.must_not_contain))
        self.prefer_unabridged.setChecked(policy.prefer_unabridged)
        self.reject_abridged.setChecked(policy.reject_abridged)
        self.minimize_to_tray.setChecked(settings.minimize_to_tray)
        self.close_to_tray.setChecked(settings.close_to_tray)

    def add_empty_mapping(self) -> None:
        self.add_mapping_row("", "")

    def add_mapping_row(self, remote: str, local: str) -> None:
        row = self.mappings.rowCount()
        self.mappings.insertRow(row)
        self.mappings.setItem(row, 0, QTableWidgetItem(remote))
        self.mappings.setItem(row, 1, QTableWidgetItem(local))
        if not remote:
            self.mappings.setCurrentCell(row, 0)
        self._validate()

    def remove_selected_mappings(self) -> None:
        rows = sorted({index.row() for index in self.mappings.selectedIndexes()}, reverse=True)
        if not rows and self.mappings.currentRow() >= 0:
            rows = [self.mappings.currentRow()]
        for row in rows:
            self.mappings.removeRow(row)
        self._validate()

    def _mapping_rows(self) -> list[tuple[str, str]]:
        rows = []
        for row in range(self.mappings.rowCount()):
            cells = [self.mappings.item(row, column) for column in (0, 1)]
            remote, local = (cell.text().strip() if cell else "" for cell in cells)
            rows.append((remote, local))
        return rows

    def settings(self) -> Settings:
        """What OK would save: the form, except fields the environment controls."""
        result = copy.deepcopy(self._file_settings)
        for name, edit in self._text_fields().items():
            if name not in self._env_fields:
                setattr(result, name, edit.text().strip())
        if "qbt_tls_fingerprint" not in self._env_fields and result.qbt_tls_fingerprint:
            result.qbt_tls_fingerprint = normalize_fingerprint(result.qbt_tls_fingerprint)
        result.qbt_connect_timeout = self.qbt_connect_timeout.value()
        result.qbt_total_timeout = self.qbt_total_timeout.value()
        library = self.abs_library.currentData()
        result.abs_library_id = str(library) if library else ""
        result.path_mappings = [(r, loc) for r, loc in self._mapping_rows() if r or loc]
        for name, box in self._import_checks().items():
            setattr(result, name, box.isChecked())
        result.id3_version = int(self.id3_version.currentData())
        result.auto_apply_threshold = self.auto_apply_threshold.value() / 100
        result.abs_match_provider = str(self.abs_match_provider.currentData() or "")
        stored = RankingPolicy.from_dict(result.ranking_policy)
        policy = dataclasses.replace(
            stored,
            format_preference=_words(self.format_preference.text(), lower=True),
            must_contain=_words(self.must_contain.text()),
            must_not_contain=_words(self.must_not_contain.text()),
            prefer_unabridged=self.prefer_unabridged.isChecked(),
            reject_abridged=self.reject_abridged.isChecked(),
        )
        if policy != stored:  # untouched: the file keeps following the defaults
            result.ranking_policy = policy.to_dict()
        result.minimize_to_tray = self.minimize_to_tray.isChecked()
        result.close_to_tray = self.close_to_tray.isChecked()
        return result

    def qbt_config(self) -> QbtConfig:
        """The qBittorrent connection as the form describes it now (saved or not)."""
        fingerprint = self.qbt_fingerprint.text().strip()
        proxy_user = self.qbt_http_username.text().strip()
        return QbtConfig(
            url=self.qbt_url.text().strip(),
            username=self.qbt_username.text().strip(),
            password=self.qbt_password.value(),
            http=HttpOptions(
                connect_timeout=self.qbt_connect_timeout.value(),
                total_timeout=self.qbt_total_timeout.value(),
                tls_fingerprint=fingerprint or None,
                basic_auth=(proxy_user, self.qbt_http_password.value()) if proxy_user else None,
            ),
        )

    def session_secrets(self) -> dict[Secret, str]:
        """Secrets typed with "don't remember": for this run of Earmark only."""
        return dict(self._session_secrets)

    # ---- validation ----------------------------------------------------------------

    def _validate(self) -> None:
        if not self._ready:
            return
        errors: dict[str, str] = {}
        for key, edit in (
            ("qbt_url", self.qbt_url),
            ("prowlarr_url", self.prowlarr_url),
            ("torznab_url", self.torznab_url),
            ("abs_url", self.abs_url),
        ):
            text = edit.text().strip()
            if text:
                try:
                    ensure_base_url(text)
                except ValueError as exc:
                    errors[key] = str(exc)
        fingerprint = self.qbt_fingerprint.text().strip()
        if fingerprint:
            try:
                normalize_fingerprint(fingerprint)
            except ValueError as exc:
                errors["qbt_tls_fingerprint"] = str(exc)
        if self.qbt_total_timeout.value() < self.qbt_connect_timeout.value():
            errors["qbt_total_timeout"] = self.tr(
                "the total timeout cannot be shorter than connecting"
            )
        folder = self.library_dir.text().strip()
        if folder and not Path(folder).is_absolute():
            errors["library_dir"] = self.tr("give the full path of the folder")
        for number, (remote, local) in enumerate(self._mapping_rows(), 1):
            if bool(remote) != bool(local):
                errors["path_mappings"] = self.tr(
                    "row {number} needs both a remote and a local path"
                ).format(number=number)
                break
        self._errors = errors
        for key, label in self._error_labels.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not errors)
        can_test = "qbt_url" not in errors and "qbt_tls_fingerprint" not in errors
        self.qbt_test.setEnabled(can_test and bool(self.qbt_url.text().strip()))
        self.qbt_doctor.setEnabled(can_test and bool(self.qbt_url.text().strip()))

    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    # ---- pages ---------------------------------------------------------------------

    def open_page(self, name: str) -> None:
        """Show the dialog on one page (the keys of `PAGES`)."""
        keys = [key for key, _ in PAGES]
        if name not in keys:
            raise ValueError(f"no settings page {name!r}; pages are {', '.join(keys)}")
        self.pages.setCurrentRow(keys.index(name))
        self.show()
        self.raise_()
        self.activateWindow()

    def current_page(self) -> str:
        return PAGES[self.stack.currentIndex()][0]

    # ---- Test buttons --------------------------------------------------------------

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def is_busy(self) -> bool:
        return bool(self._tasks)

    def test_qbittorrent(self) -> None:
        self.qbt_test.setEnabled(False)
        self.qbt_result.running(self.tr("Running the connection doctor…"))
        self._start(self._test_qbittorrent(self.qbt_config()))

    async def _test_qbittorrent(self, config: QbtConfig) -> None:
        try:
            diagnosis = await Doctor(config).run()
        finally:
            self.qbt_test.setEnabled(True)
        words = verdict_words(diagnosis.verdict)
        text = f"{words}: {diagnosis.summary}"
        if not diagnosis.ok:
            text += f"\n{diagnosis.fix}"
        self.qbt_result.show_result(diagnosis.ok, text, caveat=bool(diagnosis.security))

    def open_doctor(self) -> None:
        """The wizard for the connection as typed; a new one each time (fresh settings)."""
        if self.wizard is not None:
            self.wizard.close()
            self.wizard.deleteLater()
        self.wizard = DoctorWizard(self.qbt_config(), self)
        self.wizard.show()

    def _check(
        self,
        button: QPushButton,
        result: ResultLabel,
        run: Coroutine[Any, Any, CheckResult],
        then: Callable[[CheckResult], None] | None = None,
    ) -> None:
        button.setEnabled(False)
        result.running()

        async def go() -> None:
            try:
                answer = await run
            finally:
                button.setEnabled(True)
            result.show_check(answer)
            if then is not None:
                then(answer)

        self._start(go())

    def test_prowlarr(self) -> None:
        run = check_prowlarr(self.prowlarr_url.text(), self.prowlarr_key.value())
        self._check(self.prowlarr_test, self.prowlarr_result, run)

    def test_torznab(self) -> None:
        run = check_torznab(self.torznab_url.text(), self.torznab_key.value())
        self._check(self.torznab_test, self.torznab_result, run)

    def test_audiobookshelf(self) -> None:
        run = check_audiobookshelf(self.abs_url.text(), self.abs_token.value())
        self._check(self.abs_test, self.abs_result, run, self._fill_libraries)

    def _fill_libraries(self, result: CheckResult) -> None:
        if not result.ok:
            return
        chosen = self.abs_library.currentData()
        self.abs_library.clear()
        libraries = result.details.get("libraries", [])
        for library in libraries:
            kind = self.tr("books") if library["media_type"] == "book" else library["media_type"]
            self.abs_library.addItem(f"{library['name']} ({kind})", library["id"])
        ids = [library["id"] for library in libraries]
        books = [library["id"] for library in libraries if library["media_type"] == "book"]
        preferred = chosen if chosen in ids else (books or ids or [None])[0]
        if preferred is not None:
            self.abs_library.setCurrentIndex(ids.index(preferred))

    # ---- library folder ------------------------------------------------------------

    def browse_library(self) -> None:
        """A non-modal folder chooser; its `fileSelected` fills the field."""
        chooser = QFileDialog(
            self, self.tr("Library folder"), self.library_dir.text() or str(Path.home())
        )
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        chooser.setModal(False)
        chooser.fileSelected.connect(self.library_dir.setText)
        self.browse_dialog = chooser
        chooser.show()

    # ---- OK / Cancel ---------------------------------------------------------------

    def accept(self) -> None:
        """Save settings, then secrets; a keyring failure keeps the dialog open and says why."""
        self._validate()
        if self._errors:
            return
        settings = self.settings()
        try:
            for field in self._secret_fields:
                field.save()
        except SecretStoreUnavailable as exc:
            self.save_error.setText(self.tr("Nothing was saved: {reason}").format(reason=exc))
            self.save_error.show()
            return
        try:
            save_settings(settings, self._directory)
        except OSError as exc:
            self.save_error.setText(
                self.tr("The settings could not be saved: {reason}").format(reason=exc)
            )
            self.save_error.show()
            return
        self._file_settings = settings
        self._session_secrets = {
            field.secret: value
            for field in self._secret_fields
            if (value := field.session_value()) is not None
        }
        for secret, value in self._session_secrets.items():
            self._store.remember_for_session(secret, value)  # usable until Earmark quits
        self.save_error.hide()
        self._stop()
        super().accept()
        self.settings_saved.emit(load_settings(self._directory))

    def reject(self) -> None:
        """Discard: the form goes back to what is saved, in case the dialog is shown again."""
        self._stop()
        self._load(self._file_settings)
        for field in self._secret_fields:
            field.reset()
        self._validate()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop()
        super().closeEvent(event)

    def _stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def _words(text: str, *, lower: bool = False) -> tuple[str, ...]:
    """ "m4b, M4A;flac" -> ("m4b", "m4a", "flac") for lower; order kept, repeats dropped."""
    found: list[str] = []
    for part in text.replace(";", ",").split(","):
        word = part.strip().lower() if lower else part.strip()
        if word and word not in found:
            found.append(word)
    return tuple(found)
