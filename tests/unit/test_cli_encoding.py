"""Every CLI output is UTF-8 on every platform (issue 14).

Into a pipe or a file, Windows' CPython writes the ANSI code page (cp1252) and a frozen build
ignores PYTHONUTF8: `doctor --json` crashed on its first `→` and the UnicodeEncodeError was
reported as an ordinary failure (exit 1). PYTHONIOENCODING=cp1252 gives any platform that
code page, so the check runs in Linux CI as well as under wine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.wait import free_port


def _cli_env(tmp_path: Path, encoding: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARMARK_")}
    env.pop("PYTHONUTF8", None)
    env.update(
        PYTHONIOENCODING=encoding,
        EARMARK_CONFIG_DIR=str(tmp_path / "profile"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        # nothing listens there: the doctor's "unreachable" fix names qBittorrent → Tools → ...
        EARMARK_QBT_URL=f"http://127.0.0.1:{free_port()}/",
    )
    return env


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_doctor_json_into_a_file_is_utf8_whatever_the_code_page(
    tmp_path: Path, encoding: str
) -> None:
    out_file = tmp_path / "doctor.json"
    with out_file.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "gui", "doctor", "--json"],
            stdout=out,
            stderr=subprocess.PIPE,
            env=_cli_env(tmp_path, encoding),
            timeout=120,
            check=False,
        )
    stderr = done.stderr.decode("utf-8")
    assert "unexpected error" not in stderr and "Traceback" not in stderr, stderr
    assert done.returncode == 1, stderr  # a failed diagnosis, not a crash
    document = json.loads(out_file.read_bytes().decode("utf-8"))
    assert document["verdict"] == "unreachable"
    assert "qBittorrent → Tools → Options → Web UI" in document["fix"]


def test_doctor_text_into_a_pipe_is_utf8(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gui", "doctor"],
        capture_output=True,
        env=_cli_env(tmp_path, "cp1252"),
        timeout=120,
        check=False,
    )
    text = done.stdout.decode("utf-8")
    assert done.returncode == 1, done.stderr.decode("utf-8")
    assert "Verdict: unreachable — " in text
    assert "→ 'Web User Interface (Remote control)'" in text
