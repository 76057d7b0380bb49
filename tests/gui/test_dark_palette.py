"""Colours come from the palette or are checked against it (issue 12, defect 4: a dark
palette made "In library" rows and the notice bar unreadable), and notices float over
the page instead of pushing the table (defect 14)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from gui.models.library import GOOD_SCORE, LOW_SCORE, score_band
from gui.models.queue import STATE_COLUMN, QueueModel
from gui.models.themed import MIN_CONTRAST, contrast, status_text
from gui.store import Book, Store
from gui.views.main_window import MainWindow
from gui.views.settings_dialog import ResultLabel
from tests.harness.palettes import dark_fusion_palette


@pytest.fixture(params=["light", "dark"])
def palette(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[QPalette]:
    before = qapp.palette()
    chosen = dark_fusion_palette() if request.param == "dark" else qapp.style().standardPalette()
    qapp.setPalette(chosen)
    yield chosen
    qapp.setPalette(before)


def test_state_rows_are_readable(palette: QPalette, store: Store, qloop: object) -> None:
    for title, state in (("Dune", "in_library"), ("Emma", "failed")):
        book = store.add_book(Book(title, "Frank Herbert"))
        store.set_state(book, state, event=state)
    model = QueueModel(store)
    asyncio.get_event_loop().run_until_complete(model.reload())
    text = palette.color(QPalette.ColorRole.Text)
    for row in range(model.rowCount()):
        background = model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole)
        assert isinstance(background, QColor)
        assert contrast(text, background) >= MIN_CONTRAST, (row, background.name())
        state = model.index(row, STATE_COLUMN).data(Qt.ItemDataRole.ForegroundRole)
        assert contrast(state, background) >= MIN_CONTRAST, (row, state.name())


def test_library_scores_are_readable(palette: QPalette) -> None:
    base = palette.color(QPalette.ColorRole.Base)
    for percent in (LOW_SCORE - 1, GOOD_SCORE - 1, GOOD_SCORE):
        assert contrast(status_text(score_band(percent)[0]), base) >= MIN_CONTRAST


def test_notices_are_readable_and_do_not_push_the_page(palette: QPalette, qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    before = window.tabs.geometry()
    for level in ("info", "success", "error"):
        frame = window.notices.show_notice(f"A {level} notice", level)
        label = frame.findChild(QLabel)
        assert label is not None
        qtbot.waitUntil(lambda frame=frame: frame.isVisible())
        image = frame.grab().toImage()
        background = image.pixelColor(image.width() // 2, image.height() - 3)
        assert contrast(label.palette().color(QPalette.ColorRole.WindowText), background) >= (
            MIN_CONTRAST
        ), (level, background.name())
    QApplication.processEvents()
    # the page still fills the whole central area: the notices take no room from it
    # (the status bar below may settle by a pixel or two on its own)
    assert window.tabs.geometry() == window.centralWidget().rect()
    assert window.tabs.geometry().top() == before.top()
    notices = window.notices.geometry()
    assert notices.height() > 0 and notices.bottom() <= window.centralWidget().height()
    assert window.notices.isVisible()


def test_status_labels_are_readable_on_the_window(palette: QPalette, qtbot: QtBot) -> None:
    """Test results, errors and the doctor's verdicts: text on the window's colour."""
    window = palette.color(QPalette.ColorRole.Window)
    label = ResultLabel()
    qtbot.addWidget(label)
    for ok, caveat in ((True, False), (True, True), (False, False)):
        label.show_result(ok, "result", caveat=caveat)
        found = re.search(r"color:\s*(#[0-9a-f]{6})", label.styleSheet())
        assert found is not None
        assert contrast(QColor(found.group(1)), window) >= MIN_CONTRAST, label.styleSheet()
