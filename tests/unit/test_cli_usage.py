"""CLI contract without servers: exit codes and a clean stdout under --json."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gui.cli import main
from tests.harness.wait import free_port


@pytest.fixture(autouse=True)
def profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("EARMARK_QBT_URL", f"http://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("EARMARK_QBT_USERNAME", "me")
    monkeypatch.setenv("EARMARK_QBT_PASSWORD", "pw")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", [["bogus"], ["add"], ["add", "x", "--content-layout", "Odd"]])
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv)[0] == 2


def test_input_that_is_not_a_torrent_exits_1_with_the_reason() -> None:
    code, out, err = run("add", "hello world", "--json")
    assert code == 1
    assert out == ""
    assert "not a magnet link" in err


def test_broken_magnet_exits_1() -> None:
    code, out, err = run("add", "magnet:?dn=NoHash", "--json")
    assert (code, out) == (1, "")
    assert "no info-hash" in err


def test_unreachable_qbittorrent_exits_1_and_says_where() -> None:
    code, out, err = run("list", "--json")
    assert (code, out) == (1, "")
    assert "connection refused" in err and "127.0.0.1" in err
    assert "pw" not in err.replace("password", "")


def test_doctor_json_on_unreachable_server_is_one_document() -> None:
    import json

    code, out, _ = run("doctor", "--json")
    assert code == 1
    assert json.loads(out)["verdict"] == "unreachable"


def test_the_launcher_knows_every_cli_command() -> None:
    from gui.__main__ import CLI_COMMANDS
    from gui.cli import COMMANDS

    assert set(COMMANDS) == CLI_COMMANDS


def test_want_takes_an_isbn_and_an_asin(tmp_path: Path) -> None:
    code, _, err = run(
        "want", "Dune", "--author", "Frank Herbert", "--isbn", "0-441-17271-7",
        "--asin", "b002v1a0wu", "--json",
    )  # fmt: skip
    assert code == 0, err
    from gui.store import Store

    store = Store.open_in(tmp_path)
    try:
        (book,) = store.books()
    finally:
        store.close()
    assert (book.isbn, book.asin) == ("9780441172719", "B002V1A0WU")


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [("--isbn", "12345", "is not an ISBN"), ("--asin", "B00-short", "is not an ASIN")],
)
def test_want_refuses_a_bad_identifier(
    flag: str, value: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run("want", "Dune", "--author", "Frank Herbert", flag, value, "--json")
    assert (code, out) == (2, "")
    assert said in capsys.readouterr().err


def test_want_without_identifiers_still_works(tmp_path: Path) -> None:
    code, _, err = run("want", "Dune", "--author", "Frank Herbert", "--json")
    assert code == 0, err


@pytest.mark.parametrize(
    ("given", "seconds"), [("21:08", 21 * 3600 + 8 * 60), ("1:02:03", 3723), ("754", 754 * 60)]
)
def test_want_keeps_the_running_time(given: str, seconds: float, tmp_path: Path) -> None:
    code, _, err = run("want", "Dune", "--author", "Frank Herbert", "--duration", given, "--json")
    assert code == 0, err
    from gui.store import Store

    store = Store.open_in(tmp_path)
    try:
        (book,) = store.books()
    finally:
        store.close()
    assert book.duration == seconds


@pytest.mark.parametrize("given", ["12h", "1:75", "-3", "nan", "1:2:3:4", "0"])
def test_want_refuses_a_bad_running_time(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("want", "Dune", "--author", "Frank Herbert", "--duration", given, "--json")
    assert (code, out) == (2, "")
    assert "is not a running time" in capsys.readouterr().err
