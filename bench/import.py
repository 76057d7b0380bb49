r"""How fast the importer copies a book, against ``shutil.copytree`` of the same folder.

A benchmark, not a test: it prints figures and exits non-zero when the target is missed.

    .venv/bin/python bench/import.py                     # 400 MB in 8 files, 5 rounds
    .venv/bin/python bench/import.py --size-mb 300 --files 12 --rounds 7 --dir /mnt/x

The book is random bytes in ``.mp3``-named files plus a cover (the copy does not care
what is inside, and generating 400 MB of real audio would take minutes). Source and
library sit in one scratch folder (``--dir``, default the system temp folder), so both
copies go to the same filesystem, as an import into a local library would.

Each round runs every variant once, in an order that rotates from round to round, each
starting from a cold page cache when it can be dropped (``sync`` then
``echo 3 > /proc/sys/vm/drop_caches``, root only; the output says whether it worked,
otherwise the figures are warm-cache ones):

* ``copytree``: ``shutil.copytree`` (on Linux ``copy_file_range``/``sendfile``, no
  verification, no fsync: the copy may still be in memory when the clock stops).
* ``copytree+sync``: the same, then ``os.sync()``, i.e. the copy is on disk, which is
  what the importer guarantees before it renames the book into place.
* ``import``: :func:`gui.core.importer.import_book` as shipped (copy read back and
  compared with the source, CRC-32 recorded, fsync, manifest, rename).
* ``import/sha256``, ``import/blake2b`` and ``import/no-checksum``: the same with
  another checksum, or with none (the read-back comparison stays), to show what the
  checksum costs; ``import/no-verify`` skips the read-back too (fsync, manifest and
  rename stay), to show what the whole verification costs.

Figures: median MB/s per variant (MB = 10^6 bytes) and their ratios. The target:
the median ``import`` throughput is at least 0.8x the median ``copytree+sync`` one
(both make a durable copy; plain ``copytree`` leaves its writes in the page cache, and
the ratio against it is printed too, for information). Hash speeds in memory are
printed as well, since they decide which checksum is affordable on this CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gui.core import importer  # noqa: E402
from gui.core.layout import BookMeta, book_folder, select_files  # noqa: E402

TARGET_RATIO = 0.8
BOOK = BookMeta("Bench Book", authors=["Bench Author"], narrators=["Bench Narrator"])


class _NoChecksum:
    """Stands in for the checksum to measure the importer without verification."""

    def update(self, data: memoryview, /) -> None:
        pass

    def hexdigest(self) -> str:
        return "0"


def make_book(root: Path, size_mb: int, files: int) -> Path:
    """``files`` random-content tracks totalling ``size_mb`` MB, plus a small cover."""
    book = root / "source" / "Bench Book [MP3]"
    book.mkdir(parents=True)
    per_file = size_mb * 1_000_000 // files
    block = os.urandom(1 << 20)
    for index in range(files):
        with open(book / f"{index + 1:02d} - Bench Book.mp3", "wb") as handle:
            written = 0
            while written < per_file:
                # rotate the block so files differ (no dedup or compression shortcuts)
                chunk = block[index + written % 997 :] + block[: index + written % 997]
                piece = chunk[: per_file - written]
                handle.write(piece)
                written += len(piece)
    (book / "cover.jpg").write_bytes(os.urandom(200_000))
    return book


def drop_caches() -> bool:
    """Flush dirty data, then drop the page cache; False when not permitted."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("3\n")
    except OSError:
        return False
    return True


@contextmanager
def checksum(algorithm: str | None) -> Iterator[None]:
    """Run the importer with another checksum algorithm (None: no checksum)."""
    saved_algorithm = importer.CHECKSUM_ALGORITHM
    saved_factory = importer._new_checksum
    if algorithm is None:
        importer._new_checksum = lambda algorithm: _NoChecksum()
    else:
        importer.CHECKSUM_ALGORITHM = algorithm
    try:
        yield
    finally:
        importer.CHECKSUM_ALGORITHM = saved_algorithm
        importer._new_checksum = saved_factory


@contextmanager
def verification(enabled: bool) -> Iterator[None]:
    """Run the importer without reading the copy back (to price the verification)."""
    saved = importer._Verifier.consume

    def skip(self: importer._Verifier, count: int) -> None:
        self.verified += count

    if not enabled:
        importer._Verifier.consume = skip  # type: ignore[method-assign]
    try:
        yield
    finally:
        importer._Verifier.consume = saved  # type: ignore[method-assign]


def hash_speeds() -> dict[str, float]:
    """MB/s of each candidate checksum over 256 MiB in memory, best of three."""
    data = memoryview(os.urandom(1 << 24))
    speeds: dict[str, float] = {}
    for name in ("sha256", "blake2b", "sha1", "crc32"):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            if name == "crc32":
                value = 0
                for _ in range(16):
                    value = zlib.crc32(data, value)
            else:
                digest = hashlib.new(name)
                for _ in range(16):
                    digest.update(data)
            best = min(best, time.perf_counter() - started)
        speeds[name] = 16 * len(data) / 1e6 / best
    return speeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=400, help="book size in MB")
    parser.add_argument("--files", type=int, default=8, help="number of audio files")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder")
    parser.add_argument("--quick", action="store_true", help="only copytree(+sync) and import")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="earmark-bench-import-", dir=args.dir))
    try:
        return run(scratch, args.size_mb, args.files, args.rounds, args.quick)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(scratch: Path, size_mb: int, files: int, rounds: int, quick: bool) -> int:
    print(f"generating a {size_mb} MB book in {files} files under {scratch} ...", flush=True)
    source = make_book(scratch, size_mb, files)
    listing = [
        (path.relative_to(source.parent).as_posix(), path.stat().st_size)
        for path in sorted(source.rglob("*"))
        if path.is_file()
    ]
    plan = select_files(listing)
    total = plan.total_size
    folder = book_folder(BOOK)
    library = scratch / "library"
    copy_target = scratch / "copytree"

    def clean() -> None:
        shutil.rmtree(library, ignore_errors=True)
        shutil.rmtree(copy_target, ignore_errors=True)
        library.mkdir()

    def run_copytree() -> None:
        shutil.copytree(source, copy_target)

    def run_copytree_sync() -> None:
        shutil.copytree(source, copy_target)
        os.sync()

    def run_import(
        algorithm: str | None = importer.CHECKSUM_ALGORITHM, *, verify: bool = True
    ) -> Callable[[], None]:
        def go() -> None:
            with checksum(algorithm), verification(verify):
                result = importer.import_book(plan, source.parent, library, folder)
            assert result.status == "imported", result

        return go

    variants: dict[str, Callable[[], None]] = {
        "copytree": run_copytree,
        "copytree+sync": run_copytree_sync,
        "import": run_import(),
    }
    if not quick:
        variants["import/sha256"] = run_import("sha256")
        variants["import/blake2b"] = run_import("blake2b")
        variants["import/no-checksum"] = run_import(None)
        variants["import/no-verify"] = run_import(None, verify=False)

    timings: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    cold = True
    names = list(variants)
    for round_index in range(rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            clean()
            cold = drop_caches() and cold
            usage = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            variants[name]()
            timings[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu[name].append(after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime)
        print(f"round {round_index + 1}/{rounds} done", flush=True)
    clean()

    print()
    print(f"book: {total / 1e6:.0f} MB in {len(plan.files)} files; {rounds} rounds")
    if cold:
        print("page cache: dropped before every run (sync; echo 3 > drop_caches): cold reads")
    else:
        print("page cache: could NOT be dropped (not root?): warm-cache figures")
    median_mbps: dict[str, float] = {}
    for name, values in timings.items():
        speeds = [total / 1e6 / value for value in values]
        median_mbps[name] = statistics.median(speeds)
        spread = ", ".join(f"{speed:.0f}" for speed in speeds)
        print(
            f"  {name:<20} median {median_mbps[name]:7.0f} MB/s, "
            f"CPU {statistics.median(cpu[name]):5.2f} s   (runs: {spread})"
        )

    imported = median_mbps["import"]
    ratio_durable = imported / median_mbps["copytree+sync"]
    ratio_raw = imported / median_mbps["copytree"]
    print()
    print(f"import / copytree+sync: {ratio_durable:.2f}x  (target >= {TARGET_RATIO}x)")
    print(f"import / copytree:      {ratio_raw:.2f}x  (copytree without sync; information)")
    if "import/no-checksum" in median_mbps:
        unchecked = median_mbps["import/no-checksum"]
        unverified = median_mbps["import/no-verify"]
        print(
            f"checksum overhead ({importer.CHECKSUM_ALGORITHM} of the source bytes): "
            f"{(1 - imported / unchecked) * 100:.0f}% of import throughput "
            f"({unchecked:.0f} MB/s without, {imported:.0f} MB/s with)"
        )
        print(
            "verification overhead (read-back + byte comparison + checksum): "
            f"{(1 - imported / unverified) * 100:.0f}% "
            f"({unverified:.0f} MB/s without any, {imported:.0f} MB/s with)"
        )
    print()
    print("in-memory hash speed (one thread, MB/s): ", end="")
    print(", ".join(f"{name} {speed:.0f}" for name, speed in hash_speeds().items()))
    print(f"CPUs: {os.cpu_count()}; importer chunk {importer.CHUNK_SIZE >> 20} MiB")

    if ratio_durable < TARGET_RATIO:
        print(f"FAIL: import reached {ratio_durable:.2f}x of copytree+sync, below {TARGET_RATIO}x")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
