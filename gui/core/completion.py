"""Which downloads just finished, for the "download completed" notification.

A remote client has no "torrent finished" signal, so it diffs states between refreshes
(qBitController does the same): notify on a transition from a downloading state to a
complete one, once per torrent, and never for what was already complete when we connected.

A transition is news only when bytes were downloaded on the way: qBittorrent 5.3 ignores
"skip hash check" and rechecks a complete torrent from 0 % (a downloading-family
``checkingDL`` state with rising progress), so a book that was complete when it was
added would otherwise be announced as a finished download. The byte counters do not move
during a recheck: ``downloaded_session`` (live) and ``downloaded`` (all-time, which
qBittorrent 4.5-5.3 update only now and then: still 0 right after a transfer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gui.core.torrent_states import DOWNLOADING_STATES, is_complete


class CompletionTracker:
    def __init__(self) -> None:
        # torrent -> its byte counters when first seen incomplete
        self._downloading: dict[str, _Counters] = {}
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
                self._downloading.pop(torrent_hash, None)
                continue
            if torrent.get("state") in DOWNLOADING_STATES and not is_complete(torrent):
                self._downloading.setdefault(torrent_hash, _counters(torrent))
            elif torrent_hash in self._downloading and is_complete(torrent):
                baseline = self._downloading.pop(torrent_hash)
                if torrent_hash not in self._announced and _received(baseline, torrent):
                    self._announced.add(torrent_hash)
                    finished.append(torrent_hash)
        return finished


_COUNTERS = ("downloaded_session", "downloaded")
_Counters = dict[str, float]


def _counters(torrent: Mapping[str, Any]) -> _Counters:
    """The byte counters the server reported for this torrent."""
    return {
        key: float(value)
        for key in _COUNTERS
        if isinstance(value := torrent.get(key), (int, float))
    }


def _received(baseline: _Counters, torrent: Mapping[str, Any]) -> bool:
    """Whether bytes arrived since ``baseline`` (True when the server reports no counter)."""
    now = _counters(torrent)
    known = baseline.keys() & now.keys()
    return not known or any(now[key] > baseline[key] for key in known)
