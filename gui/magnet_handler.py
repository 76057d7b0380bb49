"""Make the desktop open ``magnet:`` links with Earmark, per user and without admin rights.

The link then arrives as a command-line argument of a new Earmark process, which hands it to
the running one (``gui.single_instance``); from there it takes the same path as a drop.

* Windows: ``HKCU\\Software\\Classes\\magnet``, the layout Microsoft documents for a URI
  scheme ("Registering an Application to a URI Scheme") and Transmission Remote GUI uses. Every
  part of the command is quoted: a magnet contains ``&``. Windows 10/11 may still prefer a
  handler the user picked in Settings -> Default apps; only the user can change that.
* Linux and BSD desktops: a ``.desktop`` file in ``$XDG_DATA_HOME/applications`` declaring
  ``x-scheme-handler/magnet``, made the default with ``xdg-mime``.
* macOS registers URL schemes in the app bundle's Info.plist, not at run time: no registrar.

No Qt here, so the logic is tested on any platform with a fake registry and a fake runner.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

from gui.settings import write_atomically

__all__ = [
    "DESKTOP_FILE",
    "LinuxMagnetRegistrar",
    "MagnetRegistrar",
    "RegistrationError",
    "RegistryWriter",
    "RunResult",
    "WinRegWriter",
    "WindowsMagnetRegistrar",
    "command_for_current_process",
    "desktop_exec",
    "registrar_for_platform",
    "run_command",
    "windows_command_line",
]

MAGNET_KEY = r"Software\Classes\magnet"
DESKTOP_FILE = "earmark-magnet.desktop"
MAGNET_MIME = "x-scheme-handler/magnet"


class RegistrationError(Exception):
    """Registering or unregistering failed; the message says what to do about it."""


class MagnetRegistrar(Protocol):
    """What a settings page needs to offer "Open magnet links with Earmark"."""

    def is_registered(self) -> bool:
        """True when magnet links currently open *this* Earmark (same command)."""
        ...

    def register(self) -> None:
        """Make Earmark the user's magnet handler; RegistrationError when that failed."""
        ...

    def unregister(self) -> None:
        """Undo ``register``; leaves another program's registration alone."""
        ...

    def describe(self) -> str:
        """One line for the settings page: where the registration lives and what it runs."""
        ...


def command_for_current_process() -> list[str]:
    """The command that starts this Earmark again (a frozen build is its own executable)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    interpreter = Path(sys.executable)
    windowless = interpreter.with_name("pythonw.exe")
    if sys.platform == "win32" and windowless.exists():
        interpreter = windowless  # no console flashing up at every magnet click
    return [str(interpreter), "-m", "gui"]


# -- Windows --------------------------------------------------------------------------------


class RegistryWriter(Protocol):
    """The few registry operations needed, on paths relative to ``HKEY_CURRENT_USER``.

    ``name`` ``""`` is a key's ``(Default)`` value.
    """

    def set_value(self, path: str, name: str, value: str) -> None: ...

    def get_value(self, path: str, name: str) -> str | None: ...

    def delete_tree(self, path: str) -> None: ...


class WinRegWriter:
    """``RegistryWriter`` on the real registry (``winreg``, Windows only)."""

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")

    def set_value(self, path: str, name: str, value: str) -> None:
        if sys.platform == "win32":
            import winreg

            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_WRITE) as key:
                winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def get_value(self, path: str, name: str) -> str | None:
        if sys.platform == "win32":
            import winreg

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path) as key:
                    value, kind = winreg.QueryValueEx(key, name)
            except FileNotFoundError:
                return None
            if kind in (winreg.REG_SZ, winreg.REG_EXPAND_SZ) and isinstance(value, str):
                return value
        return None

    def delete_tree(self, path: str) -> None:
        if sys.platform == "win32":
            import winreg

            # winreg.DeleteKey refuses keys with subkeys: remove the leaves first.
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path) as key:
                    children: list[str] = []
                    with contextlib.suppress(OSError):  # OSError ends the enumeration
                        for index in range(1024):
                            children.append(winreg.EnumKey(key, index))
            except FileNotFoundError:
                return
            for child in children:
                self.delete_tree(f"{path}\\{child}")
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteKey(winreg.HKEY_CURRENT_USER, path)


def windows_command_line(command: Sequence[str]) -> str:
    """``"exe" "arg" ... "%1"`` with every part quoted, as Explorer needs for a URL handler.

    Arguments after the program follow the CommandLineToArgvW rules (backslashes double only
    before a quote). The program itself cannot be escaped that way, and Windows paths cannot
    contain ``"`` anyway.
    """
    if not command:
        raise ValueError("empty command")
    program, *args = command
    if '"' in program:
        raise ValueError(f"a Windows program path cannot contain a quote: {program!r}")
    parts = [f'"{program}"', *(_quote_windows_arg(arg) for arg in args), '"%1"']
    return " ".join(parts)


def _quote_windows_arg(arg: str) -> str:
    out: list[str] = []
    backslashes = 0
    for char in arg:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + char)
        backslashes = 0
    out.append("\\" * (2 * backslashes))  # before the closing quote
    return '"' + "".join(out) + '"'


class WindowsMagnetRegistrar:
    """Per-user ``magnet:`` handler under ``HKCU\\Software\\Classes\\magnet``."""

    def __init__(
        self,
        registry: RegistryWriter,
        command: Sequence[str],
        *,
        on_changed: Callable[[], None] | None = None,
    ) -> None:
        self._registry = registry
        self._command = list(command)
        self._command_line = windows_command_line(self._command)
        self._on_changed = on_changed

    def is_registered(self) -> bool:
        current = self._registry.get_value(rf"{MAGNET_KEY}\shell\open\command", "")
        return current is not None and current.strip() == self._command_line

    def register(self) -> None:
        registry = self._registry
        try:
            registry.set_value(MAGNET_KEY, "", "URL:Magnet link")
            registry.set_value(MAGNET_KEY, "URL Protocol", "")
            registry.set_value(MAGNET_KEY, "Content Type", "application/x-magnet")
            registry.set_value(rf"{MAGNET_KEY}\DefaultIcon", "", f'"{self._command[0]}",0')
            registry.set_value(rf"{MAGNET_KEY}\shell", "", "open")
            registry.set_value(rf"{MAGNET_KEY}\shell\open\command", "", self._command_line)
        except OSError as exc:
            raise RegistrationError(f"cannot write HKCU\\{MAGNET_KEY}: {exc}") from exc
        self._changed()

    def unregister(self) -> None:
        if not self.is_registered():
            return  # another program's handler (or none): not ours to remove
        try:
            self._registry.delete_tree(MAGNET_KEY)
        except OSError as exc:
            raise RegistrationError(f"cannot remove HKCU\\{MAGNET_KEY}: {exc}") from exc
        self._changed()

    def describe(self) -> str:
        return f"HKEY_CURRENT_USER\\{MAGNET_KEY} runs {self._command_line}"

    def _changed(self) -> None:
        if self._on_changed is not None:
            self._on_changed()


def _notify_shell_associations_changed() -> None:
    """Tell Explorer to reread associations (what installers do after such a change)."""
    if sys.platform == "win32":
        import ctypes

        shcne_assocchanged, shcnf_idlist = 0x08000000, 0
        with contextlib.suppress(AttributeError, OSError):
            ctypes.windll.shell32.SHChangeNotify(shcne_assocchanged, shcnf_idlist, None, None)


# -- Linux and other freedesktop systems -----------------------------------------------------


class RunResult(NamedTuple):
    """A finished command: its exit status and standard output."""

    returncode: int
    output: str


#: Exit status used when the program does not exist, as a shell reports it.
NOT_FOUND = 127

# The characters that force quoting in an Exec argument (Desktop Entry Specification, "The
# Exec key"), and those escaped with a backslash inside the quotes.
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_EXEC_QUOTE_ESCAPED = frozenset('"`$\\')


def desktop_exec(command: Sequence[str]) -> str:
    """The ``Exec=`` value that runs ``command`` with the link appended (``%u``).

    Two layers, per the spec: an argument with a reserved character is double-quoted with
    ``"`$\\`` backslash-escaped and ``%`` doubled; then the whole value gets the string
    escapes of the file format (``\\`` -> ``\\\\``, newline -> ``\\n``...), which readers undo
    first. So a literal ``$`` ends up as ``\\\\$`` and a backslash as four backslashes.
    """
    if not command:
        raise ValueError("empty command")
    words = [_quote_exec_arg(arg) for arg in command]
    words.append("%u")
    return _escape_desktop_string(" ".join(words))


def _quote_exec_arg(arg: str) -> str:
    if arg and not _EXEC_RESERVED.intersection(arg):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in _EXEC_QUOTE_ESCAPED else c for c in arg) + '"'
    return quoted.replace("%", "%%")  # a lone % would start a field code


def _escape_desktop_string(value: str) -> str:
    escapes = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(escapes.get(char, char) for char in value)


def run_command(argv: list[str]) -> RunResult:
    """Run a short helper program; a missing program is status 127, never an exception."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        return RunResult(NOT_FOUND, "")
    except (OSError, subprocess.SubprocessError) as exc:  # not executable, timed out
        return RunResult(1, str(exc))
    return RunResult(done.returncode, done.stdout)


def _xdg_home(variable: str, default: str) -> Path:
    value = os.environ.get(variable, "")
    # The XDG spec says relative paths in these variables are invalid and must be ignored.
    return Path(value) if os.path.isabs(value) else Path.home() / default


def xdg_applications_dir() -> Path:
    return _xdg_home("XDG_DATA_HOME", ".local/share") / "applications"


def xdg_mimeapps_list() -> Path:
    """Where ``xdg-mime default`` records the user's choice (checked with xdg-utils 1.1.3)."""
    return _xdg_home("XDG_CONFIG_HOME", ".config") / "mimeapps.list"


class LinuxMagnetRegistrar:
    """``magnet:`` handler through a desktop entry and ``xdg-mime``.

    ``runner`` runs a command and returns its exit status and output (``run_command``); the
    output is needed for ``xdg-mime query``.
    """

    def __init__(
        self,
        applications_dir: Path,
        runner: Callable[[list[str]], RunResult],
        command: Sequence[str] | None = None,
        *,
        mimeapps_list: Path | None = None,
    ) -> None:
        self._dir = applications_dir
        self._run = runner
        self._command = list(command) if command is not None else command_for_current_process()
        self._mimeapps = mimeapps_list if mimeapps_list is not None else xdg_mimeapps_list()

    @property
    def desktop_path(self) -> Path:
        return self._dir / DESKTOP_FILE

    def desktop_entry(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Earmark\n"
            "Comment=Add magnet links and .torrent files to qBittorrent\n"
            f"Exec={desktop_exec(self._command)}\n"
            f"MimeType={MAGNET_MIME};application/x-bittorrent;\n"
            "NoDisplay=true\n"
            "Terminal=false\n"
        )

    def is_registered(self) -> bool:
        try:
            ours = self.desktop_path.read_text(encoding="utf-8") == self.desktop_entry()
        except (OSError, UnicodeDecodeError):
            return False
        if not ours:  # missing, or written by another Earmark (another path or venv)
            return False
        result = self._run(["xdg-mime", "query", "default", MAGNET_MIME])
        return result.returncode == 0 and result.output.strip() == DESKTOP_FILE

    def register(self) -> None:
        try:
            write_atomically(self.desktop_path, self.desktop_entry())
        except OSError as exc:
            raise RegistrationError(f"cannot write {self.desktop_path}: {exc}") from exc
        self._update_database()
        result = self._run(["xdg-mime", "default", DESKTOP_FILE, MAGNET_MIME])
        if result.returncode == NOT_FOUND:
            raise RegistrationError(
                "xdg-mime is not installed (package xdg-utils); the desktop entry "
                f"{self.desktop_path} is written but magnet links are not yet routed to it"
            )
        if result.returncode != 0:
            raise RegistrationError(
                f"xdg-mime default failed with status {result.returncode}: {result.output.strip()}"
            )

    def unregister(self) -> None:
        try:
            self.desktop_path.unlink(missing_ok=True)
        except OSError as exc:
            raise RegistrationError(f"cannot remove {self.desktop_path}: {exc}") from exc
        try:
            _forget_in_mimeapps(self._mimeapps, DESKTOP_FILE)
        except OSError as exc:
            raise RegistrationError(f"cannot update {self._mimeapps}: {exc}") from exc
        self._update_database()

    def describe(self) -> str:
        return f"{self.desktop_path} (x-scheme-handler/magnet) runs {' '.join(self._command)}"

    def _update_database(self) -> None:
        # Optional: only some desktops keep a mimeinfo.cache; a missing tool is fine.
        self._run(["update-desktop-database", str(self._dir)])


_ASSOCIATION_GROUPS = ("[Default Applications]", "[Added Associations]")


def _forget_in_mimeapps(path: Path, desktop_id: str) -> None:
    """Remove ``desktop_id`` from the association groups of a mimeapps.list, nothing else.

    ``xdg-mime default`` wrote it there; left behind it would point at a deleted entry.
    Every other line, comment and group is kept as it was.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        return
    out: list[str] = []
    group = ""
    changed = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            group = stripped
        elif group in _ASSOCIATION_GROUPS and "=" in line and not stripped.startswith("#"):
            key, _, value = line.rstrip("\r\n").partition("=")
            ids = [item for item in value.split(";") if item.strip()]
            kept = [item for item in ids if item.strip() != desktop_id]
            if len(kept) != len(ids):
                changed = True
                if kept:
                    out.append(f"{key}={';'.join(kept)};\n")
                continue
        out.append(line)
    if changed:
        write_atomically(path, "".join(out))


def registrar_for_platform() -> MagnetRegistrar | None:
    """The registrar for this system, or None where registration happens at install time."""
    command = command_for_current_process()
    if sys.platform == "win32":
        return WindowsMagnetRegistrar(
            WinRegWriter(), command, on_changed=_notify_shell_associations_changed
        )
    if sys.platform == "darwin":
        return None
    return LinuxMagnetRegistrar(xdg_applications_dir(), run_command, command)
