r"""How long tagging one file takes, per format: the tag step of an import.

A benchmark, not a test: it prints figures and exits non-zero only when tagging fails.

    .venv/bin/python bench/tagging.py                          # 12 files of 5 min per format
    .venv/bin/python bench/tagging.py --files 20 --seconds 1800 --formats mp3,m4b

Files are real (ffmpeg, mono sine, the test harness's codecs and bitrates), tagged with
every field and a 600x600 JPEG cover, exactly as an import writes them: `write_tags`
copies the file to a hidden temporary name, tags the copy, fsyncs it and renames it over
the original, so the time grows with the file's size (the copy and the fsync) on top of
mutagen's parsing and writing. Figures per format, wall clock (``perf_counter``):

* copy+sync: the I/O floor of an atomic write (copy, fsync, rename; no tagging);
* write: median and slowest `write_tags` over the files, each tagged once;
* rewrite: the same files tagged a second time (managed keys replaced, not added);
* read: median `read_tags` (what the importer does to gather existing tags);
* MB/s: file size over the median write, to compare formats of different bitrates.

MP3 is measured twice: ID3v2.3 (the default) and ID3v2.4.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gui.core.metadata import BookMetadata  # noqa: E402
from gui.core.tagging import read_tags, write_tags  # noqa: E402
from tests.doubles.metadata_providers import cover_jpeg  # noqa: E402
from tests.harness.audiobook import make_audiobook  # noqa: E402

FORMATS = ("mp3", "m4b", "flac", "opus")


def book(cover: bytes) -> BookMetadata:
    return BookMetadata(
        title="Galaxy's Edge",
        subtitle="Legionnaire and Galactic Outlaws",
        authors=("Jason Anspach", "Nick Cole"),
        narrators=("R.C. Bray",),
        series="Galaxy's Edge Series",
        position="1",
        year=2018,
        publisher="Podium Audio",
        description="On the edge of the galaxy, a diplomatic mission takes a turn. " * 30,
        genres=("Science Fiction & Fantasy", "Military"),
        isbn="9781772305241",
        asin="B079LRSMNN",
        language="English",
        cover=cover,
        cover_mime="image/jpeg",
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def copy_and_sync(path: Path) -> None:
    """The I/O floor of an atomic write: copy, fsync, rename back (no tagging)."""
    temp = path.with_name(f".{path.name}.bench.tmp")
    shutil.copyfile(path, temp)
    with temp.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, path)


def measure(
    files: list[Path], meta: BookMetadata, id3_version: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    total = len(files)
    floor = [timed(lambda p=path: copy_and_sync(p)) for path in files]
    writes = [
        timed(
            lambda p=path, n=n: write_tags(
                p, meta, track=(n, total), disc=(1, 1), id3_version=id3_version
            )
        )
        for n, path in enumerate(files, start=1)
    ]
    rewrites = [
        timed(
            lambda p=path, n=n: write_tags(
                p, meta, track=(n, total), disc=(1, 1), id3_version=id3_version
            )
        )
        for n, path in enumerate(files, start=1)
    ]
    reads = [timed(lambda p=path: read_tags(p)) for path in files]
    return floor, writes, rewrites, reads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=12, help="files per format")
    parser.add_argument("--seconds", type=float, default=300.0, help="length of each file")
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    cover = cover_jpeg("red", size=600, pattern=True)
    meta = book(cover)
    print(
        f"tag time per file: {args.files} files of {args.seconds:g} s per format, "
        f"cover {len(cover) / 1024:.0f} kB, description {len(meta.description)} chars"
    )
    header = (
        f"{'format':<10}{'size/file':>11}{'copy+sync':>11}{'write med':>11}{'write max':>11}"
        f"{'rewrite med':>13}{'read med':>10}{'MB/s':>8}"
    )
    print(header)
    print("-" * len(header))
    runs: list[tuple[str, str, int]] = []
    for fmt in formats:
        runs.append((fmt if fmt != "mp3" else "mp3 v2.3", fmt, 3))
        if fmt == "mp3":
            runs.append(("mp3 v2.4", fmt, 4))
    with tempfile.TemporaryDirectory(prefix="earmark-bench-tagging-") as tmp:
        for label, fmt, version in runs:
            folder = make_audiobook(
                Path(tmp) / label.replace(" ", "-"),
                "Bench",
                files=args.files,
                seconds=args.seconds,
                fmt=fmt,
            )
            files = sorted(p for p in folder.iterdir() if p.is_file())
            floor, writes, rewrites, reads = measure(files, meta, version)
            size_mb = statistics.mean(p.stat().st_size for p in files) / (1024 * 1024)
            median = statistics.median(writes)
            print(
                f"{label:<10}{size_mb:>9.2f}MB{statistics.median(floor):>9.1f}ms"
                f"{median:>9.1f}ms{max(writes):>9.1f}ms"
                f"{statistics.median(rewrites):>11.1f}ms{statistics.median(reads):>8.1f}ms"
                f"{size_mb / (median / 1000):>8.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
