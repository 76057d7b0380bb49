"""The properties watcher reads only the shown tab of the selected torrent, and nothing
while the panel cannot be seen (asyncio only: the watcher knows nothing of Qt)."""

from __future__ import annotations

import asyncio
from typing import Any

from gui.clients.errors import UnreachableError
from gui.services.properties import FILES, GENERAL, PEERS, SPEED, PropertiesWatcher, Reading


class Recorder:
    """Stands in for QBittorrentClient's read methods; records what was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    async def properties(self, torrent_hash: str) -> dict[str, Any]:
        self.calls.append(("properties", torrent_hash))
        if self.fail:
            raise UnreachableError("qBittorrent is away", service="qBittorrent")
        return {"name": "Dune"}

    async def files(self, torrent_hash: str) -> list[dict[str, Any]]:
        self.calls.append(("files", torrent_hash))
        return [{"name": "Dune/01.mp3"}]

    async def torrent_peers(self, torrent_hash: str, rid: int) -> dict[str, Any]:
        self.calls.append((f"peers rid={rid}", torrent_hash))
        if rid == 0:
            return {"rid": 1, "full_update": True, "peers": {"1.2.3.4:5": {"ip": "1.2.3.4"}}}
        return {"rid": rid + 1, "peers_removed": ["1.2.3.4:5"]}


def test_the_shown_tab_only_and_nothing_while_paused() -> None:
    async def scenario() -> None:
        client = Recorder()
        readings: list[Reading] = []
        watcher = PropertiesWatcher(lambda: client, readings.append, interval=0.01)  # type: ignore[arg-type, return-value]
        task = asyncio.ensure_future(watcher.run())

        async def until(predicate: Any) -> None:
            for _ in range(500):
                if predicate():
                    return
                await asyncio.sleep(0.005)
            raise AssertionError("timed out")

        watcher.watch("a" * 40, GENERAL)
        await until(lambda: readings)
        assert readings[0] == Reading("a" * 40, GENERAL, {"name": "Dune"})
        watcher.watch("a" * 40, FILES)
        await until(lambda: readings[-1].tab == FILES)
        watcher.watch("a" * 40, PEERS)
        await until(lambda: readings[-1].tab == PEERS and readings[-1].data == {})
        assert ("peers rid=0", "a" * 40) in client.calls  # deltas merged from rid 0
        assert ("peers rid=1", "a" * 40) in client.calls
        watcher.set_paused(True)
        await asyncio.sleep(0.03)
        count = len(client.calls)
        await asyncio.sleep(0.05)
        assert len(client.calls) == count  # hidden: nothing read
        watcher.watch("b" * 40, SPEED)  # the Speed tab needs no request
        watcher.set_paused(False)
        await asyncio.sleep(0.05)
        assert len(client.calls) == count
        client.fail = True
        watcher.watch("b" * 40, GENERAL)
        await until(lambda: readings[-1].error is not None)
        assert readings[-1].torrent_hash == "b" * 40 and "away" in str(readings[-1].error)
        watcher.stop()
        await task

    asyncio.run(scenario())
