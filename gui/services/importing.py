"""Import a finished download into the library: copy, tag the copies, let ABS scan it.

The service behind `earmark import HASH` and the workflow's ``downloaded -> importing ->
in_library`` step (no Qt). One call, :func:`import_download`, does in order:

1. **Completion**: the torrent must be in the completed state family *and* at 100 %.
2. **Where the files are**: qBittorrent's ``save_path`` (as *its* host sees it) goes
   through the remote path mappings; a mapping that points nowhere is an error naming
   both paths.
3. **Plan and folder**: :func:`gui.core.layout.select_files` picks the files, and the
   ABS folder is built from the merged metadata (wanted entry, release title, the files'
   existing tags — read only, never written on the source).
4. **Copy** in a worker thread (:func:`gui.core.importer.import_book`); hardlinks only
   when nothing will tag the copies. A re-run resumes the importer's temporary folder,
   and an already-imported book goes straight to the next steps.
4a. **The right recording** (before the copy, when the wanted edition's running time,
   narrator or language is known): every audio file is measured (mutagen) and the
   narrator and language tags read; a clear mismatch (an abridged recording, another
   narrator or language: `gui.core.recording.recording_mismatch`) stops the import in
   review with the reason, nothing copied, instead of filing the wrong book.
5. **Metadata**: merge, score before; optionally enhance with the providers and apply
   the match when it is confident enough; score after; tags written on the *library
   copies* (track and disc numbers per file) and ``cover.jpg``.
6. **Audiobookshelf**: the library is chosen (``abs_library_id``, else the one whose
   folder holds the import, else the only book library), ``lastScan`` is remembered,
   a scan asked for (a non-admin key is said plainly and the import goes on), the new
   ``lastScan`` waited for with back-off, and the book looked up by title and author.

The source files are never modified: the torrent keeps seeding.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from gui.clients.audiobookshelf import book_from_item
from gui.clients.errors import ClientError, ForbiddenError
from gui.core.formatting import counted, human_size
from gui.core.importer import (
    DestinationConflict,
    ImportFailed,
    ImportResult,
    NothingToImport,
    check_sources,
    import_book,
)
from gui.core.layout import BookMeta, ImportPlan, book_folder, select_files
from gui.core.matching import fold, split_names
from gui.core.metadata import (
    BookMetadata,
    completeness,
    from_release,
    from_wanted,
    merge,
    metadata_to_json,
)
from gui.core.paths import PathMapping, check_mapping, map_remote_path
from gui.core.recording import RECORDING_CHECK, Recording, recording_mismatch
from gui.core.release_title import parse_release_title
from gui.core.torrent_states import is_complete, state_words

if TYPE_CHECKING:
    from gui.clients.audiobookshelf import AbsBook, AbsClient, AbsLibrary
    from gui.clients.metadata_providers import Enhancement, MetadataProvider
    from gui.clients.qbittorrent import QBittorrentClient
    from gui.settings import Settings
    from gui.store import Book, Review, Store

__all__ = [
    "ABS_NEEDS_ADMIN",
    "RECORDING_CHECK",
    "ImportOptions",
    "ImportProblem",
    "ImportReport",
    "Importer",
    "MappingNowhere",
    "NoAudio",
    "NotComplete",
    "WrongRecording",
    "choose_library",
    "import_download",
    "is_permanent",
    "local_save_path",
    "metadata_for",
    "plan_download",
    "remove_after_seeding",
    "score_text",
    "track_numbers",
    "track_titles",
]

log = logging.getLogger(__name__)

ABS_NEEDS_ADMIN = (
    "Audiobookshelf needs an admin API key to scan; the book will appear at its next scheduled scan"
)
#: qBittorrent states in which it stopped a finished torrent at its ratio or time limit.
SEEDING_DONE_STATES = frozenset({"stoppedUP", "pausedUP"})


class ImportProblem(Exception):
    """The import cannot run now; ``permanent`` when retrying cannot help."""

    permanent = False


class NotComplete(ImportProblem):
    """The torrent is not finished (or not in a completed state yet)."""


class NoAudio(ImportProblem):
    """The download holds no audio file: retrying cannot help."""

    permanent = True


class WrongRecording(ImportProblem):
    """The download is another recording than the wanted edition (abridged, another
    narrator or language) and nobody is there to review it: importing it again cannot
    help."""

    permanent = True


class MappingNowhere(ImportProblem):
    """qBittorrent's save path does not exist here, mapped or not."""


# ---- options and report -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """The settings the import reads (`Settings` holds them; tests build them directly)."""

    library_dir: str
    path_mappings: tuple[PathMapping, ...] = ()
    tag_files: bool = True
    use_hardlinks_when_not_tagging: bool = True
    enhance_metadata: bool = False
    auto_apply_threshold: float = 0.9
    allow_upgrades: bool = False
    abs_library_id: str = ""
    scan_timeout: float = 120.0
    #: A match below the threshold waits for the user (who may edit it) instead of being
    #: left out; off for `earmark import`, which has nobody to ask.
    review_below_threshold: bool = True
    id3_version: int = 3
    #: Ask Audiobookshelf to match the new item with this provider ("" = do not).
    abs_match_provider: str = ""
    #: Measure the download against the wanted edition before copying (step 4a).
    check_recording: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportOptions:
        threshold = settings.auto_apply_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            threshold = 0.9  # a hand-edited file
        return cls(
            library_dir=settings.library_dir,
            path_mappings=tuple(PathMapping(r, local) for r, local in settings.path_mappings),
            tag_files=bool(settings.tag_files),
            use_hardlinks_when_not_tagging=bool(settings.use_hardlinks_when_not_tagging),
            enhance_metadata=bool(settings.enhance_metadata),
            auto_apply_threshold=float(threshold),
            allow_upgrades=bool(settings.allow_upgrades),
            abs_library_id=settings.abs_library_id,
            review_below_threshold=bool(settings.review_below_threshold),
            id3_version=4 if settings.id3_version == 4 else 3,
            abs_match_provider=str(settings.abs_match_provider or ""),
        )


@dataclass(frozen=True)
class ImportReport:
    """What `earmark import --json` prints (plus notes and the status)."""

    hash: str
    library_path: str
    files: tuple[str, ...]
    abs_item_id: str | None
    score_before: int
    score_after: int
    status: str = "imported"  # or "already_imported", or REVIEW: nothing copied yet
    notes: tuple[str, ...] = field(default=())
    #: Audiobookshelf could not be reached or refused the key when it was to be told
    #: about the book: the copy is kept, `earmark import` exits 1 with this reason.
    abs_error: str | None = None

    @property
    def score_change(self) -> str:
        return score_text(self.score_before, self.score_after)

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "library_path": self.library_path,
            "files": list(self.files),
            "abs_item_id": self.abs_item_id,
            "score_before": self.score_before,
            "score_after": self.score_after,
        }


Progress = Callable[[int, int], None]

#: `ImportReport.status` of an import stopped before copying: the metadata found waits
#: for the user's review (`gui.store.Review`), and the import runs again with their choice.
REVIEW = "review"


# ---- pure parts ---------------------------------------------------------------------------


def score_text(before: int, after: int) -> str:
    """ "72% -> 92%" (just "92%" when nothing changed)."""
    return f"{after}%" if before == after else f"{before}% -> {after}%"


def is_permanent(exc: BaseException, *, allow_upgrades: bool) -> bool:
    """Whether retrying the import later cannot help (the book then fails)."""
    if isinstance(exc, ImportProblem):
        return exc.permanent
    if isinstance(exc, DestinationConflict):
        return not allow_upgrades
    return isinstance(exc, NothingToImport)


def local_save_path(remote: str, mappings: Sequence[PathMapping]) -> Path:
    """qBittorrent's save path as this computer sees it, or :class:`MappingNowhere`."""
    matched = [m for m in mappings if map_remote_path(remote, [m]) != remote]
    local = map_remote_path(remote, mappings)
    if os.path.isdir(local):
        return Path(local)
    if matched:
        best = max(matched, key=lambda m: len(m.remote))
        problem = check_mapping(best)
        detail = problem.message if problem else f"{local} does not exist on this computer."
        raise MappingNowhere(
            f"qBittorrent saves this download in {remote}, which the remote path mapping "
            f"{best.remote!r} -> {best.local!r} turns into {local}, but that folder is not "
            f"there. {detail}"
        )
    raise MappingNowhere(
        f"qBittorrent saves this download in {remote}, which does not exist on this "
        "computer; add a remote path mapping from that path to where Earmark sees it "
        "(a share or mount point)."
    )


def plan_download(files: Sequence[dict[str, Any]]) -> ImportPlan:
    """The import plan of qBittorrent's file list (files not downloaded are left out)."""
    wanted: list[tuple[str, int]] = []
    for entry in files:
        name, size = entry.get("name"), _number(entry.get("size"), 0)
        if not isinstance(name, str) or size < 0:
            raise ImportProblem(
                f"qBittorrent listed a file without a usable name or size: {str(entry)[:120]}"
            )
        if _number(entry.get("priority"), 1) != 0 and _number(entry.get("progress"), 1) >= 1:
            wanted.append((name, int(size)))
    return select_files(wanted)


def _number(value: object, default: float) -> float:
    """A JSON number as qBittorrent sends it; anything else (null, text) is `default`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return value


def metadata_for(
    book: Book | None, torrent_name: str, tags: BookMetadata | None = None
) -> BookMetadata:
    """Wanted entry > existing tags > release title, field by field (`merge`)."""
    sources: list[tuple[str, BookMetadata]] = []
    if book is not None:
        sources.append(
            (
                "wanted",
                from_wanted(
                    title=book.title,
                    author=book.author,
                    narrator=book.narrator,
                    series=book.series,
                    position=book.position,
                    asin=book.asin,
                    isbn=book.isbn,
                    language=book.language,
                ),
            )
        )
    if tags is not None:
        sources.append(("tags", tags))
    if torrent_name.strip():
        sources.append(("release", from_release(parse_release_title(torrent_name))))
    meta = merge(*sources).meta
    if not meta.title.strip():
        meta = BookMetadata(**{**_fields(meta), "title": torrent_name.strip() or "Unknown"})
    return meta


def _fields(meta: BookMetadata) -> dict[str, Any]:
    return {name: getattr(meta, name) for name in meta.__dataclass_fields__}


def folder_for(meta: BookMetadata) -> PurePosixPath:
    return book_folder(
        BookMeta(
            title=meta.title,
            authors=meta.authors,
            narrators=meta.narrators,
            series=meta.series or None,
            position=meta.position or None,
        )
    )


def track_numbers(
    targets: Sequence[PurePosixPath],
) -> list[tuple[tuple[int, int], tuple[int, int] | None]]:
    """(track, total) and (disc, discs) per audio file, in plan order.

    Tracks count through the whole book when there is one folder, per disc folder
    when the book keeps disc folders (as ABS reads them).
    """
    discs = list(dict.fromkeys(t.parent.as_posix() for t in targets))
    result: list[tuple[tuple[int, int], tuple[int, int] | None]] = []
    for target in targets:
        folder = target.parent.as_posix()
        same = [t for t in targets if t.parent.as_posix() == folder]
        track = (same.index(target) + 1, len(same))
        disc = (discs.index(folder) + 1, len(discs)) if len(discs) > 1 else None
        result.append((track, disc))
    return result


def track_titles(title: str, targets: Sequence[PurePosixPath]) -> list[str]:
    """Each audio file's title ("Title - Part NN"), numbered through the whole book.

    Track numbers restart per disc folder (as ABS reads them), but the titles are the
    chapter names ABS shows: per disc they would repeat ("Part 01" on every disc), so they
    count across discs."""
    from gui.core.tagging import default_track_title

    total = len(targets)
    return [default_track_title(title, (n, total)) for n in range(1, total + 1)]


def choose_library(
    libraries: Sequence[AbsLibrary], library_dir: str, configured: str = ""
) -> AbsLibrary | None:
    """The configured library; else the book library whose folder is the library folder
    (same path, or the same last folder name when ABS runs in a container); else the
    only book library."""
    books = [lib for lib in libraries if lib.is_book]
    if configured:
        return next((lib for lib in libraries if lib.id == configured), None)
    target = os.path.normpath(library_dir) if library_dir else ""
    for lib in books:
        if any(os.path.normpath(f.full_path) == target for f in lib.folders):
            return lib
    name = os.path.basename(target).casefold()
    named = [
        lib
        for lib in books
        if any(PurePosixPath(f.full_path.replace("\\", "/")).name.casefold() == name
               for f in lib.folders)
    ]  # fmt: skip
    if len(named) == 1:
        return named[0]
    return books[0] if len(books) == 1 else None


# ---- the thread-side work ---------------------------------------------------------------


def _read_source_tags(root: Path, plan: ImportPlan) -> BookMetadata | None:
    """Tags of the first audio file (read only: mutagen opens it for reading).

    Only files `check_sources` found to be regular files inside the download folder are
    opened: a link to a FIFO would block this thread forever, one to /dev/zero never end.
    """
    from gui.core.tagging import TaggingError, read_tags

    plan, sources = check_sources(plan, root)
    for item in plan.audio_files:
        try:
            return read_tags(sources[item.target])
        except (TaggingError, OSError):
            continue
    return None


def _measured_duration(root: Path, plan: ImportPlan) -> float:
    """The running time of every audio file together (mutagen; read only), or 0 when one
    cannot be measured: a sum with a file missing would look like an abridged recording.

    Only files `check_sources` kept are opened (see `_read_source_tags`)."""
    from gui.core.tagging import TaggingError, read_tags

    plan, sources = check_sources(plan, root)
    total = 0.0
    for item in plan.audio_files:
        try:
            length = read_tags(sources[item.target]).duration
        except (TaggingError, OSError):
            return 0.0
        if not length:
            return 0.0
        total += length
    return total


def _library_tags(folder: Path) -> BookMetadata | None:
    """Tags of the first audio file of a book folder in the library."""
    from gui.core.tagging import TaggingError, read_tags

    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    except OSError:
        return None
    for path in files:
        try:
            return read_tags(path)
        except (TaggingError, OSError):
            continue
    return None


def _tag_copies(
    folder: Path, plan: ImportPlan, meta: BookMetadata, id3_version: int = 3
) -> list[str]:
    """Tag the library copies; a copy sharing its data with another file (a hardlink to
    the seeding original) is left alone."""
    from gui.core.tagging import TaggingError, write_cover_file, write_tags

    notes: list[str] = []
    audio = [item.target for item in plan.audio_files]
    titles = track_titles(meta.title, audio)
    numbers = track_numbers(audio)
    for index, (target, (track, disc), title) in enumerate(
        zip(audio, numbers, titles, strict=True)
    ):
        path = folder.joinpath(*target.parts)
        try:
            if os.stat(path).st_nlink > 1:
                notes.append(f"{target} not tagged: it is a hardlink to the seeding file")
                continue
            write_tags(
                path, meta, track=track, disc=disc, track_title=title, id3_version=id3_version
            )
        except TaggingError as exc:
            notes.append(f"{target} not tagged: {exc}")
        except OSError as exc:
            # A full disk or a folder that cannot be written fails every later file the
            # same way: said once for all of them.
            rest = len(audio) - index
            files = f"{rest} file{'s' if rest != 1 else ''} from {target} on not tagged"
            if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                size = human_size(path.stat().st_size)
                notes.append(
                    f"{files}: the library disk is full (a tag is written on a copy of the "
                    f"file, which needs {size} free); the files are imported untagged"
                )
                break
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                notes.append(
                    f"{files}: the book folder cannot be written ({exc.strerror or exc}); "
                    "the files are imported untagged"
                )
                break
            notes.append(f"{target} not tagged: {exc.strerror or exc}")
    if meta.cover and plan.cover is None:
        try:
            write_cover_file(folder, meta.cover)
        except (TaggingError, OSError) as exc:
            notes.append(f"cover not written: {exc}")
    return notes


# ---- Audiobookshelf ---------------------------------------------------------------------


@dataclass(frozen=True)
class AbsOutcome:
    """What telling Audiobookshelf about an imported book gave: the item (None: not
    confirmed, the notes say why) and, when ABS could not be reached or refused the key
    at the first request, that reason (a setting to fix, not a wait)."""

    item: AbsBook | None
    error: str | None = None


async def _abs_sync(
    abs_client: AbsClient,
    meta: BookMetadata,
    options: ImportOptions,
    notes: list[str],
) -> AbsOutcome:
    """Tell Audiobookshelf about the imported book. Never raises a client error: the
    files are in the library by now, so whatever ABS does is a note on a finished import
    (and the workflow asks ABS again later, `Importer.confirm`)."""
    try:
        library = choose_library(
            await abs_client.libraries(), options.library_dir, options.abs_library_id
        )
    except ClientError as exc:
        notes.append(f"Audiobookshelf was not told about the book: {exc}")
        return AbsOutcome(None, f"Audiobookshelf was not told about the book: {exc}")
    try:
        return AbsOutcome(await _scan_and_find(abs_client, library, meta, options, notes))
    except ClientError as exc:
        notes.append(
            f"Audiobookshelf failed while Earmark waited for its scan ({exc}); the book is "
            "imported, and Earmark asks Audiobookshelf again later"
        )
        return AbsOutcome(None)


async def _scan_and_find(
    abs_client: AbsClient,
    library: AbsLibrary | None,
    meta: BookMetadata,
    options: ImportOptions,
    notes: list[str],
) -> AbsBook | None:
    """Scan (when allowed), wait for it, find the book (matched when asked): the item as
    Audiobookshelf now describes it, or None."""
    if library is None:
        notes.append(
            "no Audiobookshelf library holds the library folder; set the library in the "
            "settings so the book can be scanned"
        )
        return None
    try:
        before = (await abs_client.library(library.id)).last_scan
        await abs_client.scan(library.id)
    except ForbiddenError:
        notes.append(ABS_NEEDS_ADMIN)
    except ClientError as exc:
        notes.append(f"Audiobookshelf did not scan: {exc}")
    else:
        deadline = time.monotonic() + options.scan_timeout
        delay = 0.1
        while True:
            current = (await abs_client.library(library.id)).last_scan
            if current != before:
                break
            if time.monotonic() >= deadline:
                notes.append(
                    f"Audiobookshelf's scan did not finish within {options.scan_timeout:.0f} s"
                )
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    found = await _find_item(abs_client, library.id, meta, notes)
    if found is not None and options.abs_match_provider:
        matched = await _abs_match(
            abs_client, found.item_id, meta, options.abs_match_provider, notes
        )
        found = matched or found
    return found


async def _abs_match(
    abs_client: AbsClient, item_id: str, meta: BookMetadata, provider: str, notes: list[str]
) -> AbsBook | None:
    """Ask Audiobookshelf to match the new item with one of its providers (the user's
    choice in the settings); what it says goes into the notes, a refusal included."""
    try:
        result = await abs_client.match(
            item_id,
            provider=provider,
            title=meta.title,
            author=meta.authors[0] if meta.authors else "",
            isbn=meta.isbn,
            asin=meta.asin,
        )
    except (ClientError, ValueError) as exc:
        notes.append(f"Audiobookshelf did not match the book: {exc}")
        return None
    if result.updated:
        notes.append(f"Audiobookshelf matched the book with {provider}")
    else:
        notes.append(
            f"Audiobookshelf's {provider} match changed nothing"
            + (f": {result.warning}" if result.warning else "")
        )
    try:
        return book_from_item(result.item) if result.item else None
    except ValueError:
        return None


async def _find_item(
    abs_client: AbsClient, library_id: str, meta: BookMetadata, notes: list[str]
) -> AbsBook | None:
    try:
        hits = await abs_client.search(library_id, meta.title)
    except ClientError as exc:
        notes.append(f"could not look the book up in Audiobookshelf: {exc}")
        return None
    authors = {fold(a) for a in meta.authors}
    for hit in hits:
        found = hit.book
        if fold(found.title) != fold(meta.title):
            continue
        if authors and not authors & {fold(a) for a in found.authors}:
            continue
        return found
    notes.append(f"'{meta.title}' is not in Audiobookshelf yet")
    return None


# ---- the import -------------------------------------------------------------------------


async def import_download(
    book: Book | None,
    torrent_hash: str,
    *,
    qbt: QBittorrentClient,
    store: Store | None,
    settings: ImportOptions,
    abs_client: AbsClient | None = None,
    providers: Sequence[MetadataProvider] = (),
    progress: Progress | None = None,
    metadata: BookMetadata | None = None,
) -> ImportReport:
    """Import one completed download (see the module docs); raises :class:`ImportProblem`,
    :class:`gui.core.importer.ImportFailed` or a client error, the book's row untouched
    but for ``library_path`` and events.

    ``metadata`` is what the user chose in the review: no provider is asked then. Without
    it, a match below the confidence threshold stops the import before anything is
    copied (status `REVIEW`) when the options ask for a review and there is a book."""
    options = settings
    if not options.library_dir.strip():
        raise ImportProblem("no library folder is set (settings or EARMARK_LIBRARY_DIR)")
    torrent = await qbt.torrent(torrent_hash)
    if torrent is None:
        raise ImportProblem(f"qBittorrent has no torrent {torrent_hash}")
    if not is_complete(torrent):
        state = str(torrent.get("state", "?"))
        percent = float(torrent.get("progress", 0) or 0) * 100
        raise NotComplete(
            f"'{torrent.get('name', torrent_hash)}' is not complete yet "
            f"({state_words(state)}, {percent:.1f}%); it is imported once qBittorrent "
            "has all of it"
        )
    files = await qbt.files(torrent_hash)
    properties = await qbt.properties(torrent_hash)
    remote = str(properties.get("save_path") or torrent.get("save_path") or "")
    if not remote:
        raise ImportProblem(f"qBittorrent reports no save path for {torrent_hash}")
    # off the loop: the folder may be on a share that answers slowly
    source_root = await asyncio.to_thread(local_save_path, remote, options.path_mappings)
    plan = await asyncio.to_thread(plan_download, files)  # 100,000-file torrents exist
    skip_notes: list[str] = []
    if plan.has_audio:
        # Links, FIFOs and devices are skipped (with their reason) before anything opens
        # a file; a missing file raises SourceMissing here.
        checked, _ = await asyncio.to_thread(check_sources, plan, source_root)
        skip_notes = [
            f"{item.source} skipped: {item.reason}"
            for item in checked.skipped
            if item not in plan.skipped
        ]
        plan = checked
    if not plan.has_audio:
        skipped = "; ".join(f"{s.source}: {s.reason}" for s in plan.skipped[:5])
        raise NoAudio(
            f"'{torrent.get('name', torrent_hash)}' has no audio file to import"
            + (f" ({skipped})" if skipped else "")
        )
    name = str(torrent.get("name") or "")
    tags = await asyncio.to_thread(_read_source_tags, source_root, plan)
    gathered = metadata_for(book, name, tags)
    score_before = completeness(gathered).percent
    notes: list[str] = []
    if metadata is None and book is not None and options.check_recording:
        # a reviewed import (``metadata`` given) is the user's decision: not checked again
        mismatch = await _wrong_recording(book, source_root, plan, tags)
        if mismatch is not None:
            if store is None or not book.id:
                raise WrongRecording(f"not the wanted recording: {mismatch}")
            from gui.store import Review

            held = Review(
                book_id=book.id,
                torrent_hash=torrent_hash,
                before=metadata_to_json(gathered),
                proposal=metadata_to_json(gathered),
                provider=RECORDING_CHECK,
                before_cover=gathered.cover,
                proposal_cover=gathered.cover,
            )
            notes.append(recording_reason(mismatch))
            return await _held(held, store, notes, score_before, score_before)
    if metadata is not None:
        meta = metadata  # the user's reviewed (and maybe edited) choice
    else:
        meta, waiting = await _enhanced(gathered, options, providers, notes)
        if waiting is not None and store is not None and book is not None and book.id:
            return await _wait_for_review(book.id, torrent_hash, waiting, store, notes)
    score_after = completeness(meta).percent
    folder = folder_for(meta)
    hardlink = not options.tag_files and options.use_hardlinks_when_not_tagging
    result: ImportResult = await asyncio.to_thread(
        import_book,
        plan,
        source_root,
        Path(options.library_dir),
        folder,
        hardlink=hardlink,
        upgrade=options.allow_upgrades,
        progress=progress,
    )
    notes[:0] = [*skip_notes, *result.notes]
    if options.tag_files:
        notes += await asyncio.to_thread(_tag_copies, result.path, plan, meta, options.id3_version)
    if store is not None and book is not None and book.id is not None:
        await store.run(
            store.add_event,
            book.id,
            "import",
            f"{'already in' if result.already_imported else 'copied into'} {result.path} "
            f"({counted(len(plan.files), 'file')}); "
            f"metadata {score_text(score_before, score_after)}",
        )
    abs_item_id = None
    abs_error = None
    if abs_client is not None:
        outcome = await _abs_sync(abs_client, meta, options, notes)
        item, abs_error = outcome.item, outcome.error
        abs_item_id = item.item_id if item is not None else None
        if item is not None and store is not None:
            from gui.services.library import owned_from_abs

            # the library view shows the new book now, not at the next full refresh
            await store.run(store.save_owned, owned_from_abs(item, item.library_id))
        if store is not None and book is not None and book.id is not None:
            message = (
                f"in Audiobookshelf as item {abs_item_id}"
                if abs_item_id
                else "not confirmed in Audiobookshelf: " + "; ".join(notes[-1:])
            )
            await store.run(store.add_event, book.id, "audiobookshelf", message)
    return ImportReport(
        hash=torrent_hash,
        library_path=str(result.path),
        files=tuple(item.target.as_posix() for item in plan.files),
        abs_item_id=abs_item_id,
        score_before=score_before,
        score_after=score_after,
        status=result.status,
        notes=tuple(notes),
        abs_error=abs_error,
    )


async def _enhanced(
    gathered: BookMetadata,
    options: ImportOptions,
    providers: Sequence[MetadataProvider],
    notes: list[str],
) -> tuple[BookMetadata, Enhancement | None]:
    """The metadata to write, and the enhancement that waits for a review (if any)."""
    if not options.enhance_metadata or not providers:
        return gathered, None
    from gui.clients.metadata_providers import auto_apply, enhance

    enhancement = await enhance(gathered, providers)
    notes.extend(f"{f.provider}: {f.message}" for f in enhancement.failures)
    candidate = enhancement.candidate
    if candidate is None:
        return gathered, None
    if auto_apply(enhancement, options.auto_apply_threshold):
        notes.append(f"metadata from {candidate.provider} ({enhancement.confidence:.0%} match)")
        return enhancement.after, None
    if options.review_below_threshold:
        return gathered, enhancement
    notes.append(
        f"a {enhancement.confidence:.0%} match from {candidate.provider} was left out "
        f"(below the {options.auto_apply_threshold:.0%} threshold)"
    )
    return gathered, None


async def _wait_for_review(
    book_id: int,
    torrent_hash: str,
    enhancement: Enhancement,
    store: Store,
    notes: list[str],
) -> ImportReport:
    """Keep the proposal for the user; nothing is copied or tagged until they decide."""
    from gui.store import Review

    assert enhancement.candidate is not None
    provider = enhancement.candidate.provider
    review = Review(
        book_id=book_id,
        torrent_hash=torrent_hash,
        before=metadata_to_json(enhancement.before),
        proposal=metadata_to_json(enhancement.after),
        provider=provider,
        confidence=enhancement.confidence,
        before_cover=enhancement.before.cover,
        proposal_cover=enhancement.after.cover,
    )
    notes.append(review_reason(provider, enhancement.confidence, enhancement.summary))
    return await _held(
        review, store, notes, enhancement.score_before.percent, enhancement.score_after.percent
    )


async def _held(
    review: Review, store: Store, notes: list[str], score_before: int, score_after: int
) -> ImportReport:
    """Store the review; the report of an import that waits for it (nothing copied)."""
    await store.run(store.save_review, review)
    return ImportReport(
        hash=review.torrent_hash,
        library_path="",
        files=(),
        abs_item_id=None,
        score_before=score_before,
        score_after=score_after,
        status=REVIEW,
        notes=tuple(notes),
    )


def recording_reason(mismatch: str) -> str:
    """The book's reason while a wrong-looking recording waits for the user."""
    return (
        f"not the wanted recording? {mismatch}; open the book to import it anyway, "
        "or search again for another release"
    )


async def _wrong_recording(
    book: Book, root: Path, plan: ImportPlan, tags: BookMetadata | None
) -> str | None:
    """The download measured against the wanted edition (`recording_mismatch`); nothing
    is read when the book says nothing to compare with."""
    if book.duration <= 0 and not book.narrator.strip() and not book.language.strip():
        return None
    duration = await asyncio.to_thread(_measured_duration, root, plan) if book.duration > 0 else 0
    found = Recording(
        duration=duration,
        narrators=tags.narrators if tags is not None else (),
        language=tags.language if tags is not None else "",
    )
    return recording_mismatch(
        found, duration=book.duration, narrator=book.narrator, language=book.language
    )


def review_reason(provider: str, confidence: float, change: str) -> str:
    """The book's reason while its metadata waits (the wanted view shows it)."""
    return (
        f"metadata waits for your review: a {confidence:.0%} match from {provider} "
        f"({change}); open the book to check it"
    )


async def remove_after_seeding(
    torrent_hash: str,
    *,
    qbt: QBittorrentClient,
    delete_data: bool,
) -> str | None:
    """Remove a finished torrent once qBittorrent stopped it at its ratio or time limit;
    returns what was done, or None while it still seeds (or is gone)."""
    torrent = await qbt.torrent(torrent_hash)
    if torrent is None:
        return None
    state = str(torrent.get("state", ""))
    if state not in SEEDING_DONE_STATES or float(torrent.get("progress", 0) or 0) < 1.0:
        return None
    await qbt.delete([torrent_hash], delete_files=delete_data)
    what = "and its data " if delete_data else ""
    return f"seeding finished: removed the torrent {what}from qBittorrent"


@dataclass
class Importer:
    """The import as the workflow runs it: options plus factories for the clients it
    opens and closes per import (Audiobookshelf, metadata providers)."""

    options: ImportOptions
    abs_factory: Callable[[], AbsClient] | None = None
    providers_factory: Callable[[], Sequence[MetadataProvider]] | None = None
    remove_after_seeding: bool = False
    delete_data_after_seeding: bool = False

    @classmethod
    def from_settings(
        cls, settings: Settings, abs_factory: Callable[[], AbsClient] | None = None
    ) -> Importer:
        providers_factory = None
        if settings.enhance_metadata:

            def providers() -> Sequence[MetadataProvider]:
                from gui.clients.metadata_providers import (
                    AudibleProvider,
                    GoogleBooksProvider,
                    OpenLibraryProvider,
                )

                return (AudibleProvider(), OpenLibraryProvider(), GoogleBooksProvider())

            providers_factory = providers
        return cls(
            ImportOptions.from_settings(settings),
            abs_factory=abs_factory,
            providers_factory=providers_factory,
            remove_after_seeding=bool(settings.remove_after_seeding),
            delete_data_after_seeding=bool(settings.delete_data_after_seeding),
        )

    async def run(
        self,
        book: Book | None,
        torrent_hash: str,
        *,
        qbt: QBittorrentClient,
        store: Store | None,
        progress: Progress | None = None,
        metadata: BookMetadata | None = None,
    ) -> ImportReport:
        abs_client = self.abs_factory() if self.abs_factory is not None else None
        providers = (
            self.providers_factory()
            if self.providers_factory is not None and metadata is None
            else ()
        )
        try:
            return await import_download(
                book,
                torrent_hash,
                qbt=qbt,
                store=store,
                settings=self.options,
                abs_client=abs_client,
                providers=providers,
                progress=progress,
                metadata=metadata,
            )
        finally:
            for provider in providers:
                await provider.close()
            if abs_client is not None:
                await abs_client.close()

    async def confirm(self, book: Book, store: Store | None = None) -> AbsOutcome:
        """Ask Audiobookshelf again about a book imported while it failed: scan, find the
        item by the tags of the library copy (what ABS reads), index it."""
        if self.abs_factory is None or not book.library_path:
            return AbsOutcome(None, "Audiobookshelf is not configured")
        folder = Path(book.library_path)
        meta = await asyncio.to_thread(_library_tags, folder)
        if meta is None:
            meta = BookMetadata(title=book.title, authors=tuple(split_names(book.author)))
        notes: list[str] = []
        abs_client = self.abs_factory()
        try:
            outcome = await _abs_sync(abs_client, meta, self.options, notes)
        finally:
            await abs_client.close()
        if outcome.item is not None and store is not None:
            from gui.services.library import owned_from_abs

            await store.run(store.save_owned, owned_from_abs(outcome.item, outcome.item.library_id))
        if outcome.item is None and outcome.error is None and notes:
            return AbsOutcome(None, notes[-1])
        return outcome

    async def seeding_policy(self, torrent_hash: str, *, qbt: QBittorrentClient) -> str | None:
        """Apply `remove_after_seeding`; what was done, or None."""
        if not self.remove_after_seeding:
            return None
        return await remove_after_seeding(
            torrent_hash, qbt=qbt, delete_data=self.delete_data_after_seeding
        )


# Errors a caller may want to catch together.
IMPORT_ERRORS: tuple[type[BaseException], ...] = (ImportProblem, ImportFailed, ClientError)
