"""Tags on real ffmpeg-made files, read back raw with mutagen and the way ABS reads them.

"The way ABS reads them" is ffprobe's JSON looked up as ``server/utils/prober.js`` does:
``format.tags`` (or the audio stream's tags when the format has none, as for Opus), each
key tried as written and upper-cased.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import CHAP, COMM, ID3, TIT2, TXXX, PictureType
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from gui.core.metadata import BookMetadata
from gui.core.tagging import (
    TEMP_SUFFIX,
    Numbering,
    TaggingError,
    UnsupportedFormatError,
    audio_format,
    read_numbering,
    read_tags,
    temp_path_for,
    write_cover_file,
    write_tags,
)
from tests.doubles.metadata_providers import cover_jpeg
from tests.harness.audiobook import SAMPLE_RATE, make_audiobook
from tests.harness.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
FORMATS = ("mp3", "m4b", "flac", "opus")
DESCRIPTION = (
    "On the edge of the galaxy, a diplomatic mission to an alien planet takes a turn.\n\n"
    "Galaxy's Edge combines sleek starfighters, exotic aliens – and “heroes”."
)


@pytest.fixture(scope="module")
def cover() -> bytes:
    return cover_jpeg("red")


@pytest.fixture(scope="module")
def book(cover: bytes) -> BookMetadata:
    return BookMetadata(
        title="Galaxy's Edge",
        subtitle="Legionnaire and Galactic Outlaws",
        authors=("Jason Anspach", "Nick Cole"),
        narrators=("R.C. Bray",),
        series="Galaxy's Edge Series",
        position="1",
        year=2018,
        publisher="Podium Audio",
        description=DESCRIPTION,
        genres=("Science Fiction & Fantasy", "Military"),
        isbn="9781772305241",
        asin="B079LRSMNN",
        language="English",
        cover=cover,
        cover_mime="image/jpeg",
    )


def _files(tmp_path: Path, fmt: str, files: int = 2) -> list[Path]:
    folder = make_audiobook(tmp_path, "Source", files=files, seconds=2, fmt=fmt)
    return sorted(p for p in folder.iterdir() if p.is_file())


def _probe(path: Path) -> dict[str, Any]:
    ffprobe = require_tool("ffprobe")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _abs_tags(path: Path) -> dict[str, str]:
    """prober.js: format tags, or the first audio stream's when the format has none."""
    probe = _probe(path)
    tags = probe["format"].get("tags")
    if not tags:
        audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
        tags = audio.get("tags", {})
    return dict(tags)


def _grab(tags: dict[str, str], *keys: str) -> str | None:
    """prober.js ``tryGrabTags``: each key as written, then upper-cased."""
    for key in keys:
        value = tags.get(key) or tags.get(key.upper())
        if value:
            return value
    return None


def _duration(path: Path) -> float:
    return float(_probe(path)["format"]["duration"])


def _decodes(path: Path) -> None:
    ffmpeg = require_tool("ffmpeg")
    result = subprocess.run(
        [ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def _tag_all(files: list[Path], meta: BookMetadata, **options: Any) -> None:
    for index, path in enumerate(files, start=1):
        write_tags(path, meta, track=(index, len(files)), disc=(1, 1), **options)


# ---- every format, as ABS sees it -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_field_is_where_audiobookshelf_reads_it(
    tmp_path: Path, fmt: str, book: BookMetadata
) -> None:
    files = _files(tmp_path, fmt)
    _tag_all(files, book)
    tags = _abs_tags(files[0])
    # AudioFileScanner's mapping (album before title, artist before album artist...).
    assert _grab(tags, "album", "talb") == "Galaxy's Edge"
    assert _grab(tags, "title", "tit2") == "Galaxy's Edge - Part 01"
    assert _grab(tags, "subtitle", "tit3") == "Legionnaire and Galactic Outlaws"
    assert _grab(tags, "artist", "tpe1") == "Jason Anspach, Nick Cole"
    assert _grab(tags, "albumartist", "album_artist", "tpe2") == "Jason Anspach, Nick Cole"
    assert _grab(tags, "composer", "tcom") == "R.C. Bray"
    assert _grab(tags, "series") == "Galaxy's Edge Series"
    assert _grab(tags, "series-part") == "1"
    assert _grab(tags, "publisher", "tpub") == "Podium Audio"
    assert _grab(tags, "date", "tyer") == "2018"
    genre = _grab(tags, "genre", "tcon")
    assert genre is not None
    # parseGenresString splits on "/" or ";" and trims.
    assert [g.strip() for g in genre.split(";")] == ["Science Fiction & Fantasy", "Military"]
    assert (_grab(tags, "description", "desc") or _grab(tags, "comment")) == DESCRIPTION
    assert _grab(tags, "isbn") == "9781772305241"
    assert _grab(tags, "asin") == "B079LRSMNN"
    assert _grab(tags, "language", "lang") == "English"
    assert (_grab(tags, "track", "trck") or "").split("/")[0] == "1"
    # And read back through Earmark's own reader.
    read = read_tags(files[0])
    assert read.duration is not None and read.duration == pytest.approx(2.0, abs=0.15)
    expected = book.cleaned()
    for name in expected.__dataclass_fields__:
        if name != "duration":
            assert getattr(read, name) == getattr(expected, name), name
    assert read_numbering(files[1]) == Numbering(2, 2, 1, 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_audio_still_decodes_and_no_temporary_file_is_left(
    tmp_path: Path, fmt: str, book: BookMetadata
) -> None:
    files = _files(tmp_path, fmt)
    before = [_duration(p) for p in files]
    names = sorted(p.name for p in files[0].parent.iterdir())
    _tag_all(files, book)
    assert sorted(p.name for p in files[0].parent.iterdir()) == names
    for path, seconds in zip(files, before, strict=True):
        assert _duration(path) == pytest.approx(seconds, abs=0.05)
        _decodes(path)


# ---- raw keys, format by format ---------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
def test_mp3_frames_in_id3v23_and_id3v24(
    tmp_path: Path, version: int, book: BookMetadata, cover: bytes
) -> None:
    path = _files(tmp_path, "mp3", files=1)[0]
    write_tags(path, book, track=(1, 1), disc=(1, 1), id3_version=version)
    raw = ID3(path, translate=False)  # frames as stored, not upgraded to v2.4 on load
    assert raw.version == (2, version, 0)

    def text(key: str) -> str:
        return str(raw[key].text[0])

    assert text("TALB") == "Galaxy's Edge"
    assert text("TIT2") == "Galaxy's Edge"  # a single file: no "Part NN"
    assert text("TIT3") == "Legionnaire and Galactic Outlaws"
    assert text("TPE1") == text("TPE2") == "Jason Anspach, Nick Cole"
    assert text("TCOM") == "R.C. Bray"
    assert text("TXXX:SERIES") == "Galaxy's Edge Series"
    assert text("TXXX:SERIES-PART") == "1"
    assert text("MVNM") == "Galaxy's Edge Series"  # kept in v2.3 by mutagen
    assert text("MVIN") == "1"
    if version == 3:
        assert text("TYER") == "2018" and "TDRC" not in raw
        # v2.3 has no UTF-8: mutagen stores UTF-16 (encoding 1).
        assert int(raw["TALB"].encoding) == 1
    else:
        assert str(raw["TDRC"].text[0]) == "2018" and "TYER" not in raw
    assert text("TPUB") == "Podium Audio"
    assert text("TCON") == "Science Fiction & Fantasy; Military"
    assert text("COMM::eng") == DESCRIPTION
    assert text("TXXX:DESCRIPTION") == DESCRIPTION
    assert text("TXXX:ISBN") == "9781772305241"
    assert text("TXXX:ASIN") == "B079LRSMNN"
    assert text("TLAN") == "English"
    assert (text("TRCK"), text("TPOS")) == ("1/1", "1/1")
    pictures = raw.getall("APIC")
    assert len(pictures) == 1
    assert pictures[0].type == PictureType.COVER_FRONT
    assert (pictures[0].mime, pictures[0].data) == ("image/jpeg", cover)


def test_m4b_atoms(tmp_path: Path, book: BookMetadata, cover: bytes) -> None:
    path = _files(tmp_path, "m4b", files=1)[0]
    write_tags(path, book, track=(3, 12), disc=(1, 2))
    tags = MP4(path).tags
    assert tags is not None

    def freeform(name: str) -> bytes:
        value = tags[f"----:com.apple.iTunes:{name}"][0]
        assert isinstance(value, MP4FreeForm)
        return bytes(value)

    assert tags["\xa9alb"] == ["Galaxy's Edge"]
    assert tags["\xa9nam"] == ["Galaxy's Edge - Part 03"]
    assert tags["\xa9st3"] == ["Legionnaire and Galactic Outlaws"]
    assert tags["\xa9ART"] == tags["aART"] == ["Jason Anspach, Nick Cole"]
    assert tags["\xa9wrt"] == ["R.C. Bray"]
    assert freeform("SERIES") == b"Galaxy's Edge Series"
    assert freeform("SERIES-PART") == b"1"
    assert freeform("PUBLISHER") == b"Podium Audio"
    assert freeform("ISBN") == b"9781772305241"
    assert freeform("ASIN") == b"B079LRSMNN"
    assert freeform("LANGUAGE") == b"English"
    assert tags["\xa9day"] == ["2018"]
    assert tags["\xa9gen"] == ["Science Fiction & Fantasy; Military"]
    assert tags["desc"] == tags["\xa9cmt"] == [DESCRIPTION]
    assert tags["trkn"] == [(3, 12)] and tags["disk"] == [(1, 2)]
    assert bytes(tags["covr"][0]) == cover
    assert tags["stik"] == [2]  # Apple's media kind "Audiobook"
    # No freeform twins of desc/©st3: FFmpeg's case-insensitive keys would collide.
    assert "----:com.apple.iTunes:DESCRIPTION" not in tags
    assert "----:com.apple.iTunes:SUBTITLE" not in tags


def _vorbis_expectations(tags: Any) -> None:
    def one(key: str) -> str:
        return str(tags[key][0])

    assert one("ALBUM") == "Galaxy's Edge"
    assert one("TITLE") == "Galaxy's Edge - Part 01"
    assert one("SUBTITLE") == "Legionnaire and Galactic Outlaws"
    assert one("ARTIST") == one("ALBUMARTIST") == "Jason Anspach, Nick Cole"
    assert one("COMPOSER") == "R.C. Bray"
    assert one("SERIES") == "Galaxy's Edge Series"
    assert one("SERIES-PART") == "1"
    assert one("DATE") == "2018"
    assert one("PUBLISHER") == "Podium Audio"
    assert list(tags["GENRE"]) == ["Science Fiction & Fantasy", "Military"]
    assert one("DESCRIPTION") == DESCRIPTION
    assert (one("ISBN"), one("ASIN"), one("LANGUAGE")) == ("9781772305241", "B079LRSMNN", "English")
    assert (one("TRACKNUMBER"), one("TRACKTOTAL")) == ("1", "2")
    assert (one("DISCNUMBER"), one("DISCTOTAL")) == ("1", "1")


def test_flac_vorbis_comments_and_picture_block(
    tmp_path: Path, book: BookMetadata, cover: bytes
) -> None:
    files = _files(tmp_path, "flac")
    _tag_all(files, book)
    audio = FLAC(files[0])
    _vorbis_expectations(audio.tags)
    assert len(audio.pictures) == 1
    picture = audio.pictures[0]
    assert (picture.type, picture.mime, picture.data) == (
        PictureType.COVER_FRONT,
        "image/jpeg",
        cover,
    )
    assert "METADATA_BLOCK_PICTURE" not in audio.tags  # FLAC has a real picture block


def test_opus_vorbis_comments_and_base64_picture(
    tmp_path: Path, book: BookMetadata, cover: bytes
) -> None:
    files = _files(tmp_path, "opus")
    _tag_all(files, book)
    audio = OggOpus(files[0])
    _vorbis_expectations(audio.tags)
    encoded = audio.tags["METADATA_BLOCK_PICTURE"]
    assert len(encoded) == 1
    picture = Picture(base64.b64decode(encoded[0]))
    assert (picture.type, picture.mime, picture.data) == (
        PictureType.COVER_FRONT,
        "image/jpeg",
        cover,
    )


def test_ogg_vorbis_is_tagged_like_opus(tmp_path: Path, book: BookMetadata, cover: bytes) -> None:
    # The harness makes no Vorbis; one file straight from ffmpeg (libvorbis).
    ffmpeg = require_tool("ffmpeg")
    folder = tmp_path / "Vorbis"
    folder.mkdir()
    files = [folder / f"0{i} - Vorbis.ogg" for i in (1, 2)]
    for path in files:
        subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
             "-i", f"sine=frequency=330:sample_rate={SAMPLE_RATE}:duration=2", "-ac", "1",
             "-c:a", "libvorbis", "-q:a", "0", str(path)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    _tag_all(files, book)
    assert audio_format(files[0]) == "vorbis"
    audio = OggVorbis(files[0])
    _vorbis_expectations(audio.tags)
    picture = Picture(base64.b64decode(audio.tags["METADATA_BLOCK_PICTURE"][0]))
    assert picture.data == cover
    assert read_tags(files[0]).series == "Galaxy's Edge Series"
    _decodes(files[0])


# ---- rewriting ----------------------------------------------------------------------------


def test_stale_managed_tags_are_replaced_and_other_frames_kept(
    tmp_path: Path, book: BookMetadata
) -> None:
    path = _files(tmp_path, "mp3", files=1)[0]
    tags = ID3(path)
    tags.add(COMM(encoding=3, lang="eng", desc="", text=["Ripped by somebody"]))
    tags.add(TXXX(encoding=3, desc="Series", text=["Wrong Series"]))
    tags.add(TXXX(encoding=3, desc="MY_NOTE", text=["keep me"]))
    tags.add(
        CHAP(
            element_id="ch0",
            start_time=0,
            end_time=2000,
            sub_frames=[TIT2(encoding=3, text=["Opening Credits"])],
        )
    )
    tags.save(path, v2_version=4)
    sparse = BookMetadata(title=book.title, authors=book.authors)
    write_tags(path, sparse, track=(1, 1))
    raw = ID3(path)
    assert raw.getall("COMM") == []  # the uploader's comment would show as description
    assert [f.desc for f in raw.getall("TXXX")] == ["MY_NOTE"]
    assert raw.getall("CHAP")[0].sub_frames["TIT2"].text == ["Opening Credits"]
    assert read_tags(path).description == ""


def test_tags_of_an_untouched_download_are_read(tmp_path: Path) -> None:
    path = _files(tmp_path, "m4b", files=2)[1]
    meta = read_tags(path)
    assert (meta.title, meta.authors) == ("Source", ("Test Author",))  # album before title
    assert read_numbering(path) == Numbering(2, 2, None, None)


# ---- atomicity ---------------------------------------------------------------------------


def test_a_failure_while_tagging_leaves_the_original_intact(
    tmp_path: Path, book: BookMetadata, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _files(tmp_path, "flac", files=1)[0]
    original = path.read_bytes()
    temp_seen: list[Path] = []

    def broken(temp: Path, *args: Any, **kwargs: Any) -> None:
        temp_seen.append(temp)
        with temp.open("r+b") as handle:  # half a write: the temporary copy is garbage now
            handle.seek(len(original) // 2)
            handle.write(b"\x00" * 4096)
        raise OSError("disk full")

    monkeypatch.setattr("gui.core.tagging._apply", broken)
    with pytest.raises(OSError, match="disk full"):
        write_tags(path, book)
    assert path.read_bytes() == original
    assert temp_seen == [temp_path_for(path)]
    assert temp_path_for(path).name.startswith(".") and temp_path_for(path).name.endswith(
        TEMP_SUFFIX
    )
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_crash_before_the_rename_leaves_the_original_intact(
    tmp_path: Path, book: BookMetadata
) -> None:
    path = _files(tmp_path, "mp3", files=1)[0]
    original = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from gui.core import tagging
        from gui.core.metadata import BookMetadata
        os.replace = lambda src, dst: os._exit(9)  # the process dies between write and rename
        tagging.write_tags(tagging.Path({str(path)!r}), BookMetadata(title="Crashed"))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == 9, result.stderr
    assert path.read_bytes() == original
    leftover = temp_path_for(path)
    assert leftover.exists() and leftover.name.startswith(".")  # hidden from ABS's scanner
    assert read_tags(leftover).title == "Crashed"  # it was fully written, just not renamed
    # The next write of the same file starts over and cleans up.
    write_tags(path, book)
    assert not leftover.exists()
    assert read_tags(path).title == "Galaxy's Edge"


def test_unsupported_or_missing_files_are_refused_untouched(
    tmp_path: Path, book: BookMetadata
) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("not audio")
    with pytest.raises(TaggingError):
        write_tags(text, book)
    assert text.read_text() == "not audio"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp3"]
    with pytest.raises(TaggingError):
        write_tags(tmp_path / "missing.mp3", book)
    other = tmp_path / "notes.txt"
    other.write_text("not audio either")
    with pytest.raises(UnsupportedFormatError):
        audio_format(other)
    with pytest.raises(UnsupportedFormatError):
        write_tags(other, book)
    assert other.read_text() == "not audio either"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp3", "notes.txt"]
    with pytest.raises(ValueError, match="id3_version"):
        write_tags(text, book, id3_version=5)


def test_file_mode_is_kept(tmp_path: Path, book: BookMetadata) -> None:
    path = _files(tmp_path, "opus", files=1)[0]
    path.chmod(0o640)
    write_tags(path, book)
    assert path.stat().st_mode & 0o777 == 0o640


# ---- cover file --------------------------------------------------------------------------


def test_cover_file_is_named_by_its_content(tmp_path: Path, cover: bytes) -> None:
    written = write_cover_file(tmp_path, cover)
    assert written == tmp_path / "cover.jpg" and written.read_bytes() == cover
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    assert write_cover_file(tmp_path, png) == tmp_path / "cover.png"
    # A stale cover.jpg would be picked by ABS's scanner as well: removed.
    assert sorted(os.listdir(tmp_path)) == ["cover.png"]
    with pytest.raises(TaggingError):
        write_cover_file(tmp_path, b"<html>not an image</html>")
    assert sorted(os.listdir(tmp_path)) == ["cover.png"]


# ---- real-world files ------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 11025, 12000])
def test_mpeg25_mp3_without_an_id3_header_is_tagged(
    tmp_path: Path, book: BookMetadata, rate: int
) -> None:
    """MPEG-2.5 (8/11/12 kHz, common in old audiobooks) with no ID3 header: mutagen knows
    it only by its ``.mp3`` name, which the temporary copy does not have."""
    ffmpeg = require_tool("ffmpeg")
    path = tmp_path / "01 - Chapter.mp3"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
         "-i", "sine=f=220:d=2", "-ar", str(rate), "-ac", "1", "-c:a", "libmp3lame",
         "-b:a", "8k", "-id3v2_version", "0", "-write_xing", "0", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert path.read_bytes()[:3] != b"ID3"
    write_tags(path, book, track=(1, 1))
    assert read_tags(path).title == "Galaxy's Edge"
    assert _grab(_abs_tags(path), "album") == "Galaxy's Edge"
    _decodes(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_repeated_vorbis_fields_are_all_read(tmp_path: Path) -> None:
    """Two ARTIST comments are two authors: ffprobe (so ABS) reports both."""
    path = _files(tmp_path, "flac", files=1)[0]
    audio = FLAC(path)
    audio["ARTIST"] = ["Jason Anspach", "Nick Cole"]
    audio["COMPOSER"] = ["R.C. Bray", "Someone Else"]
    audio.save()
    assert _grab(_abs_tags(path), "artist") == "Jason Anspach;Nick Cole"  # the oracle
    meta = read_tags(path)
    assert meta.authors == ("Jason Anspach", "Nick Cole")
    assert meta.narrators == ("R.C. Bray", "Someone Else")
