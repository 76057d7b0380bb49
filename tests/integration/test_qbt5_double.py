"""The client's and the doctor's qBittorrent 5.x paths, against `tests.doubles.qbittorrent5`.

No qBittorrent 5 can run here (the real-server tests use qbittorrent-nox 4.5.2), so these
tests use a double built from qBittorrent 5.0-5.2.3's source; see its docstring for the
facts and their sources. The first section checks the double itself against those facts,
so the rest can trust it. What the client did is always read back from the double's own
records (what it received, what it answered), never through the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import bencode2
import pytest
from yarl import URL

from gui.clients.doctor import diagnose
from gui.clients.errors import (
    BadCredentialsError,
    ForbiddenError,
    HttpStatusError,
    IpBannedError,
    RequestRejectedError,
)
from gui.clients.qbittorrent import AddOptions, AddResult, QBittorrentClient, QbtConfig
from gui.core.torrents import Magnet, TorrentFile, parse_magnet, parse_torrent
from tests.doubles.qbittorrent5 import BAN_TEXT, Qbt5Double

USER = "admin"
PASSWORD = "adminadmin"  # the double's default
VERSIONS = ["5.0.0", "5.1.4", "5.2.3"]
API = {"5.0.0": (2, 11, 2), "5.1.4": (2, 11, 4), "5.2.3": (2, 15, 1)}
PIECE = 16384

pytestmark = pytest.mark.timeout(60)


@asynccontextmanager
async def running(
    password: str = PASSWORD, **double_options: Any
) -> AsyncIterator[tuple[Qbt5Double, QBittorrentClient]]:
    async with (
        Qbt5Double(**double_options) as double,
        QBittorrentClient(QbtConfig(double.url, USER, password), add_timeout=5) as client,
    ):
        yield double, client


def magnet(n: int, name: str = "Dune Unabridged") -> Magnet:
    return parse_magnet(f"magnet:?xt=urn:btih:{n:040x}&dn={quote_plus(name)}")


def torrent_file(name: str = "Dune", files: tuple[tuple[str, int], ...] = ()) -> TorrentFile:
    files = files or (("01 - Dune.m4b", 40_000), ("02 - Dune.m4b", 30_000))
    total = sum(size for _, size in files)
    info = {
        b"files": [{b"length": size, b"path": [path.encode()]} for path, size in files],
        b"name": name.encode(),
        b"piece length": PIECE,
        b"pieces": hashlib.sha1(name.encode()).digest() * -(-total // PIECE),
    }
    return parse_torrent(bencode2.bencode({b"info": info}))


def since(double: Qbt5Double, start: int) -> list[tuple[str, int]]:
    """(endpoint, status) of every request the double received from index ``start`` on."""
    return [(r.endpoint, r.status) for r in double.received[start:]]


# ---- the double is true to qBittorrent's source ---------------------------------------------


async def test_double_52_answers_like_qbittorrent_5_2_3() -> None:
    async with (
        Qbt5Double(version="5.2.3") as double,
        aiohttp.ClientSession(
            base_url=double.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http,
    ):
        async with http.get("/api/v2/app/version") as r:
            assert (r.status, await r.text()) == (403, "Forbidden")
            assert r.headers["Content-Type"] == "text/plain; charset=UTF-8"
        login = {"username": USER, "password": "nope"}
        async with http.post("/api/v2/auth/login", data=login) as r:
            assert (r.status, await r.text()) == (401, "Unauthorized")
            assert "Set-Cookie" not in r.headers
        login["password"] = PASSWORD
        async with http.post("/api/v2/auth/login", data=login) as r:
            assert (r.status, await r.read()) == (204, b"")
            cookie = r.headers["Set-Cookie"]
        name, _, rest = cookie.partition("=")
        assert name == f"QBT_SID_{double.port}"
        attributes = rest.split("; ")[1:]
        assert attributes[0] == "HttpOnly"
        assert attributes[1] == "SameSite=Lax"
        assert attributes[2].startswith("expires=") and attributes[2].endswith(" GMT")
        assert attributes[3] == "path=/"
        async with http.get("/api/v2/app/version") as r:
            assert (r.status, await r.text()) == (200, "v5.2.3")
        async with http.get("/api/v2/app/webapiVersion") as r:
            assert (r.status, await r.text()) == (200, "2.15.1")
        async with http.post("/api/v2/torrents/pause", data={"hashes": "all"}) as r:
            assert r.status == 404  # renamed in 5.0
        async with http.get("/api/v2/torrents/stop", params={"hashes": "all"}) as r:
            assert r.status == 405  # state changes are POST-only
        async with http.post("/api/v2/torrents/stop", data={"hashes": "all"}) as r:
            assert (r.status, await r.read()) == (204, b"")  # empty answers are 204 (2.11.8+)
        async with http.get("/api/v2/app/version", headers={"Origin": "http://elsewhere"}) as r:
            assert (r.status, await r.text()) == (401, "Unauthorized")  # CSRF check


@pytest.mark.parametrize("version", ["5.0.0", "5.1.4"])
async def test_double_50_and_51_answer_like_qbittorrent(version: str) -> None:
    async with (
        Qbt5Double(version=version) as double,
        aiohttp.ClientSession(
            base_url=double.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http,
    ):
        login = {"username": USER, "password": "nope"}
        async with http.post("/api/v2/auth/login", data=login) as r:
            assert (r.status, await r.text()) == (200, "Fails.")
        login["password"] = PASSWORD
        async with http.post("/api/v2/auth/login", data=login) as r:
            assert (r.status, await r.text()) == (200, "Ok.")
            assert r.headers["Set-Cookie"].startswith("SID=")
            assert "SameSite=Strict" in r.headers["Set-Cookie"]
        async with http.get("/api/v2/app/webapiVersion") as r:
            assert await r.text() == ".".join(map(str, API[version]))
        async with http.post("/api/v2/torrents/stop", data={"hashes": "all"}) as r:
            assert (r.status, await r.read()) == (200, b"")  # 204 only from 2.11.8


@pytest.mark.parametrize("version", VERSIONS)
async def test_double_bans_on_the_attempt_after_the_limit(version: str) -> None:
    async with (
        Qbt5Double(version=version, max_auth_fail_count=2) as double,
        aiohttp.ClientSession(
            base_url=double.url, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http,
    ):
        good = {"username": USER, "password": PASSWORD}
        async with http.post("/api/v2/auth/login", data=good) as r:
            assert r.status in (200, 204)  # a session from before the ban
        session_cookie = http.cookie_jar.filter_cookies(URL(double.url))
        http.cookie_jar.clear()
        bad = {"username": USER, "password": "nope"}
        for _ in range(2):
            async with http.post("/api/v2/auth/login", data=bad) as r:
                assert r.status in (200, 401)  # refused, not yet banned
        for form in (bad, good):
            async with http.post("/api/v2/auth/login", data=form) as r:
                assert (r.status, await r.text()) == (403, BAN_TEXT)
        async with http.get("/api/v2/app/version", cookies=session_cookie) as r:
            assert r.status == 200  # the ban is checked at login only
        double.restart()
        async with http.post("/api/v2/auth/login", data=good) as r:
            assert r.status in (200, 204)


async def test_double_maindata_diffs_per_session() -> None:
    async with running(version="5.2.3") as (double, client):
        double.put_torrent("a" * 40, name="A", progress=0.5, state="downloading")
        double.put_torrent("b" * 40, name="B", progress=1.0, state="stalledUP")
        first = (await client.call("GET", "sync/maindata", params={"rid": "0"})).json()
        assert first["full_update"] is True and first["rid"] == 1
        assert set(first["torrents"]) == {"a" * 40, "b" * 40}
        assert "hash" not in first["torrents"]["a" * 40]
        assert first["server_state"]["connection_status"] == "connected"

        double.set_torrent("a" * 40, progress=0.75)
        del double.torrents["b" * 40]
        second = (await client.call("GET", "sync/maindata", params={"rid": "1"})).json()
        assert second == {
            "rid": 2,
            "torrents": {"a" * 40: {"progress": 0.75}},
            "torrents_removed": ["b" * 40],
        }
        unchanged = (await client.call("GET", "sync/maindata", params={"rid": "2"})).json()
        assert unchanged == {"rid": 3}
        stale = (await client.call("GET", "sync/maindata", params={"rid": "1"})).json()
        assert stale["full_update"] is True  # neither the last sent nor the accepted rid

        double.expire_sessions()
        await client.login()
        fresh = (await client.call("GET", "sync/maindata", params={"rid": "4"})).json()
        assert fresh["full_update"] is True and fresh["rid"] == 1  # state is per session


# ---- login, cookie, refused logins --------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_login_is_accepted_and_its_cookie_sent_back(version: str) -> None:
    async with running(version=version) as (double, client):
        assert await client.app_version() == f"v{version}"
        assert await client.api_version() == API[version]
        assert client.flavor.stop_endpoint == "torrents/stop"
        assert client.flavor.add_answers_json is (version == "5.2.3")

        login = next(r for r in double.received if r.endpoint == "auth/login")
        assert login.status == (204 if version == "5.2.3" else 200)
        cookie = f"QBT_SID_{double.port}" if version == "5.2.3" else "SID"
        assert [c.key for c in client.session.cookie_jar] == [cookie]
        after = double.received[-1]
        assert (after.endpoint, after.status) == ("app/version", 200)
        assert list(after.cookies) == [cookie]
        assert double.login_attempts == client.login_attempts == 1


async def test_cookie_is_named_after_qbittorrents_own_port_not_the_one_reached() -> None:
    """Docker's -p <other>:8080 with Host-header validation off: the cookie says 8080."""
    async with running(web_port=8080, host_header_validation=False) as (double, client):
        assert await client.torrents() == []
        assert double.port != 8080
        assert [c.key for c in client.session.cookie_jar] == ["QBT_SID_8080"]
        assert double.received[-1].cookies.keys() == {"QBT_SID_8080"}


@pytest.mark.parametrize("version", VERSIONS)
async def test_wrong_password_costs_exactly_one_login_attempt(version: str) -> None:
    async with running(password="wrong", version=version) as (double, client):
        with pytest.raises(BadCredentialsError) as first:
            await client.torrents()
        assert first.value.status == (401 if version == "5.2.3" else 200)
        assert double.login_attempts == 1
        with pytest.raises(BadCredentialsError):
            await client.torrents()
        with pytest.raises(BadCredentialsError):
            await client.stop(["a" * 40])
        assert double.login_attempts == client.login_attempts == 1
        assert double.hits("torrents/info") == 0


async def test_explicit_login_is_the_users_try_again() -> None:
    async with running(password="new-secret") as (double, client):
        with pytest.raises(BadCredentialsError):
            await client.torrents()
        double.password = "new-secret"  # the user fixes qBittorrent's side
        await client.login()
        assert await client.torrents() == []
        assert double.login_attempts == 2


@pytest.mark.parametrize("cause", ["401 switch", "port remap"])
async def test_401_to_everything_is_request_rejected_not_bad_credentials(cause: str) -> None:
    options: dict[str, Any] = {"web_port": 8080} if cause == "port remap" else {}
    async with running(version="5.2.3", **options) as (double, client):
        double.reject_all_401 = cause == "401 switch"
        with pytest.raises(RequestRejectedError) as caught:
            await client.torrents()
        assert not isinstance(caught.value, BadCredentialsError)
        assert "doctor" in str(caught.value)
        assert since(double, 0) == [("auth/login", 401), ("app/version", 401)]
        with pytest.raises(RequestRejectedError):
            await client.torrents()
        assert double.login_attempts == 1


@pytest.mark.parametrize("version", VERSIONS)
async def test_ban_is_reported_as_ip_banned(version: str) -> None:
    async with Qbt5Double(version=version, max_auth_fail_count=2) as double:
        for _ in range(2):
            async with QBittorrentClient(QbtConfig(double.url, USER, "wrong")) as client:
                with pytest.raises(BadCredentialsError):
                    await client.torrents()
        async with QBittorrentClient(QbtConfig(double.url, USER, PASSWORD)) as client:
            with pytest.raises(IpBannedError) as caught:
                await client.torrents()
            assert caught.value.status == 403
            assert "banned" in caught.value.message
            with pytest.raises(IpBannedError):
                await client.torrents()
        assert double.login_attempts == 3


# ---- endpoints renamed in 5.0 -------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_stop_and_start_use_the_5x_endpoints(version: str) -> None:
    async with running(version=version) as (double, client):
        info_hash = "c" * 40
        double.put_torrent(info_hash, name="C", progress=0.25, state="downloading")
        await client.stop([info_hash])
        torrent = await client.torrent(info_hash)
        assert torrent is not None and torrent["state"] == "stoppedDL"
        await client.start([info_hash])
        torrent = await client.torrent(info_hash)
        assert torrent is not None and torrent["state"] == "stalledDL"

        stop = next(r for r in double.received if r.endpoint == "torrents/stop")
        assert stop.params == {"hashes": info_hash}
        assert stop.status == (204 if version == "5.2.3" else 200)
        assert double.hits("torrents/start") == 1
        assert double.hits("torrents/pause") == double.hits("torrents/resume") == 0


@pytest.mark.parametrize("version", VERSIONS)
async def test_add_magnet_sends_stopped_and_reads_the_answer(version: str) -> None:
    async with running(version=version) as (double, client):
        source = magnet(1)
        options = AddOptions(
            category="audiobooks", tags=["earmark", "book-1"], save_path="/books", stopped=True
        )
        result = await client.add(source, options)
        assert result == AddResult(source.info_hash, "Dune Unabridged", already_present=False)

        assert double.last_add_form == {
            "urls": source.uri,
            "category": "audiobooks",
            "tags": "earmark,book-1",
            "savepath": "/books",
            "stopped": "true",
        }
        if version == "5.2.3":
            status, body = double.last_add_answer or (0, "")
            assert status == 200
            assert json.loads(body) == {
                "success_count": 1,
                "failure_count": 0,
                "pending_count": 0,
                "added_torrent_ids": [source.info_hash],
            }
        else:
            assert double.last_add_answer == (200, "Ok.")

        torrent = await client.torrent(source.info_hash)
        assert torrent is not None
        assert torrent["state"] == "stoppedDL"
        assert (torrent["category"], torrent["tags"], torrent["save_path"]) == (
            "audiobooks",
            "book-1, earmark",
            "/books",
        )


async def test_add_torrent_file_uploads_it_as_multipart() -> None:
    async with running(version="5.2.3") as (double, client):
        source = torrent_file()
        result = await client.add(source, AddOptions(rename="Dune (2020)"))
        assert result == AddResult(source.info_hash, "Dune (2020)", already_present=False)
        assert double.last_add_files == [f"{source.info_hash}.torrent"]
        assert "stopped" not in (double.last_add_form or {})

        files = await client.files(source.info_hash)
        assert [(f["name"], f["size"]) for f in files] == [
            ("Dune/01 - Dune.m4b", 40_000),
            ("Dune/02 - Dune.m4b", 30_000),
        ]
        properties = await client.properties(source.info_hash)
        assert (properties["name"], properties["total_size"]) == ("Dune (2020)", 70_000)


@pytest.mark.parametrize("version", VERSIONS)
async def test_adding_a_duplicate_is_already_present_not_an_error(version: str) -> None:
    async with running(version=version) as (double, client):
        source = magnet(2)
        assert (await client.add(source)).already_present is False
        again = await client.add(source)
        assert again == AddResult(source.info_hash, "Dune Unabridged", already_present=True)
        assert double.hits("torrents/add") == 1


async def test_add_waits_while_qbittorrent_adds_asynchronously() -> None:
    async with running(version="5.2.3", add_delay=0.3) as (double, client):
        source = magnet(3)
        result = await client.add(source)
        assert result.already_present is False
        assert double.hits("torrents/info") >= 3  # the pre-check, then polls until listed


async def test_invalid_torrent_file_is_415() -> None:
    bogus = TorrentFile(
        data=b"<html>not a torrent</html>",
        name="bogus",
        info_hash_v1="d" * 40,
        info_hash_v2=None,
        total_size=1,
        files=(("bogus", 1),),
        trackers=(),
    )
    async with running(version="5.2.3") as (double, client):
        with pytest.raises(HttpStatusError) as caught:
            await client.add(bogus)
        assert caught.value.status == 415
        assert "is not a valid torrent file" in (caught.value.answer or "")
        assert double.torrents == {}


@pytest.mark.parametrize("version", VERSIONS)
async def test_categories_tags_and_delete(version: str) -> None:
    async with running(version=version) as (double, client):
        await client.create_category("audiobooks", "/books")
        await client.create_category("audiobooks", "/books")  # 409 "exists" is fine
        assert await client.categories() == {
            "audiobooks": {"name": "audiobooks", "savePath": "/books"}
        }
        info_hash = "e" * 40
        double.put_torrent(info_hash, name="E")
        await client.set_category([info_hash], "audiobooks")
        await client.add_tags([info_hash], ["earmark", "book-2"])
        torrent = await client.torrent(info_hash)
        assert torrent is not None
        assert (torrent["category"], torrent["tags"]) == ("audiobooks", "book-2, earmark")
        with pytest.raises(HttpStatusError) as caught:
            await client.set_category([info_hash], "no-such-category")
        assert caught.value.status == 409

        await client.delete([info_hash], delete_files=False)
        assert await client.torrent(info_hash) is None
        delete = next(r for r in double.received if r.endpoint == "torrents/delete")
        assert delete.params == {"hashes": info_hash, "deleteFiles": "false"}


# ---- states and the sync mirror -----------------------------------------------------------


async def test_states_come_back_in_5x_names_through_info_and_sync() -> None:
    async with running(version="5.2.3") as (double, client):
        double.put_torrent("f" * 40, name="F", progress=0.5, state="stoppedDL")
        double.put_torrent("0" * 40, name="G", progress=1.0, state="stoppedUP")
        states = {t["hash"]: t["state"] for t in await client.torrents()}
        assert states == {"f" * 40: "stoppedDL", "0" * 40: "stoppedUP"}
        stopped = await client.torrents(filter="stopped")
        assert len(stopped) == 2

        change = await client.sync()
        assert change.full_update and change.added == {"f" * 40, "0" * 40}
        assert client.mirror.torrents["f" * 40]["state"] == "stoppedDL"
        double.set_torrent("f" * 40, state="downloading", dlspeed=1000)
        change = await client.sync()
        assert not change.full_update
        assert change.changed == {"f" * 40: {"state", "dlspeed"}}


# ---- expired sessions ---------------------------------------------------------------------


async def test_expired_session_costs_one_relogin_and_one_retry() -> None:
    async with running(version="5.2.3") as (double, client):
        double.put_torrent("1" * 40, name="H")
        await client.torrents()
        double.expire_sessions()
        start = len(double.received)
        assert [t["hash"] for t in await client.torrents()] == ["1" * 40]
        assert since(double, start) == [
            ("torrents/info", 403),
            ("app/webapiVersion", 403),  # the probe: expired, not an endpoint's own 403
            ("auth/login", 204),
            ("app/webapiVersion", 200),
            ("torrents/info", 200),
        ]
        assert double.login_attempts == client.login_attempts == 2


async def test_idle_timeout_expires_the_session_and_its_cookie() -> None:
    async with running(version="5.2.3", session_timeout=2) as (double, client):
        await client.torrents()
        await asyncio.sleep(2.2)  # idle longer than web_ui_session_timeout
        assert await client.torrents() == []
        assert double.login_attempts == 2


async def test_expired_session_restarts_the_mirror_with_a_full_update() -> None:
    async with running(version="5.2.3") as (double, client):
        double.put_torrent("2" * 40, name="I", progress=0.5, state="downloading")
        double.put_torrent("3" * 40, name="J", progress=0.5, state="downloading")
        assert (await client.sync()).full_update
        double.set_torrent("2" * 40, progress=0.6)
        assert not (await client.sync()).full_update
        assert client.mirror.rid == 2

        double.expire_sessions()  # a restart: meanwhile one torrent went, one stopped
        del double.torrents["3" * 40]
        double.set_torrent("2" * 40, state="stoppedDL")
        change = await client.sync()
        assert change.full_update
        assert change.removed == {"3" * 40}
        assert client.mirror.torrents.keys() == {"2" * 40}
        assert client.mirror.torrents["2" * 40]["state"] == "stoppedDL"
        assert client.mirror.rid == 1  # the new session's numbering
        assert double.login_attempts == 2
        assert [s for e, s in since(double, 0) if e == "sync/maindata"] == [200, 200, 403, 200]

        assert not (await client.sync()).full_update  # and diffs resume in the new session
        assert double.received[-1].params == {"rid": "1"}


async def test_session_expiring_again_during_the_retry_does_not_loop() -> None:
    async with running(version="5.2.3") as (double, client):
        await client.torrents()
        double.expire_sessions_on("torrents/info", times=2)
        start = len(double.received)
        with pytest.raises(ForbiddenError):
            await asyncio.wait_for(client.torrents(), timeout=10)
        assert since(double, start) == [
            ("torrents/info", 403),
            ("app/webapiVersion", 403),
            ("auth/login", 204),
            ("app/webapiVersion", 200),
            ("torrents/info", 403),
        ]
        assert double.login_attempts == 2  # the first login and exactly one re-login

        assert await client.torrents() == []  # the next call gets its own single re-login
        assert double.login_attempts == 3


# ---- the doctor ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_doctor_says_ok(version: str) -> None:
    async with Qbt5Double(version=version) as double:
        diagnosis = await diagnose(QbtConfig(double.url, USER, PASSWORD))
    assert diagnosis.verdict == "ok", diagnosis.to_json()
    assert diagnosis.api_version == ".".join(map(str, API[version]))
    assert diagnosis.qbittorrent_version == f"qBittorrent v{version}"
    assert diagnosis.login_attempts == double.login_attempts == 1
    cookie = f"QBT_SID_{double.port}" if version == "5.2.3" else "SID"
    login = next(s for s in diagnosis.steps if s.name == "login")
    assert cookie in login.detail
    json.dumps(diagnosis.to_json())


@pytest.mark.parametrize("version", VERSIONS)
async def test_doctor_says_bad_credentials_after_one_attempt(version: str) -> None:
    async with Qbt5Double(version=version) as double:
        diagnosis = await diagnose(QbtConfig(double.url, USER, "wrong"))
    assert diagnosis.verdict == "bad_credentials", diagnosis.to_json()
    assert diagnosis.login_attempts == double.login_attempts == 1
    assert double.received[-1].status == (401 if version == "5.2.3" else 200)


async def test_doctor_says_ip_banned() -> None:
    async with Qbt5Double(version="5.2.3", max_auth_fail_count=1) as double:
        async with QBittorrentClient(QbtConfig(double.url, USER, "wrong")) as client:
            with pytest.raises(BadCredentialsError):
                await client.torrents()
        diagnosis = await diagnose(QbtConfig(double.url, USER, PASSWORD))
    assert diagnosis.verdict == "ip_banned", diagnosis.to_json()
    assert diagnosis.preference_change == {"web_ui_max_auth_fail_count": 10}
    assert diagnosis.login_attempts == 1 and double.login_attempts == 2


async def test_doctor_tells_401_to_everything_from_bad_credentials() -> None:
    async with Qbt5Double(version="5.2.3") as double:
        double.reject_all_401 = True
        diagnosis = await diagnose(QbtConfig(double.url, USER, PASSWORD))
    assert diagnosis.verdict == "csrf_rejected", diagnosis.to_json()
    assert diagnosis.login_attempts == double.login_attempts == 0


async def test_doctor_finds_a_port_remap() -> None:
    async with Qbt5Double(version="5.2.3", web_port=8080) as double:
        diagnosis = await diagnose(QbtConfig(double.url, USER, PASSWORD))
    assert diagnosis.verdict == "host_header_rejected", diagnosis.to_json()
    assert "listens on port 8080" in diagnosis.summary
    assert f"port {double.port}" in diagnosis.summary
    assert diagnosis.preference_change == {"web_ui_host_header_validation_enabled": False}
    assert diagnosis.login_attempts == double.login_attempts == 1


# ---- client bugs the double shows (see the report; strict: they flip when fixed) ----------


async def test_maindata_retry_after_relogin_sends_rid_0() -> None:
    async with running(version="5.2.3") as (double, client):
        await client.sync()
        await client.sync()
        double.expire_sessions()
        await client.sync()
        rids = [r.params["rid"] for r in double.received if r.endpoint == "sync/maindata"]
        assert rids == ["0", "1", "2", "0"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_duplicate_added_meanwhile_is_already_present(version: str) -> None:
    async with running(version=version) as (double, client):
        source = magnet(4)
        double.preempt_next_add()
        result = await client.add(source)
        assert result == AddResult(source.info_hash, "Dune Unabridged", already_present=True)


async def test_request_in_flight_during_another_calls_relogin_is_retried() -> None:
    async with running(version="5.2.3") as (double, client):
        info_hash = "4" * 40
        double.put_torrent(info_hash, name="K", files=[("K/k.m4b", 10)])
        await client.torrents()
        double.expire_sessions()
        double.slow_down("torrents/files", 1.0)
        slow = asyncio.create_task(client.files(info_hash))
        await asyncio.wait_for(double.arrival("torrents/files").wait(), 5)  # old cookie
        await client.torrents()  # re-logs in while the slow request is in flight
        assert [f["name"] for f in await slow] == ["K/k.m4b"]
        assert double.login_attempts == 2
