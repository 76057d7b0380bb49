"""One way to build an aiohttp session and to turn transport failures into typed errors.

Every client (qBittorrent, Prowlarr, Torznab, Audiobookshelf) goes through here so that the
lessons learnt the hard way apply everywhere:

* aiohttp's default cookie jar silently drops cookies set by hosts given as IP addresses,
  which is the real cause of qBittorrent's "login OK, then 403" for LAN users; the jar here
  is `unsafe=True`.
* No aiodns resolver: it needs `loop.add_reader`, which qasync's Windows loop lacks.
* TLS is verified by default; a self-signed certificate is accepted only when the user pins
  its SHA-256 fingerprint.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

import aiohttp
from yarl import URL

from gui import __version__
from gui.clients.errors import ClientError, TlsError, UnreachableError

USER_AGENT = f"Earmark/{__version__}"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class HttpOptions:
    """How to reach one server: timeouts, TLS trust and an optional proxy login."""

    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    tls_fingerprint: str | None = None
    basic_auth: tuple[str, str] | None = None
    #: Sent instead of the URL's host:port, e.g. to reach a qBittorrent behind a port
    #: remap whose Host-header check wants its own port (what the doctor found working).
    #: A session default: a request that passes its own Host header still overrides it.
    host_header: str | None = None


def normalize_fingerprint(text: str) -> str:
    """Accept the forms users copy from browsers and `openssl` (colons, spaces, any case)."""
    cleaned = re.sub(r"[\s:]", "", text).lower()
    if cleaned.startswith("sha256="):
        cleaned = cleaned[len("sha256=") :]
    if not _HEX64.match(cleaned):
        raise ValueError(
            "a TLS fingerprint must be the certificate's SHA-256 digest: 64 hex digits "
            f"(colons allowed), got {len(cleaned)} characters"
        )
    return cleaned


def ssl_setting(options: HttpOptions) -> aiohttp.Fingerprint | bool:
    """`True` verifies against the system store; a pin replaces verification by a digest check."""
    if options.tls_fingerprint:
        return aiohttp.Fingerprint(bytes.fromhex(normalize_fingerprint(options.tls_fingerprint)))
    return True


def make_session(options: HttpOptions) -> aiohttp.ClientSession:
    """A session that keeps cookies from IP hosts and never uses aiodns."""
    connector = aiohttp.TCPConnector(
        ssl=ssl_setting(options),
        resolver=aiohttp.ThreadedResolver(),
        limit_per_host=8,
    )
    headers = {"User-Agent": USER_AGENT}
    if options.basic_auth:
        headers["Authorization"] = basic_auth_header(*options.basic_auth)
    if options.host_header:
        headers["Host"] = options.host_header
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(
            total=options.total_timeout,
            sock_connect=options.connect_timeout,
        ),
        headers=headers,
    )


def basic_auth_header(username: str, password: str) -> str:
    """RFC 7617 credentials (UTF-8); a session header, so only this server's session gets it."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def parse_http_date(text: str | None) -> datetime | None:
    """An RFC 5322 / HTTP date as an aware datetime (UTC when it names no zone), else None."""
    if not text:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_retry_after(header: str | None) -> tuple[float | None, datetime | None]:
    """`Retry-After` as seconds or an HTTP date (RFC 9110 10.2.3): (seconds to wait, when).

    (None, None) when the header is absent or unreadable; a date in the past waits 0 s.
    """
    if not header:
        return None, None
    text = header.strip()
    now = datetime.now(UTC)
    if text.isdigit():
        seconds = float(text)
        return seconds, datetime.fromtimestamp(now.timestamp() + seconds, UTC)
    when = parse_http_date(text)
    if when is None:
        return None, None
    return max((when - now).total_seconds(), 0.0), when


def display_url(url: str | URL) -> str:
    """A URL safe to show and log: no user info, no query string (API keys live there)."""
    parsed = URL(str(url))
    if parsed.user or parsed.password:
        parsed = parsed.with_user(None)
    return str(parsed.with_query(None).with_fragment(None))


def ensure_base_url(url: str) -> URL:
    """A base URL that relative endpoint paths can be joined to, sub-path kept."""
    text = url.strip()
    if not text:
        raise ValueError("no server URL is configured")
    if "://" not in text:
        text = "http://" + text
    parsed = URL(text)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{display_url(text)!r} is not an http:// or https:// URL with a host")
    path = parsed.path if parsed.path.endswith("/") else parsed.path + "/"
    return parsed.with_path(path).with_query(None).with_fragment(None)


def transport_error(
    exc: BaseException, *, service: str, url: str, endpoint: str | None = None
) -> ClientError:
    """Map aiohttp/asyncio failures to what a user understands: unreachable or TLS."""
    cls, message = _classify(exc)
    return cls(message, service=service, url=url, endpoint=endpoint)


def _classify(exc: BaseException) -> tuple[type[ClientError], str]:
    if isinstance(exc, aiohttp.ServerFingerprintMismatch):
        return TlsError, (
            "the server's certificate does not match the pinned fingerprint "
            f"(expected {exc.expected.hex()}, got {exc.got.hex()})"
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        reason = getattr(cert_error, "verify_message", None) or str(cert_error)
        return TlsError, (
            f"the server's certificate is not trusted ({reason}); pin its SHA-256 "
            "fingerprint to trust a self-signed certificate"
        )
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return TlsError, f"the TLS handshake failed ({_reason(exc)})"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return UnreachableError, f"the host name could not be resolved ({_reason(exc)})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return UnreachableError, "connection refused: nothing listens on that address and port"
        return UnreachableError, f"cannot connect ({_reason(exc)})"
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return UnreachableError, "the server did not answer in time"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return UnreachableError, (
            "the server closed the connection without answering "
            "(is it an https server reached with http://?)"
        )
    return UnreachableError, f"the connection failed ({_reason(exc)})"


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "os_error", None) or exc
    text = getattr(inner, "strerror", None) or str(inner) or type(inner).__name__
    return str(text)


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    asyncio.TimeoutError,
    ssl.SSLError,
)


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body, or None when it is longer than `limit` bytes.

    `StreamReader.read(n)` returns what is buffered (at most n bytes), not the whole
    body: a 100 kB feed arrives in several chunks, so the body is read until EOF.
    """
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class SessionOwner:
    """A client that owns one aiohttp session, made on first use from `session_options`.

    Use it with `async with` or call `close()`: an unclosed session warns at exit and
    keeps its connections open.
    """

    _session: aiohttp.ClientSession | None = None

    @property
    def session_options(self) -> HttpOptions:
        raise NotImplementedError

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = make_session(self.session_options)
        return self._session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
