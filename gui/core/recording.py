"""Whether a release holds the recording that is wanted, judged before it is grabbed.

Users of the peers complain most about the wrong recording: an ebook or a sample under an
audiobook's name, an abridged edition, a collection. Before anything is downloaded, the
indexer's size (and file count) and, once fetched, the .torrent's file list already say a
lot:

* a file list whose recognisable files are all ebooks, documents or video holds no
  audiobook (files without an extension prove nothing either way);
* audio files all named as a sample ("Dune - Sample.mp3") are a sample (size alone
  cannot say: a short story is small too);
* with the wanted edition's running time (Audible/Audnexus, when known): the audio's size
  at the release's bitrate gives its running time; far shorter is an abridged or partial
  recording, far longer another edition or a collection. Without a stated bitrate only an
  impossibly small size (below `MIN_KBPS` over the running time) is refused.

After the download, before the import, the audio itself is measured (mutagen, by the
import service) and :func:`recording_mismatch` compares it with the wanted edition: a
running time under `ABRIDGED_BELOW` of the wanted one is an abridged or partial
recording, over `LONGER_ABOVE` another edition or a collection; a narrator tag naming
nobody the wanted edition credits, or a language tag naming another language, is another
recording. Unknown on either side says nothing: only a clear mismatch stops an import.

Pure functions returning `Reason`s (the ranking's sentences, shown in the search dialog's
score explanation) and a refusal or None. No I/O, no Qt.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from gui.core.matching import names_overlap, normalize_names
from gui.core.metadata import language_name

__all__ = [
    "AUDIO_EXTENSIONS",
    "RECORDING_CHECK",
    "Check",
    "Contents",
    "Reason",
    "Recording",
    "check_contents",
    "check_size",
    "recording_mismatch",
    "survey",
]

MIB = 1024 * 1024
AUDIO_EXTENSIONS = frozenset(
    {"mp3", "m4b", "m4a", "mp4", "aac", "flac", "opus", "ogg", "oga", "wma", "wav", "aiff",
     "ape", "wv", "mka", "spx", "aax"}
)  # fmt: skip
#: What is not an audiobook when it is all there is.
NOT_AUDIO_EXTENSIONS = frozenset(
    {"epub", "mobi", "azw", "azw3", "kfx", "pdf", "djvu", "cbz", "cbr", "doc", "docx", "rtf",
     "lit", "fb2", "mkv", "avi", "mov", "wmv", "iso", "exe"}
)  # fmt: skip
#: Beside an audiobook; neither for nor against one.
SIDE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "webp", "gif", "nfo", "cue", "txt", "sfv", "m3u", "m3u8", "json",
     "opf", "xml", "log", "md5", "url", "srt", "lrc", "html", "htm"}
)  # fmt: skip

#: Words that make an audio file a sample, not the book (its size alone cannot say: a
#: short story is small too).
_SAMPLE = re.compile(
    r"(?<![^\W_])(?:sample|preview|excerpt|teaser|hörprobe|horprobe)(?![^\W_])", re.IGNORECASE
)
#: Below this average bitrate over the wanted running time, the audio cannot be all of it.
MIN_KBPS = 12.0
#: Estimated running time against the wanted edition's: below SHORT it is refused,
#: within CLOSE it earns a point, above LONG it is demoted.
SHORT, CLOSE, LONG = 0.75, 0.1, 1.5
AGREES_POINTS = 4.0
LONGER_POINTS = -8.0


class Reason(NamedTuple):
    """One contribution to a score, in words: (+12, "format m4b (preferred #1)").

    Defined here, where ranking's checks of the contents live; `gui.core.ranking` uses
    (and exports) this one type."""

    points: float
    text: str


@dataclass(frozen=True, slots=True)
class Check:
    """What the contents say: the sentences for the score, and a refusal or None."""

    reasons: tuple[Reason, ...] = ()
    rejected: str | None = None


@dataclass(frozen=True, slots=True)
class Contents:
    """A file list summarised: the audio in it and what else there is, by extension."""

    audio_files: int
    audio_bytes: int
    audio_kinds: tuple[str, ...]
    not_audio: tuple[tuple[str, int], ...]  # (extension, count), most frequent first
    unknown_files: int
    samples: int = 0  # audio files named as a sample ("Dune - Sample.mp3")


def _extension(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).suffix.lower().lstrip(".")


def survey(files: Iterable[tuple[str, int]]) -> Contents:
    """Sort a torrent's (path, size) list into audio, not-audio and unknown files."""
    audio_files = audio_bytes = unknown = samples = 0
    kinds: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for path, size in files:
        extension = _extension(path)
        if extension in AUDIO_EXTENSIONS:
            audio_files += 1
            audio_bytes += max(size, 0)
            kinds[extension] += 1
            samples += _SAMPLE.search(PurePosixPath(path.replace("\\", "/")).name) is not None
        elif extension in NOT_AUDIO_EXTENSIONS:
            others[extension] += 1
        elif extension not in SIDE_EXTENSIONS:
            unknown += 1
    return Contents(
        audio_files,
        audio_bytes,
        tuple(kind for kind, _ in kinds.most_common()),
        tuple(others.most_common()),
        unknown,
        samples,
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def _length(seconds: float) -> str:
    """A running time in the unit that says it: "21.1 h", "42 min", "8 s"."""
    if seconds >= 3600:
        return _hours(seconds)
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _megabytes(size: int) -> str:
    return f"{size / MIB:,.0f} MB"


def check_size(
    audio_bytes: int,
    wanted_duration: float,
    bitrate_kbps: int | None,
    *,
    what: str = "size",
) -> Check:
    """The audio's size against the wanted edition's running time (seconds, 0 unknown)."""
    if audio_bytes <= 0 or wanted_duration <= 0:
        return Check()
    average = audio_bytes * 8 / wanted_duration / 1000
    if average < MIN_KBPS:
        return Check(
            rejected=(
                f"{what} {_megabytes(audio_bytes)} is too little for the wanted "
                f"{_hours(wanted_duration)} (about {average:.0f} kbps): abridged or incomplete"
            )
        )
    if not bitrate_kbps:
        return Check()
    estimate = audio_bytes * 8 / (bitrate_kbps * 1000)
    ratio = estimate / wanted_duration
    said = (
        f"{_megabytes(audio_bytes)} at {bitrate_kbps} kbps play about {_hours(estimate)}; "
        f"the wanted edition runs {_hours(wanted_duration)}"
    )
    if ratio < SHORT:
        return Check(rejected=f"{said} (abridged or incomplete)")
    if abs(ratio - 1) <= CLOSE:
        return Check((Reason(AGREES_POINTS, said),))
    if ratio > LONG:
        return Check((Reason(LONGER_POINTS, f"{said} (another edition or a collection?)"),))
    return Check()


def check_contents(
    files: Iterable[tuple[str, int]],
    wanted_duration: float = 0.0,
    bitrate_kbps: int | None = None,
) -> Check:
    """A .torrent's file list against the wanted book: audio at all, not a sample, and
    (with a running time) about as long as the wanted edition."""
    contents = survey(files)
    if contents.audio_files == 0:
        if contents.not_audio and contents.unknown_files == 0:
            found = ", ".join(f"{count} {kind}" for kind, count in contents.not_audio)
            return Check(rejected=f"no audio files in the torrent ({found})")
        return Check()  # files without a known extension: nothing to go by
    if contents.samples == contents.audio_files:
        return Check(rejected=f"its audio is only a sample ({contents.audio_bytes / 1024:,.0f} KB)")
    kinds = "/".join(contents.audio_kinds)
    plural = "s" if contents.audio_files != 1 else ""
    summary = Reason(
        0.0,
        f"{contents.audio_files} audio file{plural} ({kinds}), {_megabytes(contents.audio_bytes)}",
    )
    timed = check_size(contents.audio_bytes, wanted_duration, bitrate_kbps, what="audio")
    return Check((summary, *timed.reasons), timed.rejected)


# ---- after the download ----------------------------------------------------------------

#: `gui.store.Review.provider` of an import held because the recording does not look like
#: the wanted edition (the review's "known" and "proposal" are then the same metadata).
RECORDING_CHECK = "recording check"

#: Measured running time against the wanted edition's: below this it is abridged or
#: partial (an abridged edition is typically a third to a half of the full one; a
#: publisher's intros and rounding move a full one by a few per cent only).
ABRIDGED_BELOW = 0.7
#: ...above this, another edition or a collection (an omnibus of the series).
LONGER_ABOVE = 1.5


@dataclass(frozen=True, slots=True)
class Recording:
    """What the downloaded audio says of itself: its measured running time (seconds, the
    sum over every audio file; 0 when any file could not be measured) and the narrator
    and language its tags name (empty when untagged)."""

    duration: float = 0.0
    narrators: tuple[str, ...] = ()
    language: str = ""


def recording_mismatch(
    found: Recording, *, duration: float = 0.0, narrator: str = "", language: str = ""
) -> str | None:
    """Why the downloaded recording is not the wanted edition (its running time in
    seconds, narrator credit and language, each "" / 0 when unknown), or None."""
    problems: list[str] = []
    if found.duration > 0 and duration > 0:
        ratio = found.duration / duration
        said = (
            f"the audio plays {_length(found.duration)}, the wanted edition runs "
            f"{_length(duration)} ({ratio:.0%})"
        )
        if ratio < ABRIDGED_BELOW:
            problems.append(f"{said}: an abridged or partial recording")
        elif ratio > LONGER_ABOVE:
            problems.append(f"{said}: another edition or a collection")
    wanted_names = normalize_names(narrator)
    tagged_names = tuple(n for name in found.narrators for n in normalize_names(name))
    if names_overlap(wanted_names, tagged_names) == 0.0:
        problems.append(
            f"narrated by {', '.join(found.narrators)}, the wanted edition by {narrator.strip()}"
        )
    wanted_language, tagged_language = language_name(language), language_name(found.language)
    if wanted_language and tagged_language and wanted_language != tagged_language:
        problems.append(f"in {tagged_language}, the wanted edition in {wanted_language}")
    return "; ".join(problems) or None
