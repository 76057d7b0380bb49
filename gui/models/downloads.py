"""qBittorrent's transfer list as a Qt table: one row per torrent of a `MaindataMirror`.

Modelled on qBittorrent's `TransferListModel`: the model never resets on a refresh. Each
`MirrorChange` becomes row insertions, row removals and `dataChanged` for the changed rows
and columns only, so a view keeps its selection, scroll position and sort, and a sorting
proxy re-sorts only the rows whose sort column changed. When more than half the rows
changed, one whole-range `dataChanged` is cheaper than many small ones (qBittorrent's rule).

Sorting goes through `RAW_ROLE` (plain Python values: sizes past 4 GB stay ints, "no ETA"
is infinity) and `DownloadsFilterProxy.lessThan`, never through Qt's QVariant comparison,
which compares an `int` with a `qlonglong` by truncating to 32 bits.

Speed matters here: with 10,000 torrents every Python call Qt makes into this module
(`data`, `lessThan`, `filterAcceptsRow`) is paid thousands of times per refresh, so those
paths read the mirror's dicts directly and cache what they format.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)

from gui.clients.maindata import MaindataMirror, MirrorChange, Torrent
from gui.core.formatting import (
    MAX_ETA,
    human_eta,
    human_percent,
    human_ratio,
    human_size,
    human_speed,
    human_time,
)
from gui.core.torrent_states import StateGroup, groups_of, state_words

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

RAW_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""Plain Python value to sort on (int, float, str, tuple or None); see `raw_less`."""
HASH_ROLE = int(Qt.ItemDataRole.UserRole) + 2
"""The torrent's info-hash, on every column."""
PROGRESS_ROLE = int(Qt.ItemDataRole.UserRole) + 3
"""Progress as a float 0..1, on every column (the progress delegate reads it)."""
TORRENT_ROLE = int(Qt.ItemDataRole.UserRole) + 4
"""The mirror's dict for the torrent, on every column. Read it, never change it."""

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter

#: When more rows than this share changed, one whole-range dataChanged (as qBittorrent).
BULK_CHANGE_SHARE = 0.5
#: Up to this many changed rows are signalled at once, inside `apply`.
SYNC_ROWS = 64
#: Otherwise they are signalled on later turns of the event loop, this long (s) per turn,
#: so that a turn plus the repaint it causes stays well under 50 ms.
FLUSH_BUDGET = 0.003


# ---- columns ------------------------------------------------------------------------------


class Column(IntEnum):
    """The transfer-list columns qBittorrent users know, in qBittorrent's order."""

    NAME = 0
    SIZE = 1
    PROGRESS = 2
    STATUS = 3
    DOWN_SPEED = 4
    UP_SPEED = 5
    ETA = 6
    SEEDS = 7
    PEERS = 8
    RATIO = 9
    CATEGORY = 10
    TAGS = 11
    ADDED_ON = 12
    SAVE_PATH = 13


HEADERS: Mapping[Column, str] = {
    Column.NAME: "Name",
    Column.SIZE: "Size",
    Column.PROGRESS: "Progress",
    Column.STATUS: "Status",
    Column.DOWN_SPEED: "Down Speed",
    Column.UP_SPEED: "Up Speed",
    Column.ETA: "ETA",
    Column.SEEDS: "Seeds",
    Column.PEERS: "Peers",
    Column.RATIO: "Ratio",
    Column.CATEGORY: "Category",
    Column.TAGS: "Tags",
    Column.ADDED_ON: "Added On",
    Column.SAVE_PATH: "Save Path",
}
COLUMN_COUNT = len(Column)

#: Which maindata fields each column shows; a change to one repaints only these columns.
COLUMN_FIELDS: Mapping[Column, tuple[str, ...]] = {
    Column.NAME: ("name",),
    Column.SIZE: ("size",),
    Column.PROGRESS: ("progress",),
    Column.STATUS: ("state",),
    Column.DOWN_SPEED: ("dlspeed",),
    Column.UP_SPEED: ("upspeed",),
    Column.ETA: ("eta",),
    Column.SEEDS: ("num_seeds", "num_complete"),
    Column.PEERS: ("num_leechs", "num_incomplete"),
    Column.RATIO: ("ratio",),
    Column.CATEGORY: ("category",),
    Column.TAGS: ("tags",),
    Column.ADDED_ON: ("added_on",),
    Column.SAVE_PATH: ("save_path",),
}
FIELD_COLUMNS: Mapping[str, tuple[int, ...]] = {
    field: tuple(int(c) for c in Column if field in COLUMN_FIELDS[c])
    for fields in COLUMN_FIELDS.values()
    for field in fields
}
#: Fields that can move a torrent between state groups or categories (filter and counts).
MEMBERSHIP_FIELDS = frozenset({"state", "progress", "category", "tags", "tracker", "upspeed"})

_NUMERIC = frozenset(
    {
        Column.SIZE,
        Column.DOWN_SPEED,
        Column.UP_SPEED,
        Column.ETA,
        Column.SEEDS,
        Column.PEERS,
        Column.RATIO,
    }
)
COLUMN_ALIGNMENT: tuple[Qt.AlignmentFlag, ...] = tuple(
    _RIGHT if c in _NUMERIC else _CENTER if c is Column.PROGRESS else _LEFT for c in Column
)
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)
_TOOLTIP_COLUMNS = frozenset({int(Column.NAME), int(Column.SAVE_PATH), int(Column.TAGS)})


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(result) else result


def _eta_raw(t: Torrent) -> int | float:
    eta = _int(t.get("eta", MAX_ETA))
    return math.inf if eta >= MAX_ETA or eta < 0 else eta


def _ratio_raw(t: Torrent) -> float:
    ratio = _float(t.get("ratio", 0.0))
    return math.inf if ratio < 0 else ratio


#: Raw (sortable) value of each column; index = column.
_RAW: tuple[Callable[[Torrent], Any], ...] = (
    lambda t: t.get("name", ""),
    lambda t: _int(t.get("size", 0)),
    lambda t: _float(t.get("progress", 0.0)),
    lambda t: state_words(t.get("state", "")),
    lambda t: _int(t.get("dlspeed", 0)),
    lambda t: _int(t.get("upspeed", 0)),
    _eta_raw,
    lambda t: (_int(t.get("num_seeds", 0)), _int(t.get("num_complete", 0))),
    lambda t: (_int(t.get("num_leechs", 0)), _int(t.get("num_incomplete", 0))),
    _ratio_raw,
    lambda t: t.get("category", "") or "",
    lambda t: t.get("tags", "") or "",
    lambda t: _int(t.get("added_on", 0)),
    lambda t: t.get("save_path", "") or "",
)

#: What each column shows; index = column.
_TEXT: tuple[Callable[[Torrent], str], ...] = (
    lambda t: str(t.get("name", "")),
    lambda t: human_size(_int(t.get("size", -1))),
    lambda t: human_percent(_float(t.get("progress", 0.0))),
    lambda t: state_words(t.get("state", "")),
    lambda t: human_speed(_int(t.get("dlspeed", 0))),
    lambda t: human_speed(_int(t.get("upspeed", 0))),
    lambda t: human_eta(_int(t.get("eta", MAX_ETA))),
    lambda t: f"{_int(t.get('num_seeds', 0))} ({_int(t.get('num_complete', 0))})",
    lambda t: f"{_int(t.get('num_leechs', 0))} ({_int(t.get('num_incomplete', 0))})",
    lambda t: human_ratio(_float(t.get("ratio", 0.0))),
    lambda t: str(t.get("category", "") or ""),
    lambda t: str(t.get("tags", "") or ""),
    lambda t: human_time(_int(t.get("added_on", 0))),
    lambda t: str(t.get("save_path", "") or ""),
)


# ---- sorting ------------------------------------------------------------------------------

_DIGITS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=32768)
def natural_key(text: str) -> tuple[str | int, ...]:
    """ "Book 2" before "Book 10", case-insensitively, as qBittorrent sorts names.

    `re.split` with a capture group alternates text (even places) and digits (odd
    places), so two keys only ever compare str with str and int with int.
    """
    parts = _DIGITS.split(text.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def sort_key(value: Any) -> tuple[Any, ...]:
    """A key under which any raw value compares with any other, whatever their types.

    None first, then numbers (NaN as the smallest), then text (natural, case-insensitive),
    then sequences (element by element), then anything else by its text.
    """
    if value is None:
        return (0,)
    if isinstance(value, int | float):
        return (1, -math.inf if value != value else value)
    if isinstance(value, str):
        return (2, natural_key(value))
    if isinstance(value, tuple | list):
        return (3, tuple(sort_key(v) for v in value))
    return (4, str(value))


def raw_less(left: Any, right: Any) -> bool:
    """The order `lessThan` uses: safe for big ints, infinity, None, text and tuples."""
    return sort_key(left) < sort_key(right)


# ---- state groups -------------------------------------------------------------------------


def tracker_host(torrent: Mapping[str, Any]) -> str:
    """The host of the torrent's current tracker ("" for none), as the side panel groups."""
    url = str(torrent.get("tracker") or "")
    if not url:
        return ""
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def tags_of(torrent: Mapping[str, Any]) -> tuple[str, ...]:
    """qBittorrent sends a torrent's tags as one string, "a, b"."""
    return tuple(t.strip() for t in str(torrent.get("tags") or "").split(",") if t.strip())


Membership = tuple[tuple[StateGroup, ...], str, tuple[str, ...], str]


def _membership(torrent: Mapping[str, Any]) -> Membership:
    return (
        groups_of(torrent),
        str(torrent.get("category", "") or ""),
        tags_of(torrent),
        tracker_host(torrent),
    )


def _runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted numbers as inclusive (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


# ---- the model ----------------------------------------------------------------------------


class DownloadsModel(QAbstractTableModel):
    """The torrents of a `MaindataMirror`, kept in step by `apply(change)`.

    Rows stay in arrival order (new torrents at the end); sorting is the proxy's job.
    `counts_changed` fires after an `apply` that changed the state-group or category
    counts or the list of categories, so a filter bar can update its numbers.

    Insertions and removals are signalled at once, and so are changes to a few rows. Many
    changed rows are signalled on the next turns of the event loop, `FLUSH_BUDGET` seconds
    at a time: a sorting proxy re-sorts a row for every signal whose columns include its
    sort column, ~14 calls of `lessThan` each, and 500 such rows at once would freeze the
    window for a noticeable time. `flush()` signals everything now.
    """

    counts_changed = Signal()
    #: True while changed rows wait to be signalled on later turns, False once all are.
    #: A view may hold its repaints meanwhile: each slice moves rows, and repainting a
    #: 1280x800 table after every slice would cost more than the slices themselves.
    flushing_changed = Signal(bool)

    def __init__(self, mirror: MaindataMirror | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._mirror = mirror if mirror is not None else MaindataMirror()
        self._hashes: list[str] = []
        self._rows: dict[str, int] = {}
        self._text_cache: dict[str, list[str | None]] = {}
        self._sort_keys: dict[int, list[tuple[Any, ...]]] = {}
        self._members: dict[str, Membership] = {}
        self._group_counts: Counter[StateGroup] = Counter()
        self._category_counts: Counter[str] = Counter()
        self._tag_counts: Counter[str] = Counter()
        self._tracker_counts: Counter[str] = Counter()
        self._pending: dict[str, set[int]] = {}
        self._flushing = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush_slice)
        self._load()

    # ---- Qt model interface ----------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hashes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < COLUMN_COUNT:
            return None
        if role == _DISPLAY:
            return HEADERS[Column(section)]
        if role == _ALIGNMENT:
            return COLUMN_ALIGNMENT[section]
        return None

    # No flags(): Qt's default (enabled, selectable) costs no call into Python per cell.

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # Called for every role of every visible cell on each repaint: cheapest tests first.
        role = int(role)
        if role == _DISPLAY:
            return self.text(index.row(), index.column())
        if role == _ALIGNMENT:
            return COLUMN_ALIGNMENT[index.column()]
        if role == RAW_ROLE:
            return self.raw_value(index.row(), index.column())
        if role == PROGRESS_ROLE:
            return _float(self._torrent_of_row(index.row()).get("progress", 0.0))
        if role == HASH_ROLE:
            return self._hashes[index.row()]
        if role == TORRENT_ROLE:
            return self._torrent_of_row(index.row())
        if role == _TOOLTIP and index.column() in _TOOLTIP_COLUMNS:
            return self.text(index.row(), index.column()) or None
        return None

    # ---- fast accessors (the proxy and the view use these, not data()) -------------------

    @property
    def mirror(self) -> MaindataMirror:
        return self._mirror

    def text(self, row: int, column: int) -> str:
        """What a cell shows, formatted once per change of its torrent."""
        torrent_hash = self._hashes[row]
        cached = self._text_cache.get(torrent_hash)
        if cached is None:
            cached = self._text_cache[torrent_hash] = [None] * COLUMN_COUNT
        text = cached[column]
        if text is None:
            text = cached[column] = _TEXT[column](self._mirror.torrents.get(torrent_hash, {}))
        return text

    def raw_value(self, row: int, column: int) -> Any:
        return _RAW[column](self._mirror.torrents.get(self._hashes[row], {}))

    def sort_keys(self, column: int) -> list[tuple[Any, ...]]:
        """`sort_key(raw value)` of every row for `column`, kept up to date once asked for.

        The proxy's `lessThan` runs ~130,000 times to sort 10,000 rows; a list lookup
        is all it can afford.
        """
        keys = self._sort_keys.get(column)
        if keys is None:
            raw = _RAW[column]
            torrents = self._mirror.torrents
            keys = [sort_key(raw(torrents.get(h, {}))) for h in self._hashes]
            self._sort_keys[column] = keys
        return keys

    def hash_at(self, row: int) -> str:
        return self._hashes[row]

    def row_of(self, torrent_hash: str) -> int:
        return self._rows.get(torrent_hash, -1)

    def torrent_at(self, row: int) -> Torrent:
        return self._torrent_of_row(row)

    def torrent(self, torrent_hash: str) -> Torrent | None:
        return self._mirror.torrents.get(torrent_hash)

    def hashes(self) -> Sequence[str]:
        return tuple(self._hashes)

    def group_counts(self) -> dict[StateGroup, int]:
        counts = {group: self._group_counts.get(group, 0) for group in StateGroup}
        counts[StateGroup.ALL] = len(self._hashes)
        return counts

    def category_counts(self) -> dict[str, int]:
        """Torrents per category; "" counts the uncategorised ones."""
        return dict(self._category_counts)

    def tag_counts(self) -> dict[str, int]:
        """Torrents per tag; "" counts the untagged ones."""
        return dict(self._tag_counts)

    def tracker_counts(self) -> dict[str, int]:
        """Torrents per tracker host; "" counts the trackerless ones."""
        return dict(self._tracker_counts)

    def tags(self) -> list[str]:
        """Known tags: the server's list plus any a torrent uses, sorted."""
        names = set(self._mirror.tags) | {t for t in self._tag_counts if t}
        return sorted(names, key=natural_key)

    def categories(self) -> list[str]:
        """Known category names: the server's list plus any a torrent uses, sorted."""
        names = set(self._mirror.categories) | {c for c in self._category_counts if c}
        return sorted(names, key=natural_key)

    def _torrent_of_row(self, row: int) -> Torrent:
        return self._mirror.torrents.get(self._hashes[row], {})

    # ---- keeping in step with the mirror ---------------------------------------------------

    def reset_from_mirror(self, mirror: MaindataMirror | None = None) -> None:
        """Start over (a new connection or a new mirror): the one place that resets."""
        self.beginResetModel()
        if mirror is not None:
            self._mirror = mirror
        self._load()
        self.endResetModel()
        self.counts_changed.emit()

    def apply(self, change: MirrorChange) -> None:
        """Bring the rows in line with what `change` says the mirror just did."""
        torrents = self._mirror.torrents
        removed = [h for h in change.removed if h in self._rows]
        if change.full_update and len(removed) > len(self._hashes) * BULK_CHANGE_SHARE:
            self.reset_from_mirror()
            return
        counts_dirty = change.categories_changed or change.tags_changed
        if removed:
            self._remove(removed)
            counts_dirty = True

        added = [h for h in change.added if h in torrents and h not in self._rows]
        # A change for a torrent we never saw: the mirror knows it, so show it.
        added += [h for h in change.changed if h in torrents and h not in self._rows]
        if added:
            self._insert(added)
            counts_dirty = True

        fresh = set(added)
        for torrent_hash, fields in change.changed.items():
            row = self._rows.get(torrent_hash)
            if row is None or torrent_hash in fresh:
                continue
            columns: set[int] = set()
            for field_name in fields:
                columns.update(FIELD_COLUMNS.get(field_name, ()))
            if not fields.isdisjoint(MEMBERSHIP_FIELDS):
                counts_dirty |= self._update_membership(torrent_hash, torrents[torrent_hash])
            if not columns:
                continue
            self._text_cache.pop(torrent_hash, None)
            pending = self._pending.get(torrent_hash)
            if pending is None:
                self._pending[torrent_hash] = columns
            else:
                pending |= columns

        if len(self._hashes) != len(torrents):
            log.warning("downloads table out of step with the mirror; rebuilding it")
            self.reset_from_mirror()
            return
        if len(self._pending) <= SYNC_ROWS:
            self.flush()
        elif not self._flush_timer.isActive():
            # The caller just spent its share of this turn merging the refresh.
            self._flush_timer.start()
            self._set_flushing(True)
        if counts_dirty:
            self.counts_changed.emit()

    @property
    def pending_changes(self) -> int:
        """Rows changed in the mirror whose `dataChanged` is not signalled yet."""
        return len(self._pending)

    @property
    def flushing(self) -> bool:
        return self._flushing

    def flush(self) -> None:
        """Signal every pending change now, however long it takes."""
        self._flush_timer.stop()
        self._emit_changed(self._pending_rows(), deadline=math.inf)
        self._set_flushing(False)

    def _flush_slice(self) -> None:
        self._emit_changed(self._pending_rows(), deadline=time.perf_counter() + FLUSH_BUDGET)
        if not self._pending:
            self._set_flushing(False)
        elif not self._flush_timer.isActive():
            self._flush_timer.start()

    def _set_flushing(self, flushing: bool) -> None:
        if flushing != self._flushing:
            self._flushing = flushing
            self.flushing_changed.emit(flushing)

    def _pending_rows(self) -> dict[int, set[int]]:
        rows = self._rows
        return {rows[h]: columns for h, columns in self._pending.items()}

    def _emit_changed(self, changed: dict[int, set[int]], deadline: float) -> None:
        """dataChanged for `changed` (row -> columns) until `deadline`; the rest stays pending.

        Signalled rows leave `self._pending` (in `_emit_block`).
        """
        if not changed:
            return
        hashes = self._hashes
        if len(changed) > len(hashes) * BULK_CHANGE_SHARE:
            columns = set().union(*changed.values())
            self._pending.clear()
            for row, row_columns in changed.items():
                self._refresh_keys(row, row_columns)
            self.dataChanged.emit(
                self.createIndex(0, min(columns)), self.createIndex(len(hashes) - 1, max(columns))
            )
            return
        # One signal per run of neighbouring rows that changed the same column runs.
        block: list[int] = []
        block_runs: list[tuple[int, int]] = []
        for row in sorted(changed):
            runs = _runs(changed[row])
            if block and row == block[-1] + 1 and runs == block_runs:
                block.append(row)
                continue
            if block:
                self._emit_block(block, block_runs)
                if time.perf_counter() > deadline:
                    return
            block = [row]
            block_runs = runs
        if block:
            self._emit_block(block, block_runs)

    def _emit_block(self, rows: list[int], runs: list[tuple[int, int]]) -> None:
        hashes = self._hashes
        columns = {c for first, last in runs for c in range(first, last + 1)}
        for row in rows:
            self._pending.pop(hashes[row], None)
            self._refresh_keys(row, columns)
        first, last = rows[0], rows[-1]
        for first_column, last_column in runs:
            self.dataChanged.emit(
                self.createIndex(first, first_column), self.createIndex(last, last_column)
            )

    def _refresh_keys(self, row: int, columns: set[int]) -> None:
        """Give the proxy a row's new sort key only as its dataChanged goes out.

        The proxy re-sorts one row per signal by binary search among the others, which
        is only right if every other row's key is still the one it was placed by. Keys
        updated early (at `apply`) would leave rows out of order for good.
        """
        torrent = self._mirror.torrents.get(self._hashes[row], {})
        for column, keys in self._sort_keys.items():
            if column in columns:
                keys[row] = sort_key(_RAW[column](torrent))

    def _load(self) -> None:
        self._hashes = list(self._mirror.torrents)
        self._rows = {h: i for i, h in enumerate(self._hashes)}
        self._text_cache.clear()
        self._sort_keys.clear()
        self._pending.clear()
        self._flush_timer.stop()
        self._set_flushing(False)
        self._members.clear()
        self._group_counts.clear()
        self._category_counts.clear()
        self._tag_counts.clear()
        self._tracker_counts.clear()
        for torrent_hash, torrent in self._mirror.torrents.items():
            self._add_membership(torrent_hash, torrent)

    def _remove(self, removed: list[str]) -> None:
        rows = [self._rows[h] for h in removed]
        for torrent_hash in removed:
            self._pending.pop(torrent_hash, None)
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._hashes[first : last + 1]
            for keys in self._sort_keys.values():
                del keys[first : last + 1]
            self.endRemoveRows()
        for torrent_hash in removed:
            self._text_cache.pop(torrent_hash, None)
            self._drop_membership(torrent_hash)
            del self._rows[torrent_hash]
        for row in range(min(rows), len(self._hashes)):
            self._rows[self._hashes[row]] = row

    def _insert(self, added: list[str]) -> None:
        torrents = self._mirror.torrents
        # Oldest first, so a batch lands in the order qBittorrent added it.
        added.sort(key=lambda h: _int(torrents[h].get("added_on", 0)))
        first = len(self._hashes)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        for offset, torrent_hash in enumerate(added):
            torrent = torrents[torrent_hash]
            self._hashes.append(torrent_hash)
            self._rows[torrent_hash] = first + offset
            for column, keys in self._sort_keys.items():
                keys.append(sort_key(_RAW[column](torrent)))
            self._add_membership(torrent_hash, torrent)
        self.endInsertRows()

    # ---- group and category counts ---------------------------------------------------------

    def _add_membership(self, torrent_hash: str, torrent: Mapping[str, Any]) -> None:
        member = _membership(torrent)
        self._members[torrent_hash] = member
        self._group_counts.update(member[0])
        self._category_counts[member[1]] += 1
        self._tag_counts.update(member[2] or ("",))
        self._tracker_counts[member[3]] += 1

    def _drop_membership(self, torrent_hash: str) -> None:
        member = self._members.pop(torrent_hash, None)
        if member is None:
            return
        self._group_counts.subtract(member[0])
        for counter, keys in (
            (self._category_counts, (member[1],)),
            (self._tag_counts, member[2] or ("",)),
            (self._tracker_counts, (member[3],)),
        ):
            for key in keys:
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    def _update_membership(self, torrent_hash: str, torrent: Mapping[str, Any]) -> bool:
        member = _membership(torrent)
        if self._members.get(torrent_hash) == member:
            return False
        self._drop_membership(torrent_hash)
        self._add_membership(torrent_hash, torrent)
        return True


# ---- sorting and filtering ------------------------------------------------------------------


class RawSortProxy(QSortFilterProxyModel):
    """Sorts on `RAW_ROLE` with `raw_less`: safe for big ints, infinity, None and text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(RAW_ROLE)
        self.setDynamicSortFilter(True)

    def lessThan(self, source_left: Index, source_right: Index) -> bool:
        # The Python model's own data(), not QModelIndex.data(): no round trip through C++.
        model = self.sourceModel()
        role = self.sortRole()
        return raw_less(model.data(source_left, role), model.data(source_right, role))

    def _change_filter(self, change: Callable[[], None]) -> None:
        """Run `change` (which alters what `filterAcceptsRow` accepts) and refilter the rows.

        Qt 6.9 wants the change between `beginFilterChange` and `endFilterChange`; older
        versions only have `invalidateRowsFilter`, called after it."""
        if not hasattr(self, "beginFilterChange"):  # Qt < 6.9
            change()
            self.invalidateRowsFilter()
            return
        self.beginFilterChange()
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)


class DownloadsFilterProxy(RawSortProxy):
    """State group, category and name filters over a `DownloadsModel`, plus sorting.

    With a `DownloadsModel` underneath, `lessThan` compares the model's cached sort keys
    and `filterAcceptsRow` reads the mirror directly: Qt calls them tens of thousands of
    times when 10,000 rows are sorted or filtered.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._downloads: DownloadsModel | None = None
        self._group = StateGroup.ALL
        self._category: str | None = None
        self._tag: str | None = None
        self._tracker: str | None = None
        self._text = ""

    def setSourceModel(self, source_model: Any) -> None:
        self._downloads = source_model if isinstance(source_model, DownloadsModel) else None
        super().setSourceModel(source_model)

    @property
    def group(self) -> StateGroup:
        return self._group

    @property
    def category(self) -> str | None:
        return self._category

    @property
    def tag(self) -> str | None:
        return self._tag

    @property
    def tracker(self) -> str | None:
        return self._tracker

    @property
    def text(self) -> str:
        return self._text

    def set_tag(self, tag: str | None) -> None:
        """None shows every torrent; "" the untagged ones only."""
        if tag != self._tag:
            self._change_filter(lambda: setattr(self, "_tag", tag))

    def set_tracker(self, host: str | None) -> None:
        """None shows every torrent; "" the trackerless ones only."""
        if host != self._tracker:
            self._change_filter(lambda: setattr(self, "_tracker", host))

    def set_group(self, group: StateGroup) -> None:
        if group != self._group:
            self._change_filter(lambda: setattr(self, "_group", StateGroup(group)))

    def set_category(self, category: str | None) -> None:
        """None shows every category; "" shows the uncategorised torrents only."""
        if category != self._category:
            self._change_filter(lambda: setattr(self, "_category", category))

    def set_text(self, text: str) -> None:
        """Show only torrents whose name contains `text`, ignoring case."""
        folded = text.strip().casefold()
        if folded != self._text:
            self._change_filter(lambda: setattr(self, "_text", folded))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if (
            self._group is StateGroup.ALL
            and self._category is None
            and self._tag is None
            and self._tracker is None
            and not self._text
        ):
            return True
        model = self._downloads
        if model is None:
            return True
        torrent = model.torrent_at(source_row)
        if self._group is not StateGroup.ALL and self._group not in groups_of(torrent):
            return False
        if self._category is not None and (torrent.get("category") or "") != self._category:
            return False
        if self._tag is not None:
            tags = tags_of(torrent)
            if (self._tag not in tags) if self._tag else bool(tags):
                return False
        if self._tracker is not None and tracker_host(torrent) != self._tracker:
            return False
        return not self._text or self._text in str(torrent.get("name", "")).casefold()

    def flags(self, index: Index) -> Qt.ItemFlag:
        # Asked for every painted cell; Qt's own would map the index into the Python model.
        return _ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def lessThan(self, source_left: Index, source_right: Index) -> bool:
        model = self._downloads
        if model is None:
            return super().lessThan(source_left, source_right)
        keys = model.sort_keys(source_left.column())
        return keys[source_left.row()] < keys[source_right.row()]

    def hash_at(self, proxy_row: int) -> str:
        source = self.mapToSource(self.index(proxy_row, 0))
        if self._downloads is None or not source.isValid():
            return ""
        return self._downloads.hash_at(source.row())

    def row_of(self, torrent_hash: str) -> int:
        """The proxy row showing `torrent_hash`, or -1 when it is filtered out or unknown."""
        if self._downloads is None:
            return -1
        source_row = self._downloads.row_of(torrent_hash)
        if source_row < 0:
            return -1
        return self.mapFromSource(self._downloads.index(source_row, 0)).row()
