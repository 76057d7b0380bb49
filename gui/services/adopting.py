"""A download Earmark did not grab, matched to the wanted book it is (no Qt).

A user who adds a torrent by hand and runs `earmark import HASH` means "this is one of my
wanted books": importing it as a loose book named after the torrent ("2020 WEB", no
author) while the wanted entry stays `wanted` and is searched again is the wrong answer.
So before a loose import the download is identified (its audio files' tags first, then
the torrent's name, `gui.services.importing.metadata_for`) and matched against the books
that still wait for a download (`gui.core.matching.judge`: identifiers, then title and
author, never a coin toss near the threshold):

* one sure match: that entry is linked to the torrent and moved to `downloaded`, so the
  workflow's own import step files it with the entry's metadata;
* several sure matches, or only close ones: nothing is guessed; `AdoptionUnsure` names
  the candidates and how to choose (`earmark import HASH --book ID`, or `--as-new`);
* none: the loose import goes on as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from gui.clients.qbittorrent import QBittorrentClient
from gui.core.matching import BookKey, Verdict, judge, prepare
from gui.core.metadata import BookMetadata
from gui.services.importing import (
    ImportOptions,
    ImportProblem,
    _read_source_tags,
    local_save_path,
    metadata_for,
    plan_download,
)
from gui.store import Book, DownloadRecord, Store

__all__ = [
    "ADOPTABLE_STATES",
    "Adoption",
    "AdoptionUnsure",
    "Candidate",
    "adopt",
    "identify_download",
    "link_download",
    "match_wanted",
]

#: Books still waiting for a download of their own.
ADOPTABLE_STATES = frozenset({"wanted", "searching", "grabbed", "failed"})


class AdoptionUnsure(ValueError):
    """The download may be one of several wanted books; the user must say which."""


@dataclass(frozen=True, slots=True)
class Candidate:
    book: Book
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Adoption:
    """What the download is (``guess``) and which wanted books it may be, best first."""

    guess: BookMetadata
    candidates: tuple[Candidate, ...]

    @property
    def book(self) -> Book | None:
        """The one wanted book it surely is, or None."""
        sure = [c for c in self.candidates if c.verdict.same]
        return sure[0].book if len(sure) == 1 else None

    @property
    def unsure(self) -> bool:
        return self.book is None and bool(self.candidates)


async def identify_download(
    torrent_hash: str, *, qbt: QBittorrentClient, options: ImportOptions
) -> tuple[str, BookMetadata]:
    """(torrent name, what its files and name say it is): tags first, then the name."""
    torrent = await qbt.torrent(torrent_hash)
    if torrent is None:
        raise ImportProblem(f"qBittorrent has no torrent {torrent_hash}")
    name = str(torrent.get("name") or "")
    files = await qbt.files(torrent_hash)
    properties = await qbt.properties(torrent_hash)
    remote = str(properties.get("save_path") or torrent.get("save_path") or "")
    tags = None
    if remote:
        root = await asyncio.to_thread(local_save_path, remote, options.path_mappings)
        plan = plan_download(files)
        tags = await asyncio.to_thread(_read_source_tags, root, plan)
    return name, metadata_for(None, name, tags)


def _key(book: Book) -> BookKey:
    return BookKey(book.title, (book.author,), book.asin, book.isbn, book.position)


def match_wanted(guess: BookMetadata, books: Sequence[Book], torrent_hash: str) -> Adoption:
    """The waiting books ``guess`` may be: sure matches first, then close ones."""
    prepared = prepare(BookKey(guess.title, guess.authors, guess.asin, guess.isbn, guess.position))
    found: list[Candidate] = []
    for book in books:
        if book.state not in ADOPTABLE_STATES:
            continue
        own = book.torrent_hash and book.torrent_hash.lower() != torrent_hash
        if own and book.state != "failed":
            continue  # it has a download of its own on the way
        verdict = judge(prepared, prepare(_key(book)))
        if verdict.same is not False:
            found.append(Candidate(book, verdict))
    found.sort(key=lambda c: (c.verdict.same is not True, -c.verdict.score, c.book.id or 0))
    return Adoption(guess, tuple(found))


def link_download(store: Store, book_id: int, torrent_hash: str, name: str) -> Book:
    """Runs on the store's thread: the wanted entry takes the download and waits for its
    import (`downloaded`), re-read first so a concurrent change is not overwritten."""
    book = store.book(book_id)
    if book is None:
        raise ImportProblem(f"there is no wanted book #{book_id}")
    if book.state not in ADOPTABLE_STATES:
        raise ImportProblem(
            f"book #{book_id} '{book.title}' is {book.state}, not waiting for a download"
        )
    book.torrent_hash = torrent_hash
    store.record_download(DownloadRecord(book_id, torrent_hash))
    store.set_state(
        book,
        "downloaded",
        event=f"matched to the download added by hand: {name or torrent_hash}",
    )
    return book


def _unsure_message(name: str, adoption: Adoption, torrent_hash: str) -> str:
    listed = "; ".join(
        f"#{c.book.id} '{c.book.title}' by {c.book.author} ({c.verdict.reason})"
        for c in adoption.candidates[:5]
    )
    guess = adoption.guess
    said = f"'{guess.title}'" + (f" by {', '.join(guess.authors)}" if guess.authors else "")
    return (
        f"'{name or torrent_hash}' ({said} by its files) may be one of these wanted books: "
        f"{listed}. Say which with `earmark import {torrent_hash} --book ID`, or import it as "
        f"a book of its own with `--as-new`"
    )


async def adopt(
    store: Store,
    torrent_hash: str,
    *,
    qbt: QBittorrentClient,
    options: ImportOptions,
    book_id: int | None = None,
) -> Book | None:
    """Link the download to its wanted book and return that book (now `downloaded`);
    None when no waiting book is like it. Raises `AdoptionUnsure` rather than guess."""
    name, guess = await identify_download(torrent_hash, qbt=qbt, options=options)
    if book_id is not None:
        return await store.run(link_download, store, book_id, torrent_hash, name)
    books = await store.run(store.books)
    adoption = match_wanted(guess, books, torrent_hash)
    chosen = adoption.book
    if chosen is not None and chosen.id is not None:
        return await store.run(link_download, store, chosen.id, torrent_hash, name)
    if adoption.unsure:
        raise AdoptionUnsure(_unsure_message(name, adoption, torrent_hash))
    return None
