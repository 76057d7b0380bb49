"""The main window. For now a frame: the views of the next milestones dock into it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from gui import __version__


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Earmark {__version__}")
        self.resize(1100, 700)
        tabs = QTabWidget(self)
        for name in ("Wanted", "Downloads"):
            placeholder = QLabel(f"{name}: nothing here yet")
            placeholder.setObjectName(f"placeholder-{name.lower()}")
            tabs.addTab(placeholder, name)
        self.setCentralWidget(tabs)
        self.statusBar().showMessage("Not connected")
