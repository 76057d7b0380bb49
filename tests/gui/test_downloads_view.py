"""The downloads view as a user meets it: painted rows, filters, menus, dialogs.

Menu entries are QActions triggered directly (a real context menu cannot be driven
offscreen); what the view asks for is read from its signals. Painting is checked on the
pixels of the rendered table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from gui.clients.maindata import MaindataMirror
from gui.core.torrent_states import StateGroup
from gui.models.downloads import Column, DownloadsModel
from gui.services.properties import FILES, GENERAL, Reading
from gui.views.downloads_view import SEARCH_DELAY_MS, DownloadsView
from gui.views.filter_panel import CATEGORIES, STATUS, TAGS, TRACKERS
from tests.gui.test_downloads_model import GiB, full, h, torrent


@pytest.fixture
def view(qtbot: QtBot, tmp_path: Path) -> Iterator[DownloadsView]:
    done = {"progress": 1.0}
    mirror = MaindataMirror()
    mirror.apply(
        full(
            {
                h(1): torrent(1, name="Dune", progress=0.6, save_path=str(tmp_path)),
                h(2): torrent(2, name="Emma", progress=0.0, state="stoppedDL"),
                h(3): torrent(3, name="Foundation", state="stalledUP", **done),
                h(4): torrent(4, name="Hyperion", category="librivox", state="stoppedUP", **done),
                h(5): torrent(5, name="Solaris", category="", size=6 * GiB),
            }
        )
    )
    model = DownloadsModel(mirror)
    widget = DownloadsView(model)
    widget.resize(1200, 500)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
    yield widget
    for dialog in (widget.remove_dialog, widget.category_dialog):
        if dialog is not None:
            dialog.close()


def select(view: DownloadsView, *numbers: int) -> None:
    view.select_hashes([h(n) for n in numbers])
    assert sorted(view.selected_hashes()) == sorted(h(n) for n in numbers)


def refresh(view: DownloadsView, rid: int, **answer: Any) -> None:
    view.model.apply(view.model.mirror.apply({"rid": rid, **answer}))


# ---- painting --------------------------------------------------------------------------


def bar_pixels(image: QImage, view: DownloadsView, torrent_hash: str) -> list[QColor]:
    """The colours along the middle of a torrent's progress cell."""
    row = view.proxy.row_of(torrent_hash)
    rect = view.table.visualRect(view.proxy.index(row, Column.PROGRESS))
    y = rect.center().y()
    return [image.pixelColor(x, y) for x in range(rect.left() + 3, rect.right() - 3)]


def filled(colors: list[QColor], highlight: QColor) -> int:
    """How many pixels have the bar's chunk colour (the palette's highlight, shaded)."""
    return sum(
        1
        for c in colors
        if abs(c.hue() - highlight.hue()) <= 12 and c.saturation() > 80 and c.value() > 60
    )


def test_progress_column_paints_real_bars(view: DownloadsView, qtbot: QtBot) -> None:
    view.table.clearSelection()
    qtbot.wait(10)  # let the repaint after clearing the selection happen
    image = view.table.viewport().grab().toImage()
    highlight = view.table.palette().color(view.table.palette().ColorRole.Highlight)
    sixty = bar_pixels(image, view, h(1))
    none = bar_pixels(image, view, h(2))
    done = bar_pixels(image, view, h(3))
    assert len({c.rgb() for c in sixty}) > 3  # not a blank cell: bar, text, frame
    assert 0.45 < filled(sixty, highlight) / len(sixty) < 0.75
    assert filled(none, highlight) == 0
    assert filled(done, highlight) / len(done) > 0.85
    # The text cells are painted too: the name column of the first row is not blank.
    row = view.proxy.row_of(h(1))
    name = view.table.visualRect(view.proxy.index(row, Column.NAME))
    colours = {image.pixelColor(x, name.center().y()).rgb() for x in range(name.left(), 80)}
    assert len(colours) > 2


# ---- context menu ----------------------------------------------------------------------


def test_start_stop_and_details_emit_the_selected_hashes(view: DownloadsView, qtbot: QtBot) -> None:
    select(view, 1, 2)
    view.update_actions()
    assert view.start_action.isEnabled()  # Emma is stopped
    assert view.stop_action.isEnabled()  # Dune is running
    with qtbot.waitSignal(view.start_requested) as started:
        view.start_action.trigger()
    assert started.args == [[h(1), h(2)]]  # top to bottom as shown (sorted by name)
    with qtbot.waitSignal(view.stop_requested) as stopped:
        view.stop_action.trigger()
    assert stopped.args == [[h(1), h(2)]]

    select(view, 2)
    view.update_actions()
    assert view.start_action.isEnabled() and not view.stop_action.isEnabled()
    with qtbot.waitSignal(view.details_requested) as details:
        view.details_action.trigger()
    assert details.args == [h(2)]


def test_double_click_asks_for_details(view: DownloadsView, qtbot: QtBot) -> None:
    row = view.proxy.row_of(h(3))
    rect = view.table.visualRect(view.proxy.index(row, Column.NAME))
    viewport = view.table.viewport()
    with qtbot.waitSignal(view.details_requested) as details:
        # A double click is a press (which picks the row) and then a double-click event.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert details.args == [h(3)]


def test_nothing_is_asked_without_a_selection(view: DownloadsView, qtbot: QtBot) -> None:
    view.table.clearSelection()
    view.update_actions()
    assert not view.remove_action.isEnabled() and not view.details_action.isEnabled()
    with qtbot.assertNotEmitted(view.start_requested):
        view.start_action.trigger()
    view.request_remove()
    assert view.remove_dialog is None


@pytest.mark.parametrize(
    ("label", "delete_files"),
    [("Remove torrents", False), ("Remove torrents and their files", True)],
)
def test_remove_asks_without_blocking_and_emits_the_choice(
    view: DownloadsView, qtbot: QtBot, label: str, delete_files: bool
) -> None:
    select(view, 4, 5)
    view.remove_action.trigger()  # returns at once: the dialog is not modal
    box = view.remove_dialog
    assert box is not None and box.isVisible() and not box.isModal()
    assert "2 torrents" in box.text()
    buttons = {b.text(): b for b in box.buttons()}
    assert set(buttons) >= {"Remove torrents", "Remove torrents and their files"}
    with qtbot.waitSignal(view.remove_requested) as removed:
        buttons[label].click()
    assert removed.args == [[h(4), h(5)], delete_files]


def test_remove_of_one_torrent_names_it_and_cancel_emits_nothing(
    view: DownloadsView, qtbot: QtBot
) -> None:
    select(view, 1)
    view.request_remove()
    box = view.remove_dialog
    assert box is not None and "Dune" in box.text()
    labels = {b.text() for b in box.buttons()}
    assert {"Remove torrent", "Remove torrent and its files"} <= labels
    with qtbot.assertNotEmitted(view.remove_requested):
        box.button(QMessageBox.StandardButton.Cancel).click()
        qtbot.waitUntil(lambda: view.remove_dialog is None)


def test_set_category_to_an_existing_or_a_new_one(view: DownloadsView, qtbot: QtBot) -> None:
    select(view, 1, 4)
    entries = view.category_actions()
    assert set(entries) == {"audiobooks", "librivox"}
    assert not entries["audiobooks"].isChecked()  # the two torrents differ
    with qtbot.waitSignal(view.category_requested) as chosen:
        entries["librivox"].trigger()
    assert chosen.args == [[h(1), h(4)], "librivox"]
    with qtbot.waitSignal(view.category_requested) as reset:
        view.reset_category_action.trigger()
    assert reset.args == [[h(1), h(4)], ""]

    view.new_category_action.trigger()
    dialog = view.category_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    dialog.setTextValue("  Sci-fi ")
    with qtbot.waitSignal(view.category_requested) as created:
        dialog.accept()
    assert created.args == [[h(1), h(4)], "Sci-fi"]


def test_copy_magnet_puts_the_magnets_on_the_clipboard(view: DownloadsView) -> None:
    select(view, 1)
    view.update_actions()
    assert view.copy_magnet_action.isEnabled()
    view.copy_magnet_action.trigger()
    assert QGuiApplication.clipboard().text() == f"magnet:?xt=urn:btih:{h(1)}&dn=Book+1"
    select(view, 1, 2)
    view.copy_magnet_action.trigger()
    assert QGuiApplication.clipboard().text().splitlines() == [
        f"magnet:?xt=urn:btih:{h(1)}&dn=Book+1",
        f"magnet:?xt=urn:btih:{h(2)}&dn=Book+2",
    ]


def test_open_folder_only_for_a_folder_on_this_computer(
    view: DownloadsView, tmp_path: Path
) -> None:
    opened: list[QUrl] = []
    view.open_url = opened.append
    select(view, 1)  # saved in tmp_path, which exists
    view.update_actions()
    assert view.open_folder_action.isEnabled()
    view.open_folder_action.trigger()
    assert opened == [QUrl.fromLocalFile(str(tmp_path))]
    select(view, 2)  # saved in /data/audiobooks, not on this computer
    view.update_actions()
    assert not view.open_folder_action.isEnabled()


def test_remote_paths_are_mapped_before_checking(qtbot: QtBot, tmp_path: Path) -> None:
    mirror = MaindataMirror()
    mirror.apply(full({h(1): torrent(1, save_path="F:\\Downloads")}))
    widget = DownloadsView(
        DownloadsModel(mirror), local_path=lambda p: str(tmp_path) if p == "F:\\Downloads" else None
    )
    qtbot.addWidget(widget)
    opened: list[QUrl] = []
    widget.open_url = opened.append
    select(widget, 1)
    widget.open_folder()
    assert opened == [QUrl.fromLocalFile(str(tmp_path))]


def test_context_menu_opens_on_a_row(view: DownloadsView, qtbot: QtBot) -> None:
    select(view, 3)
    rect = view.table.visualRect(view.proxy.index(view.proxy.row_of(h(3)), Column.NAME))
    view.table.customContextMenuRequested.emit(rect.center())
    qtbot.waitUntil(view.menu.isVisible)
    assert [a.text() for a in view.menu.actions() if a.text()][:3] == ["Start", "Stop", "Remove…"]
    view.menu.close()
    view.table.customContextMenuRequested.emit(QPoint(5, view.table.viewport().height() - 2))
    assert not view.menu.isVisible()  # below the last row: no menu


# ---- selection, filters ----------------------------------------------------------------


def test_selection_survives_refreshes_sorting_and_resets(view: DownloadsView) -> None:
    select(view, 3, 5)
    view.table.sortByColumn(Column.PROGRESS, Qt.SortOrder.AscendingOrder)
    refresh(
        view,
        2,
        torrents={h(5): {"progress": 0.99}, h(9): torrent(9, name="Aaa")},
        torrents_removed=[h(2)],
    )
    view.model.flush()
    assert sorted(view.selected_hashes()) == [h(3), h(5)]
    view.table.sortByColumn(Column.SIZE, Qt.SortOrder.DescendingOrder)
    assert sorted(view.selected_hashes()) == [h(3), h(5)]
    view.model.reset_from_mirror()
    assert sorted(view.selected_hashes()) == [h(3), h(5)]


def test_side_panel_counts_and_filters(view: DownloadsView, qtbot: QtBot) -> None:
    side = view.side
    assert side.isVisible()
    assert side.text_of(STATUS) == [
        "All (5)",
        "Downloading (2)",
        "Seeding (1)",
        "Completed (2)",
        "Running (3)",
        "Stopped (2)",
        "Active (2)",
        "Inactive (3)",
        "Stalled (1)",
        "Stalled Uploading (1)",
        "Stalled Downloading (0)",
        "Checking (0)",
        "Moving (0)",
        "Errored (0)",
    ]
    assert side.text_of(CATEGORIES) == [
        "All (5)",
        "Uncategorised (1)",
        "audiobooks (3)",
        "librivox (1)",
    ]
    assert side.text_of(TAGS) == ["All (5)", "Untagged (0)", "earmark (5)"]
    assert side.text_of(TRACKERS) == ["All (5)", "Trackerless (5)"]
    side.choose(STATUS, StateGroup.STOPPED)
    assert view.proxy.rowCount() == 2
    side.choose(CATEGORIES, "librivox")
    assert view.proxy.rowCount() == 1 and view.proxy.hash_at(0) == h(4)
    side.choose(STATUS, StateGroup.ALL)
    side.choose(CATEGORIES, None)
    side.choose(STATUS, StateGroup.ACTIVE)
    assert sorted(view.proxy.hash_at(r) for r in range(view.proxy.rowCount())) == [h(1), h(5)]
    side.choose(STATUS, StateGroup.ALL)
    view.set_group(StateGroup.STOPPED)  # a choice made elsewhere shows in the panel
    item = side.item_for(STATUS, StateGroup.STOPPED)
    assert item is not None and item.font(0).bold()
    view.set_group(StateGroup.ALL)
    assert view.proxy.rowCount() == 5
    view.search.setText("HYPER")
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 1, timeout=SEARCH_DELAY_MS * 10)
    assert view.proxy.hash_at(0) == h(4)
    view.search.clear()
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 5, timeout=SEARCH_DELAY_MS * 10)

    refresh(
        view,
        3,
        torrents={
            h(2): {"state": "error"},
            h(3): {"tags": "earmark, lent", "tracker": "http://tracker.example.invalid:80/a"},
            h(5): {"tags": ""},
        },
        categories={"podcasts": {}},
        tags=["lent"],
    )
    assert "Errored (1)" in side.text_of(STATUS)
    assert "podcasts (0)" in side.text_of(CATEGORIES)
    assert side.text_of(TAGS) == ["All (5)", "Untagged (1)", "earmark (4)", "lent (1)"]
    assert side.text_of(TRACKERS) == [
        "All (5)",
        "Trackerless (4)",
        "tracker.example.invalid (1)",
    ]
    side.choose(TAGS, "lent")
    assert view.proxy.rowCount() == 1 and view.proxy.hash_at(0) == h(3)
    side.choose(TAGS, "")
    assert view.proxy.rowCount() == 1 and view.proxy.hash_at(0) == h(5)
    side.choose(TAGS, None)
    side.choose(TRACKERS, "tracker.example.invalid")
    assert view.proxy.rowCount() == 1 and view.proxy.hash_at(0) == h(3)
    side.choose(TRACKERS, "")
    assert view.proxy.rowCount() == 4


def test_chosen_category_that_disappears_falls_back_to_all(view: DownloadsView) -> None:
    view.set_category("librivox")
    assert view.proxy.rowCount() == 1
    refresh(view, 4, torrents={h(4): {"category": "audiobooks"}}, categories_removed=["librivox"])
    assert view.proxy.category is None and view.proxy.rowCount() == 5
    assert view.category_combo.currentIndex() == 0
    assert view.side.text_of(CATEGORIES)[0] == "All (5)"
    item = view.side.item_for(CATEGORIES, None)
    assert item is not None and item.font(0).bold()


def test_header_menu_hides_and_shows_columns(view: DownloadsView) -> None:
    header = view.table.horizontalHeader()
    assert header.isSectionHidden(Column.SAVE_PATH) and not header.isSectionHidden(Column.SIZE)
    header.setSectionHidden(Column.SAVE_PATH, False)
    assert not header.isSectionHidden(Column.SAVE_PATH)
    view._show_header_menu(QPoint(10, 5))
    menus = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.inherits("QMenu")]
    assert menus
    actions = {a.text(): a for a in menus[-1].actions()}
    actions["Size"].toggle()
    assert header.isSectionHidden(Column.SIZE)
    menus[-1].close()


# ---- details dialog --------------------------------------------------------------------

PROPERTIES: dict[str, Any] = {
    "save_path": "/data/audiobooks/",
    "creation_date": 1_700_000_000,
    "piece_size": 4 * 1024 * 1024,
    "comment": "<b>not markup</b> https://example.invalid/book",
    "total_wasted": 0,
    "total_uploaded": 3 * GiB,
    "total_downloaded": 5 * GiB,
    "time_elapsed": 7_200,
    "seeding_time": 3_600,
    "nb_connections": 4,
    "nb_connections_limit": 100,
    "share_ratio": 0.6,
    "addition_date": 1_760_000_000,
    "completion_date": -1,
    "created_by": "mktorrent 1.1",
    "dl_speed_avg": 1_048_576,
    "up_speed_avg": 2048,
    "pieces_have": 640,
    "pieces_num": 1280,
    "total_size": 5 * GiB,
    "infohash_v1": h(1),
    "infohash_v2": "",
    "name": "Dune",
    "ratio_limit": -2,
    "seeding_time_limit": 1440,
}


def test_properties_panel_shows_properties_and_files(view: DownloadsView, qtbot: QtBot) -> None:
    panel = view.properties
    view.select_hashes([h(1)])
    assert panel.torrent_hash == h(1)
    assert panel.status.text() == "Loading…"
    panel.apply(Reading(h(1), GENERAL, PROPERTIES))
    text = {key: label.text() for key, label in panel.general.values.items()}
    assert text["total_size"] == "5.00 GiB"
    assert text["pieces"] == "1280 × 4.0 MiB (have 640)"
    assert text["downloaded"] == "5.00 GiB" and text["uploaded"] == "3.00 GiB"
    assert text["share_ratio"] == "0.60"
    assert text["share_limits"] == "ratio global, seeding time 1d 0h"
    assert text["time_active"] == "2h 0m (seeded for 1h 0m)"
    assert text["connections"] == "4 (max 100)"
    assert text["completion_date"] == "–" and text["hash"] == h(1) and text["hash_v2"] == "–"
    assert text["save_path"] == "/data/audiobooks/"
    comment = panel.general.values["comment"]
    assert comment.textFormat() == Qt.TextFormat.PlainText
    assert comment.text() == PROPERTIES["comment"]
    # an answer about another torrent (the selection moved on) is not shown
    panel.apply(Reading(h(2), GENERAL, {**PROPERTIES, "total_size": GiB}))
    assert panel.general.values["total_size"].text() == "5.00 GiB"

    panel.apply(
        Reading(
            h(1),
            FILES,
            [
                {"name": "Dune/01.m4b", "size": 5 * GiB, "progress": 0.25, "priority": 1},
                {"name": "Dune/cover.jpg", "size": 200_000, "progress": 1.0, "priority": 0},
            ],
        )
    )
    assert panel.status.text() == ""
    model = panel.files_model
    folder = model.file_index("Dune")
    assert folder.data() == "Dune" and model.rowCount(folder) == 2
    assert model.file_index("Dune/cover.jpg").siblingAtColumn(3).data() == "Do not download"
    assert folder.siblingAtColumn(3).data() == "Mixed"
    assert folder.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.PartiallyChecked
    panel.show_tab(FILES)
    qtbot.waitExposed(panel.files)
    proxy_index = panel.files_proxy.mapFromSource(model.file_index("Dune/01.m4b"))
    rect = panel.files.visualRect(proxy_index.siblingAtColumn(2))
    image = panel.files.viewport().grab().toImage()
    y = rect.center().y()
    assert len({image.pixelColor(x, y).rgb() for x in range(rect.left(), rect.right())}) > 3
    panel.apply(Reading(h(1), FILES, error="qBittorrent did not answer"))
    assert panel.status.text() == "qBittorrent did not answer"

    # the torrent is removed in qBittorrent: the panel lets it go (and the watcher too)
    with qtbot.waitSignal(view.current_changed) as changed:
        refresh(view, 2, torrents_removed=[h(1)])
    assert changed.args == [None] and panel.torrent_hash is None
    assert panel.files_model.rowCount() == 0


def test_a_big_refresh_holds_repaints_until_every_row_is_signalled(qtbot: QtBot) -> None:
    mirror = MaindataMirror()
    mirror.apply(full({h(n): torrent(n) for n in range(1, 401)}))
    widget = DownloadsView(DownloadsModel(mirror))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    viewport = widget.table.viewport()
    widget.table.sortByColumn(Column.PROGRESS, Qt.SortOrder.DescendingOrder)
    changes = {h(n): {"progress": 0.5 + n / 1000} for n in range(1, 401, 2)}
    refresh(widget, 2, torrents=changes)
    assert widget.model.flushing and not viewport.updatesEnabled()
    qtbot.waitUntil(lambda: not widget.model.flushing, timeout=5000)
    assert viewport.updatesEnabled()
    order = [widget.proxy.hash_at(r) for r in range(3)]
    assert order == [h(399), h(397), h(395)]
