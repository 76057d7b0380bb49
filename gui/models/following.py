"""The Following page's model: the follows and each one's last listing, for Qt.

A thin adapter over `gui.services.following` (which knows nothing of Qt): it runs the
service's coroutines, keeps the follows and the last `CheckReport` per follow, and tells
the view through signals. The catalogue client is made per action by ``catalog_factory``
and closed after it, so a page left open holds no connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from gui.clients.errors import ClientError
from gui.services import following as follows
from gui.services.following import CheckReport, Follow, FollowList
from gui.store import Store

__all__ = ["FollowingModel"]

CatalogFactory = Callable[[], Any]
Spawn = Callable[[Coroutine[Any, Any, Any]], Any]
#: How often the window looks for follows whose check is due (each follow keeps its own
#: schedule, at least 15 minutes apart: `gui.services.following.MIN_INTERVAL`).
SCHEDULE_MS = 60_000


class FollowingModel(QObject):
    """Follows, listings and the actions on them (follow, check, pick)."""

    changed = Signal()
    failed = Signal(str)

    def __init__(
        self,
        store: Store,
        folder: Path,
        catalog_factory: CatalogFactory = follows.catalog_from_env,
        parent: QObject | None = None,
        *,
        spawn: Spawn | None = None,
        schedule_ms: int = SCHEDULE_MS,
        feeds_factory: Callable[[], Sequence[Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.list = FollowList(folder)
        self.catalog_factory = catalog_factory
        #: The indexers' feeds of latest releases (`gui.services.new_releases`), made per
        #: check; None reads none (tests without indexers).
        self.feeds_factory = feeds_factory
        self.follows: list[Follow] = []
        self.reports: dict[tuple[str, str], CheckReport] = {}
        self._checking = False
        self._timer: QTimer | None = None
        self._spawn = spawn
        if spawn is not None and schedule_ms > 0:
            # While the window runs, due follows are checked as `earmark run` does.
            self._timer = QTimer(self)
            self._timer.timeout.connect(self._tick)
            self._timer.start(schedule_ms)

    def _tick(self) -> None:
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return  # shutting down: no loop to run a check on
        if self._spawn is None or loop.is_closed() or not loop.is_running():
            return
        self._spawn(self.check_due())

    def stop(self) -> None:
        """No more scheduled checks (the window is closing)."""
        if self._timer is not None:
            self._timer.stop()

    async def check_due(self) -> int:
        """Check the follows whose time has come; how many were checked."""
        if self._checking or not self.list.path.exists():
            return 0
        self._checking = True
        catalog = self.catalog_factory()
        try:
            owned = await self.store.run(follows.owned_index, self.store)
            feeds = self.feeds_factory() if self.feeds_factory is not None else ()
            reports = await follows.check_due(
                self.store, self.list, catalog, owned=owned, feeds=feeds
            )
        except ValueError as exc:  # a broken follows.json
            self.failed.emit(str(exc))
            return 0
        finally:
            self._checking = False
            await catalog.close()
        for report in reports:
            if not report.feed:  # a feed's finds do not replace the follow's listing
                self.reports[self.key(report.follow)] = report
            if report.error:
                self.failed.emit(f"{report.follow.label}: {report.error}")
        if reports:
            self.reload()
        return len(reports)

    @staticmethod
    def key(follow: Follow) -> tuple[str, str]:
        return follow.kind, follow.name.casefold()

    def report_for(self, follow: Follow) -> CheckReport | None:
        return self.reports.get(self.key(follow))

    def reload(self) -> None:
        try:
            self.follows = self.list.load()
        except ValueError as exc:
            self.failed.emit(str(exc))
            return
        self.changed.emit()

    async def follow(self, name: str, *, series: bool, author: str, new_only: bool) -> None:
        name = name.strip()
        if not name:
            self.failed.emit("say whom to follow: an author's name, or a series' name")
            return
        follow = Follow(
            kind="series" if series else "author",
            name=name,
            author=author.strip() if series else "",
            new_only=new_only,
            since=follows.today(),
        )
        follow, _ = self.list.add(follow)
        await self.check(follow)

    async def check(self, follow: Follow) -> None:
        catalog = self.catalog_factory()
        try:
            owned = await self.store.run(follows.owned_index, self.store)
            report = await follows.check(follow, catalog, self.store, owned=owned)
        except ClientError as exc:
            self.failed.emit(f"{follow.label}: {exc}")
            return
        finally:
            await catalog.close()
        self.list.update(report.follow)
        self.reports[self.key(report.follow)] = report
        if report.error:
            self.failed.emit(f"{follow.label}: the catalogue could not be asked: {report.error}")
        self.reload()

    async def pick(self, follow: Follow, asins: Iterable[str]) -> int:
        report = self.report_for(follow)
        if report is None:
            return 0
        added = await follows.pick(self.store, follow, report, asins)
        await self.check(follow)  # the picked books now show as wanted
        return len(added)
