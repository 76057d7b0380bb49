"""Finished-download detection: a transition, once, never for what was already complete."""

from __future__ import annotations

from typing import Any

from gui.core.completion import CompletionTracker
from gui.core.torrent_states import StateGroup, in_group, is_complete, state_words


def torrent(state: str, progress: float) -> dict[str, Any]:
    return {"state": state, "progress": progress}


def test_downloading_to_seeding_is_announced_once() -> None:
    tracker = CompletionTracker()
    torrents = {"a": torrent("downloading", 0.4)}
    assert tracker.update(torrents, ["a"]) == []
    torrents["a"] = torrent("uploading", 1.0)
    assert tracker.update(torrents, ["a"]) == ["a"]
    torrents["a"] = torrent("stalledUP", 1.0)
    assert tracker.update(torrents, ["a"]) == []
    # stopped and started again, downloading a re-checked piece: still only once
    torrents["a"] = torrent("downloading", 0.99)
    tracker.update(torrents, ["a"])
    torrents["a"] = torrent("uploading", 1.0)
    assert tracker.update(torrents, ["a"]) == []


def test_recheck_of_a_complete_torrent_is_not_a_download() -> None:
    """qBittorrent 5.3 ignores skip_checking: a complete torrent added with it is rechecked
    from 0 % (checkingDL), then seeds. Nothing was downloaded: no announcement."""
    tracker = CompletionTracker()
    torrents = {"a": {"state": "checkingDL", "progress": 0.0, "downloaded": 0}}
    assert tracker.update(torrents, ["a"]) == []
    torrents["a"] = {"state": "checkingDL", "progress": 0.6, "downloaded": 0}
    assert tracker.update(torrents, ["a"]) == []
    torrents["a"] = {"state": "stalledUP", "progress": 1.0, "downloaded": 0}
    assert tracker.update(torrents, ["a"]) == []


def test_recheck_then_download_of_the_rest_is_announced() -> None:
    tracker = CompletionTracker()
    torrents = {
        "a": {"state": "checkingDL", "progress": 0.0, "downloaded": 0, "downloaded_session": 0}
    }
    tracker.update(torrents, ["a"])
    torrents["a"] = {"state": "downloading", "progress": 0.7, "downloaded": 0}
    tracker.update(torrents, ["a"])
    # the all-time counter lags (still 0 after a transfer); the session one moved
    torrents["a"] = {
        "state": "uploading", "progress": 1.0, "downloaded": 0, "downloaded_session": 3_000
    }
    assert tracker.update(torrents, ["a"]) == ["a"]


def test_complete_at_first_sight_is_not_news() -> None:
    tracker = CompletionTracker()
    torrents = {"a": torrent("uploading", 1.0), "b": torrent("stoppedUP", 1.0)}
    assert tracker.update(torrents, ["a", "b"]) == []
    assert tracker.update(torrents, ["a", "b"]) == []


def test_reset_forgets_downloads_in_progress() -> None:
    tracker = CompletionTracker()
    torrents = {"a": torrent("downloading", 0.5)}
    tracker.update(torrents, ["a"])
    tracker.reset()
    torrents["a"] = torrent("uploading", 1.0)
    assert tracker.update(torrents, ["a"]) == []


def test_stopped_while_downloading_then_finished_is_announced() -> None:
    tracker = CompletionTracker()
    torrents = {"a": torrent("downloading", 0.5)}
    tracker.update(torrents, ["a"])
    torrents["a"] = torrent("stoppedDL", 0.5)
    tracker.update(torrents, ["a"])
    torrents["a"] = torrent("queuedUP", 1.0)
    assert tracker.update(torrents, ["a"]) == ["a"]


def test_removed_torrent_is_forgotten() -> None:
    tracker = CompletionTracker()
    torrents: dict[str, dict[str, Any]] = {"a": torrent("downloading", 0.5)}
    tracker.update(torrents, ["a"])
    del torrents["a"]
    assert tracker.update(torrents, ["a"]) == []


def test_state_groups_and_words() -> None:
    assert is_complete(torrent("stoppedUP", 1.0))
    assert not is_complete(torrent("stoppedUP", 0.5))
    assert in_group(torrent("stalledDL", 0.1), StateGroup.DOWNLOADING)
    assert in_group(torrent("stalledUP", 1.0), StateGroup.SEEDING)
    assert in_group(torrent("stoppedDL", 0.1), StateGroup.STOPPED)
    assert in_group(torrent("missingFiles", 0.1), StateGroup.ERROR)
    assert not in_group(torrent("uploading", 1.0), StateGroup.DOWNLOADING)
    assert state_words("stalledDL") == "Stalled"
    assert state_words("brandNewState") == "brandNewState"
