"""asyncio client of qBittorrent's WebUI API (v2), versions 4.1 to 5.x.

Three rules shape it, all learnt from qBittorrent's source (see DESIGN.md):

* Login is spent sparingly. qBittorrent bans an IP after a few failed logins and the
  counter never decays, so the client logs in at most once per user action, never retries
  a failed login, and after a refused login refuses to log in again on its own until the
  caller says so (`login()` is the user's explicit "try again").
* Whatever cookie the login sets is kept (`SID`, a renamed one, `QBT_SID_<port>`), and the
  cookie jar accepts cookies from IP-address hosts.
* A 403 on a session that used to work means the session expired or qBittorrent
  restarted: log in again once, retry once, restart the sync from rid 0. Never loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import aiohttp
from yarl import URL

from gui.clients.errors import (
    BadCredentialsError,
    ClientError,
    ForbiddenError,
    HttpStatusError,
    IpBannedError,
    ProtocolError,
    RequestRejectedError,
    SessionLostError,
)
from gui.clients.http import (
    TRANSPORT_ERRORS,
    HttpOptions,
    SessionOwner,
    decode_text,
    display_url,
    ensure_base_url,
    loads_json,
    read_capped,
    transport_error,
)
from gui.clients.maindata import (
    MaindataError,
    MaindataMirror,
    MirrorChange,
    Torrent,
    normalize_state,
)
from gui.core.torrents import Magnet, TorrentFile

SERVICE = "qBittorrent"
LARGE_JSON = 256 * 1024
#: A full maindata of 10,000 torrents is ~30 MB of JSON; nothing qBittorrent sends is near
#: this, and a misbehaving server's endless body stops here instead of in the swap.
MAX_ANSWER_BYTES = 256 * 1024 * 1024
BAN_TEXT = "banned"

ContentLayout = Literal["Original", "Subfolder", "NoSubfolder"]


@dataclass(frozen=True)
class QbtConfig:
    """Where qBittorrent is and how to log in; the password never leaves this object."""

    url: str
    username: str = ""
    password: str = field(default="", repr=False)
    http: HttpOptions = field(default_factory=HttpOptions)


@dataclass(frozen=True)
class ApiFlavor:
    """The endpoint and parameter names of one Web API version."""

    version: tuple[int, ...]

    @property
    def stop_endpoint(self) -> str:
        return "torrents/stop" if self.version >= (2, 11, 0) else "torrents/pause"

    @property
    def start_endpoint(self) -> str:
        return "torrents/start" if self.version >= (2, 11, 0) else "torrents/resume"

    @property
    def stopped_param(self) -> str:
        return "stopped" if self.version >= (2, 11, 0) else "paused"

    @property
    def add_answers_json(self) -> bool:
        return self.version >= (2, 14, 0)


def parse_api_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.strip().lstrip("v").split("."))
    except ValueError:
        return ()


@dataclass(frozen=True)
class AddOptions:
    """Every choice of qBittorrent's own add dialog; None means "qBittorrent's default"."""

    category: str | None = None
    tags: Sequence[str] = ()
    save_path: str | None = None
    stopped: bool = False
    skip_checking: bool = False
    sequential: bool = False
    first_last_piece: bool = False
    content_layout: ContentLayout | None = None
    rename: str | None = None
    upload_limit: int | None = None  # bytes per second
    download_limit: int | None = None
    auto_tmm: bool | None = None
    #: One priority per file of a .torrent, in its order (`torrents/filePrio`'s ids):
    #: `torrents/add` has no such field, so `add` sets them once the torrent is listed.
    file_priorities: Sequence[int] = ()

    def form(self, flavor: ApiFlavor) -> dict[str, str]:
        fields: dict[str, str] = {}
        if self.category is not None:
            fields["category"] = self.category
        if self.tags:
            fields["tags"] = ",".join(self.tags)
        if self.save_path:
            fields["savepath"] = self.save_path
        if self.stopped:
            fields[flavor.stopped_param] = "true"
        if self.skip_checking:
            fields["skip_checking"] = "true"
        if self.sequential:
            fields["sequentialDownload"] = "true"
        if self.first_last_piece:
            fields["firstLastPiecePrio"] = "true"
        if self.content_layout:
            fields["contentLayout"] = self.content_layout
        if self.rename:
            fields["rename"] = self.rename
        if self.upload_limit is not None:
            fields["upLimit"] = str(self.upload_limit)
        if self.download_limit is not None:
            fields["dlLimit"] = str(self.download_limit)
        if self.auto_tmm is not None:
            fields["autoTMM"] = "true" if self.auto_tmm else "false"
        return fields


@dataclass(frozen=True)
class AddResult:
    hash: str
    name: str | None
    already_present: bool


@dataclass(frozen=True)
class Answer:
    """What qBittorrent answered, read completely (the connection is already released)."""

    status: int
    text: str
    headers: Mapping[str, str]
    cookies_set: tuple[str, ...]

    def json(self) -> Any:
        """The body as JSON; `ValueError` when it is not (a nesting bomb included)."""
        return loads_json(self.text)


def login_succeeded(answer: Answer) -> bool:
    """Every shape of a successful login: HTTP 204, or HTTP 200 with the body "Ok."."""
    return answer.status == 204 or (answer.status == 200 and answer.text.strip() == "Ok.")


class QBittorrentClient(SessionOwner):
    """One qBittorrent server. Create it, use it, `await close()` it (or `async with`)."""

    def __init__(
        self,
        config: QbtConfig,
        *,
        add_timeout: float = 15.0,
        mirror: MaindataMirror | None = None,
    ) -> None:
        self.config = config
        self.base_url = ensure_base_url(config.url)
        self.display_url = display_url(self.base_url)
        self._login_lock = asyncio.Lock()
        self._generation = 0  # bumped at every successful login
        self._auth_failure: ClientError | None = None
        self._flavor: ApiFlavor | None = None
        self._add_timeout = add_timeout
        self.login_attempts = 0
        # A mirror handed in outlives this client (a reconnect diffs against it).
        self.mirror = mirror if mirror is not None else MaindataMirror()

    @property
    def session_options(self) -> HttpOptions:
        return self.config.http

    @property
    def flavor(self) -> ApiFlavor:
        if self._flavor is None:
            raise RuntimeError("the API version is known only after the first request")
        return self._flavor

    # ---- transport -------------------------------------------------------------------

    def url_for(self, endpoint: str) -> URL:
        return self.base_url.join(URL(f"api/v2/{endpoint}"))

    async def send(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        files: Sequence[Upload] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One HTTP exchange, no authentication logic; transport failures become typed errors."""
        try:
            async with self.session.request(
                method,
                self.url_for(endpoint),
                params=params,
                data=_body(data, files),
                headers=headers,
                allow_redirects=False,
            ) as response:
                body = await read_capped(response, MAX_ANSWER_BYTES)
                if body is None:
                    raise ProtocolError(
                        f"the answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB, "
                        "more than qBittorrent ever sends",
                        service=SERVICE,
                        url=self.display_url,
                        endpoint=endpoint,
                        status=response.status,
                    )
                text = decode_text(body, response.charset)
                return Answer(
                    status=response.status,
                    text=text,
                    headers=dict(response.headers),
                    cookies_set=tuple(response.headers.getall("Set-Cookie", ())),
                )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(
                exc, service=SERVICE, url=self.display_url, endpoint=endpoint
            ) from exc

    def _error(
        self, cls: type[ClientError], message: str, endpoint: str, answer: Answer
    ) -> ClientError:
        return cls(
            message,
            service=SERVICE,
            url=self.display_url,
            endpoint=endpoint,
            status=answer.status,
            answer=answer.text,
        )

    # ---- authentication ----------------------------------------------------------------

    async def login(self) -> None:
        """Log in once. This is the user's explicit attempt: it clears an earlier refusal."""
        async with self._login_lock:
            self._auth_failure = None
            await self._login_locked()

    async def _login_locked(self) -> None:
        self.login_attempts += 1
        self.session.cookie_jar.clear()
        answer = await self.send(
            "POST",
            "auth/login",
            data={"username": self.config.username, "password": self.config.password},
        )
        try:
            self.check_login_answer(answer)
        except BadCredentialsError as exc:
            if answer.status == 401 and (await self.send("GET", "app/version")).status == 401:
                rejected = self._error(
                    RequestRejectedError,
                    "qBittorrent refused the request before checking the password "
                    "(Host-header or CSRF protection); run `earmark doctor`",
                    "auth/login",
                    answer,
                )
                self._auth_failure = rejected
                raise rejected from exc
            self._auth_failure = exc
            raise
        except ClientError as exc:
            self._auth_failure = exc
            raise
        # Prove the session works before anyone relies on it: a 403 right after a good
        # login is a cookie problem, not an expired session, and must not cost a re-login.
        version = await self.send("GET", "app/webapiVersion")
        if version.status == 403:
            lost = self._session_lost(answer, version)
            self._auth_failure = lost
            raise lost
        self._flavor = ApiFlavor(parse_api_version(version.text) or (2, 0))
        self._generation += 1
        self.mirror.reset()

    def check_login_answer(self, answer: Answer) -> None:
        """Raise the typed error a login answer means; return quietly on every success shape."""
        body = answer.text.strip()
        endpoint = "auth/login"
        if login_succeeded(answer):
            return
        if answer.status == 200 and body == "Fails.":
            raise self._error(BadCredentialsError, "wrong user name or password", endpoint, answer)
        if answer.status == 401:
            # 5.2+ answers 401 for bad credentials, but every version also answers 401 when
            # its Host-header or CSRF check refuses a request; `_login_locked` tells them
            # apart with an unauthenticated probe (which costs no login attempt).
            raise self._error(BadCredentialsError, "wrong user name or password", endpoint, answer)
        if answer.status == 403 and BAN_TEXT in body.lower():
            raise self._error(
                IpBannedError,
                "qBittorrent has banned this computer's IP address after too many failed "
                "logins; wait for the ban to end (1 hour by default) or restart qBittorrent",
                endpoint,
                answer,
            )
        if answer.status == 403:
            raise self._error(ForbiddenError, "login was refused", endpoint, answer)
        if answer.status == 404:
            raise self._error(
                ProtocolError,
                "no qBittorrent Web API here; check the URL (and the sub-path behind a proxy)",
                endpoint,
                answer,
            )
        raise self._error(ProtocolError, "unexpected answer to login", endpoint, answer)

    def _session_lost(self, login: Answer, answer: Answer) -> SessionLostError:
        if not login.cookies_set:
            why = "the login answer set no cookie (a proxy may strip Set-Cookie)"
        else:
            why = "the session cookie set at login was not sent back"
        return SessionLostError(
            f"login succeeded, then qBittorrent answered 403: {why}; run `earmark doctor`",
            service=SERVICE,
            url=self.display_url,
            endpoint="app/webapiVersion",
            status=answer.status,
            answer=answer.text,
        )

    async def _ensure_login(self) -> int:
        """Log in if no session exists yet; returns the session generation used."""
        async with self._login_lock:
            if self._auth_failure is not None:
                raise self._auth_failure
            if self._generation == 0:
                await self._login_locked()
            return self._generation

    async def _session_expired(self) -> bool:
        """Tell an expired session from an endpoint's own 403 (e.g. "Cannot write to directory")."""
        return (await self.send("GET", "app/webapiVersion")).status == 403

    async def _relogin(self, stale_generation: int) -> None:
        async with self._login_lock:
            if self._auth_failure is not None:
                raise self._auth_failure
            if self._generation == stale_generation:
                await self._login_locked()

    async def call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Params = None,
        data: Mapping[str, str] | None = None,
        files: Sequence[Upload] = (),
    ) -> Answer:
        """An authenticated API call with the one permitted re-login on an expired session.

        `params` may be a callable so a retry after re-login sends fresh values (the sync
        `rid` restarts from 0 with a new session).
        """
        generation = await self._ensure_login()
        answer = await self.send(method, endpoint, params=_params(params), data=data, files=files)
        # A 403 to a request sent with a session another call has since replaced is not
        # this endpoint's answer: retry with the new one (_relogin skips the login then).
        if answer.status == 403 and (
            self._generation != generation or await self._session_expired()
        ):
            await self._relogin(generation)
            answer = await self.send(
                method, endpoint, params=_params(params), data=data, files=files
            )
            if answer.status == 403:
                raise self._error(
                    ForbiddenError,
                    "refused even after logging in again",
                    endpoint,
                    answer,
                )
        return self._check(endpoint, answer)

    def _check(self, endpoint: str, answer: Answer) -> Answer:
        status = answer.status
        if status < 300:
            return answer
        if status == 401:
            raise self._error(
                RequestRejectedError,
                "qBittorrent refused the request (Host-header or CSRF protection); "
                "run `earmark doctor`",
                endpoint,
                answer,
            )
        messages = {
            400: "qBittorrent rejected the request's parameters",
            403: "access denied",
            404: "not found (unknown torrent, or an endpoint this qBittorrent version lacks)",
            405: "wrong HTTP method for this endpoint",
            409: "conflict",
            415: "qBittorrent could not read the data (is it a valid torrent?)",
        }
        message = messages.get(status, "unexpected HTTP status")
        raise self._error(HttpStatusError, message, endpoint, answer)

    # ---- information -------------------------------------------------------------------

    async def app_version(self) -> str:
        return (await self.call("GET", "app/version")).text.strip()

    async def api_version(self) -> tuple[int, ...]:
        await self._ensure_login()
        return self.flavor.version

    def _decoded(self, endpoint: str, answer: Answer, kind: type, text: Any = None) -> Any:
        """The answer's JSON when it has the shape `kind`, else the ProtocolError it means."""
        try:
            value = answer.json() if text is None else text
        except ValueError as exc:
            raise self._error(
                ProtocolError, f"{endpoint} did not answer JSON ({exc})", endpoint, answer
            ) from None
        if not isinstance(value, kind):
            raise self._error(
                ProtocolError,
                f"{endpoint} answered JSON of another shape than qBittorrent's "
                f"({type(value).__name__} instead of {kind.__name__})",
                endpoint,
                answer,
            )
        return value

    def _records(self, endpoint: str, answer: Answer) -> list[dict[str, Any]]:
        """A JSON list of objects (torrents/info, torrents/files)."""
        value: list[Any] = self._decoded(endpoint, answer, list)
        if not all(isinstance(item, dict) for item in value):
            raise self._error(
                ProtocolError, f"{endpoint} answered a list of non-objects", endpoint, answer
            )
        return value

    async def preferences(self) -> dict[str, Any]:
        prefs: dict[str, Any] = self._decoded(
            "app/preferences", await self.call("GET", "app/preferences"), dict
        )
        return prefs

    async def set_preferences(self, changes: Mapping[str, Any]) -> None:
        await self.call("POST", "app/setPreferences", data={"json": json.dumps(dict(changes))})

    async def torrents(self, hashes: Iterable[str] = (), **filters: str) -> list[Torrent]:
        params = dict(filters)
        hash_list = list(hashes)
        if hash_list:
            params["hashes"] = "|".join(hash_list)
        torrents = self._records(
            "torrents/info", await self.call("GET", "torrents/info", params=params)
        )
        for torrent in torrents:
            if isinstance(torrent.get("state"), str):
                torrent["state"] = normalize_state(torrent["state"])
        return torrents

    async def torrent(self, torrent_hash: str) -> Torrent | None:
        found = await self.torrents([torrent_hash])
        return found[0] if found else None

    async def files(self, torrent_hash: str) -> list[dict[str, Any]]:
        return self._records(
            "torrents/files",
            await self.call("GET", "torrents/files", params={"hash": torrent_hash}),
        )

    async def properties(self, torrent_hash: str) -> dict[str, Any]:
        props: dict[str, Any] = self._decoded(
            "torrents/properties",
            await self.call("GET", "torrents/properties", params={"hash": torrent_hash}),
            dict,
        )
        return props

    async def categories(self) -> dict[str, dict[str, Any]]:
        categories: dict[str, dict[str, Any]] = self._decoded(
            "torrents/categories", await self.call("GET", "torrents/categories"), dict
        )
        return categories

    async def sync(self) -> MirrorChange:
        """One maindata refresh merged into `self.mirror`."""
        endpoint = "sync/maindata"
        answer = await self.call("GET", endpoint, params=lambda: {"rid": str(self.mirror.rid)})
        parsed: Any = None
        if len(answer.text) > LARGE_JSON:
            # A full update of thousands of torrents is megabytes of JSON: parse it off the
            # event loop's thread so the window keeps painting.
            try:
                parsed = await asyncio.to_thread(loads_json, answer.text)
            except ValueError as exc:
                raise self._error(
                    ProtocolError, f"{endpoint} did not answer JSON ({exc})", endpoint, answer
                ) from None
        payload = self._decoded(endpoint, answer, dict, parsed)
        try:
            return self.mirror.apply(payload)
        except MaindataError as exc:
            raise self._error(
                ProtocolError, f"{endpoint} answered an unexpected shape: {exc}", endpoint, answer
            ) from None

    # ---- actions -----------------------------------------------------------------------

    async def add(
        self, source: Magnet | TorrentFile, options: AddOptions = AddOptions()
    ) -> AddResult:
        """Add a torrent and wait until qBittorrent lists it; a duplicate is not an error."""
        torrent_hash = source.info_hash
        existing = await self.torrent(torrent_hash)
        if existing is not None:
            return AddResult(torrent_hash, existing.get("name"), already_present=True)

        options = options or AddOptions()
        # A magnet's files are not known before its metadata: only a .torrent's are chosen.
        priorities = {} if isinstance(source, Magnet) else _priority_groups(options.file_priorities)
        # Added stopped while priorities are pending, so no piece of a skipped file arrives.
        adding = replace(options, stopped=True) if priorities else options
        form = adding.form(self.flavor)
        uploads: list[Upload] = []
        if isinstance(source, Magnet):
            form["urls"] = source.uri
        else:
            uploads.append(Upload("torrents", f"{torrent_hash}.torrent", source.data))
        try:
            answer = await self.call("POST", "torrents/add", data=form, files=uploads)
        except HttpStatusError as exc:
            if exc.status != 409:  # 5.2+: every source failed, e.g. added meanwhile
                raise
            found = await self.torrent(torrent_hash)
            if found is None:
                raise
            return AddResult(torrent_hash, found.get("name"), already_present=True)
        failed = self._add_failed(answer)
        found = await self._wait_for(torrent_hash, give_up_at_once=failed)
        if found is None:
            raise self._error(
                HttpStatusError if failed else ProtocolError,
                "qBittorrent did not add the torrent"
                + (" (it refused it)" if failed else " within the time limit"),
                "torrents/add",
                answer,
            )
        if priorities and not failed:
            for priority, ids in priorities.items():
                await self.set_file_priority(torrent_hash, ids, priority)
            if not options.stopped:
                await self.start([torrent_hash])
        # Before 5.2 a duplicate added meanwhile answers "Fails." yet is listed.
        return AddResult(torrent_hash, found.get("name"), already_present=failed)

    def _add_failed(self, answer: Answer) -> bool:
        if self.flavor.add_answers_json and answer.text.strip().startswith("{"):
            result = self._decoded("torrents/add", answer, dict)
            counts = (result.get("success_count", 0), result.get("pending_count", 0))
            return not any(isinstance(n, int) and n > 0 for n in counts)
        return answer.text.strip() == "Fails."

    async def _wait_for(self, torrent_hash: str, *, give_up_at_once: bool) -> Torrent | None:
        """qBittorrent adds asynchronously: poll until the torrent is listed or time is up."""
        deadline = time.monotonic() + (0 if give_up_at_once else self._add_timeout)
        delay = 0.05
        while True:
            found = await self.torrent(torrent_hash)
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def stop(self, hashes: Sequence[str]) -> None:
        """Pause (4.x) or stop (5.x): the endpoint name depends on the version."""
        await self._ensure_login()
        await self.call("POST", self.flavor.stop_endpoint, data=_hashes(hashes))

    async def start(self, hashes: Sequence[str]) -> None:
        await self._ensure_login()
        await self.call("POST", self.flavor.start_endpoint, data=_hashes(hashes))

    async def delete(self, hashes: Sequence[str], *, delete_files: bool) -> None:
        await self.call(
            "POST",
            "torrents/delete",
            data={**_hashes(hashes), "deleteFiles": "true" if delete_files else "false"},
        )

    async def set_category(self, hashes: Sequence[str], category: str) -> None:
        await self.call(
            "POST", "torrents/setCategory", data={**_hashes(hashes), "category": category}
        )

    async def create_category(self, name: str, save_path: str = "") -> None:
        """Creating a category that exists answers 409 on some versions: not an error here."""
        try:
            await self.call(
                "POST", "torrents/createCategory", data={"category": name, "savePath": save_path}
            )
        except HttpStatusError as exc:
            if exc.status != 409 or name not in await self.categories():
                raise

    async def add_tags(self, hashes: Sequence[str], tags: Sequence[str]) -> None:
        await self.call(
            "POST", "torrents/addTags", data={**_hashes(hashes), "tags": ",".join(tags)}
        )

    async def recheck(self, hashes: Sequence[str]) -> None:
        await self.call("POST", "torrents/recheck", data=_hashes(hashes))

    # ---- the properties panel (qBittorrent's src/gui/properties) -----------------------

    async def trackers(self, torrent_hash: str) -> list[dict[str, Any]]:
        """`torrents/trackers`: DHT, PeX and LSD come first as pseudo-trackers ("** [DHT] **")."""
        trackers: list[dict[str, Any]] = (
            await self.call("GET", "torrents/trackers", params={"hash": torrent_hash})
        ).json()
        return trackers

    async def torrent_peers(self, torrent_hash: str, rid: int = 0) -> dict[str, Any]:
        """`sync/torrentPeers`: peers keyed "ip:port", deltas since `rid` like maindata."""
        peers: dict[str, Any] = (
            await self.call(
                "GET", "sync/torrentPeers", params={"hash": torrent_hash, "rid": str(rid)}
            )
        ).json()
        return peers

    async def set_file_priority(
        self, torrent_hash: str, file_ids: Sequence[int], priority: int
    ) -> None:
        """`torrents/filePrio`: 0 do not download, 1 normal, 6 high, 7 maximum.

        qBittorrent answers 409 while the torrent's metadata is not known yet."""
        if not file_ids:
            raise ValueError("no file selected")
        await self.call(
            "POST",
            "torrents/filePrio",
            data={
                "hash": torrent_hash,
                "id": "|".join(str(i) for i in file_ids),
                "priority": str(priority),
            },
        )

    # ---- more actions on torrents (qBittorrent's transfer-list menu) --------------------

    async def reannounce(self, hashes: Sequence[str]) -> None:
        await self.call("POST", "torrents/reannounce", data=_hashes(hashes))

    async def set_location(self, hashes: Sequence[str], location: str) -> None:
        """Move the data; 400 for an empty path, 409 when the folder cannot be created."""
        await self.call(
            "POST", "torrents/setLocation", data={**_hashes(hashes), "location": location}
        )

    async def rename(self, torrent_hash: str, name: str) -> None:
        await self.call("POST", "torrents/rename", data={"hash": torrent_hash, "name": name})

    async def remove_tags(self, hashes: Sequence[str], tags: Sequence[str]) -> None:
        await self.call(
            "POST", "torrents/removeTags", data={**_hashes(hashes), "tags": ",".join(tags)}
        )

    async def queue(self, hashes: Sequence[str], move: str) -> None:
        """`move` is one of topPrio, increasePrio, decreasePrio, bottomPrio.

        qBittorrent answers 409 when torrent queueing is off in its settings."""
        if move not in QUEUE_MOVES:
            raise ValueError(f"unknown queue move {move!r}")
        await self.call("POST", f"torrents/{move}", data=_hashes(hashes))

    async def set_torrent_limits(
        self, hashes: Sequence[str], *, download: int | None = None, upload: int | None = None
    ) -> None:
        """Per-torrent limits in bytes/s (0: none)."""
        if download is not None:
            await self.call(
                "POST",
                "torrents/setDownloadLimit",
                data={**_hashes(hashes), "limit": str(max(0, download))},
            )
        if upload is not None:
            await self.call(
                "POST",
                "torrents/setUploadLimit",
                data={**_hashes(hashes), "limit": str(max(0, upload))},
            )

    async def set_global_limits(
        self, *, download: int | None = None, upload: int | None = None
    ) -> None:
        """The global limits in bytes/s (0: none); while the alternative limits are on,
        qBittorrent applies these to the alternative ones."""
        if download is not None:
            await self.call(
                "POST", "transfer/setDownloadLimit", data={"limit": str(max(0, download))}
            )
        if upload is not None:
            await self.call("POST", "transfer/setUploadLimit", data={"limit": str(max(0, upload))})

    async def alternative_limits_on(self) -> bool:
        return (await self.call("GET", "transfer/speedLimitsMode")).text.strip() == "1"

    async def toggle_alternative_limits(self) -> None:
        await self.call("POST", "transfer/toggleSpeedLimitsMode")


#: qBittorrent's queue endpoints (torrents/<move>), top to bottom.
QUEUE_MOVES = ("topPrio", "increasePrio", "decreasePrio", "bottomPrio")


def _priority_groups(priorities: Sequence[int]) -> dict[int, list[int]]:
    """The file ids per priority that differ from qBittorrent's Normal (1), for filePrio."""
    groups: dict[int, list[int]] = {}
    for file_id, priority in enumerate(priorities):
        if priority != 1:
            groups.setdefault(priority, []).append(file_id)
    return groups


def _hashes(hashes: Sequence[str]) -> dict[str, str]:
    """Never turn an empty selection into qBittorrent's "all": that deletes everything."""
    if not hashes:
        raise ValueError("no torrent selected")
    return {"hashes": "|".join(hashes)}


Params = Mapping[str, str] | Callable[[], Mapping[str, str]] | None


def _params(params: Params) -> Mapping[str, str] | None:
    return params() if callable(params) else params


@dataclass(frozen=True)
class Upload:
    """A file field of a multipart form, kept as bytes so a retry can send it again."""

    field: str
    filename: str
    content: bytes
    content_type: str = "application/x-bittorrent"


def _body(data: Mapping[str, str] | None, files: Sequence[Upload]) -> Any:
    """aiohttp's FormData can be sent only once, so every send builds a fresh one."""
    if not files:
        return dict(data) if data is not None else None
    form = aiohttp.FormData()
    for key, value in (data or {}).items():
        form.add_field(key, value)
    for upload in files:
        form.add_field(
            upload.field, upload.content, filename=upload.filename, content_type=upload.content_type
        )
    return form
