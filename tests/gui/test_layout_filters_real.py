"""The Downloads page's side-panel filters survive a restart (issue 12, defect 9).

The category, tag and tracker entries only exist once qBittorrent has answered, after
the layout is restored: the restored choice must wait for its entry, not fall back to
"All". Against a real qbittorrent-nox, two sessions on one profile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gui.core.torrent_states import StateGroup
from gui.core.torrents import parse_torrent
from gui.services.status import Link
from gui.views.filter_panel import CATEGORIES, STATUS, TAGS, TRACKERS
from tests.gui.test_app_real import MakeApp, make_app, profile, stop_apps_async  # noqa: F401
from tests.harness.audiobook import build_torrent
from tests.harness.qbt import QbtInstance
from tests.harness.wait import until

pytestmark = pytest.mark.qbt


def bold(app: object, key: str) -> list[str]:
    """The entries of a section shown as chosen (bold), without their counts."""
    section = app.downloads_view.side._sections[key]  # type: ignore[attr-defined]
    return [
        section.child(i).text(0).split(" (")[0]
        for i in range(section.childCount())
        if section.child(i).font(0).bold()
    ]


def test_side_panel_choices_come_back_after_a_restart(
    qbt: QbtInstance,
    make_app: MakeApp,  # noqa: F811
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    admin = qbt.admin()
    admin.post("/api/v2/torrents/createCategory", data={"category": "books", "savePath": ""})
    hashes = []
    for name, extra in (("Kept", {"category": "books", "tags": "fav"}), ("Other", {})):
        content = tmp_path / f"{name}.txt"
        content.write_bytes(name.encode() * 1000)
        torrent = build_torrent(content)
        admin.add_torrent(torrent, paused="true", stopped="true", **extra)
        hashes.append(parse_torrent(torrent).info_hash)
    kept, other = hashes

    async def first() -> None:
        app = make_app(qbt.url)
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        view = app.downloads_view
        await until(lambda: view.side.item_for(TAGS, "fav") is not None, what="the tag entry")
        await until(lambda: view.proxy.row_of(other) >= 0, what="both rows")
        view.side.choose(STATUS, StateGroup.STOPPED)
        view.side.choose(CATEGORIES, "books")
        view.side.choose(TAGS, "fav")
        view.side.choose(TRACKERS, "")  # Trackerless: the empty value must survive too
        assert view.proxy.row_of(kept) >= 0 and view.proxy.row_of(other) < 0
        await stop_apps_async(make_app)

    async def second() -> None:
        app = make_app(qbt.url)
        view = app.downloads_view
        # restored before qBittorrent answered; the category and tag entries come later
        assert view.proxy.group == StateGroup.STOPPED
        await until(lambda: app.service.status.link is Link.CONNECTED, what="connection")
        await until(lambda: view.proxy.row_of(kept) >= 0, what="the kept row")
        await until(lambda: view.proxy.category == "books", what="the category chosen again")
        assert (view.proxy.category, view.proxy.tag, view.proxy.tracker) == ("books", "fav", "")
        assert view.proxy.row_of(other) < 0
        assert bold(app, CATEGORIES) == ["books"]
        assert bold(app, TAGS) == ["fav"]
        assert bold(app, STATUS) == ["Stopped"]
        await stop_apps_async(make_app)

    qloop.run_until_complete(first())
    qloop.run_until_complete(second())


def test_a_restored_choice_waits_for_its_entry_then_goes_when_gone(qtbot) -> None:  # type: ignore[no-untyped-def]
    from gui.views.filter_panel import FilterPanel

    panel = FilterPanel()
    qtbot.addWidget(panel)
    chosen: list[object] = []
    panel.category_chosen.connect(chosen.append)
    panel.restore_choices({CATEGORIES: "=gone", TAGS: "bad value", "nonsense": "=x"})
    assert panel.saved_choices() == {CATEGORIES: "=gone"}  # kept while nothing is listed
    panel.set_counts({}, {}, [], {}, [], {})
    assert panel.saved_choices() == {CATEGORIES: "=gone"} and chosen == []
    panel.set_counts({StateGroup.ALL: 1}, {"": 1}, ["other"], {}, [], {"": 1})
    assert panel.saved_choices() == {} and chosen == []  # listed, and not there: All
