"""The connection-doctor wizard against real qbittorrent-nox instances.

What matters most is what the wizard does to qBittorrent, so that is read back from
qBittorrent itself: its log (one line per failed login) and its preferences through the
harness's independent client, never through the wizard.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.clients.doctor import VERDICTS
from gui.clients.http import HttpOptions
from gui.clients.qbittorrent import QbtConfig
from gui.controller import AppController
from gui.services.status import Link
from gui.settings import Secret, SecretStore, Settings, load_settings, save_settings
from gui.store import Store
from gui.views.doctor_wizard import (
    VERDICT_WORDS,
    DoctorWizard,
    PlannedChange,
    bypass_warning,
    merged_domain_list,
    plan_change,
    show_value,
    verdict_words,
)
from tests.conftest import QbtFactory
from tests.gui.conftest import call_in_loop, run_until
from tests.gui.test_settings_dialog import python_owned_parts
from tests.harness.forwarder import PortForwarder
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import until

WRONG_CREDENTIALS = "Reason: invalid credentials"
BANNED = "Reason: IP has been banned"


def config(url: str, password: str = QBT_PASSWORD) -> QbtConfig:
    return QbtConfig(url, QBT_USER, password, http=HttpOptions(connect_timeout=5, total_timeout=15))


def open_wizard(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, cfg: QbtConfig) -> DoctorWizard:
    wizard = DoctorWizard(cfg)
    qtbot.addWidget(wizard)
    call_in_loop(qloop, wizard.show)
    run_until(qloop, lambda: wizard.diagnosis is not None and not wizard.is_busy(), 30, "diagnosis")
    return wizard


def idle(wizard: DoctorWizard) -> bool:
    return not wizard.is_busy() and not wizard._tasks


def log_count(instance: QbtInstance, text: str) -> int:
    return instance.log_text().count(text)


# ---- pure helpers --------------------------------------------------------------------


def test_every_verdict_has_words() -> None:
    assert set(VERDICT_WORDS) == set(VERDICTS)
    assert verdict_words("bad_credentials").lower().startswith("wrong credentials")


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("127.0.0.1", "127.0.0.1;localhost"),
        ("", "localhost"),
        ("nas.lan; 127.0.0.1 ;", "nas.lan;127.0.0.1;localhost"),
        ("LOCALHOST;nas", "LOCALHOST;nas"),
    ],
)
def test_domain_list_is_appended_to_never_replaced(current: str, expected: str) -> None:
    assert merged_domain_list(current, "localhost") == expected


def test_plan_reads_the_current_value_and_flags_bypasses() -> None:
    prefs = {"web_ui_domain_list": "10.0.0.2", "web_ui_host_header_validation_enabled": True}
    domain, header = plan_change(
        {"web_ui_domain_list": "nas", "web_ui_host_header_validation_enabled": False}, prefs
    )
    assert domain == PlannedChange("web_ui_domain_list", "10.0.0.2", "10.0.0.2;nas")
    assert domain.warning is None and domain.label == "Server domains"
    assert header.current is True and header.new is False
    assert header.warning is not None and "DNS-rebinding" in header.warning
    assert bypass_warning("web_ui_csrf_protection_enabled", False) is not None
    assert bypass_warning("bypass_auth_subnet_whitelist_enabled", True) is not None
    assert bypass_warning("web_ui_max_auth_fail_count", 10) is None
    assert show_value(False) == "off" and show_value("") == "(empty)"


# ---- real qBittorrent -----------------------------------------------------------------


def test_wrong_password_ends_on_wrong_credentials_after_one_attempt(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt: QbtInstance
) -> None:
    wizard = open_wizard(qtbot, qloop, config(qbt.url, password="wrong"))
    assert wizard.diagnosis is not None and wizard.diagnosis.verdict == "bad_credentials"
    # each step appeared as it finished, with its mark
    texts = wizard.run_page.steps.texts()
    assert len(texts) == len(wizard.diagnosis.steps)
    assert texts[-1].startswith("✘  Login:")
    assert all(t.startswith("✔") for t in texts[:-1])
    assert wizard.run_page.isComplete()

    wizard.next()
    assert wizard.currentId() == DoctorWizard.PAGE_VERDICT
    assert wizard.verdict_page.verdict.text() == "Wrong credentials (user name or password)"
    assert not wizard.verdict_page.change_box.isVisibleTo(wizard)
    wizard.next()
    assert wizard.currentId() == DoctorWizard.PAGE_RECHECK
    run_until(qloop, lambda: idle(wizard), 10, "the wizard to be idle")
    final = wizard.recheck_page.result.text()
    assert "wrong credentials" in final.lower()
    assert not final.startswith("Still")  # never "Still" without checking again
    assert "will not try to log in again on its own" in wizard.recheck_page.detail.text()
    assert wizard.final_diagnosis is None  # no automatic second run
    run_until(qloop, lambda: log_count(qbt, WRONG_CREDENTIALS) >= 1, 10, "the failed login")
    assert log_count(qbt, WRONG_CREDENTIALS) == 1
    assert wizard.login_attempts == 1

    # "Run again" is the user's explicit attempt: exactly one more
    wizard.recheck_page.run_again.click()
    run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "re-run")
    run_until(qloop, lambda: log_count(qbt, WRONG_CREDENTIALS) >= 2, 10, "the second login")
    assert log_count(qbt, WRONG_CREDENTIALS) == 2
    assert wizard.login_attempts == 2
    assert "Not fixed yet: Wrong credentials" in wizard.recheck_page.result.text()


def test_banned_ip_is_reported_and_never_retried(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt_factory: QbtFactory
) -> None:
    instance = qbt_factory(max_auth_fail=1)
    assert instance.admin(login=False).login(password="wrong").refused  # now banned
    wizard = open_wizard(qtbot, qloop, config(instance.url))
    assert wizard.diagnosis is not None and wizard.diagnosis.verdict == "ip_banned"
    wizard.next()
    page = wizard.verdict_page
    assert page.verdict.text() == "qBittorrent has banned this computer"
    assert "3600 s" in page.summary.text()
    # the doctor proposes raising the ban limit, but no session can be had: manual only
    assert not page.change_box.isVisibleTo(wizard)
    assert "yourself" in page.manual.text() or "Run again" in page.manual.text()
    wizard.next()
    run_until(qloop, lambda: idle(wizard), 10, "the wizard to be idle")
    assert "banned" in wizard.recheck_page.result.text()
    assert wizard.final_diagnosis is None
    run_until(qloop, lambda: log_count(instance, BANNED) >= 1, 10, "the refused login")
    assert log_count(instance, BANNED) == 1  # one per wizard run, nothing automatic after

    wizard.recheck_page.run_again.click()
    run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "re-run")
    run_until(qloop, lambda: log_count(instance, BANNED) >= 2, 10, "the second refused login")
    assert log_count(instance, BANNED) == 2
    assert log_count(instance, WRONG_CREDENTIALS) == 1  # only the harness's own


def domain_instance(qbt_factory: QbtFactory) -> QbtInstance:
    return qbt_factory(extra={"Preferences": {"WebUI\\ServerDomains": "127.0.0.1"}})


def prepared(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, instance: QbtInstance) -> DoctorWizard:
    wizard = open_wizard(qtbot, qloop, config(f"http://localhost:{instance.web_port}/"))
    assert wizard.diagnosis is not None
    assert wizard.diagnosis.verdict == "host_header_rejected", wizard.diagnosis
    wizard.next()
    page = wizard.verdict_page
    assert page.verdict.text() == "qBittorrent rejects the address used to reach it"
    assert page.change_box.isVisibleTo(wizard)
    assert not page.apply.isEnabled()
    page.prepare.click()
    run_until(qloop, lambda: wizard.planned_change is not None and idle(wizard), 20, "the plan")
    assert not page.prepare.isEnabled()  # one login for the change, not one per click
    row = [page.table.item(0, c).text() for c in range(3)]
    assert row == ["Server domains\n(web_ui_domain_list)", "127.0.0.1", "127.0.0.1;localhost"]
    assert not page.warning.isVisibleTo(wizard)  # adding a domain weakens nothing
    assert not page.apply.isEnabled()
    return wizard


def test_confirmed_domain_change_is_applied_and_the_recheck_passes(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt_factory: QbtFactory
) -> None:
    instance = domain_instance(qbt_factory)
    wizard = prepared(qtbot, qloop, instance)
    assert instance.admin().preferences()["web_ui_domain_list"] == "127.0.0.1"
    applied: list[object] = []
    wizard.change_applied.connect(applied.append)
    page = wizard.verdict_page
    page.apply.click()  # disabled: nothing happens without the confirmation
    run_until(qloop, lambda: idle(wizard), 5, "idle")
    assert applied == []
    page.confirm.setChecked(True)
    assert page.apply.isEnabled()
    page.apply.click()
    run_until(qloop, lambda: wizard.change_done and idle(wizard), 20, "the change")
    assert applied == [{"web_ui_domain_list": "127.0.0.1;localhost"}]
    domains = instance.admin().preferences()["web_ui_domain_list"].split(";")
    assert "localhost" in domains and "127.0.0.1" in domains
    assert "Done" in page.change_status.text()
    wizard.next()
    run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "recheck")
    assert wizard.final_diagnosis.verdict == "ok", wizard.final_diagnosis
    assert wizard.recheck_page.result.text() == "Fixed: Connected"
    # the doctor's logins (none, then one) plus the single one for the change
    assert wizard.login_attempts == 2
    assert log_count(instance, WRONG_CREDENTIALS) == 0


def test_without_confirmation_nothing_changes(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt_factory: QbtFactory
) -> None:
    instance = domain_instance(qbt_factory)
    wizard = prepared(qtbot, qloop, instance)
    wizard.next()  # straight on, change not confirmed
    run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "recheck")
    assert wizard.final_diagnosis.verdict == "host_header_rejected"
    assert "Not fixed yet" in wizard.recheck_page.result.text()
    assert instance.admin().preferences()["web_ui_domain_list"] == "127.0.0.1"
    wizard.close()
    run_until(qloop, lambda: not wizard._tasks, 5, "tasks to end")


def test_port_remap_offers_a_bypass_change_with_a_security_warning(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt: QbtInstance
) -> None:
    with PortForwarder(qbt.web_port) as remap:
        wizard = open_wizard(qtbot, qloop, config(remap.url))
        assert wizard.diagnosis is not None
        assert wizard.diagnosis.verdict == "host_header_rejected"
        wizard.next()
        page = wizard.verdict_page
        assert f"listens on port {qbt.web_port}" in page.summary.text()
        page.prepare.click()
        run_until(qloop, lambda: wizard.planned_change is not None and idle(wizard), 20, "plan")
        row = [page.table.item(0, c).text() for c in range(3)]
        assert row[1:] == ["on", "off"]
        assert page.warning.isVisibleTo(wizard)
        assert "Host header validation" in page.warning.text()
        page.confirm.setChecked(True)
        page.apply.click()
        run_until(qloop, lambda: wizard.change_done and idle(wizard), 20, "the change")
        assert qbt.admin().preferences()["web_ui_host_header_validation_enabled"] is False
        wizard.next()
        run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "recheck")
        assert wizard.final_diagnosis.verdict == "ok"
    assert log_count(qbt, WRONG_CREDENTIALS) == 0


def test_healthy_server_finishes_on_the_verdict_page(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt: QbtInstance
) -> None:
    wizard = open_wizard(qtbot, qloop, config(qbt.url))
    wizard.next()
    assert wizard.verdict_page.verdict.text() == "Connected"
    assert wizard.verdict_page.title() != "What is wrong"  # nothing is
    assert wizard.verdict_page.title() == "qBittorrent works"
    assert wizard.verdict_page.isFinalPage()
    assert wizard.verdict_page.nextId() == -1
    assert not wizard.isModal()


def test_security_notes_are_shown_as_warnings(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt_factory: QbtFactory
) -> None:
    instance = qbt_factory(local_host_auth=False)  # "bypass authentication on localhost"
    wizard = open_wizard(qtbot, qloop, config(instance.url))
    assert wizard.diagnosis is not None and wizard.diagnosis.verdict == "ok"
    assert any(text.startswith("⚠  Security:") for text in wizard.run_page.steps.texts())
    wizard.next()
    page = wizard.verdict_page
    assert page.verdict.text() == "Connected"
    assert page.security.isVisibleTo(wizard)
    assert "without a login" in page.security.text()
    assert not page.change_box.isVisibleTo(wizard)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def test_closing_cancels_a_running_diagnosis(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, silent_port: int
) -> None:
    wizard = DoctorWizard(config(f"http://127.0.0.1:{silent_port}/"))
    qtbot.addWidget(wizard)
    call_in_loop(qloop, wizard.show)
    run_until(qloop, lambda: wizard.run_page.steps.count() >= 3, 10, "the first steps")
    # address, name lookup, connect: the silent server accepted, the HTTP step waits
    assert wizard.run_page.steps.texts()[2].startswith("✔"), wizard.run_page.steps.texts()
    assert wizard.is_busy() and wizard.diagnosis is None
    call_in_loop(qloop, wizard.reject)  # Cancel
    run_until(qloop, lambda: not wizard._tasks, 5, "the run to be cancelled")
    assert wizard.diagnosis is None
    assert not wizard.isVisible()


def test_every_part_belongs_to_qt_and_the_wizard_is_freed(qapp: QApplication) -> None:
    wizard = DoctorWizard(config("http://127.0.0.1:1/"))
    assert python_owned_parts(wizard) == []
    gone = weakref.ref(wizard)
    del wizard
    gc.collect()
    assert gone() is None


# ---- the safe fixes first (issue 12, defect 12) ------------------------------------------


def test_port_remap_offers_the_safe_host_header_fix_first(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt: QbtInstance
) -> None:
    """Earmark sends the Host header the doctor found to work: qBittorrent's Host-header
    validation stays on."""
    chosen: list[str] = []
    with PortForwarder(qbt.web_port) as remap:
        wizard = open_wizard(qtbot, qloop, config(remap.url))
        assert wizard.diagnosis is not None
        assert wizard.diagnosis.verdict == "host_header_rejected"
        wizard.host_header_chosen.connect(chosen.append)
        wizard.next()
        page = wizard.verdict_page
        assert page.host_box.isVisibleTo(wizard)
        layout = page.layout()
        assert layout.indexOf(page.host_box) < layout.indexOf(page.change_box)  # offered first
        assert "Or change" in page.change_box.title()
        page.use_host.click()
        assert chosen == [wizard.diagnosis.working_host_header]
        assert wizard.config.http.host_header == chosen[0]
        assert "Done" in page.host_status.text()
        wizard.next()
        run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "recheck")
        assert wizard.final_diagnosis.verdict == "ok", wizard.final_diagnosis
        assert wizard.recheck_page.result.text() == "Fixed: Connected"
    assert qbt.admin().preferences()["web_ui_host_header_validation_enabled"] is True
    assert log_count(qbt, WRONG_CREDENTIALS) == 0


def test_a_wrong_password_is_corrected_inside_the_wizard(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qbt: QbtInstance
) -> None:
    chosen: list[str] = []
    wizard = open_wizard(qtbot, qloop, config(qbt.url, password="wrong"))
    assert wizard.diagnosis is not None and wizard.diagnosis.verdict == "bad_credentials"
    wizard.password_chosen.connect(chosen.append)
    wizard.next()
    page = wizard.verdict_page
    assert page.password_box.isVisibleTo(wizard)
    assert not page.check_password.isEnabled()
    page.password.setText(QBT_PASSWORD)
    page.check_password.click()
    assert chosen == [QBT_PASSWORD]
    assert wizard.currentId() == DoctorWizard.PAGE_RECHECK  # checked again at once
    run_until(qloop, lambda: wizard.final_diagnosis is not None and idle(wizard), 30, "recheck")
    assert wizard.final_diagnosis.verdict == "ok", wizard.final_diagnosis
    assert wizard.recheck_page.result.text() == "Fixed: Connected"
    run_until(qloop, lambda: log_count(qbt, WRONG_CREDENTIALS) >= 1, 10, "the failed login")
    assert log_count(qbt, WRONG_CREDENTIALS) == 1  # the first run's only
    assert wizard.login_attempts == 2


def test_the_safe_host_fix_is_saved_in_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("EARMARK_QBT_URL", "http://127.0.0.1:9/")  # never copied to the file
    save_settings(Settings(qbt_url="http://nas:8081/"), profile)
    app = AppController(load_settings(), SecretStore(), Store.open_in(profile))
    try:
        app.use_host_header("nas")
        stored = load_settings(profile, env=False)
        assert stored.qbt_host_header == "nas"
        assert stored.qbt_url == "http://nas:8081/"
        assert app.settings.qbt_host_header == "nas"
    finally:
        qloop.run_until_complete(app.shutdown())
        app.window.close()
        app.store.close()


def test_what_the_doctor_fixed_is_what_the_window_connects_with(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qloop: asyncio.AbstractEventLoop,
    qbt: QbtInstance,
) -> None:
    """A password corrected in the wizard is kept (no keyring: for this session) and the
    window's connection uses it once the wizard closes."""
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("EARMARK_QBT_PASSWORD", raising=False)
    secrets = SecretStore()
    secrets.remember_for_session(Secret.QBT_PASSWORD, "wrong")
    app = AppController(
        Settings(qbt_url=qbt.url, qbt_username=QBT_USER), secrets, Store.open_in(profile)
    )
    app.service.min_interval = 0.2

    async def scenario() -> None:
        app.start()
        await until(lambda: app.service.status.link is Link.REFUSED, what="the refused login")
        wizard = app.open_doctor()
        await until(lambda: wizard.diagnosis is not None and not wizard.is_busy(), what="diagnosis")
        wizard.next()
        wizard.verdict_page.password.setText(QBT_PASSWORD)
        wizard.verdict_page.check_password.click()
        await until(lambda: wizard.final_diagnosis is not None and idle(wizard), what="recheck")
        assert secrets.get(Secret.QBT_PASSWORD) == QBT_PASSWORD
        wizard.accept()
        await until(lambda: app.service.status.link is Link.CONNECTED, what="the connection")
        await app.shutdown()

    try:
        qloop.run_until_complete(scenario())
    finally:
        app.window.close()
        app.store.close()
