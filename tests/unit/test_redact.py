"""The one redactor: configured secrets as reversible placeholders, credentials masked."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from gui.core.redact import MASK, Redactor
from gui.logging_setup import LOG_FILTER
from gui.settings import Secret, SecretStore
from gui.store import Book, ReleaseRecord, Store

KEY = "0123abcdPROWLARRkey9876"
PASSKEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PRIVATE_MAGNET = (
    "magnet:?xt=urn:btih:" + "c" * 40 + "&dn=Dune"
    f"&tr={quote(f'https://tracker.example/a/{PASSKEY}/announce', safe='')}"
    "&tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce"
)


@pytest.fixture
def redactor() -> Redactor:
    redactor = Redactor()
    redactor.add(KEY, "prowlarr-api-key")
    return redactor


def test_a_configured_key_becomes_its_placeholder_and_comes_back(redactor: Redactor) -> None:
    url = f"http://127.0.0.1:9696/1/download?apikey={KEY}&link=abc&file=Dune"
    shown = redactor.text(f"GET {url} answered 500: bad key {KEY}")
    assert KEY not in shown
    assert shown == (
        "GET http://127.0.0.1:9696/1/download?apikey={prowlarr-api-key}&link=abc&file=Dune "
        "answered 500: bad key {prowlarr-api-key}"
    )
    assert redactor.reveal(redactor.conceal(url)) == url
    encoded = quote(f"https://x/?k={KEY}", safe="")  # inside another URL's query
    assert KEY not in redactor.text(encoded)
    assert redactor.reveal(redactor.conceal(encoded)) == encoded


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("http://bob:hunter22@nas:8080/api", "hunter22"),
        ("https://t.example/announce.php?passkey=deadbeef99&x=1", "deadbeef99"),
        ("http://jackett/dl/x/?jackett_apikey=jk123456&path=p", "jk123456"),
        ("https://idx/rss?token=tok-abc-123&t=search", "tok-abc-123"),
        ("https://idx/api?auth=zz9plural&q=dune", "zz9plural"),
        (f"https://tracker.example/{PASSKEY}/announce", PASSKEY),
        (f"see magnet {PRIVATE_MAGNET} for details", PASSKEY),
    ],
)
def test_credentials_are_masked_by_their_shape(text: str, hidden: str) -> None:
    shown = Redactor().text(text)
    assert hidden not in shown
    assert MASK in shown or "tracker.example" not in shown


def test_a_private_magnet_keeps_its_name_hash_and_public_trackers() -> None:
    shown = Redactor().text(PRIVATE_MAGNET)
    assert shown == (
        "magnet:?xt=urn:btih:" + "c" * 40 + "&dn=Dune"
        "&tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce"
    )


def test_ordinary_text_and_urls_are_left_alone() -> None:
    for text in (
        "http://abs:13378/api/items/li_8gch9ve09orgn4fdz8",
        "https://openlibrary.org/search.json?q=dune&fields=key,title",
        "magnet:?xt=urn:btih:" + "d" * 40 + "&dn=Public&tr=udp%3A%2F%2Fopen.tracker%3A1%2Fannounce",
        "Frank Herbert - Dune (Unabridged) [M4B]",
    ):
        assert Redactor().text(text) == text


def test_every_secret_the_secret_store_hands_out_is_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gui.core.redact import REDACTOR

    monkeypatch.setenv(Secret.ABS_TOKEN.env_var, "abs-token-from-env-42")
    assert SecretStore().get(Secret.ABS_TOKEN) == "abs-token-from-env-42"
    assert REDACTOR.text("Bearer abs-token-from-env-42") == "Bearer {audiobookshelf-token}"


def test_the_log_filter_redacts_messages_and_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from gui.core.redact import REDACTOR

    REDACTOR.add("log-secret-value-7", "qbittorrent-password")
    try:
        raise ValueError("server said: log-secret-value-7")
    except ValueError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "echo %s", ("log-secret-value-7",), (
                type(exc), exc, exc.__traceback__
            )
        )  # fmt: skip
    LOG_FILTER.filter(record)
    assert "log-secret-value-7" not in record.getMessage()
    assert record.exc_text and "log-secret-value-7" not in record.exc_text


def test_the_store_writes_no_secret_and_gives_working_links_back(tmp_path: Path) -> None:
    from gui.core.redact import REDACTOR

    REDACTOR.add(KEY, "prowlarr-api-key")
    store = Store.open_in(tmp_path)
    try:
        book = store.add_book(Book("Dune", "Frank Herbert"))
        assert book.id is not None
        url = f"http://127.0.0.1:9696/1/download?apikey={KEY}&file=Dune"
        store.save_releases([ReleaseRecord(book.id, guid=url, title="Dune", download_url=url)])
        store.set_state(book, "failed", reason=f"{url} refused; copy {PRIVATE_MAGNET}")
        store.block(info_hash=None, guid=url, title="Dune", reason=f"dead link {url}")
        assert KEY not in (book.reason or "") and PASSKEY not in (book.reason or "")
        (release,) = store.releases(book.id)
        assert (release.guid, release.download_url) == (url, url)  # revealed for use
        assert url in store.blocked()
    finally:
        store.close()
    dump = "\n".join(_dump(tmp_path / "earmark.sqlite3"))
    assert KEY not in dump and PASSKEY not in dump
    assert "apikey={prowlarr-api-key}" in dump


def _dump(path: Path) -> list[str]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def test_cli_logging_gives_stderr_one_line_and_the_log_file_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from gui.logging_setup import LOG_FILE, cli_logging

    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path))
    err = io.StringIO()
    with cli_logging(err):
        try:
            raise ConnectionError("the feed hung up\nsecond line")
        except ConnectionError as exc:
            logging.getLogger("gui.services.search").warning("search of X failed", exc_info=exc)
        logging.getLogger("gui.x").info("only in the file")
    assert err.getvalue() == "earmark: search of X failed\n"
    logged = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "Traceback" in logged and "the feed hung up" in logged and "only in the file" in logged
    assert not any(
        isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is err
        for h in logging.getLogger().handlers
    )  # removed afterwards


def test_a_private_magnet_is_kept_out_of_the_store_when_its_link_gives_it_again(
    tmp_path: Path,
) -> None:
    store = Store.open_in(tmp_path)
    try:
        book = store.add_book(Book("Dune", "Frank Herbert"))
        assert book.id is not None
        link = "http://127.0.0.1:9117/dl/x/?path=abc&file=Dune"
        store.save_releases(
            [
                ReleaseRecord(book.id, "a", "Dune", magnet=PRIVATE_MAGNET, download_url=link),
                ReleaseRecord(book.id, "b", "Dune 2", magnet=PRIVATE_MAGNET),  # no link
            ]
        )
        by_guid = {r.guid: r for r in store.releases(book.id)}
        assert by_guid["a"].magnet is None and by_guid["a"].download_url == link
        assert by_guid["b"].magnet == PRIVATE_MAGNET  # the download itself: nothing else has it
    finally:
        store.close()
