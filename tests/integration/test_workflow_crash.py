"""Crash tests: `earmark run` killed (SIGKILL) at each step, then started again.

The headless loop runs as `python -m gui run` in a subprocess against a real leecher
qBittorrent, a real seeder and a Jackett double. It is killed

* after choosing the release, while it downloads the .torrent (the double holds the
  download back, so the book is certainly `grabbed` and nothing is in qBittorrent yet);
* the moment the torrent appears in qBittorrent (added; the state may or may not have
  been written yet: that is the window this case exists for);
* mid-download (the seeder's upload is throttled, the kill comes when part is done).

Then `run` is started again and must finish the book: exactly one torrent for it in
qBittorrent, state `downloaded`, the book still on the queue once, and the events a
continuous path wanted -> searching -> grabbed -> downloading -> downloaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self

import pytest
from aiohttp import web

from gui.services.workflow import NO_LIBRARY_FOLDER
from gui.settings import Settings, save_settings
from gui.store import Store
from tests.harness.audiobook import build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtFactory
from tests.harness.swarm import SEEDING_STATES, Swarm
from tests.harness.wait import GiveUp, async_wait_until
from tests.integration.test_workflow import (
    BEST,
    SwarmJackett,
    assert_continuous,
    dune_releases,
    tags_of,
)

pytestmark = pytest.mark.qbt

REPO = Path(__file__).resolve().parents[2]
THROTTLE = 16 * 1024  # bytes per second from the seeder while a kill is pending


class GatedJackett(SwarmJackett):
    """Holds .torrent downloads until `gate` is set (to kill the loop while it waits)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = 0

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        return self

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/dl/") and not self.gate.is_set():
            self.waiting += 1
            try:
                await self.gate.wait()
            finally:
                self.waiting -= 1
        return await super()._dispatch(request)


def make_book_swarm(qbt_factory: QbtFactory, tmp: Path) -> Swarm:
    """Like `make_swarm`, with a book big enough (~1 MB) to be caught mid-transfer."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        seeder_future = pool.submit(qbt_factory)
        leecher_future = pool.submit(qbt_factory)
        book_future = pool.submit(make_audiobook, tmp / "seed", "Dune", files=3, seconds=90)
        seeder, leecher = seeder_future.result(), leecher_future.result()
        book_dir = book_future.result()
    torrent = build_torrent(book_dir)
    digest = info_hash(torrent)
    admin = seeder.admin()
    admin.add_torrent(torrent, savepath=str(book_dir.parent))
    admin.wait_for_torrent(
        digest, timeout=30.0, progress=1, state=lambda state: state in SEEDING_STATES
    )
    return Swarm(seeder, leecher, book_dir, torrent, digest)


class Loop:
    """`python -m gui run` in a subprocess, output kept in files (no pipe to fill up)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.runs = 0
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.runs += 1
        out = (self.logs / f"run{self.runs}.out").open("wb")
        err = (self.logs / f"run{self.runs}.err").open("wb")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gui", "run", env=self.env, cwd=REPO, stdout=out, stderr=err
            )
        finally:
            out.close()
            err.close()

    def alive(self) -> bool:
        if self.process is None or self.process.returncode is not None:
            raise GiveUp(f"`earmark run` exited early:\n{self.output()}")
        return True

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up of any kind
        await self.process.wait()

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 15)

    def output(self) -> str:
        parts = []
        for n in range(1, self.runs + 1):
            for kind in ("out", "err"):
                path = self.logs / f"run{n}.{kind}"
                if path.exists():
                    parts.append(f"--- run {n} std{kind} ---\n{path.read_text(errors='replace')}")
        return "\n".join(parts)


def earmark(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


@pytest.mark.parametrize("kill_at", ["grabbed", "added", "mid-download"])
async def test_killed_and_restarted_the_loop_finishes_the_book(
    kill_at: str, qbt_factory: QbtFactory, tmp_path: Path
) -> None:
    swarm = make_book_swarm(qbt_factory, tmp_path)
    profile = tmp_path / "profile"
    save_settings(Settings(run_interval_seconds=0.2, stall_minutes=60), profile)
    seeder, leecher = swarm.seeder_admin(), swarm.leecher_admin()
    if kill_at == "mid-download":
        seeder.set_preferences({"up_limit": THROTTLE, "limit_lan_peers": True})

    async with GatedJackett(dune_releases(), served={BEST: swarm.torrent}) as jackett:
        env = {
            **os.environ,
            "EARMARK_CONFIG_DIR": str(profile),
            "EARMARK_QBT_URL": swarm.leecher.url,
            "EARMARK_QBT_USERNAME": QBT_USER,
            "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
            "EARMARK_TORZNAB_URL": jackett.feed_url(),
            "EARMARK_TORZNAB_API_KEY": jackett.api_key,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        wanted = earmark(env, "want", "Dune", "--author", "Frank Herbert", "--json")
        assert wanted.returncode == 0, wanted.stderr
        book_json = json.loads(wanted.stdout)
        assert book_json["state"] == "wanted"
        book_id = int(book_json["id"])
        store = Store.open_in(profile)
        loop = Loop(env, tmp_path)

        def state() -> str:
            book = store.book(book_id)
            assert book is not None, "the book was lost"
            return book.state

        def in_leecher() -> dict[str, Any] | None:
            return leecher.torrent(swarm.info_hash)

        try:
            if kill_at == "grabbed":
                jackett.gate.clear()
            await loop.start()

            if kill_at == "grabbed":
                await async_wait_until(
                    lambda: loop.alive() and jackett.waiting > 0 and state() == "grabbed",
                    30,
                    0.02,
                    what="the loop to wait for the .torrent in state grabbed",
                )
                await loop.kill()
                assert in_leecher() is None
                jackett.gate.set()
            elif kill_at == "added":
                await async_wait_until(
                    lambda: loop.alive() and in_leecher(),
                    30,
                    0.01,
                    what="the torrent in qBittorrent",
                )
                await loop.kill()
            else:
                await async_wait_until(
                    lambda: loop.alive() and in_leecher(), 30, what="the torrent in qBittorrent"
                )
                swarm.connect(swarm.info_hash)

                def partly_done() -> bool:
                    torrent = in_leecher()
                    return (
                        loop.alive()
                        and torrent is not None
                        and 0 < torrent["progress"] < 0.9
                        and state() == "downloading"
                    )

                await async_wait_until(partly_done, 60, 0.05, what="a partial download")
                await loop.kill()
                partial = in_leecher()
                assert partial is not None and partial["progress"] < 1
            killed_in = state()

            await loop.start()  # the second run picks up where the first one died
            await async_wait_until(
                lambda: loop.alive() and in_leecher(), 30, what="the torrent after the restart"
            )
            if kill_at == "mid-download":
                seeder.set_preferences({"up_limit": 0})
            else:
                swarm.connect(swarm.info_hash)
            await async_wait_until(
                lambda: loop.alive() and state() == "downloaded",
                90,
                0.1,
                what=f"the book downloaded after a kill in state {killed_in}",
            )
            assert await loop.terminate() == 0, loop.output()
        except BaseException:
            if loop.process is not None and loop.process.returncode is None:
                await loop.kill()
            print(loop.output())
            raise
        finally:
            store.close()

    store = Store.open_in(profile)
    try:
        torrents = leecher.torrents()
        assert [t["hash"] for t in torrents] == [swarm.info_hash]  # exactly one, no duplicate
        assert torrents[0]["progress"] == 1
        assert f"earmark-book-{book_id}" in tags_of(torrents[0])
        assert torrents[0]["category"] == "audiobooks"
        assert assert_continuous(store, book_id) == [
            "wanted",
            "searching",
            "grabbed",
            "downloading",
            "downloaded",
        ], f"killed in {killed_in}"
        assert [d.info_hash for d in store.downloads(book_id)] == [swarm.info_hash]
        assert store.blocklist() == []
    finally:
        store.close()
    queue = earmark(env, "queue", "--json")
    assert queue.returncode == 0, queue.stderr
    assert json.loads(queue.stdout) == [
        {
            "id": book_id,
            "title": "Dune",
            "author": "Frank Herbert",
            "state": "downloaded",
            "hash": swarm.info_hash,
            "library_path": None,
            "reason": NO_LIBRARY_FOLDER,  # the run has no library folder to import to
        }
    ]
    if kill_at != "grabbed":  # the hash was persisted before the add: never fetched again
        assert jackett.downloads.count(BEST) == 1
