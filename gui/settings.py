"""Settings: non-secret choices in a JSON file, secrets in the OS keyring.

The profile folder is `EARMARK_CONFIG_DIR` when set (tests and portable use always set it),
else the platform's per-user config folder. Secrets never touch the settings file: they
come from an explicit environment variable (headless use) or the keyring (service
`earmark`). When no keyring backend exists, that is said plainly and nothing falls back to
a plaintext file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import platformdirs

from gui.core.redact import REDACTOR

if TYPE_CHECKING:
    from gui.clients.qbittorrent import QbtConfig

APP_NAME = "Earmark"
KEYRING_SERVICE = "earmark"
SETTINGS_FILE = "settings.json"


class Secret(StrEnum):
    """Secrets by their keyring user name; each has an environment variable for headless use."""

    QBT_PASSWORD = "qbittorrent-password"
    QBT_HTTP_PASSWORD = "qbittorrent-proxy-password"
    PROWLARR_API_KEY = "prowlarr-api-key"
    TORZNAB_API_KEY = "torznab-api-key"
    ABS_TOKEN = "audiobookshelf-token"

    @property
    def env_var(self) -> str:
        return SECRET_ENV[self]


SECRET_ENV = {
    Secret.QBT_PASSWORD: "EARMARK_QBT_PASSWORD",
    Secret.QBT_HTTP_PASSWORD: "EARMARK_QBT_HTTP_PASSWORD",
    Secret.PROWLARR_API_KEY: "EARMARK_PROWLARR_API_KEY",
    Secret.TORZNAB_API_KEY: "EARMARK_TORZNAB_API_KEY",
    Secret.ABS_TOKEN: "EARMARK_ABS_TOKEN",
}


@dataclass
class Settings:
    """Everything the user chooses that is not a secret (so it may sit in a plain file)."""

    qbt_url: str = ""
    qbt_username: str = ""
    qbt_tls_fingerprint: str = ""
    qbt_http_username: str = ""  # HTTP basic auth of a reverse proxy in front, if any
    qbt_host_header: str = ""  # a Host header qBittorrent accepts (behind a port remap)
    qbt_connect_timeout: float = 10.0
    qbt_total_timeout: float = 30.0
    qbt_default_category: str = "audiobooks"
    qbt_default_save_path: str = ""
    prowlarr_url: str = ""
    torznab_url: str = ""
    abs_url: str = ""
    abs_library_id: str = ""
    library_dir: str = ""
    path_mappings: list[tuple[str, str]] = field(default_factory=list)
    # window behaviour
    add_without_asking: bool = False
    add_defaults: dict[str, Any] = field(default_factory=dict)  # the add dialog's last choices
    minimize_to_tray: bool = False
    close_to_tray: bool = False  # closing the window leaves Earmark running in the tray
    #: Goodreads shelves whose books a CSV import wants; custom exclusive shelves
    #: ("want-to-listen") are added here by name.
    csv_shelves: list[str] = field(default_factory=lambda: ["to-read"])
    # the acquisition workflow (gui.services.workflow)
    ranking_policy: dict[str, Any] = field(default_factory=dict)  # RankingPolicy.to_dict()
    grab_category: str = ""  # qBittorrent category of grabbed books; "" = qbt_default_category
    stall_minutes: float = 60.0  # no progress for this long: blocklist, try the next release
    search_backoff_minutes: float = 30.0  # first wait after a search without a result
    search_backoff_max_minutes: float = 1440.0  # the wait doubles up to this
    max_search_attempts: int = 10  # then the book fails; 0 = never give up
    per_indexer_timeout: float = 20.0  # seconds
    run_interval_seconds: float = 30.0  # between two passes of the background loop
    library_refresh_minutes: float = 60.0  # how often a pass re-reads the ABS library
    # importing finished downloads (gui.services.importing)
    tag_files: bool = True  # write tags on the library copies (never on the seeding files)
    use_hardlinks_when_not_tagging: bool = True  # untagged copies may share the data
    enhance_metadata: bool = False  # ask the metadata providers during the import
    auto_apply_threshold: float = 0.9  # match confidence applied without review
    review_below_threshold: bool = True  # a weaker match waits for the user's review
    id3_version: int = 3  # MP3 tags: 3 (what Windows Explorer reads) or 4
    abs_match_provider: str = ""  # ask ABS to match a new item with this provider; "" = no
    allow_upgrades: bool = False  # replace a different copy already in the book folder
    remove_after_seeding: bool = False  # remove the torrent once qBittorrent stopped it
    delete_data_after_seeding: bool = False  # ...with its data (the library copy stays)


#: Environment overrides of the configuration contract, read by GUI and CLI alike.
SETTING_ENV = {
    "qbt_url": "EARMARK_QBT_URL",
    "qbt_username": "EARMARK_QBT_USERNAME",
    "qbt_tls_fingerprint": "EARMARK_QBT_TLS_FINGERPRINT",
    "qbt_http_username": "EARMARK_QBT_HTTP_USERNAME",
    "prowlarr_url": "EARMARK_PROWLARR_URL",
    "torznab_url": "EARMARK_TORZNAB_URL",
    "abs_url": "EARMARK_ABS_URL",
    "library_dir": "EARMARK_LIBRARY_DIR",
}


class SettingsError(Exception):
    """The settings file exists but cannot be used; never silently replaced."""


class SecretStoreUnavailable(Exception):
    """No keyring backend: the message tells the user what they can do instead."""


def config_dir() -> Path:
    override = os.environ.get("EARMARK_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def load_settings(directory: Path | None = None, *, env: bool = True) -> Settings:
    """The saved settings with the environment overrides applied on top."""
    path = (directory or config_dir()) / SETTINGS_FILE
    settings = Settings()
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"cannot read the settings file {path}: {exc}") from exc
        if not isinstance(stored, dict):
            raise SettingsError(f"the settings file {path} does not hold a JSON object")
        settings = _from_dict(stored, path)
    if env:
        for name, variable in SETTING_ENV.items():
            value = os.environ.get(variable)
            if value is not None:
                setattr(settings, name, value)
    return settings


def _from_dict(stored: dict[str, Any], path: Path | None = None) -> Settings:
    """Settings from the file's object, each value checked against its field: a hand
    edit that put a string where a number goes is refused with the key, not met later as
    a traceback deep inside a client."""
    defaults = Settings()
    known = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in stored.items():
        if key not in known:
            continue  # a setting from a newer version: ignore rather than fail
        checked = _checked(value, getattr(defaults, key), key)
        if isinstance(checked, _Wrong):
            problems.append(f"'{key}' should be {checked.expected}, not {_shown(value)}")
        else:
            values[key] = checked
    if problems:
        where = f"the settings file {path}" if path is not None else "the settings"
        raise SettingsError(
            f"{where} has values of the wrong type: {'; '.join(problems)} — correct them or "
            "remove those lines (their defaults then apply)"
        )
    return Settings(**values)


@dataclass(frozen=True)
class _Wrong:
    expected: str


def _checked(value: Any, default: Any, key: str) -> Any:
    """``value`` in the type of the field's default, or `_Wrong` saying what is wanted."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else _Wrong("true or false")
    if isinstance(default, int | float):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            return _Wrong("a number")
        if isinstance(default, int) and float(value) != int(value):
            return _Wrong("a whole number")
        return type(default)(value)
    if isinstance(default, str):
        return value if isinstance(value, str) else _Wrong("a text in quotes")
    if isinstance(default, dict):
        return value if isinstance(value, dict) else _Wrong("an object { ... }")
    if key == "path_mappings":
        pairs = isinstance(value, list) and all(
            isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in value
        )
        return [(r, loc) for r, loc in value] if pairs else _Wrong('a list of ["remote", "local"]')
    if isinstance(default, list):
        texts = isinstance(value, list) and all(isinstance(x, str) for x in value)
        return list(value) if texts else _Wrong('a list of texts ["...", "..."]')
    return value


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def save_settings(settings: Settings, directory: Path | None = None) -> Path:
    """Write atomically: a crash mid-write must not leave a truncated settings file."""
    target_dir = directory or config_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / SETTINGS_FILE
    data = json.dumps(dataclasses.asdict(settings), indent=2, sort_keys=True)
    write_atomically(path, data, new_mode=0o600)
    return path


def write_atomically(path: Path, text: str, *, new_mode: int = 0o644) -> None:
    """Replace `path` with `text` (UTF-8, LF) so that a crash leaves the old file or the
    new one, never a part. The file keeps its permissions; a new one gets `new_mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = new_mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _keyring() -> ModuleType:
    """keyring, imported on first use: its backends load slowly and the window's first
    paint should not wait for them."""
    import keyring
    import keyring.errors

    return keyring


class SecretStore:
    """Reads secrets from the environment first, then this session's memory, then the keyring.

    The memory layer holds what the user typed with "don't remember": usable until Earmark
    quits, never written anywhere.
    """

    def __init__(self) -> None:
        self._session: dict[Secret, str] = {}

    def remember_for_session(self, secret: Secret, value: str) -> None:
        REDACTOR.add(value, secret.value)
        self._session[secret] = value

    def get(self, secret: Secret) -> str | None:
        """The secret's value, registered with the redactor on the way out: every secret
        Earmark uses passes here, so every text that leaves the process can hide it."""
        value = self._lookup(secret)
        REDACTOR.add(value, secret.value)
        return value

    def _lookup(self, secret: Secret) -> str | None:
        from_env = os.environ.get(secret.env_var)
        if from_env is not None:
            return from_env
        if secret in self._session:
            return self._session[secret]
        try:
            stored: str | None = _keyring().get_password(KEYRING_SERVICE, secret.value)
            return stored
        except _keyring().errors.KeyringError:
            return None

    def set(self, secret: Secret, value: str) -> None:
        REDACTOR.add(value, secret.value)
        try:
            _keyring().set_password(KEYRING_SERVICE, secret.value, value)
        except _keyring().errors.KeyringError as exc:
            raise SecretStoreUnavailable(self.unavailable_message()) from exc

    def delete(self, secret: Secret) -> None:
        try:
            _keyring().delete_password(KEYRING_SERVICE, secret.value)
        except _keyring().errors.PasswordDeleteError:
            pass
        except _keyring().errors.KeyringError as exc:
            raise SecretStoreUnavailable(self.unavailable_message()) from exc

    def register_all(self) -> None:
        """Look every secret up once, so that the redactor hides each configured one even
        in a command that does not use it (an echoed Torznab key in `earmark add`)."""
        for secret in Secret:
            self.get(secret)

    def available(self) -> bool:
        backend = _keyring().get_keyring()
        priority = getattr(backend, "priority", 0)
        return not type(backend).__module__.startswith("keyring.backends.fail") and bool(
            priority > 0
        )

    def unavailable_message(self) -> str:
        return (
            "No system keyring is available to store secrets (on Linux: a Secret Service "
            "such as GNOME Keyring or KWallet). Earmark will not write them to a plain file: "
            "set them in environment variables (e.g. EARMARK_QBT_PASSWORD) or enter them "
            "each time."
        )


#: Which setting makes a secret needed: the secret is asked for only when it is used.
SECRET_NEEDED_BY = {
    Secret.QBT_PASSWORD: "qbt_url",
    Secret.QBT_HTTP_PASSWORD: "qbt_http_username",
    Secret.PROWLARR_API_KEY: "prowlarr_url",
    Secret.TORZNAB_API_KEY: "torznab_url",
    Secret.ABS_TOKEN: "abs_url",
}
#: The secrets of a qBittorrent login: without them no login is tried (a failed login
#: counts toward qBittorrent's IP ban).
QBT_SECRETS = (Secret.QBT_PASSWORD, Secret.QBT_HTTP_PASSWORD)


def missing_secrets(settings: Settings, secrets: SecretStore) -> list[Secret]:
    """The secrets the settings need that nothing holds (no environment variable, nothing
    typed this session, nothing in a keyring): what to ask for before they are used."""
    return [
        secret
        for secret, setting in SECRET_NEEDED_BY.items()
        if getattr(settings, setting) and secrets.get(secret) is None
    ]


def qbt_config(settings: Settings, secrets: SecretStore) -> QbtConfig:
    """The qBittorrent client's configuration from settings and secrets."""
    # Imported here: the window's first paint should not wait for aiohttp to load.
    from gui.clients.http import HttpOptions
    from gui.clients.qbittorrent import QbtConfig

    return QbtConfig(
        url=settings.qbt_url,
        username=settings.qbt_username,
        password=secrets.get(Secret.QBT_PASSWORD) or "",
        http=HttpOptions(
            connect_timeout=settings.qbt_connect_timeout,
            total_timeout=settings.qbt_total_timeout,
            tls_fingerprint=settings.qbt_tls_fingerprint or None,
            host_header=settings.qbt_host_header or None,
            basic_auth=(
                (settings.qbt_http_username, secrets.get(Secret.QBT_HTTP_PASSWORD) or "")
                if settings.qbt_http_username
                else None
            ),
        ),
    )
