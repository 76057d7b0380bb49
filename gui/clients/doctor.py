"""The connection doctor: finds the *real* reason qBittorrent refuses us.

The folklore fix for "login OK, then 403" is "add your IP to the whitelist"; it is wrong
(the whitelist only skips login, it never refuses a logged-in client) and it opens the API
to the network. The doctor probes the layers in order - address, DNS, TCP, TLS, the
unauthenticated Web API, one login, the session - and stops at the first that fails, so the
verdict names the cause and the fix names the setting.

It makes at most one login attempt per run: every failed login counts toward qBittorrent's
IP ban, and a diagnostic tool must never be the thing that gets the user banned.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

from yarl import URL

from gui.clients.errors import (
    BadCredentialsError,
    ClientError,
    IpBannedError,
    TlsError,
    UnreachableError,
    short_answer,
)
from gui.clients.http import display_url, ensure_base_url, normalize_fingerprint
from gui.clients.qbittorrent import Answer, QBittorrentClient, QbtConfig, login_succeeded

VERDICTS = (
    "ok",
    "unreachable",
    "tls_error",
    "not_qbittorrent",
    "bad_credentials",
    "ip_banned",
    "host_header_rejected",
    "csrf_rejected",
    "session_not_kept",
    "forbidden",
    "unexpected",
)

WEBUI_OPTIONS = "qBittorrent → Tools → Options → Web UI"


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str


@dataclass
class Diagnosis:
    """The doctor's answer: one verdict, the fix, and the steps that led there."""

    verdict: str
    summary: str
    fix: str
    steps: list[Step] = field(default_factory=list)
    security: list[str] = field(default_factory=list)
    qbittorrent_version: str | None = None
    api_version: str | None = None
    #: A preference change that fixes the problem, for the settings wizard to offer.
    preference_change: dict[str, Any] | None = None
    #: A Host header qBittorrent accepts when the configured one is refused: with it the
    #: wizard can log in and apply `preference_change`.
    working_host_header: str | None = None
    login_attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "summary": self.summary,
            "fix": self.fix,
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps],
        }


class _Verdict(Exception):
    """Raised inside a probe to end the run with a verdict."""

    def __init__(
        self, verdict: str, summary: str, fix: str, change: dict[str, Any] | None = None
    ) -> None:
        super().__init__(verdict)
        self.verdict = verdict
        self.summary = summary
        self.fix = fix
        self.change = change


StepListener = Callable[[Step], None]


class Doctor:
    """One diagnosis run against one qBittorrent configuration."""

    def __init__(self, config: QbtConfig, *, on_step: StepListener | None = None) -> None:
        self.config = config
        self.on_step = on_step
        self.steps: list[Step] = []
        self.security: list[str] = []
        self.login_attempts = 0
        self.qbt_version: str | None = None
        self.api_version: str | None = None
        self.working_host_header: str | None = None

    def _step(self, name: str, ok: bool, detail: str) -> None:
        step = Step(name, ok, detail)
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    async def run(self) -> Diagnosis:
        try:
            base = self._check_url()
            async with QBittorrentClient(self.config) as client:
                await self._diagnose(base, client)
        except _Verdict as verdict:
            return self._result(verdict.verdict, verdict.summary, verdict.fix, verdict.change)
        except Exception as exc:  # the doctor must always answer, even about itself
            self._step("unexpected", False, f"{type(exc).__name__}: {exc}")
            return self._result(
                "unexpected",
                f"The diagnosis stopped on an unexpected error: {exc}",
                "Run `earmark doctor` again; if it repeats, report the steps above.",
            )
        return self._result(
            "ok",
            f"Earmark can use {self.qbt_version or 'qBittorrent'} at {display_url(base)}.",
            "Nothing to fix.",
        )

    def _result(
        self, verdict: str, summary: str, fix: str, change: dict[str, Any] | None = None
    ) -> Diagnosis:
        return Diagnosis(
            verdict=verdict,
            summary=summary,
            fix=fix,
            steps=self.steps,
            security=self.security,
            qbittorrent_version=self.qbt_version,
            api_version=self.api_version,
            preference_change=change,
            working_host_header=self.working_host_header,
            login_attempts=self.login_attempts,
        )

    # ---- the probes, in order ----------------------------------------------------------

    def _check_url(self) -> URL:
        try:
            base = ensure_base_url(self.config.url)
        except ValueError as exc:
            self._step("address", False, str(exc))
            raise _Verdict(
                "unreachable",
                "The qBittorrent address is not usable.",
                "Enter the Web UI address as you open it in a browser, "
                "e.g. http://192.168.0.48:8080/ (with the sub-path if behind a proxy).",
            ) from exc
        if self.config.http.tls_fingerprint:
            try:
                normalize_fingerprint(self.config.http.tls_fingerprint)
            except ValueError as exc:
                self._step("address", False, str(exc))
                raise _Verdict(
                    "tls_error", "The pinned TLS fingerprint is malformed.", str(exc)
                ) from exc
        self._step("address", True, f"{display_url(base)}")
        return base

    async def _diagnose(self, base: URL, client: QBittorrentClient) -> None:
        host = base.host or ""
        port = base.port or (443 if base.scheme == "https" else 80)
        address = await self._connect(await self._resolve(host, port), host, port)
        if base.scheme == "https":
            await self._tls(address, host, port)
        probe = await self._probe_api(client, base, address)
        bypass = probe.status == 200
        if bypass:
            self.security.append(
                "qBittorrent answered without a login: an authentication bypass is active "
                "for this computer (localhost bypass or the IP subnet whitelist)."
            )
            self._step("login", True, "skipped: qBittorrent lets this computer in without a login")
        else:
            await self._login(client)
        await self._session(client, base, bypass)
        await self._inspect(client)

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            self._step("dns", True, f"{host} is an IP address, no lookup needed")
            return [host]
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM),
                timeout=self.config.http.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            self._step("dns", False, f"{host} could not be resolved ({exc})")
            raise _Verdict(
                "unreachable",
                f"The host name {host!r} does not resolve to an address.",
                "Check the spelling of the host name, or use qBittorrent's IP address "
                "(e.g. http://192.168.0.48:8080/).",
            ) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._step("dns", True, f"{host} resolves to {', '.join(addresses)}")
        return addresses

    async def _connect(self, addresses: list[str], host: str, port: int) -> str:
        """The first address that accepts a connection (a name may resolve to several)."""
        failure: BaseException | None = None
        for address in addresses:
            try:
                writer = await self._open(address, port)
            except (TimeoutError, OSError) as exc:
                failure = exc
                continue
            await self._close(writer)
            self._step("connect", True, f"{address}:{port} accepts connections")
            return address
        where = f"{', '.join(addresses)} port {port}"
        if isinstance(failure, ConnectionRefusedError):
            self._step("connect", False, f"{where} refused the connection")
            raise _Verdict(
                "unreachable",
                f"Nothing listens on {host}:{port}.",
                "Check that qBittorrent is running with its Web UI enabled "
                f"({WEBUI_OPTIONS} → 'Web User Interface (Remote control)') and that the "
                "port in the URL is the Web UI port.",
            ) from failure
        reason = "no answer in time" if isinstance(failure, TimeoutError) else str(failure)
        self._step("connect", False, f"{where}: {reason}")
        raise _Verdict(
            "unreachable",
            f"{host}:{port} cannot be reached ({reason}).",
            "Check the address, that the machine is on, and that no firewall between "
            "the two computers drops the connection.",
        ) from failure

    async def _tls(self, address: str, host: str, port: int) -> None:
        pinned = self.config.http.tls_fingerprint
        presented = await self._peer_fingerprint(address, host, port)
        if pinned:
            if presented is None:
                self._step("tls", False, "no TLS handshake possible on this port")
                raise self._plain_http_verdict(host, port)
            if presented != normalize_fingerprint(pinned):
                self._step(
                    "tls", False, f"certificate fingerprint {presented} is not the pinned one"
                )
                raise _Verdict(
                    "tls_error",
                    "The server's certificate is not the one you pinned.",
                    f"If qBittorrent's certificate was replaced on purpose, pin the new one: "
                    f"{presented}. Otherwise something else answers at this address.",
                )
            self._step("tls", True, "the certificate matches the pinned fingerprint")
            return
        context = ssl.create_default_context()
        try:
            writer = await self._tls_connect(address, host, port, context)
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or str(exc)
            self._step("tls", False, f"certificate not trusted: {reason}")
            fingerprint = f" Its SHA-256 fingerprint is {presented}." if presented else ""
            raise _Verdict(
                "tls_error",
                f"qBittorrent's certificate is not trusted ({reason}).",
                "If this is your qBittorrent's own (self-signed) certificate, pin it in "
                "Earmark's settings or with EARMARK_QBT_TLS_FINGERPRINT." + fingerprint,
            ) from exc
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            self._step("tls", False, f"TLS handshake failed: {exc}")
            raise self._plain_http_verdict(host, port) from exc
        await self._close(writer)
        self._step("tls", True, "the certificate is valid for this host")

    async def _tls_connect(
        self, address: str, host: str, port: int, context: ssl.SSLContext
    ) -> asyncio.StreamWriter:
        """TCP, then the TLS handshake on it, so every failure still closes the socket.

        ``open_connection(ssl=...)`` inside ``wait_for`` leaks the transport when the
        timeout cancels a handshake a plain-http server never answers (an https URL for
        an http WebUI).
        """
        timeout = self.config.http.connect_timeout
        writer = await self._open(address, port)
        try:
            await writer.start_tls(context, server_hostname=host, ssl_handshake_timeout=timeout)
        except BaseException:
            writer.transport.abort()
            raise
        return writer

    async def _open(self, address: str, port: int) -> asyncio.StreamWriter:
        """A TCP probe connection within the connect timeout.

        ``asyncio.timeout`` rather than ``wait_for``: on Python 3.11 ``wait_for`` can lose a
        connection that completes as the timeout fires (CPython gh-86296), and the socket is
        then left to the garbage collector ("unclosed transport").
        """
        async with asyncio.timeout(self.config.http.connect_timeout):
            _, writer = await asyncio.open_connection(address, port)
        return writer

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        """Drop a probe connection at once and wait until its socket is closed.

        Aborted, not closed: a graceful TLS close waits for the server's close_notify,
        which qBittorrent does not send, so each HTTPS probe cost the full connect timeout
        and the socket was then left to the garbage collector ("unclosed transport").
        A probe has nothing to flush, so nothing is lost.
        """
        writer.transport.abort()
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout(self.config.http.connect_timeout):
                await writer.wait_closed()

    def _plain_http_verdict(self, host: str, port: int) -> _Verdict:
        return _Verdict(
            "tls_error",
            f"{host}:{port} does not speak TLS.",
            "Use http:// instead of https://, or enable HTTPS in "
            f"{WEBUI_OPTIONS} → 'Use HTTPS instead of HTTP'.",
        )

    async def _peer_fingerprint(self, address: str, host: str, port: int) -> str | None:
        """The SHA-256 of whatever certificate the server presents, trusted or not."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            writer = await self._tls_connect(address, host, port, context)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError):
            return None
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        await self._close(writer)
        return hashlib.sha256(der).hexdigest() if der else None

    async def _probe_api(self, client: QBittorrentClient, base: URL, address: str) -> Answer:
        """Unauthenticated GET app/version: 403 login needed, 401 refused, 200 bypass."""
        answer = await self._send(client, "GET", "app/version")
        body = answer.text.strip()
        if answer.status == 403 and _is_qbt_text(body):
            self._step("webui", True, "a qBittorrent Web API answers; a login is needed")
            return answer
        if answer.status == 200 and _looks_like_version(body):
            self.qbt_version = f"qBittorrent {body}"
            self._step("webui", True, f"qBittorrent {body} answers")
            return answer
        if answer.status == 401 and "basic" in answer.headers.get("WWW-Authenticate", "").lower():
            self._proxy_login_verdict(base)
        if answer.status == 401:
            self._step("webui", False, "every request is refused with 401 before any login")
            await self._explain_401(client, base, address)
        if answer.status in (502, 503, 504):
            self._step("webui", False, f"a proxy answers {answer.status}: its upstream is down")
            raise _Verdict(
                "unreachable",
                f"The proxy at {display_url(base)} cannot reach qBittorrent "
                f"(HTTP {answer.status}).",
                "Start qBittorrent, or fix the upstream address in the proxy's configuration.",
            )
        if answer.status == 403:
            self._step("webui", False, "403 from something that is not qBittorrent's API")
            raise _Verdict(
                "forbidden",
                "Something in front of qBittorrent refuses this computer (HTTP 403).",
                "Check the access rules of the reverse proxy or firewall in front of qBittorrent.",
            )
        self._step(
            "webui",
            False,
            f"GET api/v2/app/version answered HTTP {answer.status} "
            f"{short_answer(body, 80)!r}, not a qBittorrent answer",
        )
        await self._check_plain_http_to_tls(base, address)
        raise _Verdict(
            "not_qbittorrent",
            f"The server at {display_url(base)} is not qBittorrent's Web UI.",
            "Check the port (qBittorrent's Web UI port, "
            f"{WEBUI_OPTIONS} → Port) and, behind a reverse proxy, the sub-path.",
        )

    def _proxy_login_verdict(self, base: URL) -> None:
        """A 401 with a Basic challenge is a proxy's own login, not qBittorrent's checks."""
        if self.config.http.basic_auth:
            self._step("proxy-auth", False, "the proxy refused its HTTP user name or password")
            raise _Verdict(
                "bad_credentials",
                f"The server in front of qBittorrent at {display_url(base)} refused the HTTP "
                "basic-auth user name or password.",
                "Correct the proxy's user name and password in Earmark's settings "
                "(EARMARK_QBT_HTTP_USERNAME / EARMARK_QBT_HTTP_PASSWORD).",
            )
        self._step("proxy-auth", False, "the server asks for an HTTP basic-auth login")
        raise _Verdict(
            "bad_credentials",
            f"The server at {display_url(base)} asks for its own user name and password "
            "(HTTP basic auth) before qBittorrent can be reached.",
            "Enter the proxy's user name and password in Earmark's settings "
            "(EARMARK_QBT_HTTP_USERNAME / EARMARK_QBT_HTTP_PASSWORD); they are separate "
            "from qBittorrent's own.",
        )

    async def _check_plain_http_to_tls(self, base: URL, address: str) -> None:
        if base.scheme != "http":
            return
        port = base.port or 80
        if await self._peer_fingerprint(address, base.host or "", port) is not None:
            self._step("tls", False, "this port speaks TLS")
            raise _Verdict(
                "tls_error",
                f"{base.host}:{port} expects HTTPS.",
                "Use https:// in the address (and pin the certificate if it is self-signed).",
            )

    async def _send(
        self,
        client: QBittorrentClient,
        method: str,
        endpoint: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        try:
            return await client.send(method, endpoint, data=data, headers=headers)
        except TlsError as exc:
            self._step("http", False, str(exc))
            raise _Verdict("tls_error", "The TLS connection failed.", exc.message) from exc
        except UnreachableError as exc:
            self._step("http", False, str(exc))
            if "closed the connection" in exc.message and client.base_url.scheme == "http":
                await self._check_plain_http_to_tls(client.base_url, client.base_url.host or "")
            raise _Verdict(
                "unreachable",
                f"qBittorrent did not answer over HTTP: {exc.message}.",
                "Check the address and that qBittorrent's Web UI is running.",
            ) from exc

    async def _explain_401(self, client: QBittorrentClient, base: URL, address: str) -> None:
        """Tell Host-header rejection (which port? which name?) from a CSRF rejection."""
        host = base.host or ""
        given_port = base.port
        portless = await self._send(client, "GET", "app/version", headers={"Host": host})
        if portless.status != 401:
            self.working_host_header = host
            expected = await self._expected_port(client, host)
            where = (
                f"qBittorrent listens on port {expected}, but requests reach it saying "
                f"port {given_port}"
                if expected
                else f"qBittorrent listens on another port than {given_port}"
            )
            self._step(
                "host-header",
                False,
                f"accepted with 'Host: {host}' but refused with 'Host: {host}:{given_port}'",
            )
            raise _Verdict(
                "host_header_rejected",
                f"qBittorrent rejects the Host header: {where} (a port remap such as "
                "Docker's -p 8081:8080, or a reverse proxy passing the client's Host).",
                f"Safest: let Earmark send 'Host: {host}', which qBittorrent accepts "
                "(Settings → qBittorrent, Advanced → Host header; the doctor's window does "
                "it with one click). Or publish qBittorrent on the same port on both sides"
                + (f" (use port {expected} outside too)" if expected else "")
                + ", or make the proxy send qBittorrent's own host and port, or (weaker) "
                f"turn off {WEBUI_OPTIONS} → 'Enable Host header validation' "
                "(web_ui_host_header_validation_enabled).",
                {"web_ui_host_header_validation_enabled": False},
            )
        if host != address:
            by_address = await self._send(client, "GET", "app/version", headers={"Host": address})
            if by_address.status != 401:
                self.working_host_header = address
                self._step(
                    "host-header",
                    False,
                    f"accepted as 'Host: {address}' but not as 'Host: {host}'",
                )
                raise _Verdict(
                    "host_header_rejected",
                    f"qBittorrent does not accept the name {host!r}: it is not in its "
                    "'Server domains' list.",
                    f"Let Earmark send 'Host: {address}' (Settings → qBittorrent, Advanced → "
                    "Host header; the doctor's window does it with one click), or add "
                    f"{host} to {WEBUI_OPTIONS} → 'Server domains' (web_ui_domain_list, "
                    "';'-separated), or use the IP address in Earmark's URL.",
                    {"web_ui_domain_list": host},
                )
        self._step(
            "csrf",
            False,
            "refused whatever Host is sent: qBittorrent's CSRF check rejects the "
            "Origin/Referer that reaches it",
        )
        raise _Verdict(
            "csrf_rejected",
            "qBittorrent's cross-site request protection refuses the requests: an "
            "Origin or Referer header that does not match the Host reaches it (Earmark "
            "sends neither, so a proxy or extension in between adds it).",
            "Make the reverse proxy stop adding Origin/Referer, or forward the public host "
            "in X-Forwarded-Host; otherwise turn off "
            f"{WEBUI_OPTIONS} → 'Enable Cross-Site Request Forgery (CSRF) protection' "
            "(web_ui_csrf_protection_enabled).",
            {"web_ui_csrf_protection_enabled": False},
        )

    async def _expected_port(self, client: QBittorrentClient, host: str) -> int | None:
        """qBittorrent's own port, read from its preferences through the one login allowed."""
        if not self.config.username:
            return None
        headers = {"Host": host}
        self.login_attempts += 1
        login = await self._send(
            client,
            "POST",
            "auth/login",
            data={"username": self.config.username, "password": self.config.password},
            headers=headers,
        )
        if not login_succeeded(login):
            return None
        prefs = await self._send(client, "GET", "app/preferences", headers=headers)
        if prefs.status != 200:
            return None
        try:
            return int(prefs.json()["web_ui_port"])
        except (ValueError, KeyError, TypeError):
            return None

    async def _login(self, client: QBittorrentClient) -> None:
        if not self.config.username:
            self._step("login", False, "no user name is configured")
            raise _Verdict(
                "bad_credentials",
                "No qBittorrent user name is configured.",
                "Enter the Web UI user name and password (qBittorrent → Tools → Options → "
                "Web UI → Authentication).",
            )
        self.login_attempts += 1
        answer = await self._send(
            client,
            "POST",
            "auth/login",
            data={"username": self.config.username, "password": self.config.password},
        )
        self._login_answer = answer
        try:
            client.check_login_answer(answer)
        except BadCredentialsError as exc:
            self._step(
                "login",
                False,
                f"qBittorrent refused the credentials: {short_answer(answer.text, 80)!r}",
            )
            raise _Verdict(
                "bad_credentials",
                f"qBittorrent refused the user name {self.config.username!r} or its password.",
                "Check both in qBittorrent → Tools → Options → Web UI → Authentication. "
                "qBittorrent 4.6.1+ has no default password: it prints a temporary one in "
                "its log at start-up. Each failed attempt counts toward an IP ban, so "
                "Earmark will not retry on its own.",
            ) from exc
        except IpBannedError as exc:
            self._step("login", False, f"qBittorrent says: {short_answer(answer.text, 80)!r}")
            raise _Verdict(
                "ip_banned",
                "qBittorrent has banned this computer's IP address after too many failed "
                "logins. The ban lasts web_ui_ban_duration (3600 s unless changed) and is "
                "lifted by restarting qBittorrent.",
                "Wait for the ban to end or restart qBittorrent, then fix the password before "
                "trying again. To make bans less likely, raise 'Ban client after consecutive "
                f"failures' in {WEBUI_OPTIONS} (web_ui_max_auth_fail_count; 0 disables bans).",
                {"web_ui_max_auth_fail_count": 10},
            ) from exc
        except ClientError as exc:
            self._step("login", False, f"HTTP {answer.status} {short_answer(answer.text, 80)!r}")
            raise _Verdict(
                "unexpected",
                f"The login answer was not one qBittorrent gives: HTTP {answer.status}.",
                "Check that the URL points at qBittorrent's Web UI.",
            ) from exc
        names = ", ".join(sorted(_cookie_names(answer.cookies_set))) or "none"
        self._step("login", True, f"credentials accepted (cookies set: {names})")

    async def _session(self, client: QBittorrentClient, base: URL, bypass: bool) -> None:
        answer = await self._send(client, "GET", "app/webapiVersion")
        if answer.status == 200:
            self.api_version = answer.text.strip()
            self._step("session", True, f"the session works (Web API {self.api_version})")
            return
        if answer.status != 403 or bypass:
            self._step("session", False, f"HTTP {answer.status} {short_answer(answer.text, 80)!r}")
            raise _Verdict(
                "unexpected",
                f"After login qBittorrent answered HTTP {answer.status}.",
                "Check the qBittorrent log for the reason.",
            )
        login = self._login_answer
        problem = cookie_problem(login.cookies_set, base, client)
        if problem is None:
            self._step("session", False, "the session cookie was sent back and still refused")
            raise _Verdict(
                "forbidden",
                "qBittorrent accepted the login but refuses the session's requests (403).",
                "Something between Earmark and qBittorrent alters the requests; check the "
                "reverse proxy's rules.",
            )
        summary, fix = problem
        self._step("session", False, summary)
        raise _Verdict("session_not_kept", f"Login succeeded, but {summary}.", fix)

    async def _inspect(self, client: QBittorrentClient) -> None:
        version = await self._send(client, "GET", "app/version")
        if version.status == 200:
            self.qbt_version = f"qBittorrent {version.text.strip()}"
        prefs_answer = await self._send(client, "GET", "app/preferences")
        if prefs_answer.status != 200:
            self._step("preferences", False, f"HTTP {prefs_answer.status}")
            return
        try:
            prefs = prefs_answer.json()
        except ValueError:
            prefs = None
        if not isinstance(prefs, dict):
            self._step("preferences", False, "app/preferences did not answer a JSON object")
            return
        if prefs.get("bypass_local_auth"):
            self.security.append(
                "'Bypass authentication for clients on localhost' is on: any program on "
                "qBittorrent's machine controls it without a password."
            )
        if prefs.get("bypass_auth_subnet_whitelist_enabled"):
            subnets = str(prefs.get("bypass_auth_subnet_whitelist", "")).replace("\n", ", ")
            self.security.append(
                f"'Bypass authentication for clients in whitelisted IP subnets' is on "
                f"({subnets}): every device there controls qBittorrent without a password."
            )
        bans = prefs.get("web_ui_max_auth_fail_count")
        self._step(
            "preferences",
            True,
            f"{self.qbt_version or 'qBittorrent'}; ban after {bans} failed logins for "
            f"{prefs.get('web_ui_ban_duration')} s",
        )
        for note in self.security:
            self._step("security", True, note)

    _login_answer: Answer


def cookie_problem(
    set_cookies: Sequence[str], base: URL, client: QBittorrentClient
) -> tuple[str, str] | None:
    """Why a session cookie set at login did not come back, or None if it did."""
    if not set_cookies:
        return (
            "the login answer carried no session cookie: something between Earmark and "
            "qBittorrent (a reverse proxy) strips Set-Cookie",
            "Let the proxy pass the Set-Cookie header (nginx: remove `proxy_hide_header "
            "Set-Cookie`; check `proxy_cookie_*` rules).",
        )
    for header in set_cookies:
        cookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            continue
        for name, morsel in cookie.items():
            path = morsel["path"] or "/"
            if morsel["secure"] and base.scheme == "http":
                return (
                    f"the session cookie {name} is marked Secure and is never sent back over "
                    "http://",
                    "Use https:// in the address, or turn off 'Enable cookie Secure flag' in "
                    f"{WEBUI_OPTIONS} (web_ui_secure_cookie_enabled) if nothing is encrypted "
                    "on the way anyway.",
                )
            if not base.path.startswith(path.rstrip("/") + "/") and path != "/":
                return (
                    f"the session cookie {name} has Path={path}, which does not cover "
                    f"{base.path}, so it is not sent back",
                    "Make the reverse proxy rewrite the cookie path to the sub-path "
                    f"(nginx: `proxy_cookie_path / {base.path};`).",
                )
            domain = (morsel["domain"] or "").lstrip(".")
            if domain and not (base.host or "").endswith(domain):
                return (
                    f"the session cookie {name} is for domain {domain}, not {base.host}",
                    "Make the reverse proxy stop rewriting the cookie domain.",
                )
    kept = client.session.cookie_jar.filter_cookies(client.url_for("app/version"))
    if not kept:
        return (
            "the session cookie was dropped by the HTTP client",
            "Use a host name instead of an IP address, or report this to Earmark.",
        )
    return None


def _cookie_names(headers: Sequence[str]) -> set[str]:
    names: set[str] = set()
    for header in headers:
        cookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            continue
        names.update(cookie.keys())
    return names


def _is_qbt_text(body: str) -> bool:
    return body in ("Forbidden", "")


def _looks_like_version(body: str) -> bool:
    text = body.lstrip("v")
    return bool(text) and len(text) < 40 and text[0].isdigit() and "." in text and "<" not in text


async def diagnose(config: QbtConfig, *, on_step: StepListener | None = None) -> Diagnosis:
    """Run the doctor once."""
    return await Doctor(config, on_step=on_step).run()
