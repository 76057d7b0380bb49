"""Headless commands (`earmark COMMAND`): the same services the window uses.

Contract (DESIGN.md): every command accepts `--json` and then prints one JSON document on
stdout and nothing else there; exit 0 on success, 1 on a failure explained on stderr, 2 on
bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, TextIO

from gui.clients.doctor import Step, diagnose
from gui.clients.errors import ClientError
from gui.clients.qbittorrent import AddOptions, QBittorrentClient
from gui.clients.torrent_fetch import fetch_torrent
from gui.core.formatting import counted, human_size
from gui.core.redact import REDACTOR
from gui.core.torrents import TorrentInputError, TorrentUrl, parse_source
from gui.logging_setup import FILE_ONLY, LOG_FILE, cli_logging, log_dir
from gui.loop_lock import LoopLock, LoopLockHeld
from gui.settings import (
    SecretStore,
    Settings,
    SettingsError,
    config_dir,
    load_settings,
    qbt_config,
)
from gui.store import Store, StoreError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger(__name__)

LIST_FIELDS = (
    "hash",
    "name",
    "state",
    "progress",
    "size",
    "dlspeed",
    "eta",
    "category",
    "save_path",
)


def _isbn(text: str) -> str:
    """argparse type: a bad ISBN is bad usage (exit 2), said plainly."""
    from gui.core.matching import canonical_isbn, isbn_problem

    if not text:
        return ""  # argparse runs the default ("") through the type too
    problem = isbn_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return canonical_isbn(text)


def _asin(text: str) -> str:
    from gui.core.matching import asin_problem

    if not text:
        return ""
    problem = asin_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text.strip().upper()


def _running_time(text: str) -> float:
    """argparse type: a running time as "H:MM", "H:MM:SS" or minutes ("754"), in seconds."""
    if not text:
        return 0.0
    parts = text.strip().split(":")
    problem = f"--duration {text!r} is not a running time: write H:MM (11:32), H:MM:SS or minutes"
    try:
        if len(parts) == 1:
            seconds = float(parts[0]) * 60
        elif len(parts) in (2, 3):
            numbers = [int(part) for part in parts]
            if any(n < 0 for n in numbers) or any(n > 59 for n in numbers[1:]):
                raise argparse.ArgumentTypeError(problem)
            seconds = float(numbers[0] * 3600 + numbers[1] * 60 + (numbers[2:] or [0])[0])
        else:
            raise argparse.ArgumentTypeError(problem)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    if not 0 < seconds < 1000 * 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(problem)
    return seconds


class CommandFailed(Exception):
    """A failure the command explains on stderr (exit 1)."""


class Output:
    """Keeps stdout clean for `--json`: human text goes there only without it.

    Everything printed passes through the redactor: a configured secret is shown as its
    placeholder (``{prowlarr-api-key}``, which `earmark add` turns back into the key), a
    tracker passkey or URL password not at all."""

    def __init__(self, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.as_json = as_json
        self.out = out
        self.err = err

    def text(self, line: str) -> None:
        if not self.as_json:
            print(REDACTOR.text(line), file=self.out, flush=True)

    def document(self, value: Any) -> None:
        if self.as_json:
            json.dump(REDACTOR.value(value), self.out, indent=2, ensure_ascii=False)
            self.out.write("\n")

    def error(self, line: str) -> None:
        print(f"earmark: {REDACTOR.text(line)}", file=self.err, flush=True)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser = argparse.ArgumentParser(
        prog="earmark",
        description="Audiobook acquisition for qBittorrent and Audiobookshelf. "
        "Without a command, opens the window.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("doctor", parents=[common], help="diagnose the connection to qBittorrent")
    add = commands.add_parser(
        "add", parents=[common], help="add a magnet link, .torrent file or URL to qBittorrent"
    )
    add.add_argument("source", metavar="SOURCE", help="magnet URI, .torrent path or http(s) URL")
    add.add_argument("--category", help="qBittorrent category")
    add.add_argument("--save-path", help="folder on qBittorrent's machine")
    add.add_argument("--tags", help="comma-separated tags")
    add.add_argument("--paused", action="store_true", help="add without starting")
    add.add_argument("--skip-checking", action="store_true", help="skip the hash check")
    add.add_argument("--sequential", action="store_true", help="download in order")
    add.add_argument("--first-last", action="store_true", help="first and last pieces first")
    add.add_argument(
        "--content-layout", choices=("Original", "Subfolder", "NoSubfolder"), help="folder layout"
    )
    add.add_argument("--rename", help="torrent name in qBittorrent")
    commands.add_parser("list", parents=[common], help="downloads known to qBittorrent")
    search = commands.add_parser(
        "search", parents=[common], help="search the indexers and rank the releases"
    )
    search.add_argument("query", metavar="QUERY", help="the book's title (or any words)")
    search.add_argument("--author", default="", help="the book's author")
    want = commands.add_parser("want", parents=[common], help="add a book to the wanted queue")
    want.add_argument("title", metavar="TITLE")
    want.add_argument("--author", required=True)
    want.add_argument("--narrator", default="")
    want.add_argument("--series", default="")
    want.add_argument("--position", default="", help="position in the series")
    want.add_argument("--isbn", type=_isbn, default="", help="ISBN-10 or -13 of the edition")
    want.add_argument("--asin", type=_asin, default="", help="Audible ASIN of the edition")
    want.add_argument(
        "--duration",
        type=_running_time,
        default=0.0,
        metavar="H:MM",
        help="running time of the edition (H:MM, H:MM:SS or minutes): an abridged recording "
        "is then refused",
    )
    commands.add_parser("queue", parents=[common], help="the wanted queue and each book's state")
    imp = commands.add_parser(
        "import",
        parents=[common],
        help="import a completed download into the library (copy, tag, ABS scan)",
    )
    imp.add_argument("hash", metavar="HASH", help="the torrent's info-hash")
    which = imp.add_mutually_exclusive_group()
    which.add_argument(
        "--book", type=int, metavar="ID", help="the wanted book this download is (see `queue`)"
    )
    which.add_argument(
        "--as-new", action="store_true", help="a book of its own, not one on the wanted queue"
    )
    follow = commands.add_parser(
        "follow", parents=[common], help="follow an author or a series: list, pick, new releases"
    )
    follow.add_argument("author", metavar="AUTHOR", nargs="?", default="", help="the author")
    follow.add_argument("--series", default="", help="follow this series instead")
    follow.add_argument(
        "--pick", action="append", default=[], metavar="ASIN",
        help="want this listed book now (repeatable; 'all' for every one not owned)",
    )  # fmt: skip
    follow.add_argument(
        "--list-only", action="store_true",
        help="never add by itself (the default adds books released from now on)",
    )  # fmt: skip
    following = commands.add_parser(
        "following", parents=[common], help="the follows; --check looks for new releases now"
    )
    following.add_argument("--check", action="store_true", help="check every follow now")
    run = commands.add_parser(
        "run", parents=[common], help="the acquisition loop (until Ctrl+C or SIGTERM)"
    )
    run.add_argument("--once", action="store_true", help="one pass over every book, then exit")
    commands.add_parser(
        "self-test", parents=[common], help="open and close the window offscreen (packaging check)"
    )
    return parser


async def cmd_doctor(args: argparse.Namespace, out: Output) -> int:
    config = qbt_config(load_settings(), SecretStore())

    def show(step: Step) -> None:
        out.text(f"  [{'ok' if step.ok else 'FAIL'}] {step.name}: {step.detail}")

    out.text(f"Diagnosing qBittorrent at {config.url or '(no URL configured)'}")
    diagnosis = await diagnose(config, on_step=show)
    out.text("")
    out.text(f"Verdict: {diagnosis.verdict} — {diagnosis.summary}")
    if not diagnosis.ok:
        out.text(f"Fix: {diagnosis.fix}")
    out.document(diagnosis.to_json())
    return EXIT_OK if diagnosis.ok else EXIT_FAILED


async def cmd_add(args: argparse.Namespace, out: Output) -> int:
    source = parse_source(args.source)
    if isinstance(source, TorrentUrl):
        source = await fetch_torrent(source.url)
    options = AddOptions(
        category=args.category,
        tags=[t.strip() for t in (args.tags or "").split(",") if t.strip()],
        save_path=args.save_path,
        stopped=args.paused,
        skip_checking=args.skip_checking,
        sequential=args.sequential,
        first_last_piece=args.first_last,
        content_layout=args.content_layout,
        rename=args.rename,
    )
    async with QBittorrentClient(qbt_config(load_settings(), SecretStore())) as client:
        result = await client.add(source, options)
    verb = "Already in qBittorrent" if result.already_present else "Added"
    out.text(f"{verb}: {result.name or '(name not known yet)'} ({result.hash})")
    out.document({"hash": result.hash, "name": result.name})
    return EXIT_OK


async def cmd_list(args: argparse.Namespace, out: Output) -> int:
    async with QBittorrentClient(qbt_config(load_settings(), SecretStore())) as client:
        await client.sync()
        torrents = sorted(client.mirror.torrents.values(), key=lambda t: str(t.get("name", "")))
    rows = [{key: torrent.get(key) for key in LIST_FIELDS} for torrent in torrents]
    for row in rows:
        out.text(
            f"{str(row['hash'])[:8]}  {float(row['progress'] or 0) * 100:5.1f}%  "
            f"{row['state']:<12} {row['name']}"
        )
    if not rows:
        out.text("qBittorrent has no torrents.")
    out.document(rows)
    return EXIT_OK


@contextlib.contextmanager
def open_store() -> Iterator[Store]:
    store = Store.open_in(config_dir())
    try:
        yield store
    finally:
        store.close()


async def cmd_search(args: argparse.Namespace, out: Output) -> int:
    from gui.core.ranking import RankingPolicy, Wanted, rank
    from gui.services.search import indexers_from_settings, search_all
    from gui.services.workflow import WorkflowSettings

    settings = load_settings()
    indexers = indexers_from_settings(settings, SecretStore())
    if not indexers:
        raise CommandFailed(
            "no indexer is configured: set Prowlarr or a Torznab feed in the settings, or "
            "EARMARK_PROWLARR_URL / EARMARK_TORZNAB_URL and their API keys"
        )
    if not args.query.strip():
        raise CommandFailed("QUERY is empty")
    wanted = Wanted(title=args.query.strip(), author=args.author.strip())
    timeout = WorkflowSettings.from_settings(settings).per_indexer_timeout
    outcome = await search_all(wanted, indexers, per_indexer_timeout=timeout)
    for failure in outcome.failures:
        out.error(f"{failure.indexer}: {failure.reason}")
    if outcome.failures and not outcome.releases and len(outcome.failures) >= len(indexers):
        raise CommandFailed("no indexer answered")
    ranked = rank(wanted, outcome.releases, RankingPolicy.from_dict(settings.ranking_policy))
    rows = [
        {
            "title": r.release.title,
            "size": r.release.size,
            "seeders": r.release.seeders,
            "indexer": r.release.indexer,
            "score": round(r.score, 1),
            "magnet": r.release.magnet,
            "download_url": r.release.download_url,
        }
        for r in ranked
    ]
    for r in ranked:
        mark = f"REJECTED ({r.rejected})" if r.rejected else ""
        out.text(
            f"{r.score:6.1f}  {r.release.seeders:>5} seeders  {human_size(r.release.size):>10}  "
            f"{r.release.title}  [{r.release.indexer}] {mark}".rstrip()
        )
    if not ranked:
        out.text("No results.")
    out.document(rows)
    return EXIT_OK


async def cmd_want(args: argparse.Namespace, out: Output) -> int:
    from gui.services.workflow import book_json, want_book

    with open_store() as store:
        book, added = want_book(
            store,
            args.title,
            args.author,
            narrator=args.narrator,
            series=args.series,
            position=args.position,
            isbn=args.isbn,
            asin=args.asin,
            duration=args.duration,
        )
    verb = "Wanted" if added else "Already on the queue"
    out.text(f"{verb}: #{book.id} {book.title} by {book.author} ({book.state})")
    out.document(book_json(book))
    return EXIT_OK


async def cmd_queue(args: argparse.Namespace, out: Output) -> int:
    from gui.services.workflow import book_json

    with open_store() as store:
        books = store.books()
    for book in books:
        line = f"#{book.id:<4} {book.state:<12} {book.title} — {book.author}"
        if book.reason:
            line += f"\n       {book.reason}"
        out.text(line)
    if not books:
        out.text("The wanted queue is empty.")
    out.document([book_json(book) for book in books])
    return EXIT_OK


async def cmd_import(args: argparse.Namespace, out: Output) -> int:
    """Import the download HASH: the book linked to it, else the wanted book it matches
    (`gui.services.adopting`; `--book ID` says which, `--as-new` none), else a loose book
    named after the torrent. A linked book waiting for its import goes through the
    workflow's import step (`in_library`, or back to `downloaded` / to `failed`)."""
    from gui.core.ranking import RankingPolicy
    from gui.services.importing import IMPORT_ERRORS, REVIEW, Importer
    from gui.services.library import abs_factory
    from gui.services.workflow import Workflow, WorkflowSettings

    torrent_hash = args.hash.strip().lower()
    if not torrent_hash:
        raise CommandFailed("HASH is empty")
    settings = load_settings()
    secrets = SecretStore()
    if not settings.library_dir.strip():
        raise CommandFailed(
            "no library folder is set: choose it in the settings or set EARMARK_LIBRARY_DIR"
        )
    importer = Importer.from_settings(settings, abs_factory(settings, secrets))
    # An explicit import runs to the end: a weak match is left out, not held for a review.
    importer.options = dataclasses.replace(importer.options, review_below_threshold=False)
    with open_store() as store:
        book = next(
            (b for b in store.books() if (b.torrent_hash or "").lower() == torrent_hash), None
        )
        async with QBittorrentClient(qbt_config(settings, secrets)) as client:
            if (book is None or args.book is not None) and not args.as_new:
                # A download Earmark did not grab: the wanted book it is, if any.
                from gui.services.adopting import adopt

                try:
                    book = (
                        await adopt(
                            store,
                            torrent_hash,
                            qbt=client,
                            options=importer.options,
                            book_id=args.book,
                        )
                        or book
                    )
                except IMPORT_ERRORS as exc:
                    raise CommandFailed(str(exc)) from exc
                if book is not None:
                    out.text(f"This is the wanted book #{book.id}: {book.title} by {book.author}")
            if book is not None and book.state in ("downloaded", "importing"):
                workflow = Workflow(
                    store,
                    qbt=client,
                    indexers=[],
                    library=None,
                    policy=RankingPolicy(),
                    settings=WorkflowSettings.from_settings(settings),
                    importer=importer,
                )
                imported = await workflow.import_book(book)
                if imported is None:
                    raise CommandFailed(book.reason or "the import failed")
                report = imported
            else:  # no book, or one the workflow does not import now: the files only
                try:
                    report = await importer.run(book, torrent_hash, qbt=client, store=store)
                except IMPORT_ERRORS as exc:
                    raise CommandFailed(str(exc)) from exc
    if report.status == REVIEW:  # nothing copied: the user decides in the window
        raise CommandFailed(report.notes[-1] if report.notes else "the import waits for a review")
    files = counted(len(report.files), "file")
    if report.abs_error:  # a setting to fix: the command failed, the copy stays
        raise CommandFailed(
            f"{report.abs_error} — the book was imported into {report.library_path} "
            f"({files}) and the copy is kept; fix the Audiobookshelf "
            "URL or key and Earmark tells it on its next pass"
        )
    out.text(f"Imported into {report.library_path} ({files})")
    out.text(f"Metadata: {report.score_change}")
    out.text(
        f"Audiobookshelf item: {report.abs_item_id}"
        if report.abs_item_id
        else "Audiobookshelf: not confirmed"
    )
    for note in report.notes:
        if out.as_json:
            out.error(note)
        else:
            out.text(f"  note: {note}")
    out.document(report.to_json())
    return EXIT_OK


async def cmd_run(args: argparse.Namespace, out: Output) -> int:
    """The loop, while this process holds the profile's loop lock (one loop per profile)."""
    settings = load_settings()
    try:
        lock = LoopLock.acquire(config_dir(), f"earmark run{' --once' if args.once else ''}")
    except LoopLockHeld as exc:
        raise CommandFailed(str(exc)) from exc
    except OSError as exc:
        raise CommandFailed(
            f"cannot take the loop lock in {config_dir()}: {exc.strerror or exc}"
        ) from exc
    try:
        return await _run_loop(args, out, settings)
    finally:
        lock.release()


async def _run_loop(args: argparse.Namespace, out: Output, settings: Settings) -> int:
    from gui.services.workflow import Transition, WorkflowError, workflow_from_settings

    with open_store() as store:
        try:
            workflow = workflow_from_settings(store, settings, SecretStore())
        except WorkflowError as exc:
            raise CommandFailed(str(exc)) from exc

        def show(move: Transition) -> None:
            out.text(f"#{move.book_id} {move.title}: {move.from_state} -> {move.to_state}: "
                     f"{move.message}")  # fmt: skip

        workflow.listeners.append(show)
        try:
            if args.once:
                await _check_follows(store, out)
                report = await workflow.run_once()
                for error in report.errors:
                    out.error(error)
                if report.library:
                    out.text(report.library)
                out.text(f"Pass done: {report.books} active books, "
                         f"{len(report.transitions)} transitions.")  # fmt: skip
                out.document(report.to_json())
                return EXIT_OK
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            handled = []
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(signum, stop.set)
                    handled.append(signum)
                except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C raises
                    pass
            out.text("Earmark is running; Ctrl+C stops it.")
            watcher = asyncio.create_task(_watch_follows(store, out, stop))
            try:
                await workflow.run_forever(stop)
            finally:
                watcher.cancel()
                for signum in handled:
                    loop.remove_signal_handler(signum)
            out.text("Stopped.")
            books = await store.run(store.books)
            out.document({"stopped": True, "books": len(books)})
            return EXIT_OK
        finally:
            await workflow.aclose()


def _listed_json(report: Any) -> dict[str, Any]:
    return {
        "follow": report.follow.label,
        "error": report.error or None,
        "books": [
            {
                "title": item.entry.meta.title,
                "series": item.entry.meta.series or None,
                "position": item.entry.meta.position or None,
                "asin": item.entry.meta.asin or None,
                "released": item.entry.released or None,
                "status": item.status,
                "book_id": item.book_id,
            }
            for item in report.listed
        ],
    }


async def cmd_follow(args: argparse.Namespace, out: Output) -> int:
    """Follow an author or a series (`gui.services.following`), list its books, want the
    picked ones; from then on new releases are added (unless --list-only)."""
    from gui.services import following as follows

    name = (args.series or args.author).strip()
    if not name:
        raise CommandFailed("say whom to follow: `earmark follow AUTHOR` or `--series NAME`")
    follow = follows.Follow(
        kind="series" if args.series else "author",
        name=name,
        author=args.author.strip() if args.series else "",
        new_only=not args.list_only,
        since=follows.today(),
    )
    stored = follows.FollowList(config_dir())
    follow, added = stored.add(follow)
    catalog = follows.catalog_from_env()
    try:
        with open_store() as store:
            report = await follows.check(
                follow, catalog, store, owned=await store.run(follows.owned_index, store)
            )
            stored.update(report.follow)
            if report.error:
                raise CommandFailed(f"the catalogue could not be asked: {report.error}")
            picked = await follows.pick(store, report.follow, report, args.pick)
    finally:
        await catalog.close()
    out.text(f"{'Following' if added else 'Already following'} {follow.label}"
             + ("" if follow.new_only else " (listing only)"))  # fmt: skip
    picked_ids = {book.id for book in picked}
    for item in report.listed:
        meta = item.entry.meta
        where = f"{meta.series} #{meta.position}  " if meta.series and meta.position else ""
        status = "picked" if item.book_id in picked_ids else item.status
        out.text(f"  [{status:<6}] {where}{meta.title} ({item.entry.released or '?'}) {meta.asin}")
    if not report.listed:
        out.text("  no books found in the catalogue")
    document = _listed_json(report)
    document["picked"] = sorted(book.id for book in picked if book.id is not None)
    out.document(document)
    return EXIT_OK


async def cmd_following(args: argparse.Namespace, out: Output) -> int:
    from gui.services import following as follows
    from gui.services.new_releases import configured_feeds

    stored = follows.FollowList(config_dir())
    reports = []
    if args.check:
        catalog = follows.catalog_from_env()
        try:
            with open_store() as store:
                reports = await follows.check_due(
                    store,
                    stored,
                    catalog,
                    owned=follows.owned_index(store),
                    force=True,  # the catalogue now; each feed still on its own schedule
                    feeds=configured_feeds(),
                )
        finally:
            await catalog.close()
    rows = []
    for follow in stored.load():
        mine = [r for r in reports if r.follow.name == follow.name]  # catalogue and feeds
        added = [item.entry.meta.title for r in mine for item in r.added]
        line = f"{follow.label}: next check {_when(follow.next_check)}"
        if follow.last_error:
            line += f" (last check failed: {follow.last_error})"
        if added:
            line += f"; added {', '.join(added)}"
        out.text(line)
        rows.append({"kind": follow.kind, "name": follow.name, "author": follow.author or None,
                     "new_only": follow.new_only, "next_check": follow.next_check,
                     "last_error": follow.last_error or None, "added": added})  # fmt: skip
    if not rows:
        out.text("Not following anyone: `earmark follow AUTHOR` or `--series NAME`.")
    out.document(rows)
    return EXIT_OK


def _when(moment: float) -> str:
    import time as _time

    if moment <= _time.time():
        return "now"
    return _time.strftime("%Y-%m-%d %H:%M", _time.localtime(moment))


async def _check_follows(store: Store, out: Output) -> None:
    """The follows whose check is due (`gui.services.following`: at most every 15 minutes
    each, backing off after failures); their new releases join the wanted queue."""
    from gui.services import following as follows
    from gui.services.new_releases import configured_feeds

    stored = follows.FollowList(config_dir())
    if not stored.path.exists():
        return
    catalog = follows.catalog_from_env()
    try:
        owned = await store.run(follows.owned_index, store)
        feeds = configured_feeds()
        for report in await follows.check_due(store, stored, catalog, owned=owned, feeds=feeds):
            if report.error:
                out.error(f"{report.follow.label}: {report.error}")
            where = f" (in the {report.feed} feed)" if report.feed else ""
            for item in report.added:
                out.text(f"new release of {report.follow.label}{where}: {item.entry.meta.title}")
    finally:
        await catalog.close()


async def _watch_follows(store: Store, out: Output, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await _check_follows(store, out)
        except (ValueError, OSError) as exc:  # a broken follows.json: say so, keep running
            out.error(f"following: {exc}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 60)


async def cmd_self_test(args: argparse.Namespace, out: Output) -> int:
    from gui.app import self_test  # Qt only when asked for

    self_test()
    out.text("self-test ok")
    out.document({"ok": True})
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]] = {
    "doctor": cmd_doctor,
    "add": cmd_add,
    "list": cmd_list,
    "search": cmd_search,
    "want": cmd_want,
    "queue": cmd_queue,
    "import": cmd_import,
    "follow": cmd_follow,
    "following": cmd_following,
    "run": cmd_run,
    "self-test": cmd_self_test,
}


def utf8_streams() -> None:
    """Make the process's stdout and stderr UTF-8 on every platform, before anything is printed.

    Into a pipe or a file, Windows' CPython writes the ANSI code page (cp1252), and a frozen
    build ignores PYTHONUTF8: the first `→` in `doctor --json` raised UnicodeEncodeError. The
    CLI's contract is one encoding everywhere, UTF-8; what still cannot be encoded (a lone
    surrogate from an undecodable file name) is replaced rather than ending the command."""
    for name, errors in (("stdout", "replace"), ("stderr", "backslashreplace")):
        stream = getattr(sys, name)
        reconfigure = getattr(stream, "reconfigure", None)  # None (pythonw) or a test's StringIO
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a detached or closed stream
                reconfigure(encoding="utf-8", errors=errors)


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    utf8_streams()
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    output = Output(args.json, out, err)
    with cli_logging(err):
        # best effort: a keyring that fails here fails again, explained, where it is needed
        with contextlib.suppress(Exception):
            SecretStore().register_all()
        return _run_command(args, output)


def _run_command(args: argparse.Namespace, output: Output) -> int:
    try:
        return asyncio.run(COMMANDS[args.command](args, output))
    except UnicodeError as exc:  # a ValueError, but a fault of Earmark's, not bad input
        return _unexpected(args, output, exc)
    except (
        ClientError,
        TorrentInputError,
        SettingsError,
        StoreError,
        CommandFailed,
        ValueError,
    ) as exc:
        output.error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        output.error("interrupted")
        return EXIT_FAILED
    except Exception as exc:
        return _unexpected(args, output, exc)


def _unexpected(args: argparse.Namespace, output: Output, exc: Exception) -> int:
    """A fault of Earmark's: one line on stderr naming the exception, the traceback in the log
    (never passed off as a plain failure: a UnicodeEncodeError once hid behind exit 1 so)."""
    log.error("%s failed unexpectedly", args.command, exc_info=exc, extra=FILE_ONLY)
    output.error(
        f"unexpected error ({type(exc).__name__}: {exc}); the details are in "
        f"{log_dir() / LOG_FILE}"
    )
    return EXIT_FAILED
