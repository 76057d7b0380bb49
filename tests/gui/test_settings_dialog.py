"""The settings dialog: keyring round trip, no-keyring honesty, validation, Test buttons.

Secrets are checked where they could leak: every file under the test's tmp dir is read
back byte by byte, and every piece of text the dialog shows is searched.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from gui.controller import AppController
from gui.core.ranking import RankingPolicy
from gui.models.themed import on_window
from gui.settings import (
    KEYRING_SERVICE,
    SECRET_ENV,
    SETTING_ENV,
    Secret,
    SecretStore,
    Settings,
    load_settings,
    save_settings,
)
from gui.store import Store
from gui.views.settings_dialog import ResultLabel, SettingsDialog
from gui.views.tray import Tray
from tests.doubles.services import AbsDouble, JackettDouble, ProwlarrDouble
from tests.gui.conftest import run_until
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import free_port

FINGERPRINT = "AB:" * 31 + "AB"
SECRETS = {
    Secret.QBT_PASSWORD: "qbt-password-1234",
    Secret.QBT_HTTP_PASSWORD: "proxy-password-5678",
    Secret.PROWLARR_API_KEY: "prowlarr0123456789abcdef",
    Secret.TORZNAB_API_KEY: "jackettkeyabcdefghij",
    Secret.ABS_TOKEN: "abs.jwt.token-value",
}


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend kept in memory, standing in for the OS one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


class LockedKeyring(MemoryKeyring):
    """A keyring that exists but refuses writes (a locked wallet, a denied prompt)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the keyring is locked")


@pytest.fixture(autouse=True)
def profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for variable in [*SETTING_ENV.values(), *SECRET_ENV.values()]:
        monkeypatch.delenv(variable, raising=False)
    folder = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(folder))
    return folder


def use_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[Any]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_keyring(MemoryKeyring())


@pytest.fixture
def fail_keyring() -> Iterator[keyring.backends.fail.Keyring]:
    yield from use_keyring(keyring.backends.fail.Keyring())


def make_dialog(qtbot: QtBot) -> SettingsDialog:
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def ok_button(dialog: SettingsDialog) -> Any:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def press_ok(qtbot: QtBot, dialog: SettingsDialog) -> Settings:
    with qtbot.waitSignal(dialog.settings_saved, timeout=5000) as blocker:
        qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    saved = blocker.args[0]
    assert isinstance(saved, Settings)
    return saved


def files_containing(folder: Path, secret: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def shown_texts(dialog: QWidget) -> list[str]:
    """Everything the dialog displays as text, field contents included."""
    texts: list[str] = []
    for label in dialog.findChildren(QLabel):
        texts.append(label.text())
    for edit in dialog.findChildren(QLineEdit):
        texts += [edit.text(), edit.placeholderText(), edit.toolTip()]
    for combo in dialog.findChildren(QComboBox):
        texts += [combo.itemText(i) for i in range(combo.count())]
    return texts


def fill_everything(dialog: SettingsDialog, library: Path) -> None:
    dialog.qbt_url.setText("http://192.168.0.48:52095/")
    dialog.qbt_username.setText("earmark")
    dialog.qbt_password.edit.setText(SECRETS[Secret.QBT_PASSWORD])
    dialog.qbt_fingerprint.setText(FINGERPRINT)
    dialog.qbt_category.setText("books")
    dialog.qbt_save_path.setText("F:\\Audiobookshelf\\Downloads")
    dialog.qbt_http_username.setText("proxyuser")
    dialog.qbt_http_password.edit.setText(SECRETS[Secret.QBT_HTTP_PASSWORD])
    dialog.qbt_connect_timeout.setValue(5)
    dialog.qbt_total_timeout.setValue(45)
    dialog.prowlarr_url.setText("http://nas:9696/")
    dialog.prowlarr_key.edit.setText(SECRETS[Secret.PROWLARR_API_KEY])
    dialog.torznab_url.setText("http://nas:9117/api/v2.0/indexers/all/results/torznab/")
    dialog.torznab_key.edit.setText(SECRETS[Secret.TORZNAB_API_KEY])
    dialog.abs_url.setText("http://nas:13378/")
    dialog.abs_token.edit.setText(SECRETS[Secret.ABS_TOKEN])
    dialog.library_dir.setText(str(library))
    dialog.add_mapping.click()
    dialog.mappings.item(0, 0).setText("F:\\Audiobookshelf\\Downloads")
    dialog.mappings.item(0, 1).setText("/mnt/downloads")
    dialog.add_mapping_row("/data/torrents", "/srv/torrents")


EXPECTED = Settings(
    qbt_url="http://192.168.0.48:52095/",
    qbt_username="earmark",
    qbt_tls_fingerprint="ab" * 32,
    qbt_http_username="proxyuser",
    qbt_connect_timeout=5.0,
    qbt_total_timeout=45.0,
    qbt_default_category="books",
    qbt_default_save_path="F:\\Audiobookshelf\\Downloads",
    prowlarr_url="http://nas:9696/",
    torznab_url="http://nas:9117/api/v2.0/indexers/all/results/torznab/",
    abs_url="http://nas:13378/",
    abs_library_id="",
    library_dir="",  # set per test
    path_mappings=[
        ("F:\\Audiobookshelf\\Downloads", "/mnt/downloads"),
        ("/data/torrents", "/srv/torrents"),
    ],
)


def test_round_trip_through_the_keyring(
    qtbot: QtBot, memory_keyring: MemoryKeyring, tmp_path: Path, profile: Path
) -> None:
    dialog = make_dialog(qtbot)
    assert not dialog.banner.isVisible()  # a keyring exists: nothing to warn about
    assert dialog.qbt_password.edit.echoMode() == QLineEdit.EchoMode.Password
    fill_everything(dialog, tmp_path / "library")
    saved = press_ok(qtbot, dialog)
    expected = Settings(**{**EXPECTED.__dict__, "library_dir": str(tmp_path / "library")})
    assert saved == expected
    assert load_settings() == expected
    assert not dialog.isVisible()
    assert memory_keyring.store == {
        (KEYRING_SERVICE, secret.value): value for secret, value in SECRETS.items()
    }
    for value in SECRETS.values():
        assert files_containing(tmp_path, value) == []
    assert (profile / "settings.json").is_file()

    again = make_dialog(qtbot)
    assert again.settings() == expected
    assert again.qbt_url.text() == expected.qbt_url
    assert again.qbt_fingerprint.text() == "ab" * 32
    assert again.qbt_total_timeout.value() == 45
    assert again.qbt_password.edit.text() == SECRETS[Secret.QBT_PASSWORD]
    assert again.abs_token.edit.text() == SECRETS[Secret.ABS_TOKEN]
    assert again.mappings.rowCount() == 2

    # emptying a secret removes it from the keyring
    again.torznab_key.edit.clear()
    press_ok(qtbot, again)
    assert (KEYRING_SERVICE, Secret.TORZNAB_API_KEY.value) not in memory_keyring.store


def test_without_a_keyring_it_says_so_and_writes_no_secret(
    qtbot: QtBot,
    fail_keyring: keyring.backends.fail.Keyring,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env_key = "prowlarr-key-from-the-environment"
    monkeypatch.setenv("EARMARK_PROWLARR_API_KEY", env_key)
    dialog = make_dialog(qtbot)
    assert dialog.banner.isVisible()
    assert SecretStore().unavailable_message() in dialog.banner.text()

    # a secret set in the environment: used, said, never shown, not editable
    prowlarr = dialog.prowlarr_key
    assert not prowlarr.choice.isHidden()
    assert prowlarr.choice.currentText() == (
        "Use the environment variable EARMARK_PROWLARR_API_KEY (set)"
    )
    assert not prowlarr.edit.isEnabled() and prowlarr.edit.text() == ""
    assert prowlarr.value() == env_key
    assert not any(env_key in text for text in shown_texts(dialog))

    # the other choices: an unset variable, or "don't remember"
    torznab = dialog.torznab_key
    assert torznab.choice.currentText() == "Don't remember (ask each time)"
    torznab.choice.setCurrentIndex(0)
    assert "(not set)" in torznab.choice.currentText()
    assert not torznab.edit.isEnabled()
    assert "EARMARK_TORZNAB_API_KEY" in torznab.note.text()
    typed = SECRETS[Secret.QBT_PASSWORD]
    dialog.qbt_url.setText("http://127.0.0.1:8080/")
    dialog.qbt_password.edit.setText(typed)
    assert dialog.qbt_config().password == typed  # usable by Test buttons meanwhile

    saved = press_ok(qtbot, dialog)
    assert saved.qbt_url == "http://127.0.0.1:8080/"
    assert dialog.session_secrets() == {Secret.QBT_PASSWORD: typed}
    for value in (typed, env_key):
        assert files_containing(tmp_path, value) == []


def test_secret_from_the_environment_is_not_editable_nor_stored(
    qtbot: QtBot, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, profile: Path
) -> None:
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", "from-env-password")
    monkeypatch.setenv("EARMARK_QBT_URL", "http://env-host:8080/")
    dialog = make_dialog(qtbot)
    field = dialog.qbt_password
    assert field.choice.isHidden()
    assert not field.edit.isEnabled() and field.edit.text() == ""
    assert "EARMARK_QBT_PASSWORD" in field.note.text()
    assert not any("from-env-password" in text for text in shown_texts(dialog))
    assert not dialog.qbt_url.isEnabled()
    assert dialog.qbt_url.text() == "http://env-host:8080/"
    assert dialog.qbt_config().password == "from-env-password"
    saved = press_ok(qtbot, dialog)
    assert saved.qbt_url == "http://env-host:8080/"  # effective settings
    assert load_settings(env=False).qbt_url == ""  # the environment is not copied to the file
    assert memory_keyring.store == {}


def test_settings_given_by_the_caller_never_save_environment_values(
    qtbot: QtBot, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_settings(Settings(qbt_url="http://from-file:8080/", qbt_username="someone"))
    monkeypatch.setenv("EARMARK_QBT_URL", "http://from-env:8080/")
    effective = load_settings()  # what the app holds: the environment applied
    assert effective.qbt_url == "http://from-env:8080/"
    dialog = SettingsDialog(effective, SecretStore())
    qtbot.addWidget(dialog)
    dialog.open_page("qbittorrent")
    assert dialog.qbt_url.text() == "http://from-env:8080/" and not dialog.qbt_url.isEnabled()
    dialog.qbt_username.setText("someone-else")
    saved = press_ok(qtbot, dialog)
    assert saved.qbt_url == "http://from-env:8080/" and saved.qbt_username == "someone-else"
    stored = load_settings(env=False)
    assert stored.qbt_url == "http://from-file:8080/" and stored.qbt_username == "someone-else"


def test_a_keyring_that_refuses_keeps_the_dialog_open(
    qtbot: QtBot, tmp_path: Path, profile: Path
) -> None:
    for _ in use_keyring(LockedKeyring()):
        dialog = make_dialog(qtbot)
        dialog.qbt_password.edit.setText("some-password")
        qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
        assert dialog.isVisible()
        assert dialog.save_error.isVisible()
        assert "Nothing was saved" in dialog.save_error.text()
        assert not (profile / "settings.json").exists()
        assert files_containing(tmp_path, "some-password") == []


def test_invalid_values_are_shown_inline_and_block_ok(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    dialog = make_dialog(qtbot)
    assert ok_button(dialog).isEnabled()
    error = dialog.findChild(QLabel, "error-qbt_url")
    dialog.qbt_url.setText("ftp://nas/")
    assert error.isVisible() and "http://" in error.text()
    assert not ok_button(dialog).isEnabled()
    assert not dialog.qbt_test.isEnabled()
    dialog.qbt_url.setText("nas:8080")  # a bare host:port is fine (http is assumed)
    assert not error.isVisible() and ok_button(dialog).isEnabled()

    dialog.qbt_fingerprint.setText("abc")
    assert "64 hex digits" in dialog.errors()["qbt_tls_fingerprint"]
    assert not ok_button(dialog).isEnabled()
    dialog.qbt_fingerprint.setText(FINGERPRINT)
    assert dialog.errors() == {}

    dialog.qbt_total_timeout.setValue(3)
    dialog.qbt_connect_timeout.setValue(10)
    assert "qbt_total_timeout" in dialog.errors()
    dialog.qbt_total_timeout.setValue(30)

    dialog.add_mapping_row("/remote/only", "")
    assert "row 1" in dialog.errors()["path_mappings"]
    dialog.mappings.selectRow(0)
    dialog.remove_mapping.click()
    assert dialog.mappings.rowCount() == 0

    dialog.abs_url.setText("http://")
    assert "abs_url" in dialog.errors()
    dialog.abs_url.setText("")  # not configured is allowed
    dialog.library_dir.setText("relative/folder")
    assert "library_dir" in dialog.errors()
    dialog.library_dir.clear()
    assert dialog.errors() == {} and ok_button(dialog).isEnabled()


def test_open_page_and_non_modal(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.open_page("audiobookshelf")
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.current_page() == "audiobookshelf"
    assert dialog.stack.currentWidget().isVisible()
    dialog.open_page("qbittorrent")
    assert dialog.current_page() == "qbittorrent"
    with pytest.raises(ValueError, match="no settings page"):
        dialog.open_page("advanced")


def test_cancel_discards(qtbot: QtBot, memory_keyring: MemoryKeyring, profile: Path) -> None:
    dialog = make_dialog(qtbot)
    saved: list[object] = []
    dialog.settings_saved.connect(saved.append)
    dialog.qbt_url.setText("http://changed:1/")
    dialog.qbt_password.edit.setText("not-kept")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not dialog.isVisible()
    assert saved == [] and memory_keyring.store == {}
    assert not (profile / "settings.json").exists()
    assert dialog.qbt_url.text() == "" and dialog.qbt_password.edit.text() == ""


def test_browse_uses_a_non_modal_folder_chooser(
    qtbot: QtBot, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot)
    dialog.open_page("library")
    dialog.library_browse.click()
    chooser = dialog.browse_dialog
    assert chooser is not None and chooser.isVisible() and not chooser.isModal()
    chooser.fileSelected.emit(str(tmp_path))
    assert dialog.library_dir.text() == str(tmp_path)
    chooser.close()


# ---- Test buttons ---------------------------------------------------------------------


def finished(label: ResultLabel) -> bool:
    return label.state in ("ok", "failed")


def press_test(qloop: asyncio.AbstractEventLoop, button: Any, label: ResultLabel) -> str:
    button.click()
    assert label.state == "running"
    run_until(qloop, lambda: finished(label), 20, "the test result")
    return label.text()


def test_indexer_and_abs_tests_against_doubles(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, memory_keyring: MemoryKeyring
) -> None:
    prowlarr = ProwlarrDouble()
    jackett = JackettDouble()
    abs_server = AbsDouble()
    for double in (prowlarr, jackett, abs_server):
        qloop.run_until_complete(double.__aenter__())
    try:
        dialog = make_dialog(qtbot)
        dialog.open_page("indexers")
        dialog.prowlarr_url.setText(prowlarr.url)
        dialog.prowlarr_key.edit.setText(prowlarr.api_key)
        text = press_test(qloop, dialog.prowlarr_test, dialog.prowlarr_result)
        assert dialog.prowlarr_result.state == "ok"
        assert text.startswith("✔") and "the API key works" in text
        assert on_window("#1b7f3b") in dialog.prowlarr_result.styleSheet()  # the doctor's green

        dialog.prowlarr_key.edit.setText("not-the-prowlarr-key")
        text = press_test(qloop, dialog.prowlarr_test, dialog.prowlarr_result)
        assert dialog.prowlarr_result.state == "failed" and "wrong API key" in text
        assert "not-the-prowlarr-key" not in text
        assert on_window("#b3261e") in dialog.prowlarr_result.styleSheet()

        dialog.prowlarr_url.setText(f"http://127.0.0.1:{free_port()}/")
        text = press_test(qloop, dialog.prowlarr_test, dialog.prowlarr_result)
        assert dialog.prowlarr_result.state == "failed"
        assert "Cannot reach Prowlarr" in text and "connection refused" in text

        dialog.torznab_url.setText(jackett.feed_url())
        dialog.torznab_key.edit.setText("not-the-jackett-key")
        text = press_test(qloop, dialog.torznab_test, dialog.torznab_result)
        assert dialog.torznab_result.state == "failed" and "Invalid API Key" in text
        assert "not-the-jackett-key" not in text
        dialog.torznab_key.edit.setText(jackett.api_key)
        text = press_test(qloop, dialog.torznab_test, dialog.torznab_result)
        assert dialog.torznab_result.state == "ok" and "Audiobooks (3030)" in text

        dialog.open_page("audiobookshelf")
        dialog.abs_url.setText(abs_server.url)
        dialog.abs_token.edit.setText("wrong-token")
        text = press_test(qloop, dialog.abs_test, dialog.abs_result)
        assert dialog.abs_result.state == "failed" and "wrong API key" in text
        assert dialog.abs_library.count() == 0
        dialog.abs_token.edit.setText(abs_server.token)
        text = press_test(qloop, dialog.abs_test, dialog.abs_result)
        assert dialog.abs_result.state == "ok" and "admin" in text
        library_id = abs_server.recorded["libraries"]["libraries"][0]["id"]
        assert dialog.abs_library.currentText() == "Audiobooks (books)"
        assert dialog.abs_library.currentData() == library_id
        saved = press_ok(qtbot, dialog)
        assert saved.abs_library_id == library_id
    finally:
        for double in (prowlarr, jackett, abs_server):
            qloop.run_until_complete(double.__aexit__(None, None, None))


def test_abs_key_without_admin_rights_is_shown_as_a_caveat(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, memory_keyring: MemoryKeyring
) -> None:
    abs_server = AbsDouble(user_type="user")
    qloop.run_until_complete(abs_server.__aenter__())
    try:
        dialog = make_dialog(qtbot)
        dialog.abs_url.setText(abs_server.url)
        dialog.abs_token.edit.setText(abs_server.token)
        text = press_test(qloop, dialog.abs_test, dialog.abs_result)
        assert dialog.abs_result.state == "ok"
        assert "not an admin" in text and "⚠" in text
        assert "#8a5a00" in dialog.abs_result.styleSheet()
    finally:
        qloop.run_until_complete(abs_server.__aexit__(None, None, None))


def test_qbittorrent_test_runs_the_doctor_on_a_real_server(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, memory_keyring: MemoryKeyring, qbt: QbtInstance
) -> None:
    dialog = make_dialog(qtbot)
    dialog.qbt_url.setText(qbt.url)
    dialog.qbt_username.setText(QBT_USER)
    dialog.qbt_password.edit.setText(QBT_PASSWORD)
    text = press_test(qloop, dialog.qbt_test, dialog.qbt_result)
    assert dialog.qbt_result.state == "ok", text
    version = qbt.admin().facts().version
    assert text.startswith(f"✔ Connected: Earmark can use qBittorrent {version}")
    dialog.qbt_password.edit.setText("not-the-password-xyz")
    text = press_test(qloop, dialog.qbt_test, dialog.qbt_result)
    assert dialog.qbt_result.state == "failed"
    assert "Wrong credentials" in text
    assert "not-the-password-xyz" not in text
    assert qbt.log_text().count("Reason: invalid credentials") == 1


def test_run_connection_doctor_opens_the_wizard_with_the_form(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, memory_keyring: MemoryKeyring
) -> None:
    dialog = make_dialog(qtbot)
    url = f"http://127.0.0.1:{free_port()}/"
    dialog.qbt_url.setText(url)
    dialog.qbt_username.setText("me")
    dialog.qbt_password.edit.setText("pw")
    dialog.qbt_doctor.click()
    wizard = dialog.wizard
    assert wizard is not None and wizard.isVisible() and not wizard.isModal()
    assert wizard.config.url == url and wizard.config.password == "pw"
    run_until(qloop, lambda: wizard.diagnosis is not None, 20, "the diagnosis")
    assert wizard.diagnosis is not None and wizard.diagnosis.verdict == "unreachable"
    dialog.reject()
    wizard.close()


# ---- Qt object lifetime ---------------------------------------------------------------


def python_owned_parts(root: QObject) -> list[str]:
    """Widgets reachable from `root`'s attributes that PySide thinks Python still owns.

    Such a widget sits inside a Qt parent yet would also be freed by Python: a double free
    at exit (it crashed the app when a layout got its widgets before it got its parent).
    Call it before anything runs findChildren(), which repairs the flags as a side effect.
    """
    seen = {id(root)}
    found: list[str] = []

    def walk(obj: object, path: str) -> None:
        for name, value in vars(obj).items():
            if isinstance(value, QObject) and id(value) not in seen:
                seen.add(id(value))
                if Shiboken.ownedByPython(value):
                    found.append(path + name)
                walk(value, f"{path}{name}.")

    walk(root, "")
    return found


def test_every_part_belongs_to_qt_and_the_dialog_is_freed(
    qapp: QApplication, memory_keyring: MemoryKeyring
) -> None:
    dialog = SettingsDialog()
    assert python_owned_parts(dialog) == []
    gone = weakref.ref(dialog)
    del dialog
    gc.collect()
    assert gone() is None  # no reference cycle through Qt connections keeps it alive


def test_tray_and_ranking_choices_have_a_place(
    qtbot: QtBot, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    """Issue 12, defect 15: minimise/close to tray and the ranking words and formats
    existed only in the settings file."""
    dialog = make_dialog(qtbot)
    dialog.open_page("window")
    dialog.minimize_to_tray.setChecked(True)
    dialog.close_to_tray.setChecked(True)
    dialog.open_page("indexers")
    assert dialog.format_preference.text() == "m4b, m4a, flac, opus, mp3"  # the defaults
    dialog.format_preference.setText("MP3, m4b")
    dialog.must_contain.setText("unabridged")
    dialog.must_not_contain.setText("sample, dramatized")
    dialog.reject_abridged.setChecked(True)
    saved = press_ok(qtbot, dialog)
    assert saved.minimize_to_tray and saved.close_to_tray
    policy = RankingPolicy.from_dict(saved.ranking_policy)
    assert policy.format_preference == ("mp3", "m4b")
    assert policy.must_contain == ("unabridged",)
    assert policy.must_not_contain == ("sample", "dramatized")
    assert policy.reject_abridged and policy.prefer_unabridged
    again = SettingsDialog(load_settings())
    qtbot.addWidget(again)
    assert again.format_preference.text() == "mp3, m4b"
    assert again.close_to_tray.isChecked()


def test_closing_keeps_earmark_in_the_tray_when_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    app = AppController(Settings(close_to_tray=True), SecretStore(), Store.open_in(tmp_path / "p"))
    try:
        monkeypatch.setattr(Tray, "available", property(lambda _self: True))
        app.window.close_requested.emit()
        assert not app.quit_requested.is_set()
        app.settings.close_to_tray = False
        app.window.close_requested.emit()
        assert app.quit_requested.is_set()
    finally:
        qloop.run_until_complete(app.shutdown())
        app.window.close()
        app.store.close()
