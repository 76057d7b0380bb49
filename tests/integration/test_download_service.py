"""The downloads service against a real qBittorrent: outage, pending adds, completion."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gui.clients.qbittorrent import AddOptions, QbtConfig
from gui.core.torrents import parse_magnet, parse_torrent
from gui.services.downloads import DownloadService
from gui.services.status import Link
from gui.store import Store
from tests.conftest import QbtFactory
from tests.harness.audiobook import build_torrent, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.swarm import make_swarm
from tests.harness.wait import until

pytestmark = pytest.mark.qbt


def service_for(
    instance: QbtInstance, tmp_path: Path, password: str = QBT_PASSWORD
) -> DownloadService:
    config = QbtConfig(instance.url, QBT_USER, password)
    return DownloadService(config, Store.open_in(tmp_path / "profile"), min_interval=0.2)


async def test_add_while_unreachable_waits_then_is_sent(qbt: QbtInstance, tmp_path: Path) -> None:
    service = service_for(qbt, tmp_path)
    statuses: list[Link] = []
    service.status_listeners.append(lambda status: statuses.append(status.link))
    runner = asyncio.create_task(service.run())
    try:
        await until(lambda: service.status.link is Link.CONNECTED, "connection")
        qbt.stop()
        await until(lambda: service.status.link is Link.UNREACHABLE, "the outage to be seen")
        magnet = parse_magnet("magnet:?xt=urn:btih:" + "d" * 40 + "&dn=Waiting+Book")
        assert await service.add(magnet, AddOptions(stopped=True, category="audiobooks")) is None
        assert len(service.pending) == 1
        # Persisted: a restart of Earmark would still have it.
        assert len(service.store.pending()) == 1

        qbt.restart()
        service.wake()
        await until(lambda: not service.pending, "the pending add to be sent", 60)
        assert service.store.pending() == []
        torrent = qbt.admin().torrent("d" * 40)
        assert torrent is not None and torrent["category"] == "audiobooks"
        assert Link.UNREACHABLE in statuses and statuses[-1] is Link.CONNECTED
    finally:
        await service.close()
        runner.cancel()
        service.store.close()


async def test_refused_login_stops_the_loop_until_the_user_acts(
    qbt: QbtInstance, tmp_path: Path
) -> None:
    service = service_for(qbt, tmp_path, password="wrong")
    runner = asyncio.create_task(service.run())
    try:
        await until(lambda: service.status.link is Link.REFUSED, "the refusal")
        for _ in range(3):  # refreshes asked for: each cycle must not log in again
            service.wake()
            await until(lambda: not service._wake.is_set(), "the loop to take the wake-up")
        assert service.status.link is Link.REFUSED
        assert service.client is not None and service.client.login_attempts == 1
        assert qbt.log_text().count("Reason: invalid credentials") == 1
        await service.reconnect()  # the user's "try again": exactly one more attempt
        await until(
            lambda: qbt.log_text().count("Reason: invalid credentials") == 2, "one more attempt"
        )
    finally:
        await service.close()
        runner.cancel()
        service.store.close()


async def test_finished_download_is_announced_once(qbt_factory: QbtFactory, tmp_path: Path) -> None:
    swarm = make_swarm(qbt_factory, tmp_path)
    # A torrent already complete when the service connects must not be announced.
    already = make_audiobook(tmp_path / "done", "Done Book", files=1)
    done = parse_torrent(build_torrent(already))
    swarm.leecher.admin().add_torrent(done.data, savepath=str(already.parent), skip_checking="true")
    service = service_for(swarm.leecher, tmp_path)
    finished: list[tuple[str, str]] = []
    service.finished_listeners.append(lambda h, n: finished.append((h, n)))
    runner = asyncio.create_task(service.run())
    try:
        await until(lambda: service.status.link is Link.CONNECTED, "connection")
        source = parse_torrent(swarm.torrent)
        await service.add(source, AddOptions())
        swarm.connect(source.info_hash)
        await until(lambda: finished, "the finished event", 60)
        for _ in range(5):  # more refreshes: no second announcement
            before = service.client.mirror.rid if service.client else 0
            service.wake()
            await until(
                lambda b=before: service.client is not None and service.client.mirror.rid != b,
                "another refresh",
            )
        assert finished == [(source.info_hash, "The Test Book")]
    finally:
        await service.close()
        runner.cancel()
        service.store.close()


async def test_complete_book_added_with_skip_checking_is_not_a_finished_download(
    qbt_factory: QbtFactory, tmp_path: Path
) -> None:
    """4.5-5.1 seed such a torrent at once; 5.3 ignores skip_checking and rechecks it from
    0 % (checkingDL). Either way nothing was downloaded: only the real transfer is news."""
    swarm = make_swarm(qbt_factory, tmp_path)
    service = service_for(swarm.leecher, tmp_path)
    finished: list[str] = []
    service.finished_listeners.append(lambda h, n: finished.append(n))
    runner = asyncio.create_task(service.run())
    try:
        await until(lambda: service.status.link is Link.CONNECTED, "connection")
        owned = make_audiobook(swarm.leecher.downloads, "Owned Book", files=2, seconds=600)
        complete = parse_torrent(build_torrent(owned))
        await service.add(complete, AddOptions(skip_checking=True))

        def settled() -> bool:
            client = service.client
            torrent = client.mirror.torrents.get(complete.info_hash) if client else None
            return torrent is not None and torrent.get("state", "").endswith("UP")

        await until(settled, "the complete book to seed", 60)
        source = parse_torrent(swarm.torrent)
        await service.add(source, AddOptions())
        swarm.connect(source.info_hash)
        await until(lambda: finished, "the real download's event", 60)
        assert finished == ["The Test Book"]
    finally:
        await service.close()
        runner.cancel()
        service.store.close()
