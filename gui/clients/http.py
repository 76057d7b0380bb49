"""One way to build an aiohttp session and to turn transport failures into typed errors.

Every client (qBittorrent, Prowlarr, Torznab, Audiobookshelf) goes through here so that the
lessons learnt the hard way apply everywhere:

* aiohttp's default cookie jar silently drops cookies set by hosts given as IP addresses,
  which is the real cause of qBittorrent's "login OK, then 403" for LAN users; the jar here
  is `unsafe=True`.
* No aiodns resolver: it needs `loop.add_reader`, which qasync's Windows loop lacks.
* TLS is verified by default; a self-signed certificate is accepted only when the user pins
  its SHA-256 fingerprint.
* Every body is read through `read_capped`, which also undoes the content encoding itself
  (the session's `auto_decompress` is off): a 1 MB gzip bomb is stopped at the cap instead of
  being inflated whole, whatever aiohttp version is installed.
* JSON is decoded with `loads_json` (nesting bombs become `ValueError`), text with
  `decode_text` (an unknown charset falls back to UTF-8).
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import email.utils
import ipaddress
import json
import re
import ssl
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import aiohttp
from yarl import URL

from gui import __version__
from gui.clients.errors import ClientError, ProtocolError, TlsError, UnreachableError

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
    # Only encodings `read_capped` can undo with a bounded output (no br/zstd).
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
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
        auto_decompress=False,  # read_capped inflates, bounded by its cap
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
    if isinstance(exc, RedirectRefused):
        return ProtocolError, exc.reason
    if isinstance(exc, aiohttp.InvalidURL):
        try:
            shown = display_url(str(exc.url))
        except (ValueError, TypeError):
            shown = "an unreadable URL"
        return ProtocolError, f"the server pointed to a URL that cannot be fetched ({shown})"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ProtocolError, f"the answer could not be read ({_reason(exc)})"
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
    aiohttp.InvalidURL,  # aiohttp's own redirects to file:, data: ... (NonHttpUrlRedirect)
    asyncio.TimeoutError,
    ssl.SSLError,
)


class _TooLarge(Exception):
    """Internal: the decoded body passed the cap."""


class _Inflater:
    """Undo gzip/deflate with a bounded output per step, so a bomb never inflates whole."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip and zlib headers are detected (32 + MAX_WBITS); some servers send raw
        # deflate for "deflate", tried when the first bytes are neither.
        self._obj = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, room: int, out: list[bytes]) -> int:
        """Append at most `room + 1` decoded bytes to `out`; returns how many were added."""
        added = 0
        while data:
            try:
                piece = self._obj.decompress(data, room - added + 1)
            except zlib.error:
                if self._started or self.encoding != "deflate":
                    raise
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = self._obj.decompress(data, room - added + 1)
            self._started = True
            out.append(piece)
            added += len(piece)
            if added > room:
                raise _TooLarge
            data = self._obj.unconsumed_tail
            if not data and self._obj.eof and self._obj.unused_data[:2] == b"\x1f\x8b":
                data = self._obj.unused_data  # a multi-member gzip stream
                self._obj = zlib.decompressobj(32 + zlib.MAX_WBITS)
        return added


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole decoded body, or None when it is longer than `limit` bytes.

    The one reader of every HTTP body Earmark reads, success or error. The cap applies to
    the decoded bytes, and decoding is done here step by step (sessions from `make_session`
    have aiohttp's own decompression off). An encoding it cannot undo, or a corrupt one,
    raises `aiohttp.ClientPayloadError`, which `transport_error` reports.

    `StreamReader.read(n)` returns what is buffered (at most n bytes), not the whole
    body: a 100 kB feed arrives in several chunks, so the body is read until EOF.
    """
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    inflater: _Inflater | None = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = _Inflater("deflate" if encoding == "deflate" else "gzip")
    elif encoding not in ("identity", ""):
        raise aiohttp.ClientPayloadError(f"the answer uses an unsupported encoding ({encoding})")
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in response.content.iter_chunked(1 << 16):
            if inflater is None:
                total += len(chunk)
                if total > limit:
                    return None
                chunks.append(chunk)
            else:
                total += inflater.feed(chunk, limit - total, chunks)
    except _TooLarge:
        return None
    except zlib.error as exc:
        raise aiohttp.ClientPayloadError(
            f"the answer's {encoding} data is corrupt ({exc})"
        ) from None
    return b"".join(chunks)


def decode_text(body: bytes, charset: str | None) -> str:
    """Bytes as text in the answer's charset; an unknown or absent one reads as UTF-8."""
    if charset:
        try:
            codecs.lookup(charset)
            return body.decode(charset, errors="replace")
        except LookupError:
            pass
    return body.decode("utf-8", errors="replace")


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, with a nesting bomb (`[[[[...`) reported as the `ValueError` it is.

    The C decoder recurses once per level and raises `RecursionError` deep down; every
    caller already treats `ValueError` as "not the JSON this API sends".
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


# ---- redirects ---------------------------------------------------------------------------

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class RedirectRefused(aiohttp.InvalidURL):
    """A redirect `redirect_refusal` does not allow; `reason` says why (for the message)."""

    def __init__(self, url: URL, reason: str) -> None:
        super().__init__(url, reason)
        self.reason = reason


@asynccontextmanager
async def checked_get(
    session: aiohttp.ClientSession,
    url: URL,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """`session.get` following at most `MAX_REDIRECTS` redirects, each checked by
    `redirect_refusal` (aiohttp's own following would go anywhere http(s) points).

    Raises `RedirectRefused` (one of `TRANSPORT_ERRORS`) for a refused or endless chain.
    """
    origin = current = url
    query = params
    for _ in range(MAX_REDIRECTS + 1):
        async with session.get(
            current, params=query, headers=headers, allow_redirects=False
        ) as response:
            location = response.headers.get("Location", "").strip()
            if response.status not in REDIRECT_STATUSES or not location:
                yield response
                return
            target = response.url.join(URL(location))
        reason = await redirect_refusal(origin, target)
        if reason:
            raise RedirectRefused(target, reason)
        current, query = target, None
    raise RedirectRefused(current, f"more than {MAX_REDIRECTS} redirects")

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _is_local_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified


async def redirect_refusal(origin: URL, target: URL) -> str | None:
    """Why a redirect from `origin` to `target` must not be followed, or None.

    An indexer's link may redirect to another server (a tracker's download) or to a
    magnet, but not to a scheme other than http(s) (`file:`, `ftp:`...) and not into this
    machine or its link-local network (127.0.0.1, ::1, 169.254.169.254 cloud metadata,
    a name resolving there) unless that is the indexer's own host: a hostile indexer could
    otherwise make Earmark fetch from services that trust loopback.
    """
    scheme = (target.scheme or "").lower()
    if scheme not in ("http", "https"):
        return f"a redirect to a {scheme or 'relative'}: URL is refused (only http and https)"
    host = (target.host or "").lower().rstrip(".")
    if not host:
        return "a redirect to a URL without a host is refused"
    if host == (origin.host or "").lower().rstrip("."):
        return None
    refused = f"a redirect to {host}, an address on this machine or its link, is refused"
    if host in _LOCAL_NAMES or host.endswith(".localhost") or _is_local_address(host):
        return refused
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return None  # a public (or LAN) address literal
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, target.port or 80)
    except OSError:
        return None  # unresolvable: the request itself fails with a clear message
    if any(_is_local_address(str(info[4][0])) for info in infos):
        return refused
    return None


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
