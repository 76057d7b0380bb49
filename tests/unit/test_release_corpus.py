"""The release-title parser on real release names from other projects (targets: >= 90 %)."""

from __future__ import annotations

from typing import Any

import pytest

from gui.core.release_title import parse_release_title
from tests.fixtures.release_corpus import field_right, load_cases, measure

CASES = load_cases()
#: The issue's target for the fields that decide which book a release is.
TARGET = 0.9


def test_the_corpus_cites_a_source_for_every_case() -> None:
    import json

    from tests.fixtures.release_corpus import CORPUS

    sources = json.loads(CORPUS.read_text(encoding="utf-8"))["sources"]
    assert len(CASES) >= 90
    assert {case["source"] for case in CASES} <= set(sources)
    assert len({case["name"] for case in CASES}) == len(CASES)  # no case counted twice


@pytest.mark.parametrize("field", ["title", "authors", "series", "position"])
def test_accuracy_per_field_reaches_the_target(field: str) -> None:
    accuracy = measure(parse_release_title, CASES)
    misses = [w for w in accuracy.wrong if w[1] == field]
    assert accuracy.share(field) >= TARGET, misses


# The shapes the issue names, each of which the parser used to get wrong.
ISSUE_SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("1951 - Foundation", {"title": "Foundation", "authors": [], "year": 1951}),
    ("1996 Stephen King – The Regulators Audiobook read by Frank Muller",
     {"authors": ["Stephen King"], "title": "The Regulators", "year": 1996}),
    ("1. Alastair Reynolds - Revelation Space 01 Revelation Space",
     {"authors": ["Alastair Reynolds"], "series": "Revelation Space", "position": "1"}),
    ("Book 2 - The Dark Forest", {"title": "The Dark Forest", "authors": [], "position": "2"}),
    ("0.5 - Book Title", {"title": "Book Title", "authors": [], "position": "0.5"}),
    ("Isaac Asimov - Foundation, Book 1 [M4B]", {"series": "Foundation", "position": "1"}),
    ("Andy Weir - Project Hail Mary {475mb} [MP3-CBR]", {"narrators": [], "format": "mp3"}),
    ("John Coltrane - Kulu Se Mama (1965) [EAC-FLAC]", {"format": "flac"}),
    ("Vol 1 - 1994 - Wizards First Rule {Sam Tsoutsouvas}",
     {"title": "Wizards First Rule", "position": "1", "year": 1994}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "expected"), ISSUE_SHAPES)
def test_the_issue_shapes(name: str, expected: dict[str, Any]) -> None:
    parsed = parse_release_title(name)
    for field, value in expected.items():
        assert field_right(field, value, parsed), (field, value, parsed)
