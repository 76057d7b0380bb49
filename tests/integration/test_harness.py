"""The harness proves itself: if these fail, no real-server test can be trusted."""

from __future__ import annotations

import hashlib
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import bencode2
import mutagen
import pytest

from tests.harness import qbt as qbt_module
from tests.harness.audiobook import build_torrent, info_hash, make_audiobook
from tests.harness.forwarder import PortForwarder
from tests.harness.net import bound_sockets, non_loopback
from tests.harness.nginx import start_nginx
from tests.harness.qbt import (
    QBT_PASSWORD,
    QBT_USER,
    QbtAdmin,
    QbtFactory,
    QbtInstance,
    QbtStartError,
)
from tests.harness.servers import NotQbittorrentServer
from tests.harness.swarm import make_swarm
from tests.harness.tls import make_self_signed
from tests.harness.tools import require_tool
from tests.harness.wait import GiveUp, async_wait_until, free_port, wait_until

pytestmark = pytest.mark.qbt


def test_instance_is_loopback_only(qbt: QbtInstance) -> None:
    """Every conf key the harness writes is in effect, and the real sockets agree."""
    prefs = qbt.admin().preferences()
    assert prefs["listen_port"] == qbt.bt_port
    assert prefs["current_network_interface"] == "lo"
    assert prefs["current_interface_address"] == "127.0.0.1"
    assert prefs["dht"] is False
    assert prefs["lsd"] is False
    assert prefs["pex"] is False
    assert prefs["upnp"] is False
    assert prefs["web_ui_upnp"] is False
    assert prefs["resolve_peer_countries"] is False
    assert prefs["web_ui_port"] == qbt.web_port
    assert prefs["web_ui_address"] == "127.0.0.1"
    assert prefs["web_ui_username"] == QBT_USER
    assert prefs["web_ui_max_auth_fail_count"] == 5
    assert prefs["bypass_local_auth"] is False
    assert prefs["use_https"] is False
    assert prefs["temp_path_enabled"] is False
    assert prefs["queueing_enabled"] is False
    assert prefs["refresh_interval"] == 100
    assert prefs["locale"] == "en"
    assert Path(prefs["save_path"]) == qbt.downloads

    sockets = bound_sockets(qbt.process.pid)
    assert ("tcp", "127.0.0.1", qbt.web_port) in sockets
    assert ("tcp", "127.0.0.1", qbt.bt_port) in sockets
    assert non_loopback(sockets) == [], f"bound beyond loopback: {sockets}"
    assert "qBittorrent v" in qbt.log_text()
    assert "Distributed Hash Table (DHT) support: OFF" in qbt.log_text()


def test_custom_auth_settings_take_effect(qbt_factory: QbtFactory) -> None:
    """max_auth_fail and local_host_auth=False (bypass) reach qBittorrent."""
    instance = qbt_factory(max_auth_fail=2, local_host_auth=False)
    with urllib.request.urlopen(f"{instance.url}/api/v2/app/version", timeout=5) as response:
        assert response.status == 200  # loopback client bypasses the login
        assert response.read().decode().startswith("v")
    prefs = QbtAdmin(instance.url).preferences()
    assert prefs["web_ui_max_auth_fail_count"] == 2
    assert prefs["bypass_local_auth"] is True


def test_failed_logins_ban_after_max_auth_fail(qbt_factory: QbtFactory) -> None:
    """MaxAuthenticationFailCount really bans: after 2 failures even the right password
    gets HTTP 403."""
    instance = qbt_factory(max_auth_fail=2)
    wrong = QbtAdmin(instance.url, QBT_USER, "nope")
    assert [wrong.login().refused, wrong.login().refused] == [True, True]
    banned = QbtAdmin(instance.url).request(
        "POST", "/api/v2/auth/login", data={"username": QBT_USER, "password": QBT_PASSWORD}
    )
    assert banned.status == 403
    assert "banned" in banned.text


def test_login_answers(qbt: QbtInstance) -> None:
    """Wrong password refused, right one accepted, each in the server's own terms:
    200 "Fails."/"Ok." up to 5.1, 401/204 (empty body) from 5.2."""
    anonymous = QbtAdmin(qbt.url, auto_login=False)
    assert anonymous.request("GET", "/api/v2/app/version").status == 403
    wrong = QbtAdmin(qbt.url, QBT_USER, "wrong password").login()
    admin = QbtAdmin(qbt.url, QBT_USER, QBT_PASSWORD)
    right = admin.login()
    if admin.facts().login_is_204:
        assert (wrong.status, right.status, right.text) == (401, 204, "")
    else:
        assert (wrong.status, wrong.text, right.status, right.text) == (200, "Fails.", 200, "Ok.")
    assert admin.version() == admin.facts().version and admin.version().startswith("v")
    assert admin.torrents() == []


def test_restart_keeps_ports_and_drops_sessions(qbt: QbtInstance) -> None:
    """restart() reuses profile and ports; old SIDs die as after a real restart."""
    admin = qbt.admin()
    admin.set_preferences({"max_active_downloads": 7})
    web_port, bt_port = qbt.web_port, qbt.bt_port
    qbt.restart()
    assert (qbt.web_port, qbt.bt_port) == (web_port, bt_port)
    stale = admin.request("GET", "/api/v2/app/version")
    assert stale.status == 403
    assert admin.preferences()["max_active_downloads"] == 7  # auto re-login; saved on exit


def test_real_transfer_between_two_instances(qbt_factory: QbtFactory, tmp_path: Path) -> None:
    """A leecher downloads the seeder's audiobook over loopback, byte for byte."""
    swarm = make_swarm(qbt_factory, tmp_path)
    swarm.add_to_leecher()
    assert swarm.connect() == {swarm.info_hash: {"added": 1, "failed": 0}}
    leecher = swarm.leecher_admin()
    info = leecher.wait_for_torrent(swarm.info_hash, timeout=30, progress=1)  # a hang guard

    downloaded = Path(info["content_path"])
    assert downloaded == swarm.leecher.downloads / swarm.book_dir.name
    originals = sorted(p.relative_to(swarm.book_dir) for p in swarm.book_dir.rglob("*.mp3"))
    assert len(originals) == 3
    assert sorted(p.relative_to(downloaded) for p in downloaded.rglob("*.mp3")) == originals
    for rel in originals:
        assert (downloaded / rel).read_bytes() == (swarm.book_dir / rel).read_bytes()


@pytest.mark.parametrize("fmt", ["mp3", "m4b", "flac", "opus"])
def test_make_audiobook_formats(tmp_path: Path, fmt: str) -> None:
    """Each format decodes back (mutagen and ffprobe) with the requested duration."""
    book = make_audiobook(tmp_path, "Duration Book", files=2, seconds=1.5, fmt=fmt)
    tracks = sorted(book.iterdir())
    assert [t.name for t in tracks] == [f"0{n} - Duration Book.{fmt}" for n in (1, 2)]
    ffprobe = require_tool("ffprobe")
    for track in tracks:
        audio = mutagen.File(track)
        assert audio is not None, track
        assert audio.info.length == pytest.approx(1.5, abs=0.15)
        probed = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", track],
            capture_output=True,
            text=True,
            check=True,
        )
        assert float(probed.stdout) == pytest.approx(1.5, abs=0.15)


def test_make_audiobook_disc_folders(tmp_path: Path) -> None:
    """disc_folders splits the tracks over two folders, numbering per disc."""
    book = make_audiobook(tmp_path, "Discs", files=3, seconds=0.5, disc_folders=True)
    names = sorted(str(p.relative_to(book)) for p in book.rglob("*.mp3"))
    assert names == ["Disc 1/01 - Discs.mp3", "Disc 1/02 - Discs.mp3", "Disc 2/01 - Discs.mp3"]


def test_build_torrent_structure(tmp_path: Path) -> None:
    """Multi-file and single-file metainfo: sorted path lists, private, no trackers."""
    book = make_audiobook(tmp_path, "Meta", files=2, seconds=0.5, disc_folders=True)
    meta = bencode2.bdecode(build_torrent(book, piece_length=32768))
    assert set(meta) == {b"info", b"created by", b"creation date"}  # no announce
    info = meta[b"info"]
    assert info[b"private"] == 1
    assert info[b"piece length"] == 32768
    assert [f[b"path"] for f in info[b"files"]] == [
        [b"Disc 1", b"01 - Meta.mp3"],
        [b"Disc 2", b"01 - Meta.mp3"],
    ]
    total = sum(f[b"length"] for f in info[b"files"])
    assert len(info[b"pieces"]) == 20 * -(-total // 32768)

    single = build_torrent(next(book.rglob("*.mp3")))
    assert b"length" in bencode2.bdecode(single)[b"info"]
    expected = hashlib.sha1(bencode2.bencode(bencode2.bdecode(single)[b"info"])).hexdigest()
    assert info_hash(single) == expected


def test_nginx_proxies_to_qbittorrent(qbt: QbtInstance, tmp_path: Path) -> None:
    """A sub-path reverse proxy reaches the WebUI and its login."""
    block = f"""
        location /qbt/ {{
            proxy_pass http://127.0.0.1:{qbt.web_port}/;
            proxy_set_header Host 127.0.0.1:{qbt.web_port};
        }}
    """
    with start_nginx(tmp_path / "nginx", block) as nginx:
        admin = QbtAdmin(f"{nginx.url}/qbt")
        assert admin.login().ok
        assert admin.version() == qbt.admin().facts().version
        assert "GET /qbt/api/v2/app/version" in (tmp_path / "nginx/logs/access.log").read_text()


def test_forwarder_emulates_a_docker_port_remap(qbt_factory: QbtFactory) -> None:
    """Through the forwarder the Host header names a foreign port: qBittorrent's Host
    header validation refuses it (401), exactly as behind ``docker -p 8081:8080``;
    with validation off (``extra``) the whole session is relayed."""
    strict = qbt_factory()
    with PortForwarder(strict.web_port) as forwarder:
        assert forwarder.port != strict.web_port
        answer = QbtAdmin(forwarder.url).request("POST", "/api/v2/auth/login", data={})
        assert (answer.status, answer.text) == (401, "Unauthorized")
        assert forwarder.connections == 1

    lenient = qbt_factory(extra={"Preferences": {"WebUI\\HostHeaderValidation": "false"}})
    with PortForwarder(lenient.web_port) as forwarder:
        admin = QbtAdmin(forwarder.url)
        assert admin.login().ok
        prefs = admin.preferences()
        assert prefs["web_ui_port"] == lenient.web_port
        assert prefs["web_ui_host_header_validation_enabled"] is False


def test_forwarder_relays_large_payloads_both_ways() -> None:
    """Bytes are relayed unchanged in both directions, with EOF propagated."""
    payload = bytes(range(256)) * 4096  # 1 MiB
    with socket.create_server(("127.0.0.1", 0)) as echo:
        port = echo.getsockname()[1]
        with PortForwarder(port) as forwarder:
            client = socket.create_connection(("127.0.0.1", forwarder.port), timeout=10)
            server, _ = echo.accept()
            with client, server:
                client.sendall(payload)
                client.shutdown(socket.SHUT_WR)
                received = bytearray()
                while chunk := server.recv(65536):
                    received += chunk
                assert received == payload
                server.sendall(b"pong")
                server.shutdown(socket.SHUT_WR)
                assert client.recv(16) == b"pong"


def test_not_qbittorrent_server() -> None:
    """The stand-in server answers every path with an "It works!" page."""
    with NotQbittorrentServer() as server:
        for path in ("/", "/api/v2/app/version", "/api/v2/auth/login"):
            with urllib.request.urlopen(server.url + path, timeout=5) as response:
                assert response.status == 200
                assert b"It works!" in response.read()


def test_https_instance_with_self_signed_cert(qbt_factory: QbtFactory, tmp_path: Path) -> None:
    """qBittorrent serves our self-signed cert; the fingerprint matches openssl's."""
    cert, key, fingerprint = make_self_signed(tmp_path / "tls")
    openssl = subprocess.run(
        [require_tool("openssl"), "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert openssl.stdout.strip().split("=", 1)[1].replace(":", "").lower() == fingerprint

    instance = qbt_factory(https=(cert, key))
    assert instance.url.startswith("https://")
    admin = QbtAdmin(instance.url)
    assert admin.login().ok
    prefs = admin.preferences()
    assert prefs["use_https"] is True
    assert Path(prefs["web_ui_https_cert_path"]) == cert
    assert Path(prefs["web_ui_https_key_path"]) == key

    served = ssl.get_server_certificate(("127.0.0.1", instance.web_port))
    assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(served)).hexdigest() == fingerprint
    verified = ssl.create_default_context(cafile=str(cert))
    with pytest.raises(OSError):  # plain http on the TLS port: connection dropped
        urllib.request.urlopen(f"http://127.0.0.1:{instance.web_port}/", timeout=5)
    try:  # the SAN makes it verifiable when the cert itself is trusted
        urllib.request.urlopen(f"{instance.url}/api/v2/app/version", timeout=5, context=verified)
    except urllib.error.HTTPError as exc:
        assert exc.code == 403


def test_wait_until_names_what_it_waited_for() -> None:
    """A timeout says what never happened and why the last attempt failed."""

    def broken() -> bool:
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(TimeoutError, match=r"the moon.*nobody home"):
        wait_until(broken, timeout=0.2, interval=0.01, what="the moon")
    assert wait_until(lambda: 42, timeout=1) == 42
    assert free_port() != free_port()


def test_start_failure_is_fast_and_explained(qbt_factory: QbtFactory, tmp_path: Path) -> None:
    """A broken https setup (qBittorrent silently falls back to http) fails at once,
    with qBittorrent's own log in the error, instead of after the 20 s deadline."""
    missing = tmp_path / "missing.pem"
    with pytest.raises(QbtStartError, match="HTTPS setup failed") as failure:
        qbt_factory(https=(missing, missing))
    # given up on the logged problem, not at the deadline (a timeout's tail may quote it too)
    cause = failure.value.__cause__
    assert isinstance(cause, GiveUp) and not isinstance(cause, TimeoutError), repr(cause)
    assert "HTTPS setup failed" in str(cause)
    assert "qbittorrent.log" in str(failure.value)
    assert all(not instance.is_running() for instance in qbt_factory.instances)


def test_port_taken_is_retried_with_new_ports(
    qbt_factory: QbtFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another program grabbed the chosen WebUI port, start-up retries once."""
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        taken = squatter.getsockname()[1]
        ports = iter([taken, free_port()])
        monkeypatch.setattr(qbt_module, "free_port", lambda: next(ports, None) or free_port())
        instance = qbt_factory()
    assert instance.web_port != taken
    assert instance.admin().version().startswith("v")


async def test_async_wait_until_accepts_coroutines() -> None:
    """The async variant awaits coroutine predicates and times out the same way."""
    calls: list[int] = []

    async def third_time_lucky() -> bool:
        calls.append(1)
        return len(calls) >= 3

    assert await async_wait_until(third_time_lucky, timeout=2, interval=0.01) is True
    with pytest.raises(TimeoutError, match="never"):
        await async_wait_until(lambda: False, timeout=0.1, interval=0.01, what="never")
