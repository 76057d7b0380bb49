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
    # qBittorrent's side panel has these too (added after ERROR: saved filters keep meaning).
    RUNNING = "running"
    ACTIVE = "active"
    INACTIVE = "inactive"
    STALLED = "stalled"
    STALLED_UPLOADING = "stalled_uploading"
    STALLED_DOWNLOADING = "stalled_downloading"
    CHECKING = "checking"
    MOVING = "moving"


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


CHECKING_STATES = frozenset({"checkingDL", "checkingUP", "checkingResumeData"})
#: What qBittorrent's WebUI counts as "Active" (a stalled download that uploads is too).
ACTIVE_STATES = frozenset(
    {"metaDL", "forcedMetaDL", "downloading", "forcedDL", "uploading", "forcedUP", "moving"}
)


def is_active(torrent: Mapping[str, Any]) -> bool:
    state = torrent.get("state", "")
    if state == "stalledDL":
        return float(torrent.get("upspeed") or 0) > 0
    return state in ACTIVE_STATES


def groups_of(torrent: Mapping[str, Any]) -> tuple[StateGroup, ...]:
    """The filter groups (besides ALL) a torrent belongs to; a torrent may be in several.

    The rules are those of qBittorrent's WebUI filters, on the state and speeds only."""
    state = torrent.get("state", "")
    groups: list[StateGroup] = []
    if state in DOWNLOADING_STATES:
        groups.append(StateGroup.DOWNLOADING)
    if state in SEEDING_STATES:
        groups.append(StateGroup.SEEDING)
    if is_complete(torrent):
        groups.append(StateGroup.COMPLETED)
    if state in STOPPED_STATES:
        groups.append(StateGroup.STOPPED)
    else:
        groups.append(StateGroup.RUNNING)
    if state in ERROR_STATES:
        groups.append(StateGroup.ERROR)
    groups.append(StateGroup.ACTIVE if is_active(torrent) else StateGroup.INACTIVE)
    if state == "stalledUP":
        groups += (StateGroup.STALLED, StateGroup.STALLED_UPLOADING)
    elif state == "stalledDL":
        groups += (StateGroup.STALLED, StateGroup.STALLED_DOWNLOADING)
    if state in CHECKING_STATES:
        groups.append(StateGroup.CHECKING)
    if state == "moving":
        groups.append(StateGroup.MOVING)
    return tuple(groups)


def in_group(torrent: Mapping[str, Any], group: StateGroup) -> bool:
    return group is StateGroup.ALL or group in groups_of(torrent)
