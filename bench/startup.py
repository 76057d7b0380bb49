r"""Time to the first painted main window: Earmark against a bare PySide6 window, same run.

A benchmark, not a test: it prints figures and exits non-zero when the target is missed.

    .venv/bin/python bench/startup.py              # 7 runs of each
    .venv/bin/python bench/startup.py --runs 15

Both programs run on a private Xvfb display (started here, `QT_QPA_PLATFORM=xcb`), so the
window is really mapped and painted. Earmark is `python -m gui` with
`EARMARK_EXIT_AFTER_FIRST_PAINT=1` (gui/app.py prints `first-paint <time.time()>` when the
main window gets its first paint event, then quits), a fresh throw-away profile
(`EARMARK_CONFIG_DIR`) so no settings are read from the user's, and `EARMARK_QBT_URL` on a
closed loopback port so no first-run settings dialog opens first and nothing leaves the
machine. The bare window is a QMainWindow script with the same probe. A run's time is from
just before the process is spawned to the printed first-paint time (same clock), so it
includes the interpreter's start and every import. Runs alternate between the two programs
(one unmeasured warm-up each first) so disk cache and CPU frequency treat them alike.

Targets (issue 12): Earmark's median at most 1.5x the bare window's median, and no freeze
over 100 ms in the first 2 s after the first paint. For the second, Earmark runs again with
`EARMARK_WATCH_AFTER_FIRST_PAINT=2`: its probe ticks a 5 ms timer for 2 s after the first
paint and prints the longest time the event loop did not run (`longest-stall-ms`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.5
WATCH_SECONDS = 2.0
TARGET_STALL_MS = 100.0
RUN_TIMEOUT = 60.0

# The bare reference: the same probe as gui/app.py's FirstPaintProbe on a plain QMainWindow
# of Earmark's size (gui/views/main_window.py resizes to 1180x720).
BARE_WINDOW = """\
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


class FirstPaintProbe(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            print(f"first-paint {time.time():.6f}", flush=True)
            QTimer.singleShot(0, QApplication.instance().quit)
        return False


def main():
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1180, 720)
    probe = FirstPaintProbe(window)
    window.installEventFilter(probe)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
"""


@dataclass
class Program:
    """One thing to start: its label, command and extra environment."""

    label: str
    command: list[str]
    env: dict[str, str]


@dataclass
class Timing:
    label: str
    seconds: list[float]
    failed_exits: int = 0  # runs that painted, then exited non-zero (reported, still timed)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        return min(self.seconds)


def closed_port() -> int:
    """A loopback port that nothing listens on: bound to find a free one, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def xvfb() -> Iterator[str]:
    """A private X display; Xvfb picks a free number itself (-displayfd)."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("bench: Xvfb is not installed (apt-get install xvfb; `make test` does)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise SystemExit("bench: Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def base_env(display: str, profile: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EARMARK_", "QT_"))}
    env.update(
        {
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "EARMARK_CONFIG_DIR": str(profile),
            "EARMARK_QBT_URL": f"http://127.0.0.1:{closed_port()}",
            "EARMARK_EXIT_AFTER_FIRST_PAINT": "1",
            # A desktop keyring could prompt or unlock on start: keep the runs identical.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
    )
    return env


def time_to_first_paint(program: Program, env: dict[str, str]) -> tuple[float, int]:
    """Seconds from spawning the program to its printed first-paint time, and its exit code.

    The first paint is what is measured; an exit status that is not 0 after it is returned so
    the report can say so rather than hide it or lose the figure.
    """
    start = time.time()
    done = subprocess.run(
        program.command,
        env={**env, **program.env},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=REPO_ROOT,
    )
    for line in done.stdout.splitlines():
        if line.startswith("first-paint "):
            return float(line.split()[1]) - start, done.returncode
    raise RuntimeError(
        f"{program.label} printed no first-paint line (exit {done.returncode}):\n"
        f"{done.stdout}\n{done.stderr[-2000:]}"
    )


def measure(programs: Sequence[Program], runs: int, display: str) -> list[Timing]:
    """Alternate the programs run by run, after one unmeasured warm-up of each."""
    timings = [Timing(p.label, []) for p in programs]
    with tempfile.TemporaryDirectory(prefix="earmark-bench-") as tmp:
        env = base_env(display, Path(tmp) / "profile")
        for program in programs:
            time_to_first_paint(program, env)  # warm-up: disk cache, profile and database
        for run in range(runs):
            order = list(range(len(programs)))
            if run % 2:
                order.reverse()
            for index in order:
                seconds, status = time_to_first_paint(programs[index], env)
                timings[index].seconds.append(seconds)
                timings[index].failed_exits += status != 0
    return timings


def longest_stalls(program: Program, runs: int, display: str) -> list[tuple[float, float]]:
    """(longest stall ms, when it ended ms after the first paint) of each watched run."""
    found: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="earmark-bench-") as tmp:
        env = {
            **base_env(display, Path(tmp) / "profile"),
            "EARMARK_WATCH_AFTER_FIRST_PAINT": str(WATCH_SECONDS),
        }
        for _ in range(runs):
            done = subprocess.run(
                program.command,
                env={**env, **program.env},
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                cwd=REPO_ROOT,
            )
            lines = [x for x in done.stdout.splitlines() if x.startswith("longest-stall-ms ")]
            if not lines:
                raise RuntimeError(f"no longest-stall-ms line:\n{done.stdout}\n{done.stderr}")
            words = lines[0].split()
            found.append((float(words[1]), float(words[3])))
    return found


def bare_script(directory: Path) -> Path:
    path = directory / "bare_window.py"
    path.write_text(BARE_WINDOW, encoding="utf-8")
    return path


def print_table(timings: Sequence[Timing], title: str) -> None:
    print(title)
    print(f"  {'program':<38} {'median':>8} {'min':>8} {'max':>8}   runs")
    for t in timings:
        print(
            f"  {t.label:<38} {t.median:7.3f}s {t.minimum:7.3f}s {max(t.seconds):7.3f}s   "
            f"{len(t.seconds)}"
        )
    for t in timings:
        if t.failed_exits:
            print(
                f"  note: {t.label} exited non-zero after its first paint in "
                f"{t.failed_exits}/{len(t.seconds)} runs (its log is in the throw-away profile)"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Earmark start-up vs a bare PySide6 window")
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each (default 7)")
    parser.add_argument(
        "--stall-runs", type=int, default=3, help="watched runs for freezes (default 3)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="earmark-bare-") as scratch, xvfb() as display:
        bare = bare_script(Path(scratch))
        programs = [
            Program("bare PySide6 QMainWindow (source)", [sys.executable, str(bare)], {}),
            Program("Earmark main window (python -m gui)", [sys.executable, "-m", "gui"], {}),
        ]
        timings = measure(programs, args.runs, display)
        stalls = longest_stalls(programs[1], args.stall_runs, display)
    print_table(timings, f"Time to first painted main window (Xvfb, {args.runs} runs each)")
    bare_t, app_t = timings
    ratio = app_t.median / bare_t.median
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"  Earmark / bare (medians): {ratio:.2f}x  (min/min {app_t.minimum / bare_t.minimum:.2f}x)"
        f"  target <= {TARGET_RATIO:.1f}x: {verdict}"
    )
    worst = max(stalls)
    stall_ok = worst[0] <= TARGET_STALL_MS
    print(
        f"  Longest freeze in the {WATCH_SECONDS:.0f} s after the first paint "
        f"({len(stalls)} runs): "
        + ", ".join(f"{ms:.0f} ms (at {at:.0f} ms)" for ms, at in stalls)
        + f"  target <= {TARGET_STALL_MS:.0f} ms: {'ok' if stall_ok else 'MISSED'}"
    )
    return 0 if ratio <= TARGET_RATIO and stall_ok else 1


if __name__ == "__main__":
    sys.exit(main())
