"""The downloads model and its proxy, fed like the app feeds them: maindata answers merged
into a `MaindataMirror`, each `MirrorChange` handed to `DownloadsModel.apply`.

What Qt hears is recorded with signal spies, so "only the changed rows", "no reset" and
"one removal per run" are checked on the signals themselves. One test runs against a real
qbittorrent-nox.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.clients.maindata import MaindataMirror
from gui.clients.qbittorrent import AddOptions, QBittorrentClient, QbtConfig
from gui.core.formatting import (
    human_eta,
    human_percent,
    human_ratio,
    human_size,
    human_speed,
    human_time,
)
from gui.core.torrent_states import StateGroup
from gui.core.torrents import parse_magnet
from gui.models.downloads import (
    HASH_ROLE,
    PROGRESS_ROLE,
    RAW_ROLE,
    SYNC_ROWS,
    TORRENT_ROLE,
    Column,
    DownloadsFilterProxy,
    DownloadsModel,
    RawSortProxy,
    natural_key,
    raw_less,
)
from gui.models.files_tree import FilesTreeModel, TreeColumn
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance

GiB = 1024**3
NOW = 1_760_000_000


def h(n: int) -> str:
    return f"{n:040x}"


def torrent(n: int, **fields: Any) -> dict[str, Any]:
    """One torrent as sync/maindata sends it in a full update."""
    base: dict[str, Any] = {
        "name": f"Book {n}",
        "size": n * 100_000_000,
        "total_size": n * 100_000_000,
        "progress": 0.5,
        "state": "downloading",
        "dlspeed": 1000 * n,
        "upspeed": 0,
        "eta": 600 + n,
        "num_seeds": 2,
        "num_complete": 20,
        "num_leechs": 1,
        "num_incomplete": 5,
        "ratio": 0.25,
        "category": "audiobooks",
        "tags": "earmark",
        "added_on": NOW + n,
        "save_path": "/data/audiobooks",
        "magnet_uri": f"magnet:?xt=urn:btih:{h(n)}&dn=Book+{n}",
    }
    base.update(fields)
    return base


def full(torrents: dict[str, dict[str, Any]], rid: int = 1) -> dict[str, Any]:
    return {
        "rid": rid,
        "full_update": True,
        "torrents": torrents,
        "categories": {
            "audiobooks": {"name": "audiobooks", "savePath": "/data/audiobooks"},
            "librivox": {"name": "librivox", "savePath": "/data/librivox"},
        },
        "tags": ["earmark"],
        "server_state": {"connection_status": "connected"},
    }


@dataclass
class Spy:
    """Every structural and data signal of a model, as plain tuples."""

    data_changed: list[tuple[int, int, int, int]] = field(default_factory=list)
    inserted: list[tuple[int, int]] = field(default_factory=list)
    removed: list[tuple[int, int]] = field(default_factory=list)
    resets: int = 0
    layouts: int = 0

    def connect(self, model: Any) -> None:
        model.dataChanged.connect(
            lambda tl, br, roles=(): self.data_changed.append(
                (tl.row(), tl.column(), br.row(), br.column())
            )
        )
        model.rowsInserted.connect(lambda _p, a, b: self.inserted.append((a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.removed.append((a, b)))
        model.modelReset.connect(self._reset)
        model.layoutChanged.connect(self._layout)

    def _reset(self) -> None:
        self.resets += 1

    def _layout(self, *_: object) -> None:
        self.layouts += 1

    def clear(self) -> None:
        self.data_changed.clear()
        self.inserted.clear()
        self.removed.clear()
        self.resets = 0
        self.layouts = 0


@dataclass
class Table:
    mirror: MaindataMirror
    model: DownloadsModel
    spy: Spy
    rid: int = 1

    def delta(self, torrents: dict[str, dict[str, Any]] | None = None, **extra: Any) -> None:
        self.rid += 1
        change = self.mirror.apply({"rid": self.rid, "torrents": torrents or {}, **extra})
        self.model.apply(change)

    def row(self, n: int) -> int:
        return self.model.row_of(h(n))

    def text(self, n: int, column: Column) -> str:
        return str(self.model.index(self.row(n), column).data())


@pytest.fixture
def table(qapp: Any) -> Iterator[Table]:
    mirror = MaindataMirror()
    mirror.apply(full({h(n): torrent(n) for n in range(1, 7)}))
    model = DownloadsModel(mirror)
    spy = Spy()
    spy.connect(model)
    yield Table(mirror, model, spy)
    model.deleteLater()


def proxy_hashes(proxy: DownloadsFilterProxy) -> list[str]:
    return [str(proxy.index(r, 0).data(HASH_ROLE)) for r in range(proxy.rowCount())]


# ---- formatting ----------------------------------------------------------------------------


def test_human_units_are_binary_like_qbittorrent() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1023) == "1023 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * GiB) == "5.00 GiB"
    assert human_size(int(1.5 * 1024**4)) == "1.500 TiB"
    assert human_size(1024 * 1024 - 1) == "1.0 MiB"  # never "1024.0 KiB"
    assert human_size(-1) == "Unknown"
    assert human_speed(2_450_000) == "2.3 MiB/s"
    assert human_speed(0) == "0 B/s"


def test_human_eta_ratio_percent_and_time() -> None:
    assert human_eta(8_640_000) == "∞"
    assert human_eta(9_000_000) == "∞"
    assert human_eta(0) == "0"
    assert human_eta(59) == "< 1m"
    assert human_eta(600) == "10m"
    assert human_eta(3_900) == "1h 5m"
    assert human_eta(2 * 86_400 + 3 * 3_600) == "2d 3h"
    assert human_ratio(-1) == "∞" and human_ratio(10_000) == "∞"
    assert human_ratio(1.846) == "1.85"
    assert human_percent(1.0) == "100%"
    assert human_percent(0.9996) == "99.9%"  # a torrent that shows 100% is complete
    assert human_percent(0.4734) == "47.3%"
    assert human_time(0) == "" and human_time(-1) == ""
    stamp = NOW
    assert human_time(stamp) == datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


# ---- rows, columns, roles ------------------------------------------------------------------


def test_every_column_shows_what_qbittorrent_shows(table: Table) -> None:
    table.delta(
        {
            h(3): {
                "size": 5 * GiB,
                "progress": 0.4734,
                "dlspeed": 2_450_000,
                "upspeed": 31_000,
                "eta": 612,
                "num_seeds": 12,
                "num_complete": 140,
                "num_leechs": 3,
                "num_incomplete": 25,
                "ratio": 0.021,
            }
        }
    )
    assert table.model.rowCount() == 6
    assert table.model.columnCount() == 14
    shown = {c: table.text(3, c) for c in Column}
    assert shown == {
        Column.NAME: "Book 3",
        Column.SIZE: "5.00 GiB",
        Column.PROGRESS: "47.3%",
        Column.STATUS: "Downloading",
        Column.DOWN_SPEED: "2.3 MiB/s",
        Column.UP_SPEED: "30.3 KiB/s",
        Column.ETA: "10m",
        Column.SEEDS: "12 (140)",
        Column.PEERS: "3 (25)",
        Column.RATIO: "0.02",
        Column.CATEGORY: "audiobooks",
        Column.TAGS: "earmark",
        Column.ADDED_ON: human_time(NOW + 3),
        Column.SAVE_PATH: "/data/audiobooks",
    }
    headers = [table.model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers[:4] == ["Name", "Size", "Progress", "Status"]


def test_roles_give_raw_values_hash_progress_alignment_and_tooltips(table: Table) -> None:
    table.delta({h(2): {"size": 5 * GiB, "eta": 8_640_000, "name": "A " + "very long " * 20}})
    row = table.row(2)
    index = table.model.index
    size = index(row, Column.SIZE).data(RAW_ROLE)
    assert size == 5 * GiB and isinstance(size, int)  # past 4 GB, still an exact int
    assert index(row, Column.ETA).data(RAW_ROLE) == math.inf
    assert index(row, Column.SEEDS).data(RAW_ROLE) == (2, 20)
    assert index(row, Column.STATUS).data(RAW_ROLE) == "Downloading"
    assert index(row, Column.NAME).data(HASH_ROLE) == h(2)
    assert index(row, Column.PROGRESS).data(PROGRESS_ROLE) == 0.5
    assert index(row, Column.NAME).data(TORRENT_ROLE)["hash"] == h(2)
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    assert index(row, Column.SIZE).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert index(row, Column.DOWN_SPEED).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert index(row, Column.NAME).data(Qt.ItemDataRole.TextAlignmentRole) != right
    assert index(row, Column.NAME).data(Qt.ItemDataRole.ToolTipRole).startswith("A very long")
    assert index(row, Column.SAVE_PATH).data(Qt.ItemDataRole.ToolTipRole) == "/data/audiobooks"


# ---- keeping in step without resets ---------------------------------------------------------


def test_added_torrents_are_inserted_at_the_end(table: Table) -> None:
    table.delta({h(7): torrent(7), h(8): torrent(8)})
    assert table.spy.inserted == [(6, 7)]
    assert table.spy.resets == 0
    assert table.model.hash_at(6) == h(7) and table.model.hash_at(7) == h(8)
    assert table.text(8, Column.NAME) == "Book 8"


def test_removed_torrents_leave_one_signal_per_run_of_rows(table: Table) -> None:
    table.delta(torrents_removed=[h(2), h(3), h(5)])
    # Rows 1-2 (Book 2, Book 3) are one run, row 4 (Book 5) another; removed bottom first.
    assert table.spy.removed == [(4, 4), (1, 2)]
    assert table.spy.resets == 0
    assert list(table.model.hashes()) == [h(1), h(4), h(6)]
    assert [table.row(n) for n in (1, 4, 6)] == [0, 1, 2]
    assert table.row(2) == -1
    assert table.text(6, Column.NAME) == "Book 6"


def test_changes_signal_only_the_changed_rows_and_columns(table: Table) -> None:
    table.delta({h(2): {"progress": 0.75}, h(4): {"dlspeed": 5, "upspeed": 6, "eta": 7}})
    assert table.spy.resets == 0 and table.spy.inserted == [] and table.spy.removed == []
    row2, row4 = table.row(2), table.row(4)
    assert sorted(table.spy.data_changed) == [
        (row2, Column.PROGRESS, row2, Column.PROGRESS),
        (row4, Column.DOWN_SPEED, row4, Column.ETA),  # down, up and ETA are neighbours
    ]
    assert table.text(2, Column.PROGRESS) == "75.0%"
    assert table.text(4, Column.ETA) == "< 1m"


def test_separate_columns_are_separate_ranges_and_unknown_fields_signal_nothing(
    table: Table,
) -> None:
    table.delta({h(1): {"name": "Renamed", "ratio": 2.0}, h(3): {"last_activity": NOW}})
    row = table.row(1)
    assert sorted(table.spy.data_changed) == [
        (row, Column.NAME, row, Column.NAME),
        (row, Column.RATIO, row, Column.RATIO),
    ]


def test_neighbouring_rows_with_the_same_change_share_one_signal(table: Table) -> None:
    table.delta({h(n): {"progress": 0.9} for n in (2, 3)})
    assert table.spy.data_changed == [(1, Column.PROGRESS, 2, Column.PROGRESS)]


def test_more_than_half_the_rows_changed_is_one_whole_range_signal(table: Table) -> None:
    table.delta({h(n): {"dlspeed": 1, "progress": 0.6} for n in range(1, 6)})
    assert table.spy.data_changed == [(0, Column.PROGRESS, 5, Column.DOWN_SPEED)]
    assert table.spy.resets == 0


def test_a_full_update_that_keeps_the_torrents_does_not_reset(table: Table) -> None:
    torrents = {h(n): torrent(n) for n in range(1, 7)}
    torrents[h(6)]["progress"] = 0.8
    del torrents[h(1)]
    torrents[h(9)] = torrent(9)
    table.rid += 1
    table.model.apply(table.mirror.apply(full(torrents, rid=table.rid)))
    assert table.spy.resets == 0
    assert table.spy.removed == [(0, 0)]
    assert table.spy.inserted == [(5, 5)]
    row6 = table.row(6)
    assert table.spy.data_changed == [(row6, Column.PROGRESS, row6, Column.PROGRESS)]


def test_a_full_update_that_replaces_most_torrents_resets_once(table: Table) -> None:
    table.rid += 1
    change = table.mirror.apply(full({h(n): torrent(n) for n in range(20, 24)}, rid=table.rid))
    table.model.apply(change)
    assert table.spy.resets == 1
    assert table.spy.removed == [] and table.spy.data_changed == []
    assert sorted(table.model.hashes()) == [h(n) for n in range(20, 24)]


def test_many_changed_rows_are_signalled_over_later_turns(qtbot: QtBot, qapp: Any) -> None:
    count = SYNC_ROWS * 4
    mirror = MaindataMirror()
    mirror.apply(full({h(n): torrent(n) for n in range(1, count + 1)}))
    model = DownloadsModel(mirror)
    spy = Spy()
    spy.connect(model)
    changed = range(1, count + 1, 3)  # a third of the rows: fewer than half
    model.apply(mirror.apply({"rid": 2, "torrents": {h(n): {"progress": 0.7} for n in changed}}))
    assert model.pending_changes > 0
    assert model.text(model.row_of(h(1)), Column.PROGRESS) == "70.0%"  # data is new already
    qtbot.waitUntil(lambda: model.pending_changes == 0, timeout=5000)
    rows = sorted(r for r, _, r2, _ in spy.data_changed for r in range(r, r2 + 1))
    assert rows == sorted(model.row_of(h(n)) for n in changed)
    assert {(c, c2) for _, c, _, c2 in spy.data_changed} == {(Column.PROGRESS, Column.PROGRESS)}
    assert spy.resets == 0


def test_reset_from_mirror_is_the_only_reset(table: Table) -> None:
    other = MaindataMirror()
    other.apply(full({h(50): torrent(50)}))
    table.model.reset_from_mirror(other)
    assert table.spy.resets == 1
    assert list(table.model.hashes()) == [h(50)]
    assert table.model.mirror is other


def test_counts_per_group_and_category_follow_changes(table: Table, qtbot: QtBot) -> None:
    model = table.model
    assert model.group_counts()[StateGroup.ALL] == 6
    assert model.group_counts()[StateGroup.DOWNLOADING] == 6
    with qtbot.waitSignal(model.counts_changed, timeout=1000):
        table.delta(
            {
                h(1): {"state": "uploading", "progress": 1.0},
                h(2): {"state": "pausedUP", "progress": 1.0},  # 4.x name, normalised
                h(3): {"state": "error", "category": ""},
            }
        )
    counts = model.group_counts()
    assert counts[StateGroup.DOWNLOADING] == 3
    assert counts[StateGroup.SEEDING] == 1
    assert counts[StateGroup.COMPLETED] == 2
    assert counts[StateGroup.STOPPED] == 1
    assert counts[StateGroup.ERROR] == 1
    assert model.category_counts() == {"audiobooks": 5, "": 1}
    assert model.categories() == ["audiobooks", "librivox"]
    with qtbot.assertNotEmitted(model.counts_changed):
        table.delta({h(4): {"dlspeed": 1}})


# ---- sorting and filtering ------------------------------------------------------------------


def make_proxy(model: DownloadsModel) -> DownloadsFilterProxy:
    proxy = DownloadsFilterProxy()
    proxy.setSourceModel(model)
    return proxy


def test_sorting_by_size_beyond_4_gb(table: Table) -> None:
    sizes = {1: 5 * GiB, 2: 3 * GiB, 3: 10_240, 4: 2**40, 5: 4 * GiB + 1, 6: 4 * GiB - 1}
    table.delta({h(n): {"size": s} for n, s in sizes.items()})
    proxy = make_proxy(table.model)
    proxy.sort(Column.SIZE, Qt.SortOrder.AscendingOrder)
    assert proxy_hashes(proxy) == [h(n) for n in (3, 2, 6, 5, 1, 4)]
    proxy.sort(Column.SIZE, Qt.SortOrder.DescendingOrder)
    assert proxy_hashes(proxy) == [h(n) for n in (4, 1, 5, 6, 2, 3)]


def test_sorting_by_eta_puts_infinity_last(table: Table) -> None:
    etas = {1: 8_640_000, 2: 60, 3: 9_999_999, 4: 3_600, 5: 0, 6: 86_400}
    table.delta({h(n): {"eta": e} for n, e in etas.items()})
    proxy = make_proxy(table.model)
    proxy.sort(Column.ETA, Qt.SortOrder.AscendingOrder)
    assert proxy_hashes(proxy)[:4] == [h(n) for n in (5, 2, 4, 6)]
    assert set(proxy_hashes(proxy)[4:]) == {h(1), h(3)}
    proxy.sort(Column.ETA, Qt.SortOrder.DescendingOrder)
    assert set(proxy_hashes(proxy)[:2]) == {h(1), h(3)}


def test_sorting_by_name_is_natural_and_ignores_case(table: Table) -> None:
    names = {1: "book 10", 2: "Book 2", 3: "book 1", 4: "Anthology", 5: "zebra", 6: "Émile"}
    table.delta({h(n): {"name": v} for n, v in names.items()})
    proxy = make_proxy(table.model)
    proxy.sort(Column.NAME)
    assert [names[int(x, 16)] for x in proxy_hashes(proxy)][:4] == [
        "Anthology",
        "book 1",
        "Book 2",
        "book 10",
    ]


def test_sort_follows_changed_values(table: Table) -> None:
    proxy = make_proxy(table.model)
    proxy.sort(Column.PROGRESS, Qt.SortOrder.DescendingOrder)
    table.delta({h(4): {"progress": 0.99}, h(2): {"progress": 0.01}})
    order = proxy_hashes(proxy)
    assert order[0] == h(4) and order[-1] == h(2)


def test_raw_less_orders_mixed_values() -> None:
    values: list[Any] = ["b", 3, None, 2.5, "A", math.inf, (1, 2), (1, 1), 2**40, "a10", "a9"]

    def compare(a: Any, b: Any) -> int:
        return -1 if raw_less(a, b) else int(raw_less(b, a))

    result = sorted(values, key=functools.cmp_to_key(compare))
    assert result == [None, 2.5, 3, 2**40, math.inf, "A", "a9", "a10", "b", (1, 1), (1, 2)]
    assert not raw_less(None, None)
    assert raw_less(float("nan"), -1)
    assert natural_key("Book 10") > natural_key("book 9")


def test_filters_by_group_category_and_text(table: Table) -> None:
    table.delta(
        {
            h(1): {"state": "stalledUP", "progress": 1.0, "name": "Dune"},
            h(2): {"state": "stoppedDL", "category": "librivox", "name": "Emma"},
            h(3): {"state": "error", "category": "", "name": "Dune Messiah"},
        }
    )
    proxy = make_proxy(table.model)
    assert proxy.rowCount() == 6
    proxy.set_group(StateGroup.SEEDING)
    assert proxy_hashes(proxy) == [h(1)]
    proxy.set_group(StateGroup.COMPLETED)
    assert proxy_hashes(proxy) == [h(1)]
    proxy.set_group(StateGroup.STOPPED)
    assert proxy_hashes(proxy) == [h(2)]
    proxy.set_group(StateGroup.ERROR)
    assert proxy_hashes(proxy) == [h(3)]
    proxy.set_group(StateGroup.DOWNLOADING)
    assert sorted(proxy_hashes(proxy)) == [h(4), h(5), h(6)]
    proxy.set_group(StateGroup.ALL)
    proxy.set_category("librivox")
    assert proxy_hashes(proxy) == [h(2)]
    proxy.set_category("")
    assert proxy_hashes(proxy) == [h(3)]
    proxy.set_category(None)
    proxy.set_text("  dUNE ")
    assert sorted(proxy_hashes(proxy)) == [h(1), h(3)]
    proxy.set_category("audiobooks")
    assert proxy_hashes(proxy) == [h(1)]
    proxy.set_text("")
    proxy.set_category(None)
    assert proxy.rowCount() == 6


def test_filter_follows_state_changes(table: Table) -> None:
    proxy = make_proxy(table.model)
    proxy.set_group(StateGroup.DOWNLOADING)
    assert proxy.rowCount() == 6
    table.delta({h(5): {"state": "stoppedDL"}})
    assert h(5) not in proxy_hashes(proxy)
    table.delta({h(5): {"state": "downloading"}, h(9): torrent(9, state="stalledDL")})
    assert h(5) in proxy_hashes(proxy) and h(9) in proxy_hashes(proxy)
    assert proxy.row_of(h(9)) >= 0 and proxy.hash_at(proxy.row_of(h(9))) == h(9)


# ---- a real qbittorrent-nox -----------------------------------------------------------------


def test_real_qbittorrent_torrents_become_rows(
    qbt: QbtInstance, qloop: asyncio.AbstractEventLoop
) -> None:
    magnets = [
        parse_magnet(f"magnet:?xt=urn:btih:{h(0xB00 + n)}&dn=Real+Book+{n}") for n in range(3)
    ]
    model = DownloadsModel()
    spy = Spy()
    spy.connect(model)

    async def scenario() -> None:
        config = QbtConfig(qbt.url, QBT_USER, QBT_PASSWORD)
        async with QBittorrentClient(config) as client:
            model.reset_from_mirror(client.mirror)
            for n, magnet in enumerate(magnets):
                options = AddOptions(stopped=True, category="audiobooks" if n else None)
                await client.add(magnet, options)
            deadline = time.monotonic() + 20
            while True:
                model.apply(await client.sync())
                states = {t.get("state") for t in client.mirror.torrents.values()}
                if len(client.mirror.torrents) == 3 and states == {"stoppedDL"}:
                    break
                assert time.monotonic() < deadline, f"torrents did not settle: {states}"
                await asyncio.sleep(0.2)
            model.flush()

    qloop.run_until_complete(scenario())
    assert model.rowCount() == 3
    assert spy.resets == 1  # only reset_from_mirror
    names = {str(model.index(r, Column.NAME).data()) for r in range(3)}
    assert names == {"Real Book 0", "Real Book 1", "Real Book 2"}
    assert {str(model.index(r, Column.STATUS).data()) for r in range(3)} == {"Stopped"}
    assert model.group_counts()[StateGroup.STOPPED] == 3
    assert model.category_counts() == {"audiobooks": 2, "": 1}
    assert "audiobooks" in model.categories()
    assert sorted(model.hashes()) == sorted(m.info_hash for m in magnets)
    magnet = model.torrent(magnets[0].info_hash)
    assert magnet is not None and str(magnet.get("magnet_uri", "")).startswith("magnet:?")


def test_proxy_without_a_downloads_model_still_sorts_safely(qapp: Any) -> None:
    """The raw-value sort works over any model exposing RAW_ROLE (the files table does)."""
    files = FilesTreeModel()
    files.set_files(
        [
            {"name": "b.m4b", "size": 5 * GiB, "progress": 0.5, "priority": 1},
            {"name": "a.m4b", "size": 2 * GiB, "progress": 1.0, "priority": 7},
            {"name": "c.m4b", "size": 100, "progress": 0.0, "priority": 0},
        ]
    )
    proxy = RawSortProxy()
    proxy.setSourceModel(files)
    proxy.sort(TreeColumn.SIZE)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["c.m4b", "a.m4b", "b.m4b"]
    assert proxy.index(2, TreeColumn.SIZE).data() == "5.00 GiB"
    assert proxy.index(0, TreeColumn.PRIORITY).data() == "Do not download"
    assert files.file_index("b.m4b").data(PROGRESS_ROLE) == 0.5


def test_rows_stay_in_order_when_many_sort_values_change(qtbot: QtBot, qapp: Any) -> None:
    """Each row is re-sorted by binary search among the others: only right if the others
    still carry the keys they were placed by until their own signal goes out."""
    mirror = MaindataMirror()
    mirror.apply(full({h(n): torrent(n, progress=(n * 37 % 101) / 100) for n in range(1, 301)}))
    model = DownloadsModel(mirror)
    proxy = make_proxy(model)
    proxy.sort(Column.PROGRESS, Qt.SortOrder.AscendingOrder)
    for rid in range(2, 5):
        moved = {h(n): {"progress": ((n * rid * 13) % 97) / 97} for n in range(1, 301, rid)}
        model.apply(mirror.apply({"rid": rid, "torrents": moved}))
        qtbot.waitUntil(lambda: model.pending_changes == 0, timeout=5000)
        shown = [mirror.torrents[x]["progress"] for x in proxy_hashes(proxy)]
        assert shown == sorted(shown), f"out of order after refresh {rid}"
