"""User-facing words (issue 12, defect 13): counts agree with their noun, settings are
named by the page that holds them, and no API path stands in for what failed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gui.clients.errors import SessionLostError, plain_endpoint
from gui.core.formatting import counted

GUI = Path(__file__).resolve().parents[2] / "gui"
#: "Settings → X" in Earmark's own words (the clients also name other apps' settings).
OWN_SETTINGS = ("services", "views", "controller.py", "library_controller.py", "cli.py")


def test_counts_agree_with_their_noun() -> None:
    assert counted(1, "result") == "1 result"
    assert counted(0, "result") == "0 results"
    assert counted(2, "indexer failure") == "2 indexer failures"


def test_errors_say_what_failed_not_the_api_path() -> None:
    error = SessionLostError(
        "the session was not kept",
        service="qBittorrent",
        url="http://nas:8080/",
        endpoint="sync/maindata",
        status=403,
        answer="Forbidden",
    )
    assert "endpoint" not in str(error) and "maindata" not in str(error)
    assert "the list of torrents answered HTTP 403 'Forbidden'" in str(error)
    assert plain_endpoint("torrents/setShareLimits") == "the request torrents/setShareLimits"


def _sources() -> list[Path]:
    found: list[Path] = []
    for name in OWN_SETTINGS:
        path = GUI / name
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_settings_are_named_by_their_page(path: Path) -> None:
    from gui.views.settings_dialog import PAGES

    pages = {title for _key, title in PAGES}
    text = path.read_text(encoding="utf-8")
    for name in re.findall(r"Settings → ([A-Za-z]+)", text):
        assert name in pages, f"{path.name}: 'Settings → {name}' names no settings page"
    assert "added before a restart" not in text
    assert not re.search(r"\{len\([^)]*\)\} (results|releases|files)\b", text)
