"""No secret leaves Earmark: every one configured, every command run (failing ones too),
then everything Earmark wrote or printed searched for each secret and passkey.

Real qBittorrent, the Prowlarr, Jackett and Audiobookshelf doubles, and one server that
echoes the request it got (query string and headers) in its error page, the way a
misbehaving indexer leaks the key back to its client.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from tests.doubles.audiobookshelf import ADMIN_KEY, AbsServerDouble
from tests.doubles.indexers import FakeIndexer, JackettDouble, ProwlarrDouble, fake_release
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance
from tests.harness.wait import free_port
from tests.integration.test_workflow import cli

PROWLARR_KEY = "prowlarrKEY0123456789abcdefABCDEF"
JACKETT_KEY = "jackettKEY9876543210zyxwvuZYXWVU"
QBT_PROXY_PASSWORD = "proxy-basic-auth-Pa55word"
PASSKEY = "f00dfacecafe0123456789abcdef4242"
PRIVATE_TRACKER = f"https://tracker.private.invalid/a/{PASSKEY}/announce"
TITLE = "Frank Herbert - Dune (Unabridged) [M4B]"


def private_magnet(info_hash: str) -> str:
    return f"magnet:?xt=urn:btih:{info_hash}&dn={quote(TITLE)}&tr={quote(PRIVATE_TRACKER, safe='')}"


async def echo(request: web.Request) -> web.Response:
    """An indexer that repeats what it was sent in its error page."""
    told = f"bad request {request.path_qs} auth={request.headers.get('Authorization', '')}"
    return web.Response(status=500, text=told)


def secrets_of(abs_key: str) -> dict[str, str]:
    return {
        "qBittorrent password": QBT_PASSWORD,
        "qBittorrent proxy password": QBT_PROXY_PASSWORD,
        "Prowlarr API key": PROWLARR_KEY,
        "Jackett API key": JACKETT_KEY,
        "Audiobookshelf key": abs_key,
        "tracker passkey": PASSKEY,
    }


def profile_texts(profile: Path) -> Iterator[tuple[str, str]]:
    """(where, text) of everything in the profile folder: the files as bytes decoded
    leniently, and the database as `sqlite3 .dump` would print it."""
    for path in sorted(profile.rglob("*")):
        if path.is_file() and not path.name.startswith("earmark.sqlite3"):
            yield str(path), path.read_bytes().decode("utf-8", "replace")
    db = sqlite3.connect(profile / "earmark.sqlite3")
    try:
        for line in db.iterdump():
            yield "sqlite3 .dump", line
    finally:
        db.close()


async def test_no_secret_in_any_output_file_or_database(qbt: QbtInstance, tmp_path: Path) -> None:
    info_hash = "d" * 40
    release = fake_release(
        TITLE, download="magnet", info_hash=info_hash, magnet=private_magnet(info_hash)
    )
    jackett_release = fake_release("Frank Herbert - Dune [MP3]", seeders=3)
    profile = tmp_path / "profile"
    library = tmp_path / "library"
    library.mkdir()
    echo_app = web.Application()
    echo_app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(echo_app)
    await runner.setup()
    echo_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", echo_port).start()
    outputs: list[tuple[str, str]] = []
    try:
        async with (
            ProwlarrDouble([FakeIndexer(1, "Private Tracker", [release])], api_key=PROWLARR_KEY)
            as prowlarr,
            JackettDouble([jackett_release], api_key=JACKETT_KEY) as jackett,
            AbsServerDouble() as abs_server,
        ):  # fmt: skip
            secrets = secrets_of(ADMIN_KEY)
            env = {
                **os.environ,
                "EARMARK_CONFIG_DIR": str(profile),
                "EARMARK_QBT_URL": qbt.url,
                "EARMARK_QBT_USERNAME": QBT_USER,
                "EARMARK_QBT_PASSWORD": QBT_PASSWORD,
                "EARMARK_QBT_HTTP_PASSWORD": QBT_PROXY_PASSWORD,
                "EARMARK_PROWLARR_URL": prowlarr.url,
                "EARMARK_PROWLARR_API_KEY": PROWLARR_KEY,
                "EARMARK_TORZNAB_URL": jackett.feed_url(),
                "EARMARK_TORZNAB_API_KEY": JACKETT_KEY,
                "EARMARK_ABS_URL": abs_server.url,
                "EARMARK_ABS_TOKEN": ADMIN_KEY,
                "EARMARK_LIBRARY_DIR": str(library),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                "QT_QPA_PLATFORM": "offscreen",
            }
            down = {**env, "EARMARK_QBT_URL": f"http://127.0.0.1:{free_port()}/"}
            echo_url = f"http://127.0.0.1:{echo_port}"
            leaky_link = f"{echo_url}/dl/1/?jackett_apikey={JACKETT_KEY}&passkey={PASSKEY}&file=x"
            wrong_password = {**env, "EARMARK_QBT_PASSWORD": QBT_PASSWORD + "-wrong"}
            proxied = {**down, "EARMARK_QBT_HTTP_USERNAME": "proxyuser"}
            runs: list[tuple[dict[str, str], tuple[str, ...]]] = [
                (env, ("doctor",)),
                (wrong_password, ("doctor",)),
                (proxied, ("doctor",)),
                (env, ("search", "Dune", "--author", "Frank Herbert")),
                (env, ("want", "Dune", "--author", "Frank Herbert")),
                (down, ("run", "--once")),  # qBittorrent refuses: the reason names the magnet
                (down, ("queue",)),
                (env, ("run", "--once")),
                (env, ("queue",)),
                (env, ("list",)),
                (env, ("add", private_magnet("e" * 40), "--paused")),
                (env, ("add", leaky_link)),
                (env, ("add", f"{prowlarr.url}1/download?apikey={PROWLARR_KEY}&link=bm9uZQ")),
                (down, ("add", private_magnet("f" * 40))),
                (env, ("import", info_hash)),
                (env, ("import", "0" * 40)),
                ({**env, "EARMARK_TORZNAB_URL": f"{echo_url}/api"}, ("search", "Dune")),
                ({**env, "EARMARK_ABS_URL": echo_url}, ("run", "--once")),
                (env, ("self-test",)),
            ]
            codes = []
            for run_env, args in runs:
                for as_json in (True, False):
                    command = (*args, "--json") if as_json else args
                    code, out, err = await cli(run_env, *command)
                    codes.append((command, code))
                    outputs.append((f"stdout of {' '.join(command)}", out))
                    outputs.append((f"stderr of {' '.join(command)}", err))
                    if as_json and code == 0:
                        json.loads(out)  # one JSON document
    finally:
        await runner.cleanup()

    # The runs did what they were meant to: successes and failures both exercised.
    assert {code for _, code in codes} == {0, 1}, codes
    search_json = next(text for where, text in outputs if where.startswith("stdout of search D"))
    rows = json.loads(search_json)
    links = [row["download_url"] for row in rows if row["download_url"]]
    assert {link.split("key=")[1].split("&")[0] for link in links} == {
        "{prowlarr-api-key}",
        "{torznab-api-key}",
    }  # each key as its placeholder, which `earmark add` turns back into the key
    queues = [json.loads(text) for where, text in outputs if where == "stdout of queue --json"]
    # qBittorrent down: the grab waited; up: the private release was grabbed all the same
    # (its magnet, not stored, came again from the download link)
    assert [q[0]["state"] for q in queues] == ["grabbed", "downloading"], queues
    assert queues[1][0]["hash"] == info_hash
    queue_text = next(text for where, text in outputs if where == "stdout of queue")
    assert "copy the magnet link" in queue_text and f"urn:btih:{info_hash}" in queue_text

    tracebacks = [where for where, text in outputs if "Traceback" in text]
    assert tracebacks == []  # one line per problem on stderr; details in the log file
    texts = [*outputs, *profile_texts(profile)]
    assert any(where.endswith("earmark.log") for where, _ in texts)
    found = [
        (name, where, text[max(0, text.find(secret) - 150) : text.find(secret) + 60])
        for where, text in texts
        for name, secret in secrets.items()
        if secret in text
    ]
    assert found == []
