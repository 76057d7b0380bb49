"""One acquisition loop per profile: the lock, who holds it, and that a crash frees it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gui.loop_lock import LOCK_FILE, LoopLock, LoopLockHeld

REPO = Path(__file__).resolve().parents[2]


def test_the_second_taker_is_told_who_holds_it(tmp_path: Path) -> None:
    first = LoopLock.acquire(tmp_path, "earmark run")
    try:
        with pytest.raises(LoopLockHeld) as caught:
            LoopLock.acquire(tmp_path, "the Earmark window")
        message = str(caught.value)
        assert f"earmark run (pid {os.getpid()}, since " in message
        assert str(tmp_path / LOCK_FILE) in message
    finally:
        first.release()
    LoopLock.acquire(tmp_path, "the Earmark window").release()  # free again


def holder(profile: Path) -> subprocess.Popen[str]:
    """Another process that takes the lock, says so, and waits to be killed."""
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from gui.loop_lock import LoopLock
        lock = LoopLock.acquire(Path({str(profile)!r}), "earmark run")
        print("held", flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_earmark_run_refuses_a_profile_whose_loop_runs_elsewhere(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    child = holder(profile)
    try:
        env = {
            **os.environ,
            "EARMARK_CONFIG_DIR": str(profile),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        result = subprocess.run(
            [sys.executable, "-m", "gui", "run", "--once", "--json"],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False,
        )  # fmt: skip
        assert (result.returncode, result.stdout) == (1, "")
        assert f"already runs in earmark run (pid {child.pid}" in result.stderr
        with pytest.raises(LoopLockHeld):
            LoopLock.acquire(profile, "test")
    finally:
        child.kill()
        child.wait(timeout=30)
    LoopLock.acquire(profile, "test").release()  # a killed holder leaves no stale lock
