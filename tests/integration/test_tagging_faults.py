"""Tagging the library copies on a disk that fills up: notes, no traceback, no leftovers.

A tag is written on a temporary copy of the file (atomic replace), so each file needs
its own size free once more; the library disk filling up while tagging must leave the
imported files intact (untagged) and say why, once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gui.core.layout import select_files
from gui.core.metadata import BookMetadata
from gui.core.tagging import read_tags
from gui.services.importing import _tag_copies
from tests.harness.audiobook import make_audiobook
from tests.harness.faults import fill_disk, read_only, tmpfs


def test_a_full_library_disk_while_tagging_leaves_untagged_files_and_says_so(
    tmp_path: Path,
) -> None:
    source = make_audiobook(tmp_path / "src", "Dune", files=3, seconds=20)
    tracks = sorted(source.glob("*.mp3"))
    plan = select_files([(f"Dune/{t.name}", t.stat().st_size) for t in tracks])
    with tmpfs(tmp_path / "library", size="2m") as library:
        folder = library / "Frank Herbert" / "Dune"
        for item in plan.files:
            target = folder.joinpath(*item.target.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / item.source.split("/", 1)[1], target)
        copies = {p.name: p.read_bytes() for p in folder.iterdir()}
        filler = fill_disk(library)
        notes = _tag_copies(folder, plan, BookMetadata(title="Dune", authors=("Frank Herbert",)))
        assert len(notes) == 1, notes
        assert "3 files from" in notes[0] and "library disk is full" in notes[0]
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == copies  # intact, no temp
        filler.unlink()
        notes = _tag_copies(folder, plan, BookMetadata(title="Dune", authors=("Frank Herbert",)))
        assert notes == []
        assert all(read_tags(p).title == "Dune" for p in folder.iterdir())


def test_a_read_only_library_while_tagging_is_one_note(tmp_path: Path) -> None:
    source = make_audiobook(tmp_path / "src", "Dune", files=2, seconds=2)
    tracks = sorted(source.glob("*.mp3"))
    plan = select_files([(f"Dune/{t.name}", t.stat().st_size) for t in tracks])
    with tmpfs(tmp_path / "library", size="4m") as library:
        folder = library / "Frank Herbert" / "Dune"
        folder.mkdir(parents=True)
        for item in plan.files:
            shutil.copyfile(source / item.source.split("/", 1)[1], folder / item.target.name)
        with read_only(library):
            notes = _tag_copies(folder, plan, BookMetadata(title="Dune"))
        assert len(notes) == 1 and "2 files from" in notes[0], notes
        assert "cannot be written" in notes[0]
