"""Keeps the properties panel live: re-reads the shown tab of the selected torrent (no Qt).

As qBittorrent's own PropertiesWidget, only the tab the user looks at is refreshed, every
`interval` seconds, and at once when the torrent or the tab changes: General from
`torrents/properties`, Trackers from `torrents/trackers`, Peers from `sync/torrentPeers`
(deltas merged in a `PeersMirror`) and Files from `torrents/files`. The Speed tab needs
nothing here: it draws the speeds the maindata refresh already brings.

An error (qBittorrent away, the torrent just removed) is reported and the loop goes on;
the downloads service owns reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gui.clients.errors import ClientError
from gui.clients.maindata import PeersMirror

if TYPE_CHECKING:  # the views import this module's names before aiohttp is needed
    from gui.clients.qbittorrent import QBittorrentClient

log = logging.getLogger(__name__)

GENERAL, TRACKERS, PEERS, FILES, SPEED = "general", "trackers", "peers", "files", "speed"
TABS = (GENERAL, TRACKERS, PEERS, FILES, SPEED)


@dataclass(frozen=True)
class Reading:
    """One answer for the panel: `data` is the endpoint's JSON, or `error` says why not."""

    torrent_hash: str
    tab: str
    data: Any = None
    error: str | None = None


Listener = Callable[[Reading], None]


class PropertiesWatcher:
    def __init__(
        self,
        client: Callable[[], QBittorrentClient | None],
        listener: Listener,
        *,
        interval: float = 1.5,
    ) -> None:
        """`client` gives the connected client or None (the service may replace it)."""
        self._client = client
        self._listener = listener
        self.interval = interval
        self.torrent_hash: str | None = None
        self.tab = GENERAL
        self._peers = PeersMirror()
        self._wake = asyncio.Event()
        self._stopping = False
        #: While the panel cannot be seen (another tab is shown) nothing is read.
        self.paused = False

    def watch(self, torrent_hash: str | None, tab: str | None = None) -> None:
        """Show this torrent (None: nothing) and/or this tab; read it at once."""
        if tab is not None:
            if tab not in TABS:
                raise ValueError(f"unknown properties tab {tab!r}")
            self.tab = tab
        self.torrent_hash = torrent_hash
        self._wake.set()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if not paused:
            self._wake.set()  # read at once what changed while it was hidden

    def refresh(self) -> None:
        """Read again now (after a change the user expects to see, e.g. a priority)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            torrent_hash, tab = self.torrent_hash, self.tab
            if torrent_hash is not None and tab != SPEED and not self.paused:
                reading = await self.read(torrent_hash, tab)
                if reading is not None and (torrent_hash, tab) == (self.torrent_hash, self.tab):
                    self._listener(reading)
            # asyncio.timeout, not wait_for: no inner task that a loop closing under a
            # pending watcher would leave never started ("coroutine ... never awaited")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def read(self, torrent_hash: str, tab: str) -> Reading | None:
        """One reading of `tab` for `torrent_hash`; None when not connected."""
        client = self._client()
        if client is None:
            return None
        try:
            if tab == GENERAL:
                return Reading(torrent_hash, tab, await client.properties(torrent_hash))
            if tab == TRACKERS:
                return Reading(torrent_hash, tab, await client.trackers(torrent_hash))
            if tab == FILES:
                return Reading(torrent_hash, tab, await client.files(torrent_hash))
            if tab == PEERS:
                if self._peers.torrent_hash != torrent_hash:
                    self._peers = PeersMirror(torrent_hash)
                self._peers.apply(await client.torrent_peers(torrent_hash, self._peers.rid))
                return Reading(torrent_hash, tab, dict(self._peers.peers))
        except ClientError as exc:
            if tab == PEERS:
                self._peers = PeersMirror()  # start again from rid 0
            return Reading(torrent_hash, tab, error=str(exc))
        return None
