"""One redactor for every text that leaves the process (no Qt, no I/O).

Secrets reach text in ways no call site can foresee: a server echoes its API key in an
error page, Prowlarr's and Jackett's download links carry the key in their query, a
private tracker's announce URL inside a magnet carries the user's passkey. So instead of
each writer remembering what to hide, every exit — the log, stderr and stdout of the CLI
(its `--json` documents too), the database's text columns, the window's notices and the
clipboard — passes its text through `REDACTOR`.

Two kinds of hiding:

* **Configured secrets** (qBittorrent passwords, the Prowlarr/Torznab API keys, the ABS
  token, a provider key) are known by value: `SecretStore` registers each one it hands
  out. They are replaced by a placeholder naming the secret, ``{prowlarr-api-key}``,
  which `reveal` turns back into the value. A download link is therefore stored and
  printed without its key and still works: the fetcher reveals it just before the request.
* **Unknown credentials** are found by shape and masked for good: the password of a URL's
  ``user:pass@``, the value of a query parameter named like a secret (``apikey``,
  ``passkey``, ``token``, ``auth``, ...), and a long token in a tracker announce path. A
  magnet loses the trackers that carry one, and keeps its hash and name, which is enough
  to say which release it is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = ["MASK", "REDACTOR", "SECRET_PARAMETERS", "Redactor", "clean_magnet", "clean_url"]

MASK = "••••••"
#: Query parameters whose value is a credential (folded names).
SECRET_PARAMETERS = frozenset(
    {
        "apikey", "api_key", "api-key", "jackett_apikey", "passkey", "pass_key", "authkey",
        "auth", "auth_key", "token", "access_token", "torrent_pass", "password", "pass",
        "secret", "key", "sig", "signature", "rsskey", "uid_key",
    }
)  # fmt: skip
#: Shorter values are too common in ordinary text to hide (a password "admin" would mask
#: the user name too, and a key "key" every "apikey=" of a link).
_MIN_SECRET = 6
_URL = re.compile(r"(?i)\b(?:https?|udp|wss?)://[^\s\"'<>]+")
_MAGNET = re.compile(r"(?i)\bmagnet:\?[^\s\"'<>]+")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*):[^@/\s]*@")
_QUERY_PAIR = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s]*)")
#: A segment of an announce path like ``/a/0123abcd.../announce``: long, letters and
#: digits mixed (public trackers' paths are words). Only paths naming "announce".
_PATH_TOKEN = re.compile(r"/(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9-]*)\}|%7B([a-z][a-z0-9-]*)%7D", re.IGNORECASE)


class Redactor:
    """Knows the configured secrets; hides them and credential-shaped text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_value: dict[str, str] = {}  # value -> name
        self._by_name: dict[str, str] = {}  # name -> value
        #: (needle, placeholder) for `conceal` and `conceal_link`, longest needle first;
        #: each secret as typed and URL-encoded. Rebuilt on `add`, read without the lock.
        self._all: tuple[tuple[str, str], ...] = ()
        self._current: tuple[tuple[str, str], ...] = ()

    def add(self, secret: str | None, name: str = "secret") -> None:
        """Register a configured secret (empty or very short values are ignored)."""
        if not secret or len(secret) < _MIN_SECRET:
            return
        with self._lock:
            if name != "secret" or secret not in self._by_value:  # a name is kept
                self._by_value[secret] = name
            if name != "secret":
                self._by_name[name] = secret
            self._all = _needles(self._by_value.items())
            self._current = _needles((v, n) for n, v in self._by_name.items())

    # ---- configured secrets (reversible) ----------------------------------------------

    def conceal(self, text: str) -> str:
        """Each configured secret (as typed and URL-encoded) -> ``{its-name}``."""
        return _replace(text, self._all)

    def conceal_link(self, text: str) -> str:
        """A link to keep and use later, with the current value of each named secret as
        its placeholder — only if `reveal` gives the link back exactly (an older key, or a
        secret that happens to occur inside the link, must not corrupt it)."""
        concealed = _replace(text, self._current)
        return concealed if self.reveal(concealed) == text else text

    def reveal(self, text: str) -> str:
        """``{name}`` placeholders of configured secrets -> their values (for a request)."""
        with self._lock:
            by_name = dict(self._by_name)

        def value(match: re.Match[str]) -> str:
            name = (match.group(1) or match.group(2) or "").lower()
            secret = by_name.get(name)
            if secret is None:
                return match.group(0)
            return secret if match.group(1) else quote(secret, safe="")

        return _PLACEHOLDER.sub(value, text)

    # ---- everything that leaves the process -------------------------------------------

    def text(self, text: str) -> str:
        """What may be shown, logged or stored as prose: secrets and credentials hidden."""
        if not text:
            return text
        text = self.conceal(text)
        if "magnet:" in text.lower():
            text = _MAGNET.sub(lambda m: clean_magnet(m.group(0)), text)
        if "://" in text:
            text = _URL.sub(lambda m: clean_url(m.group(0)), text)
        if "=" in text:  # a query echoed without its URL ("bad request /dl/?apikey=...")
            text = _QUERY_PAIR.sub(_masked_pair, text)
        return text

    def value(self, value: Any) -> Any:
        """`text` applied to every string of a JSON-like value (dict keys stay)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


def _needles(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for value, name in pairs:
        shown = f"{{{name}}}" if name != "secret" else MASK
        found.append((value, shown))
        encoded = quote(value, safe="")
        if encoded != value:
            found.append((encoded, shown))
    return tuple(sorted(found, key=lambda pair: -len(pair[0])))


def _replace(text: str, needles: tuple[tuple[str, str], ...]) -> str:
    for needle, shown in needles:
        if needle in text:
            text = text.replace(needle, shown)
    return text


def clean_url(url: str) -> str:
    """A URL without a password, secret query values or an announce passkey."""
    url = _USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", url)

    url = _QUERY_PAIR.sub(_masked_pair, url)
    path_end = min((i for i in (url.find("?", 8), url.find("#", 8)) if i != -1), default=len(url))
    scheme_end = url.find("://") + 3
    host_end = url.find("/", scheme_end)
    if host_end == -1 or host_end > path_end:
        return url
    path = url[host_end:path_end]
    if "announce" not in path.lower():  # only tracker paths carry a passkey
        return url
    return url[:host_end] + _PATH_TOKEN.sub(f"/{MASK}", path) + url[path_end:]


def clean_magnet(magnet: str) -> str:
    """The magnet without the trackers (or other parameters) that carry a credential."""
    head, _, query = magnet.partition("?")
    kept: list[str] = []
    dropped = False
    for part in query.split("&"):
        if not part:
            continue
        name, _, raw = part.partition("=")
        decoded = unquote(raw)
        if name.lower() in SECRET_PARAMETERS or _carries_credential(decoded):
            dropped = True
            continue
        kept.append(part)
    if not dropped:
        return magnet
    return f"{head}?{'&'.join(kept)}"


def _masked_pair(match: re.Match[str]) -> str:
    """``&apikey=value`` -> ``&apikey=••••••`` (a placeholder stays: it hides already)."""
    name = unquote(match.group("name")).strip().lower()
    value = match.group("value")
    if name in SECRET_PARAMETERS and value and not _is_placeholder(value):
        return f"{match.group('sep')}{match.group('name')}={MASK}"
    return match.group(0)


def _carries_credential(value: str) -> bool:
    if "://" not in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return True
    if parts.password:
        return True
    if any(name.lower() in SECRET_PARAMETERS for name, _ in parse_qsl(parts.query)):
        return True
    return "announce" in parts.path.lower() and bool(_PATH_TOKEN.search(parts.path))


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.fullmatch(value)) or value == MASK


REDACTOR = Redactor()
