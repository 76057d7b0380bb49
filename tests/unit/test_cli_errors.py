"""A fault inside a command: one line on stderr, the traceback in the log file only."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from gui import cli
from gui.logging_setup import LOG_FILE


def test_an_unexpected_error_is_one_line_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

    async def broken(args: argparse.Namespace, out: cli.Output) -> int:
        raise RuntimeError("boom in the queue")

    monkeypatch.setitem(cli.COMMANDS, "queue", broken)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["queue", "--json"], out=out, err=err) == cli.EXIT_FAILED
    assert out.getvalue() == ""
    log_file = tmp_path / "logs" / LOG_FILE
    assert err.getvalue() == (
        f"earmark: unexpected error (RuntimeError: boom in the queue); the details are in "
        f"{log_file}\n"
    )
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "boom in the queue" in logged


def test_an_encoding_error_is_a_fault_not_an_explained_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UnicodeEncodeError is a ValueError: it used to be printed as if it were bad input,
    with no traceback anywhere (how `doctor --json` on a cp1252 pipe hid its crash)."""
    monkeypatch.setenv("EARMARK_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

    async def unencodable(args: argparse.Namespace, out: cli.Output) -> int:
        "→".encode("cp1252")
        return cli.EXIT_OK

    monkeypatch.setitem(cli.COMMANDS, "queue", unencodable)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["queue", "--json"], out=out, err=err) == cli.EXIT_FAILED
    assert err.getvalue().startswith("earmark: unexpected error (UnicodeEncodeError: ")
    logged = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "Traceback" in logged and "UnicodeEncodeError" in logged
