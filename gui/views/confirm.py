"""A non-modal question with one action button (qasync forbids nested `exec()` loops in
tasks): the answer runs `on_yes`; Cancel, Escape or closing does nothing."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def ask(
    parent: QWidget,
    title: str,
    text: str,
    informative: str,
    yes_text: str,
    on_yes: Callable[[], object],
    *,
    name: str = "",
) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)  # titles of books and torrents are not markup
    box.setText(text)
    box.setInformativeText(informative)
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def chosen(button: QAbstractButton) -> None:
        if button is yes:
            on_yes()

    box.buttonClicked.connect(chosen)
    box.show()
    return box
