"""Every doctor verdict that a real qbittorrent-nox (plus nginx, TLS, a port remap) can show.

Each test builds the broken setup for real and asserts the verdict, the words a user
needs (which port, which cookie, which fingerprint) and that the run spent at most one
login attempt.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from yarl import URL

from gui.clients.doctor import Diagnosis, diagnose
from gui.clients.http import HttpOptions
from gui.clients.qbittorrent import QbtConfig
from tests.conftest import QbtFactory
from tests.harness.forwarder import PortForwarder
from tests.harness.nginx import start_nginx
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.servers import NotQbittorrentServer
from tests.harness.tls import make_self_signed
from tests.harness.wait import free_port

pytestmark = pytest.mark.qbt

REPO = Path(__file__).resolve().parents[2]


async def run_doctor(
    url: str,
    *,
    password: str = QBT_PASSWORD,
    fingerprint: str | None = None,
) -> Diagnosis:
    config = QbtConfig(
        url,
        QBT_USER,
        password,
        http=HttpOptions(connect_timeout=5, total_timeout=15, tls_fingerprint=fingerprint),
    )
    return await diagnose(config)


def failed_logins(instance: QbtInstance) -> int:
    return instance.log_text().count("WebAPI login failure")


def step(diagnosis: Diagnosis, name: str) -> str:
    return next(s.detail for s in diagnosis.steps if s.name == name)


async def test_healthy_server_by_ip_address(qbt: QbtInstance) -> None:
    diagnosis = await run_doctor(qbt.url)
    assert diagnosis.verdict == "ok", diagnosis
    assert diagnosis.login_attempts == 1
    assert "SID" in step(diagnosis, "login")
    assert diagnosis.api_version == qbt.admin().facts().api_version
    assert diagnosis.security == []


async def test_wrong_password_is_one_attempt(qbt: QbtInstance) -> None:
    diagnosis = await run_doctor(qbt.url, password="wrong")
    assert diagnosis.verdict == "bad_credentials"
    assert diagnosis.login_attempts == 1
    assert "Earmark will not retry" in diagnosis.fix
    assert failed_logins(qbt) == 1


async def test_ban_is_recognised_and_never_retried(qbt_factory: QbtFactory) -> None:
    instance = qbt_factory(max_auth_fail=1)
    first = await run_doctor(instance.url, password="wrong")
    assert first.verdict == "bad_credentials"
    assert first.login_attempts == 1
    # Banned now: even the right password is refused, and the doctor says why.
    second = await run_doctor(instance.url)
    assert second.verdict == "ip_banned"
    assert second.login_attempts == 1
    assert "3600 s" in second.summary and "restarting qBittorrent" in second.summary
    assert second.preference_change == {"web_ui_max_auth_fail_count": 10}
    # qBittorrent's own log: exactly one login per run, nothing retried.
    log = instance.log_text()
    assert log.count("Reason: invalid credentials") == 1
    assert log.count("Reason: IP has been banned") == 1


async def test_host_header_port_remap_names_the_expected_port(qbt: QbtInstance) -> None:
    with PortForwarder(qbt.web_port) as remap:  # like docker -p <other>:<qbt port>
        diagnosis = await run_doctor(remap.url)
    assert diagnosis.verdict == "host_header_rejected", diagnosis
    assert f"listens on port {qbt.web_port}" in diagnosis.summary
    assert f"port {remap.port}" in diagnosis.summary
    assert "web_ui_host_header_validation_enabled" in diagnosis.fix
    assert diagnosis.login_attempts == 1


async def test_reverse_proxy_at_sub_path_is_healthy(qbt: QbtInstance, tmp_path: Path) -> None:
    block = f"""
        location /qbt/ {{
            proxy_pass http://127.0.0.1:{qbt.web_port}/;
            proxy_set_header Host 127.0.0.1:{qbt.web_port};
        }}
    """
    with start_nginx(tmp_path / "nginx", block) as proxy:
        diagnosis = await run_doctor(f"{proxy.url}/qbt/")
    assert diagnosis.verdict == "ok", diagnosis


async def test_proxy_stripping_set_cookie(qbt: QbtInstance, tmp_path: Path) -> None:
    block = f"""
        location /qbt/ {{
            proxy_pass http://127.0.0.1:{qbt.web_port}/;
            proxy_set_header Host 127.0.0.1:{qbt.web_port};
            proxy_hide_header Set-Cookie;
        }}
    """
    with start_nginx(tmp_path / "nginx", block) as proxy:
        diagnosis = await run_doctor(f"{proxy.url}/qbt/")
    assert diagnosis.verdict == "session_not_kept", diagnosis
    assert "strips Set-Cookie" in diagnosis.summary
    assert "proxy_hide_header" in diagnosis.fix
    assert diagnosis.login_attempts == 1


async def test_proxy_rewriting_cookie_path(qbt: QbtInstance, tmp_path: Path) -> None:
    block = f"""
        location /qbt/ {{
            proxy_pass http://127.0.0.1:{qbt.web_port}/;
            proxy_set_header Host 127.0.0.1:{qbt.web_port};
            proxy_cookie_path / /elsewhere/;
        }}
    """
    with start_nginx(tmp_path / "nginx", block) as proxy:
        diagnosis = await run_doctor(f"{proxy.url}/qbt/")
    assert diagnosis.verdict == "session_not_kept", diagnosis
    assert "Path=/elsewhere/" in diagnosis.summary
    assert "proxy_cookie_path / /qbt/" in diagnosis.fix


async def test_secure_cookie_over_plain_http(tmp_path: Path, qbt_factory: QbtFactory) -> None:
    cert, key, _ = make_self_signed(tmp_path / "tls")
    instance = qbt_factory(https=(cert, key))
    # TLS ends at the proxy's upstream side: Earmark speaks http, qBittorrent sets Secure.
    block = f"""
        location / {{
            proxy_pass https://127.0.0.1:{instance.web_port};
            proxy_ssl_verify off;
            proxy_set_header Host 127.0.0.1:{instance.web_port};
        }}
    """
    with start_nginx(tmp_path / "nginx", block) as proxy:
        diagnosis = await run_doctor(proxy.url)
    assert diagnosis.verdict == "session_not_kept", diagnosis
    assert "marked Secure" in diagnosis.summary
    assert "web_ui_secure_cookie_enabled" in diagnosis.fix


async def test_proxy_adding_a_foreign_origin_is_csrf(qbt: QbtInstance, tmp_path: Path) -> None:
    block = f"""
        location / {{
            proxy_pass http://127.0.0.1:{qbt.web_port};
            proxy_set_header Host 127.0.0.1:{qbt.web_port};
            proxy_set_header Origin http://portal.example;
        }}
    """
    with start_nginx(tmp_path / "nginx", block) as proxy:
        diagnosis = await run_doctor(proxy.url)
    assert diagnosis.verdict == "csrf_rejected", diagnosis
    assert "web_ui_csrf_protection_enabled" in diagnosis.fix
    assert diagnosis.login_attempts == 0


async def test_self_signed_https_unpinned_pinned_and_wrong_pin(
    tmp_path: Path, qbt_factory: QbtFactory
) -> None:
    cert, key, fingerprint = make_self_signed(tmp_path / "tls")
    instance = qbt_factory(https=(cert, key))
    assert instance.url.startswith("https://")

    unpinned = await run_doctor(instance.url)
    assert unpinned.verdict == "tls_error"
    assert "self-signed" in unpinned.summary or "self signed" in unpinned.summary
    assert fingerprint in unpinned.fix  # the user is told exactly what to pin
    assert unpinned.login_attempts == 0

    colon_form = ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    pinned = await run_doctor(instance.url, fingerprint=colon_form)
    assert pinned.verdict == "ok", pinned

    wrong = await run_doctor(instance.url, fingerprint="00" * 32)
    assert wrong.verdict == "tls_error"
    assert fingerprint in wrong.fix
    # Every probe socket is closed when the doctor answers (was: a TLS close waited for a
    # close_notify qBittorrent never sends, and the socket outlived the run).
    assert _sockets_to(URL(instance.url).port) == 0


def _sockets_to(port: int | None) -> int:
    """How many of this process's TCP sockets are connected to `port` (Linux /proc)."""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                ours.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in ours and fields[3] != "07":  # 07 = CLOSE
                count += 1
    return count


async def test_scheme_mismatch_both_ways(tmp_path: Path, qbt_factory: QbtFactory) -> None:
    cert, key, _ = make_self_signed(tmp_path / "tls")
    secure = qbt_factory(https=(cert, key))
    plain = qbt_factory()
    to_tls = await run_doctor(f"http://127.0.0.1:{secure.web_port}/")
    assert to_tls.verdict == "tls_error", to_tls
    assert "expects HTTPS" in to_tls.summary
    to_plain = await run_doctor(f"https://127.0.0.1:{plain.web_port}/")
    assert to_plain.verdict == "tls_error", to_plain
    assert "does not speak TLS" in to_plain.summary


async def test_closed_port_is_unreachable() -> None:
    diagnosis = await run_doctor(f"http://127.0.0.1:{free_port()}/")
    assert diagnosis.verdict == "unreachable"
    assert "Nothing listens" in diagnosis.summary
    assert diagnosis.login_attempts == 0


async def test_server_that_is_not_qbittorrent() -> None:
    with NotQbittorrentServer() as server:
        diagnosis = await run_doctor(server.url)
    assert diagnosis.verdict == "not_qbittorrent", diagnosis
    assert "It works!" in step(diagnosis, "webui")
    assert diagnosis.login_attempts == 0


async def test_localhost_bypass_is_reported_as_security_information(
    qbt_factory: QbtFactory,
) -> None:
    instance = qbt_factory(local_host_auth=False)
    diagnosis = await run_doctor(instance.url, password="not even checked")
    assert diagnosis.verdict == "ok"
    assert diagnosis.login_attempts == 0
    assert any("without a login" in note for note in diagnosis.security)
    assert any("localhost" in note for note in diagnosis.security)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=120,
    )


def cli_env(tmp_path: Path, url: str, password: str = QBT_PASSWORD) -> dict[str, str]:
    return {
        "EARMARK_CONFIG_DIR": str(tmp_path / "profile"),
        "EARMARK_QBT_URL": url,
        "EARMARK_QBT_USERNAME": QBT_USER,
        "EARMARK_QBT_PASSWORD": password,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


def test_cli_doctor_json_contract(qbt: QbtInstance, tmp_path: Path) -> None:
    good = run_cli("doctor", "--json", env=cli_env(tmp_path, qbt.url))
    assert good.returncode == 0, good.stderr
    document = json.loads(good.stdout)
    assert set(document) == {"ok", "verdict", "summary", "fix", "steps"}
    assert document["ok"] is True and document["verdict"] == "ok"
    assert all(set(s) == {"name", "ok", "detail"} for s in document["steps"])

    bad = run_cli("doctor", "--json", env=cli_env(tmp_path, qbt.url, "hunter2-secret"))
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["verdict"] == "bad_credentials"
    assert "hunter2-secret" not in bad.stdout + bad.stderr  # the password never shows

    text = run_cli("doctor", env=cli_env(tmp_path, qbt.url))
    assert text.returncode == 0
    assert "Verdict: ok" in text.stdout


async def test_proxy_basic_auth_missing_wrong_and_right(qbt: QbtInstance, tmp_path: Path) -> None:
    (tmp_path / "htpasswd").write_text("gate:{PLAIN}gate-pass\n")  # nginx's plain scheme
    block = f"""
        location / {{
            auth_basic "qbt";
            auth_basic_user_file {tmp_path / "htpasswd"};
            proxy_pass http://127.0.0.1:{qbt.web_port};
            proxy_set_header Host 127.0.0.1:{qbt.web_port};
            proxy_set_header Authorization "";
        }}
    """

    async def doctor(basic: tuple[str, str] | None) -> Diagnosis:
        options = HttpOptions(connect_timeout=5, total_timeout=15, basic_auth=basic)
        return await diagnose(QbtConfig(proxy.url, QBT_USER, QBT_PASSWORD, http=options))

    with start_nginx(tmp_path / "nginx", block) as proxy:
        missing = await doctor(None)
        wrong = await doctor(("gate", "nope"))
        right = await doctor(("gate", "gate-pass"))
    assert missing.verdict == "bad_credentials"
    assert "HTTP basic auth" in missing.summary
    assert wrong.verdict == "bad_credentials"
    assert "refused the HTTP basic-auth" in wrong.summary
    assert right.verdict == "ok", right
    assert missing.login_attempts == wrong.login_attempts == 0


async def test_server_that_accepts_but_never_answers_is_a_timeout() -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes handshakes; nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        config = QbtConfig(url, QBT_USER, "x", http=HttpOptions(connect_timeout=2, total_timeout=2))
        diagnosis = await diagnose(config)
    assert diagnosis.verdict == "unreachable"
    assert "did not answer in time" in diagnosis.summary


async def test_host_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import socket

    loop = asyncio.get_running_loop()

    async def no_such_host(*args: object, **kwargs: object) -> object:
        # Simulated resolver failure: a real lookup would send a DNS query off this machine.
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", no_such_host)
    diagnosis = await run_doctor("http://qbittorrent.invalid:8080/")
    assert diagnosis.verdict == "unreachable"
    assert "'qbittorrent.invalid' does not resolve" in diagnosis.summary


async def test_host_name_missing_from_server_domains(qbt_factory: QbtFactory) -> None:
    instance = qbt_factory(extra={"Preferences": {"WebUI\\ServerDomains": "127.0.0.1"}})
    diagnosis = await run_doctor(f"http://localhost:{instance.web_port}/")
    assert diagnosis.verdict == "host_header_rejected", diagnosis
    assert "'localhost'" in diagnosis.summary and "Server domains" in diagnosis.summary
    assert diagnosis.preference_change == {"web_ui_domain_list": "localhost"}
    assert diagnosis.working_host_header == "127.0.0.1"
    # The Host the doctor found lets Earmark in meanwhile.
    config = QbtConfig(
        f"http://localhost:{instance.web_port}/",
        QBT_USER,
        QBT_PASSWORD,
        http=HttpOptions(host_header=diagnosis.working_host_header),
    )
    assert (await diagnose(config)).verdict == "ok"
