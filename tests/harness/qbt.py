r"""Throw-away qbittorrent-nox instances and a tiny independent WebUI client.

Every real-server test stands on this: an instance with its own profile in a tmp dir,
WebUI and BitTorrent bound to 127.0.0.1 only, and every feature that could send
traffic off this machine switched off (DHT, LSD, PeX, UPnP/NAT-PMP, peer-country
lookups that download a GeoIP database). ``QbtAdmin`` lets tests read back what the
product did without trusting the product's own client.

Profile layout (checked by running 4.5.2 once): ``--profile=P`` keeps everything in
``P/qBittorrent/config/qBittorrent.conf`` and ``P/qBittorrent/data/logs/qbittorrent.log``.

Conf keys verified on 4.5.2 by reading ``/api/v2/app/preferences`` back (asserted in
``tests/integration/test_harness.py``), as ``section / key -> preference``:

  BitTorrent / Session\Port                       -> listen_port
  BitTorrent / Session\Interface                  -> current_network_interface == "lo"
  BitTorrent / Session\InterfaceName              -> (display name, no preference)
  BitTorrent / Session\InterfaceAddress           -> current_interface_address == "127.0.0.1"
  BitTorrent / Session\DHTEnabled                 -> dht False
  BitTorrent / Session\LSDEnabled                 -> lsd False
  BitTorrent / Session\PeXEnabled                 -> pex False
  BitTorrent / Session\DefaultSavePath            -> save_path
  BitTorrent / Session\TempPathEnabled            -> temp_path_enabled False
  BitTorrent / Session\QueueingSystemEnabled      -> queueing_enabled False      (added)
  BitTorrent / Session\RefreshInterval            -> refresh_interval 100        (added)
  Network    / PortForwardingEnabled              -> upnp False
  Preferences / WebUI\Port                        -> web_ui_port
  Preferences / WebUI\Address                     -> web_ui_address == "127.0.0.1"
  Preferences / WebUI\Username                    -> web_ui_username
  Preferences / WebUI\Password_PBKDF2             -> login succeeds
  Preferences / WebUI\MaxAuthenticationFailCount  -> web_ui_max_auth_fail_count
  Preferences / WebUI\LocalHostAuth               -> bypass_local_auth == not value
  Preferences / WebUI\HTTPS\Enabled               -> use_https
  Preferences / WebUI\HTTPS\CertificatePath       -> web_ui_https_cert_path
  Preferences / WebUI\HTTPS\KeyPath               -> web_ui_https_key_path
  Preferences / WebUI\UseUPnP                     -> web_ui_upnp False           (added)
  Preferences / WebUI\HostHeaderValidation        -> web_ui_host_header_validation_enabled
  Preferences / Connection\ResolvePeerCountries   -> resolve_peer_countries False (added)
  Preferences / General\Locale                    -> locale "en"                 (added)

Proof on the real sockets: ``tests.harness.net.bound_sockets`` finds only 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import itertools
import json
import os
import secrets
import ssl
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.harness.tools import qbittorrent_binary
from tests.harness.wait import GiveUp, free_port, wait_until

QBT_USER = "earmark"
QBT_PASSWORD = "correct horse battery"

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
PBKDF2_ITERATIONS = 100_000


def password_pbkdf2(password: str, salt: bytes | None = None) -> str:
    """The ``WebUI\\Password_PBKDF2`` value qBittorrent 4.2+ stores (PBKDF2-HMAC-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return f"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"


def _ini_value(value: str) -> str:
    """Quote a QSettings ini value: unquoted commas would turn it into a string list."""
    if value in ("true", "false") or value.isdigit():
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_conf(sections: Mapping[str, Mapping[str, str]]) -> str:
    """Render ``{section: {key: value}}`` as qBittorrent.conf (keys keep their case)."""
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key}={_ini_value(val)}" for key, val in values.items())
        lines.append("")
    return "\n".join(lines)


def unverified_ssl_context() -> ssl.SSLContext:
    """TLS context that accepts the tests' self-signed certificates. Tests only."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _bool(value: bool) -> str:
    return "true" if value else "false"


@dataclass
class QbtInstance:
    """A running qbittorrent-nox with a throw-away profile, reachable on loopback only."""

    url: str
    web_port: int
    bt_port: int
    username: str
    password: str
    profile: Path
    downloads: Path
    process: subprocess.Popen[bytes]
    output_path: Path
    https: bool = False
    _output: IO[bytes] | None = field(default=None, repr=False)
    _log_offset: int = field(default=0, repr=False)  # log size when this run started
    _out_offset: int = field(default=0, repr=False)  # output size when this run started

    @property
    def conf_path(self) -> Path:
        """The ini file qBittorrent reads at start and rewrites on exit."""
        return self.profile / "qBittorrent" / "config" / "qBittorrent.conf"

    @property
    def log_path(self) -> Path:
        """qBittorrent's own log file (its "Execution Log")."""
        return self.profile / "qBittorrent" / "data" / "logs" / "qbittorrent.log"

    def log_text(self) -> str:
        """qBittorrent's log file content ("" before it is created)."""
        return _read_text(self.log_path)

    def output_text(self) -> str:
        """What the process wrote to stdout/stderr (all runs, appended)."""
        return _read_text(self.output_path)

    def is_running(self) -> bool:
        """Whether the process is still alive."""
        return self.process.poll() is None

    def admin(self, *, login: bool = True) -> QbtAdmin:
        """A fresh QbtAdmin for this instance, logged in unless told otherwise."""
        client = QbtAdmin(self.url, self.username, self.password)
        if login:
            answer = client.login()
            if not answer.ok:
                raise RuntimeError(f"harness login to {self.url} answered {answer}")
        return client

    def stop(self) -> None:
        """Terminate (SIGTERM lets it save its state), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        """Stop and start again with the same profile and ports (sessions are lost).

        The conf is not rewritten: qBittorrent saved its settings on exit, exactly as
        across a real restart.
        """
        self.stop()
        self._launch()
        self._wait_ready()

    def _launch(self) -> None:
        self._log_offset = _text_length(self.log_path)
        self._out_offset = _text_length(self.output_path)
        self.process, self._output = _spawn(self.profile, self.output_path)

    def log_problem(self) -> tuple[str, bool] | None:
        """A start-up failure reported by the current run, as (line, retry-with-new-ports).

        Reads the process output too: the log file is flushed on a ~2 s timer, while
        some fatal errors also go to stderr at once.
        """
        text = self.log_text()[self._log_offset :] + "\n" + self.output_text()[self._out_offset :]
        for line in text.splitlines():
            for marker, retryable in _FATAL_LOG_MARKERS.items():
                if marker in line:
                    return line, retryable
        return None

    def _probe(self) -> bool:
        """True once the WebUI answers like qBittorrent does to an anonymous client.

        Gives up at once when the process died or logged a fatal start-up problem (a
        port taken, or an https setup failure that qBittorrent "handles" by silently
        falling back to http).
        """
        exited = self.process.poll() is not None  # 4.5 exits (code 1) when the WebUI can't bind
        problem = self.log_problem()
        if problem is not None:
            raise _StartProblem(*problem)
        if exited:
            raise _StartProblem(f"process exited with code {self.process.returncode}", False)
        request = urllib.request.Request(f"{self.url}/api/v2/app/version")
        context = unverified_ssl_context() if self.https else None
        try:
            with urllib.request.urlopen(request, timeout=1, context=context) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as exc:
            return exc.code == 403
        except (OSError, ssl.SSLError):
            return False

    def _wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        retryable = False
        try:
            wait_until(self._probe, timeout, 0.05, what=f"qBittorrent WebUI at {self.url}")
            # the BitTorrent port is bound before the WebUI starts: its failure is logged now
            problem = self.log_problem()
            if problem is not None:
                raise _StartProblem(*problem)
        except (TimeoutError, _StartProblem) as exc:
            retryable = isinstance(exc, _StartProblem) and exc.retryable
            self.stop()
            raise QbtStartError(
                f"qbittorrent-nox did not come up at {self.url}: {exc}\n"
                f"--- process output ({self.output_path}) ---\n{self.output_text()[-4000:]}\n"
                f"--- log tail ({self.log_path}) ---\n{self.log_text()[-4000:]}",
                retryable=retryable,
            ) from exc


def _read_text(path: Path) -> str:
    """File content, "" when it does not exist (yet)."""
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _text_length(path: Path) -> int:
    """Length of the text read so far: later reads look only past it (this run)."""
    return len(_read_text(path))


def _spawn(profile: Path, output_path: Path) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start qbittorrent-nox on ``profile`` with stdout/stderr appended to ``output_path``."""
    binary = qbittorrent_binary()
    output = output_path.open("ab")
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", HOME=str(profile))
    process = subprocess.Popen(
        [binary, f"--profile={profile}"],
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # a Ctrl-C in the terminal does not hit it first
    )
    return process, output


# log line fragment -> whether starting again with other ports can help
# (4.5 writes "Web UI:" and exits; 5.x writes "WebUI:" and keeps running without a WebUI)
_FATAL_LOG_MARKERS = {
    "Web UI: Unable to bind": True,
    "WebUI: Unable to bind": True,
    "Failed to listen on IP": True,  # BitTorrent port taken: transfers would never work
    "HTTPS setup failed": False,
}


class _StartProblem(GiveUp):
    """The process died or logged a fatal problem while we waited for it."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class QbtStartError(RuntimeError):
    """qbittorrent-nox did not start; the message carries its output and log tail."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def build_conf(
    *,
    web_port: int,
    bt_port: int,
    downloads: Path,
    username: str,
    password: str,
    max_auth_fail: int,
    local_host_auth: bool,
    https: tuple[Path, Path] | None,
    extra: Mapping[str, Mapping[str, str]] | None,
) -> dict[str, dict[str, str]]:
    """The loopback-only configuration; ``extra`` overrides or adds keys per section."""
    sections: dict[str, dict[str, str]] = {
        "LegalNotice": {"Accepted": "true"},
        "BitTorrent": {
            "Session\\Port": str(bt_port),
            "Session\\Interface": "lo",
            "Session\\InterfaceName": "lo",
            "Session\\InterfaceAddress": "127.0.0.1",
            "Session\\DHTEnabled": "false",
            "Session\\LSDEnabled": "false",
            "Session\\PeXEnabled": "false",
            "Session\\DefaultSavePath": str(downloads),
            "Session\\TempPathEnabled": "false",
            "Session\\QueueingSystemEnabled": "false",
            # torrent states refresh every 100 ms instead of 1500: tests wait less
            "Session\\RefreshInterval": "100",
        },
        "Network": {"PortForwardingEnabled": "false"},
        "Preferences": {
            "WebUI\\Port": str(web_port),
            "WebUI\\Address": "127.0.0.1",
            "WebUI\\Username": username,
            "WebUI\\Password_PBKDF2": password_pbkdf2(password),
            "WebUI\\MaxAuthenticationFailCount": str(max_auth_fail),
            "WebUI\\LocalHostAuth": _bool(local_host_auth),
            "WebUI\\UseUPnP": "false",
            "WebUI\\HTTPS\\Enabled": _bool(https is not None),
            # the GeoIP database download would leave the machine
            "Connection\\ResolvePeerCountries": "false",
            "General\\Locale": "en",
        },
    }
    if https is not None:
        cert, key = https
        sections["Preferences"]["WebUI\\HTTPS\\CertificatePath"] = str(cert)
        sections["Preferences"]["WebUI\\HTTPS\\KeyPath"] = str(key)
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    return sections


def start_qbittorrent(
    base_dir: Path,
    *,
    username: str = QBT_USER,
    password: str = QBT_PASSWORD,
    max_auth_fail: int = 5,
    local_host_auth: bool = True,
    https: tuple[Path, Path] | None = None,
    extra: dict[str, dict[str, str]] | None = None,
) -> QbtInstance:
    """Start a loopback-only qbittorrent-nox under ``base_dir`` and wait for its WebUI.

    Ports are picked free just before start; if the WebUI lost that race (another
    process grabbed the port), it is retried once with new ports.
    """
    base_dir.mkdir(parents=True, exist_ok=True)
    profile = base_dir / "profile"
    downloads = base_dir / "downloads"
    downloads.mkdir(exist_ok=True)
    for attempt in range(2):
        web_port, bt_port = free_port(), free_port()
        scheme = "https" if https else "http"
        conf = build_conf(
            web_port=web_port,
            bt_port=bt_port,
            downloads=downloads,
            username=username,
            password=password,
            max_auth_fail=max_auth_fail,
            local_host_auth=local_host_auth,
            https=https,
            extra=extra,
        )
        conf_path = profile / "qBittorrent" / "config" / "qBittorrent.conf"
        conf_path.parent.mkdir(parents=True, exist_ok=True)
        conf_path.write_text(render_conf(conf))
        output_path = base_dir / "qbittorrent-nox.out"
        log_path = profile / "qBittorrent" / "data" / "logs" / "qbittorrent.log"
        log_offset, out_offset = _text_length(log_path), _text_length(output_path)
        process, output = _spawn(profile, output_path)
        instance = QbtInstance(
            url=f"{scheme}://127.0.0.1:{web_port}",
            web_port=web_port,
            bt_port=bt_port,
            username=username,
            password=password,
            profile=profile,
            downloads=downloads,
            process=process,
            output_path=output_path,
            https=https is not None,
            _output=output,
            _log_offset=log_offset,
            _out_offset=out_offset,
        )
        try:
            instance._wait_ready()
        except QbtStartError as exc:
            if attempt == 0 and exc.retryable:
                continue
            raise
        return instance
    raise AssertionError("unreachable")


@dataclass
class HttpAnswer:
    """A raw WebUI answer, for tests that assert on status codes and headers."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class LoginAnswer:
    """An auth/login answer: 4.x-5.1 say 200 "Ok."/"Fails.", 5.2+ 204 (empty)/401."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        """Logged in."""
        return (self.status == 200 and self.text.strip() == "Ok.") or self.status == 204

    @property
    def refused(self) -> bool:
        """Wrong user name or password (counts toward the IP ban)."""
        return (self.status == 200 and self.text.strip() == "Fails.") or self.status == 401

    @property
    def banned(self) -> bool:
        """The IP is banned after too many failures."""
        return self.status == 403

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.text[:200]!r}"


def _version_tuple(text: str) -> tuple[int, ...]:
    """ "v5.1.0" or "2.11.4" -> (5, 1, 0); a suffix such as "beta1" is ignored."""
    numbers = []
    for part in text.strip().lstrip("v").split("."):
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


@dataclass(frozen=True)
class ServerFacts:
    """The version-dependent behaviour of the qBittorrent under test, read from it.

    Tests assert against these instead of 4.5.2's constants, so the suite runs against
    any build (``EARMARK_TEST_QBT``). Web API 2.11 is qBittorrent 5.0, which renamed
    pause/resume to stop/start and the ``paused*`` states to ``stopped*``.
    """

    version: str  # "v4.5.2"
    api_version: str  # "2.8.19"

    @property
    def stop_renamed(self) -> bool:
        """5.0+: torrents/stop|start and stopped* states."""
        return _version_tuple(self.api_version) >= (2, 11)

    @property
    def stopped_dl(self) -> str:
        """The state of a stopped, incomplete torrent as this server names it."""
        return "stoppedDL" if self.stop_renamed else "pausedDL"

    @property
    def stop_endpoint(self) -> str:
        """The endpoint that stops (pauses) torrents."""
        return "torrents/stop" if self.stop_renamed else "torrents/pause"

    @property
    def login_is_204(self) -> bool:
        """5.2+: a successful login answers 204 with an empty body."""
        return _version_tuple(self.version) >= (5, 2)


def add_accepted(answer: str) -> bool:
    """Whether a torrents/add answer says the torrent was taken.

    Up to 5.1 the body is "Ok." (else "Fails."); 5.2+ answer JSON with counts.
    """
    if answer.strip() == "Ok.":
        return True
    try:
        summary = json.loads(answer)
    except ValueError:
        return False
    if not isinstance(summary, dict):
        return False
    return bool(summary.get("success_count", 0) or summary.get("pending_count", 0))


class QbtAddRefused(RuntimeError):
    """torrents/add answered, but did not take the torrent."""


class QbtHttpError(RuntimeError):
    """A non-2xx WebUI answer where the test expected success."""

    def __init__(self, method: str, url: str, answer: HttpAnswer) -> None:
        super().__init__(f"{method} {url} -> HTTP {answer.status}: {answer.text[:500]!r}")
        self.answer = answer
        self.status = answer.status


class QbtAdmin:
    """A small synchronous WebUI API client (urllib + cookie jar), independent of the product.

    Works over https with self-signed certificates (verification off: tests only).
    After a 403 on an API call it logs in once more and retries, so it survives
    ``QbtInstance.restart()``.
    """

    def __init__(
        self,
        url: str,
        username: str = QBT_USER,
        password: str = QBT_PASSWORD,
        *,
        timeout: float = 10.0,
        auto_login: bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.auto_login = auto_login
        self.cookies = http.cookiejar.CookieJar()
        self._facts: ServerFacts | None = None
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies),
            urllib.request.HTTPSHandler(context=unverified_ssl_context()),
        )

    # -- raw access -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpAnswer:
        """Send one request and return the answer whatever its status (no retry)."""
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(_form(params))
        body: bytes | None = None
        all_headers = dict(headers or {})
        if files:
            body, content_type = _multipart(_form(data or {}), files)
            all_headers["Content-Type"] = content_type
        elif data is not None:
            body = urllib.parse.urlencode(_form(data)).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return HttpAnswer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return HttpAnswer(exc.code, dict(exc.headers), exc.read())

    def _checked(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> HttpAnswer:
        answer = self.request(method, path, params=params, data=data, files=files)
        relogin = self.auto_login and not path.endswith("/auth/login")
        if answer.status == 403 and relogin and self.login().ok:
            answer = self.request(method, path, params=params, data=data, files=files)
        if not 200 <= answer.status < 300:
            raise QbtHttpError(method, self.url + path, answer)
        return answer

    # -- API ------------------------------------------------------------------------

    def login(self, username: str | None = None, password: str | None = None) -> LoginAnswer:
        """POST auth/login; returns the answer, read the way the server's version means it."""
        answer = self.request(
            "POST",
            "/api/v2/auth/login",
            data={
                "username": self.username if username is None else username,
                "password": self.password if password is None else password,
            },
        )
        return LoginAnswer(answer.status, answer.text)

    def logout(self) -> None:
        """POST auth/logout (drops the SID cookie server-side)."""
        self._checked("POST", "/api/v2/auth/logout", data={})

    def get_text(self, path: str, **params: Any) -> str:
        """GET ``path`` and return the body text; raises QbtHttpError unless 2xx."""
        return self._checked("GET", path, params=params).text

    def get_json(self, path: str, **params: Any) -> Any:
        """GET ``path`` and decode its JSON body."""
        return json.loads(self._checked("GET", path, params=params).body)

    def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> str:
        """POST a form (multipart when ``files`` = {field: (filename, bytes)}); body text."""
        return self._checked("POST", path, data=data or {}, files=files).text

    def version(self) -> str:
        """The application version, e.g. "v4.5.2"."""
        return self.get_text("/api/v2/app/version")

    def facts(self) -> ServerFacts:
        """What this server's version does (read once per client, from the server itself)."""
        if self._facts is None:
            self._facts = ServerFacts(
                version=self.version(),
                api_version=self.get_text("/api/v2/app/webapiVersion"),
            )
        return self._facts

    def torrents(self, **filters: Any) -> list[dict[str, Any]]:
        """torrents/info with optional filters (hashes=, category=, filter=, ...)."""
        result: list[dict[str, Any]] = self.get_json("/api/v2/torrents/info", **filters)
        return result

    def torrent(self, info_hash: str) -> dict[str, Any] | None:
        """One torrent's info dict, or None when qBittorrent does not have it."""
        found = self.torrents(hashes=info_hash.lower())
        return found[0] if found else None

    def files(self, info_hash: str) -> list[dict[str, Any]]:
        """torrents/files of one torrent."""
        result: list[dict[str, Any]] = self.get_json("/api/v2/torrents/files", hash=info_hash)
        return result

    def add_torrent(self, torrent: bytes, **params: Any) -> str:
        """torrents/add with the .torrent bytes; raises unless the server accepted it.

        Returns the answer text ("Ok." up to 5.1, a JSON summary from 5.2). Adding is
        asynchronous: wait for the hash to appear before relying on it.
        """
        answer = self.post(
            "/api/v2/torrents/add", data=params, files={"torrents": ("t.torrent", torrent)}
        )
        if not add_accepted(answer):
            raise QbtAddRefused(f"{self.url} refused the torrent: {answer!r}")
        return answer

    def preferences(self) -> dict[str, Any]:
        """app/preferences."""
        result: dict[str, Any] = self.get_json("/api/v2/app/preferences")
        return result

    def set_preferences(self, prefs: Mapping[str, Any]) -> None:
        """app/setPreferences with a JSON object of the changed keys."""
        self.post("/api/v2/app/setPreferences", {"json": json.dumps(dict(prefs))})

    def categories(self) -> dict[str, Any]:
        """torrents/categories."""
        result: dict[str, Any] = self.get_json("/api/v2/torrents/categories")
        return result

    def wait_for_torrent(
        self, info_hash: str, timeout: float = 10.0, **conditions: Any
    ) -> dict[str, Any]:
        """Wait until the torrent exists and each ``field=value`` condition holds.

        A callable value is used as a predicate on the field instead of equality.
        """

        def ready() -> dict[str, Any] | None:
            info = self.torrent(info_hash)
            if info is None:
                return None
            for key, expected in conditions.items():
                actual = info.get(key)
                ok = expected(actual) if callable(expected) else actual == expected
                if not ok:
                    return None
            return info

        what = f"torrent {info_hash} on {self.url}" + (f" with {conditions}" if conditions else "")
        result: dict[str, Any] = wait_until(ready, timeout, 0.1, what=what)
        return result


def _form(values: Mapping[str, Any]) -> dict[str, str]:
    """Form values as qBittorrent expects them (booleans as "true"/"false")."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key] = _bool(value)
        elif isinstance(value, (list, tuple)):
            out[key] = "|".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def _multipart(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes]]
) -> tuple[bytes, str]:
    """Encode a multipart/form-data body (what torrents/add expects for .torrent files)."""
    boundary = "----earmark-harness-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content) in files.items():
        torrent = filename.endswith(".torrent")
        ctype = "application/x-bittorrent" if torrent else "application/octet-stream"
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class QbtFactory:
    """Starts qbittorrent-nox instances for one test and stops all of them afterwards.

    Callable with the keyword arguments of ``start_qbittorrent``; thread-safe so
    several instances can start in parallel (``many``). Used by the ``qbt_factory``
    fixture, which calls ``stop_all`` at teardown even when the test failed.
    """

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.instances: list[QbtInstance] = []
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> QbtInstance:
        with self._lock:
            self._count += 1
            base = self.base_dir / f"qbt{self._count}"
        instance = start_qbittorrent(base, **kwargs)
        with self._lock:
            self.instances.append(instance)
        return instance

    def many(self, count: int, **kwargs: Any) -> list[QbtInstance]:
        """Start ``count`` identically configured instances in parallel."""
        with ThreadPoolExecutor(max_workers=count) as pool:
            futures = [pool.submit(self, **kwargs) for _ in range(count)]
            return [future.result() for future in futures]

    def stop_all(self) -> None:
        """Stop every instance started so far."""
        with self._lock:
            instances = list(self.instances)
        stop_all(instances)

    def diagnostics(self, tail: int = 3000) -> str:
        """Log and output tails of every instance, for a failed test's report."""
        parts = []
        for instance in self.instances:
            parts.append(
                f"=== {instance.url} ({instance.profile}) ===\n"
                f"--- qbittorrent.log ---\n{instance.log_text()[-tail:]}\n"
                f"--- output ---\n{instance.output_text()[-tail:]}"
            )
        return "\n".join(parts)


def stop_all(instances: list[QbtInstance]) -> None:
    """Stop every instance, even if some stop() raises (teardown must not leak processes)."""
    errors: list[BaseException] = []
    for instance in instances:
        try:
            instance.stop()
        except BaseException as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


__all__ = [
    "QBT_PASSWORD",
    "QBT_USER",
    "HttpAnswer",
    "LoginAnswer",
    "QbtAddRefused",
    "QbtAdmin",
    "QbtFactory",
    "QbtHttpError",
    "QbtInstance",
    "QbtStartError",
    "ServerFacts",
    "add_accepted",
    "start_qbittorrent",
]
