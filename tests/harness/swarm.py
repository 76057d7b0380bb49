"""A two-instance loopback swarm: a seeder holding a real audiobook and a leecher.

Real transfers without trackers or DHT: the leecher is told the seeder's address
with torrents/addPeers, so no traffic leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.audiobook import build_torrent, info_hash, make_audiobook
from tests.harness.qbt import QbtAdmin, QbtInstance

SEEDING_STATES = frozenset({"uploading", "stalledUP"})

StartQbt = Callable[..., QbtInstance]  # QbtFactory or anything that starts an instance


@dataclass
class Swarm:
    """Seeder and leecher instances sharing one torrent of a generated audiobook."""

    seeder: QbtInstance
    leecher: QbtInstance
    book_dir: Path
    torrent: bytes
    info_hash: str

    def seeder_admin(self) -> QbtAdmin:
        """A logged-in admin client on the seeder."""
        return self.seeder.admin()

    def leecher_admin(self) -> QbtAdmin:
        """A logged-in admin client on the leecher."""
        return self.leecher.admin()

    def connect(self, leecher_hash: str | None = None) -> dict[str, Any]:
        """Tell the leecher where the seeder is (torrents/addPeers); returns its answer.

        ``leecher_hash`` defaults to the swarm's torrent (the product may have added
        it itself). qBittorrent 4.5 answers ``{hash: {"added": n, "failed": m}}``;
        a peer that was not added raises, since the transfer could never start.
        """
        digest = leecher_hash or self.info_hash
        answer = self.leecher_admin().post(
            "/api/v2/torrents/addPeers",
            {
                "hashes": digest,
                "peers": f"127.0.0.1:{self.seeder.bt_port}",
            },
        )
        result: dict[str, Any] = json.loads(answer)
        if result.get(digest, {}).get("added", 0) < 1:
            raise RuntimeError(f"leecher did not add the seeder as a peer: {answer}")
        return result

    def add_to_leecher(self, timeout: float = 10.0, **add_params: Any) -> dict[str, Any]:
        """Add the torrent to the leecher through QbtAdmin and wait until it is listed."""
        admin = self.leecher_admin()
        admin.add_torrent(self.torrent, **add_params)
        return admin.wait_for_torrent(self.info_hash, timeout)


def make_swarm(
    qbt_factory: StartQbt, tmp: Path, title: str = "The Test Book", *, seconds: float = 2.0
) -> Swarm:
    """Start seeder and leecher in parallel, seed a fresh audiobook (three tracks of
    ``seconds`` each), wait until seeding."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        seeder_future = pool.submit(qbt_factory)
        leecher_future = pool.submit(qbt_factory)
        book_future = pool.submit(make_audiobook, tmp / "seed", title, seconds=seconds)
        seeder, leecher, book_dir = (
            seeder_future.result(),
            leecher_future.result(),
            book_future.result(),
        )
    torrent = build_torrent(book_dir)
    digest = info_hash(torrent)

    admin = seeder.admin()
    admin.add_torrent(torrent, savepath=str(book_dir.parent))
    admin.wait_for_torrent(
        digest,
        timeout=20.0,
        progress=1,
        state=lambda state: state in SEEDING_STATES,
    )
    return Swarm(seeder, leecher, book_dir, torrent, digest)
