"""The Trackers and Peers tabs of the properties panel: keyed rows refreshed in place.

Both lists are re-read every second or two while their tab is shown. A refresh with the
same keys (tracker URLs, peer addresses) emits `dataChanged` only, so selection and scroll
position stay; a changed set of keys resets the (short) list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QModelIndex, QObject, QPersistentModelIndex, Qt

from gui.core.formatting import human_percent, human_size, human_speed
from gui.i18n import QT_TRANSLATE_NOOP
from gui.models.downloads import RAW_ROLE
from gui.models.table import ListTableModel

Index = QModelIndex | QPersistentModelIndex
Row = Mapping[str, Any]

#: `torrents/trackers` status codes (qBittorrent's TrackerEntry::Status).
TRACKER_STATUS = {
    0: QT_TRANSLATE_NOOP("TrackersModel", "Disabled"),
    1: QT_TRANSLATE_NOOP("TrackersModel", "Not contacted yet"),
    2: QT_TRANSLATE_NOOP("TrackersModel", "Working"),
    3: QT_TRANSLATE_NOOP("TrackersModel", "Updating…"),
    4: QT_TRANSLATE_NOOP("TrackersModel", "Not working"),
}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _count(value: Any) -> str:
    """qBittorrent sends -1 for "the tracker did not say"."""
    number = _int(value)
    return QCoreApplication.translate("KeyedRowsModel", "N/A") if number < 0 else str(number)


class KeyedRowsModel(ListTableModel):
    """Rows of dicts with a key each; `columns` and `cells` are set by subclasses.

    `cells[c]` turns a row into (text, raw sort value) for column c.
    """

    cells: Sequence[Callable[[Row], tuple[str, Any]]] = ()
    right_aligned: frozenset[int] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keys: list[str] = []
        self._rows: list[Row] = []

    def rows(self) -> list[Row]:
        return self._rows

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        text = super().headerData(section, orientation, role)
        if isinstance(text, str):
            return QCoreApplication.translate(type(self).__name__, text)
        return text

    def row_keys(self) -> list[str]:
        return list(self._keys)

    def set_rows(self, rows: Sequence[tuple[str, Row]]) -> None:
        keys = [key for key, _ in rows]
        if keys != self._keys:
            self.beginResetModel()
            self._keys = keys
            self._rows = [row for _, row in rows]
            self.endResetModel()
            return
        self._rows = [row for _, row in rows]
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        role = int(role)
        column = index.column()
        if role == int(Qt.ItemDataRole.DisplayRole):
            return self.cells[column](self._rows[index.row()])[0]
        if role == RAW_ROLE:
            return self.cells[column](self._rows[index.row()])[1]
        if role == int(Qt.ItemDataRole.TextAlignmentRole):
            if column in self.right_aligned:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if role == int(Qt.ItemDataRole.ToolTipRole) and column == 0:
            return self.cells[column](self._rows[index.row()])[0]
        return None


def _text(key: str) -> Callable[[Row], tuple[str, Any]]:
    return lambda row: (str(row.get(key) or ""), str(row.get(key) or "").casefold())


def _number(key: str) -> Callable[[Row], tuple[str, Any]]:
    return lambda row: (_count(row.get(key)), _int(row.get(key)))


def _tier(row: Row) -> tuple[str, Any]:
    tier = _int(row.get("tier"))
    return ("" if tier < 0 else str(tier)), tier


def _tracker_status(row: Row) -> tuple[str, Any]:
    status = _int(row.get("status"))
    words = TRACKER_STATUS.get(status)
    return (QCoreApplication.translate("TrackersModel", words) if words else str(status)), status


class TrackersModel(KeyedRowsModel):
    """`torrents/trackers`, with qBittorrent's columns."""

    columns = (
        QT_TRANSLATE_NOOP("TrackersModel", "URL"),
        QT_TRANSLATE_NOOP("TrackersModel", "Tier"),
        QT_TRANSLATE_NOOP("TrackersModel", "Status"),
        QT_TRANSLATE_NOOP("TrackersModel", "Peers"),
        QT_TRANSLATE_NOOP("TrackersModel", "Seeds"),
        QT_TRANSLATE_NOOP("TrackersModel", "Leeches"),
        QT_TRANSLATE_NOOP("TrackersModel", "Downloaded"),
        QT_TRANSLATE_NOOP("TrackersModel", "Message"),
    )
    cells = (
        _text("url"),
        _tier,
        _tracker_status,
        _number("num_peers"),
        _number("num_seeds"),
        _number("num_leeches"),
        _number("num_downloaded"),
        _text("msg"),
    )
    right_aligned = frozenset({1, 3, 4, 5, 6})

    def set_trackers(self, trackers: Sequence[Row]) -> None:
        self.set_rows([(str(t.get("url", "")), t) for t in trackers])


def _address(row: Row) -> tuple[str, Any]:
    ip = str(row.get("ip") or "")
    port = _int(row.get("port"))
    shown = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    return shown, (ip, port)


def _progress(row: Row) -> tuple[str, Any]:
    progress = float(row.get("progress") or 0.0)
    return human_percent(progress), progress


def _speed(key: str) -> Callable[[Row], tuple[str, Any]]:
    return lambda row: (human_speed(_int(row.get(key))), _int(row.get(key)))


def _size(key: str) -> Callable[[Row], tuple[str, Any]]:
    return lambda row: (human_size(_int(row.get(key))), _int(row.get(key)))


def _relevance(row: Row) -> tuple[str, Any]:
    relevance = float(row.get("relevance") or 0.0)
    return human_percent(relevance), relevance


class PeersModel(KeyedRowsModel):
    """`sync/torrentPeers`' peers, with qBittorrent's columns."""

    columns = (
        QT_TRANSLATE_NOOP("PeersModel", "IP/Address"),
        QT_TRANSLATE_NOOP("PeersModel", "Connection"),
        QT_TRANSLATE_NOOP("PeersModel", "Flags"),
        QT_TRANSLATE_NOOP("PeersModel", "Client"),
        QT_TRANSLATE_NOOP("PeersModel", "Progress"),
        QT_TRANSLATE_NOOP("PeersModel", "Down Speed"),
        QT_TRANSLATE_NOOP("PeersModel", "Up Speed"),
        QT_TRANSLATE_NOOP("PeersModel", "Downloaded"),
        QT_TRANSLATE_NOOP("PeersModel", "Uploaded"),
        QT_TRANSLATE_NOOP("PeersModel", "Relevance"),
    )
    cells = (
        _address,
        _text("connection"),
        _text("flags"),
        _text("client"),
        _progress,
        _speed("dl_speed"),
        _speed("up_speed"),
        _size("downloaded"),
        _size("uploaded"),
        _relevance,
    )
    right_aligned = frozenset({4, 5, 6, 7, 8, 9})

    def set_peers(self, peers: Mapping[str, Row]) -> None:
        self.set_rows(sorted(peers.items()))
