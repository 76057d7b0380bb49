"""The connection-doctor wizard: find why qBittorrent refuses Earmark, fix it, check again.

It exists because the usual advice for "login OK, then 403" ("whitelist your IP") is wrong
and weakens qBittorrent; the doctor names the real cause, and this wizard turns that into
plain words, the exact setting, and - only when the user confirms - the change itself.

Login attempts are the scarce resource: each failed one counts toward qBittorrent's IP
ban. So the wizard makes no login of its own beyond the doctor's single attempt per run,
plus at most one per diagnosis to read and apply a confirmed preference change; after
`bad_credentials` or `ip_banned` it never runs again by itself (the user presses "Run
again", one attempt per press).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from gui.clients.doctor import Diagnosis, Doctor, Step
from gui.clients.errors import ClientError
from gui.clients.qbittorrent import QBittorrentClient, QbtConfig
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.themed import on_base, on_window

GOOD = "#1b7f3b"
BAD = "#b3261e"
WARN = "#8a5a00"

VERDICT_WORDS = {
    "ok": QT_TRANSLATE_NOOP("DoctorWizard", "Connected"),
    "unreachable": QT_TRANSLATE_NOOP("DoctorWizard", "Cannot reach qBittorrent"),
    "tls_error": QT_TRANSLATE_NOOP("DoctorWizard", "Secure connection (TLS) problem"),
    "not_qbittorrent": QT_TRANSLATE_NOOP("DoctorWizard", "Something else answers at this address"),
    "bad_credentials": QT_TRANSLATE_NOOP(
        "DoctorWizard", "Wrong credentials (user name or password)"
    ),
    "ip_banned": QT_TRANSLATE_NOOP("DoctorWizard", "qBittorrent has banned this computer"),
    "host_header_rejected": QT_TRANSLATE_NOOP(
        "DoctorWizard", "qBittorrent rejects the address used to reach it"
    ),
    "csrf_rejected": QT_TRANSLATE_NOOP(
        "DoctorWizard", "Blocked by qBittorrent's cross-site request protection"
    ),
    "session_not_kept": QT_TRANSLATE_NOOP("DoctorWizard", "Login works, but the session is lost"),
    "forbidden": QT_TRANSLATE_NOOP("DoctorWizard", "Access refused"),
    "unexpected": QT_TRANSLATE_NOOP("DoctorWizard", "Unexpected problem"),
}

STEP_WORDS = {
    "address": QT_TRANSLATE_NOOP("DoctorWizard", "Address"),
    "dns": QT_TRANSLATE_NOOP("DoctorWizard", "Name lookup"),
    "connect": QT_TRANSLATE_NOOP("DoctorWizard", "Connection"),
    "tls": QT_TRANSLATE_NOOP("DoctorWizard", "TLS"),
    "http": QT_TRANSLATE_NOOP("DoctorWizard", "HTTP"),
    "webui": QT_TRANSLATE_NOOP("DoctorWizard", "Web API"),
    "proxy": QT_TRANSLATE_NOOP("DoctorWizard", "Reverse proxy"),
    "host-header": QT_TRANSLATE_NOOP("DoctorWizard", "Host header"),
    "csrf": QT_TRANSLATE_NOOP("DoctorWizard", "Cross-site check"),
    "login": QT_TRANSLATE_NOOP("DoctorWizard", "Login"),
    "session": QT_TRANSLATE_NOOP("DoctorWizard", "Session"),
    "preferences": QT_TRANSLATE_NOOP("DoctorWizard", "Settings"),
    "security": QT_TRANSLATE_NOOP("DoctorWizard", "Security"),
    "unexpected": QT_TRANSLATE_NOOP("DoctorWizard", "Unexpected"),
}

#: Verdicts after which another run would spend (or be refused) a login attempt for nothing.
NO_AUTOMATIC_RERUN = frozenset({"bad_credentials", "ip_banned"})

PREFERENCE_LABELS = {
    "web_ui_domain_list": QT_TRANSLATE_NOOP("DoctorWizard", "Server domains"),
    "web_ui_host_header_validation_enabled": QT_TRANSLATE_NOOP(
        "DoctorWizard", "Enable Host header validation"
    ),
    "web_ui_csrf_protection_enabled": QT_TRANSLATE_NOOP(
        "DoctorWizard", "Enable Cross-Site Request Forgery (CSRF) protection"
    ),
    "web_ui_max_auth_fail_count": QT_TRANSLATE_NOOP(
        "DoctorWizard", "Ban client after consecutive failures"
    ),
    "bypass_local_auth": QT_TRANSLATE_NOOP(
        "DoctorWizard", "Bypass authentication for clients on localhost"
    ),
    "bypass_auth_subnet_whitelist_enabled": (
        QT_TRANSLATE_NOOP(
            "DoctorWizard", "Bypass authentication for clients in whitelisted IP subnets"
        )
    ),
}


def verdict_words(code: str) -> str:
    """A verdict code as a user reads it."""
    words = VERDICT_WORDS.get(code)
    return _tr(words) if words else code.replace("_", " ").capitalize()


def step_words(name: str) -> str:
    words = STEP_WORDS.get(name)
    return _tr(words) if words else name.replace("-", " ").capitalize()


def _tr(text: str) -> str:
    """A text marked with QT_TRANSLATE_NOOP("DoctorWizard", …), translated where shown."""
    return QCoreApplication.translate("DoctorWizard", text)


def bypass_warning(key: str, new: Any) -> str | None:
    """Why a change weakens qBittorrent's protection, or None if it does not."""
    if key == "web_ui_host_header_validation_enabled" and new is False:
        return QCoreApplication.translate(
            "DoctorWizard",
            "Turning off Host header validation removes qBittorrent's protection against "
            "DNS-rebinding: a web page open in your browser could reach qBittorrent. "
            "Publishing qBittorrent on the same port on both sides avoids this.",
        )
    if key == "web_ui_csrf_protection_enabled" and new is False:
        return QCoreApplication.translate(
            "DoctorWizard",
            "Turning off CSRF protection lets any web page you visit send commands to "
            "qBittorrent through your browser while you are logged in to its Web UI.",
        )
    if key == "bypass_auth_subnet_whitelist_enabled" and new is True:
        return QCoreApplication.translate(
            "DoctorWizard",
            "Every device in the whitelisted subnets would control qBittorrent without a password.",
        )
    if key == "bypass_local_auth" and new is True:
        return QCoreApplication.translate(
            "DoctorWizard",
            "Every program on qBittorrent's computer would control it without a password.",
        )
    if key == "web_ui_max_auth_fail_count" and new == 0:
        return QCoreApplication.translate(
            "DoctorWizard", "0 turns the ban off: password guessing would no longer be slowed down."
        )
    return None


def merged_domain_list(current: str, host: str) -> str:
    """qBittorrent's ';'-separated Server domains with `host` added (never replaced)."""
    domains = [d.strip() for d in current.split(";") if d.strip()]
    if any(d.lower() == host.lower() for d in domains):
        return ";".join(domains)
    return ";".join([*domains, host])


@dataclass(frozen=True)
class PlannedChange:
    """One preference as it is now and as it would be after the change."""

    key: str
    current: Any
    new: Any

    @property
    def label(self) -> str:
        label = PREFERENCE_LABELS.get(self.key)
        return _tr(label) if label else self.key

    @property
    def warning(self) -> str | None:
        return bypass_warning(self.key, self.new)

    @property
    def changes_anything(self) -> bool:
        return bool(self.current != self.new)


def plan_change(proposed: Mapping[str, Any], current: Mapping[str, Any]) -> list[PlannedChange]:
    """The doctor's proposal applied to the current preferences (domain lists are appended to)."""
    plan: list[PlannedChange] = []
    for key, value in proposed.items():
        now = current.get(key)
        new = (
            merged_domain_list(str(now or ""), str(value)) if key == "web_ui_domain_list" else value
        )
        plan.append(PlannedChange(key, now, new))
    return plan


def show_value(value: Any) -> str:
    if isinstance(value, bool):
        return (
            QCoreApplication.translate("DoctorWizard", "on")
            if value
            else QCoreApplication.translate("DoctorWizard", "off")
        )
    if value is None:
        return QCoreApplication.translate("DoctorWizard", "(not set)")
    text = str(value)
    return text if text else QCoreApplication.translate("DoctorWizard", "(empty)")


def _label(text: str = "", *, wrap: bool = True) -> QLabel:
    """Plain text only: summaries quote what servers answered, never to be read as HTML."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _color(label: QLabel, color: str, *, bold: bool = False) -> None:
    weight = "font-weight: bold;" if bold else ""
    label.setStyleSheet(f"color: {on_window(color)}; {weight}")


class StepList(QListWidget):
    """The doctor's steps, each added the moment it finishes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumHeight(150)

    def add_step(self, step: Step) -> None:
        if step.name == "security":
            mark, color = "⚠", WARN
        elif step.ok:
            mark, color = "✔", GOOD
        else:
            mark, color = "✘", BAD
        item = QListWidgetItem(
            self.tr("{mark}  {step}: {detail}").format(
                mark=mark, step=step_words(step.name), detail=step.detail
            )
        )
        item.setForeground(on_base(color))
        item.setData(Qt.ItemDataRole.UserRole, step.ok)
        self.addItem(item)
        self.scrollToBottom()

    def texts(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]


class _Page(QWizardPage):
    """A page that reaches its wizard through Qt, not a Python reference.

    A stored reference (or a connection to the wizard's bound method made here) would
    form a cycle through Qt that Python's garbage collector cannot see: the wizard would
    never be freed. The wizard connects the pages' buttons itself.
    """

    @property
    def _wizard(self) -> DoctorWizard:
        wizard = self.wizard()
        assert isinstance(wizard, DoctorWizard)
        return wizard


class _RunPage(_Page):
    """Page 1: the first diagnosis, step by step."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle(self.tr("Checking the connection to qBittorrent"))
        self.setSubTitle(
            self.tr(
                "Earmark checks each layer in turn and stops at the first that fails. "
                "It tries to log in at most once."
            )
        )
        self.steps = StepList()
        self.status = _label()
        self.run_again = QPushButton(self.tr("Run again"))
        self.run_again.setObjectName("run-again")
        self.run_again.setToolTip(self.tr("One more diagnosis: at most one more login attempt."))
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.run_again)
        layout = QVBoxLayout()
        layout.addWidget(self.steps, 1)
        layout.addLayout(row)
        # attached last: setLayout hands every widget to Qt (see the settings dialog)
        self.setLayout(layout)

    def initializePage(self) -> None:
        if self._wizard.diagnosis is None and not self._wizard.is_busy():
            self._wizard.run_first_again()

    def isComplete(self) -> bool:
        return self._wizard.diagnosis is not None and not self._wizard.is_busy()


class _VerdictPage(_Page):
    """Page 2: what is wrong, how to fix it, and the offer to make the change."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle(self.tr("What is wrong"))
        self.setSubTitle(self.tr("The doctor's verdict in plain words, and how to fix it."))
        self.verdict = _label()
        self.verdict.setObjectName("verdict")
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.verdict.setFont(font)
        self.summary = _label()
        self.fix_title = _label(self.tr("What to do"))
        _color(self.fix_title, "palette(text)", bold=True)
        self.fix = _label()
        self.security = _label()
        self.security.setObjectName("security")
        _color(self.security, WARN)

        # The safe fix of a Host-header mismatch, offered first: Earmark sends the Host
        # header the doctor found to work; qBittorrent's protection stays as it is.
        self.host_box = QGroupBox(
            self.tr("Recommended: let Earmark send the address qBittorrent accepts")
        )
        self.host_box.setObjectName("safe-host-fix")
        self.host_intro = _label()
        self.use_host = QPushButton(self.tr("Use this Host header"))
        self.use_host.setObjectName("use-host-header")
        self.host_status = _label()
        host_layout = QVBoxLayout()
        host_layout.addWidget(self.host_intro)
        host_layout.addWidget(self.use_host, 0, Qt.AlignmentFlag.AlignLeft)
        host_layout.addWidget(self.host_status)
        self.host_box.setLayout(host_layout)
        # A wrong password is corrected here, and checked with one login on Next.
        self.password_box = QGroupBox(self.tr("Correct the password"))
        self.password_box.setObjectName("password-fix")
        self.password = QLineEdit()
        self.password.setObjectName("doctor-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("qBittorrent Web UI password"))
        self.check_password = QPushButton(self.tr("Check with this password"))
        self.check_password.setObjectName("check-password")
        self.check_password.setEnabled(False)
        self.password.textChanged.connect(lambda text: self.check_password.setEnabled(bool(text)))
        password_row = QHBoxLayout()
        password_row.addWidget(self.password, 1)
        password_row.addWidget(self.check_password)
        password_layout = QVBoxLayout()
        password_layout.addWidget(
            _label(self.tr("One login with it (a failed login counts toward qBittorrent's ban)."))
        )
        password_layout.addLayout(password_row)
        self.password_box.setLayout(password_layout)

        self.change_box = QGroupBox(self.tr("Let Earmark change the setting"))
        self.change_intro = _label()
        self.prepare = QPushButton(self.tr("Show the exact change"))
        self.prepare.setObjectName("prepare-change")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Setting"), self.tr("Now"), self.tr("After the change")]
        )
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.warning = _label()
        self.warning.setObjectName("change-warning")
        _color(self.warning, BAD)
        self.confirm = QCheckBox(self.tr("Yes, change this setting in qBittorrent"))
        self.confirm.setObjectName("confirm-change")
        self.apply = QPushButton(self.tr("Apply the change"))
        self.apply.setObjectName("apply-change")
        self.apply.setEnabled(False)
        self.confirm.toggled.connect(self._update_apply)
        self.change_status = _label()
        self.change_status.setObjectName("change-status")
        box = QVBoxLayout()
        box.addWidget(self.change_intro)
        box.addWidget(self.prepare, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.table)
        box.addWidget(self.warning)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.confirm, 1)
        apply_row.addWidget(self.apply)
        box.addLayout(apply_row)
        box.addWidget(self.change_status)
        self.change_box.setLayout(box)

        self.manual = _label()
        self.manual.setObjectName("manual-steps")

        layout = QVBoxLayout()
        layout.addWidget(self.verdict)
        layout.addWidget(self.summary)
        layout.addWidget(self.fix_title)
        layout.addWidget(self.fix)
        layout.addWidget(self.security)
        layout.addWidget(self.host_box)
        layout.addWidget(self.password_box)
        layout.addWidget(self.change_box)
        layout.addWidget(self.manual)
        layout.addStretch(1)
        self.setLayout(layout)

    def initializePage(self) -> None:
        diagnosis = self._wizard.diagnosis
        if diagnosis is None:
            return
        if diagnosis.ok:
            self.setTitle(self.tr("qBittorrent works"))
            self.setSubTitle(self.tr("Earmark can use qBittorrent."))
        else:
            self.setTitle(self.tr("What is wrong"))
            self.setSubTitle(self.tr("The doctor's verdict in plain words, and how to fix it."))
        self.password_box.setVisible(diagnosis.verdict == "bad_credentials")
        self.password.clear()
        self.verdict.setText(verdict_words(diagnosis.verdict))
        _color(self.verdict, GOOD if diagnosis.ok else BAD, bold=True)
        self.summary.setText(diagnosis.summary)
        self.fix.setText(diagnosis.fix)
        self.fix_title.setVisible(not diagnosis.ok)
        self.fix.setVisible(not diagnosis.ok)
        notes = "\n".join(f"⚠ {note}" for note in diagnosis.security)
        self.security.setText(notes)
        self.security.setVisible(bool(notes))
        self.refresh_change()
        self.setFinalPage(diagnosis.ok)

    def nextId(self) -> int:
        diagnosis = self._wizard.diagnosis
        if diagnosis is not None and diagnosis.ok:
            return -1
        return super().nextId()

    def refresh_change(self) -> None:
        wizard = self._wizard
        diagnosis = wizard.diagnosis
        offer = wizard.can_offer_change()
        self.change_box.setVisible(offer)
        if diagnosis is None:
            return
        safe = wizard.can_offer_host_header()
        self.host_box.setVisible(safe or wizard.host_header_used is not None)
        if safe or wizard.host_header_used is not None:
            host = wizard.host_header_used or diagnosis.working_host_header
            self.host_intro.setText(
                self.tr(
                    "qBittorrent answers when Earmark says 'Host: {host}'. Earmark can send "
                    "that header on every request; nothing changes in qBittorrent, its "
                    "protection stays on."
                ).format(host=host)
            )
            self.use_host.setEnabled(safe and not wizard.is_busy())
            self.host_status.setText(
                self.tr(
                    "Done: Earmark now sends 'Host: {host}'. Press Next to check again."
                ).format(host=host)
                if wizard.host_header_used
                else ""
            )
            self.host_status.setVisible(bool(wizard.host_header_used))
            self.change_box.setTitle(self.tr("Or change qBittorrent's setting instead"))
        else:
            self.change_box.setTitle(self.tr("Let Earmark change the setting"))
        if offer:
            self.change_intro.setText(
                self.tr(
                    "Earmark can make this change for you. To read the current value it logs "
                    "in once, through the address qBittorrent accepts ({host}); nothing "
                    "changes until you confirm."
                ).format(host=diagnosis.working_host_header)
            )
        plan = wizard.planned_change
        self.table.setVisible(plan is not None)
        self.table.setRowCount(0)
        warnings = []
        for change in plan or []:
            row = self.table.rowCount()
            self.table.insertRow(row)
            for column, text in enumerate(
                (
                    f"{change.label}\n({change.key})",
                    show_value(change.current),
                    show_value(change.new),
                )
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
            if change.warning:
                warnings.append(self.tr("Security: {warning}").format(warning=change.warning))
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(row) for row in range(self.table.rowCount()))
        frame = 2 * self.table.frameWidth()
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows + frame)
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))
        has_effect = bool(plan) and any(c.changes_anything for c in plan or [])
        self.prepare.setEnabled(offer and not wizard.change_attempted and not wizard.is_busy())
        self.confirm.setVisible(has_effect and not wizard.change_done)
        self.apply.setVisible(has_effect and not wizard.change_done)
        self._update_apply()
        self.change_status.setText(wizard.change_message)
        self.change_status.setVisible(bool(wizard.change_message))
        if diagnosis.ok or wizard.host_header_used or wizard.password_changed:
            manual = ""
        elif offer and not wizard.change_failed:
            manual = self.tr("Or make the change yourself as described above, then press Next.")
        else:
            manual = (
                self.tr(
                    "Make the change described above yourself, then press Next: Earmark will "
                    "check again."
                )
                if diagnosis.verdict not in NO_AUTOMATIC_RERUN
                else self.tr("Fix this as described above, then press Next and Run again.")
            )
        self.manual.setText(manual)
        self.manual.setVisible(bool(manual))

    def _update_apply(self) -> None:
        wizard = self._wizard
        self.apply.setEnabled(
            self.confirm.isChecked()
            and wizard.planned_change is not None
            and not wizard.change_done
            and not wizard.is_busy()
        )


class _RecheckPage(_Page):
    """Page 3: the doctor once more, to show whether the fix worked."""

    def __init__(self) -> None:
        super().__init__()
        self._entered = False
        self.setTitle(self.tr("Checking again"))
        self.setSubTitle(self.tr("The same checks once more, to see whether the problem is gone."))
        self.steps = StepList()
        self.result = _label()
        self.result.setObjectName("final-verdict")
        font = self.result.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.result.setFont(font)
        self.detail = _label()
        self.run_again = QPushButton(self.tr("Run again"))
        self.run_again.setObjectName("recheck-run-again")
        self.run_again.setToolTip(self.tr("One more diagnosis: at most one more login attempt."))
        row = QHBoxLayout()
        row.addWidget(self.result, 1)
        row.addWidget(self.run_again)
        layout = QVBoxLayout()
        layout.addWidget(self.steps, 1)
        layout.addLayout(row)
        layout.addWidget(self.detail)
        self.setLayout(layout)
        self.setFinalPage(True)

    def initializePage(self) -> None:
        wizard = self._wizard
        if self._entered:
            return
        self._entered = True
        first = wizard.diagnosis
        if (
            first is not None
            and first.verdict in NO_AUTOMATIC_RERUN
            and not wizard.change_done
            and not wizard.password_changed
        ):
            self.show_result(first, rerun=False)
            return
        wizard.recheck()

    def reset(self) -> None:
        self._entered = False
        self.steps.clear()
        self.result.clear()
        self.detail.clear()

    def show_result(self, diagnosis: Diagnosis, *, rerun: bool = True) -> None:
        if diagnosis.ok:
            self.result.setText(
                self.tr("Fixed: {verdict}").format(verdict=verdict_words(diagnosis.verdict))
            )
            _color(self.result, GOOD, bold=True)
            self.detail.setText(diagnosis.summary)
            return
        # Never "Still" without having checked again: only a re-run can say so.
        verdict = verdict_words(diagnosis.verdict)
        self.result.setText(
            self.tr("Not fixed yet: {verdict}").format(verdict=verdict)
            if rerun
            else self.tr("Not checked again: {verdict}").format(verdict=verdict)
        )
        _color(self.result, BAD, bold=True)
        text = f"{diagnosis.summary}\n\n{diagnosis.fix}"
        if diagnosis.verdict in NO_AUTOMATIC_RERUN:
            text += "\n\n" + self.tr(
                "Earmark will not try to log in again on its own: each failed login "
                "counts toward qBittorrent's ban. When you have fixed it, press Run again "
                "(one attempt per press)."
            )
        self.detail.setText(text)


class DoctorWizard(QWizard):
    """Non-modal wizard: diagnose, explain (and with consent fix), check again.

    `change_applied(dict)` is emitted after qBittorrent accepted a confirmed preference
    change.
    """

    PAGE_RUN = 0
    PAGE_VERDICT = 1
    PAGE_RECHECK = 2

    change_applied = Signal(object)
    #: The user chose the safe fix: Earmark sends this Host header from now on.
    host_header_chosen = Signal(str)
    #: The user corrected the password in the wizard (and it was checked with one login).
    password_chosen = Signal(str)

    def __init__(self, config: QbtConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("qBittorrent connection doctor"))
        self.setModal(False)
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.resize(720, 560)
        self._config = config
        self.diagnosis: Diagnosis | None = None
        self.final_diagnosis: Diagnosis | None = None
        self.planned_change: list[PlannedChange] | None = None
        self.change_attempted = False
        self.change_done = False
        self.change_failed = False
        self.change_message = ""
        self.host_header_used: str | None = None
        self.password_changed = False
        self._change_client: QBittorrentClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy = 0
        self._doctor_logins = 0
        self._change_logins = 0
        self._closed = False

        self.run_page = _RunPage()
        self.verdict_page = _VerdictPage()
        self.recheck_page = _RecheckPage()
        self.setPage(self.PAGE_RUN, self.run_page)
        self.setPage(self.PAGE_VERDICT, self.verdict_page)
        self.setPage(self.PAGE_RECHECK, self.recheck_page)
        self.run_page.run_again.clicked.connect(self.run_first_again)
        self.verdict_page.prepare.clicked.connect(self.prepare_change)
        self.verdict_page.apply.clicked.connect(self.apply_change)
        self.recheck_page.run_again.clicked.connect(self.recheck)
        self.verdict_page.use_host.clicked.connect(self.use_working_host_header)
        self.verdict_page.check_password.clicked.connect(self.use_password)
        self.setStartId(self.PAGE_RUN)

    # ---- state ---------------------------------------------------------------------

    @property
    def config(self) -> QbtConfig:
        return self._config

    def is_busy(self) -> bool:
        return self._busy > 0

    @property
    def login_attempts(self) -> int:
        """Every login attempt this wizard caused (the doctor's and the change's)."""
        change = self._change_client.login_attempts if self._change_client else 0
        return self._doctor_logins + self._change_logins + change

    def can_offer_change(self) -> bool:
        """A change is offered only when the doctor found a way to get a session for it."""
        diagnosis = self.diagnosis
        return bool(
            diagnosis is not None
            and diagnosis.preference_change
            and diagnosis.working_host_header
            and not self.change_failed
        )

    def can_offer_host_header(self) -> bool:
        """The safe fix of a Host-header mismatch: the doctor found a Host that works."""
        diagnosis = self.diagnosis
        return bool(
            diagnosis is not None
            and diagnosis.verdict == "host_header_rejected"
            and diagnosis.working_host_header
            and self.host_header_used is None
        )

    def use_working_host_header(self) -> None:
        """Send the Host header qBittorrent accepts (its settings stay as they are)."""
        diagnosis = self.diagnosis
        if not self.can_offer_host_header() or diagnosis is None or self.is_busy():
            return
        host = str(diagnosis.working_host_header)
        self._config = replace(self._config, http=replace(self._config.http, host_header=host))
        self.host_header_used = host
        self.recheck_page.reset()
        self.verdict_page.refresh_change()
        self.host_header_chosen.emit(host)

    def use_password(self) -> None:
        """Check the corrected password: the recheck page runs the doctor (one login)."""
        password = self.verdict_page.password.text()
        if not password or self.is_busy():
            return
        self._config = replace(self._config, password=password)
        self.password_changed = True
        self.recheck_page.reset()
        self.password_chosen.emit(password)
        if self.currentId() == self.PAGE_VERDICT:
            self.next()

    # ---- tasks ---------------------------------------------------------------------

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _set_busy(self, delta: int) -> None:
        self._busy += delta
        if self._closed:
            return  # cancelled by closing: the pages may already be gone
        busy = self.is_busy()
        self.run_page.run_again.setEnabled(not busy)
        self.recheck_page.run_again.setEnabled(not busy)
        self.run_page.completeChanged.emit()
        if self.diagnosis is not None:
            self.verdict_page.refresh_change()

    async def _diagnose(self, steps: StepList) -> Diagnosis:
        steps.clear()
        self._set_busy(+1)
        try:
            diagnosis = await Doctor(self._config, on_step=steps.add_step).run()
        finally:
            self._set_busy(-1)
        self._doctor_logins += diagnosis.login_attempts
        return diagnosis

    # ---- user intent ---------------------------------------------------------------

    def run_first_again(self) -> None:
        """Page 1's run (also its "Run again" button): a fresh diagnosis and a fresh offer."""
        if self.is_busy():
            return
        self.diagnosis = None
        self.final_diagnosis = None
        self.password_changed = False
        self._reset_change()
        self.recheck_page.reset()
        self.run_page.status.setText(self.tr("Checking…"))
        _color(self.run_page.status, "palette(text)")
        self._start(self._run_first())

    async def _run_first(self) -> None:
        diagnosis = await self._diagnose(self.run_page.steps)
        self.diagnosis = diagnosis
        status = self.run_page.status
        status.setText(
            self.tr("{verdict}. Press Next for the details.").format(
                verdict=verdict_words(diagnosis.verdict)
            )
        )
        _color(status, GOOD if diagnosis.ok else BAD, bold=True)
        self.run_page.completeChanged.emit()

    def recheck(self) -> None:
        """The last page's run (also its "Run again" button)."""
        if self.is_busy():
            return
        self.recheck_page.result.setText(self.tr("Checking…"))
        _color(self.recheck_page.result, "palette(text)")
        self.recheck_page.detail.clear()
        self._start(self._run_recheck())

    async def _run_recheck(self) -> None:
        diagnosis = await self._diagnose(self.recheck_page.steps)
        self.final_diagnosis = diagnosis
        self.recheck_page.show_result(diagnosis)

    def prepare_change(self) -> None:
        """Log in once through the Host that works and read what the change would replace."""
        if self.change_attempted or not self.can_offer_change() or self.is_busy():
            return
        self.change_attempted = True
        self.change_message = self.tr("Reading qBittorrent's current settings…")
        self._start(self._prepare_change())

    async def _prepare_change(self) -> None:
        diagnosis = self.diagnosis
        assert diagnosis is not None and diagnosis.preference_change is not None
        http = replace(self._config.http, host_header=diagnosis.working_host_header)
        client = QBittorrentClient(replace(self._config, http=http))
        self._change_client = client
        self._set_busy(+1)
        try:
            prefs = await client.preferences()
        except ClientError as exc:
            await self._close_change_client()
            self.change_failed = True
            self.change_message = self.tr(
                "Earmark could not read the settings: {reason}. It will not try again "
                "on its own; make the change yourself as described above."
            ).format(reason=exc.message)
            return
        finally:
            self._set_busy(-1)
        self.planned_change = plan_change(diagnosis.preference_change, prefs)
        if not any(change.changes_anything for change in self.planned_change):
            self.change_message = self.tr(
                "qBittorrent already has this setting, so changing it would not help."
            )
            await self._close_change_client()
        else:
            self.change_message = ""
        self.verdict_page.refresh_change()

    def apply_change(self) -> None:
        """Write the shown change; only reachable after the user ticked the confirmation."""
        if (
            not self.verdict_page.confirm.isChecked()
            or self.planned_change is None
            or self.change_done
            or self._change_client is None
            or self.is_busy()
        ):
            return
        self._start(self._apply_change(self._change_client, self.planned_change))

    async def _apply_change(self, client: QBittorrentClient, plan: list[PlannedChange]) -> None:
        changes = {change.key: change.new for change in plan if change.changes_anything}
        self.change_message = self.tr("Changing the setting…")
        self._set_busy(+1)
        try:
            await client.set_preferences(changes)
        except ClientError as exc:
            self.change_failed = True
            self.change_message = self.tr(
                "qBittorrent did not accept the change: {reason}."
            ).format(reason=exc.message)
            return
        finally:
            await self._close_change_client()
            self._set_busy(-1)
        self.change_done = True
        self.change_message = self.tr(
            "Done: qBittorrent accepted the change. Press Next to check again."
        )
        self.verdict_page.refresh_change()
        self.change_applied.emit(changes)

    def _detach_change_client(self) -> QBittorrentClient | None:
        """Let go of the change's client (counting its logins); the caller closes it."""
        client, self._change_client = self._change_client, None
        if client is not None:
            self._change_logins += client.login_attempts
        return client

    async def _close_change_client(self) -> None:
        client = self._detach_change_client()
        if client is not None:
            await client.close()

    def _reset_change(self) -> None:
        client = self._detach_change_client()
        if client is not None:
            self._start(client.close())
        self.planned_change = None
        self.change_attempted = False
        self.change_done = False
        self.change_failed = False
        self.change_message = ""
        self.verdict_page.confirm.setChecked(False)

    # ---- closing -------------------------------------------------------------------

    def _shutdown(self) -> None:
        """Closing stops every run at once; a half-read change is dropped unapplied."""
        if self._closed:
            return
        for task in list(self._tasks):
            task.cancel()
        client = self._detach_change_client()
        if client is not None:
            task = asyncio.get_event_loop().create_task(client.close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._closed = True

    def showEvent(self, event: QShowEvent) -> None:
        if self._closed:  # shown again after closing: start over
            self._closed = False
            self.diagnosis = None
            self._reset_change()
            self.restart()
        super().showEvent(event)

    def done(self, result: int) -> None:
        self._shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._shutdown()
        super().closeEvent(event)
