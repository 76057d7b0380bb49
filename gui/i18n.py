"""Qt's translation machinery for Earmark's user strings (no widgets: models use it too).

Strings shown by a QObject go through `self.tr("…")`; others through
`QCoreApplication.translate("Context", "…")`; constants defined before any translator is
installed are marked with `QT_TRANSLATE_NOOP("Context", "…")` and translated where shown.
`pyside6-lupdate` finds all three and writes the template `resources/translations/earmark.ts`
(`make translations`); `install_translator` loads `earmark_<locale>.qm` when one exists.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

TEMPLATE = "earmark.ts"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark `text` for the translator; it is translated later, where it is shown."""
    return text


def install_translator(
    app: QCoreApplication, directory: Path, locale: QLocale | None = None
) -> QTranslator | None:
    """Load the user's language (earmark_de.qm, earmark_pt_BR.qm, …) from `directory`
    (resources/translations) if it is shipped there."""
    translator = QTranslator(app)
    if translator.load(locale or QLocale(), "earmark", "_", str(directory)):
        app.installTranslator(translator)
        return translator
    return None
