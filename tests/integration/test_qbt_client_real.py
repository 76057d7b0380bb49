"""The qBittorrent client against a real qbittorrent-nox 4.5.2.

What the client did is read back through the harness's independent `QbtAdmin`, never
through the client itself.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gui.clients.errors import BadCredentialsError, HttpStatusError, UnreachableError
from gui.clients.qbittorrent import (
    AddOptions,
    QBittorrentClient,
    QbtConfig,
)
from gui.clients.torrent_fetch import fetch_torrent
from gui.core.torrent_states import is_complete
from gui.core.torrents import Magnet, TorrentFile, parse_magnet, parse_torrent
from tests.conftest import QbtFactory
from tests.harness.audiobook import build_torrent, make_audiobook
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, LoginAnswer, QbtInstance
from tests.harness.swarm import make_swarm
from tests.harness.wait import free_port, wait_until

pytestmark = pytest.mark.qbt

MAGNET = "magnet:?xt=urn:btih:{}&dn=Dune+Unabridged"


def client_for(instance: QbtInstance, password: str = QBT_PASSWORD) -> QBittorrentClient:
    return QBittorrentClient(QbtConfig(instance.url, QBT_USER, password))


def magnet(n: int) -> Magnet:
    return parse_magnet(MAGNET.format(f"{n:040x}"))


async def test_add_magnet_with_every_option_is_read_back(qbt: QbtInstance, tmp_path: Path) -> None:
    save_path = tmp_path / "books"
    options = AddOptions(
        category="audiobooks",
        tags=["earmark", "book-7"],
        save_path=str(save_path),
        stopped=True,
        sequential=True,
        first_last_piece=True,
        rename="Dune (Unabridged)",
        upload_limit=50_000,
        download_limit=400_000,
        auto_tmm=False,
    )
    async with client_for(qbt) as client:
        result = await client.add(magnet(1), options)
    assert result.hash == f"{1:040x}"
    assert result.already_present is False

    # Just after an add qBittorrent may still report checkingResumeData: wait for it to settle.
    torrent = wait_until(
        lambda: (
            (t := qbt.admin().torrent(result.hash)) and t["state"] != "checkingResumeData" and t
        ),
        20,
        what="the added torrent to settle",
    )
    assert torrent["category"] == "audiobooks"
    assert sorted(t.strip() for t in torrent["tags"].split(",")) == ["book-7", "earmark"]
    assert Path(torrent["save_path"]) == save_path
    assert torrent["state"] == qbt.admin().facts().stopped_dl
    assert torrent["seq_dl"] is True
    assert torrent["f_l_piece_prio"] is True
    assert torrent["name"] == "Dune (Unabridged)"
    assert torrent["up_limit"] == 50_000
    assert torrent["dl_limit"] == 400_000
    assert torrent["auto_tmm"] is False


async def test_add_torrent_file_layout_and_skip_checking(qbt: QbtInstance, tmp_path: Path) -> None:
    book = make_audiobook(tmp_path / "have", "Skip Check Book", files=2, seconds=1)
    source = parse_torrent(build_torrent(book))
    async with client_for(qbt) as client:
        result = await client.add(
            source,
            AddOptions(save_path=str(book.parent), skip_checking=True, content_layout="Original"),
        )
        assert result.hash == source.info_hash
        # The data is already there and the check was skipped: complete at once.
        await client.sync()
        wait_until(
            lambda: qbt.admin().torrent(result.hash)["progress"] == 1,
            30,
            what="skip-checked torrent at 100%",
        )

        other = make_audiobook(tmp_path / "other", "Layout Book", files=2, seconds=1)
        layout = parse_torrent(build_torrent(other))
        await client.add(
            layout,
            AddOptions(
                save_path=str(tmp_path / "flat"), content_layout="NoSubfolder", stopped=True
            ),
        )
    files = qbt.admin().files(layout.info_hash)
    assert files and all("/" not in f["name"] for f in files)  # no top folder


async def test_duplicate_add_is_not_an_error(qbt: QbtInstance) -> None:
    async with client_for(qbt) as client:
        first = await client.add(magnet(2), AddOptions(category="a", stopped=True))
        again = await client.add(magnet(2), AddOptions(category="b"))
    assert first.already_present is False
    assert again.already_present is True
    assert again.hash == first.hash
    assert len(qbt.admin().torrents()) == 1
    assert qbt.admin().torrent(first.hash)["category"] == "a"  # type: ignore[index]


async def test_invalid_torrent_upload_names_the_problem(qbt: QbtInstance) -> None:
    bogus = TorrentFile(
        data=b"not a torrent",
        name="x",
        info_hash_v1="0" * 40,
        info_hash_v2=None,
        total_size=1,
        files=(("x", 1),),
        trackers=(),
    )
    async with client_for(qbt) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.add(bogus)
    assert caught.value.status == 415
    assert "valid torrent" in str(caught.value)


async def test_mirror_follows_deltas_and_removals(qbt: QbtInstance) -> None:
    async with client_for(qbt) as client:
        for n in (3, 4):
            await client.add(magnet(n), AddOptions(stopped=True))
        first = await client.sync()
        assert first.full_update
        assert first.added == {f"{3:040x}", f"{4:040x}"}
        assert client.mirror.torrents[f"{3:040x}"]["state"] == "stoppedDL"  # normalised

        idle = await client.sync()
        assert not idle.full_update
        assert not idle.added and not idle.removed and not idle.changed

        await client.create_category("fiction", "")
        await client.set_category([f"{3:040x}"], "fiction")
        change = await client.sync()
        assert "category" in change.changed[f"{3:040x}"]
        assert f"{4:040x}" not in change.changed
        assert client.mirror.torrents[f"{3:040x}"]["category"] == "fiction"
        assert "fiction" in client.mirror.categories

        await client.delete([f"{4:040x}"], delete_files=False)
        wait_until(lambda: len(qbt.admin().torrents()) == 1, 30, what="deletion")
        removal = await client.sync()
        assert removal.removed == {f"{4:040x}"}
        assert f"{4:040x}" not in client.mirror.torrents


async def test_stop_and_start_use_this_versions_endpoints(qbt: QbtInstance) -> None:
    """pause/resume up to 4.6, stop/start from 5.0 (Web API 2.11): whichever the server has."""
    admin = qbt.admin()
    stopped = admin.facts().stopped_dl
    async with client_for(qbt) as client:
        result = await client.add(magnet(5), AddOptions(stopped=True))
        await client.start([result.hash])
        wait_until(lambda: admin.torrent(result.hash)["state"] != stopped, 30, what="start")
        await client.stop([result.hash])
        wait_until(lambda: admin.torrent(result.hash)["state"] == stopped, 30, what="stop")
        assert client.flavor.stop_endpoint == admin.facts().stop_endpoint


async def test_create_category_twice_is_fine(qbt: QbtInstance) -> None:
    async with client_for(qbt) as client:
        await client.create_category("audiobooks", "")
        await client.create_category("audiobooks", "")
        assert "audiobooks" in await client.categories()


async def test_expired_session_relogs_in_once_and_resyncs(qbt: QbtInstance) -> None:
    async with client_for(qbt) as client:
        await client.add(magnet(6), AddOptions(stopped=True))
        await client.sync()
        await client.sync()
        assert client.login_attempts == 1
        qbt.restart()  # every session is gone, as after a restart or idle timeout
        change = await client.sync()
        assert client.login_attempts == 2
        assert change.full_update  # the sync restarted from rid 0
        assert f"{6:040x}" in client.mirror.torrents
        await client.sync()
        assert client.login_attempts == 2


async def test_refused_login_is_never_repeated_on_its_own(qbt: QbtInstance) -> None:
    async with client_for(qbt, password="wrong") as client:
        with pytest.raises(BadCredentialsError):
            await client.sync()
        with pytest.raises(BadCredentialsError):
            await client.torrents()
        assert client.login_attempts == 1
    assert qbt.log_text().count("Reason: invalid credentials") == 1


async def test_login_ok_then_403_is_the_cookie_jar_not_a_whitelist(qbt: QbtInstance) -> None:
    """The classic symptom, reproduced with aiohttp's default jar, and our client's cure."""
    async with aiohttp.ClientSession() as naive:
        async with naive.post(
            f"{qbt.url}/api/v2/auth/login", data={"username": QBT_USER, "password": QBT_PASSWORD}
        ) as login:
            assert LoginAnswer(login.status, await login.text()).ok
        async with naive.get(f"{qbt.url}/api/v2/app/webapiVersion") as after:
            assert after.status == 403  # login OK, then 403: the IP host's cookie was dropped
    async with client_for(qbt) as client:
        assert await client.app_version() == qbt.admin().facts().version


async def test_unreachable_server_is_a_typed_error() -> None:
    client = QBittorrentClient(QbtConfig(f"http://127.0.0.1:{free_port()}", QBT_USER, "x"))
    async with client:
        with pytest.raises(UnreachableError) as caught:
            await client.sync()
    assert "connection refused" in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


async def test_url_sources_torrent_and_magnet_redirect(qbt: QbtInstance, tmp_path: Path) -> None:
    book = make_audiobook(tmp_path / "url", "Linked Book", files=1, seconds=1)
    torrent_bytes = build_torrent(book)
    link = MAGNET.format(f"{7:040x}")

    async def serve_torrent(_: web.Request) -> web.Response:
        return web.Response(body=torrent_bytes, content_type="application/x-bittorrent")

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(location=link)

    async def not_torrent(_: web.Request) -> web.Response:
        return web.Response(text="<html>login required</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/dl/book.torrent", serve_torrent)
    app.router.add_get("/dl/magnet", redirect)
    app.router.add_get("/dl/page", not_torrent)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        base = f"http://127.0.0.1:{port}/dl"
        fetched = await fetch_torrent(f"{base}/book.torrent")
        redirected = await fetch_torrent(f"{base}/magnet")
        with pytest.raises(ValueError, match="did not serve a torrent"):
            await fetch_torrent(f"{base}/page")
    finally:
        await runner.cleanup()
    assert isinstance(fetched, TorrentFile)
    assert isinstance(redirected, Magnet) and redirected.btih == f"{7:040x}"
    async with client_for(qbt) as client:
        added = await client.add(fetched, AddOptions(stopped=True))
    assert added.hash == fetched.info_hash


async def test_real_transfer_is_seen_completing_through_the_mirror(
    qbt_factory: QbtFactory, tmp_path: Path
) -> None:
    swarm = make_swarm(qbt_factory, tmp_path)
    source = parse_torrent(swarm.torrent)
    async with client_for(swarm.leecher) as client:
        await client.add(source, AddOptions(category="audiobooks"))
        swarm.connect(source.info_hash)
        await client.sync()

        async def complete() -> bool:
            await client.sync()
            return is_complete(client.mirror.torrents[source.info_hash])

        deadline = time.monotonic() + 60
        while not await complete():
            assert time.monotonic() < deadline, client.mirror.torrents[source.info_hash]
            await asyncio.sleep(0.2)
        files = await client.files(source.info_hash)
        props = await client.properties(source.info_hash)
    assert len(files) == 3 and all(f["progress"] == 1 for f in files)
    assert props["total_size"] == source.total_size
