"""Loopback stand-ins for Prowlarr, Jackett (Torznab) and Audiobookshelf.

**Why they exist.** None of these servers can run here, and the settings dialog's Test
buttons (`gui.clients.service_checks`) must be shown the answers the real servers give,
errors included. Each double answers only the routes modelled below, exactly as the real
server does; anything else gets **501** `not modelled by the double` so a test that needs
more fails loudly instead of passing against an invented answer. Extend them route by
route, each with its source.

**Where the answers come from.**

* Prowlarr (source at Prowlarr/Prowlarr 0ffcfcc, v2.3.6):
  - Every route needs the API key, read from the ``X-Api-Key`` header, the ``apikey``
    query parameter or ``Authorization: Bearer`` (`src/Prowlarr.Http/Authentication/
    ApiKeyAuthenticationHandler.cs`); a missing or wrong key is **401 with an empty body**,
    the Torznab routes included (`src/NzbDrone.Host/Startup.cs` fallback policy).
  - ``GET /api/v1/system/status`` returns the anonymous object of
    `src/Prowlarr.Api.V1/System/SystemController.cs` ``GetStatus`` in camelCase, enums as
    camelCase strings. Values that describe the machine (paths, OS, times) are this
    double's own.
  - ``GET /{id}/api?t=caps`` and ``/api/v1/indexer/{id}/newznab?t=caps`` return
    `IndexerCapabilities.GetXDocument()` (server title ``Prowlarr``); an unknown indexer
    id is 404.
* Jackett (`src/Jackett.Server/Controllers/ResultsController.cs`,
  `src/Jackett.Common/Models/TorznabCapabilities.cs`):
  - Route ``/api/v2.0/indexers/{indexerId}/results/torznab/{ignored?}``, so
    ``.../torznab`` and ``.../torznab/api`` are the same.
  - Filters in order: ``RequiresApiKey`` (query ``apikey`` or ``passkey``), then
    ``RequiresConfiguredIndexer``. On the Torznab action their errors are **HTTP 200**
    with ``<error code description/>`` and ``Content-Type: application/xml``: a wrong
    key is code 100 ``Invalid API Key``, an unknown indexer 201 ``Indexer is not
    supported``.
  - ``t=caps`` answers ``TorznabCaps.ToXml()`` as ``application/rss+xml`` (UTF-8): the
    declaration, a newline, then ``XDocument.ToString()`` (two-space indent, ``" />"``).
* Audiobookshelf 2.36.0: the recorded real answers in
  ``tests/fixtures/abs-2.36/`` (copied from the project's shared reference; override with
  ``EARMARK_ABS_RESPONSES``):
  - ``GET /status`` (no authentication): `status_after_init.json`.
  - ``GET /api/libraries``: `libraries.json`; ``GET /api/me``: `me.json`, whose ``type``
    (``root`` in the recording) is replaced by the double's ``user_type`` so a non-admin
    key can be shown.
  - Authentication (`server/Auth.js`: passport-jwt from the ``Authorization: Bearer``
    header or the ``token`` query parameter); failure is passport's **401**
    ``Unauthorized``.
  - JSON is sent the way express's ``res.json`` does: compact, ``application/json;
    charset=utf-8``.

**Not modelled:** searching, downloads, Prowlarr's forms/basic login pages and URL base,
Jackett's other actions and meta-indexer aggregation, ABS rate limits, login, scans and
every other route.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from aiohttp import web

LOCAL_ADDRESS = "127.0.0.1"
ABS_RESPONSES = Path(
    os.environ.get(
        "EARMARK_ABS_RESPONSES", str(Path(__file__).resolve().parents[1] / "fixtures" / "abs-2.36")
    )
)
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Received:
    """One request as the double saw it (for tests that check what the client sent)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class Category:
    """A Torznab category with its sub-categories (ids from NewznabStandardCategory.cs)."""

    id: int
    name: str
    subcats: Sequence[tuple[int, str]] = ()


AUDIO = Category(3000, "Audio", ((3030, "Audio/Audiobook"),))
BOOKS = Category(7000, "Books", ((7020, "Books/EBook"),))


@dataclass
class Caps:
    """The parts of a Torznab capabilities document the doubles vary."""

    categories: Sequence[Category] = (AUDIO, BOOKS)
    book_params: Sequence[str] = ("q", "title", "author")  # "q" is always present
    limits_max: int | None = 100
    limits_default: int | None = 100

    def xml(self, server_title: str, *, limits_first: str = "max") -> str:
        """`GetXDocument()` rendered as XDocument.ToString() does; see the module docstring."""
        lines = ["<caps>", f"  <server title={quoteattr(server_title)} />"]
        limits = {"max": self.limits_max, "default": self.limits_default}
        order = ("max", "default") if limits_first == "max" else ("default", "max")
        attrs = " ".join(f'{k}="{limits[k]}"' for k in order if limits[k] is not None)
        if attrs:
            lines.append(f"  <limits {attrs} />")
        book = "yes" if len(self.book_params) > 1 else "no"
        lines += [
            "  <searching>",
            '    <search available="yes" supportedParams="q" />',
            '    <tv-search available="no" supportedParams="q" />',
            '    <movie-search available="no" supportedParams="q" />',
            '    <music-search available="no" supportedParams="q" />',
            '    <audio-search available="no" supportedParams="q" />',
            f'    <book-search available="{book}" '
            f'supportedParams="{",".join(self.book_params)}" />',
            "  </searching>",
        ]
        if not self.categories:
            lines.append("  <categories />")
        else:
            lines.append("  <categories>")
            for cat in self.categories:
                head = f'    <category id="{cat.id}" name={quoteattr(cat.name)}'
                if not cat.subcats:
                    lines.append(head + " />")
                    continue
                lines.append(head + ">")
                lines += [
                    f'      <subcat id="{sid}" name={quoteattr(sname)} />'
                    for sid, sname in cat.subcats
                ]
                lines.append("    </category>")
            lines.append("  </categories>")
        lines.append("</caps>")
        return XML_DECLARATION + "\n" + "\n".join(lines)


def torznab_error_xml(code: int, description: str) -> str:
    """`ResultsController.CreateErrorXML`."""
    return f'{XML_DECLARATION}\n<error code="{code}" description={quoteattr(description)} />'


class _Double:
    """An aiohttp app on 127.0.0.1 with a free port; `async with` starts and stops it."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> _Double:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record_and_dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCAL_ADDRESS, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{LOCAL_ADDRESS}:{self.port}/"

    async def _record_and_dispatch(self, request: web.Request) -> web.StreamResponse:
        self.received.append(
            Received(request.method, request.path, dict(request.query), dict(request.headers))
        )
        return await self._dispatch(request)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


def _not_modelled(request: web.Request) -> web.Response:
    return web.Response(status=501, text=f"not modelled by the double: {request.path}")


class ProwlarrDouble(_Double):
    """Prowlarr's status and per-indexer Torznab caps, with its key check."""

    def __init__(
        self,
        *,
        api_key: str = "0123456789abcdef0123456789abcdef",
        version: str = "2.3.6.5210",
        instance_name: str = "Prowlarr",
        indexers: Mapping[int, Caps] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.version = version
        self.instance_name = instance_name
        self.indexers: dict[int, Caps] = dict(indexers or {1: Caps()})

    async def __aenter__(self) -> ProwlarrDouble:
        await super().__aenter__()
        return self

    def _key_of(self, request: web.Request) -> str | None:
        header = request.headers.get("X-Api-Key")
        if header:
            return header
        if "apikey" in request.query:
            return request.query["apikey"]
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[len("bearer ") :].strip()
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self._key_of(request) != self.api_key:
            return web.Response(status=401)  # empty body, no content type
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET" and parts == ["api", "v1", "system", "status"]:
            return web.json_response(self.status())
        indexer: str | None = None
        if len(parts) == 2 and parts[1] == "api":
            indexer = parts[0]
        elif len(parts) == 5 and parts[:3] == ["api", "v1", "indexer"] and parts[4] == "newznab":
            indexer = parts[3]
        if indexer is not None and request.query.get("t") == "caps":
            caps = self.indexers.get(int(indexer)) if indexer.isdigit() else None
            if caps is None:
                return web.Response(status=404)
            return web.Response(
                text=caps.xml("Prowlarr", limits_first="default"),
                content_type="application/rss+xml",
                charset="utf-8",
            )
        return _not_modelled(request)

    def status(self) -> dict[str, Any]:
        """SystemController.GetStatus, in its field order."""
        return {
            "appName": "Prowlarr",
            "instanceName": self.instance_name,
            "version": self.version,
            "buildTime": "2025-01-01T00:00:00Z",
            "isDebug": False,
            "isProduction": True,
            "isAdmin": False,
            "isUserInteractive": False,
            "startupPath": "/app/prowlarr/bin",
            "appData": "/config",
            "osName": "debian",
            "osVersion": "12",
            "isNetCore": True,
            "isLinux": True,
            "isOsx": False,
            "isWindows": False,
            "isDocker": True,
            "mode": "console",
            "branch": "master",
            "authentication": "forms",
            "databaseType": "sqLite",
            "databaseVersion": "3.46.1",
            "migrationVersion": 42,
            "urlBase": "",
            "runtimeVersion": "8.0.12",
            "runtimeName": ".NET",
            "startTime": "2025-01-01T00:00:00Z",
            "packageUpdateMechanism": "docker",
        }


class JackettDouble(_Double):
    """Jackett's Torznab route with its two filters and `t=caps`."""

    def __init__(
        self,
        *,
        api_key: str = "abcdefghijklmnopqrstuvwxyz012345",
        indexers: Mapping[str, Caps] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.indexers: dict[str, Caps] = dict(indexers or {"audiobookbay": Caps()})

    async def __aenter__(self) -> JackettDouble:
        await super().__aenter__()
        return self

    def feed_url(self, indexer: str = "audiobookbay") -> str:
        """What Jackett's "Copy Torznab Feed" button gives."""
        return f"{self.url}api/v2.0/indexers/{indexer}/results/torznab/"

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        torznab = (
            len(parts) in (6, 7)
            and parts[:3] == ["api", "v2.0", "indexers"]
            and parts[4:6] == ["results", "torznab"]
        )
        if not torznab or request.method != "GET":
            return _not_modelled(request)
        key = request.query.get("apikey", request.query.get("passkey"))
        if key != self.api_key:
            return self._error(100, "Invalid API Key")
        caps = self.indexers.get(parts[3])
        if caps is None:
            return self._error(201, "Indexer is not supported")
        if request.query.get("t", "").lower() == "caps":
            return web.Response(
                text=caps.xml("Jackett"), content_type="application/rss+xml", charset="utf-8"
            )
        return _not_modelled(request)

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        # ContentResult { ContentType = "application/xml", StatusCode = 200 }
        return web.Response(
            status=200,
            body=torznab_error_xml(code, description).encode(),
            headers={"Content-Type": "application/xml"},
        )


class AbsDouble(_Double):
    """Audiobookshelf 2.36's status, library list and current user, from real recordings."""

    def __init__(
        self,
        *,
        token: str = "abs-api-key-for-tests",
        user_type: str = "root",
        responses: Path = ABS_RESPONSES,
    ) -> None:
        super().__init__()
        self.token = token
        self.user_type = user_type
        self.recorded: dict[str, Any] = {}
        for name in ("status_after_init", "libraries", "me"):
            path = responses / f"{name}.json"
            if not path.is_file():
                raise FileNotFoundError(
                    f"the recorded Audiobookshelf answer {path} is missing "
                    "(set EARMARK_ABS_RESPONSES to the folder of recordings)"
                )
            self.recorded[name] = json.loads(path.read_text(encoding="utf-8"))

    async def __aenter__(self) -> AbsDouble:
        await super().__aenter__()
        return self

    @staticmethod
    def _json(value: Any, status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(value, separators=(",", ":")).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    def _authenticated(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        return (token or request.query.get("token")) == self.token

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.path == "/status":
            return self._json(self.recorded["status_after_init"])
        if request.path.startswith("/api/"):
            if not self._authenticated(request):
                return web.Response(status=401, body=b"Unauthorized")
            if request.method == "GET" and request.path == "/api/libraries":
                return self._json(self.recorded["libraries"])
            if request.method == "GET" and request.path == "/api/me":
                return self._json({**self.recorded["me"], "type": self.user_type})
        return _not_modelled(request)
