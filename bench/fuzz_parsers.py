r"""Fuzz every parser that reads outside input, for minutes, and print what was found.

A benchmark-style check, not part of the timed unit suite: each parser is fed
hypothesis-generated input (random bytes and text, plus mutations of real-world shapes)
for a time budget, and every outcome other than the parser's own typed error is a
finding. A single example that takes longer than `--hang` seconds counts as a hang
(SIGALRM interrupts it).

    .venv/bin/python bench/fuzz_parsers.py                    # every parser, 180 s each
    .venv/bin/python bench/fuzz_parsers.py --seconds 30 magnet torrent

Parsers and the only exceptions they may raise:

* magnet        gui.core.torrents.parse_magnet / parse_source    TorrentInputError
* torrent       gui.core.torrents.parse_torrent                  TorrentInputError
* release-title gui.core.release_title.parse_release_title       (none: never raises)
* torznab       gui.clients.torznab.parse_xml + parse_feed/caps   MalformedFeedError
* goodreads     gui.core.goodreads.parse_csv                      ValueError
* maindata      gui.clients.maindata.MaindataMirror.apply         MaindataError

Exit status 1 when anything but those was raised, or an example hung.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import bencode2  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gui.clients.maindata import MaindataError, MaindataMirror  # noqa: E402
from gui.clients.torznab import MalformedFeedError, parse_caps, parse_feed, parse_xml  # noqa: E402
from gui.core.goodreads import parse_csv  # noqa: E402
from gui.core.release_title import parse_release_title  # noqa: E402
from gui.core.torrents import (  # noqa: E402
    TorrentInputError,
    parse_magnet,
    parse_source,
    parse_torrent,
)


class Hang(Exception):
    """One example ran longer than the hang limit."""


@dataclass
class Tally:
    name: str
    examples: int = 0
    typed_errors: int = 0
    slowest: float = 0.0
    findings: list[str] = field(default_factory=list)


# ---- input strategies ---------------------------------------------------------------------

HASH = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"
_magnet_parts = st.sampled_from(
    [
        f"xt=urn:btih:{HASH}",
        "xt=urn:btih:3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4",
        "xt=urn:btmh:1220" + "ab" * 32,
        "dn=Dune+Audiobook",
        "tr=udp%3A%2F%2Ft.example%3A1",
        "tr.1=http://t/a?passkey=x",
        "xl=" + "9" * 30,
        "xl=12",
        "&",
        "",
        "=",
        "%",
        "%C3%28",
        "x.pe=1.2.3.4:5",
        "XT=urn:btih:" + HASH.upper(),
    ]
)
magnets = st.tuples(
    st.sampled_from(["magnet:?", "magnet:", "MAGNET:?", "magnet://?", "magnet:??", ""]),
    st.lists(_magnet_parts | st.text(max_size=20), max_size=30),
    st.integers(0, 3000),
).map(lambda t: t[0] + "&".join(t[1]) + "&tr=x" * t[2])
texts = st.text(max_size=500)


def _torrent_dict(draw: st.DrawFn) -> bytes:
    leaf = st.recursive(
        st.integers(-(2**70), 2**70) | st.binary(max_size=40),
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.binary(max_size=12), children, max_size=4),
        max_leaves=12,
    )
    info: dict[bytes, Any] = {
        b"name": draw(st.binary(max_size=20)),
        b"piece length": draw(st.sampled_from([0, 1, 16384, 32768, 12345, 2**40])),
    }
    extra = draw(
        st.dictionaries(
            st.sampled_from(
                [b"length", b"files", b"pieces", b"file tree", b"meta version", b"attr"]
            ),
            leaf,
            max_size=4,
        )
    )
    info.update(extra)
    top: dict[bytes, Any] = {b"info": info}
    if draw(st.booleans()):
        top[b"piece layers"] = draw(st.dictionaries(st.binary(max_size=32), leaf, max_size=3))
    data = bencode2.bencode(top)
    tail = draw(st.binary(max_size=8))
    return bytes(data + tail)


def _valid_torrents() -> list[bytes]:
    """Real shapes to mutate: v1 single and multi-file, a v2 file with its piece layer."""
    import hashlib

    single = {b"length": 40000, b"name": b"Dune.m4b", b"piece length": 16384, b"pieces": b"p" * 60}
    multi = {
        b"files": [{b"length": 5, b"path": [b"CD1", b"01.mp3"]}, {b"length": 7, b"path": [b"a"]}],
        b"name": b"Dune",
        b"piece length": 16384,
        b"pieces": b"p" * 20,
    }
    layer = [hashlib.sha256(bytes([i])).digest() for i in range(2)]
    root = hashlib.sha256(layer[0] + layer[1]).digest()
    v2 = {
        b"file tree": {b"a.mp3": {b"": {b"length": 20000, b"pieces root": root}}},
        b"meta version": 2,
        b"name": b"v2",
        b"piece length": 16384,
    }
    return [
        bencode2.bencode({b"announce": b"http://t/a", b"info": single}),
        bencode2.bencode({b"info": multi}) + b"\n",
        bencode2.bencode({b"info": v2, b"piece layers": {root: b"".join(layer)}}),
    ]


VALID_TORRENTS = _valid_torrents()


@st.composite
def torrents(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        base = draw(st.sampled_from(VALID_TORRENTS))
    elif kind == 1:
        base = _torrent_dict(draw)
    else:
        base = draw(st.binary(max_size=400))
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["flip", "cut", "insert", "digit"]))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=6)) or b"l"
        elif op == "digit" and data:
            data[at] = ord(draw(st.sampled_from("0123456789-:ield")))
    if draw(st.integers(0, 20)) == 0:
        data = bytearray(b"l" * draw(st.integers(90, 5000)) + data)
    return bytes(data)


release_titles = st.text(max_size=300) | st.lists(
    st.sampled_from(
        ["Frank Herbert", " - ", "Dune", "[M4B]", "{Scott Brick}", "(2019)", ".", "_", "#1-3",
         "Vol. 2", "64kbps", "MP3", "Unabridged", "[", "]", "(", ")", "{", "}", "\u200b", "é"]
    ),
    max_size=40,
).map("".join)

_xml_pieces = st.sampled_from(
    [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="x-unknown"?>',
        '<?xml version="1.0" encoding="utf-32"?>',
        "<rss>", "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<caps>", "</caps>",
        "<title>Dune</title>", "<link>http://x/</link>", "<enclosure url='http://x/t'/>",
        '<torznab:attr name="seeders" value="5"/>', '<attr name="size" value="9e999"/>',
        "<size>-1</size>", "<pubDate>Sat, 99 Mar 2015</pubDate>", "<error code='100'/>",
        "<!DOCTYPE x>", "&amp;", "&bogus;", "<![CDATA[x]]>",
        "<searching><search available='yes'/></searching>",
        "<categories><category id='3030'><subcat id='x'/></category></categories>",
        'xmlns:torznab="http://torznab.com/schemas/2015/feed"', "<", ">", "\x00",
    ]
)
_item_pieces = st.sampled_from(
    [
        "<title>Frank Herbert - Dune [M4B]</title>", "<title></title>", "<size>123</size>",
        "<size>9e999</size>", "<link>magnet:?xt=urn:btih:" + "a" * 40 + "</link>",
        "<enclosure url='http://x/t.torrent' length='x'/>", "<guid>g</guid>",
        '<torznab:attr name="seeders" value="-5"/>', '<torznab:attr name="peers" value="1e3"/>',
        '<torznab:attr name="infohash" value="zz"/>',
        '<torznab:attr name="category" value="3030"/>',
        "<pubDate>Sat, 14 Mar 2015 17:10:42 -0400</pubDate>", "<pubDate>x</pubDate>",
        '<jackettindexer id="a">A</jackettindexer>', "<files>3</files>", "<grabs>-1</grabs>",
    ]
)
_feeds = st.lists(st.lists(_item_pieces, max_size=8).map("".join), max_size=6).map(
    lambda items: (
        '<rss xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel>'
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>"
    ).encode()
)
xml_documents = (
    st.lists(_xml_pieces | st.text(max_size=10), max_size=40).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    )
    | st.binary(max_size=300)
    | _feeds
)

_csv_cells = st.sampled_from(
    ["Book Id", "Title", "Author", "ISBN", "ISBN13", "Exclusive Shelf", "Bookshelves",
     "to-read", '="0441013597"', '=""', "Dune (Dune Chronicles, #1)", "Frank Herbert",
     "Herbert, Frank", '"', ",", ";", "\t", "\n", "\r\n", "", "#1-3", "0", "ü"]
)
csv_texts = st.lists(
    st.lists(_csv_cells | st.text(max_size=8), max_size=10).map(",".join), max_size=15
).map("\n".join) | st.text(max_size=400)

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    ["rid", "full_update", "torrents", "torrents_removed", "categories", "categories_removed",
     "tags", "tags_removed", "server_state"]
)
maindata_answers = st.dictionaries(
    _keys,
    _json
    | st.dictionaries(st.text(max_size=6), st.dictionaries(st.text(max_size=6), _json)),
    max_size=6,
) | _json


# ---- the properties -----------------------------------------------------------------------


def _magnet(text: str) -> None:
    with contextlib.suppress(TorrentInputError):
        magnet = parse_magnet(text)
        assert len(magnet.info_hash) == 40
        assert parse_magnet(magnet.uri).info_hash == magnet.info_hash  # normalised form reads back
    parse_source(text)


def _torrent(data: bytes) -> None:
    parsed = parse_torrent(data)
    assert parsed.total_size == sum(size for _, size in parsed.files)


def _release_title(text: str) -> None:
    parse_release_title(text)


def _torznab(data: bytes) -> None:
    root = parse_xml(data)
    if root.tag == "caps":
        parse_caps(root)
    else:
        for item in parse_feed(root):
            item.to_release("fuzz")


def _goodreads(text: str) -> None:
    parse_csv(text)


_mirror = MaindataMirror()


def _maindata(answer: Any) -> None:
    _mirror.apply(answer)


@dataclass(frozen=True)
class Target:
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    typed: tuple[type[BaseException], ...]


TARGETS: dict[str, Target] = {
    "magnet": Target(magnets | texts, _magnet, (TorrentInputError,)),
    "torrent": Target(torrents(), _torrent, (TorrentInputError,)),
    "release-title": Target(release_titles, _release_title, ()),
    "torznab": Target(xml_documents, _torznab, (MalformedFeedError,)),
    "goodreads": Target(csv_texts, _goodreads, (ValueError,)),
    "maindata": Target(maindata_answers, _maindata, (MaindataError,)),
}


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang


def fuzz(name: str, seconds: float, hang: float) -> Tally:
    target = TARGETS[name]
    tally = Tally(name)
    signal.signal(signal.SIGALRM, _alarm)

    @settings(
        max_examples=200,  # one round; rounds repeat until the time budget is spent
        deadline=None,
        database=None,
        phases=(Phase.generate,),  # no shrinking: a finding is recorded and fuzzing goes on
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def run(value: Any) -> None:
        tally.examples += 1
        began = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, hang)
        try:
            target.check(value)
        except target.typed:
            tally.typed_errors += 1
        except Hang:
            tally.findings.append(f"hang (> {hang} s) on {value!r:.200}")
        except Exception as exc:  # every other exception is a finding
            where = traceback.extract_tb(exc.__traceback__)[-1]
            tally.findings.append(
                f"{type(exc).__name__}: {exc!s:.120} at {Path(where.filename).name}:"
                f"{where.lineno} on {value!r:.200}"
            )
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            tally.slowest = max(tally.slowest, time.perf_counter() - began)

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        run()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parsers", nargs="*", help=f"some of: {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=float, default=180.0, help="budget per parser")
    parser.add_argument("--hang", type=float, default=5.0, help="seconds that count as a hang")
    args = parser.parse_args(argv)
    names = args.parsers or list(TARGETS)
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown parser(s): {', '.join(unknown)}")
    failed = False
    print(
        f"{'parser':<14} {'examples':>9} {'typed errors':>13} {'slowest':>9} {'time':>7}  findings"
    )
    for name in names:
        began = time.monotonic()
        tally = fuzz(name, args.seconds, args.hang)
        took = time.monotonic() - began
        print(
            f"{name:<14} {tally.examples:>9} {tally.typed_errors:>13} "
            f"{tally.slowest * 1000:>7.1f}ms {took:>6.0f}s  {len(tally.findings)}",
            flush=True,
        )
        unique = dict.fromkeys(f.split(" on ")[0] for f in tally.findings)
        for finding in list(unique)[:10]:
            print(f"    {finding}")
        failed = failed or bool(tally.findings)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
