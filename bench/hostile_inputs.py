r"""Hostile-size inputs: how long they take and how long they stall the event loop.

A benchmark, not a test: it prints figures and exits non-zero when a target is missed.

    .venv/bin/python bench/hostile_inputs.py

* a magnet with 60,000 ``tr=`` (was 17 s of CPU, quadratic de-duplication);
  target: under 1 s;
* a Torznab answer of 60,000 items searched and ranked the way the window does it
  (`search_all` + `rank_off_loop`) against a real aiohttp server on loopback: the
  longest gap between two ticks of a 5 ms timer on the event loop (was 10 s, everything
  on the loop); target: the longest stall under 500 ms (worker threads still take the
  GIL from the loop in turns, so a loaded machine shows 100-400 ms);
* a .torrent of 40,000 files (about 2 MB): parse time with the pure-Python decoder.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import bencode2  # noqa: E402
from aiohttp import web  # noqa: E402

from gui.clients.torznab import TorznabClient  # noqa: E402
from gui.core.ranking import RankingPolicy, Release, Wanted  # noqa: E402
from gui.core.torrents import parse_magnet, parse_torrent  # noqa: E402
from gui.services.search import rank_off_loop, search_all  # noqa: E402

MAGNET_TARGET = 1.0
STALL_TARGET = 0.5


def magnet_figure() -> float:
    trackers = "".join(f"&tr=udp%3A%2F%2Ftracker{i}.example%3A1337" for i in range(60_000))
    text = "magnet:?xt=urn:btih:" + "ab" * 20 + trackers
    began = time.process_time()
    parse_magnet(text)
    return time.process_time() - began


def feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Frank Herbert - Dune Book {i} [M4B] {{Scott Brick}}</title>"
        f'<enclosure url="http://127.0.0.1:1/dl/{i}.torrent" length="{i}" type="x" />'
        f'<torznab:attr name="infohash" value="{i:040x}" />'
        f'<torznab:attr name="seeders" value="{i % 97}" /></item>'
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel>'
        f"{items}</channel></rss>"
    ).encode()


class _Feed:
    name = "flood"

    def __init__(self, client: TorznabClient) -> None:
        self.client = client

    async def search(self, wanted: Wanted) -> list[Release]:
        return await self.client.search(wanted.title)


async def stall_figure(count: int) -> tuple[float, float, int]:
    body = feed(count)

    async def answer(request: web.Request) -> web.Response:
        if request.query.get("t") == "caps":
            return web.Response(body=b"<error code='202' description='no caps'/>")
        return web.Response(body=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api"
    longest = 0.0
    running = True

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    tick = asyncio.create_task(ticker())
    began = time.perf_counter()
    try:
        async with TorznabClient(url, "key") as client:
            wanted = Wanted("Dune", "Frank Herbert")
            outcome = await search_all(wanted, [_Feed(client)], per_indexer_timeout=120)
            ranked = await rank_off_loop(wanted, outcome.releases, RankingPolicy())
    finally:
        running = False
        await tick
        await runner.cleanup()
    return time.perf_counter() - began, longest, len(ranked)


def torrent_figure(files: int) -> tuple[float, int]:
    entries = [{b"length": 1000 + i, b"path": [b"CD%d" % (i % 9), b"%05d.mp3" % i]}
               for i in range(files)]
    total = sum(e[b"length"] for e in entries)
    piece = 1 << 20
    info = {
        b"files": entries,
        b"name": b"Huge",
        b"piece length": piece,
        b"pieces": hashlib.sha1(b"x").digest() * (-(-total // piece)),
    }
    data = bencode2.bencode({b"announce": b"http://t/a", b"info": info})
    began = time.process_time()
    parse_torrent(data)
    return time.process_time() - began, len(data)


def main() -> int:
    magnet = magnet_figure()
    print(f"magnet with 60,000 tr=: {magnet * 1000:.0f} ms CPU (target < {MAGNET_TARGET:.0f} s)")
    took, stall, kept = asyncio.run(stall_figure(60_000))
    print(
        f"60,000-item Torznab answer, searched and ranked: {took:.2f} s, {kept} kept, "
        f"longest event-loop stall {stall * 1000:.0f} ms (target < {STALL_TARGET * 1000:.0f} ms)"
    )
    seconds, size = torrent_figure(40_000)
    print(f".torrent of 40,000 files ({size / 1e6:.1f} MB): parsed in {seconds * 1000:.0f} ms CPU")
    return 0 if magnet < MAGNET_TARGET and stall < STALL_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
