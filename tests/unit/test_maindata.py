"""The maindata mirror's merge rules, on answers shaped like qBittorrent's."""

from __future__ import annotations

from gui.clients.maindata import MaindataMirror

A, B, C = "a" * 40, "b" * 40, "c" * 40


def full(rid: int = 1) -> dict[str, object]:
    return {
        "rid": rid,
        "full_update": True,
        "torrents": {
            A: {"name": "Dune", "state": "pausedDL", "progress": 0.0, "size": 5_000_000_000},
            B: {"name": "Emma", "state": "uploading", "progress": 1.0, "size": 10},
        },
        "categories": {"audiobooks": {"name": "audiobooks", "savePath": "/books"}},
        "tags": ["earmark"],
        "server_state": {"dl_info_speed": 0, "connection_status": "connected"},
    }


def test_full_update_builds_the_mirror_and_normalises_states() -> None:
    mirror = MaindataMirror()
    change = mirror.apply(full())
    assert change.full_update and change.added == {A, B}
    assert mirror.rid == 1
    assert mirror.torrents[A]["state"] == "stoppedDL"
    assert mirror.torrents[A]["hash"] == A
    assert mirror.torrents[A]["size"] == 5_000_000_000
    assert mirror.categories["audiobooks"]["savePath"] == "/books"
    assert mirror.tags == {"earmark"}


def test_partial_update_changes_only_the_given_fields() -> None:
    mirror = MaindataMirror()
    mirror.apply(full())
    change = mirror.apply({"rid": 2, "torrents": {A: {"progress": 0.5, "state": "downloading"}}})
    assert not change.full_update
    assert change.changed == {A: {"progress", "state"}}
    assert mirror.torrents[A]["name"] == "Dune"
    assert mirror.torrents[A]["progress"] == 0.5
    assert mirror.rid == 2


def test_unchanged_values_are_not_reported() -> None:
    mirror = MaindataMirror()
    mirror.apply(full())
    change = mirror.apply({"rid": 3, "torrents": {A: {"state": "pausedDL"}}})
    assert change.empty


def test_new_torrent_in_a_delta_is_added() -> None:
    mirror = MaindataMirror()
    mirror.apply(full())
    change = mirror.apply({"rid": 2, "torrents": {C: {"name": "New", "state": "metaDL"}}})
    assert change.added == {C}
    assert mirror.torrents[C]["name"] == "New"


def test_removals_of_torrents_categories_and_tags() -> None:
    mirror = MaindataMirror()
    mirror.apply(full())
    change = mirror.apply(
        {
            "rid": 2,
            "torrents_removed": [B, "f" * 40],
            "categories_removed": ["audiobooks"],
            "tags_removed": ["earmark"],
        }
    )
    assert change.removed == {B}
    assert set(mirror.torrents) == {A}
    assert mirror.categories == {}
    assert mirror.tags == set()
    assert change.categories_changed and change.tags_changed


def test_full_update_after_reset_drops_what_vanished_and_diffs_the_rest() -> None:
    mirror = MaindataMirror()
    mirror.apply(full())
    mirror.reset()
    assert mirror.rid == 0
    change = mirror.apply(
        {
            "rid": 1,
            "full_update": True,
            "torrents": {
                A: {"name": "Dune", "state": "downloading", "progress": 0.1, "size": 5_000_000_000}
            },
        }
    )
    assert change.removed == {B}
    assert change.changed[A] == {"state", "progress"}
    assert not change.added


def test_server_state_is_merged() -> None:
    mirror = MaindataMirror()
    mirror.apply(full())
    change = mirror.apply({"rid": 2, "server_state": {"dl_info_speed": 1234}})
    assert change.server_state_changed
    assert mirror.server_state == {"dl_info_speed": 1234, "connection_status": "connected"}


def test_global_speeds_fall_back_to_the_torrents_sum() -> None:
    from gui.services.downloads import global_speeds

    mirror = MaindataMirror()
    mirror.apply(full())
    mirror.apply({"rid": 2, "torrents": {A: {"dlspeed": 1000, "upspeed": 5}, B: {"upspeed": 7}}})
    assert global_speeds(mirror) == (1000, 12)
    mirror.apply({"rid": 3, "server_state": {"dl_info_speed": 4000, "up_info_speed": 9}})
    assert global_speeds(mirror) == (4000, 9)


def test_a_null_rid_keeps_the_current_one() -> None:
    # Found by bench/fuzz_parsers.py: int(None) raised TypeError in the middle of a merge.
    mirror = MaindataMirror()
    mirror.apply(full(rid=4))
    mirror.apply({"rid": None, "torrents": {A: {"progress": 0.7}}})
    assert mirror.rid == 4 and mirror.torrents[A]["progress"] == 0.7
