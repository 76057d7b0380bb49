"""Headless commands (`earmark COMMAND`): the same services the window uses.

Contract (DESIGN.md): every command accepts `--json` and then prints one JSON document on
stdout and nothing else there; exit 0 on success, 1 on a failure explained on stderr, 2 on
bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TextIO

from gui.clients.doctor import Step, diagnose
from gui.clients.errors import ClientError
from gui.clients.qbittorrent import AddOptions, QBittorrentClient
from gui.clients.torrent_fetch import fetch_torrent
from gui.core.torrents import TorrentInputError, TorrentUrl, parse_source
from gui.settings import SecretStore, SettingsError, load_settings, qbt_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

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


class CommandFailed(Exception):
    """A failure the command explains on stderr (exit 1)."""


class Output:
    """Keeps stdout clean for `--json`: human text goes there only without it."""

    def __init__(self, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.as_json = as_json
        self.out = out
        self.err = err

    def text(self, line: str) -> None:
        if not self.as_json:
            print(line, file=self.out, flush=True)

    def document(self, value: Any) -> None:
        if self.as_json:
            json.dump(value, self.out, indent=2, ensure_ascii=False)
            self.out.write("\n")

    def error(self, line: str) -> None:
        print(f"earmark: {line}", file=self.err, flush=True)


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
    "self-test": cmd_self_test,
}


def main(
    argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    output = Output(args.json, out, err)
    try:
        return asyncio.run(COMMANDS[args.command](args, output))
    except (ClientError, TorrentInputError, SettingsError, CommandFailed, ValueError) as exc:
        output.error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        output.error("interrupted")
        return EXIT_FAILED
