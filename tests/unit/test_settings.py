"""Settings file and secrets: secrets never reach the file, the keyring's absence is said."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from gui.settings import (
    Secret,
    SecretStore,
    SecretStoreUnavailable,
    Settings,
    SettingsError,
    config_dir,
    load_settings,
    qbt_config,
    save_settings,
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend kept in memory, as a test stand-in for the OS one."""

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


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "EARMARK_QBT_URL",
        "EARMARK_QBT_USERNAME",
        "EARMARK_QBT_PASSWORD",
        "EARMARK_QBT_TLS_FINGERPRINT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile"))


def test_config_dir_follows_the_environment(tmp_path: Path) -> None:
    assert config_dir() == tmp_path / "profile"


def test_round_trip_and_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Settings(qbt_url="http://192.168.0.48:52095/", qbt_username="me")
    saved.path_mappings = [("F:\\Audiobookshelf\\Downloads", "/mnt/downloads")]
    save_settings(saved)
    assert load_settings() == saved
    monkeypatch.setenv("EARMARK_QBT_URL", "http://other:8080/")
    assert load_settings().qbt_url == "http://other:8080/"
    assert load_settings(env=False).qbt_url == "http://192.168.0.48:52095/"


def test_secrets_go_to_the_keyring_never_the_file(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    store.set(Secret.QBT_PASSWORD, "s3cr3t-pass")
    path = save_settings(Settings(qbt_url="http://h/", qbt_username="me"))
    assert memory_keyring.store == {("earmark", "qbittorrent-password"): "s3cr3t-pass"}
    assert "s3cr3t-pass" not in path.read_text()
    config = qbt_config(load_settings(), store)
    assert config.password == "s3cr3t-pass"
    assert "s3cr3t-pass" not in repr(config)


def test_environment_secret_wins_over_the_keyring(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    SecretStore().set(Secret.QBT_PASSWORD, "from-keyring")
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", "from-env")
    assert SecretStore().get(Secret.QBT_PASSWORD) == "from-env"


def test_no_keyring_backend_is_said_plainly_and_nothing_is_written() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        store = SecretStore()
        assert not store.available()
        assert store.get(Secret.QBT_PASSWORD) is None
        with pytest.raises(SecretStoreUnavailable, match="will not write them to a plain file"):
            store.set(Secret.QBT_PASSWORD, "pw")
    finally:
        keyring.set_keyring(previous)
    assert not config_dir().exists()


def test_a_corrupt_settings_file_is_reported_not_replaced() -> None:
    directory = config_dir()
    directory.mkdir(parents=True)
    (directory / "settings.json").write_text("{not json")
    with pytest.raises(SettingsError, match="cannot read the settings file"):
        load_settings()
    assert (directory / "settings.json").read_text() == "{not json"


def test_unknown_keys_from_a_newer_version_are_ignored() -> None:
    directory = config_dir()
    directory.mkdir(parents=True)
    (directory / "settings.json").write_text(json.dumps({"qbt_url": "http://h/", "future": 1}))
    assert load_settings().qbt_url == "http://h/"


def test_hand_edited_values_of_the_wrong_type_are_named_not_used() -> None:
    directory = config_dir()
    directory.mkdir(parents=True)
    text = (
        '{"qbt_url": 8080, "qbt_connect_timeout": "10", "tag_files": "yes",'
        ' "max_search_attempts": 2.5, "per_indexer_timeout": NaN,'
        ' "path_mappings": ["F:/dl"], "csv_shelves": "to-read", "add_defaults": [],'
        ' "stall_minutes": 45, "run_interval_seconds": 12}'
    )
    (directory / "settings.json").write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for wrong in (
        "'qbt_url' should be a text in quotes, not 8080",
        "'qbt_connect_timeout' should be a number, not \"10\"",
        "'tag_files' should be true or false, not \"yes\"",
        "'max_search_attempts' should be a whole number, not 2.5",
        "'per_indexer_timeout' should be a number, not NaN",
        '\'path_mappings\' should be a list of ["remote", "local"]',
        "'csv_shelves' should be a list of texts",
        "'add_defaults' should be an object",
    ):
        assert wrong in message, message
    assert "stall_minutes" not in message  # an int where a float goes is a number
    assert (directory / "settings.json").read_text() == text  # never replaced


def test_well_typed_values_load_in_their_field_types() -> None:
    directory = config_dir()
    directory.mkdir(parents=True)
    (directory / "settings.json").write_text(
        json.dumps({"stall_minutes": 45, "max_search_attempts": 3.0, "path_mappings": [["a", "b"]]})
    )
    settings = load_settings()
    assert settings.stall_minutes == 45.0 and isinstance(settings.stall_minutes, float)
    assert settings.max_search_attempts == 3 and isinstance(settings.max_search_attempts, int)
    assert settings.path_mappings == [("a", "b")]


def test_hand_edited_add_defaults_of_the_wrong_type_are_dropped() -> None:
    from gui.views.add_dialog import options_from_defaults

    options = options_from_defaults(
        {"category": 7, "tags": "abc", "save_path": ["x"], "stopped": "no",
         "content_layout": "Sideways", "sequential": True}
    )  # fmt: skip
    assert (options.category, options.tags, options.save_path) == (None, (), None)
    assert (options.stopped, options.content_layout, options.sequential) == (False, None, True)
    kept = options_from_defaults({"category": "books", "tags": ["a", 1, "b"]})
    assert (kept.category, kept.tags) == ("books", ("a", "b"))
