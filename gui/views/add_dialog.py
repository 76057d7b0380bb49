"""The add-torrent dialog: qBittorrent's own add options, prefilled from the last choices.

Non-modal (qasync forbids nested `exec()` loops inside tasks): it emits `add_requested`
and the window does the I/O. The source is parsed as it is typed, so a broken magnet is
explained before anything is sent.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, cast

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.clients.qbittorrent import AddOptions, ContentLayout
from gui.core.torrents import (
    TorrentFile,
    TorrentInputError,
    TorrentSource,
    TorrentUrl,
    describe_source,
    parse_source,
)
from gui.models.downloads import RawSortProxy
from gui.models.files_tree import DO_NOT_DOWNLOAD, NORMAL, FilesTreeModel, TreeColumn
from gui.models.palette import BAD
from gui.models.themed import on_window
from gui.views.properties_panel import priority_menu, selected_file_ids

LAYOUTS = (("Default", None), ("Original", "Original"), ("Create subfolder", "Subfolder"),
           ("Don't create subfolder", "NoSubfolder"))  # fmt: skip


class AddTorrentDialog(QDialog):
    #: source, AddOptions, remembered choices (dict), "don't ask again"
    add_requested = Signal(object, object, dict, bool)

    def __init__(
        self,
        text: str = "",
        *,
        defaults: dict[str, Any] | None = None,
        categories: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add torrent")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(620, 0)
        self._source: TorrentSource | None = None
        defaults = defaults or {}

        self.source_edit = QLineEdit(text)
        self.source_edit.setPlaceholderText("magnet:?xt=…, a .torrent file, or an http(s) link")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_edit)
        source_row.addWidget(browse)
        self.source_info = QLabel()
        self.source_info.setWordWrap(True)
        self.source_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Room for two lines from the start: a long magnet's description must not be clipped.
        self.source_info.setMinimumHeight(2 * self.source_info.fontMetrics().lineSpacing() + 4)

        self.category = QComboBox()
        self.category.setEditable(True)
        known = set(categories)
        if defaults.get("category"):
            known.add(str(defaults["category"]))
        self.category.addItems(["", *sorted(known)])
        self.category.setCurrentText(str(defaults.get("category") or ""))
        self.save_path = QLineEdit(str(defaults.get("save_path") or ""))
        self.save_path.setPlaceholderText("qBittorrent's default (a path on qBittorrent's machine)")
        self.tags = QLineEdit(", ".join(defaults.get("tags") or ()))
        self.tags.setPlaceholderText("comma-separated")
        self.rename = QLineEdit()
        self.rename.setPlaceholderText("keep the torrent's name")
        self.layout_combo = QComboBox()
        for label, value in LAYOUTS:
            self.layout_combo.addItem(label, value)
        index = self.layout_combo.findData(defaults.get("content_layout"))
        self.layout_combo.setCurrentIndex(max(index, 0))
        self.stopped = QCheckBox("Do not start the download")
        self.stopped.setChecked(bool(defaults.get("stopped")))
        self.skip_checking = QCheckBox("Skip hash check")
        self.skip_checking.setChecked(bool(defaults.get("skip_checking")))
        self.skip_checking.setToolTip(
            self.tr(
                "For files that are already complete in the save path: qBittorrent seeds them "
                "at once without reading them first. qBittorrent 5.3 and later ignore this and "
                "check the files anyway; Earmark does not report such a check as a finished "
                "download."
            )
        )
        self.sequential = QCheckBox("Download in sequential order")
        self.sequential.setChecked(bool(defaults.get("sequential")))
        self.first_last = QCheckBox("Download first and last pieces first")
        self.first_last.setChecked(bool(defaults.get("first_last_piece")))
        self.dont_ask = QCheckBox("Don't show this dialog again (add dropped torrents directly)")
        self._build_files()

        form = QFormLayout()
        form.addRow("Source:", source_row)
        form.addRow("", self.source_info)
        form.addRow("Category:", self.category)
        form.addRow("Save path:", self.save_path)
        form.addRow("Tags:", self.tags)
        form.addRow("Rename:", self.rename)
        form.addRow("Content layout:", self.layout_combo)
        for box in (self.stopped, self.skip_checking, self.sequential, self.first_last):
            form.addRow("", box)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.files, 1)
        layout.addWidget(self.dont_ask)
        layout.addWidget(self.buttons)
        self.source_edit.textChanged.connect(self._validate)
        self._validate()

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Choose a .torrent file", filter="Torrent files (*.torrent)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.source_edit.setText)
        dialog.open()

    def _validate(self) -> None:
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        text = self.source_edit.text().strip()
        if not text:
            self._source = None
            self.source_info.setText("")
            self._show_files()
            ok_button.setEnabled(False)
            return
        try:
            self._source = parse_source(text)
        except TorrentInputError as exc:
            self._source = None
            self._show_files()
            reason = html.escape(str(exc), quote=False)
            self.source_info.setText(f"<span style='color:{on_window(BAD)}'>{reason}</span>")
            ok_button.setEnabled(False)
            return
        self.source_info.setText(html.escape(describe_source(self._source), quote=False))
        self._show_files()
        ok_button.setEnabled(self._some_file_wanted())
        is_file = isinstance(self._source, TorrentFile)
        self.skip_checking.setEnabled(is_file or isinstance(self._source, TorrentUrl))

    def options(self) -> AddOptions:
        tags = tuple(t.strip() for t in self.tags.text().split(",") if t.strip())
        return AddOptions(
            category=self.category.currentText().strip() or None,
            tags=tags,
            save_path=self.save_path.text().strip() or None,
            stopped=self.stopped.isChecked(),
            skip_checking=self.skip_checking.isChecked() and self.skip_checking.isEnabled(),
            sequential=self.sequential.isChecked(),
            first_last_piece=self.first_last.isChecked(),
            content_layout=self.layout_combo.currentData(),
            rename=self.rename.text().strip() or None,
            file_priorities=self.file_priorities(),
        )

    # ---- the .torrent's files, with priorities (qBittorrent's content tree) ------------

    def _build_files(self) -> None:
        """The same tree model as the properties panel's Files tab, fed from the .torrent:
        a tick or a menu choice changes the priority kept here until Add."""
        self._priorities: list[int] = []
        self._files_of: str | None = None  # the info-hash whose files are shown
        self.files_model = FilesTreeModel(self)
        self.files_model.priority_requested.connect(self.set_priority)
        self.files_proxy = RawSortProxy(self)
        self.files_proxy.setSourceModel(self.files_model)
        self.files = QTreeView(self)
        self.files.setObjectName("add-files")
        self.files.setModel(self.files_proxy)
        self.files_proxy.modelReset.connect(lambda: self.files.expandToDepth(1))
        self.files.setSortingEnabled(True)
        self.files.sortByColumn(TreeColumn.NAME, Qt.SortOrder.AscendingOrder)
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.files.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.files.setUniformRowHeights(True)
        self.files.setMinimumHeight(6 * self.files.fontMetrics().lineSpacing())
        for column in (TreeColumn.PROGRESS, TreeColumn.REMAINING, TreeColumn.AVAILABILITY):
            self.files.setColumnHidden(column, True)  # nothing is downloaded yet
        self.files.header().resizeSection(TreeColumn.NAME, 360)
        self.files.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.files.customContextMenuRequested.connect(self._files_menu)
        self.files.setVisible(False)

    def _entries(self) -> list[dict[str, Any]]:
        source = self._source
        assert isinstance(source, TorrentFile)
        return [
            {"index": i, "name": name, "size": size, "progress": 0.0, "priority": priority}
            for i, ((name, size), priority) in enumerate(
                zip(source.files, self._priorities, strict=True)
            )
        ]

    def _show_files(self) -> None:
        source = self._source
        if isinstance(source, TorrentFile) and source.files:
            if self._files_of != source.info_hash:
                self._files_of = source.info_hash
                self._priorities = [NORMAL] * len(source.files)
            self.files_model.set_files(self._entries())
            self.files.setVisible(True)
        else:
            self._priorities = []
            self._files_of = None
            self.files_model.clear()
            self.files.setVisible(False)

    def set_priority(self, file_ids: list[int], priority: int) -> None:
        if not isinstance(self._source, TorrentFile):
            return
        for file_id in file_ids:
            if 0 <= file_id < len(self._priorities):
                self._priorities[file_id] = priority
        self.files_model.set_files(self._entries())
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok_button.setEnabled(self._some_file_wanted())
        if not self._some_file_wanted():
            self.source_info.setText(self.tr("Tick at least one file to download."))
        else:
            self.source_info.setText(html.escape(describe_source(self._source), quote=False))

    def _some_file_wanted(self) -> bool:
        return not self._priorities or any(p != DO_NOT_DOWNLOAD for p in self._priorities)

    def file_priorities(self) -> tuple[int, ...]:
        """Per file of the .torrent, only when one differs from Normal (else nothing to set)."""
        if isinstance(self._source, TorrentFile) and any(p != NORMAL for p in self._priorities):
            return tuple(self._priorities)
        return ()

    def priority_menu(self) -> QMenu:
        """The same Priority menu as the properties panel's Files tab."""
        return priority_menu(self, selected_file_ids(self.files), self.set_priority)

    def _files_menu(self, pos: QPoint) -> None:
        if not self.files.indexAt(pos).isValid():
            return
        menu = self.priority_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.files.viewport().mapToGlobal(pos))

    def remembered(self) -> dict[str, Any]:
        """What the next dialog starts from (the rename is per torrent, not remembered)."""
        options = self.options()
        return {
            "category": options.category,
            "save_path": options.save_path,
            "tags": list(options.tags),
            "stopped": options.stopped,
            "skip_checking": self.skip_checking.isChecked(),
            "sequential": options.sequential,
            "first_last_piece": options.first_last_piece,
            "content_layout": options.content_layout,
        }

    def _accept(self) -> None:
        if self._source is None:
            return
        self.add_requested.emit(
            self._source, self.options(), self.remembered(), self.dont_ask.isChecked()
        )
        self.accept()


def with_settings_defaults(
    remembered: dict[str, Any], category: str, save_path: str
) -> dict[str, Any]:
    """The dialog's starting choices: the last ones, with Settings' default category and
    save path where the last dialog left them empty (they were ignored before)."""
    merged = dict(remembered)
    merged["category"] = remembered.get("category") or category or None
    merged["save_path"] = remembered.get("save_path") or save_path or None
    return merged


def options_from_defaults(defaults: dict[str, Any]) -> AddOptions:
    """The options a "don't ask" add uses: the dialog's remembered choices. The values
    come from the settings file, maybe hand-edited: a value of the wrong type is dropped."""

    def text(key: str) -> str | None:
        value = defaults.get(key)
        return value if isinstance(value, str) and value else None

    tags = defaults.get("tags")
    layout = text("content_layout")
    return AddOptions(
        category=text("category"),
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        save_path=text("save_path"),
        stopped=defaults.get("stopped") is True,
        skip_checking=defaults.get("skip_checking") is True,
        sequential=defaults.get("sequential") is True,
        first_last_piece=defaults.get("first_last_piece") is True,
        content_layout=(
            cast(ContentLayout, layout)
            if layout in ("Original", "Subfolder", "NoSubfolder")
            else None
        ),
    )
