"""One Audiobookshelf book: every field the index holds, how complete it is, and a way to
ask Audiobookshelf to match it against a metadata provider.

The dialog shows what it is given and forwards the user's wish: the cover arrives later
(`set_cover`, fetched by the controller), the match is the controller's
(`match_requested`, then `set_busy`, `show_result` and `set_book` with the new fields).
Every text from the server is shown as plain text: a description is not ours to render.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.models.library import (
    book_score,
    hours_minutes,
    missing_gains,
    people,
    score_band,
    thumbnail,
)
from gui.models.palette import BAD, GOOD
from gui.models.themed import on_window
from gui.store import OwnedBook

#: Audiobookshelf's metadata providers and their names, in the order its own match dialog
#: lists them (also the settings' choice of a provider to match with after an import).
PROVIDER_NAMES = {
    "audible": "Audible.com",
    "audible.uk": "Audible.co.uk",
    "audible.ca": "Audible.ca",
    "audible.au": "Audible.com.au",
    "audible.de": "Audible.de",
    "audible.fr": "Audible.fr",
    "google": "Google Books",
    "openlibrary": "Open Library",
    "itunes": "iTunes",
    "audiobookcovers": "AudiobookCovers.com",
}
PROVIDERS: tuple[str, ...] = tuple(PROVIDER_NAMES)
COVER_SIDE = 180
UNKNOWN = "–"
MATCH_TEXT = "Ask Audiobookshelf to match"

#: (key, label) of each row of the form, in the order Audiobookshelf's details show them.
FIELD_ROWS = (
    ("title", "Title:"),
    ("subtitle", "Subtitle:"),
    ("authors", "Authors:"),
    ("narrators", "Narrators:"),
    ("series", "Series:"),
    ("year", "Year:"),
    ("publisher", "Publisher:"),
    ("language", "Language:"),
    ("genres", "Genres:"),
    ("isbn", "ISBN:"),
    ("asin", "ASIN:"),
    ("duration", "Duration:"),
    ("path", "Folder:"),
)


def field_texts(book: OwnedBook) -> dict[str, str]:
    """The text of every form row ("" when Audiobookshelf does not know the field)."""
    series = book.series
    if series and book.sequence:
        series = f"{series}, book {book.sequence}"
    duration = hours_minutes(book.duration)
    return {
        "title": book.title,
        "subtitle": book.subtitle,
        "authors": people(book.authors),
        "narrators": people(book.narrators),
        "series": series,
        "year": book.year,
        "publisher": book.publisher,
        "language": book.language,
        "genres": people(book.genres),
        "isbn": book.isbn,
        "asin": book.asin,
        "duration": f"{duration} (h:mm)" if duration else "",
        "path": book.path,
    }


class OwnedDetailsDialog(QDialog):
    """Non-modal: the app's loop keeps running, and several books can be open at once."""

    #: (Audiobookshelf item id, provider) — "match this book with this provider".
    match_requested = Signal(str, str)

    def __init__(
        self, book: OwnedBook, parent: QWidget | None = None, *, provider: str = "audible"
    ) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setObjectName("owned-details")
        self.resize(760, 640)
        self.book = book

        self.cover = QLabel()
        self.cover.setObjectName("owned-details-cover")
        self.cover.setFixedSize(QSize(COVER_SIDE, COVER_SIDE))
        self.cover.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover.setFrameShape(QFrame.Shape.StyledPanel)
        self.cover.setStyleSheet("color:#78909c; background:#eceff1")
        self.cover.setWordWrap(True)

        self.score_bar = QProgressBar()
        self.score_bar.setObjectName("owned-details-score")
        self.score_bar.setRange(0, 100)
        self.score_bar.setFormat("%p% complete")
        self.score_bar.setFixedWidth(COVER_SIDE)
        self.missing = QLabel()
        self.missing.setObjectName("owned-details-missing")
        self.missing.setTextFormat(Qt.TextFormat.PlainText)
        self.missing.setWordWrap(True)
        self.missing.setFixedWidth(COVER_SIDE)
        self.missing.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        left = QVBoxLayout()
        left.addWidget(self.cover)
        left.addWidget(self.score_bar)
        left.addWidget(self.missing)
        left.addStretch(1)

        self.values: dict[str, QLabel] = {}
        fields = QGroupBox("Audiobookshelf has")
        form = QFormLayout(fields)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        # Word-wrapped labels keep their narrow size hint unless every field may grow.
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label in FIELD_ROWS:
            value = QLabel()
            value.setObjectName(f"owned-{key}")
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.values[key] = value
            form.addRow(label, value)
        self.description = QPlainTextEdit()
        self.description.setObjectName("owned-description")
        self.description.setReadOnly(True)
        self.description.setPlaceholderText("No description")
        right = QVBoxLayout()
        right.addWidget(fields)
        right.addWidget(QLabel("Description:"))
        right.addWidget(self.description, 1)

        top = QHBoxLayout()
        top.addLayout(left)
        top.addLayout(right, 1)

        self.provider = QComboBox()
        self.provider.setObjectName("owned-provider")
        for name, label in PROVIDER_NAMES.items():
            self.provider.addItem(label, name)
        self.provider.setCurrentIndex(max(0, self.provider.findData(provider)))
        self.match_button = QPushButton(MATCH_TEXT)
        self.match_button.setObjectName("owned-match")
        self.match_button.setToolTip(
            "Audiobookshelf searches the provider for this book and, when it finds it, "
            "fills in what it is missing (as its own Match button does)"
        )
        self.match_button.clicked.connect(self._match)
        self.match_result = QLabel()
        self.match_result.setObjectName("owned-match-result")
        self.match_result.setTextFormat(Qt.TextFormat.PlainText)
        self.match_result.setWordWrap(True)
        self.match_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.match_result.hide()
        match = QGroupBox("Improve the metadata")
        match_layout = QVBoxLayout(match)
        row = QHBoxLayout()
        row.addWidget(QLabel("Provider:"))
        row.addWidget(self.provider)
        row.addWidget(self.match_button)
        row.addStretch(1)
        match_layout.addLayout(row)
        match_layout.addWidget(self.match_result)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(match)
        layout.addWidget(buttons)

        self.set_book(book)
        self.set_cover(None, loading=book.has_cover)

    @property
    def abs_item_id(self) -> str:
        return self.book.abs_item_id

    @property
    def chosen_provider(self) -> str:
        return str(self.provider.currentData())

    # ---- what the controller tells -----------------------------------------------------

    def set_book(self, book: OwnedBook) -> None:
        """Show `book` (the same item, read again after a match changed it)."""
        had_cover = self.book.has_cover
        self.book = book
        self.setWindowTitle(f"Book details — {book.title}" if book.title else "Book details")
        for key, text in field_texts(book).items():
            label = self.values[key]
            label.setText(text or UNKNOWN)
            label.setStyleSheet("" if text else "color:#999")
        self.description.setPlainText(book.description)
        score = book_score(book)
        self.score_bar.setValue(score.percent)
        self.score_bar.setStyleSheet(
            "QProgressBar { border:1px solid #b0bec5; border-radius:3px; background:#eceff1;"
            " text-align:center; color:#212121; }"
            f" QProgressBar::chunk {{ background:{score_band(score.percent)[1]}; }}"
        )
        self.score_bar.setToolTip(f"{score.earned} of {score.possible} points")
        gains = missing_gains(book)
        if gains:
            lines = [f"{gain.label}   +{gain.points}%" for gain in gains]
            self.missing.setText(
                "Missing (each would add):\n" + "\n".join(f"• {line}" for line in lines)
            )
            self.missing.setToolTip(
                "What the completeness would rise by with each field filled in\n"
                + "\n".join(f"{g.label}: worth {g.weight} of 100 points" for g in gains)
            )
        else:
            self.missing.setText("Nothing missing.")
            self.missing.setToolTip("")
        if had_cover and not book.has_cover:
            self.set_cover(None)

    def set_cover(self, image: bytes | None, *, loading: bool = False) -> None:
        """The cover image (None: there is none, or `loading` it still comes)."""
        original = QImage.fromData(image) if image else QImage()
        scaled = thumbnail(original, COVER_SIDE, ratio=self.devicePixelRatioF())
        if scaled is not None:
            self.cover.setPixmap(scaled)
            self.cover.setToolTip(f"{original.width()} × {original.height()} px")
            return
        self.cover.setPixmap(QPixmap())
        self.cover.setText("Loading cover…" if loading else "No cover")
        self.cover.setToolTip("")

    def set_busy(self, busy: bool) -> None:
        """While Audiobookshelf matches, a second click would only start a second match."""
        self.match_button.setEnabled(not busy)
        self.provider.setEnabled(not busy)
        self.match_button.setText("Matching…" if busy else MATCH_TEXT)
        if busy:
            self.match_result.hide()

    def show_result(self, ok: bool, text: str) -> None:
        self.match_result.setText(text)
        self.match_result.setStyleSheet(f"color:{on_window(GOOD if ok else BAD)}")
        self.match_result.show()

    # ---- intents ----------------------------------------------------------------------

    def _match(self) -> None:
        self.match_requested.emit(self.book.abs_item_id, self.chosen_provider)
