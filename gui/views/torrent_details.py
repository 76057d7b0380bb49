"""One torrent's General tab: qBittorrent's `torrents/properties` in words.

The page only shows what it is given (`set_properties`); the properties panel's watcher
fetches it. Text from the torrent (name, comment) is shown as plain text: a comment is
written by whoever made the torrent and must never be read as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gui.core.formatting import human_eta, human_ratio, human_size, human_speed, human_time
from gui.i18n import QT_TRANSLATE_NOOP

UNKNOWN = "–"

#: (key, label) of each row, in qBittorrent's "General" tab order.
TRANSFER_ROWS = (
    ("time_active", QT_TRANSLATE_NOOP("GeneralPage", "Time active:")),
    ("downloaded", QT_TRANSLATE_NOOP("GeneralPage", "Downloaded:")),
    ("uploaded", QT_TRANSLATE_NOOP("GeneralPage", "Uploaded:")),
    ("share_ratio", QT_TRANSLATE_NOOP("GeneralPage", "Share ratio:")),
    ("share_limits", QT_TRANSLATE_NOOP("GeneralPage", "Share limits:")),
    ("connections", QT_TRANSLATE_NOOP("GeneralPage", "Connections:")),
    ("speeds", QT_TRANSLATE_NOOP("GeneralPage", "Average speeds:")),
    ("wasted", QT_TRANSLATE_NOOP("GeneralPage", "Wasted:")),
)
INFORMATION_ROWS = (
    ("total_size", QT_TRANSLATE_NOOP("GeneralPage", "Total size:")),
    ("pieces", QT_TRANSLATE_NOOP("GeneralPage", "Pieces:")),
    ("created_by", QT_TRANSLATE_NOOP("GeneralPage", "Created by:")),
    ("creation_date", QT_TRANSLATE_NOOP("GeneralPage", "Created on:")),
    ("addition_date", QT_TRANSLATE_NOOP("GeneralPage", "Added on:")),
    ("completion_date", QT_TRANSLATE_NOOP("GeneralPage", "Completed on:")),
    ("save_path", QT_TRANSLATE_NOOP("GeneralPage", "Save path:")),
    ("hash", QT_TRANSLATE_NOOP("GeneralPage", "Info hash v1:")),
    ("hash_v2", QT_TRANSLATE_NOOP("GeneralPage", "Info hash v2:")),
    ("comment", QT_TRANSLATE_NOOP("GeneralPage", "Comment:")),
)


def _number(props: Mapping[str, Any], key: str) -> float | None:
    value = props.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _size(props: Mapping[str, Any], key: str) -> str:
    value = _number(props, key)
    return human_size(int(value)) if value is not None and value >= 0 else UNKNOWN


def _date(props: Mapping[str, Any], key: str) -> str:
    value = _number(props, key)
    return (human_time(value) or UNKNOWN) if value is not None else UNKNOWN


def _limit(value: float | None, unlimited: str, show: Any) -> str:
    """qBittorrent's share limits: -2 means "use the global limit", -1 "no limit"."""
    if value is None:
        return UNKNOWN
    if value == -2:
        return "global"
    if value < 0:
        return unlimited
    return str(show(value))


def describe(props: Mapping[str, Any], torrent_hash: str = "") -> dict[str, str]:
    """The text of every row, from a `torrents/properties` answer (fields may be missing)."""
    seeding = _number(props, "seeding_time")
    elapsed = _number(props, "time_elapsed")
    active = human_eta(elapsed) if elapsed is not None else UNKNOWN
    if seeding and seeding > 0 and elapsed is not None:
        active = f"{active} (seeded for {human_eta(seeding)})"
    ratio_limit = _limit(_number(props, "ratio_limit"), "none", lambda v: f"{v:.2f}")
    time_limit = _limit(
        _number(props, "seeding_time_limit"), "none", lambda v: human_eta(int(v) * 60)
    )
    pieces_num = _number(props, "pieces_num")
    piece_size = _number(props, "piece_size")
    pieces = UNKNOWN
    if pieces_num is not None and pieces_num >= 0 and piece_size is not None:
        pieces = f"{int(pieces_num)} × {human_size(int(piece_size))}"
        have = _number(props, "pieces_have")
        if have is not None:
            pieces += f" (have {int(have)})"
    connections = UNKNOWN
    if _number(props, "nb_connections") is not None:
        connections = str(int(props["nb_connections"]))
        if _number(props, "nb_connections_limit") is not None:
            connections += f" (max {int(props['nb_connections_limit'])})"
    speeds = UNKNOWN
    if _number(props, "dl_speed_avg") is not None or _number(props, "up_speed_avg") is not None:
        speeds = (
            f"↓ {human_speed(_number(props, 'dl_speed_avg'))}   "
            f"↑ {human_speed(_number(props, 'up_speed_avg'))}"
        )
    share_ratio = _number(props, "share_ratio")
    v1 = props.get("infohash_v1") or props.get("hash") or torrent_hash
    return {
        "time_active": active,
        "downloaded": _size(props, "total_downloaded"),
        "uploaded": _size(props, "total_uploaded"),
        "share_ratio": human_ratio(share_ratio) if share_ratio is not None else UNKNOWN,
        "share_limits": f"ratio {ratio_limit}, seeding time {time_limit}",
        "connections": connections,
        "speeds": speeds,
        "wasted": _size(props, "total_wasted"),
        "total_size": _size(props, "total_size"),
        "pieces": pieces,
        "created_by": str(props.get("created_by") or UNKNOWN),
        "creation_date": _date(props, "creation_date"),
        "addition_date": _date(props, "addition_date"),
        "completion_date": _date(props, "completion_date"),
        "save_path": str(props.get("save_path") or UNKNOWN),
        "hash": str(v1 or UNKNOWN),
        "hash_v2": str(props.get("infohash_v2") or UNKNOWN),
        "comment": str(props.get("comment") or ""),
    }


class GeneralPage(QWidget):
    """The General tab of the properties panel: Transfer and Information, as qBittorrent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.torrent_hash = ""
        self.values: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self._group(self.tr("Transfer"), TRANSFER_ROWS), 1)
        row.addWidget(self._group(self.tr("Information"), INFORMATION_ROWS), 1)
        layout.addLayout(row)
        layout.addStretch(1)
        self.values["comment"].setWordWrap(True)
        self.values["save_path"].setWordWrap(True)

    def _group(self, title: str, rows: Sequence[tuple[str, str]]) -> QGroupBox:
        box = QGroupBox(title, self)
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for key, label in rows:
            value = QLabel(UNKNOWN, box)
            value.setObjectName(f"details-{key}")
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(QCoreApplication.translate("GeneralPage", label), value)
        return box

    def set_properties(self, props: Mapping[str, Any]) -> None:
        """Show a `torrents/properties` answer (fields may be missing)."""
        for key, text in describe(props, self.torrent_hash).items():
            self.values[key].setText(text)

    def clear(self) -> None:
        for label in self.values.values():
            label.setText(UNKNOWN)
