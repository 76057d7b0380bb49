"""The book details dialog: the metadata review (edits come out cleaned, the score follows
the edits, invalid metadata cannot be written, the user's decision is forwarded) and the
read-only summary of a book without a review."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from gui.core.metadata import WEIGHTS, BookMetadata, completeness, metadata_to_json
from gui.models.queue import REVIEW_COLOURS
from gui.store import Book, Review, Store
from gui.views.book_details import BookDetailsDialog

REVIEW_REASON = (
    "metadata waits for your review: a 78% match from Audible (42% -> 94%); "
    "open the book to check it"
)


def image(colour: str, size: int, fmt: str = "PNG") -> bytes:
    picture = QImage(size, size, QImage.Format.Format_RGB32)
    picture.fill(QColor(colour))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert picture.save(buffer, fmt)
    return bytes(data.data())


KNOWN_COVER = image("#333333", 60)
PROPOSED_COVER = image("#e8a33d", 90, "JPG")

KNOWN = BookMetadata(
    title="Project Hail Mary",
    authors=("Andy Weir",),
    cover=KNOWN_COVER,
    cover_mime="image/png",
)
PROPOSAL = BookMetadata(
    title="Project Hail Mary",
    authors=("Andy Weir",),
    narrators=("Ray Porter",),
    year=2021,
    publisher="Audible Studios",
    language="English",
    genres=("Science Fiction", "Space Opera"),
    asin="B08G9PRS1K",
    description="Ryland Grace is the sole survivor on a desperate, last-chance mission.",
    cover=PROPOSED_COVER,
    cover_mime="image/jpeg",
    duration=58_320.0,
)


def waiting_book(store: Store) -> Book:
    book = store.add_book(Book("Project Hail Mary", "Andy Weir"))
    store.set_state(book, "importing", reason=REVIEW_REASON)
    return book


def review_of(book: Book, known: BookMetadata = KNOWN, proposal: BookMetadata = PROPOSAL) -> Review:
    assert book.id is not None
    return Review(
        book_id=book.id,
        torrent_hash="a" * 40,
        before=metadata_to_json(known),
        proposal=metadata_to_json(proposal),
        provider="Audible",
        confidence=0.78,
        before_cover=known.cover,
        proposal_cover=proposal.cover,
    )


def opened(qtbot: QtBot, book: Book, review: Review | None) -> BookDetailsDialog:
    dialog = BookDetailsDialog(book, review)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def type_into(dialog: BookDetailsDialog, name: str, text: str) -> None:
    editor = dialog.rows[name].editor
    if isinstance(editor, QPlainTextEdit):
        editor.setPlainText(text)
    else:
        editor.selectAll()
        editor.insert(text)  # as typing does: through the validator, textChanged emitted


def test_the_edited_proposal_comes_out_cleaned_with_the_chosen_cover(
    store: Store, qtbot: QtBot
) -> None:
    book = waiting_book(store)
    dialog = opened(qtbot, book, review_of(book))
    assert dialog.match_label.text() == "Metadata found: Audible, 78% match"
    assert dialog.state_label.text() == "Review metadata"
    assert REVIEW_COLOURS[0] in dialog.state_label.styleSheet()
    assert dialog.reason_label.text() == REVIEW_REASON
    # the proposal fills the editable column, what was known the read-only one
    assert dialog.rows["narrators"].text() == "Ray Porter"
    assert dialog.rows["genres"].text() == "Science Fiction, Space Opera"
    assert dialog.rows["narrators"].known.text() == ""  # type: ignore[union-attr]
    assert dialog.rows["narrators"].known.isReadOnly()
    assert dialog.rows["narrators"].mark.text() == "added"
    assert dialog.rows["title"].mark.text() == ""
    assert dialog.use_proposed_cover is not None and dialog.use_proposed_cover.isChecked()

    applied: list[tuple[int, BookMetadata]] = []
    dialog.apply_requested.connect(lambda book_id, meta: applied.append((book_id, meta)))
    type_into(dialog, "authors", " Andy Weir ,  Ray Porter;andy weir ")
    type_into(dialog, "narrators", "Ray Porter, Wil Wheaton")
    type_into(dialog, "year", "2020")
    type_into(dialog, "asin", "b08g9prs1k ")
    type_into(dialog, "language", "en")
    type_into(dialog, "title", "  Project   Hail Mary ")
    type_into(dialog, "description", "  A lone astronaut.\n\nEarth depends on him.  ")
    assert dialog.rows["authors"].mark.text() == "changed"
    assert dialog.apply_button is not None
    dialog.apply_button.click()

    assert len(applied) == 1
    book_id, meta = applied[0]
    assert book_id == book.id
    assert isinstance(meta, BookMetadata)
    assert meta.title == "Project Hail Mary"
    assert meta.authors == ("Andy Weir", "Ray Porter")  # split, trimmed, duplicate dropped
    assert meta.narrators == ("Ray Porter", "Wil Wheaton")
    assert meta.year == 2020 and isinstance(meta.year, int)
    assert meta.asin == "B08G9PRS1K"
    assert meta.language == "English"
    assert meta.description == "A lone astronaut.\n\nEarth depends on him."
    assert meta.publisher == "Audible Studios"  # untouched fields as proposed
    assert meta.genres == ("Science Fiction", "Space Opera")
    assert meta.duration == 58_320.0  # fields outside the form kept
    assert meta.cover == PROPOSED_COVER and meta.cover_mime == "image/jpeg"
    assert meta == meta.cleaned()

    # the known cover instead: its bytes and its own type
    dialog.use_proposed_cover.setChecked(False)
    assert dialog.cover_mark.text() == ""
    dialog.apply_button.click()
    assert applied[-1][1].cover == KNOWN_COVER
    assert applied[-1][1].cover_mime == "image/png"


def test_the_score_follows_the_edits(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    dialog = opened(qtbot, book, review_of(book))
    before = completeness(KNOWN).percent
    after = completeness(PROPOSAL)
    assert dialog.before_score.percent == before
    assert dialog.after_score == after
    assert dialog.score_label.text() == f"Completeness: {before}% -> {after.percent}%"

    type_into(dialog, "narrators", "")
    lowered = dialog.after_score
    assert lowered.earned == after.earned - WEIGHTS["narrators"]
    assert lowered.percent < after.percent
    assert dialog.score_label.text() == f"Completeness: {before}% -> {lowered.percent}%"
    assert "narrator" in dialog.missing_label.text()
    assert dialog.rows["narrators"].mark.text() == ""  # known had none either

    # a series makes the position count; dropping the cover costs the cover's weight
    type_into(dialog, "series", "Hail Mary")
    assert dialog.after_score.possible == after.possible + WEIGHTS["position"]
    assert dialog.use_proposed_cover is not None
    earned = dialog.after_score.earned
    dialog.use_proposed_cover.setChecked(False)  # the known cover: still a cover
    assert dialog.after_score.earned == earned


def test_use_known_puts_the_known_value_back(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    known = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",), publisher="Ballantine")
    dialog = opened(qtbot, book, review_of(book, known=known))
    row = dialog.rows["publisher"]
    assert row.text() == "Audible Studios" and row.mark.text() == "changed"
    assert row.reset.isVisible()
    row.reset.click()
    assert row.text() == "Ballantine"
    assert row.mark.text() == "" and not row.reset.isVisible()
    type_into(dialog, "publisher", "")
    assert row.mark.text() == "removed"


def test_no_title_or_author_or_a_bad_year_cannot_be_written(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    dialog = opened(qtbot, book, review_of(book))
    applied: list[object] = []
    dialog.apply_requested.connect(lambda *args: applied.append(args))
    assert dialog.apply_button is not None and dialog.apply_button.isEnabled()
    assert dialog.problem_label.text() == ""

    type_into(dialog, "title", "   ")
    assert not dialog.apply_button.isEnabled()
    assert dialog.problem_label.text() == "A title is needed."
    dialog.apply_button.click()  # a disabled button does nothing
    assert not applied
    type_into(dialog, "title", "Project Hail Mary")
    assert dialog.apply_button.isEnabled()

    type_into(dialog, "authors", " , ")
    assert not dialog.apply_button.isEnabled()
    assert dialog.problem_label.text() == "At least one author is needed."
    type_into(dialog, "authors", "Andy Weir")

    type_into(dialog, "year", "21")
    assert not dialog.apply_button.isEnabled()
    assert "four digits" in dialog.problem_label.text()
    type_into(dialog, "year", "2021x")  # the validator refuses letters
    year = dialog.rows["year"].editor
    assert isinstance(year, QLineEdit) and year.text() == "21"
    type_into(dialog, "year", "")  # no year is fine
    assert dialog.apply_button.isEnabled()
    dialog.apply_button.click()
    assert len(applied) == 1


def test_keep_known_and_the_outcome_reported_back(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    dialog = opened(qtbot, book, review_of(book))
    kept: list[int] = []
    dialog.keep_requested.connect(kept.append)
    assert dialog.keep_button is not None and dialog.apply_button is not None
    dialog.keep_button.click()
    assert kept == [book.id]

    dialog.set_busy(True)
    assert not dialog.apply_button.isEnabled() and not dialog.keep_button.isEnabled()
    assert dialog.rows["title"].editor.isReadOnly()
    assert dialog.message.isVisible() and "Importing" in dialog.message.text()
    dialog.show_result(False, "import failed: the library folder is read-only")
    assert dialog.apply_button.isEnabled() and dialog.keep_button.isEnabled()
    assert not dialog.rows["title"].editor.isReadOnly()
    assert dialog.message.text() == "import failed: the library folder is read-only"

    dialog.set_busy(True)
    dialog.show_result(True, "imported into /audiobooks/Andy Weir/Project Hail Mary")
    assert not dialog.apply_button.isEnabled() and not dialog.keep_button.isEnabled()
    assert dialog.rows["title"].editor.isReadOnly()
    assert dialog.message.text().startswith("imported into")


def test_without_a_proposed_cover_the_known_one_stays(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    proposal = BookMetadata(title="Project Hail Mary", authors=("Andy Weir",), year=2021)
    dialog = opened(qtbot, book, review_of(book, proposal=proposal))
    assert dialog.use_proposed_cover is not None
    assert not dialog.use_proposed_cover.isChecked()
    assert not dialog.use_proposed_cover.isEnabled()
    assert dialog.edited_metadata().cover == KNOWN_COVER
    assert dialog.proposed_cover.text() == "No cover"
    assert dialog.known_cover.pixmap() is not None and not dialog.known_cover.pixmap().isNull()


def test_a_book_without_a_review_is_summarised_read_only(store: Store, qtbot: QtBot) -> None:
    book = store.add_book(Book("Frankenstein", "Mary Shelley", narrator="Dan Stevens"))
    book.library_path = "/audiobooks/Mary Shelley/Frankenstein"
    book.abs_item_id = "li_8f2k1x9q0w3e"
    book.score_before, book.score_after = 62, 94
    book.asin = "B00F6QEHGS"
    book.torrent_hash = "3f" * 20
    store.update_book(book)
    store.set_state(book, "in_library", event="imported")
    dialog = opened(qtbot, book, None)

    assert dialog.windowTitle() == "Details: Frankenstein"
    assert dialog.state_label.text() == "In library"
    assert dialog.summary["library_path"] == "/audiobooks/Mary Shelley/Frankenstein"
    assert dialog.summary["abs_item_id"] == "li_8f2k1x9q0w3e"
    assert dialog.summary["score"] == "62% -> 94%"
    assert dialog.summary["asin"] == "B00F6QEHGS"
    assert dialog.summary["isbn"] == "–"
    assert dialog.rows == {} and dialog.apply_button is None and dialog.keep_button is None
    assert not dialog.findChildren(QLineEdit) and not dialog.findChildren(QPlainTextEdit)
    history: list[int] = []
    dialog.history_requested.connect(history.append)
    assert dialog.history_button is not None
    dialog.history_button.click()
    assert history == [book.id]


def test_an_unreadable_review_falls_back_to_the_summary(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    review = review_of(book)
    review.proposal = "[not an object]"
    dialog = opened(qtbot, book, review)
    assert dialog.rows == {} and dialog.apply_button is None
    assert "could not be read" in dialog.message.text()
    assert dialog.state_label.text() == "Review metadata"


def test_the_dialog_is_not_modal(store: Store, qtbot: QtBot) -> None:
    book = waiting_book(store)
    dialog = opened(qtbot, book, review_of(book))
    assert not dialog.isModal()
    assert dialog.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)


def test_a_held_recording_says_why_and_not_a_match(store: Store, qtbot: QtBot) -> None:
    from dataclasses import replace

    from gui.core.recording import RECORDING_CHECK

    book = store.add_book(Book("Project Hail Mary", "Andy Weir", duration=58_320.0))
    reason = (
        "not the wanted recording? the audio plays 5.0 h, the wanted edition runs 16.2 h "
        "(31%): an abridged or partial recording; open the book to import it anyway, "
        "or search again for another release"
    )
    store.set_state(book, "importing", reason=reason)
    held = replace(review_of(book, KNOWN, KNOWN), provider=RECORDING_CHECK, confidence=0.0)
    dialog = opened(qtbot, book, held)
    assert dialog.reason_label.text() == reason
    assert dialog.match_label.text().startswith("The recording does not look like the wanted")
    assert "match" not in dialog.match_label.text()
