"""A stand-in for qBittorrent 5.0, 5.1 and 5.2's WebUI API, for tests of the client's 5.x paths.

**Why it exists.** The only qBittorrent here is qbittorrent-nox 4.5.2, and the client is
tested against it for real (`tests/harness`, `tests/integration/test_qbt_client_real.py`).
qBittorrent 5.x changed the authentication and several endpoints, and no 5.x binary can
run here, so this double exists *only* for the 5.x behaviour no binary here can show. It is
not a general fake: anything 4.x can demonstrate must be tested against the real server.
It never replaces those tests and must not be used for them.

**Where its behaviour comes from.** qBittorrent's source at release-5.0.0, 5.1.4 and 5.2.3,
as summarised in `/work/shared/reference/qbittorrent-webui-auth.md` (WA =
`src/webui/webapplication.cpp`, AC = `src/webui/api/authcontroller.cpp`), and the action
bodies of `src/webui/api/torrentscontroller.cpp` and `synccontroller.cpp`:

* Web API versions: 5.0.0 = 2.11.2, 5.1.x = 2.11.4, 5.2.x = 2.15.1 (`app/webapiVersion`
  answers e.g. ``2.15.1``, `app/version` answers e.g. ``v5.2.3``; both need a session).
* Request checks, in qBittorrent's order (5.2.3 WA:658-663, 692-808, 327-328, 279-290):
  Host header (its port must be qBittorrent's own port; the host the local address or in
  the domain list) and CSRF (the host and port of ``Origin``/``Referer`` must equal the
  target's) → **401** ``Unauthorized``, login included; then the session cookie; no session
  and not ``auth/login`` → **403** ``Forbidden``; unknown endpoint → 404 (5.x removed
  ``torrents/pause|resume``); wrong method → 405 (POST-only actions, since 4.4.4).
* Login (AC 5.2.3:43-60, WA:370-373, 472; PR #23202): an existing session is answered as a
  success without checking credentials; a banned IP gets **403** ``Your IP address has been
  banned after too many failed authentication attempts.`` even with the right password;
  success is **204** with an empty body on 5.2 (200 ``Ok.`` before) and sets the cookie
  ``QBT_SID_<configured WebUI port>`` on 5.2 (``SID`` before), ``HttpOnly; path=/``,
  ``SameSite=Lax`` plus ``expires`` on 5.2.2+ (``Strict`` before); wrong credentials are
  **401** ``Unauthorized`` on 5.2 (200 ``Fails.`` before). Each failure counts per IP and
  never decays; reaching ``web_ui_max_auth_fail_count`` (default 5, 0 = never) starts a ban
  of ``web_ui_ban_duration`` seconds, so the attempt *after* the 5th failure is refused; a
  success resets the count; sessions made before a ban keep working. (The login rows, the
  ``Unauthorized`` body and ``text/plain; charset=UTF-8`` also match a published
  measurement of 5.2.3/5.2.4 in tclancy/lintarr's notes.)
* Sessions live in memory and expire after ``web_ui_session_timeout`` idle seconds or at a
  restart (`expire_sessions()` here).
* 5.0 renamed ``torrents/pause|resume`` to ``stop|start``, the states ``pausedUP/DL`` to
  ``stoppedUP/DL``, the ``torrents/add`` parameter ``paused`` to ``stopped`` (a ``paused``
  field is ignored), and the ``torrents/info`` filters ``paused/resumed`` to
  ``stopped/running``.
* Web API 2.11.8+ answers an empty result with **204** (5.2 here), 200 and no body before.
* ``torrents/add``: URLs (one per line) are processed first, then every uploaded file; a
  file that is not a torrent aborts with **415** ``Error: '<name>' is not a valid torrent
  file.``; a torrent already known (or still loading) fails. 2.14.0+ (5.2) answers JSON
  ``{"success_count", "failure_count", "pending_count", "added_torrent_ids"}`` with 200, 202
  when any are pending (http URLs, which this double never downloads), 409 when all failed;
  before that ``Ok.`` (anything added or pending) or ``Fails.``, both 200. Unknown
  categories and tags named at add are created.
* ``sync/maindata`` state is per session (synccontroller.cpp 5.1.4:463-511): a ``rid`` equal
  to the last one sent (or the last accepted one) gets only the changed fields of changed
  torrents plus ``torrents_removed``/``categories_removed``/``tags_removed``; anything else,
  and every first request of a session, gets ``full_update: true``; the next ``rid`` is the
  session's last one plus 1, so a new session starts again at 1.

**Not modelled:** the localhost/subnet authentication bypass, Basic and Bearer (API key)
authentication, reverse-proxy ``X-Forwarded-For`` handling, HTTPS and the ``Secure`` flag,
the 15-session cap of unreleased ``master``, trackers, peers, and actual downloading.
"""

from __future__ import annotations

import asyncio
import copy
import fnmatch
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gui.core.torrents import TorrentInputError, parse_magnet, parse_torrent

#: qBittorrent version → Web API version (from each release's webapplication.h).
API_VERSIONS = {"5.0.0": "2.11.2", "5.1.4": "2.11.4", "5.2.3": "2.15.1"}

BAN_TEXT = "Your IP address has been banned after too many failed authentication attempts."
MAX_ETA = 8640000  # qBittorrent's "infinity" for eta
LOCAL_ADDRESS = "127.0.0.1"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
}

#: Actions qBittorrent accepts only by POST (WA m_allowedMethod); all others take GET or POST.
POST_ONLY = frozenset(
    {
        "auth/login",
        "auth/logout",
        "app/setPreferences",
        "app/shutdown",
        "torrents/add",
        "torrents/addTags",
        "torrents/createCategory",
        "torrents/delete",
        "torrents/recheck",
        "torrents/setCategory",
        "torrents/start",
        "torrents/stop",
    }
)

_DOWNLOADING = frozenset(
    {
        "downloading",
        "metaDL",
        "forcedMetaDL",
        "stalledDL",
        "checkingDL",
        "stoppedDL",
        "queuedDL",
        "forcedDL",
    }
)
_COMPLETED = frozenset(
    {"uploading", "stalledUP", "checkingUP", "stoppedUP", "queuedUP", "forcedUP"}
)


class ApiError(Exception):
    """What an action throws; becomes ``status`` with the message (or the reason) as body."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Received:
    """One request as the double saw it (the password is never recorded)."""

    method: str
    endpoint: str
    params: dict[str, str]
    files: list[str]
    cookies: dict[str, str]
    status: int = 0


@dataclass
class _Session:
    sid: str
    last_access: float
    last_sent_id: int = 0
    accepted_id: int = 0
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Failures:
    count: int = 0
    banned_until: float | None = None


@dataclass
class _Source:
    """A torrent as parsed from a magnet link or a .torrent upload."""

    info_hash: str
    name: str
    size: int
    files: list[tuple[str, int]]
    has_metadata: bool
    magnet_uri: str


@dataclass
class _AddOptions:
    stopped: bool = False
    category: str = ""
    tags: list[str] = field(default_factory=list)
    save_path: str = ""
    rename: str = ""


@dataclass
class _Call:
    """One request as an action sees it: form and query fields merged, files apart."""

    request: web.Request
    session: _Session | None
    params: dict[str, str]
    uploads: list[tuple[str, bytes]]


Handler = Callable[[_Call], Awaitable[web.Response]]


class Qbt5Double:
    """An aiohttp server on 127.0.0.1 that answers like qBittorrent 5.x's WebUI API.

    ``async with Qbt5Double(version="5.2.3") as double:`` then point the client at
    ``double.url``. ``web_port`` is qBittorrent's *configured* WebUI port (cookie name,
    Host-header check, ``web_ui_port``); by default the port actually bound. Giving another
    one simulates a port remap such as Docker's ``-p <bound>:<web_port>``: with Host-header
    validation on (the default, as in qBittorrent) every request is then refused with 401.
    """

    def __init__(
        self,
        *,
        version: str = "5.2.3",
        username: str = "admin",
        password: str = "adminadmin",
        web_port: int | None = None,
        max_auth_fail_count: int = 5,
        ban_duration: int = 3600,
        session_timeout: float = 3600,
        host_header_validation: bool = True,
        domain_list: str = "*",
        csrf_protection: bool = True,
        save_path: str = "/downloads",
        add_delay: float = 0.0,
    ) -> None:
        if version not in API_VERSIONS:
            raise ValueError(
                f"the double models qBittorrent {sorted(API_VERSIONS)}; 4.x is tested "
                "against the real qbittorrent-nox"
            )
        self.version = version
        self.api_version = API_VERSIONS[version]
        self.username = username
        self.password = password
        self._configured_port = web_port
        self.add_delay = add_delay
        #: Answer 401 ``Unauthorized`` to every request, login included, as a failing
        #: Host-header or CSRF check does.
        self.reject_all_401 = False
        self.prefs: dict[str, Any] = {
            "locale": "en",
            "save_path": save_path,
            "temp_path_enabled": False,
            "temp_path": "",
            "add_stopped_enabled": False,
            "queueing_enabled": False,
            "web_ui_address": "*",
            "web_ui_port": web_port or 0,
            "web_ui_username": username,
            "web_ui_max_auth_fail_count": max_auth_fail_count,
            "web_ui_ban_duration": ban_duration,
            "web_ui_session_timeout": session_timeout,
            "web_ui_host_header_validation_enabled": host_header_validation,
            "web_ui_domain_list": domain_list,
            "web_ui_csrf_protection_enabled": csrf_protection,
            "web_ui_secure_cookie_enabled": True,
            "web_ui_clickjacking_protection_enabled": True,
            "web_ui_reverse_proxy_enabled": False,
            "web_ui_reverse_proxies_list": "",
            "web_ui_use_custom_http_headers_enabled": False,
            "web_ui_custom_http_headers": "",
            "bypass_local_auth": False,
            "bypass_auth_subnet_whitelist_enabled": False,
            "bypass_auth_subnet_whitelist": "",
            "use_https": False,
            "refresh_interval": 1500,
        }

        # state
        self.torrents: dict[str, dict[str, Any]] = {}
        self.files: dict[str, list[dict[str, Any]]] = {}
        self.categories: dict[str, dict[str, Any]] = {}
        self.tags: list[str] = []
        self._loading: set[str] = set()
        self._sessions: dict[str, _Session] = {}
        self._failures: dict[str, _Failures] = {}
        self._expire_on: dict[str, int] = {}
        self._delays: dict[str, float] = {}
        self._arrivals: dict[str, asyncio.Event] = {}
        self._preempt_next_add = False

        # what was received
        self.received: list[Received] = []
        self.login_attempts = 0
        self.last_add_form: dict[str, str] | None = None
        self.last_add_files: list[str] = []
        self.last_add_answer: tuple[int, str] | None = None
        self.maindata_rids: list[int] = []

        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: dict[str, Handler] = {
            "auth/login": self._login,
            "auth/logout": self._logout,
            "app/version": self._app_version,
            "app/webapiVersion": self._webapi_version,
            "app/preferences": self._preferences,
            "app/setPreferences": self._set_preferences,
            "torrents/info": self._info,
            "torrents/add": self._add,
            "torrents/stop": self._stop,
            "torrents/start": self._start,
            "torrents/delete": self._delete,
            "torrents/recheck": self._recheck,
            "torrents/setCategory": self._set_category,
            "torrents/createCategory": self._create_category,
            "torrents/categories": self._categories,
            "torrents/addTags": self._add_tags,
            "torrents/files": self._files,
            "torrents/properties": self._properties,
            "sync/maindata": self._maindata,
        }

    # ---- running ----------------------------------------------------------------------

    async def __aenter__(self) -> Qbt5Double:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCAL_ADDRESS, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        if self._configured_port is None:
            self.prefs["web_ui_port"] = self.port
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{LOCAL_ADDRESS}:{self.port}/"

    @property
    def web_port(self) -> int:
        return int(self.prefs["web_ui_port"])

    @property
    def cookie_name(self) -> str:
        return f"QBT_SID_{self.web_port}" if self._is_52 else "SID"

    @property
    def _is_52(self) -> bool:
        return _version(self.api_version) >= (2, 14, 0)

    # ---- controls for tests -----------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every session ends, as after ``web_ui_session_timeout`` idle or a restart."""
        self._sessions.clear()

    def expire_sessions_on(self, endpoint: str, times: int = 1) -> None:
        """The next ``times`` requests to ``endpoint`` find every session expired."""
        self._expire_on[endpoint] = times

    def slow_down(self, endpoint: str, seconds: float) -> None:
        """Hold every request to ``endpoint`` this long before qBittorrent looks at it."""
        self._delays[endpoint] = seconds

    def arrival(self, endpoint: str) -> asyncio.Event:
        """An event set as soon as a request to ``endpoint`` arrives (before any check)."""
        return self._arrivals.setdefault(endpoint, asyncio.Event())

    def restart(self) -> None:
        """qBittorrent restarted: sessions and the in-memory ban counters are gone."""
        self._sessions.clear()
        self._failures.clear()

    def preempt_next_add(self) -> None:
        """Someone else adds the same torrent just before the next ``torrents/add`` lands."""
        self._preempt_next_add = True

    def hits(self, endpoint: str) -> int:
        return sum(1 for r in self.received if r.endpoint == endpoint)

    def put_torrent(
        self,
        info_hash: str,
        *,
        name: str | None = None,
        size: int = 0,
        progress: float = 0.0,
        state: str | None = None,
        category: str = "",
        tags: Iterable[str] = (),
        files: Iterable[tuple[str, int]] = (),
        has_metadata: bool = True,
    ) -> dict[str, Any]:
        """Put a torrent in directly, as if it had been there all along."""
        info_hash = info_hash.lower()
        torrent = self._new_torrent(
            info_hash,
            name=name or info_hash,
            size=size,
            stopped=False,
            has_metadata=has_metadata,
            save_path=self.prefs["save_path"],
            category=category,
            tags=list(tags),
            magnet_uri=f"magnet:?xt=urn:btih:{info_hash}",
        )
        torrent["progress"] = progress
        torrent["state"] = state or self._running_state(torrent)
        self.torrents[info_hash] = torrent
        self.files[info_hash] = _file_list(list(files), progress)
        return torrent

    def set_torrent(self, info_hash: str, **fields: Any) -> None:
        """Change fields of a torrent, as qBittorrent's own progress would."""
        self.torrents[info_hash.lower()].update(fields)

    # ---- the request pipeline ---------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if not request.path.startswith("/api/v2/"):
            return _text(404, "Not Found")
        endpoint = request.path[len("/api/v2/") :]
        params: dict[str, str] = dict(request.query)
        uploads: list[tuple[str, bytes]] = []
        if request.method == "POST":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads.append((value.filename, value.file.read()))
                else:
                    params[key] = str(value)
        shown = {k: ("***" if k == "password" else v) for k, v in params.items()}
        record = Received(
            request.method, endpoint, shown, [n for n, _ in uploads], dict(request.cookies)
        )
        self.received.append(record)
        if endpoint == "auth/login":
            self.login_attempts += 1  # every one received, whatever qBittorrent makes of it
        self.arrival(endpoint).set()
        response = await self._handle(request, endpoint, params, uploads)
        record.status = response.status
        return response

    async def _handle(
        self,
        request: web.Request,
        endpoint: str,
        params: dict[str, str],
        uploads: list[tuple[str, bytes]],
    ) -> web.Response:
        if self._delays.get(endpoint):
            await asyncio.sleep(self._delays[endpoint])
        if self.reject_all_401 or not self._host_ok(request) or not self._csrf_ok(request):
            return _text(401, "Unauthorized")
        if self._expire_on.get(endpoint, 0) > 0:
            self._expire_on[endpoint] -= 1
            self.expire_sessions()
        session = self._session_for(request)
        if session is None and endpoint != "auth/login":
            return _text(403, "Forbidden")
        handler = self._routes.get(endpoint)
        if handler is None:
            return _text(404, "Not Found")
        if endpoint in POST_ONLY and request.method != "POST":
            return _text(405, "Method Not Allowed")
        if request.method not in ("GET", "POST"):
            return _text(405, "Method Not Allowed")
        try:
            return await handler(_Call(request, session, params, uploads))
        except ApiError as exc:
            return _text(exc.status, exc.message or _REASONS.get(exc.status, ""))

    def _host_ok(self, request: web.Request) -> bool:
        if not self.prefs["web_ui_host_header_validation_enabled"]:
            return True
        host, port = _split_host(request.headers.get("Host", ""))
        if port is not None and port != self.web_port:
            return False  # "WebUI: Invalid Host header, port mismatch"
        if host == LOCAL_ADDRESS:
            return True
        domains = [d.strip() for d in str(self.prefs["web_ui_domain_list"]).split(";")]
        return any(d and fnmatch.fnmatch(host.lower(), d.lower()) for d in domains)

    def _csrf_ok(self, request: web.Request) -> bool:
        if not self.prefs["web_ui_csrf_protection_enabled"]:
            return True
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if not origin:
            return True
        target = request.headers.get("Host", "")
        forwarded = request.headers.get("X-Forwarded-Host")
        if forwarded and (not self._is_52 or self.prefs["web_ui_reverse_proxy_enabled"]):
            target = forwarded
        parsed = urlsplit(origin)
        return (parsed.hostname or "", parsed.port) == _split_host(target)

    def _session_for(self, request: web.Request) -> _Session | None:
        sid = request.cookies.get(self.cookie_name)
        if sid is None:
            return None
        session = self._sessions.get(sid)
        if session is None:
            return None
        timeout = float(self.prefs["web_ui_session_timeout"])
        now = time.monotonic()
        if timeout > 0 and now - session.last_access > timeout:
            del self._sessions[sid]
            return None
        session.last_access = now
        return session

    def _empty(self) -> web.Response:
        """An action without a result: 204 from Web API 2.11.8, 200 and no body before."""
        return (
            web.Response(status=204) if _version(self.api_version) >= (2, 11, 8) else web.Response()
        )

    # ---- auth -------------------------------------------------------------------------

    async def _login(self, call: _Call) -> web.Response:
        if call.session is not None:  # an existing session wins, credentials unchecked
            return web.Response(status=204) if self._is_52 else _text(200, "Ok.")
        ip = call.request.remote or ""
        if self._banned(ip):
            raise ApiError(403, BAN_TEXT)
        username, password = call.params.get("username"), call.params.get("password")
        if username == self.username and password == self.password:
            self._failures.pop(ip, None)
            sid = secrets.token_urlsafe(24)
            self._sessions[sid] = _Session(sid, time.monotonic())
            response = web.Response(status=204) if self._is_52 else _text(200, "Ok.")
            response.headers.add("Set-Cookie", self._cookie(sid))
            return response
        limit = int(self.prefs["web_ui_max_auth_fail_count"])
        if limit > 0:
            failures = self._failures.setdefault(ip, _Failures())
            failures.count += 1
            if failures.count >= limit:
                failures.banned_until = time.monotonic() + int(self.prefs["web_ui_ban_duration"])
        if self._is_52:
            return _text(401, "Unauthorized")
        return _text(200, "Fails.")

    def _banned(self, ip: str) -> bool:
        failures = self._failures.get(ip)
        if failures is None or failures.banned_until is None:
            return False
        if time.monotonic() >= failures.banned_until:
            del self._failures[ip]
            return False
        return True

    def _cookie(self, sid: str) -> str:
        """The Set-Cookie value as QNetworkCookie::toRawForm() writes it."""
        parts = [f"{self.cookie_name}={sid}", "HttpOnly"]
        if self.prefs["web_ui_csrf_protection_enabled"]:
            parts.append("SameSite=Lax" if self._is_52 else "SameSite=Strict")
        timeout = float(self.prefs["web_ui_session_timeout"])
        if self._is_52 and timeout > 0:
            parts.append(f"expires={_qt_date(time.time() + timeout)}")
        parts.append("path=/")
        return "; ".join(parts)

    async def _logout(self, call: _Call) -> web.Response:
        if call.session is not None:
            self._sessions.pop(call.session.sid, None)
        return self._empty()

    # ---- app --------------------------------------------------------------------------

    async def _app_version(self, call: _Call) -> web.Response:
        return _text(200, f"v{self.version}")

    async def _webapi_version(self, call: _Call) -> web.Response:
        return _text(200, self.api_version)

    async def _preferences(self, call: _Call) -> web.Response:
        return web.json_response(self.prefs)

    async def _set_preferences(self, call: _Call) -> web.Response:
        _require(call.params, "json")
        try:
            changes = json.loads(call.params["json"])
        except ValueError:
            changes = {}
        if isinstance(changes, dict):
            for key, value in changes.items():
                if key == "web_ui_password":
                    self.password = str(value)
                elif key == "web_ui_username":
                    self.username = str(value)
                    self.prefs[key] = self.username
                elif key in self.prefs and key != "web_ui_port":
                    self.prefs[key] = value
        return self._empty()

    # ---- torrents ---------------------------------------------------------------------

    async def _info(self, call: _Call) -> web.Response:
        wanted = {h.lower() for h in call.params.get("hashes", "").split("|") if h}
        found = []
        for torrent in self.torrents.values():
            if wanted and torrent["hash"] not in wanted:
                continue
            if "category" in call.params and torrent["category"] != call.params["category"]:
                continue
            if "tag" in call.params and not _has_tag(torrent, call.params["tag"]):
                continue
            if not _filter_matches(call.params.get("filter", ""), torrent):
                continue
            found.append(dict(torrent))
        if found and call.params.get("sort"):
            key = call.params["sort"]
            if key not in found[0]:
                raise ApiError(400, "'sort' parameter is invalid")
            found.sort(key=lambda t: t[key], reverse=call.params.get("reverse") == "true")
        offset = int(call.params.get("offset") or 0)
        limit = int(call.params.get("limit") or 0)
        if offset < 0:
            offset = max(len(found) + offset, 0)
        found = found[offset:]
        if limit > 0:
            found = found[:limit]
        return web.json_response(found)

    async def _add(self, call: _Call) -> web.Response:
        params = call.params
        self.last_add_form = dict(params)
        self.last_add_files = [name for name, _ in call.uploads]
        stopped = _parse_bool(params.get("stopped"))  # 5.x: a "paused" field means nothing
        options = _AddOptions(
            stopped=bool(self.prefs["add_stopped_enabled"]) if stopped is None else stopped,
            category=params.get("category", ""),
            tags=[t.strip() for t in params.get("tags", "").split(",") if t.strip()],
            save_path=params.get("savepath", "").strip(),
            rename=params.get("rename", "").strip(),
        )
        preempt, self._preempt_next_add = self._preempt_next_add, False
        success = failure = pending = 0
        added: list[str] = []

        def accept(source: _Source) -> None:
            nonlocal success, failure
            if preempt and source.info_hash not in self.torrents:
                self._insert(source, _AddOptions())  # someone else was faster
            if source.info_hash in self.torrents or source.info_hash in self._loading:
                failure += 1  # a duplicate (qBittorrent may merge its trackers into it)
                return
            self._insert(source, options)
            success += 1
            added.append(source.info_hash)

        for line in params.get("urls", "").split("\n"):
            url = line.strip()
            if not url:
                continue
            if url.lower().startswith(("http://", "https://")):
                pending += 1  # qBittorrent downloads it first; the double never does
                continue
            try:
                magnet = parse_magnet(url)
            except TorrentInputError:
                failure += 1
                continue
            name = magnet.display_name or magnet.info_hash
            accept(_Source(magnet.info_hash, name, 0, [], False, magnet.uri))
        for filename, data in call.uploads:
            try:
                parsed = parse_torrent(data)
            except TorrentInputError as exc:
                message = f"Error: '{filename}' is not a valid torrent file."
                self.last_add_answer = (415, message)
                raise ApiError(415, message) from exc
            accept(
                _Source(
                    parsed.info_hash,
                    parsed.name,
                    parsed.total_size,
                    list(parsed.files),
                    True,
                    parsed.magnet_uri(),
                )
            )

        if not self._is_52:
            text = "Ok." if success or pending else "Fails."
            self.last_add_answer = (200, text)
            return _text(200, text)
        answer = {
            "success_count": success,
            "failure_count": failure,
            "pending_count": pending,
            "added_torrent_ids": added,
        }
        status = 202 if pending else 200 if success else 409
        self.last_add_answer = (status, json.dumps(answer))
        return web.json_response(answer, status=status)

    def _insert(self, source: _Source, options: _AddOptions) -> None:
        category = options.category
        if category and category not in self.categories:
            self.categories[category] = {"name": category, "savePath": ""}
        for tag in options.tags:
            if tag not in self.tags:
                self.tags.append(tag)
        default_path = self.categories.get(category, {}).get("savePath") or self.prefs["save_path"]
        info_hash = source.info_hash
        torrent = self._new_torrent(
            info_hash,
            name=options.rename or source.name,
            size=source.size,
            stopped=options.stopped,
            has_metadata=source.has_metadata,
            save_path=options.save_path or default_path,
            category=category,
            tags=options.tags,
            magnet_uri=source.magnet_uri,
        )

        def appear() -> None:
            self._loading.discard(info_hash)
            self.torrents[info_hash] = torrent
            self.files[info_hash] = _file_list(source.files, 0.0)

        if self.add_delay > 0:  # qBittorrent adds asynchronously
            self._loading.add(info_hash)
            asyncio.get_running_loop().call_later(self.add_delay, appear)
        else:
            appear()

    def _new_torrent(
        self,
        info_hash: str,
        *,
        name: str,
        size: int,
        stopped: bool,
        has_metadata: bool,
        save_path: str,
        category: str,
        tags: list[str],
        magnet_uri: str,
    ) -> dict[str, Any]:
        now = int(time.time())
        torrent: dict[str, Any] = {
            "added_on": now,
            "amount_left": size,
            "auto_tmm": False,
            "availability": 0,
            "category": category,
            "comment": "",
            "completed": 0,
            "completion_on": -1,
            "content_path": f"{save_path.rstrip('/')}/{name}",
            "dl_limit": -1,
            "dlspeed": 0,
            "download_path": "",
            "downloaded": 0,
            "downloaded_session": 0,
            "eta": MAX_ETA,
            "f_l_piece_prio": False,
            "force_start": False,
            "has_metadata": has_metadata,
            "hash": info_hash,
            "inactive_seeding_time_limit": -2,
            "infohash_v1": info_hash if len(info_hash) == 40 else "",
            "infohash_v2": "",
            "last_activity": now,
            "magnet_uri": magnet_uri,
            "max_inactive_seeding_time": -1,
            "max_ratio": -1,
            "max_seeding_time": -1,
            "name": name,
            "num_complete": 0,
            "num_incomplete": 0,
            "num_leechs": 0,
            "num_seeds": 0,
            "popularity": 0,
            "priority": 0,
            "private": False,
            "progress": 0.0,
            "ratio": 0,
            "ratio_limit": -2,
            "reannounce": 0,
            "root_path": "",
            "save_path": save_path,
            "seeding_time": 0,
            "seeding_time_limit": -2,
            "seen_complete": -1,
            "seq_dl": False,
            "size": size,
            "state": "",
            "super_seeding": False,
            "tags": ", ".join(sorted(tags)),
            "time_active": 0,
            "total_size": size,
            "tracker": "",
            "trackers_count": 0,
            "up_limit": -1,
            "uploaded": 0,
            "uploaded_session": 0,
            "upspeed": 0,
        }
        torrent["state"] = _stopped_state(torrent) if stopped else self._running_state(torrent)
        return torrent

    @staticmethod
    def _running_state(torrent: dict[str, Any]) -> str:
        if torrent["progress"] >= 1:
            return "stalledUP"
        return "stalledDL" if torrent["has_metadata"] else "metaDL"

    def _selected(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """qBittorrent's applyToTorrents(): ``all``, or the listed ids that exist."""
        ids = params["hashes"].split("|")
        if ids == ["all"]:
            return list(self.torrents.values())
        return [self.torrents[i.lower()] for i in ids if i.lower() in self.torrents]

    async def _stop(self, call: _Call) -> web.Response:
        _require(call.params, "hashes")
        for torrent in self._selected(call.params):
            torrent.update(state=_stopped_state(torrent), dlspeed=0, upspeed=0, eta=MAX_ETA)
        return self._empty()

    async def _start(self, call: _Call) -> web.Response:
        _require(call.params, "hashes")
        for torrent in self._selected(call.params):
            if torrent["state"].startswith("stopped"):
                torrent["state"] = self._running_state(torrent)
        return self._empty()

    async def _delete(self, call: _Call) -> web.Response:
        _require(call.params, "hashes", "deleteFiles")
        for torrent in self._selected(call.params):
            del self.torrents[torrent["hash"]]
            self.files.pop(torrent["hash"], None)
        return self._empty()

    async def _recheck(self, call: _Call) -> web.Response:
        _require(call.params, "hashes")
        return self._empty()

    async def _set_category(self, call: _Call) -> web.Response:
        _require(call.params, "hashes", "category")
        category = call.params["category"]
        for torrent in self._selected(call.params):
            if category and category not in self.categories:
                raise ApiError(409, "Incorrect category name")
            torrent["category"] = category
        return self._empty()

    async def _create_category(self, call: _Call) -> web.Response:
        _require(call.params, "category")
        name = call.params["category"]
        if not name:
            raise ApiError(400, "Category cannot be empty")
        if name.startswith("/") or name.endswith("/") or "//" in name:
            raise ApiError(409, "Incorrect category name")
        if name in self.categories:
            raise ApiError(409, "Unable to create category")
        self.categories[name] = {"name": name, "savePath": call.params.get("savePath", "")}
        return self._empty()

    async def _categories(self, call: _Call) -> web.Response:
        return web.json_response(self.categories)

    async def _add_tags(self, call: _Call) -> web.Response:
        _require(call.params, "hashes", "tags")
        new = [t.strip() for t in call.params["tags"].split(",") if t.strip()]
        for torrent in self._selected(call.params):
            current = set(filter(None, torrent["tags"].split(", ")))
            current.update(new)
            torrent["tags"] = ", ".join(sorted(current))
            for tag in new:
                if tag not in self.tags:
                    self.tags.append(tag)
        return self._empty()

    def _one(self, params: dict[str, str]) -> dict[str, Any]:
        _require(params, "hash")
        torrent = self.torrents.get(params["hash"].lower())
        if torrent is None:
            raise ApiError(404)
        return torrent

    async def _files(self, call: _Call) -> web.Response:
        torrent = self._one(call.params)
        files = self.files.get(torrent["hash"], []) if torrent["has_metadata"] else []
        return web.json_response(files)

    async def _properties(self, call: _Call) -> web.Response:
        t = self._one(call.params)
        meta = t["has_metadata"]
        return web.json_response(
            {
                "hash": t["hash"],
                "infohash_v1": t["infohash_v1"],
                "infohash_v2": t["infohash_v2"],
                "name": t["name"],
                "save_path": t["save_path"],
                "download_path": t["download_path"],
                "comment": t["comment"],
                "creation_date": -1,
                "created_by": "",
                "addition_date": t["added_on"],
                "completion_date": t["completion_on"],
                "last_seen": t["seen_complete"],
                "total_size": t["total_size"] if meta else -1,
                "piece_size": 16384 if meta else -1,
                "pieces_num": -(-t["total_size"] // 16384) if meta else -1,
                "pieces_have": 0,
                "progress": t["progress"],
                "share_ratio": 0,
                "total_downloaded": t["downloaded"],
                "total_uploaded": t["uploaded"],
                "total_wasted": 0,
                "dl_speed": t["dlspeed"],
                "up_speed": t["upspeed"],
                "dl_limit": t["dl_limit"],
                "up_limit": t["up_limit"],
                "eta": t["eta"],
                "seeds": 0,
                "peers": 0,
                "nb_connections": 0,
                "time_elapsed": 0,
                "seeding_time": 0,
                "is_private": False,
                "private": False,
                "has_metadata": meta,
            }
        )

    # ---- sync -------------------------------------------------------------------------

    def _snapshot(self) -> dict[str, Any]:
        torrents = {}
        for info_hash, torrent in self.torrents.items():
            fields = dict(torrent)
            del fields["hash"]  # maindata keys torrents by hash (KEY_TORRENT_ID removed)
            torrents[info_hash] = fields
        return copy.deepcopy(
            {
                "torrents": torrents,
                "categories": self.categories,
                "tags": list(self.tags),
                "server_state": {
                    "connection_status": "connected",
                    "dl_info_speed": sum(t["dlspeed"] for t in self.torrents.values()),
                    "up_info_speed": sum(t["upspeed"] for t in self.torrents.values()),
                    "dl_info_data": 0,
                    "up_info_data": 0,
                    "dht_nodes": 0,
                    "free_space_on_disk": 100 * 1024**3,
                    "queueing": self.prefs["queueing_enabled"],
                    "use_alt_speed_limits": False,
                    "refresh_interval": self.prefs["refresh_interval"],
                    "use_subcategories": False,
                },
            }
        )

    async def _maindata(self, call: _Call) -> web.Response:
        session = call.session
        assert session is not None
        try:
            accepted = int(call.params.get("rid", "0"))
        except ValueError:
            accepted = 0
        self.maindata_rids.append(accepted)
        base: dict[str, Any] | None = None
        if accepted > 0 and session.last_sent_id > 0:
            if accepted == session.last_sent_id:
                session.accepted_id = accepted
            if accepted == session.accepted_id:
                base = session.snapshots.get(accepted)
        now = self._snapshot()
        rid = session.last_sent_id % 1000000 + 1
        data = _full(now) if base is None else _diff(base, now)
        data["rid"] = rid
        session.snapshots = {k: v for k, v in session.snapshots.items() if k == session.accepted_id}
        session.snapshots[rid] = now
        session.last_sent_id = rid
        return web.json_response(data)


# ---- helpers ------------------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _text(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/plain", charset="UTF-8")


def _require(params: dict[str, str], *names: str) -> None:
    missing = [n for n in names if n not in params]
    if missing:
        raise ApiError(400, f"Missing required parameters: {', '.join(missing)}")


def _parse_bool(text: str | None) -> bool | None:
    """Utils::String::parseBool: "true"/"false" in any case, anything else is no value."""
    if text is None:
        return None
    lowered = text.strip().lower()
    return True if lowered == "true" else False if lowered == "false" else None


def _split_host(value: str) -> tuple[str, int | None]:
    parsed = urlsplit("//" + value)
    try:
        port = parsed.port
    except ValueError:
        port = -1
    return parsed.hostname or "", port


def _qt_date(timestamp: float) -> str:
    """QNetworkCookie's expires format: ``ddd, dd-MMM-yyyy hh:mm:ss GMT`` (C locale)."""
    t = time.gmtime(timestamp)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d}-{_MONTHS[t.tm_mon - 1]}-{t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _stopped_state(torrent: dict[str, Any]) -> str:
    return "stoppedUP" if torrent["progress"] >= 1 else "stoppedDL"


def _has_tag(torrent: dict[str, Any], tag: str) -> bool:
    tags = [t for t in torrent["tags"].split(", ") if t]
    return not tags if tag == "" else tag in tags


def _filter_matches(name: str, torrent: dict[str, Any]) -> bool:
    """TorrentFilter of 5.x; an unknown name (4.x's paused/resumed too) means "all"."""
    state = torrent["state"]
    stopped = state.startswith("stopped")
    checks: dict[str, bool] = {
        "downloading": state in _DOWNLOADING,
        "seeding": state in _COMPLETED and not stopped,
        "completed": state in _COMPLETED,
        "stopped": stopped,
        "running": not stopped,
        "stalled": state in ("stalledUP", "stalledDL"),
        "stalled_uploading": state == "stalledUP",
        "stalled_downloading": state == "stalledDL",
        "active": torrent["dlspeed"] > 0 or torrent["upspeed"] > 0,
        "inactive": torrent["dlspeed"] == 0 and torrent["upspeed"] == 0,
    }
    return checks.get(name, True)


def _file_list(files: list[tuple[str, int]], progress: float) -> list[dict[str, Any]]:
    listed = []
    start = 0
    for index, (path, size) in enumerate(files):
        pieces = max(-(-size // 16384), 1)
        entry: dict[str, Any] = {
            "index": index,
            "name": path,
            "size": size,
            "progress": progress,
            "priority": 1,
            "piece_range": [start, start + pieces - 1],
            "availability": 0,
        }
        if index == 0:
            entry["is_seed"] = progress >= 1
        listed.append(entry)
        start += pieces
    return listed


def _full(now: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"full_update": True}
    for key in ("torrents", "categories", "tags"):
        if now[key]:
            data[key] = now[key]
    data["server_state"] = now["server_state"]
    return data


def _changed(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in new.items() if old.get(k) != v}


def _diff(base: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    torrents = {}
    for info_hash, fields in now["torrents"].items():
        changed = _changed(base["torrents"].get(info_hash, {}), fields)
        if changed:
            torrents[info_hash] = changed
    if torrents:
        data["torrents"] = torrents
    removed = [h for h in base["torrents"] if h not in now["torrents"]]
    if removed:
        data["torrents_removed"] = removed
    categories = {}
    for name, fields in now["categories"].items():
        changed = _changed(base["categories"].get(name, {}), fields)
        if changed:
            categories[name] = changed
    if categories:
        data["categories"] = categories
    gone = [c for c in base["categories"] if c not in now["categories"]]
    if gone:
        data["categories_removed"] = gone
    tags = [t for t in now["tags"] if t not in base["tags"]]
    if tags:
        data["tags"] = tags
    tags_gone = [t for t in base["tags"] if t not in now["tags"]]
    if tags_gone:
        data["tags_removed"] = tags_gone
    server_state = _changed(base["server_state"], now["server_state"])
    if server_state:
        data["server_state"] = server_state
    return data
