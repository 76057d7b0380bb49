"""The side panel of filters beside the transfer list, as qBittorrent's.

Four sections, each with counts: Status (All, Downloading, Seeding, … Active, Inactive,
Stalled, Errored), Categories, Tags and Trackers. One choice per section; the sections
combine (a category *and* a tag). The panel shows the counts it is given and says what
the user chose (`status_chosen`, `category_chosen`, `tag_chosen`, `tracker_chosen`);
None means "All", "" means "Uncategorised" / "Untagged" / "Trackerless".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from gui.core.torrent_states import StateGroup
from gui.i18n import QT_TRANSLATE_NOOP

#: The Status section, in qBittorrent's order.
STATUS_LABELS: tuple[tuple[StateGroup, str], ...] = (
    (StateGroup.ALL, QT_TRANSLATE_NOOP("FilterPanel", "All")),
    (StateGroup.DOWNLOADING, QT_TRANSLATE_NOOP("FilterPanel", "Downloading")),
    (StateGroup.SEEDING, QT_TRANSLATE_NOOP("FilterPanel", "Seeding")),
    (StateGroup.COMPLETED, QT_TRANSLATE_NOOP("FilterPanel", "Completed")),
    (StateGroup.RUNNING, QT_TRANSLATE_NOOP("FilterPanel", "Running")),
    (StateGroup.STOPPED, QT_TRANSLATE_NOOP("FilterPanel", "Stopped")),
    (StateGroup.ACTIVE, QT_TRANSLATE_NOOP("FilterPanel", "Active")),
    (StateGroup.INACTIVE, QT_TRANSLATE_NOOP("FilterPanel", "Inactive")),
    (StateGroup.STALLED, QT_TRANSLATE_NOOP("FilterPanel", "Stalled")),
    (StateGroup.STALLED_UPLOADING, QT_TRANSLATE_NOOP("FilterPanel", "Stalled Uploading")),
    (StateGroup.STALLED_DOWNLOADING, QT_TRANSLATE_NOOP("FilterPanel", "Stalled Downloading")),
    (StateGroup.CHECKING, QT_TRANSLATE_NOOP("FilterPanel", "Checking")),
    (StateGroup.MOVING, QT_TRANSLATE_NOOP("FilterPanel", "Moving")),
    (StateGroup.ERROR, QT_TRANSLATE_NOOP("FilterPanel", "Errored")),
)
STATUS, CATEGORIES, TAGS, TRACKERS = "status", "categories", "tags", "trackers"
_VALUE = int(Qt.ItemDataRole.UserRole) + 1
_SECTION = int(Qt.ItemDataRole.UserRole) + 2
_ALL = "\x00all"  # item data cannot hold None: this stands for "All"


def _children(section: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [c for c in (section.child(i) for i in range(section.childCount())) if c is not None]


class FilterPanel(QTreeWidget):
    status_chosen = Signal(object)  # StateGroup
    category_chosen = Signal(object)  # str | None
    tag_chosen = Signal(object)
    tracker_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filter-panel")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(10)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumWidth(150)
        self._sections: dict[str, QTreeWidgetItem] = {}
        self._chosen: dict[str, object] = {
            STATUS: StateGroup.ALL,
            CATEGORIES: _ALL,
            TAGS: _ALL,
            TRACKERS: _ALL,
        }
        for key, title in (
            (STATUS, self.tr("Status")),
            (CATEGORIES, self.tr("Categories")),
            (TAGS, self.tr("Tags")),
            (TRACKERS, self.tr("Trackers")),
        ):
            section = QTreeWidgetItem(self, [title])
            font = section.font(0)
            font.setBold(True)
            section.setFont(0, font)
            section.setFlags(Qt.ItemFlag.ItemIsEnabled)
            section.setData(0, _SECTION, key)
            section.setExpanded(True)
            self._sections[key] = section
        #: Choices restored from the last session whose entry is not listed yet (the
        #: category, tag or tracker comes with qBittorrent's first answer).
        self._restoring: dict[str, str] = {}
        self._listed = False
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.set_counts({}, {}, [], {}, [], {})

    # ---- what is shown -------------------------------------------------------------------

    def set_counts(
        self,
        status: Mapping[StateGroup, int],
        categories: Mapping[str, int],
        category_names: Sequence[str],
        tags: Mapping[str, int],
        tag_names: Sequence[str],
        trackers: Mapping[str, int],
    ) -> None:
        total = int(status.get(StateGroup.ALL, 0))
        self._listed = total > 0
        self._fill(
            STATUS,
            [
                (QCoreApplication.translate("FilterPanel", label), group, status.get(group, 0))
                for group, label in STATUS_LABELS
            ],
        )
        everything = self.tr("All")
        self._fill(
            CATEGORIES,
            [(everything, _ALL, total), (self.tr("Uncategorised"), "", categories.get("", 0))]
            + [(name, name, categories.get(name, 0)) for name in category_names],
        )
        self._fill(
            TAGS,
            [(everything, _ALL, total), (self.tr("Untagged"), "", tags.get("", 0))]
            + [(name, name, tags.get(name, 0)) for name in tag_names],
        )
        hosts = sorted(h for h in trackers if h)
        self._fill(
            TRACKERS,
            [(everything, _ALL, total), (self.tr("Trackerless"), "", trackers.get("", 0))]
            + [(host, host, trackers.get(host, 0)) for host in hosts],
        )

    def _fill(self, key: str, entries: Sequence[tuple[str, object, int]]) -> None:
        section = self._sections[key]
        values = [value for _, value, _ in entries]
        if [child.data(0, _VALUE) for child in _children(section)] != values:
            section.takeChildren()
            for _, value, _ in entries:
                item = QTreeWidgetItem(section)
                item.setData(0, _VALUE, value)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        restoring = self._restoring.get(key)
        # A restored choice waits for its entry until torrents are listed; then it is
        # chosen, or dropped when it is gone (a category deleted meanwhile).
        if restoring is not None and (restoring in values or self._listed):
            del self._restoring[key]
            if restoring in values:
                self._choose(key, restoring)
        chosen = self._chosen[key]
        if chosen not in values:  # the category (tag, tracker) went away: show all again
            self._choose(key, values[0])
            chosen = values[0]
        for item, (label, value, count) in zip(_children(section), entries, strict=True):
            item.setText(0, self.tr("{label} ({count})").format(label=label, count=count))
            font = item.font(0)
            font.setBold(value == chosen)
            item.setFont(0, font)

    def text_of(self, key: str) -> list[str]:
        """The entries of a section as shown ("Active (2)", …)."""
        return [child.text(0) for child in _children(self._sections[key])]

    def item_for(self, key: str, value: object) -> QTreeWidgetItem | None:
        section = self._sections[key]
        wanted = _ALL if value is None else value
        return next((c for c in _children(section) if c.data(0, _VALUE) == wanted), None)

    # ---- choices -------------------------------------------------------------------------

    def choose(self, key: str, value: object) -> None:
        """Choose an entry as if clicked (None: All)."""
        item = self.item_for(key, value)
        if item is not None:
            self._clicked(item)

    def saved_choices(self) -> dict[str, str]:
        """What a restart gives back to `restore_choices`: per section not at "All", "="
        and the value ("=" alone is Uncategorised / Untagged / Trackerless). A choice
        still waiting for its entry is kept, so a session without qBittorrent loses none."""
        saved: dict[str, str] = {}
        for key in self._sections:
            value = self._restoring.get(key, self._chosen[key])
            if value not in (_ALL, StateGroup.ALL):
                saved[key] = "=" + str(value)
        return saved

    def restore_choices(self, saved: Mapping[str, object]) -> None:
        """Choose what `saved_choices` gave; an entry not listed yet is chosen when it is."""
        for key, text in saved.items():
            if key not in self._sections or not isinstance(text, str) or not text.startswith("="):
                continue  # hand-edited or from another version: that section stays "All"
            value = text[1:]
            if key == STATUS:
                if value in {group.value for group, _ in STATUS_LABELS}:
                    self.choose(STATUS, StateGroup(value))
            elif self.item_for(key, value) is not None:
                self.choose(key, value)
            else:
                self._restoring[key] = value

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        parent = item.parent()
        if parent is None:
            return
        key = str(parent.data(0, _SECTION))
        self._restoring.pop(key, None)  # the user's own choice wins
        self._choose(key, item.data(0, _VALUE))
        for child in _children(parent):
            font = child.font(0)
            font.setBold(child is item)
            child.setFont(0, font)

    def _choose(self, key: str, value: object) -> None:
        if self._chosen.get(key) == value:
            return
        self._chosen[key] = value
        shown = None if value == _ALL else value
        if key == STATUS:
            self.status_chosen.emit(StateGroup(str(value)))
        elif key == CATEGORIES:
            self.category_chosen.emit(shown)
        elif key == TAGS:
            self.tag_chosen.emit(shown)
        else:
            self.tracker_chosen.emit(shown)
