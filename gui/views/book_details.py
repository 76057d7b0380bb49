"""One book of the wanted queue in detail, and the review of metadata found for it.

When an import matched a catalogue record below the confidence threshold, nothing was
copied: the workflow keeps the book "importing" and stores a `Review` (what was known,
what the provider proposes). This dialog shows both side by side, lets the user correct
the proposal, and forwards the decision as a signal; the controller runs the import
(`workflow.finish_review`) and reports back through `set_busy` / `show_result`. The
completeness score follows the edits as they are typed, so the user sees what a change
is worth before writing it into the files.

Any other book gets a read-only summary: where it went, what its metadata scored.
Everything is shown as plain text: titles and descriptions come from strangers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPalette,
    QPixmap,
    QRegularExpressionValidator,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.metadata import (
    BookMetadata,
    Score,
    completeness,
    diff,
    display_value,
    metadata_from_json,
)
from gui.core.recording import RECORDING_CHECK
from gui.models.library import thumbnail
from gui.models.palette import BAD, GOOD, WARN
from gui.models.queue import state_colours, state_words
from gui.models.themed import on_window
from gui.store import Book, Review
from gui.views.notices import level_style

__all__ = ["FORM_FIELDS", "BookDetailsDialog"]

#: (field, label) of each row of the review, in the order Audiobookshelf's editor shows.
FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "Title"),
    ("subtitle", "Subtitle"),
    ("authors", "Authors"),
    ("narrators", "Narrators"),
    ("series", "Series"),
    ("position", "Position"),
    ("year", "Year"),
    ("publisher", "Publisher"),
    ("language", "Language"),
    ("genres", "Genres"),
    ("isbn", "ISBN"),
    ("asin", "ASIN"),
    ("description", "Description"),
)
LIST_FIELDS = frozenset({"authors", "narrators", "genres"})
#: How a row whose proposal differs from what is known is marked (`metadata.diff` kinds).
CHANGE_COLOURS = {"added": GOOD, "changed": WARN, "removed": BAD}
PLACEHOLDERS = {
    "authors": "names separated by commas",
    "narrators": "names separated by commas",
    "genres": "separated by commas",
    "position": "e.g. 1 or 2.5",
    "year": "e.g. 2021",
    "language": "e.g. English",
    "isbn": "10 or 13 digits",
    "asin": "Audible's id, e.g. B08G9PRS1K",
}
THUMBNAIL = 128
UNKNOWN = "–"
_YEAR = re.compile(r"^[1-9]\d{3}$")
_LIST_SPLIT = re.compile(r"[,;]")


def split_list(text: str) -> tuple[str, ...]:
    """ "Ray Porter, Wil Wheaton" -> two names. Commas only: a round trip of what the
    form shows (`display_value` joins with ", ") must give the same names back."""
    return tuple(part.strip() for part in _LIST_SPLIT.split(text) if part.strip())


def _dim(label: QLabel) -> QLabel:
    """Secondary text in the palette's placeholder colour (follows a dark theme)."""
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    return label


class _Row:
    """One field of the review: the known value, the editor, the change mark, the reset."""

    def __init__(
        self, name: str, known: QLineEdit | QPlainTextEdit, editor: QLineEdit | QPlainTextEdit
    ) -> None:
        self.name = name
        self.known = known
        self.editor = editor
        self.mark = QLabel()
        self.mark.setMinimumWidth(56)
        self.reset = QToolButton()
        self.reset.setText("Use known")
        policy = self.reset.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the column keeps its width
        self.reset.setSizePolicy(policy)

    def text(self) -> str:
        if isinstance(self.editor, QPlainTextEdit):
            return self.editor.toPlainText()
        return self.editor.text()

    def set_text(self, text: str) -> None:
        if isinstance(self.editor, QPlainTextEdit):
            self.editor.setPlainText(text)
        else:
            self.editor.setText(text)


class BookDetailsDialog(QDialog):
    """Non-modal details of one book; with a `Review`, the before/after metadata editor.

    Signals carry the book's id: the controller re-reads the book, which may have moved
    on while the dialog was open.
    """

    #: Write these tags (edited, cleaned; the chosen cover) and import.
    apply_requested = Signal(int, object)  # book id, BookMetadata
    #: Import with what was known before the match (the proposal is dropped).
    keep_requested = Signal(int)  # book id
    history_requested = Signal(int)  # book id

    def __init__(
        self, book: Book, review: Review | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        if book.id is None:
            raise ValueError("only a stored book has details")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setModal(False)
        self.book = book
        self.book_id: int = book.id
        self.review = review
        self.rows: dict[str, _Row] = {}
        self.before = BookMetadata()
        self.proposal = BookMetadata()
        self.before_score = self.after_score = completeness(BookMetadata())
        self.apply_button: QPushButton | None = None
        self.keep_button: QPushButton | None = None
        self.history_button: QPushButton | None = None
        self.use_proposed_cover: QCheckBox | None = None
        self._done = False
        self._busy = False
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        self.problem_label = QLabel(self)
        self.problem_label.hide()  # shown in the review's button row
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problem_label.setStyleSheet(
            f"QLabel {{ color:{on_window(CHANGE_COLOURS['removed'])}; }}"
        )
        layout = QVBoxLayout(self)
        unreadable = ""
        if review is not None:
            try:
                self.before = metadata_from_json(review.before, review.before_cover).cleaned()
                self.proposal = metadata_from_json(review.proposal, review.proposal_cover).cleaned()
            except (ValueError, TypeError) as exc:
                unreadable = f"The metadata found could not be read ({exc})."
                self.review = None
        if self.review is not None:
            self.setWindowTitle(f"Review metadata: {book.title}")
            self._build_review(layout, self.review)
            self._fit(980, 800)
        else:
            self.setWindowTitle(f"Details: {book.title}")
            self._build_summary(layout)
            self.resize(620, 440)
            if unreadable:
                self._say(unreadable, "error")

    def _fit(self, width: int, height: int) -> None:
        """The wanted size, but never taller or wider than the screen (a laptop's 768
        pixels would hide the buttons; the fields scroll instead)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry()
            width, height = min(width, room.width() - 40), min(height, room.height() - 60)
        self.resize(width, height)

    # ---- common parts -----------------------------------------------------------------

    def _header(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.title_label = self._plain(self.book.title or "(no title)")
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setWordWrap(True)
        column.addWidget(self.title_label)
        if self.book.author:
            column.addWidget(self._plain(f"by {self.book.author}"))
        self.state_label = self._plain(state_words(self.book))
        colours = state_colours(self.book)
        style = "font-weight:bold;"
        if colours is not None:
            style += f" color:{colours[0]}; background:{colours[1]}; padding:1px 6px;"
        self.state_label.setStyleSheet(f"QLabel {{ {style} border-radius:3px; }}")
        self.state_label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        column.addWidget(self.state_label)
        self.reason_label = self._plain(self.book.reason or "")
        self.reason_label.setWordWrap(True)
        self.reason_label.setVisible(bool(self.book.reason))
        column.addWidget(self.reason_label)
        return box

    @staticmethod
    def _plain(text: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @staticmethod
    def _button(text: str, box: QDialogButtonBox, role: QDialogButtonBox.ButtonRole) -> QPushButton:
        button = box.addButton(text, role)
        # Enter in a field must not write tags: no button is the default.
        button.setAutoDefault(False)
        button.setDefault(False)
        return button

    def _say(self, text: str, level: str) -> None:
        self.message.setProperty("level", level)
        self.message.setText(text)
        self.message.setStyleSheet(
            f"QLabel {{ {level_style(level)} border-radius:4px; padding:4px 8px; }}"
        )
        self.message.setVisible(bool(text))

    # ---- read-only summary -----------------------------------------------------------

    def _build_summary(self, layout: QVBoxLayout) -> None:
        book = self.book
        layout.addWidget(self._header())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.summary: dict[str, str] = {}
        series = book.series + (f" #{book.position}" if book.position else "")
        rows = (
            ("library_path", "Library folder:", book.library_path or ""),
            ("abs_item_id", "Audiobookshelf item:", book.abs_item_id or ""),
            ("score", "Metadata score:", _score_text(book.score_before, book.score_after)),
            ("narrator", "Narrator:", book.narrator),
            ("series", "Series:", series),
            ("language", "Language:", book.language),
            ("asin", "ASIN:", book.asin),
            ("isbn", "ISBN:", book.isbn),
            ("torrent_hash", "Torrent:", book.torrent_hash or ""),
        )
        for key, label, value in rows:
            self.summary[key] = value or UNKNOWN
            field = self._plain(value or UNKNOWN)
            field.setWordWrap(True)
            form.addRow(label, field)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.history_button = self._button(
            "History…", buttons, QDialogButtonBox.ButtonRole.ActionRole
        )
        self.history_button.clicked.connect(lambda: self.history_requested.emit(self.book_id))
        close = self._button("Close", buttons, QDialogButtonBox.ButtonRole.RejectRole)
        close.clicked.connect(self.close)
        layout.addWidget(buttons)

    # ---- the review ------------------------------------------------------------------

    def _build_review(self, layout: QVBoxLayout, review: Review) -> None:
        top = QHBoxLayout()
        facts = QVBoxLayout()
        facts.addWidget(self._header())
        found = (
            "The recording does not look like the wanted edition (why: above). Import it "
            "anyway with this metadata, or close and search again for another release."
            if review.provider == RECORDING_CHECK
            else f"Metadata found: {review.provider or 'a provider'}, {review.confidence:.0%} match"
        )
        self.match_label = self._plain(found)
        facts.addWidget(self.match_label)
        self.score_label = self._plain("")
        bold = QFont(self.score_label.font())
        bold.setBold(True)
        self.score_label.setFont(bold)
        facts.addWidget(self.score_label)
        self.missing_label = _dim(self._plain(""))
        self.missing_label.setWordWrap(True)
        facts.addWidget(self.missing_label)
        facts.addStretch(1)
        top.addLayout(facts, 1)
        top.addWidget(self._covers())
        layout.addLayout(top)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        grid.setHorizontalSpacing(8)
        for column, text in ((1, "Known"), (2, "Will be written")):
            heading = QLabel(text)
            heading.setFont(bold)
            grid.addWidget(heading, 0, column)
        for line, (name, label) in enumerate(FORM_FIELDS, start=1):
            row = self._row(name)
            self.rows[name] = row
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            if name == "description":
                align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
            grid.addWidget(QLabel(f"{label}:"), line, 0, align)
            grid.addWidget(row.known, line, 1)
            grid.addWidget(row.editor, line, 2)
            grid.addWidget(row.mark, line, 3)
            grid.addWidget(row.reset, line, 4)
        fields = QWidget()
        fields.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(fields)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)

        bottom = QHBoxLayout()
        bottom.addWidget(self.problem_label, 1)
        self.problem_label.show()
        buttons = QDialogButtonBox()
        self.apply_button = self._button(
            "Write tags and import", buttons, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setToolTip("Import the book with the metadata on the right")
        self.apply_button.clicked.connect(self._apply)
        self.keep_button = self._button(
            "Keep known metadata", buttons, QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.keep_button.setToolTip("Import the book with what was known before the match")
        self.keep_button.clicked.connect(lambda: self.keep_requested.emit(self.book_id))
        close = self._button("Close", buttons, QDialogButtonBox.ButtonRole.RejectRole)
        close.setToolTip("Decide later: the book waits in the wanted queue")
        close.clicked.connect(self.close)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.before_score = completeness(self.before)
        self._update()

    def _row(self, name: str) -> _Row:
        known_text = display_value(self.before, name)
        proposed = display_value(self.proposal, name)
        known: QLineEdit | QPlainTextEdit
        editor: QLineEdit | QPlainTextEdit
        if name == "description":
            known = QPlainTextEdit(known_text)
            editor = QPlainTextEdit(proposed)
            for box in (known, editor):
                box.setFixedHeight(96)
            editor.textChanged.connect(self._update)
        else:
            known = QLineEdit(known_text)
            known.setCursorPosition(0)
            line = QLineEdit(proposed)
            line.setCursorPosition(0)
            line.setPlaceholderText(PLACEHOLDERS.get(name, ""))
            if name == "year":
                line.setValidator(
                    QRegularExpressionValidator(QRegularExpression(r"^\d{0,4}$"), line)
                )
            line.textChanged.connect(self._update)
            editor = line
        known.setReadOnly(True)
        known.setPlaceholderText("unknown")
        known.setToolTip("Known before the match (read-only)")
        palette = known.palette()
        palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
        known.setPalette(palette)
        row = _Row(name, known, editor)
        row.reset.setToolTip(f"Write the known value: {known_text or 'nothing'}")
        row.reset.clicked.connect(lambda: row.set_text(known_text))
        return row

    def _covers(self) -> QGroupBox:
        box = QGroupBox("Cover")
        grid = QGridLayout(box)
        self.known_cover = _thumbnail(self.before.cover)
        self.proposed_cover = _thumbnail(self.proposal.cover)
        grid.addWidget(QLabel("Known"), 0, 0, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(QLabel("Proposed"), 0, 1, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(self.known_cover, 1, 0)
        grid.addWidget(self.proposed_cover, 1, 1)
        for column, meta in ((0, self.before), (1, self.proposal)):
            caption = _dim(QLabel(_cover_caption(meta)))
            grid.addWidget(caption, 2, column, Qt.AlignmentFlag.AlignHCenter)
        self.use_proposed_cover = QCheckBox("Use the proposed cover")
        has_proposal = self.proposal.cover is not None
        self.use_proposed_cover.setChecked(has_proposal)
        self.use_proposed_cover.setEnabled(has_proposal)
        if not has_proposal:
            self.use_proposed_cover.setToolTip("The provider has no cover for this book")
        self.use_proposed_cover.toggled.connect(self._update)
        grid.addWidget(self.use_proposed_cover, 3, 0, 1, 2)
        self.cover_mark = QLabel()
        grid.addWidget(self.cover_mark, 4, 0, 1, 2, Qt.AlignmentFlag.AlignHCenter)
        return box

    # ---- reading the form ------------------------------------------------------------

    def edited_metadata(self) -> BookMetadata:
        """The proposal as edited (fields outside the form, e.g. the duration, kept)."""
        if self.review is None:
            return self.before
        values: dict[str, Any] = {}
        for name, row in self.rows.items():
            text = row.text()
            if name in LIST_FIELDS:
                values[name] = split_list(text)
            elif name == "year":
                values[name] = int(text) if _YEAR.match(text.strip()) else None
            else:
                values[name] = text
        chosen = self.proposal
        if self.use_proposed_cover is None or not self.use_proposed_cover.isChecked():
            chosen = self.before
        values["cover"] = chosen.cover
        values["cover_mime"] = chosen.cover_mime if chosen.cover else ""
        return replace(self.proposal, **values).cleaned()

    def problem(self) -> str:
        """Why the tags cannot be written as they stand ("" when they can)."""
        if not self.rows:
            return ""
        if not self.rows["title"].text().strip():
            return "A title is needed."
        if not split_list(self.rows["authors"].text()):
            return "At least one author is needed."
        year = self.rows["year"].text().strip()
        if year and not _YEAR.match(year):
            return "The year is four digits, such as 2021."
        return ""

    def _update(self) -> None:
        edited = self.edited_metadata()
        kinds = {change.field: change.kind for change in diff(self.before, edited)}
        for name, row in self.rows.items():
            kind = kinds.get(name, "")
            _mark(row.mark, kind)
            row.reset.setVisible(bool(kind) and not self._done)
        cover_kind = kinds.get("cover", "")
        _mark(self.cover_mark, cover_kind)
        if cover_kind:
            self.cover_mark.setText(f"cover {cover_kind}")
        self.after_score = completeness(edited)
        self.score_label.setText(
            f"Completeness: {self.before_score.percent}% -> {self.after_score.percent}%"
        )
        self.missing_label.setText(_missing_text(self.after_score))
        problem = self.problem()
        self.problem_label.setText(problem)
        if self.apply_button is not None:
            self.apply_button.setEnabled(not problem and not self._done and not self._busy)
            self.apply_button.setToolTip(
                problem or "Import the book with the metadata on the right"
            )

    def _apply(self) -> None:
        if self.problem():
            return
        self.apply_requested.emit(self.book_id, self.edited_metadata())

    # ---- what the controller reports -------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        """While the import runs: nothing to click twice, the fields frozen."""
        self._busy = busy
        frozen = busy or self._done
        for row in self.rows.values():
            row.editor.setReadOnly(frozen)
            row.reset.setEnabled(not frozen)
        if self.use_proposed_cover is not None:
            has_proposal = self.proposal.cover is not None
            self.use_proposed_cover.setEnabled(has_proposal and not frozen)
        for button in (self.keep_button, self.history_button):
            if button is not None:
                button.setEnabled(not frozen)
        if self.apply_button is not None:
            self.apply_button.setEnabled(not frozen and not self.problem())
        if busy:
            self._say("Importing… the files are being copied and tagged.", "info")
        elif self.message.property("level") == "info":
            self._say("", "info")

    def show_result(self, ok: bool, text: str) -> None:
        """The import's outcome: done (the review is over) or failed (try again)."""
        if ok and self.review is not None:
            self._done = True
            for row in self.rows.values():
                row.reset.setVisible(False)
        self.set_busy(False)
        self._say(text, "success" if ok else "error")


def _score_text(before: int | None, after: int | None) -> str:
    if before is not None and after is not None:
        return f"{before}% -> {after}%"
    if after is not None:
        return f"{after}%"
    if before is not None:
        return f"{before}%"
    return ""


def _missing_text(score: Score) -> str:
    if not score.missing:
        return "Nothing the score counts is missing."
    return "Missing: " + ", ".join(score.missing)


def _mark(label: QLabel, kind: str) -> None:
    label.setText(kind)
    colour = CHANGE_COLOURS.get(kind)
    label.setStyleSheet(f"QLabel {{ color:{on_window(colour)}; }}" if colour else "")


def _cover_caption(meta: BookMetadata) -> str:
    if meta.cover is None:
        return "none"
    pixmap = QPixmap()
    if not pixmap.loadFromData(meta.cover):
        return "not an image"
    return f"{pixmap.width()}×{pixmap.height()}, {display_value(meta, 'cover')}"


def _thumbnail(data: bytes | None) -> QLabel:
    label = QLabel()
    label.setFixedSize(THUMBNAIL, THUMBNAIL)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setFrameShape(QFrame.Shape.StyledPanel)
    pixmap = thumbnail(data, THUMBNAIL - 4, ratio=label.devicePixelRatioF()) if data else None
    if pixmap is not None:
        label.setPixmap(pixmap)
    else:
        label.setText("No cover" if not data else "Unreadable")
    return label
