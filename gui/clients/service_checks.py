"""One-shot checks behind the settings dialog's Test buttons: Prowlarr, Torznab, Audiobookshelf.

Each check asks the cheapest question that proves both "the server is the one you think"
and "the key works", and answers in words a user can act on. The services disagree on how
they say "wrong key", so each one is read the way its source code says it answers:

* Prowlarr (`src/Prowlarr.Http/Authentication`, `System/SystemController.cs`): every API
  route needs the key (`X-Api-Key`); a bad or missing key is **401 with an empty body**,
  on its Torznab routes too. `GET /api/v1/system/status` returns `{appName, version, ...}`.
* Jackett (`src/Jackett.Server/Controllers/ResultsController.cs`): the key goes in the
  query (`apikey=`); a bad key on a Torznab route is **HTTP 200** carrying
  `<error code="100" description="Invalid API Key"/>`, so the status alone proves nothing.
* Audiobookshelf 2.36 (`server/Auth.js`, recorded answers in the reference folder):
  `GET /status` needs no login; API routes take `Authorization: Bearer`; a bad token is
  401 `Unauthorized`. Library scans are admin-only, so the check also says whether the
  key's user (`GET /api/me`, `type` root/admin) may start them.

No check ever puts a key in its summary or details: keys in query strings are stripped
from every URL shown, and any text that might echo a key is scrubbed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from gui.clients.errors import TlsError
from gui.clients.http import (
    TRANSPORT_ERRORS,
    HttpOptions,
    display_url,
    ensure_base_url,
    make_session,
    transport_error,
)

#: Answers bigger than this are not what a status or caps request returns.
MAX_ANSWER_BYTES = 2 * 1024 * 1024
AUDIOBOOK_CATEGORY = 3030
MIN_SCRUB = 8
#: Torznab error codes that mean "the key is the problem" (spec 1.3: 100 bad
#: credentials, 101 account suspended, 102 insufficient privileges).
KEY_ERROR_CODES = {"100", "101", "102"}
ADMIN_TYPES = ("root", "admin")
#: Path endings that already name a Torznab/Newznab endpoint (Jackett's
#: `.../results/torznab[/api]`, Prowlarr's `/{id}/api` and `/api/v1/indexer/{id}/newznab`).
TORZNAB_ENDPOINT_NAMES = ("api", "torznab", "newznab")


@dataclass(frozen=True)
class CheckResult:
    """What a Test button shows: a yes/no, one sentence, and facts for the view to use.

    `details["problem"]` names the failure for code (`bad_url`, `no_key`, `unreachable`,
    `tls`, `wrong_key`, `not_service`, `http_error`, `not_initialised`, `bad_answer`);
    `details["warnings"]` lists things that work now but will hurt later.
    """

    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Answer:
    status: int
    text: str
    content_type: str
    location: str


class _Failed(Exception):
    """Ends a check early with its result."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.summary)
        self.result = result


def _fail(problem: str, summary: str, **details: Any) -> _Failed:
    return _Failed(CheckResult(False, summary, {"problem": problem, **details}))


async def _get(
    session: aiohttp.ClientSession,
    service: str,
    url: URL,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> _Answer:
    """One GET, read completely up to a size limit; transport failures end the check."""
    shown = display_url(url)
    try:
        async with session.get(
            url, headers=headers, params=params, allow_redirects=False
        ) as response:
            body = await response.content.read(MAX_ANSWER_BYTES + 1)
            if len(body) > MAX_ANSWER_BYTES:
                raise _fail("bad_answer", f"{shown} answered with more data than {service} sends")
            return _Answer(
                status=response.status,
                text=body.decode(response.charset or "utf-8", errors="replace"),
                content_type=response.content_type,
                location=response.headers.get("Location", ""),
            )
    except TRANSPORT_ERRORS as exc:
        error = transport_error(exc, service=service, url=shown)
        problem = "tls" if isinstance(error, TlsError) else "unreachable"
        raise _fail(problem, f"Cannot reach {service} at {shown}: {error.message}.") from exc


def _base(service: str, url: str) -> URL:
    try:
        return ensure_base_url(url)
    except ValueError as exc:
        raise _fail("bad_url", f"The {service} address is not usable: {exc}.") from exc


def _need_key(service: str, key: str, what: str = "API key") -> None:
    if not key.strip():
        raise _fail("no_key", f"No {service} {what} is entered.")


def _redirect(service: str, shown: str, answer: _Answer) -> _Failed:
    target = display_url(answer.location) if answer.location else "nowhere"
    return _fail(
        "not_service",
        f"{shown} redirects to {target} instead of answering like {service}: check http/https "
        "and the URL base (sub-path) in the address.",
    )


def _json(answer: _Answer) -> Any:
    try:
        return json.loads(answer.text)
    except ValueError:
        return None


def _scrub(result: CheckResult, *secrets: str) -> CheckResult:
    """A last guard: whatever a server echoed, a key never reaches the screen or a log.

    Strings shorter than `MIN_SCRUB` are left alone: they are ordinary words more often
    than keys ("wrong"), and no summary is built from the key itself.
    """
    keys = [secret for secret in secrets if len(secret) >= MIN_SCRUB]

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for key in keys:
                value = value.replace(key, "•••")
            return value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {name: clean(item) for name, item in value.items()}
        return value

    return CheckResult(result.ok, clean(result.summary), clean(result.details))


# ---- Prowlarr ------------------------------------------------------------------------


async def check_prowlarr(
    url: str, api_key: str, *, options: HttpOptions | None = None
) -> CheckResult:
    """`GET /api/v1/system/status` with the key: proves the address, the app and the key."""
    try:
        result = await _check_prowlarr(url, api_key.strip(), options or HttpOptions())
    except _Failed as failed:
        result = failed.result
    return _scrub(result, api_key.strip())


async def _check_prowlarr(url: str, api_key: str, options: HttpOptions) -> CheckResult:
    service = "Prowlarr"
    base = _base(service, url)
    _need_key(service, api_key)
    endpoint = base.join(URL("api/v1/system/status"))
    shown = display_url(base)
    async with make_session(options) as session:
        answer = await _get(session, service, endpoint, headers={"X-Api-Key": api_key})
    if answer.status == 401:
        raise _fail(
            "wrong_key",
            f"Prowlarr at {shown} refused the API key (wrong API key). Copy it from "
            "Prowlarr → Settings → General → Security → API Key.",
        )
    if 300 <= answer.status < 400:
        raise _redirect(service, shown, answer)
    if answer.status == 404:
        raise _fail(
            "not_service",
            f"No Prowlarr API at {shown} (HTTP 404): check the port and, behind a reverse "
            "proxy, the URL base (e.g. http://nas:9696/prowlarr).",
        )
    if answer.status != 200:
        raise _fail("http_error", f"Prowlarr at {shown} answered HTTP {answer.status}.")
    status = _json(answer)
    if not isinstance(status, dict) or "appName" not in status:
        raise _fail(
            "not_service",
            f"{shown} answers, but not like Prowlarr (no system status): check the address.",
        )
    app = str(status.get("appName"))
    version = str(status.get("version", "?"))
    if app.lower() != "prowlarr":
        raise _fail(
            "not_service",
            f"{shown} is {app} {version}, not Prowlarr.",
            app_name=app,
            version=version,
        )
    instance = str(status.get("instanceName") or app)
    return CheckResult(
        True,
        f"{instance} (Prowlarr {version}) answers at {shown}; the API key works.",
        {"app_name": app, "version": version, "instance_name": instance},
    )


# ---- Torznab -------------------------------------------------------------------------


def torznab_endpoint(url: str) -> URL:
    """The feed's API URL: used as given when it names one, else with `api` appended.

    Jackett's "Copy Torznab Feed" gives `.../results/torznab/`, Prowlarr shows `/{id}/`
    (whose API is `/{id}/api`), and *arr apps append `/api` the same way.
    """
    base = ensure_base_url(url)
    path = base.path.rstrip("/")
    if path.rsplit("/", 1)[-1].lower() in TORZNAB_ENDPOINT_NAMES:
        return base.with_path(path)
    return base.with_path(f"{path}/api")


async def check_torznab(
    url: str, api_key: str, *, options: HttpOptions | None = None
) -> CheckResult:
    """`?t=caps&apikey=`: the capabilities prove the feed, an `<error>` tells why not."""
    try:
        result = await _check_torznab(url, api_key.strip(), options or HttpOptions())
    except _Failed as failed:
        result = failed.result
    return _scrub(result, api_key.strip())


async def _check_torznab(url: str, api_key: str, options: HttpOptions) -> CheckResult:
    service = "the Torznab feed"
    try:
        endpoint = torznab_endpoint(url)
    except ValueError as exc:
        raise _fail("bad_url", f"The Torznab address is not usable: {exc}.") from exc
    _need_key("Torznab", api_key)
    shown = display_url(endpoint)
    async with make_session(options) as session:
        answer = await _get(session, service, endpoint, params={"t": "caps", "apikey": api_key})
    if answer.status == 401 and not answer.text.strip():
        raise _fail("wrong_key", f"{shown} refused the API key (wrong API key).")
    if 300 <= answer.status < 400:
        raise _redirect("a Torznab feed", shown, answer)
    root = _parse_xml(answer.text)
    if root is None:
        if answer.status == 404:
            raise _fail(
                "not_service",
                f"No Torznab feed at {shown} (HTTP 404): copy the feed URL from Jackett "
                "(Copy Torznab Feed) or Prowlarr (the indexer's Torznab URL).",
            )
        raise _fail(
            "not_service" if answer.status == 200 else "http_error",
            f"{shown} answered HTTP {answer.status}, but not with Torznab XML.",
        )
    if root.tag == "error":
        return _torznab_error(shown, root)
    if root.tag != "caps":
        raise _fail("not_service", f"{shown} answered <{root.tag}>, not Torznab capabilities.")
    return _caps_result(shown, root)


def _parse_xml(text: str) -> ElementTree.Element | None:
    """Parse an answer without letting it declare entities (no billion laughs, no XXE).

    A DOCTYPE is refused outright; expat then only expands the five predefined entities.
    """
    head = text.lstrip()
    if not head.startswith("<"):
        return None
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return None
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None


def _torznab_error(shown: str, root: ElementTree.Element) -> CheckResult:
    code = root.get("code", "")
    description = root.get("description", "").strip() or "no description"
    if code in KEY_ERROR_CODES:
        return CheckResult(
            False,
            f"{shown} refused the API key (wrong API key): {description} (error {code}). "
            "Copy the key shown at the top of Jackett's dashboard (or Prowlarr's API key).",
            {"problem": "wrong_key", "code": code, "description": description},
        )
    return CheckResult(
        False,
        f"{shown} answered Torznab error {code}: {description}.",
        {"problem": "http_error", "code": code, "description": description},
    )


def _caps_result(shown: str, root: ElementTree.Element) -> CheckResult:
    server = root.find("server")
    title = (server.get("title") if server is not None else None) or "Torznab"
    book = root.find("searching/book-search")
    book_available = book is not None and book.get("available", "no").lower() == "yes"
    book_params = (
        [p for p in (book.get("supportedParams") or "").split(",") if p] if book is not None else []
    )
    category_ids: set[int] = set()
    for element in root.iter():
        if element.tag in ("category", "subcat"):
            try:
                category_ids.add(int(element.get("id", "")))
            except ValueError:
                continue
    audiobooks = AUDIOBOOK_CATEGORY in category_ids
    warnings: list[str] = []
    if not audiobooks:
        warnings.append(
            f"the feed lists no Audio/Audiobook category ({AUDIOBOOK_CATEGORY}): audiobook "
            "searches may find nothing"
        )
    if not book_available:
        warnings.append("the feed has no book search: Earmark searches it by free text")
    words = [f"{title} answers at {shown}; the API key works."]
    words.append("Audiobooks (3030) listed." if audiobooks else "No audiobook category.")
    if book_available:
        words.append(f"Book search: {', '.join(book_params) or 'q'}.")
    return CheckResult(
        True,
        " ".join(words),
        {
            "server": title,
            "book_search": book_available,
            "book_params": book_params,
            "audiobook_category": audiobooks,
            "categories": sorted(category_ids),
            "warnings": warnings,
        },
    )


# ---- Audiobookshelf ------------------------------------------------------------------


async def check_audiobookshelf(
    url: str, token: str, *, options: HttpOptions | None = None
) -> CheckResult:
    """`/status`, then the libraries and the key's user: `details["libraries"]` fills a combo."""
    try:
        result = await _check_audiobookshelf(url, token.strip(), options or HttpOptions())
    except _Failed as failed:
        result = failed.result
    return _scrub(result, token.strip())


async def _check_audiobookshelf(url: str, token: str, options: HttpOptions) -> CheckResult:
    base = _base("Audiobookshelf", url)
    async with make_session(options) as session:
        return await _audiobookshelf(session, base, token)


async def _audiobookshelf(session: aiohttp.ClientSession, base: URL, token: str) -> CheckResult:
    service = "Audiobookshelf"
    shown = display_url(base)
    status_answer = await _get(session, service, base.join(URL("status")))
    if 300 <= status_answer.status < 400:
        raise _redirect(service, shown, status_answer)
    status = _json(status_answer) if status_answer.status == 200 else None
    if not isinstance(status, dict) or "serverVersion" not in status:
        raise _fail(
            "not_service",
            f"{shown} does not answer like Audiobookshelf (GET /status gave HTTP "
            f"{status_answer.status}): check the port and, behind a proxy, the sub-path.",
        )
    version = str(status.get("serverVersion"))
    if not status.get("isInit", True):
        raise _fail(
            "not_initialised",
            f"Audiobookshelf {version} at {shown} is not set up yet: open it in a browser "
            "and create the root user first.",
            version=version,
        )
    _need_key(service, token, "API key or token")
    auth = {"Authorization": f"Bearer {token}"}
    libraries_answer = await _get(session, service, base.join(URL("api/libraries")), headers=auth)
    if libraries_answer.status == 401:
        raise _fail(
            "wrong_key",
            f"Audiobookshelf {version} at {shown} refused the key (wrong API key or an "
            "expired token). Create an API key in Audiobookshelf → Settings → API Keys.",
            version=version,
        )
    if libraries_answer.status != 200:
        raise _fail(
            "http_error",
            f"Audiobookshelf at {shown} answered HTTP {libraries_answer.status} for the "
            "library list.",
            version=version,
        )
    listed = _json(libraries_answer)
    raw = listed.get("libraries") if isinstance(listed, dict) else None
    if not isinstance(raw, list):
        raise _fail("bad_answer", f"Audiobookshelf at {shown} sent a library list it cannot use.")
    libraries: list[dict[str, Any]] = [
        {
            "id": str(item.get("id", "")),
            "name": str(item.get("name", "")),
            "media_type": str(item.get("mediaType", "")),
            "folders": [str(f.get("fullPath", "")) for f in item.get("folders", [])],
        }
        for item in raw
        if isinstance(item, dict)
    ]
    me_answer = await _get(session, service, base.join(URL("api/me")), headers=auth)
    me = _json(me_answer) if me_answer.status == 200 else None
    user = str(me.get("username", "?")) if isinstance(me, dict) else "?"
    user_type = str(me.get("type", "")) if isinstance(me, dict) else ""
    admin = user_type in ADMIN_TYPES
    warnings: list[str] = []
    if not admin:
        warnings.append(
            f"the key's user {user!r} is not an administrator: Audiobookshelf lets only "
            "admins start library scans, so imported books appear only at its next "
            "scheduled scan"
        )
    books = [lib for lib in libraries if lib["media_type"] == "book"]
    if not books:
        warnings.append("there is no book library to import into")
    names = ", ".join(str(lib["name"]) for lib in libraries) or "none"
    role = "an admin (scans allowed)" if admin else "not an admin (no scans)"
    return CheckResult(
        True,
        f"Audiobookshelf {version} at {shown}: {len(libraries)} "
        f"{'library' if len(libraries) == 1 else 'libraries'} ({names}); "
        f"user {user} is {role}.",
        {
            "version": version,
            "libraries": libraries,
            "user": user,
            "user_type": user_type,
            "admin": admin,
            "warnings": warnings,
        },
    )
