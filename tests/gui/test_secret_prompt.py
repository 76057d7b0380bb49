"""Without a keyring, a restart asks for the qBittorrent password before any login
(issue 12, defect 1): it used to log in with an empty password, a failed login that
counts toward qBittorrent's IP ban."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from gui.controller import AppController
from gui.services.status import Link
from gui.settings import Secret, SecretStore, Settings, missing_secrets, save_settings
from gui.store import Store
from gui.views.secret_prompt import SecretPrompt
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import until

pytestmark = pytest.mark.qbt


def test_missing_secrets_are_the_needed_ones_nothing_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("EARMARK_QBT_PASSWORD", raising=False)
    monkeypatch.setenv("EARMARK_PROWLARR_API_KEY", "key")
    secrets = SecretStore()
    settings = Settings(qbt_url="http://127.0.0.1:1/", prowlarr_url="http://127.0.0.1:2/")
    assert missing_secrets(settings, secrets) == [Secret.QBT_PASSWORD]
    secrets.remember_for_session(Secret.QBT_PASSWORD, "typed")
    assert missing_secrets(settings, secrets) == []


def test_the_password_is_asked_once_before_any_login(
    qbt: QbtInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qloop: asyncio.AbstractEventLoop,
) -> None:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("EARMARK_QBT_PASSWORD", raising=False)
    settings = Settings(qbt_url=qbt.url, qbt_username=QBT_USER)
    save_settings(settings, profile)
    app = AppController(settings, SecretStore(), Store.open_in(profile))
    app.service.min_interval = 0.2

    async def scenario() -> None:
        app.start()
        prompts = app.window.findChildren(SecretPrompt)
        assert len(prompts) == 1 and prompts[0].isVisible()
        prompt = prompts[0]
        assert list(prompt.fields) == [Secret.QBT_PASSWORD]
        assert not app.connection.running  # no login before the answer
        assert app.service.client is None
        assert "password" in app.window.link_label.toolTip()
        prompt.fields[Secret.QBT_PASSWORD].setText(QBT_PASSWORD)
        prompt.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        await until(lambda: app.service.status.link is Link.CONNECTED, what="the connection")
        assert not app.window.findChildren(SecretPrompt) or not prompt.isVisible()
        await app.shutdown()

    try:
        qloop.run_until_complete(scenario())
    finally:
        app.window.close()
        app.store.close()


def test_declining_says_where_to_give_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("EARMARK_QBT_PASSWORD", raising=False)
    settings = Settings(qbt_url="http://127.0.0.1:9/", qbt_username=QBT_USER)
    app = AppController(settings, SecretStore(), Store.open_in(profile))

    async def scenario() -> None:
        app.start()
        [prompt] = app.window.findChildren(SecretPrompt)
        prompt.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        assert not app.connection.running
        assert any("Preferences" in text for text in app.window.notices.texts())
        await app.shutdown()

    try:
        qloop.run_until_complete(scenario())
    finally:
        app.window.close()
        app.store.close()


def test_settings_saved_without_the_password_ask_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qloop: asyncio.AbstractEventLoop
) -> None:
    """Saving the settings with "don't remember" and an empty password asks too."""
    profile = tmp_path / "profile"
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(profile))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("EARMARK_QBT_PASSWORD", raising=False)
    app = AppController(Settings(), SecretStore(), Store.open_in(profile))

    async def scenario() -> None:
        app.start()
        assert not app.window.findChildren(SecretPrompt)
        app._settings_saved(Settings(qbt_url="http://127.0.0.1:9/", qbt_username=QBT_USER))
        await until(lambda: app.window.findChildren(SecretPrompt), what="the prompt")
        assert app.service._config is None  # nothing to log in with until it is given
        await app.shutdown()

    try:
        qloop.run_until_complete(scenario())
    finally:
        app.window.close()
        app.store.close()
