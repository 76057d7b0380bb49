"""The importer against real files: real audio from ffmpeg, real filesystems and faults.

Faults are produced for real rather than mocked: a 1 MiB tmpfs for a full disk, an
immutable folder (``chattr +i``, because root ignores permission bits) and a read-only
remount for refused writes, and a child process that SIGKILLs itself in the middle of a
file. Mounting needs root, as in CI; without it these tests fail with a message, they
are never skipped, because a skipped fault test hides exactly the bugs it exists for.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import unicodedata
import zlib
from pathlib import Path, PurePosixPath

import pytest

from gui.core import importer
from gui.core.importer import (
    MANIFEST_NAME,
    DestinationConflict,
    ImportCancelled,
    ImportFailed,
    ImportInProgress,
    NotEnoughSpace,
    NothingToImport,
    PermissionDenied,
    SourceChanged,
    SourceMissing,
    import_book,
    leftover_imports,
    temp_folder,
)
from gui.core.layout import BookMeta, ImportPlan, book_folder, select_files
from tests.harness.audiobook import AUTHOR, make_audiobook
from tests.harness.faults import _run, fill_disk, immutable, tmpfs

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDER = book_folder(BookMeta("Dune", [AUTHOR], ["Scott Brick"], "Dune Chronicles", 1))
SMALL_CHUNK = 64 * 1024


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three real MP3 tracks of about 240 KB each (60 s at 32 kbit/s)."""
    book = make_audiobook(tmp_path_factory.mktemp("audio"), "Dune", files=3, seconds=60)
    return sorted(book.glob("*.mp3"))


@pytest.fixture(scope="module")
def disc_tracks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real four-track FLAC book laid out as ``Disc 1``/``Disc 2``."""
    return make_audiobook(
        tmp_path_factory.mktemp("discs"),
        "Disc Book",
        files=4,
        seconds=3,
        fmt="flac",
        disc_folders=True,
    )


@pytest.fixture(scope="module")
def big_tracks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four real MP3 tracks, about 1.3 MB together: more than a 1 MiB tmpfs holds."""
    book = make_audiobook(tmp_path_factory.mktemp("big"), "Big", files=4, seconds=80)
    return sorted(book.glob("*.mp3"))


def make_download(save_path: Path, files: dict[str, Path | bytes]) -> list[tuple[str, int]]:
    """Lay files out under ``save_path`` as qBittorrent would; return its file list."""
    listing = []
    for relative, content in files.items():
        path = save_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            shutil.copyfile(content, path)
        listing.append((relative, path.stat().st_size))
    return listing


def simple_download(
    save_path: Path, tracks: list[Path], extra: dict[str, bytes] | None = None
) -> ImportPlan:
    files: dict[str, Path | bytes] = {f"Dune [MP3]/{track.name}": track for track in tracks}
    files.update(extra or {})
    return select_files(make_download(save_path, files))


def snapshot(folder: Path) -> dict[str, tuple[str, int, int, int]]:
    """Content hash, size, mtime and inode of every file: to prove nothing changed."""
    result = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            info = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            result[path.relative_to(folder).as_posix()] = (
                digest,
                info.st_size,
                info.st_mtime_ns,
                info.st_ino,
            )
    return result


def assert_book_matches(plan: ImportPlan, save_path: Path, final: Path) -> None:
    for item in plan.files:
        copy = final / item.target
        assert copy.read_bytes() == (save_path / item.source).read_bytes(), item.target
    on_disk = {p.relative_to(final).as_posix() for p in final.rglob("*") if p.is_file()}
    assert on_disk == {item.target.as_posix() for item in plan.files} | {MANIFEST_NAME}


def assert_no_leftovers(library: Path) -> None:
    hidden = [entry.name for entry in library.iterdir() if entry.name.startswith(".")]
    assert hidden == [], f"temporary files left in the library: {hidden}"
    assert leftover_imports(library) == []


# --- the ordinary import -----------------------------------------------------------------


def test_import_copies_verifies_and_leaves_the_source_untouched(
    tmp_path: Path, disc_tracks: Path
) -> None:
    save_path = tmp_path / "downloads"
    library = tmp_path / "library"
    library.mkdir()
    files: dict[str, Path | bytes] = {
        f"Disc Book/{p.relative_to(disc_tracks).as_posix()}": p for p in disc_tracks.rglob("*.flac")
    }
    files["Disc Book/cover.jpg"] = b"\xff\xd8\xff" + os.urandom(5000)
    files["Disc Book/Disc Book.nfo"] = b"Narrated by Scott Brick\n"
    files["Disc Book/Disc 1/Disc Book.cue"] = b'FILE "01 - Disc Book.flac" WAVE\n'
    files["Disc Book/Sample/sample.flac"] = next(iter(disc_tracks.rglob("*.flac")))
    files["Disc Book/Read me.url"] = b"[InternetShortcut]\n"
    files["Disc Book/desc.txt"] = b""  # an empty file is a file too
    plan = select_files(make_download(save_path, files))
    before = snapshot(save_path)
    seen: list[tuple[int, int]] = []

    result = import_book(
        plan, save_path, library, FOLDER, progress=lambda d, t: seen.append((d, t))
    )

    final = library / FOLDER
    assert result.status == "imported" and result.path == final
    assert_book_matches(plan, save_path, final)
    assert sorted(p.relative_to(final).as_posix() for p in final.rglob("*.flac")) == [
        "Disc 1/01 - Disc Book.flac",
        "Disc 1/02 - Disc Book.flac",
        "Disc 2/01 - Disc Book.flac",
        "Disc 2/02 - Disc Book.flac",
    ]
    assert (final / "Disc 1/Disc Book.cue").is_file() and (final / "cover.jpg").is_file()
    assert (final / "desc.txt").read_bytes() == b""
    # checksums recorded are those of the copies, computed independently here
    for item in result.files:
        algorithm, _, digest = (item.checksum or "").partition(":")
        data = (final / item.target).read_bytes()
        expected = (
            f"{zlib.crc32(data):08x}"
            if algorithm == "crc32"
            else hashlib.new(algorithm, data).hexdigest()
        )
        assert digest == expected, item.target
        assert item.method == "copy"
        assert os.stat(final / item.target).st_nlink == 1  # a copy, not a link
    # the marker left in the book folder records the same checksums
    marker = json.loads((final / MANIFEST_NAME).read_text())
    assert marker["complete"] is True
    assert {t: e["checksum"] for t, e in marker["files"].items()} == {
        f.target.as_posix(): f.checksum for f in result.files
    }
    # the seeding files: same bytes, same mtime, same inode, nothing added or removed
    assert snapshot(save_path) == before
    # progress in bytes, never backwards, ending at the total
    assert seen[0] == (0, plan.total_size) and seen[-1] == (plan.total_size, plan.total_size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))
    assert result.bytes_copied == plan.total_size
    assert_no_leftovers(library)


def test_source_files_are_only_ever_opened_read_only(tmp_path: Path, tracks: list[Path]) -> None:
    """With the seeding files immutable, any attempt to write them would fail the import."""
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    sources = [save_path / item.source for item in plan.files]
    with immutable(sources[0]), immutable(sources[1]), immutable(sources[2]):
        result = import_book(plan, save_path, library, FOLDER)
    assert result.status == "imported"
    assert_book_matches(plan, save_path, library / FOLDER)


def test_reimport_is_idempotent_even_after_tagging(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    first = import_book(plan, save_path, library, FOLDER)
    final = first.path
    inodes = {p.name: p.stat().st_ino for p in final.iterdir()}

    again = import_book(plan, save_path, library, FOLDER)
    assert again.status == "already_imported" and again.already_imported
    assert again.path == final and again.bytes_copied == 0
    assert {p.name: p.stat().st_ino for p in final.iterdir()} == inodes

    # the tagger rewrites a copy (size changes): still the same import, not a conflict
    tagged = final / plan.audio_files[0].target
    tagged.write_bytes(tagged.read_bytes() + b"ID3-tag-padding" * 100)
    assert import_book(plan, save_path, library, FOLDER).status == "already_imported"
    assert_no_leftovers(library)


def test_folder_with_the_same_files_counts_as_imported(tmp_path: Path, tracks: list[Path]) -> None:
    """A book copied by hand (no marker) with the same names and sizes is not copied again."""
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    final.mkdir(parents=True)
    for item in plan.files:
        shutil.copyfile(save_path / item.source, final / item.target)
    assert import_book(plan, save_path, library, FOLDER).status == "already_imported"
    assert not (final / MANIFEST_NAME).exists()


def test_empty_book_folder_is_used(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    final.mkdir(parents=True)
    (final / ".DS_Store").write_bytes(b"junk")
    assert import_book(plan, save_path, library, FOLDER).status == "imported"
    assert_book_matches(plan, save_path, final)


# --- conflicts and upgrades --------------------------------------------------------------


def _other_copy(final: Path) -> dict[str, bytes]:
    final.mkdir(parents=True)
    old = {"old release.m4b": os.urandom(4000), "cover.jpg": b"old cover"}
    for name, data in old.items():
        (final / name).write_bytes(data)
    return old


def test_other_content_is_refused_without_upgrade(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    old = _other_copy(final)
    # a temporary folder from an earlier attempt is removed with the conflict
    stale = temp_folder(library, FOLDER)
    stale.mkdir(parents=True)
    (stale / "partial.mp3").write_bytes(b"x")

    with pytest.raises(DestinationConflict) as caught:
        import_book(plan, save_path, library, FOLDER)
    assert str(final) in str(caught.value) and str(final) in caught.value.paths
    assert caught.value.resumable is False
    assert {p.name: p.read_bytes() for p in final.iterdir()} == old
    assert_no_leftovers(library)


def test_upgrade_replaces_the_old_copy(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    _other_copy(final)

    result = import_book(plan, save_path, library, FOLDER, upgrade=True)
    assert result.status == "upgraded"
    assert_book_matches(plan, save_path, final)
    assert not (final / "old release.m4b").exists()
    assert_no_leftovers(library)


def test_upgrade_puts_the_old_copy_back_when_the_new_one_cannot_take_its_place(
    tmp_path: Path, tracks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    old = _other_copy(final)
    temp = temp_folder(library, FOLDER)
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(src) == temp and Path(dst) == final:
            raise OSError(errno.EIO, "simulated failure renaming the new copy into place")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ImportFailed, match="simulated failure"):
        import_book(plan, save_path, library, FOLDER, upgrade=True)
    monkeypatch.undo()

    assert {p.name: p.read_bytes() for p in final.iterdir()} == old  # restored
    assert not any(p.name.startswith(importer.BACKUP_PREFIX) for p in library.iterdir())
    assert temp.is_dir()  # the verified new copy is kept for the next attempt

    result = import_book(plan, save_path, library, FOLDER, upgrade=True)
    assert result.status == "upgraded"
    assert result.reused_files == len(plan.files) and result.bytes_copied == 0
    assert_book_matches(plan, save_path, final)
    assert_no_leftovers(library)


def test_upgrade_killed_between_the_renames_is_recovered(
    tmp_path: Path, tracks: list[Path]
) -> None:
    """The old copy already moved aside, the new one not yet in place: the next run puts
    the old copy back first, so the book never disappears from the library."""
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    old = _other_copy(final)
    backup = library / (
        importer.BACKUP_PREFIX + temp_folder(library, FOLDER).name[len(importer.TEMP_PREFIX) :]
    )
    os.replace(final, backup)

    with pytest.raises(DestinationConflict):
        import_book(plan, save_path, library, FOLDER)
    assert {p.name: p.read_bytes() for p in final.iterdir()} == old
    assert not backup.exists()
    result = import_book(plan, save_path, library, FOLDER, upgrade=True)
    assert result.status == "upgraded"
    assert_no_leftovers(library)


# --- full disk -----------------------------------------------------------------------------


def test_destination_full_is_refused_before_copying(tmp_path: Path, big_tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, big_tracks)
    assert plan.total_size > 1024 * 1024
    with tmpfs(tmp_path / "small") as library:
        with pytest.raises(NotEnoughSpace) as caught:
            import_book(plan, save_path, library, FOLDER, space_margin=0)
        error = caught.value
        assert error.needed == plan.total_size
        assert error.available < error.needed
        assert str(error.needed) in str(error) and str(error.available) in str(error)
        assert str(library) in str(error)
        assert list(library.iterdir()) == []  # nothing was written


def test_default_margin_keeps_headroom(tmp_path: Path, tracks: list[Path]) -> None:
    """720 KB fit in 1 MiB, but not with the default 32 MiB margin."""
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    with tmpfs(tmp_path / "small") as library:
        with pytest.raises(NotEnoughSpace) as caught:
            import_book(plan, save_path, library, FOLDER)
        assert caught.value.needed == plan.total_size + 32 * 1024 * 1024


def test_disk_filling_up_during_the_copy_resumes_after_space_is_freed(
    tmp_path: Path, tracks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    first_size = plan.files[0].size
    monkeypatch.setattr(importer, "CHUNK_SIZE", SMALL_CHUNK)
    monkeypatch.setattr(importer, "MAX_IN_FLIGHT", 0)  # the first file is recorded at once
    with tmpfs(tmp_path / "small") as library:
        filler: list[Path] = []

        def progress(done: int, total: int) -> None:
            # once the second file has started, something else fills the disk
            if done > first_size and not filler:
                filler.append(fill_disk(library))

        with pytest.raises(NotEnoughSpace) as caught:
            import_book(plan, save_path, library, FOLDER, progress=progress, space_margin=0)
        assert "filled up while copying" in str(caught.value)
        assert caught.value.resumable
        temp = temp_folder(library, FOLDER)
        manifest = json.loads((temp / MANIFEST_NAME).read_text())
        assert list(manifest["files"]) == [plan.files[0].target.as_posix()]
        # the partial second file was removed at once: it only wasted space
        assert not (temp / plan.files[1].target).exists()

        filler[0].unlink()
        result = import_book(plan, save_path, library, FOLDER, space_margin=0)
        assert result.status == "imported" and result.reused_files == 1
        assert_book_matches(plan, save_path, library / FOLDER)
        assert_no_leftovers(library)


# --- permissions ---------------------------------------------------------------------------


def test_permission_denied_on_an_immutable_library(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    with immutable(library), pytest.raises(PermissionDenied) as caught:
        import_book(plan, save_path, library, FOLDER)
    assert str(caught.value) == f"Cannot write to {library}: permission denied."
    assert caught.value.paths == (str(library),)
    assert list(library.iterdir()) == []


def test_permission_denied_inside_the_library(tmp_path: Path, tracks: list[Path]) -> None:
    """The library root is writable but the author's folder is not."""
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    author = library / FOLDER.parts[0]
    author.mkdir(parents=True)
    with immutable(author), pytest.raises(PermissionDenied) as caught:
        import_book(plan, save_path, library, FOLDER)
    assert "permission denied" in str(caught.value)
    assert caught.value.resumable
    # the verified copy waits in the temporary folder; once fixed, nothing is copied again
    result = import_book(plan, save_path, library, FOLDER)
    assert result.reused_files == len(plan.files)
    assert_no_leftovers(library)


def test_read_only_library_is_reported(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    with tmpfs(tmp_path / "ro", size="4m") as library:
        result = _run("mount", "-o", "remount,ro", str(library))
        if result.returncode != 0:
            pytest.fail(f"cannot remount {library} read-only: {result.stderr}", pytrace=False)
        with pytest.raises(PermissionDenied) as caught:
            import_book(plan, save_path, library, FOLDER, space_margin=0)
        assert str(caught.value) == f"Cannot write to {library}: read-only file system."


# --- killed, cancelled, resumed ------------------------------------------------------------

_CHILD = """
import json, os, signal, sys
from pathlib import Path, PurePosixPath
from gui.core import importer
from gui.core.layout import select_files

args = json.loads(sys.argv[1])
importer.CHUNK_SIZE = args["chunk"]
importer.MAX_IN_FLIGHT = 0  # verify each chunk at once: the kill point is then exact
plan = select_files([tuple(entry) for entry in args["files"]])

def progress(done, total):
    if done >= args["kill_after"]:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: like a crash

importer.import_book(
    plan, Path(args["source"]), Path(args["library"]), PurePosixPath(args["folder"]),
    progress=progress, space_margin=0,
)
print("import finished without being killed")
"""


def test_killed_mid_copy_then_resumed(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    files = {f"Dune [MP3]/{track.name}": track for track in tracks}
    listing = make_download(save_path, dict(files))
    plan = select_files(listing)
    library = tmp_path / "library"
    library.mkdir()
    first, second = plan.files[0], plan.files[1]
    assert second.size > 2 * SMALL_CHUNK
    args = {
        "chunk": SMALL_CHUNK,
        "files": listing,
        "source": str(save_path),
        "library": str(library),
        "folder": FOLDER.as_posix(),
        "kill_after": first.size + SMALL_CHUNK,  # one chunk into the second file
    }
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr

    temp = temp_folder(library, FOLDER)
    manifest = json.loads((temp / MANIFEST_NAME).read_text())
    assert list(manifest["files"]) == [first.target.as_posix()]
    partial = temp / second.target
    assert partial.exists() and 0 < partial.stat().st_size < second.size
    kept_inode = (temp / first.target).stat().st_ino
    assert not (library / FOLDER).exists()

    result = import_book(plan, save_path, library, FOLDER, space_margin=0)
    assert result.status == "imported"
    methods = {item.target: item.method for item in result.files}
    assert methods == {first.target: "reused", second.target: "copy", plan.files[2].target: "copy"}
    assert result.bytes_copied == plan.total_size - first.size
    assert (library / FOLDER / first.target).stat().st_ino == kept_inode  # not copied again
    assert_book_matches(plan, save_path, library / FOLDER)
    assert_no_leftovers(library)


def test_cancel_keeps_finished_files_and_a_damaged_one_is_copied_again(
    tmp_path: Path, tracks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    monkeypatch.setattr(importer, "CHUNK_SIZE", SMALL_CHUNK)
    cancel = threading.Event()
    two_files = plan.files[0].size + plan.files[1].size

    def progress(done: int, total: int) -> None:
        if done >= two_files:
            cancel.set()

    with pytest.raises(ImportCancelled):
        import_book(plan, save_path, library, FOLDER, progress=progress, cancel=cancel)
    temp = temp_folder(library, FOLDER)
    assert (temp / plan.files[0].target).is_file() and (temp / plan.files[1].target).is_file()

    # damage the second kept copy without changing its size: the checksum catches it
    damaged = temp / plan.files[1].target
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))

    result = import_book(plan, save_path, library, FOLDER)
    methods = [item.method for item in result.files]
    assert methods == ["reused", "copy", "copy"]
    assert_book_matches(plan, save_path, library / FOLDER)
    assert_no_leftovers(library)


def test_leftovers_can_be_listed_and_abandoned(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ImportCancelled):
        import_book(plan, save_path, library, FOLDER, cancel=cancel)
    assert leftover_imports(library) == [temp_folder(library, FOLDER)]
    assert importer.abandon_import(library, FOLDER) is True
    assert importer.abandon_import(library, FOLDER) is False
    assert_no_leftovers(library)


def test_upgrade_over_a_stray_file(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    final = library / FOLDER
    final.parent.mkdir(parents=True)
    final.write_bytes(b"a file where the book folder should be")
    with pytest.raises(DestinationConflict):
        import_book(plan, save_path, library, FOLDER)
    assert import_book(plan, save_path, library, FOLDER, upgrade=True).status == "upgraded"
    assert_book_matches(plan, save_path, final)
    assert_no_leftovers(library)


def test_stale_temporary_folder_of_another_plan_is_cleaned(
    tmp_path: Path, tracks: list[Path]
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    temp = temp_folder(library, FOLDER)
    (temp / "CD9").mkdir(parents=True)
    (temp / "CD9" / "old.mp3").write_bytes(b"old")
    (temp / "not in the plan.flac").write_bytes(b"stale")
    (temp / MANIFEST_NAME).write_text(json.dumps({"files": {"not in the plan.flac": {"size": 5}}}))
    (temp / (MANIFEST_NAME + ".new")).write_text("{half-written")
    result = import_book(plan, save_path, library, FOLDER)
    assert result.reused_files == 0
    assert_book_matches(plan, save_path, library / FOLDER)
    assert_no_leftovers(library)


def test_a_second_import_of_the_same_book_waits_its_turn(
    tmp_path: Path, tracks: list[Path]
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    lock = library / f"{temp_folder(library, FOLDER).name}.lock"
    with importer._BookLock(lock), pytest.raises(ImportInProgress):
        import_book(plan, save_path, library, FOLDER)
    assert import_book(plan, save_path, library, FOLDER).status == "imported"
    assert not lock.exists()


# --- names ---------------------------------------------------------------------------------


def test_unicode_and_hostile_names(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    nfd = unicodedata.normalize("NFD", "Café")
    files: dict[str, Path | bytes] = {
        f"Livre/{nfd} 01.mp3": tracks[0],
        'Livre/Chapter 2: "The <Test>" | Part?.mp3': tracks[1],
        "Livre/CON.mp3": tracks[2],
        "Livre/日本語のタイトル 04.mp3": tracks[0],
        "Livre/trailing dots and spaces. . .mp3": tracks[1],
        "Livre/.hidden.mp3": tracks[2],
        "Livre/Émoji 🎧 05.mp3": tracks[2],
    }
    listing = make_download(save_path, files)
    plan = select_files(listing)
    meta = BookMeta(
        "L'Étranger: Roman?", ["Albert Camus"], ["Narrateur <X>"], "Cycle/de l'absurde", 1
    )
    folder = book_folder(meta)
    assert folder == PurePosixPath(
        "Albert Camus/Cyclede l'absurde/Vol. 1 - L'Étranger Roman {Narrateur X}"
    )
    library = tmp_path / "library"
    library.mkdir()

    result = import_book(plan, save_path, library, folder)
    final = library / folder
    assert sorted(p.name for p in final.glob("*.mp3")) == sorted(
        [
            "Café 01.mp3",
            "Chapter 2 The Test Part.mp3",
            "CON_.mp3",
            "日本語のタイトル 04.mp3",
            "trailing dots and spaces. . .mp3",
            "Émoji 🎧 05.mp3",
        ]
    )
    assert unicodedata.is_normalized("NFC", "".join(p.name for p in final.iterdir()))
    assert result.status == "imported"
    assert_book_matches(plan, save_path, final)


def test_a_torrent_path_climbing_out_is_neither_read_nor_written_outside(
    tmp_path: Path, tracks: list[Path]
) -> None:
    """``../../x.mp3`` lands inside the book folder, and is not read from outside the
    download folder either: a file placed there on purpose is refused."""
    save_path = tmp_path / "downloads"
    make_download(save_path, {"Book/01.mp3": tracks[0]})
    outside = tmp_path / "x.mp3"
    shutil.copyfile(tracks[1], outside)
    plan = select_files(
        [("Book/01.mp3", tracks[0].stat().st_size), ("Book/../../x.mp3", outside.stat().st_size)]
    )
    assert {item.target.as_posix() for item in plan.files} == {"01.mp3", "x.mp3"}
    library = tmp_path / "library"
    library.mkdir()
    with pytest.raises(SourceMissing) as caught:
        import_book(plan, save_path, library, FOLDER)
    assert "outside the download folder" in str(caught.value)
    assert not (library / FOLDER).exists()


def test_book_folder_and_targets_are_checked(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    for bad in ("../escape", "/abs/olute", ".hidden/Book", "Author/../../x"):
        with pytest.raises(ValueError):
            import_book(plan, save_path, tmp_path, PurePosixPath(bad))


# --- hardlinks -----------------------------------------------------------------------------


def test_hardlinks_share_the_inode_on_one_filesystem(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    before = snapshot(save_path)
    result = import_book(plan, save_path, library, FOLDER, hardlink=True)
    assert [item.method for item in result.files] == ["hardlink"] * len(plan.files)
    assert result.bytes_copied == 0
    for item in plan.files:
        source, linked = (save_path / item.source).stat(), (library / FOLDER / item.target).stat()
        assert (source.st_dev, source.st_ino) == (linked.st_dev, linked.st_ino)
        assert linked.st_nlink == 2
    assert {k: v[:3] for k, v in snapshot(save_path).items()} == {
        k: v[:3] for k, v in before.items()
    }
    again = import_book(plan, save_path, library, FOLDER, hardlink=True)
    assert again.already_imported
    # the caller (the tagger) learns that these files must not be touched
    assert [item.method for item in again.files] == ["hardlink"] * len(plan.files)
    assert any("hardlinks to the seeding files" in note for note in again.notes)
    assert_no_leftovers(library)


def test_hardlinks_of_an_interrupted_import_are_not_reused_for_a_tagged_one(
    tmp_path: Path, tracks: list[Path]
) -> None:
    """Tagging was off (links), the import was interrupted, tagging is now on: the next
    attempt must copy, or the tagger would rewrite the seeding files through the links."""
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= plan.files[0].size:
            cancel.set()

    with pytest.raises(ImportCancelled):
        import_book(
            plan, save_path, library, FOLDER, hardlink=True, progress=progress, cancel=cancel
        )
    linked = temp_folder(library, FOLDER) / plan.files[0].target
    assert linked.stat().st_ino == (save_path / plan.files[0].source).stat().st_ino

    result = import_book(plan, save_path, library, FOLDER, hardlink=False)
    assert [item.method for item in result.files] == ["copy"] * len(plan.files)
    for item in plan.files:
        assert (library / FOLDER / item.target).stat().st_ino != (
            save_path / item.source
        ).stat().st_ino
        assert (save_path / item.source).stat().st_nlink == 1
    assert_book_matches(plan, save_path, library / FOLDER)


def test_hardlinks_fall_back_to_copies_across_filesystems(
    tmp_path: Path, tracks: list[Path]
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    with tmpfs(tmp_path / "other-fs", size="4m") as library:
        result = import_book(plan, save_path, library, FOLDER, hardlink=True, space_margin=0)
        assert [item.method for item in result.files] == ["copy"] * len(plan.files)
        assert any("different filesystems" in note for note in result.notes)
        assert_book_matches(plan, save_path, library / FOLDER)
        assert_no_leftovers(library)


# --- the download side ---------------------------------------------------------------------


def test_missing_source_lists_the_paths_tried(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    wrong = tmp_path / "unmapped"
    with pytest.raises(SourceMissing) as caught:
        import_book(plan, wrong, tmp_path, FOLDER)
    message = str(caught.value)
    assert str(wrong / plan.files[0].source) in message
    assert "does not exist" in message and "mapping" in message
    assert len(caught.value.missing) == len(plan.files)

    # an unfinished file: only qBittorrent's .!qB is there
    unfinished = save_path / plan.files[0].source
    unfinished.rename(unfinished.with_name(unfinished.name + ".!qB"))
    (tmp_path / "library").mkdir()
    with pytest.raises(SourceMissing, match=r"\.!qB"):
        import_book(plan, save_path, tmp_path / "library", FOLDER)


def test_source_with_another_size_is_refused(tmp_path: Path, tracks: list[Path]) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    with open(save_path / plan.files[1].source, "ab") as handle:
        handle.write(b"more")
    library = tmp_path / "library"
    library.mkdir()
    with pytest.raises(SourceChanged, match="torrent says"):
        import_book(plan, save_path, library, FOLDER)
    assert not (library / FOLDER).exists()


def test_plan_without_audio_is_refused(tmp_path: Path) -> None:
    save_path = tmp_path / "downloads"
    plan = select_files(make_download(save_path, {"Book/book.epub": b"epub", "Book/x.exe": b"MZ"}))
    with pytest.raises(NothingToImport, match="no audio"):
        import_book(plan, save_path, tmp_path, FOLDER)


# --- links and special files in the download ----------------------------------------------


@pytest.mark.timeout(60)
def test_links_out_of_the_download_and_special_files_are_skipped_not_read(
    tmp_path: Path, tracks: list[Path]
) -> None:
    """A torrent can contain symbolic links: each is skipped with its reason (one leading
    out of the download to a FIFO, /dev/zero or a file elsewhere is not even opened: a
    FIFO would block the reader forever) and the rest is imported."""
    save_path = tmp_path / "downloads"
    listing = make_download(
        save_path, {"Book/01.mp3": tracks[0], "Book/02.mp3": tracks[1]}
    )
    elsewhere = tmp_path / "elsewhere.mp3"
    shutil.copyfile(tracks[2], elsewhere)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (save_path / "Book" / "03.mp3").symlink_to(elsewhere)
    (save_path / "Book" / "04.mp3").symlink_to(fifo)
    (save_path / "Book" / "05.mp3").symlink_to("/dev/zero")
    (save_path / "Book" / "06.mp3").symlink_to(save_path / "Book" / "01.mp3")  # a duplicate
    os.mkfifo(save_path / "Book" / "07.mp3")
    (save_path / "Book" / "08.mp3").symlink_to(tmp_path / "nothing.mp3")
    size = tracks[0].stat().st_size
    listing += [(f"Book/0{n}.mp3", size) for n in range(3, 9)]
    plan = select_files(listing)
    library = tmp_path / "library"
    library.mkdir()
    result = import_book(plan, save_path, library, FOLDER)
    copied = sorted(p.name for p in result.path.iterdir() if p.suffix == ".mp3")
    assert copied == ["01.mp3", "02.mp3"]
    notes = "\n".join(result.notes)
    assert "03.mp3 skipped: a symbolic link leading outside the download folder" in notes
    assert "04.mp3 skipped: a symbolic link leading outside" in notes
    assert "05.mp3 skipped: a symbolic link leading outside" in notes
    assert "07.mp3 skipped: a FIFO, socket or device, not a regular file" in notes
    assert "08.mp3 skipped: a symbolic link leading outside" in notes
    assert "06.mp3 skipped: a symbolic link to Book/01.mp3 in the download" in notes


def test_check_sources_reports_links_before_anything_reads_them(
    tmp_path: Path, tracks: list[Path]
) -> None:
    save_path = tmp_path / "downloads"
    listing = make_download(save_path, {"Book/01.mp3": tracks[0]})
    (save_path / "Book" / "02.mp3").symlink_to("/dev/zero")
    plan = select_files([*listing, ("Book/02.mp3", 5)])
    kept, sources = importer.check_sources(plan, save_path)
    assert [item.source for item in kept.files] == ["Book/01.mp3"]
    assert [s.source for s in kept.skipped] == ["Book/02.mp3"]
    assert list(sources.values()) == [save_path / "Book" / "01.mp3"]


def test_only_links_is_nothing_to_import(tmp_path: Path) -> None:
    save_path = tmp_path / "downloads"
    (save_path / "Book").mkdir(parents=True)
    (save_path / "Book" / "01.mp3").symlink_to("/dev/zero")
    library = tmp_path / "library"
    library.mkdir()
    with pytest.raises(NothingToImport, match="not followed"):
        import_book(select_files([("Book/01.mp3", 5)]), save_path, library, FOLDER)


def test_a_symlinked_author_folder_cannot_send_the_book_outside_the_library(
    tmp_path: Path, tracks: list[Path]
) -> None:
    save_path = tmp_path / "downloads"
    plan = simple_download(save_path, tracks)
    library = tmp_path / "library"
    library.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (library / FOLDER.parts[0]).symlink_to(outside, target_is_directory=True)
    with pytest.raises(ImportFailed, match="leads outside the library folder"):
        import_book(plan, save_path, library, FOLDER)
    assert list(outside.iterdir()) == []
