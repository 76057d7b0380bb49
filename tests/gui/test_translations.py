"""User strings go through Qt's translation machinery, and the template is current.

A German .qm is built here with pyside6-lrelease from a few translated messages; once
installed, the panels show them (they would stay English were the strings not passed
through tr()/translate()).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.clients.maindata import MaindataMirror
from gui.i18n import install_translator
from gui.models.downloads import DownloadsModel
from gui.views.downloads_view import DownloadsView
from gui.views.filter_panel import STATUS
from gui.views.icons import resources_dir

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = resources_dir() / "translations" / "earmark.ts"


def tool(name: str) -> str:
    # A venv has its console scripts beside its python; a Windows install without a venv
    # (CI's setup-python, an embeddable build) keeps them in Scripts\.
    folders = os.pathsep.join([str(Path(sys.executable).parent), sysconfig.get_path("scripts")])
    found = shutil.which(name, path=folders)
    assert found, f"{name} is installed with PySide6"
    return found


def gui_sources() -> list[str]:
    """gui/'s Python files as `make translations` lists them: the files themselves, not
    git's list (CI may test an exported tree, a wine prefix has no git)."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "gui").rglob("*.py"))


GERMAN = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context><name>PropertiesPanel</name>
<message><source>Files</source><translation>Dateien</translation></message>
<message><source>No torrent selected</source>
<translation>Kein Torrent gewählt</translation></message>
</context>
<context><name>FilterPanel</name>
<message><source>Stalled</source><translation>Blockiert</translation></message>
</context>
<context><name>DownloadsView</name>
<message><source>Force recheck</source><translation>Erneut prüfen</translation></message>
</context>
</TS>
"""


def test_an_installed_translation_reaches_the_panels(
    qapp: QApplication, qtbot: QtBot, tmp_path: Path
) -> None:
    (tmp_path / "earmark_de.ts").write_text(GERMAN, encoding="utf-8")
    subprocess.run(
        [tool("pyside6-lrelease"), str(tmp_path / "earmark_de.ts")], check=True, timeout=60
    )
    translator = install_translator(qapp, tmp_path, QLocale(QLocale.Language.German))
    assert translator is not None
    try:
        view = DownloadsView(DownloadsModel(MaindataMirror()))
        qtbot.addWidget(view)
        titles = [view.properties.tabs.tabText(i) for i in range(view.properties.tabs.count())]
        assert "Dateien" in titles
        assert view.properties.title.text() == "Kein Torrent gewählt"
        assert any(text.startswith("Blockiert (") for text in view.side.text_of(STATUS))
        assert view.recheck_action.text() == "Erneut prüfen"
    finally:
        qapp.removeTranslator(translator)
    assert install_translator(qapp, tmp_path, QLocale(QLocale.Language.Japanese)) is None


def sources(ts: Path) -> set[tuple[str, str]]:
    tree = ElementTree.parse(ts)
    return {
        (context.findtext("name") or "", message.findtext("source") or "")
        for context in tree.getroot().iter("context")
        for message in context.iter("message")
    }


def test_the_translators_template_is_current(tmp_path: Path) -> None:
    """`make translations` was run after the last user string changed."""
    files = gui_sources()
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [tool("pyside6-lupdate"), "-no-obsolete", *files, "-ts", str(fresh)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sources(fresh) == sources(TEMPLATE)
    assert ("FilesTreeModel", "Do not download") in sources(TEMPLATE)


GERMAN_WINDOW = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context><name>MainWindow</name>
<message><source>Downloads</source><translation>Übertragungen</translation></message>
<message><source>Connected</source><translation>Verbunden</translation></message>
<message><source>Not configured</source><translation>Nicht eingerichtet</translation></message>
<message><source>{dot} qBittorrent: {state}</source>
<translation>{dot} qBittorrent: {state}</translation></message>
<message><source>Limits…</source><translation>Grenzen…</translation></message>
</context>
<context><name>Menus</name>
<message><source>&amp;File</source><translation>&amp;Datei</translation></message>
<message><source>&amp;Quit</source><translation>&amp;Beenden</translation></message>
</context>
<context><name>SettingsDialog</name>
<message><source>Earmark settings</source><translation>Earmark-Einstellungen</translation></message>
<message><source>Indexers</source><translation>Indexer</translation></message>
</context>
<context><name>DoctorWizard</name>
<message><source>Cannot reach qBittorrent</source>
<translation>qBittorrent ist nicht erreichbar</translation></message>
</context>
</TS>
"""


def test_the_window_menus_settings_and_doctor_are_translated(
    qapp: QApplication, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: every user string of the window, menus, toolbar, status bar, settings
    dialog and doctor goes through the translator (they stayed English before)."""
    from gui.views.doctor_wizard import verdict_words
    from gui.views.main_window import DOWNLOADS_TAB, MainWindow
    from gui.views.settings_dialog import SettingsDialog

    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path / "profile"))
    (tmp_path / "earmark_de.ts").write_text(GERMAN_WINDOW, encoding="utf-8")
    subprocess.run(
        [tool("pyside6-lrelease"), str(tmp_path / "earmark_de.ts")], check=True, timeout=60
    )
    translator = install_translator(qapp, tmp_path, QLocale(QLocale.Language.German))
    assert translator is not None
    try:
        window = MainWindow()
        qtbot.addWidget(window)
        assert window.tabs.tabText(DOWNLOADS_TAB) == "Übertragungen"
        assert window.menus["file"].title() == "&Datei"  # the key stays the English name
        assert window.actions_by_name["quit"].text() == "&Beenden"
        assert "Nicht eingerichtet" in window.link_label.text()
        assert window.limits_button.text() == "Grenzen…"
        dialog = SettingsDialog()
        qtbot.addWidget(dialog)
        assert dialog.windowTitle() == "Earmark-Einstellungen"
        assert "Indexer" in [dialog.pages.item(i).text() for i in range(dialog.pages.count())]
        assert verdict_words("unreachable") == "qBittorrent ist nicht erreichbar"
    finally:
        qapp.removeTranslator(translator)
