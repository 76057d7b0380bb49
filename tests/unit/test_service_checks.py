"""The Test-button checks against loopback doubles that answer as the real servers do.

The doubles (`tests/doubles/services.py`) carry the sources of every answer; what a check
sent is read back from the double's own records, never from the check.
"""

from __future__ import annotations

import pytest

from gui.clients.service_checks import (
    CheckResult,
    check_audiobookshelf,
    check_prowlarr,
    check_torznab,
    torznab_endpoint,
)
from tests.doubles.indexers import FakeIndexer
from tests.doubles.indexers import ProwlarrDouble as IndexerProwlarrDouble
from tests.doubles.services import (
    AUDIO,
    BOOKS,
    AbsDouble,
    Caps,
    Category,
    JackettDouble,
    ProwlarrDouble,
)
from tests.harness.servers import serving
from tests.harness.wait import free_port


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/"


def assert_no_secret(result: CheckResult, secret: str) -> None:
    assert secret not in result.summary
    assert secret not in repr(result.details)


async def test_prowlarr_ok_sends_the_key_in_the_header_only() -> None:
    async with ProwlarrDouble(instance_name="Attic Prowlarr") as prowlarr:
        result = await check_prowlarr(prowlarr.url, prowlarr.api_key)
    assert result.ok, result
    assert "Attic Prowlarr" in result.summary and prowlarr.version in result.summary
    assert result.details["version"] == prowlarr.version
    (request,) = prowlarr.received
    assert request.path == "/api/v1/system/status"
    assert request.headers["X-Api-Key"] == prowlarr.api_key
    assert "apikey" not in request.query
    assert_no_secret(result, prowlarr.api_key)


async def test_prowlarr_wrong_key_is_named() -> None:
    async with ProwlarrDouble() as prowlarr:
        result = await check_prowlarr(prowlarr.url, "not-the-key")
    assert not result.ok
    assert result.details["problem"] == "wrong_key"
    assert "wrong API key" in result.summary
    assert_no_secret(result, "not-the-key")


async def test_prowlarr_without_a_key_sends_nothing() -> None:
    async with ProwlarrDouble() as prowlarr:
        result = await check_prowlarr(prowlarr.url, "  ")
    assert result.details["problem"] == "no_key"
    assert prowlarr.received == []


async def test_prowlarr_closed_port_is_unreachable() -> None:
    result = await check_prowlarr(closed_port_url(), "key")
    assert not result.ok
    assert result.details["problem"] == "unreachable"
    assert "connection refused" in result.summary


async def test_prowlarr_address_that_serves_a_web_page() -> None:
    async with serving("<html><body>Router login</body></html>") as url:
        result = await check_prowlarr(url, "key")
    assert result.details["problem"] == "not_service"
    assert "not like Prowlarr" in result.summary


@pytest.mark.parametrize("url", ["ftp://nas/", "http://", ""])
async def test_prowlarr_unusable_address(url: str) -> None:
    result = await check_prowlarr(url, "key")
    assert result.details["problem"] == "bad_url"


async def test_prowlarr_address_of_another_arr_names_it() -> None:
    lidarr = '{"appName": "Lidarr", "instanceName": "Lidarr", "version": "2.5.3.4341"}'
    async with serving(lidarr, content_type="application/json") as url:
        result = await check_prowlarr(url, "key")
    assert result.details == {
        "problem": "not_service",
        "app_name": "Lidarr",
        "version": "2.5.3.4341",
    }
    assert "is Lidarr 2.5.3.4341, not Prowlarr" in result.summary


async def test_prowlarr_404_at_the_api_asks_for_the_base_path() -> None:
    async with serving("", status=404, content_type="text/plain") as url:
        result = await check_prowlarr(url, "key")
    assert result.details["problem"] == "not_service"
    assert "base path" in result.summary


# ---- Torznab --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "http://j:9117/api/v2.0/indexers/all/results/torznab/",
            "/api/v2.0/indexers/all/results/torznab",
        ),
        (
            "http://j:9117/api/v2.0/indexers/all/results/torznab/api",
            "/api/v2.0/indexers/all/results/torznab/api",
        ),
        ("http://p:9696/1/", "/1/api"),
        ("http://p:9696/1", "/1/api"),
        ("http://p:9696/prowlarr/api/v1/indexer/3/newznab", "/prowlarr/api/v1/indexer/3/newznab"),
        ("nas:9117/feed?apikey=SECRET", "/feed/api"),
    ],
)
def test_torznab_endpoint_from_what_users_paste(given: str, used: str) -> None:
    endpoint = torznab_endpoint(given)
    assert endpoint.path == used
    assert not endpoint.query_string


@pytest.mark.parametrize("suffix", ["", "api"])
async def test_jackett_feed_ok(suffix: str) -> None:
    async with JackettDouble() as jackett:
        result = await check_torznab(jackett.feed_url() + suffix, jackett.api_key)
    assert result.ok, result
    assert result.details["server"] == "Jackett"
    assert result.details["audiobook_category"] is True
    assert result.details["book_params"] == ["q", "title", "author"]
    assert 3030 in result.details["categories"]
    assert result.details["warnings"] == []
    (request,) = jackett.received
    assert request.query["t"] == "caps"
    assert request.path.rstrip("/").endswith("torznab" if not suffix else "torznab/api")
    assert_no_secret(result, jackett.api_key)


async def test_jackett_wrong_key_is_http_200_with_error_100() -> None:
    async with JackettDouble() as jackett:
        result = await check_torznab(jackett.feed_url(), "wrong-key")
    assert not result.ok
    assert result.details == {
        "problem": "wrong_key",
        "code": "100",
        "description": "Invalid API Key",
    }
    assert "wrong API key" in result.summary
    assert_no_secret(result, "wrong-key")


async def test_jackett_unknown_indexer_reports_its_description() -> None:
    async with JackettDouble() as jackett:
        result = await check_torznab(jackett.feed_url("nosuch"), jackett.api_key)
    assert not result.ok
    assert result.details["code"] == "201"
    assert "Indexer is not supported" in result.summary


async def test_feed_without_audiobooks_works_but_warns() -> None:
    caps = Caps(categories=(BOOKS, Category(5000, "TV")), book_params=("q",))
    async with JackettDouble(indexers={"tv": caps}) as jackett:
        result = await check_torznab(jackett.feed_url("tv"), jackett.api_key)
    assert result.ok
    assert result.details["audiobook_category"] is False
    assert result.details["book_search"] is False
    assert len(result.details["warnings"]) == 2


async def test_prowlarr_indexer_feed_ok_and_wrong_key() -> None:
    async with ProwlarrDouble(indexers={4: Caps(categories=(AUDIO,))}) as prowlarr:
        good = await check_torznab(f"{prowlarr.url}4/", prowlarr.api_key)
        bad = await check_torznab(f"{prowlarr.url}4/", "nope")
    assert good.ok, good
    assert good.details["server"] == "Prowlarr"
    assert not bad.ok and bad.details["problem"] == "wrong_key"
    assert [r.path for r in prowlarr.received] == ["/4/api", "/4/api"]


async def test_xml_with_a_doctype_is_never_parsed() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><caps><server title="&lol2;"/></caps>'
    )
    async with serving(bomb, content_type="application/xml") as url:
        result = await check_torznab(url, "key")
    assert not result.ok
    assert result.details["problem"] == "not_service"


async def test_torznab_page_that_is_not_xml() -> None:
    async with serving("<html><body>Jackett login<br></body></html>") as url:
        result = await check_torznab(url, "key")
    assert not result.ok
    assert result.details["problem"] == "not_service"
    assert "not Torznab XML" in result.summary


async def test_torznab_rate_limited_prowlarr_indexer_says_when() -> None:
    async with IndexerProwlarrDouble([FakeIndexer(4, "ABB", retry_after=300)]) as prowlarr:
        result = await check_torznab(f"{prowlarr.url}4/", prowlarr.api_key)
    assert not result.ok
    assert result.details["problem"] == "http_error"
    assert "HTTP 429" in result.summary and "try again in 5 min" in result.summary
    assert_no_secret(result, prowlarr.api_key)


async def test_torznab_closed_port_is_unreachable() -> None:
    result = await check_torznab(closed_port_url(), "key")
    assert result.details["problem"] == "unreachable"


# ---- Audiobookshelf -------------------------------------------------------------------


async def test_abs_ok_lists_the_recorded_library_and_admin_rights() -> None:
    async with AbsDouble() as abs_server:
        result = await check_audiobookshelf(abs_server.url, abs_server.token)
    assert result.ok, result
    recorded = abs_server.recorded["libraries"]["libraries"][0]
    assert result.details["libraries"] == [
        {
            "id": recorded["id"],
            "name": "Audiobooks",
            "media_type": "book",
            "folders": ["/audiobooks"],
        }
    ]
    assert result.details["version"] == "2.36.0"
    assert result.details["admin"] is True
    assert result.details["warnings"] == []
    assert "1 library (Audiobooks)" in result.summary and "admin" in result.summary
    paths = [r.path for r in abs_server.received]
    assert paths == ["/status", "/api/libraries", "/api/me"]
    assert "Authorization" not in abs_server.received[0].headers
    assert abs_server.received[1].headers["Authorization"] == f"Bearer {abs_server.token}"
    assert_no_secret(result, abs_server.token)


async def test_abs_key_of_a_plain_user_works_but_cannot_scan() -> None:
    async with AbsDouble(user_type="user") as abs_server:
        result = await check_audiobookshelf(abs_server.url, abs_server.token)
    assert result.ok
    assert result.details["admin"] is False
    assert "not an admin" in result.summary
    assert any("scans" in w for w in result.details["warnings"])


async def test_abs_wrong_key() -> None:
    async with AbsDouble() as abs_server:
        result = await check_audiobookshelf(abs_server.url, "expired.jwt.token")
    assert not result.ok
    assert result.details["problem"] == "wrong_key"
    assert "wrong API key" in result.summary
    assert_no_secret(result, "expired.jwt.token")


async def test_abs_address_of_another_service() -> None:
    async with ProwlarrDouble() as prowlarr:
        result = await check_audiobookshelf(prowlarr.url, "token")
    assert result.details["problem"] == "not_service"
    assert "does not answer like Audiobookshelf" in result.summary


async def test_abs_closed_port_is_unreachable() -> None:
    result = await check_audiobookshelf(closed_port_url(), "token")
    assert result.details["problem"] == "unreachable"


async def test_a_key_echoed_by_the_server_is_scrubbed() -> None:
    key = "echoed-secret-key-123"
    body = f'<?xml version="1.0"?><error code="900" description="bad request apikey={key}"/>'
    async with serving(body, content_type="application/xml") as url:
        result = await check_torznab(url, key)
    assert not result.ok and "error 900" in result.summary
    assert_no_secret(result, key)
