r"""How long the downloads table stalls the GUI while 10,000 torrents refresh.

A benchmark, not a test: it prints figures and exits non-zero when the target is missed.

    .venv/bin/python bench/table_refresh.py                       # 10,000 rows, 10 s
    .venv/bin/python bench/table_refresh.py --rows 20000 --sort name --seconds 20

Set-up: a `MaindataMirror` holding N torrents shaped like qBittorrent's maindata, shown
through `DownloadsModel` -> `DownloadsFilterProxy` -> a visible `DownloadsView` (filter bar,
QTableView, progress delegate) in a 1280x800 window on the offscreen platform, sorted by a
column (`--sort`, default: progress, a column that changes, so rows move on every refresh).

Run: a QTimer delivers one refresh every `--interval` ms for `--seconds` s. Each refresh is
a maindata answer, generated beforehand by a simulated server so that building it is not
timed: `--share` (5%) of the torrents change progress, speeds and ETA, some change state;
every 4th refresh adds and removes a few torrents; one refresh in the middle is a
`full_update` (everything re-sent, rid restarted, as after a qBittorrent restart). The
refresh is merged (`mirror.apply`) and handed to the table (`model.apply`), as the app does.

Measured: a 5 ms heartbeat QTimer (precise) stamps the time; a stall is the gap between two
heartbeats minus 5 ms, i.e. how long the event loop could not run (merging, Qt's proxy
re-sorting, repainting). Also the time of each `mirror.apply` and `model.apply` call, and the
number of progress-bar paints (proof that the view really painted).

Target (issue 12): the longest stall is at most 16 ms.
"""

from __future__ import annotations

import argparse
import copy
import gc
import itertools
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402

from gui.clients.maindata import MaindataMirror  # noqa: E402
from gui.models.downloads import Column, DownloadsModel, raw_less  # noqa: E402
from gui.views.downloads_view import DownloadsView, ProgressDelegate  # noqa: E402

TARGET_STALL_MS = 16.0
HEARTBEAT_MS = 5

WORDS = [
    *("Dune", "Emma", "Foundation", "Hyperion", "Discworld", "Earthsea", "Frankenstein"),
    *("Dracula", "Persuasion", "Middlemarch", "Ulysses", "Beloved", "Rebecca", "Solaris"),
    *("Neuromancer", "Gilead", "Atonement", "Possession", "Wolf Hall", "Ivanhoe", "Kindred"),
    *("Matilda", "Stardust", "Coraline", "Sandman", "Odyssey", "Iliad", "Aeneid"),
]
AUTHORS = [
    *("Frank Herbert", "Jane Austen", "Isaac Asimov", "Dan Simmons", "Terry Pratchett"),
    *("Ursula K. Le Guin", "Mary Shelley", "Bram Stoker", "George Eliot", "James Joyce"),
    *("Toni Morrison", "Daphne du Maurier"),
]
CATEGORIES = ("audiobooks", "librivox", "podcasts", "")
ACTIVE_STATES = ("downloading", "stalledDL", "uploading", "stalledUP", "queuedDL")
STATES = (*ACTIVE_STATES, "stoppedDL", "stoppedUP", "error", "metaDL", "checkingUP")


def make_torrent(rng: random.Random, n: int, now: int) -> dict[str, Any]:
    author = rng.choice(AUTHORS)
    title = " ".join(rng.sample(WORDS, 2))
    size = rng.choice((rng.randint(50_000_000, 900_000_000), rng.randint(1, 40) * 1_073_741_824))
    state = rng.choice(STATES)
    progress = 1.0 if state in ("uploading", "stalledUP", "stoppedUP") else rng.random()
    torrent_hash = f"{n:040x}"
    return {
        "name": f"{author} - {title} (Unabridged) [{n}]",
        "size": size,
        "total_size": size,
        "progress": progress,
        "state": state,
        "dlspeed": rng.randint(0, 3_000_000) if state == "downloading" else 0,
        "upspeed": rng.randint(0, 500_000) if state in ("uploading", "downloading") else 0,
        "eta": rng.randint(10, 90_000) if state == "downloading" else 8_640_000,
        "num_seeds": rng.randint(0, 30),
        "num_complete": rng.randint(0, 300),
        "num_leechs": rng.randint(0, 10),
        "num_incomplete": rng.randint(0, 50),
        "ratio": round(rng.random() * 3, 3),
        "category": rng.choice(CATEGORIES),
        "tags": "earmark",
        "added_on": now - rng.randint(0, 3 * 365 * 86400),
        "completion_on": -1,
        "save_path": "/data/audiobooks",
        "content_path": f"/data/audiobooks/{torrent_hash}",
        "magnet_uri": f"magnet:?xt=urn:btih:{torrent_hash}",
        "amount_left": int(size * (1 - progress)),
        "downloaded": int(size * progress),
        "uploaded": 0,
        "priority": 0,
        "hash": torrent_hash,
    }


class Server:
    """A simulated qBittorrent: its torrents evolve and it answers maindata requests."""

    def __init__(self, rows: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = int(time.time())
        self.next_id = 1
        self.torrents: dict[str, dict[str, Any]] = {}
        for _ in range(rows):
            self._add()
        self.rid = 0

    def _add(self) -> str:
        torrent = make_torrent(self.rng, self.next_id, self.now)
        self.next_id += 1
        self.torrents[torrent["hash"]] = torrent
        return str(torrent["hash"])

    def full(self) -> dict[str, Any]:
        self.rid += 1
        return {
            "rid": self.rid,
            "full_update": True,
            "torrents": copy.deepcopy(self.torrents),
            "categories": {c: {"name": c, "savePath": f"/data/{c}"} for c in CATEGORIES if c},
            "tags": ["earmark"],
            "server_state": {"dl_info_speed": 0, "up_info_speed": 0},
        }

    def step(self, share: float, churn: int) -> dict[str, Any]:
        """Evolve the torrents; answer the delta as qBittorrent would."""
        rng = self.rng
        delta: dict[str, dict[str, Any]] = {}
        for torrent_hash in rng.sample(sorted(self.torrents), int(len(self.torrents) * share)):
            t = self.torrents[torrent_hash]
            fields: dict[str, Any] = {}
            if t["progress"] < 1.0:
                t["progress"] = min(1.0, t["progress"] + rng.random() * 0.01)
                fields["progress"] = t["progress"]
                fields["amount_left"] = t["amount_left"] = int(t["size"] * (1 - t["progress"]))
                fields["eta"] = t["eta"] = rng.randint(10, 90_000)
            fields["dlspeed"] = t["dlspeed"] = rng.randint(0, 3_000_000)
            fields["upspeed"] = t["upspeed"] = rng.randint(0, 500_000)
            if rng.random() < 0.1:
                fields["state"] = t["state"] = rng.choice(ACTIVE_STATES)
            if rng.random() < 0.3:
                fields["num_seeds"] = t["num_seeds"] = rng.randint(0, 30)
                fields["num_leechs"] = t["num_leechs"] = rng.randint(0, 10)
            delta[torrent_hash] = fields
        removed: list[str] = []
        if churn:
            removed = rng.sample(sorted(self.torrents), churn)
            for torrent_hash in removed:
                del self.torrents[torrent_hash]
                delta.pop(torrent_hash, None)
            for _ in range(churn):
                torrent_hash = self._add()
                delta[torrent_hash] = dict(self.torrents[torrent_hash])
        self.rid += 1
        answer: dict[str, Any] = {"rid": self.rid, "torrents": delta}
        if removed:
            answer["torrents_removed"] = removed
        answer["server_state"] = {"dl_info_speed": rng.randint(0, 9_000_000)}
        return answer


@dataclass
class Figures:
    stalls_ms: list[float] = field(default_factory=list)
    stall_spans: list[tuple[int, int]] = field(default_factory=list)  # ns, heartbeat clock
    full_update_span: tuple[int, int] = (0, 0)
    mirror_ms: list[float] = field(default_factory=list)
    model_ms: list[float] = field(default_factory=list)
    full_update_ms: float = 0.0
    full_update_model_ms: float = 0.0
    full_update_changed: int = 0
    paints: int = 0
    refreshes: int = 0


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=int, default=500, help="ms between refreshes")
    parser.add_argument("--share", type=float, default=0.05, help="torrents changed per refresh")
    parser.add_argument("--churn", type=int, default=5, help="added+removed every 4th refresh")
    parser.add_argument(
        "--sort", default="progress", choices=[c.name.lower() for c in Column], help="column"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the run here")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    started = time.perf_counter()
    server = Server(args.rows, args.seed)
    refreshes = max(1, int(args.seconds * 1000 / args.interval))
    answers = [server.full()]
    full_at = refreshes // 2
    for n in range(1, refreshes + 1):
        if n == full_at:
            server.step(args.share, 0)  # the changes a restart would not report as a delta
            answers.append(server.full())
        else:
            answers.append(server.step(args.share, args.churn if n % 4 == 0 else 0))
    generate_s = time.perf_counter() - started

    mirror = MaindataMirror()
    mirror.apply(answers[0])
    t0 = time.perf_counter()
    model = DownloadsModel(mirror)
    window = QMainWindow()
    window.resize(1280, 800)
    view = DownloadsView(model)
    window.setCentralWidget(view)
    build_s = time.perf_counter() - t0

    figures = Figures()
    paint = ProgressDelegate.paint

    def counting_paint(self: ProgressDelegate, *a: Any) -> None:
        figures.paints += 1
        paint(self, *a)

    ProgressDelegate.paint = counting_paint  # type: ignore[method-assign]

    t0 = time.perf_counter()
    sort_column = Column[args.sort.upper()]
    view.table.sortByColumn(sort_column, Qt.SortOrder.AscendingOrder)
    sort_s = time.perf_counter() - t0
    window.show()
    t0 = time.perf_counter()
    app.processEvents()
    show_s = time.perf_counter() - t0
    view.table.selectRow(3)
    app.processEvents()  # the repaint for the selection belongs to the set-up
    gc.freeze()  # as the app does once it has started (gui/app.py)

    clock = QElapsedTimer()
    clock.start()
    last_beat = [-1]  # the first beat only starts the clock: before it, exec() was starting

    def beat() -> None:
        now = clock.nsecsElapsed()
        if last_beat[0] < 0:
            last_beat[0] = now
            return
        figures.stalls_ms.append(max(0.0, (now - last_beat[0]) / 1e6 - HEARTBEAT_MS))
        figures.stall_spans.append((last_beat[0], now))
        last_beat[0] = now

    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)

    pending = iter(enumerate(answers[1:], start=1))

    def refresh() -> None:
        try:
            _, answer = next(pending)
        except StopIteration:
            refresher.stop()
            QTimer.singleShot(args.interval, app.quit)
            return
        started_ns = clock.nsecsElapsed()
        t_start = time.perf_counter()
        change = mirror.apply(answer)
        t_mid = time.perf_counter()
        model.apply(change)
        t_end = time.perf_counter()
        figures.mirror_ms.append((t_mid - t_start) * 1000)
        figures.model_ms.append((t_end - t_mid) * 1000)
        figures.refreshes += 1
        if answer.get("full_update"):
            figures.full_update_ms = (t_end - t_start) * 1000
            figures.full_update_model_ms = (t_end - t_mid) * 1000
            figures.full_update_span = (started_ns, clock.nsecsElapsed())
            figures.full_update_changed = len(change.changed)

    refresher = QTimer()
    refresher.setInterval(args.interval)
    refresher.timeout.connect(refresh)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    heartbeat.start()
    refresher.start()
    load_before = os.getloadavg()[0]
    run_started = time.perf_counter()
    cpu_started = time.process_time()
    app.exec()
    run_s = time.perf_counter() - run_started
    cpu_s = time.process_time() - cpu_started
    load_after = os.getloadavg()[0]
    heartbeat.stop()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)

    ProgressDelegate.paint = paint  # type: ignore[method-assign]
    consistent = model.rowCount() == len(mirror.torrents) == view.proxy.rowCount()
    proxy = view.proxy
    shown = [
        model.raw_value(proxy.mapToSource(proxy.index(r, 0)).row(), sort_column)
        for r in range(proxy.rowCount())
    ]
    in_order = not any(raw_less(b, a) for a, b in itertools.pairwise(shown))
    longest = max(figures.stalls_ms, default=0.0)
    first, last = figures.full_update_span
    outside = [
        stall
        for stall, (begin, end) in zip(figures.stalls_ms, figures.stall_spans, strict=True)
        if end < first or begin > last
    ]
    ok = longest <= TARGET_STALL_MS and consistent and in_order and figures.paints > 0

    rows = [
        ("torrents", f"{len(mirror.torrents):,}"),
        ("sorted by", f"{sort_column.name.lower()} (ascending)"),
        ("refreshes", f"{figures.refreshes} every {args.interval} ms over {run_s:.1f} s"),
        ("changed per refresh", f"{args.share:.0%} + {args.churn} in/out every 4th"),
        ("generate answers (untimed)", f"{generate_s:.2f} s"),
        ("build model + view", f"{build_s * 1000:.0f} ms"),
        ("first sort of all rows", f"{sort_s * 1000:.0f} ms"),
        ("first show", f"{show_s * 1000:.0f} ms"),
        ("mirror.apply median / max", _median_max(figures.mirror_ms)),
        ("model.apply median / max", _median_max(figures.model_ms)),
        (
            "full_update merge + model",
            f"{figures.full_update_ms - figures.full_update_model_ms:.1f} + "
            f"{figures.full_update_model_ms:.1f} ms ({figures.full_update_changed:,} rows changed)",
        ),
        ("heartbeats", f"{len(figures.stalls_ms):,}"),
        (
            "stall p50 / p99",
            f"{percentile(figures.stalls_ms, 0.5):.1f} / "
            f"{percentile(figures.stalls_ms, 0.99):.1f} ms",
        ),
        ("longest stall", f"{longest:.1f} ms (target <= {TARGET_STALL_MS:.0f} ms)"),
        ("  outside the full_update refresh", f"{max(outside, default=0.0):.1f} ms"),
        ("CPU per refresh (whole process)", f"{cpu_s / max(1, figures.refreshes) * 1000:.0f} ms"),
        ("load average before / after", f"{load_before:.2f} / {load_after:.2f} (other processes)"),
        ("progress-bar paints", f"{figures.paints:,}"),
        ("rows in step with mirror", "yes" if consistent else "NO"),
        (f"rows in {sort_column.name.lower()} order", "yes" if in_order else "NO"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'figure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("PASS" if ok else "FAIL")
    window.close()
    return 0 if ok else 1


def _median_max(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} / {max(values):.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
