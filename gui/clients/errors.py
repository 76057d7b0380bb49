"""Typed errors of every network client.

Each error says which server, which endpoint and what was answered, because the person
reading it is a user who has to fix a setting, not a developer reading a traceback. No
error ever carries a request body or credentials: login forms hold passwords.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error a client raises; `str()` is a message a user can act on."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        url: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        answer: str | None = None,
    ) -> None:
        self.message = message
        self.service = service
        self.url = url
        self.endpoint = endpoint
        self.status = status
        self.answer = answer
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.service}"
        if self.url:
            where += f" at {self.url}"
        parts = [f"{where}: {self.message}"]
        if self.endpoint:
            detail = plain_endpoint(self.endpoint)
            if self.status is not None:
                detail += f" answered HTTP {self.status}"
            if self.answer:
                detail += f"{'' if self.status is not None else ' answered'} "
                detail += repr(short_answer(self.answer))
            parts.append(detail)
        return " — ".join(parts)


#: What a request does, in a user's words (the API path stays in `ClientError.endpoint`).
PLAIN_ENDPOINTS = {
    "auth/login": "the login",
    "auth/logout": "the logout",
    "app/version": "the version check",
    "app/webapiVersion": "the Web API version check",
    "app/preferences": "reading qBittorrent's settings",
    "app/setPreferences": "changing qBittorrent's settings",
    "sync/maindata": "the list of torrents",
    "torrents/info": "the list of torrents",
    "torrents/add": "adding the torrent",
    "torrents/properties": "the torrent's details",
    "torrents/files": "the torrent's files",
}


def plain_endpoint(endpoint: str) -> str:
    """ "the list of torrents", not "endpoint sync/maindata", in a message a user reads."""
    path = endpoint.split(" ", 1)[-1].strip("/")
    path = path.removeprefix("api/v2/")
    found = PLAIN_ENDPOINTS.get(path)
    return found if found is not None else f"the request {path}"


def short_answer(text: str, limit: int = 120) -> str:
    """Server answers can be whole HTML pages; a message needs only their start."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class UnreachableError(ClientError):
    """Nothing answered: DNS failure, connection refused, timeout, connection reset."""


class TlsError(ClientError):
    """The TLS handshake failed: unknown certificate, wrong host name, pin mismatch."""


class ProtocolError(ClientError):
    """The server answered, but not the way the service's API does (wrong server or path)."""


class HttpStatusError(ClientError):
    """An HTTP status the API documents as an error (400, 404, 409, 415, 5xx...)."""


class AuthError(ClientError):
    """Authentication failed; never retried automatically (retries spend ban attempts)."""


class BadCredentialsError(AuthError):
    """The server checked the user name and password and refused them."""


class IpBannedError(AuthError):
    """qBittorrent banned this client's IP after too many failed logins."""


class RequestRejectedError(AuthError):
    """401 before authentication: qBittorrent's Host-header or CSRF check refused the request."""


class SessionLostError(AuthError):
    """Login succeeded but the next call was refused (403): the session cookie did not come back."""


class ForbiddenError(AuthError):
    """403 for a reason other than a missing session (a proxy rule, an API key without rights)."""
