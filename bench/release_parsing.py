r"""Per-field accuracy of the release-title parser on real release names.

A benchmark, not a test: it prints, for each field (title, authors, series, position,
format, year, narrators), the share of the corpus tests/fixtures/release_names.json the
parser gets right, and with ``--wrong`` every miss. The comparison rules are in
tests/fixtures/release_corpus.py; tests/unit/test_release_corpus.py holds the targets.

    .venv/bin/python bench/release_parsing.py
    .venv/bin/python bench/release_parsing.py --wrong
    .venv/bin/python bench/release_parsing.py --module /path/to/old/release_title.py

``--module`` scores another copy of the parser (e.g. the previous commit's, saved with
`git show HEAD~1:gui/core/release_title.py`), for before/after figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gui.core.release_title import ParsedRelease, parse_release_title  # noqa: E402
from tests.fixtures.release_corpus import FIELDS, load_cases, measure  # noqa: E402


def _parser(path: str | None) -> Callable[[str], ParsedRelease]:
    if path is None:
        return parse_release_title
    spec = importlib.util.spec_from_file_location("release_title_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    parse: Callable[[str], ParsedRelease] = module.parse_release_title
    return parse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wrong", action="store_true", help="list every miss")
    parser.add_argument("--module", help="score this release_title.py instead")
    args = parser.parse_args()
    cases = load_cases()
    accuracy = measure(_parser(args.module), cases)
    print(f"{len(cases)} release names")
    for name in FIELDS:
        share = accuracy.share(name)
        print(f"  {name:<10} {share:6.1%}  ({accuracy.right[name]}/{accuracy.total[name]})")
    if args.wrong:
        for release, name, expected, got in accuracy.wrong:
            print(f"  {name:<9} {release!r}: expected {expected!r}, got {got!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
