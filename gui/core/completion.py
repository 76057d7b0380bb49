"""Which downloads just finished, for the "download completed" notification.

A remote client has no "torrent finished" signal, so it diffs states between refreshes
(qBitController does the same): notify on a transition from a downloading state to a
complete one, once per torrent, and never for what was already complete when we connected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gui.core.torrent_states import DOWNLOADING_STATES, is_complete


class CompletionTracker:
    def __init__(self) -> None:
        self._downloading: set[str] = set()
        self._announced: set[str] = set()

    def reset(self) -> None:
        """A new connection: what is complete now is not news."""
        self._downloading.clear()

    def update(
        self, torrents: Mapping[str, Mapping[str, Any]], touched: Iterable[str]
    ) -> list[str]:
        """Feed the torrents that changed; returns the hashes that just finished."""
        finished: list[str] = []
        for torrent_hash in touched:
            torrent = torrents.get(torrent_hash)
            if torrent is None:
                self._downloading.discard(torrent_hash)
                continue
            if torrent.get("state") in DOWNLOADING_STATES and not is_complete(torrent):
                self._downloading.add(torrent_hash)
            elif torrent_hash in self._downloading and is_complete(torrent):
                self._downloading.discard(torrent_hash)
                if torrent_hash not in self._announced:
                    self._announced.add(torrent_hash)
                    finished.append(torrent_hash)
        return finished
