"""Reading and writing audiobook tags with mutagen, in the keys Audiobookshelf reads.

**Only ever on copies.** The importer copies a finished download into the library first
and tags the copy: the original files belong to a torrent that is still seeding, and
changing one byte of them would make qBittorrent's piece check fail and re-download them.
Nothing here knows which files are seeding, so this module must never be handed a path
inside the download folder.

**Atomic.** A tag write never leaves a half-written file: the file is copied to a hidden
temporary name in the same folder (``.<name>.earmark.tmp``: a dot-file with a ``.tmp``
suffix, both of which Audiobookshelf's scanner ignores), the copy is tagged and flushed
to disk, and only then renamed over the original with `os.replace` (atomic on one file
system). A crash before the rename leaves the original untouched and at worst a hidden
temporary file, which the next write of the same file removes.

**Which keys.** ABS runs ffprobe on the first file and looks up FFmpeg's key names (the
shared reference, section A3, and ABS's ``server/utils/prober.js``). What this module
writes, and why:

* MP3, ID3v2.3 by default (Windows Explorer does not read v2.4), v2.4 on request:
  TALB album = book title (ABS reads album first), TIT2 per-file title, TIT3 subtitle,
  TPE1 and TPE2 authors, TCOM narrators, TXXX:SERIES and TXXX:SERIES-PART, plus
  MVNM/MVIN for players that use iTunes' movement frames (mutagen keeps them in v2.3;
  ffprobe 5.1 does not report them, so ABS relies on the TXXX pair), TDRC year (written
  as TYER in v2.3), TPUB, TCON, COMM and TXXX:DESCRIPTION, TXXX:ISBN, TXXX:ASIN, TLAN,
  TRCK, TPOS and an APIC front cover. TLAN holds the language's name ("English"), not the
  ISO 639-2 code the ID3 standard asks for: ABS shows the text as it is and its own
  Audible matches store "English", so one spelling keeps its language filter to one entry.
* MP4/M4B: ©alb, ©nam, ©st3, ©ART, aART, ©wrt, freeform ``----:com.apple.iTunes:``
  SERIES / SERIES-PART / PUBLISHER / ISBN / ASIN / LANGUAGE (FFmpeg has no native atom
  for them and reports freeform names as they are), ©day, ©gen, desc and ©cmt, trkn,
  disk, covr, and stik = Audiobook for .m4b. No freeform DESCRIPTION or SUBTITLE: FFmpeg's
  dictionary is case-insensitive, so they would collide with ``desc`` and ``©st3``.
* FLAC, Ogg Vorbis, Opus (Vorbis comments): ALBUM, TITLE, SUBTITLE, ARTIST, ALBUMARTIST,
  COMPOSER, SERIES, SERIES-PART, DATE, PUBLISHER, GENRE, DESCRIPTION (FFmpeg reports it
  as ``comment``, ABS's fallback), ISBN, ASIN, LANGUAGE, TRACKNUMBER/TRACKTOTAL,
  DISCNUMBER/DISCTOTAL; the cover as a FLAC picture block, or base64 in
  METADATA_BLOCK_PICTURE for Ogg.

Several people go into one value joined by ", ": ABS splits a credit on commas and "&"
but not on ";", and FFmpeg joins repeated Vorbis fields with ";" (and reports only the
first value of a multi-value ID3v2.4 frame). Genres are joined by "; " (ABS splits genres
on "/" or ";"); in Vorbis they are separate GENRE fields, which FFmpeg joins with ";".

Each write first removes the managed keys it is about to set (an uploader's stale
comment would otherwise shadow the description) and leaves every other key alone,
chapters (ID3 CHAP/CTOC) included.

Blocking file I/O: call it from a worker thread (`asyncio.to_thread`), not the GUI loop.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import FLAC, Picture
from mutagen.id3 import (
    APIC,
    COMM,
    ID3,
    MVIN,
    MVNM,
    TALB,
    TCOM,
    TCON,
    TDRC,
    TIT2,
    TIT3,
    TLAN,
    TPE1,
    TPE2,
    TPOS,
    TPUB,
    TRCK,
    TXXX,
    Encoding,
    ID3NoHeaderError,
    PictureType,
)
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from gui.core.matching import split_names
from gui.core.metadata import BookMetadata, image_type, language_name

# mutagen's frame and tag classes are untyped: use them through Any so the rest stays
# strictly checked.
_ID3: Any = ID3
_TXXX: Any = TXXX
_COMM: Any = COMM
_APIC: Any = APIC
_Picture: Any = Picture
_MP4FreeForm: Any = MP4FreeForm
_MP4Cover: Any = MP4Cover

__all__ = [
    "COVER_NAMES",
    "TEMP_SUFFIX",
    "Numbering",
    "TaggingError",
    "UnsupportedFormatError",
    "audio_format",
    "default_track_title",
    "image_type",
    "read_numbering",
    "read_tags",
    "temp_path_for",
    "write_cover_file",
    "write_tags",
]

TEMP_SUFFIX = ".earmark.tmp"
#: Cover file names by image type; ABS takes ``cover.*`` before any other image.
COVER_NAMES: Mapping[str, str] = {
    "image/jpeg": "cover.jpg",
    "image/png": "cover.png",
    "image/webp": "cover.webp",
}
_FREEFORM = "----:com.apple.iTunes:"
_PEOPLE_SEPARATOR = ", "
_GENRE_SEPARATOR = "; "
_INTEGER = re.compile(r"\d+")


class TaggingError(Exception):
    """A file could not be tagged; the original is unchanged."""


class UnsupportedFormatError(TaggingError):
    """Not an audio format this module writes (MP3, MP4/M4B, FLAC, Ogg Vorbis, Opus)."""


@dataclass(frozen=True)
class Numbering:
    """Track and disc numbers as tagged; None where a file does not say."""

    track: int | None = None
    track_total: int | None = None
    disc: int | None = None
    disc_total: int | None = None


# ---- helpers -------------------------------------------------------------------------------


def temp_path_for(path: Path) -> Path:
    """The hidden temporary copy a write of ``path`` works on (same folder, same device)."""
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


def default_track_title(title: str, track: tuple[int, int] | None) -> str:
    """ "Title - Part 01" for one file of several, the title itself for a single file.

    ABS uses per-file titles as chapter names when every file has a distinct one that
    differs from the book title (`AudioFileScanner.getBookChaptersFromAudioFiles`).
    """
    if track is None or track[1] <= 1:
        return title
    width = max(2, len(str(track[1])))
    return f"{title} - Part {track[0]:0{width}d}"


def _people(names: Iterable[str]) -> str:
    return _PEOPLE_SEPARATOR.join(names)


def _split_people(text: str) -> tuple[str, ...]:
    return split_names(text) if text.strip() else ()


def _split_genres(values: Iterable[str]) -> tuple[str, ...]:
    """ABS's ``parseGenresString``: the first of "/", "//", ";" found splits the value."""
    out: list[str] = []
    for value in values:
        for separator in ("/", "//", ";"):
            if separator in value:
                out += [part.strip() for part in value.split(separator) if part.strip()]
                break
        else:
            if value.strip():
                out.append(value.strip())
    return tuple(out)


def _year(text: str) -> int | None:
    match = re.match(r"\s*(\d{4})", text)
    return int(match.group(1)) if match else None


def _pair(text: str) -> tuple[int | None, int | None]:
    """ "3/12" -> (3, 12); "3" -> (3, None); junk -> (None, None)."""
    number, _, total = text.partition("/")
    first = int(number) if number.strip().isdigit() else None
    second = int(total) if total.strip().isdigit() else None
    return first, second


def _integer_position(position: str) -> str | None:
    """MVIN is a number ("2" or "2/5"); "0.5" and "1-2" stay in TXXX:SERIES-PART only."""
    return position if _INTEGER.fullmatch(position) else None


def _fsync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; Windows cannot open a directory, and needs not."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- format detection ----------------------------------------------------------------------


def _open(path: Path, kind: type[Any] | None = None) -> Any:
    """The file's mutagen object. ``kind``: the class found on the original file, for the
    temporary copy, whose ``.tmp`` name would make mutagen's guess fail for a file that
    only its extension identifies (an MP3 without an ID3 header, e.g. MPEG-2.5)."""
    try:
        audio = mutagen.File(path) if kind is None else kind(path)
    except mutagen.MutagenError as exc:
        raise TaggingError(f"{path.name}: not a readable audio file ({exc})") from exc
    if audio is None:
        raise UnsupportedFormatError(f"{path.name}: not an audio format Earmark can tag")
    return audio


def audio_format(path: Path) -> str:
    """ "mp3", "mp4", "flac", "opus" or "vorbis", from the file's content, not its name."""
    return _kind(_open(path), path)


def _kind(audio: Any, path: Path) -> str:
    """The format of a mutagen object (or class)."""
    cls = audio if isinstance(audio, type) else type(audio)
    for base, name in ((MP3, "mp3"), (MP4, "mp4"), (FLAC, "flac"), (OggOpus, "opus")):
        if issubclass(cls, base):
            return name
    if issubclass(cls, OggVorbis):
        return "vorbis"
    raise UnsupportedFormatError(
        f"{path.name}: {cls.__name__} files are not tagged (MP3, M4B/M4A, FLAC, "
        "Ogg Vorbis and Opus are)"
    )


# ---- writing -------------------------------------------------------------------------------


def write_tags(
    path: Path,
    meta: BookMetadata,
    *,
    track: tuple[int, int] | None = None,
    disc: tuple[int, int] | None = None,
    id3_version: int = 3,
    track_title: str | None = None,
) -> None:
    """Tag ``path`` (a copy in the library, never a seeding original) atomically.

    ``track``/``disc`` are (number, total). ``track_title`` is this file's TITLE/TIT2/©nam;
    by default the book title, or "Title - Part NN" for one file of several.
    ``id3_version`` (3 or 4) only matters for MP3.
    """
    if id3_version not in (3, 4):
        raise ValueError(f"id3_version must be 3 or 4, not {id3_version!r}")
    path = Path(path)
    if not path.is_file():
        raise TaggingError(f"{path}: no such file")
    meta = meta.cleaned()
    title = track_title if track_title is not None else default_track_title(meta.title, track)
    kind = type(_open(path))  # recognised by the real name, before the copy gets a .tmp one
    _kind(kind, path)  # refuse an untaggable format before copying anything
    temp = temp_path_for(path)
    temp.unlink(missing_ok=True)  # left behind by a crash during an earlier write
    try:
        shutil.copyfile(path, temp)
        shutil.copymode(path, temp)
        _apply(
            temp,
            kind,
            meta,
            title=title,
            track=track,
            disc=disc,
            id3_version=id3_version,
            audiobook=path.suffix.lower() == ".m4b",
        )
        _fsync(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _apply(
    path: Path,
    kind_of: type[Any],
    meta: BookMetadata,
    *,
    title: str,
    track: tuple[int, int] | None,
    disc: tuple[int, int] | None,
    id3_version: int,
    audiobook: bool,
) -> None:
    """Tag the temporary copy in place (what a crash test interrupts).

    ``kind_of``: the mutagen class of the original (the copy's name ends in .tmp).
    ``audiobook``: the original is an .m4b.
    """
    audio = _open(path, kind_of)
    kind = _kind(audio, path)
    try:
        if kind == "mp3":
            _write_id3(path, meta, title, track, disc, id3_version)
        elif kind == "mp4":
            _write_mp4(audio, meta, title, track, disc, audiobook)
        else:
            _write_vorbis(audio, kind, meta, title, track, disc)
    except mutagen.MutagenError as exc:
        raise TaggingError(f"{path.name}: mutagen could not write the tags ({exc})") from exc


_ID3_MANAGED = (
    "TALB", "TIT2", "TIT3", "TPE1", "TPE2", "TCOM", "MVNM", "MVIN", "TYER", "TDAT", "TIME",
    "TDRC", "TPUB", "TCON", "COMM", "TLAN", "TRCK", "TPOS", "APIC",
)  # fmt: skip
_TXXX_MANAGED = frozenset(
    {"SERIES", "SERIES-PART", "DESCRIPTION", "SUBTITLE", "ISBN", "ASIN", "AUDIBLE_ASIN"}
)


def _write_id3(
    path: Path,
    meta: BookMetadata,
    title: str,
    track: tuple[int, int] | None,
    disc: tuple[int, int] | None,
    version: int,
) -> None:
    try:
        tags = _ID3(path)
    except ID3NoHeaderError:
        tags = _ID3()
    for frame_id in _ID3_MANAGED:
        tags.delall(frame_id)
    for frame in list(tags.getall("TXXX")):
        if frame.desc.upper() in _TXXX_MANAGED:
            tags.delall(frame.HashKey)
    utf8 = Encoding.UTF8  # mutagen writes UTF-16 instead when saving v2.3

    def text(frame: Callable[..., Any], value: str) -> None:
        if value:
            tags.add(frame(encoding=utf8, text=[value]))

    def extra(desc: str, value: str) -> None:
        if value:
            tags.add(_TXXX(encoding=utf8, desc=desc, text=[value]))

    text(TALB, meta.title)
    text(TIT2, title)
    text(TIT3, meta.subtitle)
    text(TPE1, _people(meta.authors))
    text(TPE2, _people(meta.authors))
    text(TCOM, _people(meta.narrators))
    extra("SERIES", meta.series)
    text(MVNM, meta.series)
    if meta.series:
        extra("SERIES-PART", meta.position)
        text(MVIN, _integer_position(meta.position) or "")
    text(TDRC, str(meta.year) if meta.year else "")
    text(TPUB, meta.publisher)
    text(TCON, _GENRE_SEPARATOR.join(meta.genres))
    if meta.description:
        tags.add(_COMM(encoding=utf8, lang="eng", desc="", text=[meta.description]))
        extra("DESCRIPTION", meta.description)
    extra("ISBN", meta.isbn)
    extra("ASIN", meta.asin)
    text(TLAN, meta.language)
    if track:
        text(TRCK, f"{track[0]}/{track[1]}")
    if disc:
        text(TPOS, f"{disc[0]}/{disc[1]}")
    if meta.cover:
        tags.add(
            _APIC(
                encoding=utf8,
                mime=meta.cover_mime or "image/jpeg",
                type=PictureType.COVER_FRONT,
                desc="Cover",
                data=meta.cover,
            )
        )
    if version == 3:
        # mutagen's save(v2_version=3) only changes the header and text encodings; the
        # frames must be converted first (TDRC -> TYER, v2.4-only frames dropped), or the
        # year sits in a frame v2.3 readers (Windows Explorer) do not know.
        tags.update_to_v23()
    tags.save(path, v2_version=version)


_MP4_MANAGED = (
    "\xa9alb", "\xa9nam", "\xa9st3", "\xa9ART", "aART", "\xa9wrt", "\xa9day", "\xa9gen",
    "desc", "\xa9cmt", "trkn", "disk", "covr", "tvsh", "tven",
)  # fmt: skip
_MP4_FREEFORM_MANAGED = frozenset(
    {
        "SERIES",
        "SERIES-PART",
        "PUBLISHER",
        "ISBN",
        "ASIN",
        "AUDIBLE_ASIN",
        "LANGUAGE",
        "DESCRIPTION",
        "SUBTITLE",
    }
)
_MP4_AUDIOBOOK = 2  # iTunes media kind (stik) "Audiobook"


def _write_mp4(
    audio: Any,
    meta: BookMetadata,
    title: str,
    track: tuple[int, int] | None,
    disc: tuple[int, int] | None,
    audiobook: bool,
) -> None:
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    assert tags is not None
    for key in _MP4_MANAGED:
        tags.pop(key, None)
    for key in list(tags.keys()):
        if key.startswith(_FREEFORM) and key[len(_FREEFORM) :].upper() in _MP4_FREEFORM_MANAGED:
            del tags[key]

    def text(key: str, value: str) -> None:
        if value:
            tags[key] = [value]

    def freeform(name: str, value: str) -> None:
        if value:
            tags[_FREEFORM + name] = [_MP4FreeForm(value.encode(), AtomDataType.UTF8)]

    text("\xa9alb", meta.title)
    text("\xa9nam", title)
    text("\xa9st3", meta.subtitle)
    text("\xa9ART", _people(meta.authors))
    text("aART", _people(meta.authors))
    text("\xa9wrt", _people(meta.narrators))
    freeform("SERIES", meta.series)
    if meta.series:
        freeform("SERIES-PART", meta.position)
    freeform("PUBLISHER", meta.publisher)
    freeform("ISBN", meta.isbn)
    freeform("ASIN", meta.asin)
    freeform("LANGUAGE", meta.language)
    text("\xa9day", str(meta.year) if meta.year else "")
    text("\xa9gen", _GENRE_SEPARATOR.join(meta.genres))
    text("desc", meta.description)
    text("\xa9cmt", meta.description)
    if track:
        tags["trkn"] = [track]
    if disc:
        tags["disk"] = [disc]
    if meta.cover:
        kind = MP4Cover.FORMAT_PNG if meta.cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [_MP4Cover(meta.cover, imageformat=kind)]
    if audiobook:
        tags["stik"] = [_MP4_AUDIOBOOK]
    audio.save()


_VORBIS_MANAGED = (
    "ALBUM", "TITLE", "SUBTITLE", "ARTIST", "ALBUMARTIST", "ALBUM ARTIST", "COMPOSER",
    "SERIES", "SERIES-PART", "DATE", "YEAR", "PUBLISHER", "GENRE", "DESCRIPTION", "COMMENT",
    "ISBN", "ASIN", "AUDIBLE_ASIN", "LANGUAGE", "TRACKNUMBER", "TRACKTOTAL", "TOTALTRACKS",
    "DISCNUMBER", "DISCTOTAL", "TOTALDISCS", "METADATA_BLOCK_PICTURE",
)  # fmt: skip


def _write_vorbis(
    audio: Any,
    kind: str,
    meta: BookMetadata,
    title: str,
    track: tuple[int, int] | None,
    disc: tuple[int, int] | None,
) -> None:
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    for key in _VORBIS_MANAGED:
        if key in tags:
            del tags[key]
    values: dict[str, list[str]] = {
        "ALBUM": [meta.title],
        "TITLE": [title],
        "SUBTITLE": [meta.subtitle],
        "ARTIST": [_people(meta.authors)],
        "ALBUMARTIST": [_people(meta.authors)],
        "COMPOSER": [_people(meta.narrators)],
        "SERIES": [meta.series],
        "SERIES-PART": [meta.position if meta.series else ""],
        "DATE": [str(meta.year) if meta.year else ""],
        "PUBLISHER": [meta.publisher],
        "GENRE": list(meta.genres),
        "DESCRIPTION": [meta.description],
        "ISBN": [meta.isbn],
        "ASIN": [meta.asin],
        "LANGUAGE": [meta.language],
    }
    if track:
        values["TRACKNUMBER"] = [str(track[0])]
        values["TRACKTOTAL"] = [str(track[1])]
    if disc:
        values["DISCNUMBER"] = [str(disc[0])]
        values["DISCTOTAL"] = [str(disc[1])]
    for key, items in values.items():
        kept = [item for item in items if item]
        if kept:
            tags[key] = kept
    if kind == "flac":
        audio.clear_pictures()
    if meta.cover:
        picture = _Picture()
        picture.type = PictureType.COVER_FRONT
        picture.mime = meta.cover_mime or "image/jpeg"
        picture.desc = "Cover"
        picture.data = meta.cover
        if kind == "flac":
            audio.add_picture(picture)
        else:
            tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()


def write_cover_file(folder: Path, image: bytes) -> Path:
    """Write ``cover.jpg`` (or ``.png``/``.webp``, by content) into ``folder``, atomically.

    ABS prefers a ``cover.*`` file over embedded art, and a file also serves players that
    read folder art. Any other ``cover.*`` image in the folder is removed so the scanner
    cannot pick a stale one.
    """
    mime = image_type(image)
    if mime is None:
        raise TaggingError("the cover is not a JPEG, PNG or WebP image")
    target = Path(folder) / COVER_NAMES[mime]
    temp = temp_path_for(target)
    try:
        with temp.open("wb") as handle:
            handle.write(image)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    for name in COVER_NAMES.values():
        other = target.with_name(name)
        if other != target:
            other.unlink(missing_ok=True)
    _fsync_dir(target.parent)
    return target


# ---- reading -------------------------------------------------------------------------------


def read_tags(path: Path) -> BookMetadata:
    """What a file's tags say, read in ABS's order (album before title, artist before
    album artist, SERIES before the movement frames), plus the measured duration."""
    path = Path(path)
    audio = _open(path)
    kind = _kind(audio, path)
    length = float(getattr(audio.info, "length", 0.0) or 0.0) or None
    if kind == "mp3":
        meta = _read_id3(audio.tags)
    elif kind == "mp4":
        meta = _read_mp4(audio.tags)
    else:
        meta = _read_vorbis(audio, kind)
    return replace(meta, duration=length).cleaned()


def _first(*values: str | None) -> str:
    for value in values:
        if value and value.strip():
            return value.strip()
    return ""


def _grouping_series(text: str) -> tuple[str, str]:
    """ABS's fallback: a grouping like "Name #1; Other #2" gives the first series."""
    first = text.split(";")[0].strip()
    match = re.match(r"^(.*?)\s*#\s*([\d.]+)\s*$", first)
    if match:
        return match.group(1).strip(), match.group(2)
    return first, ""


def _read_id3(tags: Any) -> BookMetadata:
    if tags is None:
        return BookMetadata()

    def text(frame_id: str) -> str:
        frames = tags.getall(frame_id)
        return str(frames[0].text[0]) if frames and frames[0].text else ""

    extras = {frame.desc.upper(): str(frame.text[0]) for frame in tags.getall("TXXX") if frame.text}
    series = _first(extras.get("SERIES"), text("MVNM"))
    position = _first(extras.get("SERIES-PART"), text("MVIN").split("/")[0])
    if not series:
        series, grouped = _grouping_series(_first(text("GRP1"), text("TIT1")))
        position = position or grouped
    comments = [str(f.text[0]) for f in tags.getall("COMM") if f.text]
    genres: list[str] = []
    for frame in tags.getall("TCON"):
        genres += frame.genres
    pictures = tags.getall("APIC")
    front = [p for p in pictures if p.type == PictureType.COVER_FRONT] or pictures
    return BookMetadata(
        title=_first(text("TALB"), text("TIT2")),
        subtitle=_first(text("TIT3"), extras.get("SUBTITLE")),
        authors=_split_people(_first(text("TPE1"), text("TPE2"))),
        narrators=_split_people(text("TCOM")),
        series=series,
        position=position,
        year=_year(_first(text("TDRC"), text("TYER"))),
        publisher=text("TPUB"),
        description=_first(extras.get("DESCRIPTION"), *comments),
        genres=_split_genres(genres),
        isbn=extras.get("ISBN", ""),
        asin=_first(extras.get("ASIN"), extras.get("AUDIBLE_ASIN")),
        language=language_name(text("TLAN")),
        cover=front[0].data if front else None,
        cover_mime=front[0].mime if front else "",
    )


def _read_mp4(tags: Any) -> BookMetadata:
    if tags is None:
        return BookMetadata()

    def text(key: str) -> str:
        values = tags.get(key)
        return str(values[0]) if values else ""

    freeform: dict[str, str] = {}
    for key, values in tags.items():
        if key.startswith(_FREEFORM) and values:
            freeform[key[len(_FREEFORM) :].upper()] = bytes(values[0]).decode("utf-8", "replace")
    series = _first(freeform.get("SERIES"), text("tvsh"))
    position = _first(freeform.get("SERIES-PART"), text("tven"))
    if not series:
        series, grouped = _grouping_series(text("\xa9grp"))
        position = position or grouped
    covers = tags.get("covr") or []
    cover = covers[0] if covers else None
    mime = ""
    if cover is not None:
        mime = "image/png" if cover.imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
    return BookMetadata(
        title=_first(text("\xa9alb"), text("\xa9nam")),
        subtitle=_first(text("\xa9st3"), freeform.get("SUBTITLE")),
        authors=_split_people(_first(text("\xa9ART"), text("aART"))),
        narrators=_split_people(text("\xa9wrt")),
        series=series,
        position=position,
        year=_year(text("\xa9day")),
        publisher=_first(freeform.get("PUBLISHER"), text("\xa9pub")),
        description=_first(text("desc"), freeform.get("DESCRIPTION"), text("\xa9cmt")),
        genres=_split_genres([text("\xa9gen")]),
        isbn=freeform.get("ISBN", ""),
        asin=_first(freeform.get("ASIN"), freeform.get("AUDIBLE_ASIN")),
        language=language_name(freeform.get("LANGUAGE", "")),
        cover=bytes(cover) if cover is not None else None,
        cover_mime=mime,
    )


def _read_vorbis(audio: Any, kind: str) -> BookMetadata:
    tags = audio.tags
    if tags is None:
        return BookMetadata()

    def text(key: str) -> str:
        values = tags.get(key)
        return str(values[0]) if values else ""

    def people(*keys: str) -> tuple[str, ...]:
        """Every value of the first key present: Vorbis comments repeat a field for a
        second name (two ARTIST), and ffprobe, hence ABS, reads them all."""
        for key in keys:
            names = tuple(n for value in tags.get(key) or [] for n in _split_people(str(value)))
            if names:
                return tuple(dict.fromkeys(names))
        return ()

    series = text("SERIES")
    position = text("SERIES-PART")
    if not series:
        series, grouped = _grouping_series(text("GROUPING"))
        position = position or grouped
    cover: bytes | None = None
    mime = ""
    pictures: list[Picture] = list(audio.pictures) if kind == "flac" else []
    if not pictures:
        for encoded in tags.get("METADATA_BLOCK_PICTURE", []):
            try:
                pictures.append(_Picture(base64.b64decode(encoded)))
            except (binascii.Error, mutagen.MutagenError, ValueError):
                continue
    front = [p for p in pictures if p.type == PictureType.COVER_FRONT] or pictures
    if front:
        cover, mime = front[0].data, front[0].mime
    return BookMetadata(
        title=_first(text("ALBUM"), text("TITLE")),
        subtitle=text("SUBTITLE"),
        authors=people("ARTIST", "ALBUMARTIST"),
        narrators=people("COMPOSER"),
        series=series,
        position=position,
        year=_year(_first(text("DATE"), text("YEAR"))),
        publisher=_first(text("PUBLISHER"), text("ORGANIZATION")),
        description=_first(text("DESCRIPTION"), text("COMMENT")),
        genres=_split_genres(tags.get("GENRE", [])),
        isbn=text("ISBN"),
        asin=_first(text("ASIN"), text("AUDIBLE_ASIN")),
        language=language_name(text("LANGUAGE")),
        cover=cover,
        cover_mime=mime,
    )


def read_numbering(path: Path) -> Numbering:
    """Track and disc numbers (the importer orders files and checks discs with them)."""
    path = Path(path)
    audio = _open(path)
    kind = _kind(audio, path)
    tags = audio.tags
    if tags is None:
        return Numbering()
    if kind == "mp3":
        track = tags.getall("TRCK")
        disc = tags.getall("TPOS")
        t, tt = _pair(str(track[0].text[0])) if track and track[0].text else (None, None)
        d, dt = _pair(str(disc[0].text[0])) if disc and disc[0].text else (None, None)
        return Numbering(t, tt, d, dt)
    if kind == "mp4":
        trkn = tags.get("trkn") or [(None, None)]
        disk = tags.get("disk") or [(None, None)]
        return Numbering(
            trkn[0][0] or None, trkn[0][1] or None, disk[0][0] or None, disk[0][1] or None
        )

    def number(*keys: str) -> tuple[int | None, int | None]:
        for key in keys:
            values = tags.get(key)
            if values:
                return _pair(str(values[0]))
        return None, None

    t, tt = number("TRACKNUMBER")
    d, dt = number("DISCNUMBER")
    tt = tt or number("TRACKTOTAL", "TOTALTRACKS")[0]
    dt = dt or number("DISCTOTAL", "TOTALDISCS")[0]
    return Numbering(t, tt, d, dt)
