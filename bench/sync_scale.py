r"""How much an idle refresh costs: the sync/maindata mirror against a full torrents/info poll.

A benchmark, not a test: it prints figures and exits non-zero when a target is missed, so
it can be run by hand as a check:

    .venv/bin/python bench/sync_scale.py                     # 1,000 then 10,000 torrents
    .venv/bin/python bench/sync_scale.py --counts 1000 10000 --rounds 20

Against a real, throw-away qbittorrent-nox (``tests.harness.qbt``: loopback only, DHT/LSD/PeX
off) holding N stopped tiny torrents whose data does not exist, it measures per *idle*
refresh (nothing changes between refreshes), as medians over ``--rounds`` refreshes:

* maindata mirror: ``QBittorrentClient.sync()`` (GET sync/maindata?rid=N, JSON parse,
  merge into ``client.mirror``);
* full poll: ``QBittorrentClient.torrents()`` (GET torrents/info for all torrents, JSON parse);

each as bytes of response body (on the wire, i.e. gzip-compressed when the server compresses,
and decompressed) and client CPU time (``time.process_time()`` around the whole call). It also
measures the mirror's memory: tracemalloc around the first (full) ``sync()`` of a fresh client,
keeping what survives once the answer is dropped, and a deep size of ``mirror.torrents``.
For information it also prints each request's wall time and qbittorrent-nox's own CPU time
(from /proc, 10 ms ticks): qBittorrent 4.5 rebuilds the whole maindata to diff it on every
request, so the mirror saves bytes and client CPU, not server work or latency.

Targets, checked at counts >= 10,000: an idle refresh costs at least 50x fewer bytes (both on
the wire and decompressed) and 10x less client CPU than a full poll, and the mirror stays under
50 MB. The counts are loaded incrementally into one qBittorrent instance (1,000, then 9,000
more for 10,000); the load times are printed per step.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import bencode2  # noqa: E402

from gui.clients.http import HttpOptions  # noqa: E402
from gui.clients.qbittorrent import (  # noqa: E402
    AddOptions,
    Answer,
    QBittorrentClient,
    QbtConfig,
    Upload,
)
from tests.harness.qbt import QBT_PASSWORD, QBT_USER, QbtInstance, start_qbittorrent  # noqa: E402
from tests.harness.wait import async_wait_until  # noqa: E402

TARGET_BYTES_RATIO = 50.0
TARGET_CPU_RATIO = 10.0
TARGET_MIRROR_MB = 50.0
TARGET_FROM_COUNT = 10_000
MB = 1_000_000


# ---- a client that remembers what it received ----------------------------------------


@dataclass(frozen=True)
class Received:
    """Body size of one answer: as sent on the wire and after decompression."""

    wire: int
    raw: int
    encoding: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def received(answer: Answer) -> Received:
    raw = len(answer.text.encode("utf-8"))
    encoding = (_header(answer.headers, "content-encoding") or "identity").lower()
    length = _header(answer.headers, "content-length")
    wire = int(length) if length is not None and length.isdigit() else raw
    return Received(wire=wire, raw=raw, encoding=encoding)


class MeteredClient(QBittorrentClient):
    """The product client, unchanged, except that it keeps the last answer it got."""

    last: Answer | None = None

    async def send(self, method: str, endpoint: str, **kwargs: Any) -> Answer:
        answer = await super().send(method, endpoint, **kwargs)
        self.last = answer
        return answer


def new_client(url: str) -> MeteredClient:
    config = QbtConfig(url, QBT_USER, QBT_PASSWORD, http=HttpOptions(total_timeout=300))
    return MeteredClient(config)


# ---- loading N stopped tiny torrents -----------------------------------------------------


def fake_torrent(index: int) -> bytes:
    """A tiny single-file private torrent with no tracker and a random one-piece hash."""
    info = {
        "name": f"bench-{index:06d}-{os.urandom(4).hex()}.bin",
        "length": 1000 + index % 1000,
        "piece length": 16384,
        "pieces": os.urandom(20),
        "private": 1,
    }
    return bytes(bencode2.bencode({"info": info, "created by": "earmark sync_scale bench"}))


async def torrent_count(client: QBittorrentClient, at_least: int, **filters: str) -> bool:
    """Whether qBittorrent lists at least ``at_least`` torrents (one row asked, not all)."""
    params = {**filters, "offset": str(at_least - 1), "limit": "1"}
    answer = await client.call("GET", "torrents/info", params=params)
    return bool(answer.json())


async def load_torrents(client: QBittorrentClient, start: int, stop: int, batch: int) -> float:
    """Add torrents ``start..stop-1`` stopped, wait until all are listed stopped; seconds."""
    await client.api_version()  # logs in: the "paused"/"stopped" name depends on it
    form = AddOptions(stopped=True).form(client.flavor)
    began = time.monotonic()
    for first in range(start, stop, batch):
        uploads = [
            Upload("torrents", f"bench-{i:06d}.torrent", fake_torrent(i))
            for i in range(first, min(first + batch, stop))
        ]
        answer = await client.call("POST", "torrents/add", data=form, files=uploads)
        if answer.text.strip() == "Fails.":
            raise RuntimeError(f"qBittorrent refused batch {first}..{first + len(uploads) - 1}")
    timeout = 60 + 0.05 * (stop - start)
    await async_wait_until(
        lambda: torrent_count(client, stop),
        timeout,
        0.25,
        what=f"{stop:,} torrents listed by torrents/info",
    )
    stopped_filter = "stopped" if client.flavor.stopped_param == "stopped" else "paused"
    await async_wait_until(
        lambda: torrent_count(client, stop, filter=stopped_filter),
        timeout,
        0.25,
        what=f"{stop:,} torrents listed as {stopped_filter}",
    )
    return time.monotonic() - began


# ---- memory ------------------------------------------------------------------------------


@dataclass
class DeepSize:
    """Bytes reachable from ``mirror.torrents``, each object counted once."""

    total: int = 0
    containers: int = 0  # the outer dict and one dict per torrent
    keys: int = 0  # field-name strings (interned: shared by all torrents)
    by_field: dict[str, int] = field(default_factory=dict)  # value bytes per field name
    fields_per_torrent: float = 0.0


def _walk(obj: object, seen: set[int]) -> int:
    """Deep size of ``obj`` with objects in ``seen`` (or shared singletons) not counted."""
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return total


def deep_size(torrents: Mapping[str, Mapping[str, Any]]) -> DeepSize:
    result = DeepSize()
    # None/True/False and small ints are immortal singletons, not the mirror's memory
    seen: set[int] = {id(None), id(True), id(False), *(id(i) for i in range(-5, 257))}
    result.containers += sys.getsizeof(torrents)
    seen.add(id(torrents))
    fields = 0
    for torrent_hash, torrent in torrents.items():
        result.keys += _walk(torrent_hash, seen)
        result.containers += sys.getsizeof(torrent)
        seen.add(id(torrent))
        fields += len(torrent)
        for key, value in torrent.items():
            result.keys += _walk(key, seen)
            result.by_field[key] = result.by_field.get(key, 0) + _walk(value, seen)
    result.total = result.containers + result.keys + sum(result.by_field.values())
    result.fields_per_torrent = fields / max(1, len(torrents))
    return result


@dataclass
class Memory:
    retained: int  # tracemalloc: still allocated after the first sync, answer dropped
    peak: int  # tracemalloc: peak during the first sync (answer text + parsed JSON + mirror)
    deep: DeepSize
    torrents: int


async def measure_memory(url: str) -> Memory:
    """A fresh client's first sync() under tracemalloc: what the mirror keeps."""
    async with new_client(url) as client:
        await client.api_version()  # login and session set-up are not the mirror's memory
        gc.collect()
        tracemalloc.start()
        try:
            change = await client.sync()
            if not change.full_update:
                raise RuntimeError("the first sync/maindata answer was not a full update")
            client.last = None  # the answer text is not the mirror's
            del change
            gc.collect()
            retained, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        deep = deep_size(client.mirror.torrents)
        return Memory(retained, peak, deep, len(client.mirror.torrents))


# ---- refresh costs -------------------------------------------------------------------------


def server_cpu_reader(pid: int) -> Callable[[], float] | None:
    """qbittorrent-nox's CPU seconds so far (Linux /proc), to show what the server pays."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


@dataclass
class Sample:
    wire: int
    raw: int
    cpu: float  # seconds of this process's CPU
    wall: float
    server_cpu: float  # seconds of qbittorrent-nox's CPU (10 ms ticks; 0 when unknown)


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    encodings: set[str] = field(default_factory=set)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(sample, attribute) for sample in self.samples)

    def medians(self) -> Sample:
        names = ("wire", "raw", "cpu", "wall", "server_cpu")
        return Sample(*(self.median(name) for name in names))  # type: ignore[arg-type]


async def timed(
    client: MeteredClient, call: Callable[[], Any], server: Callable[[], float] | None
) -> tuple[Sample, Any, str]:
    gc.collect()  # a collection left over from the previous sample is not this one's cost
    client.last = None
    server0 = server() if server else 0.0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = await call()
    cpu1, wall1 = time.process_time(), time.perf_counter()
    server1 = server() if server else 0.0
    if client.last is None:
        raise RuntimeError("no answer was recorded")
    size = received(client.last)
    sample = Sample(size.wire, size.raw, cpu1 - cpu0, wall1 - wall0, server1 - server0)
    return sample, result, size.encoding


@dataclass
class Costs:
    first_sync: Sample
    idle: Series
    poll: Series
    idle_with_torrent_changes: int
    warmup_syncs: int
    mirror_torrents: int


async def measure_costs(url: str, rounds: int, pid: int) -> Costs:
    server = server_cpu_reader(pid)
    async with new_client(url) as client:
        await client.api_version()
        first, change, _ = await timed(client, client.sync, server)
        if not change.full_update:
            raise RuntimeError("the first sync/maindata answer was not a full update")
        # Settle: refresh until an answer carries no torrent change (nothing is running).
        warmup = 0
        for warmup in range(1, 21):  # noqa: B007  # the count is reported
            change = await client.sync()
            if not (change.added or change.changed or change.removed):
                break
        idle = Series()
        with_changes = 0
        for _ in range(rounds):
            sample, change, encoding = await timed(client, client.sync, server)
            idle.samples.append(sample)
            idle.encodings.add(encoding)
            with_changes += bool(change.added or change.changed or change.removed)
        poll = Series()
        for _ in range(rounds):
            sample, torrents, encoding = await timed(client, client.torrents, server)
            poll.samples.append(sample)
            poll.encodings.add(encoding)
            del torrents
        return Costs(first, idle, poll, with_changes, warmup, len(client.mirror.torrents))


# ---- report --------------------------------------------------------------------------------


@dataclass
class Result:
    count: int
    load_step: tuple[int, float]  # (torrents added in this step, seconds)
    costs: Costs
    memory: Memory

    @property
    def checked(self) -> bool:
        return self.count >= TARGET_FROM_COUNT

    def ratio(self, attribute: str) -> float:
        idle = self.costs.idle.median(attribute)
        poll = self.costs.poll.median(attribute)
        if idle > 0:
            return poll / idle
        return float("inf") if poll > 0 else float("nan")

    def verdicts(self) -> list[tuple[str, str, bool]]:
        mirror_mb = self.memory.retained / MB
        return [
            (
                f"idle refresh bytes on the wire >= {TARGET_BYTES_RATIO:.0f}x fewer",
                f"{self.ratio('wire'):,.0f}x",
                self.ratio("wire") >= TARGET_BYTES_RATIO,
            ),
            (
                f"idle refresh bytes decompressed >= {TARGET_BYTES_RATIO:.0f}x fewer",
                f"{self.ratio('raw'):,.0f}x",
                self.ratio("raw") >= TARGET_BYTES_RATIO,
            ),
            (
                f"idle refresh client CPU >= {TARGET_CPU_RATIO:.0f}x less",
                f"{self.ratio('cpu'):,.1f}x",
                self.ratio("cpu") >= TARGET_CPU_RATIO,
            ),
            (
                f"mirror memory < {TARGET_MIRROR_MB:.0f} MB",
                f"{mirror_mb:.1f} MB",
                mirror_mb < TARGET_MIRROR_MB,
            ),
        ]


def _bytes(n: float) -> str:
    return f"{n:,.0f} B"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f} ms"


def print_result(result: Result, rounds: int) -> None:
    costs, memory = result.costs, result.memory
    added, seconds = result.load_step
    print()
    print(f"=== {result.count:,} stopped torrents ===")
    print(
        f"load: {added:,} torrents added in {seconds:.1f} s ({added / seconds:,.0f}/s), "
        f"batches of multipart torrents/add, until torrents/info listed all stopped"
    )
    header = f"{'per refresh (median of ' + str(rounds) + ')':<34}"
    print(
        f"{header}{'body on wire':>14}{'decompressed':>15}{'encoding':>10}"
        f"{'client CPU':>12}{'wall':>13}{'server CPU':>13}"
    )

    def row(label: str, sample: Sample, encoding: str) -> None:
        print(
            f"{label:<34}{_bytes(sample.wire):>14}{_bytes(sample.raw):>15}{encoding:>10}"
            f"{_ms(sample.cpu):>12}{_ms(sample.wall):>13}{_ms(sample.server_cpu):>13}"
        )

    row("sync() first call (full update)", costs.first_sync, "")
    for label, series in (
        ("sync() idle refresh (mirror)", costs.idle),
        ("torrents() full poll", costs.poll),
    ):
        row(label, series.medians(), "/".join(sorted(series.encodings)))
    print(
        f"{'full poll / idle refresh':<34}{result.ratio('wire'):>13,.0f}x"
        f"{result.ratio('raw'):>14,.0f}x{'':>10}{result.ratio('cpu'):>11,.1f}x"
        f"{result.ratio('wall'):>12,.1f}x{result.ratio('server_cpu'):>12,.1f}x"
    )
    if costs.idle_with_torrent_changes:
        print(
            f"WARNING: {costs.idle_with_torrent_changes} of {rounds} idle refreshes "
            "carried torrent changes: the torrents were not idle"
        )
    print(
        f"(settled after {costs.warmup_syncs} extra sync(); mirror: "
        f"{costs.mirror_torrents:,} torrents)"
    )

    deep = memory.deep
    per_torrent = deep.total / max(1, memory.torrents)
    print(
        f"mirror memory: {memory.retained / MB:.1f} MB retained after the first sync() "
        f"(tracemalloc; peak {memory.peak / MB:.1f} MB while the answer was parsed), "
        f"deep size {deep.total / MB:.1f} MB = {per_torrent:,.0f} B/torrent"
    )
    fields = sorted(deep.by_field.items(), key=lambda item: item[1], reverse=True)
    top = ", ".join(f"{name} {size / memory.torrents:,.0f}" for name, size in fields[:6])
    print(
        f"  per torrent: dict {deep.containers / memory.torrents:,.0f} B "
        f"({deep.fields_per_torrent:.0f} fields), values "
        f"{sum(deep.by_field.values()) / memory.torrents:,.0f} B (largest: {top}), "
        f"shared keys/hash {deep.keys / memory.torrents:,.0f} B"
    )
    scope = "targets" if result.checked else f"targets (informational below {TARGET_FROM_COUNT:,})"
    print(f"{scope}:")
    for label, value, ok in result.verdicts():
        verdict = ("PASS" if ok else "FAIL") if result.checked else ("ok" if ok else "miss")
        print(f"  {verdict:<5}{label:<52}{value:>12}")


def print_summary(results: Sequence[Result], rounds: int) -> None:
    print()
    print(
        f"=== summary (medians of {rounds} idle refreshes; targets at >= {TARGET_FROM_COUNT:,}) ==="
    )
    columns = "".join(f"{r.count:>14,}" for r in results)
    print(f"{'torrents':<40}{columns}")

    def line(label: str, values: Iterator[str]) -> None:
        print(f"{label:<40}" + "".join(f"{v:>14}" for v in values))

    line("load step (s)", (f"{r.load_step[1]:.1f}" for r in results))
    line("idle sync() bytes, wire", (f"{r.costs.idle.median('wire'):,.0f}" for r in results))
    line("full poll bytes, wire", (f"{r.costs.poll.median('wire'):,.0f}" for r in results))
    line("full poll bytes, decompressed", (f"{r.costs.poll.median('raw'):,.0f}" for r in results))
    line("bytes ratio wire (target >= 50x)", (f"{r.ratio('wire'):,.0f}x" for r in results))
    line("bytes ratio decompressed (>= 50x)", (f"{r.ratio('raw'):,.0f}x" for r in results))
    line("idle sync() CPU (ms)", (f"{r.costs.idle.median('cpu') * 1000:.2f}" for r in results))
    line("full poll CPU (ms)", (f"{r.costs.poll.median('cpu') * 1000:.1f}" for r in results))
    line("CPU ratio (target >= 10x)", (f"{r.ratio('cpu'):,.1f}x" for r in results))
    line("idle sync() wall (ms)", (f"{r.costs.idle.median('wall') * 1000:.0f}" for r in results))
    line("full poll wall (ms)", (f"{r.costs.poll.median('wall') * 1000:.0f}" for r in results))
    line(
        "idle sync() server CPU (ms)",
        (f"{r.costs.idle.median('server_cpu') * 1000:.0f}" for r in results),
    )
    line(
        "full poll server CPU (ms)",
        (f"{r.costs.poll.median('server_cpu') * 1000:.0f}" for r in results),
    )
    line("mirror MB (target < 50)", (f"{r.memory.retained / MB:.1f}" for r in results))
    line(
        "mirror B/torrent (deep size)",
        (f"{r.memory.deep.total / max(1, r.memory.torrents):,.0f}" for r in results),
    )


# ---- main ----------------------------------------------------------------------------------


async def run(instance: QbtInstance, counts: Sequence[int], rounds: int, batch: int) -> int:
    results: list[Result] = []
    async with new_client(instance.url) as loader:
        print(
            f"qBittorrent {await loader.app_version()} (Web API "
            f"{'.'.join(map(str, await loader.api_version()))}) at {instance.url}"
        )
        loaded = 0
        for count in counts:
            seconds = await load_torrents(loader, loaded, count, batch)
            step = (count - loaded, seconds)
            loaded = count
            costs = await measure_costs(instance.url, rounds, instance.process.pid)
            memory = await measure_memory(instance.url)
            result = Result(count, step, costs, memory)
            results.append(result)
            print_result(result, rounds)
    print_summary(results, rounds)
    failed = [
        (r.count, label) for r in results if r.checked for label, _, ok in r.verdicts() if not ok
    ]
    print()
    if failed:
        for count, label in failed:
            print(f"TARGET MISSED at {count:,} torrents: {label}")
        return 1
    if any(r.checked for r in results):
        print("all targets met")
    else:
        print(f"no count >= {TARGET_FROM_COUNT:,}: targets not checked")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=20, help="idle refreshes and full polls")
    parser.add_argument("--batch", type=int, default=200, help=".torrent files per torrents/add")
    args = parser.parse_args(argv)
    counts = sorted(set(args.counts))
    if counts[0] < 1 or args.rounds < 1 or args.batch < 1:
        parser.error("counts, rounds and batch must be positive")

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="earmark-sync-scale-") as tmp:
        instance = start_qbittorrent(Path(tmp) / "qbt")
        try:
            code = asyncio.run(run(instance, counts, args.rounds, args.batch))
        finally:
            instance.stop()
    print(f"total run time {time.monotonic() - began:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
