"""One-shot checks behind the settings dialog's Test buttons: Prowlarr, Torznab, Audiobookshelf.

Each check asks the cheapest question that proves both "the server is the one you think"
and "the key works", and answers in words a user can act on. The services disagree on how
they say "wrong key", so each one is read the way its source code says it answers:

* Prowlarr and Torznab feeds (Jackett, Prowlarr per-indexer) are asked through the same
  clients the searches use (`gui.clients.prowlarr`, `gui.clients.torznab`, whose
  docstrings cite the servers' sources), so there is one piece of code per API: the
  checks here only turn the clients' typed errors into a Test button's words. Prowlarr:
  `GET /api/v1/system/status` with `X-Api-Key`; a bad key is 401 with an empty body.
  Jackett: `t=caps&apikey=`; a bad key is **HTTP 200** carrying `<error code="100"
  description="Invalid API Key"/>`, so the status alone proves nothing.
* Audiobookshelf 2.36 (`server/Auth.js`, recorded answers in the reference folder):
  `GET /status` needs no login; API routes take `Authorization: Bearer`; a bad token is
  401 `Unauthorized`. Library scans are admin-only, so the check also says whether the
  key's user (`GET /api/me`, `type` root/admin) may start them.

No check ever puts a key in its summary or details: keys in query strings are stripped
from every URL shown, and any text that might echo a key is scrubbed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from gui.clients.audiobookshelf import AbsClient, AbsUser
from gui.clients.errors import (
    AuthError,
    ClientError,
    ForbiddenError,
    ProtocolError,
    TlsError,
    UnreachableError,
)
from gui.clients.http import (
    HttpOptions,
    display_url,
    ensure_base_url,
)
from gui.clients.prowlarr import NotProwlarrError, ProwlarrClient
from gui.clients.torznab import (
    AUDIOBOOK_CATEGORY,
    TORZNAB_ENDPOINT_NAMES,
    TorznabApiError,
    TorznabAuthError,
    TorznabCaps,
    TorznabClient,
    torznab_endpoint,
)

__all__ = [
    "AUDIOBOOK_CATEGORY",
    "TORZNAB_ENDPOINT_NAMES",
    "CheckResult",
    "check_audiobookshelf",
    "check_prowlarr",
    "check_torznab",
    "torznab_endpoint",
]

MIN_SCRUB = 8


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


class _Failed(Exception):
    """Ends a check early with its result."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.summary)
        self.result = result


def _fail(problem: str, summary: str, **details: Any) -> _Failed:
    return _Failed(CheckResult(False, summary, {"problem": problem, **details}))


def _base(service: str, url: str) -> URL:
    try:
        return ensure_base_url(url)
    except ValueError as exc:
        raise _fail("bad_url", f"The {service} address is not usable: {exc}.") from exc


def _need_key(service: str, key: str, what: str = "API key") -> None:
    if not key.strip():
        raise _fail("no_key", f"No {service} {what} is entered.")


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
    """`ProwlarrClient.status()` with the key: proves the address, the app and the key."""
    try:
        result = await _check_prowlarr(url, api_key.strip(), options or HttpOptions())
    except _Failed as failed:
        result = failed.result
    return _scrub(result, api_key.strip())


def _client_failure(service: str, shown: str, error: ClientError) -> _Failed:
    """What a transport failure means on a Test button."""
    problem = "tls" if isinstance(error, TlsError) else "unreachable"
    return _fail(problem, f"Cannot reach {service} at {shown}: {error.message}.")


async def _check_prowlarr(url: str, api_key: str, options: HttpOptions) -> CheckResult:
    service = "Prowlarr"
    base = _base(service, url)
    _need_key(service, api_key)
    shown = display_url(base)
    try:
        async with ProwlarrClient(url, api_key, http=options) as client:
            status = await client.status()
    except AuthError as error:
        raise _fail(
            "wrong_key",
            f"Prowlarr at {shown} refused the API key (wrong API key). Copy it from "
            "Prowlarr → Settings → General → Security → API Key.",
        ) from error
    except (UnreachableError, TlsError) as error:
        raise _client_failure(service, shown, error) from error
    except NotProwlarrError as error:
        if error.app_name is not None:
            raise _fail(
                "not_service",
                f"{shown} is {error.app_name} {error.version}, not Prowlarr.",
                app_name=error.app_name,
                version=error.version,
            ) from error
        raise _fail("not_service", f"{shown} {error.message}.") from error
    except ProtocolError as error:
        raise _fail("not_service", f"{shown} {error.message}.") from error
    except ClientError as error:
        raise _fail(
            "http_error", f"Prowlarr at {shown} answered HTTP {error.status}: {error.message}."
        ) from error
    return CheckResult(
        True,
        f"{status.instance_name} (Prowlarr {status.version}) answers at {shown}; "
        "the API key works.",
        {
            "app_name": status.app_name,
            "version": status.version,
            "instance_name": status.instance_name,
        },
    )


# ---- Torznab -------------------------------------------------------------------------


async def check_torznab(
    url: str, api_key: str, *, options: HttpOptions | None = None
) -> CheckResult:
    """`TorznabClient.caps()`: the capabilities prove the feed, an `<error>` tells why not."""
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
    try:
        async with TorznabClient(url, api_key, name=service, http=options) as client:
            caps = await client.caps()
    except TorznabAuthError as error:
        raise _fail(
            "wrong_key",
            f"{shown} refused the API key (wrong API key): {error.description} (error "
            f"{error.code}). Copy the key shown at the top of Jackett's dashboard (or "
            "Prowlarr's API key).",
            code=str(error.code),
            description=error.description,
        ) from error
    except AuthError as error:
        raise _fail("wrong_key", f"{shown} refused the API key (wrong API key).") from error
    except (UnreachableError, TlsError) as error:
        raise _client_failure(service, shown, error) from error
    except TorznabApiError as error:
        raise _fail(
            "http_error",
            f"{shown} answered Torznab error {error.code}: {error.description}.",
            code=str(error.code),
            description=error.description,
        ) from error
    except ProtocolError as error:
        problem = "not_service" if error.status in (None, 200, 404) else "http_error"
        raise _fail(problem, f"{shown}: {error.message}.") from error
    except ClientError as error:
        raise _fail(
            "http_error", f"{shown} answered HTTP {error.status}: {error.message}."
        ) from error
    return _caps_result(shown, caps)


def _caps_result(shown: str, caps: TorznabCaps) -> CheckResult:
    title = caps.server_title or "Torznab"
    book_available = caps.available("book-search")
    book_params = list(caps.book_params)
    category_ids = caps.category_ids
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
    try:
        client = AbsClient(url, token, http=options)
    except ValueError as exc:
        raise _fail("bad_url", f"The Audiobookshelf address is not usable: {exc}.") from exc
    shown = client.display_url
    async with client:
        try:
            status = await client.status()
        except (UnreachableError, TlsError) as exc:
            raise _client_failure("Audiobookshelf", shown, exc) from exc
        except ClientError as exc:
            raise _fail(
                "not_service",
                f"{shown} does not answer like Audiobookshelf (GET /status gave HTTP "
                f"{exc.status}): check the port and, behind a proxy, the sub-path.",
            ) from exc
        version = status.server_version
        if not status.is_init:
            raise _fail(
                "not_initialised",
                f"Audiobookshelf {version} at {shown} is not set up yet: open it in a browser "
                "and create the root user first.",
                version=version,
            )
        _need_key("Audiobookshelf", token, "API key or token")
        try:
            listed = await client.libraries()
        except (UnreachableError, TlsError) as exc:
            raise _client_failure("Audiobookshelf", shown, exc) from exc
        except AuthError as exc:
            if isinstance(exc, ForbiddenError):
                raise _fail(
                    "http_error",
                    f"Audiobookshelf at {shown} answered HTTP 403 for the library list.",
                    version=version,
                ) from exc
            raise _fail(
                "wrong_key",
                f"Audiobookshelf {version} at {shown} refused the key (wrong API key or an "
                "expired token). Create an API key in Audiobookshelf → Settings → API Keys.",
                version=version,
            ) from exc
        except ProtocolError as exc:
            raise _fail(
                "bad_answer", f"Audiobookshelf at {shown} sent a library list it cannot use."
            ) from exc
        except ClientError as exc:
            raise _fail(
                "http_error",
                f"Audiobookshelf at {shown} answered HTTP {exc.status} for the library list.",
                version=version,
            ) from exc
        try:
            me: AbsUser | None = await client.me()
        except (UnreachableError, TlsError) as exc:
            raise _client_failure("Audiobookshelf", shown, exc) from exc
        except ClientError:
            me = None  # the list worked, so the key works; only the role is unknown
    libraries: list[dict[str, Any]] = [
        {
            "id": lib.id,
            "name": lib.name,
            "media_type": lib.media_type,
            "folders": [folder.full_path for folder in lib.folders],
        }
        for lib in listed
    ]
    user = me.username if me else "?"
    user_type = me.type if me else ""
    admin = me.is_admin if me else False
    warnings: list[str] = []
    if not admin:
        warnings.append(
            f"the key's user {user!r} is not an administrator: Audiobookshelf lets only "
            "admins start library scans, so imported books appear only at its next "
            "scheduled scan"
        )
    if not any(lib.is_book for lib in listed):
        warnings.append("there is no book library to import into")
    names = ", ".join(lib.name for lib in listed) or "none"
    role = "an admin (scans allowed)" if admin else "not an admin (no scans)"
    return CheckResult(
        True,
        f"Audiobookshelf {version} at {shown}: {len(listed)} "
        f"{'library' if len(listed) == 1 else 'libraries'} ({names}); "
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
