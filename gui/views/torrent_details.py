"""One torrent's details: qBittorrent's `torrents/properties` and `torrents/files`.

The dialog only shows what it is given (`set_properties`, `set_files`); fetching is the
caller's job, so it can open at once ("Loading…") and fill in when the answers arrive,
without a modal wait. Text from the torrent (name, comment, file names) is shown as plain
text: a comment is written by whoever made the torrent and must never be read as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.core.formatting import human_eta, human_ratio, human_size, human_speed, human_time
from gui.models.downloads import FileColumn, FilesModel, RawSortProxy
from gui.views.downloads_view import ProgressDelegate

UNKNOWN = "–"

#: (key, label) of each row, in qBittorrent's "General" tab order.
TRANSFER_ROWS = (
    ("time_active", "Time active:"),
    ("downloaded", "Downloaded:"),
    ("uploaded", "Uploaded:"),
    ("share_ratio", "Share ratio:"),
    ("share_limits", "Share limits:"),
    ("connections", "Connections:"),
    ("speeds", "Average speeds:"),
    ("wasted", "Wasted:"),
)
INFORMATION_ROWS = (
    ("total_size", "Total size:"),
    ("pieces", "Pieces:"),
    ("created_by", "Created by:"),
    ("creation_date", "Created on:"),
    ("addition_date", "Added on:"),
    ("completion_date", "Completed on:"),
    ("save_path", "Save path:"),
    ("hash", "Info hash v1:"),
    ("hash_v2", "Info hash v2:"),
    ("comment", "Comment:"),
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


class TorrentDetailsDialog(QDialog):
    """Non-modal: several can be open, and the app's event loop keeps running."""

    def __init__(self, parent: QWidget | None = None, *, torrent_hash: str = "") -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setObjectName("torrent-details")
        self.torrent_hash = torrent_hash
        self.setWindowTitle("Torrent details")
        self.resize(760, 560)

        self.status = QLabel("Loading…", self)
        self.status.setObjectName("torrent-details-status")
        self.values: dict[str, QLabel] = {}
        general = QWidget(self)
        general_layout = QVBoxLayout(general)
        general_layout.addWidget(self._group("Transfer", TRANSFER_ROWS))
        general_layout.addWidget(self._group("Information", INFORMATION_ROWS))
        general_layout.addStretch(1)
        self.values["comment"].setWordWrap(True)

        self.files_model = FilesModel(self)
        self.files_proxy = RawSortProxy(self)
        self.files_proxy.setSourceModel(self.files_model)
        self.files = QTableView(self)
        self.files.setObjectName("torrent-details-files")
        self.files.setModel(self.files_proxy)
        self.files.setSortingEnabled(True)
        self.files.sortByColumn(FileColumn.NAME, Qt.SortOrder.AscendingOrder)
        self.files.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.files.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.files.setAlternatingRowColors(True)
        self.files.setShowGrid(False)
        self.files.setWordWrap(False)
        rows = self.files.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.files.fontMetrics().height() + 8)
        header = self.files.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(FileColumn.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((FileColumn.SIZE, 90), (FileColumn.PROGRESS, 120)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(FileColumn.PRIORITY, QHeaderView.ResizeMode.ResizeToContents)
        self.progress_delegate = ProgressDelegate(self.files)
        self.files.setItemDelegateForColumn(FileColumn.PROGRESS, self.progress_delegate)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(general, "General")
        self.tabs.addTab(self.files, "Content")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(bottom)

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
            form.addRow(label, value)
        return box

    def set_properties(self, props: Mapping[str, Any]) -> None:
        """Show a `torrents/properties` answer (may be merged with the torrent's info)."""
        for key, text in describe(props, self.torrent_hash).items():
            self.values[key].setText(text)
        name = props.get("name")
        self.setWindowTitle(f"Torrent details — {name}" if name else "Torrent details")
        self._loaded()

    def set_files(self, files: Sequence[Mapping[str, Any]]) -> None:
        """Show a `torrents/files` answer."""
        self.files_model.set_files(files)
        self._loaded()

    def set_error(self, message: str) -> None:
        """Say why the details could not be fetched (already free of secrets)."""
        self.status.setText(message)

    def _loaded(self) -> None:
        self.status.setText("")
