"""URL handling, TLS pins, error messages and API-version flavours (no network)."""

from __future__ import annotations

import pytest

from gui.clients.errors import BadCredentialsError
from gui.clients.http import display_url, ensure_base_url, normalize_fingerprint
from gui.clients.qbittorrent import AddOptions, ApiFlavor, parse_api_version

FP = "ab" * 32


def test_base_url_keeps_a_reverse_proxy_sub_path() -> None:
    assert str(ensure_base_url("http://nas/qbt")) == "http://nas/qbt/"
    assert str(ensure_base_url("https://nas:8443/qbt/")) == "https://nas:8443/qbt/"
    assert str(ensure_base_url("192.168.0.48:52095")) == "http://192.168.0.48:52095/"


@pytest.mark.parametrize("bad", ["", "ftp://host/", "http://"])
def test_base_url_rejects_what_is_not_http(bad: str) -> None:
    with pytest.raises(ValueError):
        ensure_base_url(bad)


def test_display_url_hides_credentials_and_api_keys() -> None:
    shown = display_url("http://user:pw@host:9696/api?apikey=SECRET")
    assert "pw" not in shown and "SECRET" not in shown and "user" not in shown
    assert shown == "http://host:9696/api"


@pytest.mark.parametrize(
    "text", [FP, FP.upper(), ":".join(FP[i : i + 2] for i in range(0, 64, 2)), f"SHA256={FP}"]
)
def test_fingerprint_forms_users_paste(text: str) -> None:
    assert normalize_fingerprint(text) == FP


def test_fingerprint_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        normalize_fingerprint("ab:cd")


def test_error_message_names_server_endpoint_and_answer() -> None:
    error = BadCredentialsError(
        "wrong user name or password",
        service="qBittorrent",
        url="http://192.168.0.48:52095/",
        endpoint="auth/login",
        status=200,
        answer="Fails.",
    )
    assert str(error) == (
        "qBittorrent at http://192.168.0.48:52095/: wrong user name or password — "
        "the login answered HTTP 200 'Fails.'"
    )


@pytest.mark.parametrize(
    ("version", "stop", "start", "stopped", "json_add"),
    [
        ("2.8.19", "torrents/pause", "torrents/resume", "paused", False),  # 4.5
        ("2.11.2", "torrents/stop", "torrents/start", "stopped", False),  # 5.0
        ("2.15.1", "torrents/stop", "torrents/start", "stopped", True),  # 5.2
    ],
)
def test_flavor_by_web_api_version(
    version: str, stop: str, start: str, stopped: str, json_add: bool
) -> None:
    flavor = ApiFlavor(parse_api_version(version))
    assert flavor.stop_endpoint == stop
    assert flavor.start_endpoint == start
    assert flavor.stopped_param == stopped
    assert flavor.add_answers_json is json_add
    assert AddOptions(stopped=True).form(flavor) == {stopped: "true"}


def test_add_options_map_to_qbittorrent_form_fields() -> None:
    form = AddOptions(
        category="c",
        tags=["x", "y"],
        save_path="/s",
        skip_checking=True,
        sequential=True,
        first_last_piece=True,
        content_layout="Subfolder",
        rename="R",
        upload_limit=1,
        download_limit=2,
        auto_tmm=False,
    ).form(ApiFlavor((2, 8, 19)))
    assert form == {
        "category": "c",
        "tags": "x,y",
        "savepath": "/s",
        "skip_checking": "true",
        "sequentialDownload": "true",
        "firstLastPiecePrio": "true",
        "contentLayout": "Subfolder",
        "rename": "R",
        "upLimit": "1",
        "dlLimit": "2",
        "autoTMM": "false",
    }
