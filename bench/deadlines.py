r"""How long the things that give up take, against their deadlines.

A benchmark, not a test: the tests assert *that* each of these gives up on its deadline
or its reason (tests/integration/test_indexers.py, tests/gui/test_single_instance.py,
tests/integration/test_harness.py); this script prints *how long* they take, wall clock,
median of the rounds, and exits non-zero when one is far off its target.

    .venv/bin/python bench/deadlines.py              # 3 rounds
    .venv/bin/python bench/deadlines.py --rounds 5 --no-qbittorrent

* **search with a hanging indexer**: `search_all` over a Prowlarr double holding one
  indexer that never answers and one that answers after 0.2 s, per-indexer timeout 2 s.
  Target: done within 2 s + 0.5 s (the deadline, then the answers' settling).
* **hand-over without a primary**: `SingleInstance.send_to_primary(timeout_ms=1000)`
  with nobody listening. Target: under the 1 s budget (+ 0.5 s).
* **qBittorrent with a broken https setup** (needs qbittorrent-nox): the harness gives
  up on the logged "HTTPS setup failed" instead of its 20 s start deadline. Target: 10 s.
* **a real transfer** (needs qbittorrent-nox): seeder and leecher started, a 3-file book
  seeded, then downloaded over loopback. Printed only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gui.core.ranking import Wanted  # noqa: E402
from gui.services.search import ProwlarrSource, search_all  # noqa: E402
from tests.doubles.indexers import FakeIndexer, ProwlarrDouble, fake_release  # noqa: E402

SEARCH_TIMEOUT = 2.0
HANDOVER_MS = 1000
SLACK = 0.5
HTTPS_TARGET = 10.0


def _median(label: str, figures: list[float], target: float | None) -> bool:
    median = statistics.median(figures)
    spread = f"{min(figures):.2f}-{max(figures):.2f}"
    verdict = "" if target is None else (" ok" if median <= target else f" MISSED ({target} s)")
    print(f"{label:<38} median {median:.2f} s (range {spread} s, {len(figures)} runs){verdict}")
    return target is None or median <= target


async def _search_once() -> float:
    releases = [fake_release(f"Frank Herbert - Dune [M4B] {i}") for i in range(5)]
    indexers = [
        FakeIndexer(1, "Hanger", releases=releases, hang=True),
        FakeIndexer(2, "Good", releases=releases, delay=0.2),
    ]
    async with ProwlarrDouble(indexers) as prowlarr:
        source = ProwlarrSource(prowlarr.url, prowlarr.api_key)
        began = time.perf_counter()
        outcome = await search_all(
            Wanted("Dune", "Frank Herbert"), [source], per_indexer_timeout=SEARCH_TIMEOUT
        )
        elapsed = time.perf_counter() - began
    if not outcome.releases or not outcome.failures:
        raise SystemExit(f"unexpected search outcome: {outcome.failures}")
    return elapsed


def _handover_once() -> float:
    from PySide6.QtCore import QCoreApplication

    from gui.single_instance import SingleInstance

    QCoreApplication.instance() or QCoreApplication([])
    sender = SingleInstance(f"bench-{uuid.uuid4()}")
    try:
        began = time.perf_counter()
        sent = sender.send_to_primary(["magnet:?xt=urn:btih:" + "a" * 40], timeout_ms=HANDOVER_MS)
        elapsed = time.perf_counter() - began
    finally:
        sender.close()
    if sent:
        raise SystemExit("a hand-over succeeded without a primary")
    return elapsed


def _https_once(base: Path) -> float:
    from tests.harness.qbt import QbtFactory, QbtStartError

    factory = QbtFactory(base)
    missing = base / "missing.pem"
    began = time.perf_counter()
    try:
        factory(https=(missing, missing))
    except QbtStartError:
        return time.perf_counter() - began
    finally:
        factory.stop_all()
    raise SystemExit("qBittorrent started with a missing certificate")


def _transfer_once(base: Path) -> tuple[float, float]:
    from tests.harness.qbt import QbtFactory
    from tests.harness.swarm import make_swarm

    factory = QbtFactory(base / "qbt")
    try:
        began = time.perf_counter()
        swarm = make_swarm(factory, base)
        seeded = time.perf_counter()
        swarm.add_to_leecher()
        swarm.connect()
        swarm.leecher_admin().wait_for_torrent(swarm.info_hash, timeout=60, progress=1)
        return seeded - began, time.perf_counter() - seeded
    finally:
        factory.stop_all()


def _rounds(count: int, once: Callable[[int], float]) -> list[float]:
    return [once(n) for n in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument(
        "--no-qbittorrent", action="store_true", help="skip the parts that start qbittorrent-nox"
    )
    args = parser.parse_args()
    ok = True
    searches = [asyncio.run(_search_once()) for _ in range(args.rounds)]
    ok &= _median("search, one indexer hanging (2 s)", searches, SEARCH_TIMEOUT + SLACK)
    handovers = [_handover_once() for _ in range(args.rounds)]
    ok &= _median("hand-over without a primary (1 s)", handovers, HANDOVER_MS / 1000 + SLACK)
    if not args.no_qbittorrent:
        with tempfile.TemporaryDirectory(prefix="earmark-bench-") as temp:
            root = Path(temp)
            https = _rounds(args.rounds, lambda n: _https_once(root / f"https{n}"))
            ok &= _median("qBittorrent broken https, given up", https, HTTPS_TARGET)
            transfers = [_transfer_once(root / f"swarm{n}") for n in range(args.rounds)]
            _median("swarm ready (2 instances, seeding)", [t[0] for t in transfers], None)
            _median("transfer of a 3-file book", [t[1] for t in transfers], None)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
