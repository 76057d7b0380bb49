r"""Where qBittorrent's files are on this computer, and names that are safe to create.

Two problems meet here, both about paths coming from somewhere we do not control:

* **Remote path mappings.** qBittorrent reports a torrent's ``save_path`` as *its* host
  sees it (``F:\Audiobookshelf\Downloads`` on a Windows seedbox, ``/downloads`` inside a
  Docker container). Earmark may run elsewhere and see the same folder as a UNC path
  (``\\nas\downloads``), a mount point (``/mnt/downloads``) or another drive letter. A
  mapping rewrites the prefix and keeps the rest, converting separators between Windows
  and POSIX in either direction. The paths are compared with the *remote* side's rules:
  Windows paths case-insensitively and with either slash, POSIX paths exactly.
* **Names.** Folder and file names come from metadata providers and from torrent file
  lists, i.e. from strangers. The library may be an SMB share served from Windows, so
  every name is made valid there (reserved device names, trailing dots and spaces,
  ``<>:"/\|?*``), and torrent paths lose ``..``, roots and drive letters so that a file
  named ``../../x.mp3`` can only ever land inside the book's folder.

Pure string work: no Qt, no network; only :func:`check_mapping` touches the disk.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

__all__ = [
    "MAX_COMPONENT_BYTES",
    "MAX_COMPONENT_LENGTH",
    "MappingProblem",
    "PathMapping",
    "check_mapping",
    "is_windows_path",
    "map_remote_path",
    "path_components",
    "safe_relative",
    "sanitize_component",
]

# ---------------------------------------------------------------------------------------
# Remote path mappings
# ---------------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:(?=[\\/]|$)")
_UNC = re.compile(r"^[\\/]{2}(?![\\/])")

Flavour = Literal["windows", "posix"]


@dataclass(frozen=True)
class PathMapping:
    r"""``remote`` as qBittorrent's host writes it -> ``local`` as Earmark sees it.

    Example: ``PathMapping(r"F:\Audiobookshelf\Downloads", "/mnt/downloads")``.
    """

    remote: str
    local: str


@dataclass(frozen=True)
class _Parsed:
    r"""A path split into its flavour, its root (``F:``, ``\\nas\share``, ``/``, or
    empty for a relative path) and its components, with ``.``/``..`` resolved."""

    flavour: Flavour
    root: str
    parts: tuple[str, ...]

    def key(self) -> tuple[str, tuple[str, ...]]:
        """What two paths must share to match: Windows compares without case."""
        if self.flavour == "windows":
            return self.root.casefold(), tuple(part.casefold() for part in self.parts)
        return self.root, self.parts

    def render(self, extra: Sequence[str] = ()) -> str:
        """The path as text in its own flavour, with ``extra`` components appended."""
        parts = (*self.parts, *extra)
        if self.flavour == "windows":
            if self.root.startswith("\\\\"):  # UNC: \\server\share\rest
                return "\\".join((self.root, *parts)) if parts else self.root
            if self.root.endswith(":"):  # drive: F:\rest (F:\ for the drive itself)
                return self.root + "\\" + "\\".join(parts)
            return self.root + "\\".join(parts)  # "\\" (current drive's root) or relative
        if self.root:
            return "/" + "/".join(parts)
        return "/".join(parts)


def is_windows_path(path: str) -> bool:
    r"""True for ``F:\x``, ``F:/x``, ``\\server\share`` and ``//server/share``.

    Anything else is read as POSIX. A leading ``//`` counts as UNC because Qt (and so
    older qBittorrent builds on Windows) writes UNC paths with forward slashes; POSIX
    leaves the meaning of a leading ``//`` to the implementation, so no real Linux
    save path looks like that.
    """
    return bool(_DRIVE.match(path) or _UNC.match(path) or path.startswith("\\"))


def _resolve_dots(parts: Iterable[str]) -> tuple[str, ...]:
    r"""Resolve ``.`` and ``..`` lexically, never above the root.

    So ``F:\Downloads\..\Windows`` does not match a mapping for ``F:\Downloads``.
    """
    resolved: list[str] = []
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        resolved.append(part)
    return tuple(resolved)


def _parse(path: str) -> _Parsed:
    path = path.strip()
    if is_windows_path(path):
        text = path.replace("/", "\\")
        unc = _UNC.match(path)
        if unc:
            pieces = [piece for piece in text[2:].split("\\") if piece]
            root = "\\\\" + "\\".join(pieces[:2])
            return _Parsed("windows", root, _resolve_dots(pieces[2:]))
        drive = _DRIVE.match(text)
        if drive:
            root = drive.group(0).upper()
            return _Parsed("windows", root, _resolve_dots(text[2:].split("\\")))
        return _Parsed("windows", "\\", _resolve_dots(text.split("\\")))
    root = "/" if path.startswith("/") else ""
    return _Parsed("posix", root, _resolve_dots(path.split("/")))


def _match_length(path: _Parsed, prefix: _Parsed) -> int | None:
    """How many components of ``path`` the mapping prefix covers, None when it does not
    apply. Matching is per component, so ``/downloads`` does not match ``/downloads2``."""
    if path.flavour != prefix.flavour:
        return None
    path_root, path_parts = path.key()
    prefix_root, prefix_parts = prefix.key()
    if path_root != prefix_root or path_parts[: len(prefix_parts)] != prefix_parts:
        return None
    return len(prefix_parts)


def map_remote_path(remote_path: str, mappings: Iterable[PathMapping]) -> str:
    r"""Translate a path as qBittorrent's host writes it into the path Earmark can open.

    The longest matching remote prefix wins (a mapping for ``/downloads/audiobooks``
    beats one for ``/downloads``). The rest of the path is kept and written with the
    local side's separators: ``F:\Audiobookshelf\Downloads\Dune\01.mp3`` with
    ``F:\Audiobookshelf\Downloads -> /mnt/downloads`` gives ``/mnt/downloads/Dune/01.mp3``.
    Without a matching mapping the path is returned unchanged: qBittorrent and Earmark
    on the same machine need none.
    """
    parsed = _parse(remote_path)
    best: tuple[int, PathMapping] | None = None
    for mapping in mappings:
        if not mapping.remote.strip() or not mapping.local.strip():
            continue
        length = _match_length(parsed, _parse(mapping.remote))
        if length is not None and (best is None or length > best[0]):
            best = (length, mapping)
    if best is None:
        return remote_path
    length, mapping = best
    return _parse(mapping.local).render(parsed.parts[length:])


@dataclass(frozen=True)
class MappingProblem:
    """Why a mapping cannot work, with both of its paths in ``message``."""

    mapping: PathMapping
    reason: Literal["empty", "missing", "not_a_folder", "unreadable"]
    message: str


def check_mapping(mapping: PathMapping) -> MappingProblem | None:
    """Check that the local side of ``mapping`` is a folder this process can list.

    A mapping that points nowhere is the usual cause of "download complete but import
    fails", so the message names both sides and the likely fix, rather than leaving the
    user with a bare "file not found" on some path they never typed.
    """
    remote, local = mapping.remote.strip(), mapping.local.strip()
    label = f'remote path mapping "{mapping.remote}" -> "{mapping.local}"'
    if not remote or not local:
        side = "remote (qBittorrent's) path" if not remote else "local path"
        return MappingProblem(mapping, "empty", f"The {label} has an empty {side}.")
    hint = ""
    if is_windows_path(local) != (sys.platform == "win32"):
        system = "Windows" if sys.platform == "win32" else "a POSIX system"
        kind = "Windows" if is_windows_path(local) else "POSIX"
        hint = f" {local} is a {kind} path, but Earmark runs on {system}."
    if not os.path.exists(local):
        return MappingProblem(
            mapping,
            "missing",
            f"The {label} points nowhere: {local} does not exist on this computer "
            f"(is the share mounted or the drive connected?).{hint}",
        )
    if not os.path.isdir(local):
        return MappingProblem(
            mapping,
            "not_a_folder",
            f"The {label} points at {local}, which is a file, not a folder.{hint}",
        )
    try:
        with os.scandir(local) as entries:
            next(entries, None)
    except OSError as exc:
        return MappingProblem(
            mapping,
            "unreadable",
            f"The {label} points at {local}, which cannot be read: "
            f"{exc.strerror or exc}. Earmark needs read access to qBittorrent's "
            f"downloads there.",
        )
    return None


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------

MAX_COMPONENT_LENGTH = 180
"""Characters per name: leaves room under Windows' 260-character MAX_PATH for
``Author/Series/`` plus a file name, and keeps Explorer and SMB clients happy."""
MAX_COMPONENT_BYTES = 240
"""UTF-8 bytes per name: ext4, btrfs and ZFS refuse names over 255 bytes, and 180
characters of Japanese are 540 bytes."""

# Forbidden on Windows, plus C0 and C1 control characters (invisible, break terminals).
_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f]')
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\\/]+")
_DRIVE_PREFIX = re.compile(r"^[A-Za-z]:")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
# Audiobookshelf's scanner skips anything ending in these (fileUtils.js): a title that
# happens to end like that would silently never appear in the library.
_ABS_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".download")


def _truncate(text: str, max_length: int, max_bytes: int) -> str:
    """Cut to at most ``max_length`` characters and ``max_bytes`` UTF-8 bytes,
    keeping a short extension so a truncated ``.m4b`` still plays."""
    if len(text) <= max_length and len(text.encode("utf-8")) <= max_bytes:
        return text
    match = _EXTENSION.search(text)
    extension = match.group(0) if match and match.start() > 0 else ""
    stem = text[: len(text) - len(extension)]
    room_chars = max(1, max_length - len(extension))
    room_bytes = max(1, max_bytes - len(extension.encode("utf-8")))
    stem = stem[:room_chars]
    while len(stem.encode("utf-8")) > room_bytes:
        stem = stem[:-1]
    return stem.rstrip(" .") + extension


def sanitize_component(name: str, *, max_length: int = MAX_COMPONENT_LENGTH) -> str:
    """One folder or file name that is valid on Windows, POSIX and Audiobookshelf.

    * Unicode NFC, so the same title from two sources (macOS writes NFD) is one folder.
    * ``<>:"/\\|?*`` and control characters removed; runs of white space become one space.
    * Leading and trailing dots and spaces removed: Windows drops trailing ones (two
      names would then collide) and a leading dot hides the folder from ABS's scanner.
    * Windows device names (``CON``, ``nul.txt``, ``COM1``...) get a ``_`` suffix on
      their base name: Windows opens the device instead of the file.
    * Capped at ``max_length`` characters and 240 UTF-8 bytes, keeping the extension.
    * Nothing left -> ``_``.
    """
    text = unicodedata.normalize("NFC", name)
    text = _SPACES.sub(" ", text)  # tabs and newlines become spaces, not nothing
    text = _SPACES.sub(" ", _ILLEGAL.sub("", text)).strip(" .")
    if text.lower().endswith(_ABS_IGNORED_SUFFIXES):
        text += "_"
    text = _truncate(text, max_length, MAX_COMPONENT_BYTES).strip(" .")
    base = text.split(".", 1)[0].rstrip(" ")
    if base.upper() in _RESERVED:
        text = base + "_" + text[len(base) :]
    return text or "_"


def _is_blank(piece: str) -> bool:
    """True when sanitising would leave nothing of ``piece`` (``...``, ``?``, ``  ``)."""
    return not _SPACES.sub(" ", _ILLEGAL.sub("", piece)).strip(" .")


def path_components(path_parts: str | Iterable[str]) -> list[str]:
    r"""The components of a torrent path as :func:`safe_relative` sees them, unsanitised.

    Split on ``/`` and ``\``; ``..``, ``.``, empty components (so a leading root) and a
    leading drive letter are dropped. Empty when nothing is left.
    """
    given = [path_parts] if isinstance(path_parts, str) else path_parts
    pieces = [
        piece for part in given for piece in _SEPARATORS.split(part) if piece not in ("", ".", "..")
    ]
    if pieces and _DRIVE_PREFIX.match(pieces[0]):
        pieces[0] = pieces[0][2:]
        if not pieces[0]:
            pieces.pop(0)
    return pieces


def safe_relative(path_parts: str | Iterable[str]) -> PurePosixPath:
    r"""A relative path that cannot leave the folder it is joined to.

    ``path_parts`` is a torrent's path, either as one string (``"Dune/CD1/01.mp3"``,
    backslashes count as separators too) or as its list of components (the ``path``
    list of a .torrent). ``..``, ``.``, empty components, a leading root, drive letter
    or UNC prefix are dropped, then each component is sanitised, so
    ``../../x.mp3`` -> ``x.mp3`` and ``C:\Windows\x.mp3`` -> ``Windows/x.mp3``.
    Raises ValueError when nothing usable is left.
    """
    given = [path_parts] if isinstance(path_parts, str) else list(path_parts)
    pieces = path_components(given)
    cleaned: list[str] = []
    for index, piece in enumerate(pieces):
        if _is_blank(piece) and index < len(pieces) - 1:
            continue  # only dots, spaces or forbidden characters: not a real folder
        cleaned.append(sanitize_component(piece))
    if not cleaned:
        raise ValueError(f"no usable path component in {given!r}")
    return PurePosixPath(*cleaned)
