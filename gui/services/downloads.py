"""The downloads service: one qBittorrent connection kept alive for the window (no Qt).

It refreshes the maindata mirror in a loop, tells listeners what changed, which downloads
just finished and how the connection is doing, and keeps torrents the user added while
qBittorrent was unreachable in a persisted pending list that is sent on reconnect.

Two rules from the bench and from qBittorrent's ban: the refresh interval grows with the
cost of a refresh (qBittorrent 4.5 rebuilds its whole maindata on every request: ~1 s of
server CPU at 10,000 torrents), and a refused login stops the loop until the user acts,
because retrying it would spend ban attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from gui.clients.errors import AuthError, ClientError, HttpStatusError, UnreachableError
from gui.clients.maindata import MaindataMirror, MirrorChange
from gui.clients.qbittorrent import AddOptions, AddResult, QBittorrentClient, QbtConfig
from gui.clients.torrent_fetch import fetch_torrent
from gui.core.completion import CompletionTracker
from gui.core.torrents import (
    Magnet,
    TorrentFile,
    TorrentSource,
    TorrentUrl,
    decode_source,
    encode_source,
)
from gui.services.status import Link, Status
from gui.store import PendingAdd, Store

log = logging.getLogger(__name__)


ChangeListener = Callable[[MirrorChange], None]
StatusListener = Callable[[Status], None]
FinishedListener = Callable[[str, str], None]
PendingListener = Callable[[list[PendingAdd]], None]


def global_speeds(mirror: MaindataMirror) -> tuple[int, int]:
    """qBittorrent's own totals, or the torrents' sum when those read 0.

    libtorrent leaves local-network peers out of the session counters qBittorrent reports
    (seen with 4.5.2: 40 KiB/s per torrent, 0 B/s in server_state), so a LAN transfer
    would show a still status bar.
    """
    server = mirror.server_state
    down = int(server.get("dl_info_speed") or 0)
    up = int(server.get("up_info_speed") or 0)
    if not down or not up:
        torrents = mirror.torrents.values()
        down = down or sum(int(t.get("dlspeed") or 0) for t in torrents)
        up = up or sum(int(t.get("upspeed") or 0) for t in torrents)
    return down, up


def options_to_dict(options: AddOptions) -> dict[str, Any]:
    data = dataclasses.asdict(options)
    data["tags"] = list(options.tags)
    data["file_priorities"] = list(options.file_priorities)
    return data


def options_from_dict(data: dict[str, Any]) -> AddOptions:
    known = {f.name for f in dataclasses.fields(AddOptions)}
    values = {k: v for k, v in data.items() if k in known}
    values["tags"] = tuple(values.get("tags", ()))
    values["file_priorities"] = tuple(values.get("file_priorities", ()))
    return AddOptions(**values)


class DownloadService:
    def __init__(
        self,
        config: QbtConfig | None,
        store: Store,
        *,
        min_interval: float = 1.0,
        max_interval: float = 30.0,
        cost_factor: float = 3.0,
    ) -> None:
        self.store = store
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.cost_factor = cost_factor
        self.client: QBittorrentClient | None = None
        #: One mirror for the service's life: views hold on to it across reconnects.
        self.mirror = MaindataMirror()
        self.status = Status(Link.NOT_CONFIGURED, "qBittorrent is not configured")
        self.pending: list[PendingAdd] = []
        self._config = config
        self._tracker = CompletionTracker()
        self._wake = asyncio.Event()
        self._stopping = False
        self._primed = False
        self.change_listeners: list[ChangeListener] = []
        self.status_listeners: list[StatusListener] = []
        self.finished_listeners: list[FinishedListener] = []
        self.pending_listeners: list[PendingListener] = []

    # ---- lifecycle --------------------------------------------------------------------

    async def configure(self, config: QbtConfig | None) -> None:
        """New settings: drop the old connection; the loop connects with the new one."""
        if self.client is not None:
            await self.client.close()
        self._config = config
        self.client = None
        self.mirror.clear()
        self._primed = False
        self._tracker.reset()
        self._wake.set()

    async def reconnect(self) -> None:
        """The user's explicit "try again": the one place a refused login is retried."""
        if self.client is not None:
            await self.client.close()
            self.client = None
        self._primed = False
        self._wake.set()

    async def close(self) -> None:
        self._stopping = True
        self._wake.set()
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def run(self) -> None:
        """Refresh until closed. Never raises: problems become a Status."""
        self.pending = await self.store.run(self.store.pending)
        self._emit_pending()
        backoff = 2.0
        while not self._stopping:
            interval: float | None = await self._cycle()
            if self.status.link is Link.UNREACHABLE:
                interval = backoff
                backoff = min(backoff * 2, self.max_interval)
            else:
                backoff = 2.0
            if self.status.link in (Link.REFUSED, Link.NOT_CONFIGURED):
                interval = None  # wait for the user
            await self._sleep(interval)

    async def _sleep(self, interval: float | None) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):  # (asyncio.timeout: no inner task to leak)
            async with asyncio.timeout(interval):
                await self._wake.wait()

    def wake(self) -> None:
        """Refresh now (after an action the user expects to see at once)."""
        self._wake.set()

    async def _cycle(self) -> float:
        if self._config is None or not self._config.url:
            self._set_status(Status(Link.NOT_CONFIGURED, "qBittorrent is not configured"))
            return self.max_interval
        if self.client is None:
            self.client = QBittorrentClient(self._config, mirror=self.mirror)
            self._set_status(Status(Link.CONNECTING, f"Connecting to {self.client.display_url}"))
        started = time.monotonic()
        try:
            await self.refresh()
        except UnreachableError as exc:
            self._set_status(Status(Link.UNREACHABLE, str(exc)))
        except AuthError as exc:
            self._set_status(Status(Link.REFUSED, str(exc)))
        except ClientError as exc:
            self._set_status(Status(Link.UNREACHABLE, str(exc)))
        cost = time.monotonic() - started
        return min(self.max_interval, max(self.min_interval, self.cost_factor * cost))

    async def refresh(self) -> MirrorChange:
        """One sync; the first after (re)connecting primes the completion tracker."""
        assert self.client is not None
        was_connected = self.status.link is Link.CONNECTED
        change = await self.client.sync()
        if change.full_update:
            self._tracker.reset()
        touched = change.added | set(change.changed) | change.removed
        finished = self._tracker.update(self.client.mirror.torrents, touched)
        if not self._primed:
            self._primed = True
            finished = []
        download_speed, upload_speed = global_speeds(self.client.mirror)
        server = self.client.mirror.server_state
        free = server.get("free_space_on_disk")
        self._set_status(
            Status(
                Link.CONNECTED,
                f"Connected to {self.client.display_url}",
                version=await self._version() if not was_connected else self.status.version,
                download_speed=download_speed,
                upload_speed=upload_speed,
                free_space=int(free) if isinstance(free, int | float) and free >= 0 else None,
                download_total=int(server.get("dl_info_data") or 0),
                upload_total=int(server.get("up_info_data") or 0),
                download_limit=int(server.get("dl_rate_limit") or 0),
                upload_limit=int(server.get("up_rate_limit") or 0),
                alternative_limits=bool(server.get("use_alt_speed_limits")),
            )
        )
        for listener in self.change_listeners:
            listener(change)
        for torrent_hash in finished:
            name = str(self.client.mirror.torrents[torrent_hash].get("name", torrent_hash))
            for finished_listener in self.finished_listeners:
                finished_listener(torrent_hash, name)
        if not was_connected and self.pending:
            await self._send_pending()
        return change

    async def _version(self) -> str | None:
        assert self.client is not None
        try:
            return await self.client.app_version()
        except ClientError:
            return None

    def _set_status(self, status: Status) -> None:
        if status != self.status:
            self.status = status
            for listener in self.status_listeners:
                listener(status)

    # ---- adding, with the pending list ----------------------------------------------

    async def add(self, source: TorrentSource, options: AddOptions) -> AddResult | None:
        """Add now, or keep it pending when qBittorrent cannot be reached (returns None).

        An http(s) link is fetched first, here, so a dead indexer link fails at once with
        its reason instead of waiting in the pending list.
        """
        if isinstance(source, TorrentUrl):
            source = await fetch_torrent(source.url)
        if self.client is None or self.status.link is not Link.CONNECTED:
            await self._keep_pending(source, options, self.status.message)
            return None
        try:
            result = await self.client.add(source, options)
        except UnreachableError as exc:
            await self._keep_pending(source, options, str(exc))
            self._set_status(Status(Link.UNREACHABLE, str(exc)))
            self._wake.set()
            return None
        self._wake.set()
        return result

    async def _keep_pending(
        self, source: Magnet | TorrentFile, options: AddOptions, reason: str
    ) -> None:
        pending = PendingAdd(encode_source(source), options_to_dict(options), last_error=reason)
        await self.store.run(self.store.add_pending, pending)
        self.pending.append(pending)
        self._emit_pending()

    async def _send_pending(self) -> None:
        assert self.client is not None
        for pending in list(self.pending):
            assert pending.id is not None
            try:
                source = decode_source(pending.source)
                if isinstance(source, TorrentUrl):
                    source = await fetch_torrent(source.url)
                await self.client.add(source, options_from_dict(pending.options))
            except UnreachableError:
                return  # still away: keep the rest for the next reconnect
            except (ClientError, ValueError) as exc:
                pending.last_error = str(exc)
                await self.store.run(self.store.set_pending_error, pending.id, str(exc))
                continue
            await self.store.run(self.store.remove_pending, pending.id)
            self.pending.remove(pending)
        self._emit_pending()
        self._wake.set()

    async def discard_pending(self, pending_id: int) -> None:
        await self.store.run(self.store.remove_pending, pending_id)
        self.pending = [p for p in self.pending if p.id != pending_id]
        self._emit_pending()

    def _emit_pending(self) -> None:
        for listener in self.pending_listeners:
            listener(list(self.pending))

    # ---- actions on torrents --------------------------------------------------------

    def _connected_client(self) -> QBittorrentClient:
        if self.client is None or self.status.link is not Link.CONNECTED:
            raise UnreachableError("not connected to qBittorrent", service="qBittorrent", url=None)
        return self.client

    async def start(self, hashes: Sequence[str]) -> None:
        await self._connected_client().start(hashes)
        self._wake.set()

    async def stop(self, hashes: Sequence[str]) -> None:
        await self._connected_client().stop(hashes)
        self._wake.set()

    async def delete(self, hashes: Sequence[str], *, delete_files: bool) -> None:
        await self._connected_client().delete(hashes, delete_files=delete_files)
        self._wake.set()

    async def set_category(self, hashes: Sequence[str], category: str) -> None:
        client = self._connected_client()
        if category and category not in client.mirror.categories:
            await client.create_category(category)
        await client.set_category(hashes, category)
        self._wake.set()

    async def set_file_priority(
        self, torrent_hash: str, file_ids: Sequence[int], priority: int
    ) -> None:
        await self._connected_client().set_file_priority(torrent_hash, file_ids, priority)
        self._wake.set()

    async def recheck(self, hashes: Sequence[str]) -> None:
        await self._connected_client().recheck(hashes)
        self._wake.set()

    async def reannounce(self, hashes: Sequence[str]) -> None:
        await self._connected_client().reannounce(hashes)
        self._wake.set()

    async def set_location(self, hashes: Sequence[str], location: str) -> None:
        if not location.strip():
            raise ValueError("the new location is empty")
        await self._connected_client().set_location(hashes, location.strip())
        self._wake.set()

    async def rename(self, torrent_hash: str, name: str) -> None:
        if not name.strip():
            raise ValueError("the new name is empty")
        await self._connected_client().rename(torrent_hash, name.strip())
        self._wake.set()

    async def set_tags(self, hashes: Sequence[str], tags: Sequence[str]) -> None:
        """Make these the torrents' tags: add the missing ones, remove the others."""
        client = self._connected_client()
        wanted = [t.strip() for t in tags if t.strip()]
        if any("," in t for t in wanted):
            raise ValueError("a tag cannot contain a comma")
        present: set[str] = set()
        for torrent_hash in hashes:
            torrent = client.mirror.torrents.get(torrent_hash, {})
            present |= {t.strip() for t in str(torrent.get("tags") or "").split(",") if t.strip()}
        unwanted = sorted(present - set(wanted))
        if unwanted:
            await client.remove_tags(hashes, unwanted)
        if wanted:
            await client.add_tags(hashes, wanted)
        self._wake.set()

    async def queue(self, hashes: Sequence[str], move: str) -> None:
        try:
            await self._connected_client().queue(hashes, move)
        except HttpStatusError as exc:
            if exc.status == 409:
                raise ClientError(
                    "Torrent queueing is off in qBittorrent's settings (Options → BitTorrent "
                    "→ Torrent Queueing), so there is no queue order to change.",
                    service="qBittorrent",
                    url=None,
                ) from exc
            raise
        self._wake.set()

    async def set_torrent_limits(
        self, hashes: Sequence[str], *, download: int | None = None, upload: int | None = None
    ) -> None:
        await self._connected_client().set_torrent_limits(hashes, download=download, upload=upload)
        self._wake.set()

    async def set_global_limits(
        self, *, download: int | None = None, upload: int | None = None
    ) -> None:
        await self._connected_client().set_global_limits(download=download, upload=upload)
        self._wake.set()

    async def toggle_alternative_limits(self) -> None:
        await self._connected_client().toggle_alternative_limits()
        self._wake.set()
