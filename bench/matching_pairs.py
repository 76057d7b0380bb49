r"""Precision and recall of the owned-book check on the table of real spellings.

A benchmark, not a test (tests/unit/test_matching_pairs.py asserts every pair): it prints
how many pairs of tests/fixtures/matching_pairs.py the verdict gets right, both
directions, counting an "unsure" answer as "not the same book" (what the owned check does
with it: the book stays wanted and the user is shown the candidate).

    .venv/bin/python bench/matching_pairs.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gui.core.matching import judge, prepare  # noqa: E402
from tests.fixtures.matching_pairs import DIFFERENT, SAME  # noqa: E402


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    tp = fp = fn = tn = unsure = 0
    misses: list[str] = []
    for truth, pairs in ((True, SAME), (False, DIFFERENT)):
        for pair in pairs:
            for a, b in ((pair.wanted, pair.owned), (pair.owned, pair.wanted)):
                verdict = judge(prepare(a), prepare(b))
                unsure += verdict.same is None
                said = verdict.same is True
                if said and truth:
                    tp += 1
                elif said:
                    fp += 1
                    misses.append(f"false match: {a.title!r} ~ {b.title!r} ({pair.why})")
                elif truth:
                    fn += 1
                    misses.append(f"missed:      {a.title!r} ~ {b.title!r} ({pair.why})")
                else:
                    tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    checks = 2 * (len(SAME) + len(DIFFERENT))
    print(f"pairs: {len(SAME)} same, {len(DIFFERENT)} different; {checks} checks (both ways)")
    print(
        f"true matches {tp}, false matches {fp}, missed {fn}, true rejections {tn}, unsure {unsure}"
    )
    print(f"precision {precision:.1%}  recall {recall:.1%}")
    for line in sorted(set(misses)):
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
