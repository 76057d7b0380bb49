r"""How long the owned-book index takes: built over 10,000 owned books, 1,000 lookups.

A benchmark, not a test (tests/unit/test_library_index.py asserts the answers and that
each lookup compares a handful of books, not the library): it prints the figures, wall
clock (``perf_counter``) with the garbage collector paused, median of the rounds.

    .venv/bin/python bench/library_index.py
    .venv/bin/python bench/library_index.py --owned 50000 --rounds 3

The library is tests/doubles/audiobookshelf.py's generated books; the lookups are 500
owned books spelt differently (lower case, a leading "the" dropped) and 500 books
nobody owns.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gui.core.matching import clear_caches  # noqa: E402
from gui.core.ranking import Wanted  # noqa: E402
from gui.services.library import OwnedIndex  # noqa: E402
from tests.doubles.audiobookshelf import generated_books  # noqa: E402
from tests.unit.test_library_index import owned_from_spec  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owned", type=int, default=10_000, help="owned books (default 10,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    specs = generated_books(args.owned)
    library = [owned_from_spec(spec, n) for n, spec in enumerate(specs)]
    step = max(1, len(specs) // 500)
    wanted = [Wanted(s.title.lower().replace("the ", "", 1), s.authors[0]) for s in specs[::step]]
    wanted += [Wanted(f"Unwritten Chronicle {n}", f"Nobody Known {n}") for n in range(500)]
    builds: list[float] = []
    lookups: list[float] = []
    gc.disable()
    try:
        for _ in range(args.rounds):
            clear_caches()  # cold: names and titles normalised again
            started = time.perf_counter()
            index = OwnedIndex(library)
            builds.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = sum(index.find(w) is not None for w in wanted)
            lookups.append(time.perf_counter() - started)
    finally:
        gc.enable()
    print(f"owned books: {len(library):,}; lookups per round: {len(wanted):,} ({found} owned)")
    print(f"index built:  median {statistics.median(builds):.3f} s (of {args.rounds})")
    print(
        f"lookups:      median {statistics.median(lookups):.3f} s, "
        f"{statistics.median(lookups) / len(wanted) * 1e6:.0f} µs each"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
