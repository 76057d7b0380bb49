"""qBittorrent's torrent states in words, and the groups a user filters by.

States use qBittorrent 5's names (`stoppedUP`, `stoppedDL`); the client normalises 4.x's
`paused*` on the way in, so this table is the only place that knows the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class StateGroup(StrEnum):
    ALL = "all"
    DOWNLOADING = "downloading"
    SEEDING = "seeding"
    COMPLETED = "completed"
    STOPPED = "stopped"
    ERROR = "error"


#: What qBittorrent's own transfer list shows for each state.
STATE_WORDS: Mapping[str, str] = {
    "downloading": "Downloading",
    "forcedDL": "[F] Downloading",
    "metaDL": "Downloading metadata",
    "forcedMetaDL": "[F] Downloading metadata",
    "stalledDL": "Stalled",
    "queuedDL": "Queued",
    "checkingDL": "Checking",
    "allocating": "Allocating",
    "stoppedDL": "Stopped",
    "uploading": "Seeding",
    "forcedUP": "[F] Seeding",
    "stalledUP": "Seeding",
    "queuedUP": "Queued",
    "checkingUP": "Checking",
    "stoppedUP": "Completed",
    "checkingResumeData": "Checking resume data",
    "moving": "Moving",
    "missingFiles": "Missing files",
    "error": "Errored",
    "unknown": "Unknown",
}

DOWNLOADING_STATES = frozenset(
    {"downloading", "forcedDL", "metaDL", "forcedMetaDL", "stalledDL", "queuedDL", "checkingDL",
     "allocating"}
)  # fmt: skip
SEEDING_STATES = frozenset({"uploading", "forcedUP", "stalledUP", "queuedUP"})
COMPLETED_STATES = frozenset(SEEDING_STATES | {"stoppedUP", "checkingUP"})
STOPPED_STATES = frozenset({"stoppedDL", "stoppedUP"})
ERROR_STATES = frozenset({"error", "missingFiles", "unknown"})


def state_words(state: str) -> str:
    return STATE_WORDS.get(state, state)


def is_complete(torrent: Mapping[str, Any]) -> bool:
    """Complete means a completed-family state *and* every wanted byte present."""
    return torrent.get("state") in COMPLETED_STATES and float(torrent.get("progress", 0)) >= 1.0


def in_group(torrent: Mapping[str, Any], group: StateGroup) -> bool:
    state = torrent.get("state", "")
    if group is StateGroup.ALL:
        return True
    if group is StateGroup.DOWNLOADING:
        return state in DOWNLOADING_STATES
    if group is StateGroup.SEEDING:
        return state in SEEDING_STATES
    if group is StateGroup.COMPLETED:
        return is_complete(torrent)
    if group is StateGroup.STOPPED:
        return state in STOPPED_STATES
    return state in ERROR_STATES
