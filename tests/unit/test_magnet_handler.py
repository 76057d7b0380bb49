"""Magnet-link registration, checked against independent readers of what the OS parses.

Windows: a dict-backed registry, and a reader of the command line by CommandLineToArgvW's
rules. Linux: a fake command runner that behaves like xdg-mime, and a reader of the Exec key by
the Desktop Entry Specification (string escapes first, then quoting).
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest

from gui import magnet_handler as mh
from gui.magnet_handler import (
    DESKTOP_FILE,
    LinuxMagnetRegistrar,
    RegistrationError,
    RunResult,
    WindowsMagnetRegistrar,
    WinRegWriter,
    command_for_current_process,
    desktop_exec,
    registrar_for_platform,
    run_command,
    windows_command_line,
)

MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=Hörbuch & Co&tr=x"
KEY = r"Software\Classes\magnet"
COMMAND_KEY = KEY + r"\shell\open\command"


# -- Windows ----------------------------------------------------------------------------------


class FakeRegistry:
    """HKCU as a dict; key paths and value names are case-insensitive, as in the registry."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.fail: OSError | None = None

    def set_value(self, path: str, name: str, value: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.values[(path.lower(), name.lower())] = value

    def get_value(self, path: str, name: str) -> str | None:
        return self.values.get((path.lower(), name.lower()))

    def delete_tree(self, path: str) -> None:
        if self.fail is not None:
            raise self.fail
        prefix = path.lower()
        for key in list(self.values):
            if key[0] == prefix or key[0].startswith(prefix + "\\"):
                del self.values[key]


def windows_argv(command_line: str) -> list[str]:
    """Split a command line as Windows does: the program up to its closing quote, then the
    arguments by CommandLineToArgvW's backslash rules."""
    assert command_line.startswith('"')
    end = command_line.index('"', 1)
    argv = [command_line[1:end]]
    rest = command_line[end + 1 :]
    i, current, in_quotes, started = 0, "", False, False
    while i < len(rest):
        char = rest[i]
        if char == "\\":
            run = len(rest[i:]) - len(rest[i:].lstrip("\\"))
            if i + run < len(rest) and rest[i + run] == '"':
                current += "\\" * (run // 2)
                if run % 2:
                    current += '"'
                    i += run + 1
                else:
                    i += run
            else:
                current += "\\" * run
                i += run
            started = True
        elif char == '"':
            in_quotes = not in_quotes
            started = True
            i += 1
        elif char in " \t" and not in_quotes:
            if started:
                argv.append(current)
            current, started = "", False
            i += 1
        else:
            current += char
            started = True
            i += 1
    if started:
        argv.append(current)
    return argv


def test_windows_register_writes_the_documented_layout() -> None:
    registry = FakeRegistry()
    exe = r"C:\Program Files\Earmark\earmark.exe"
    WindowsMagnetRegistrar(registry, [exe]).register()
    assert registry.get_value(KEY, "") == "URL:Magnet link"
    assert registry.get_value(KEY, "URL Protocol") == ""
    assert registry.get_value(KEY, "Content Type") == "application/x-magnet"
    assert registry.get_value(KEY + r"\DefaultIcon", "") == f'"{exe}",0'
    assert registry.get_value(KEY + r"\shell", "") == "open"
    assert registry.get_value(COMMAND_KEY, "") == f'"{exe}" "%1"'


def test_windows_command_quotes_every_part_and_survives_the_parser() -> None:
    command = [
        r"C:\Users\Jo Doe\My Apps\venv\Scripts\python.exe",
        "-m",
        "gui",
        'say "hi" & bye',
        'a\\"b\\\\"c',  # backslashes right before a quote
        "C:\\dir with space\\",
    ]
    line = windows_command_line(command)
    assert line.startswith(r'"C:\Users\Jo Doe\My Apps\venv\Scripts\python.exe" "-m" "gui" ')
    assert line.endswith(' "%1"')
    # What Explorer runs after putting the link in place of %1:
    assert windows_argv(line.replace("%1", MAGNET)) == [*command, MAGNET]


def test_windows_program_path_with_a_quote_is_refused() -> None:
    with pytest.raises(ValueError):
        windows_command_line(['C:\\a"b.exe'])


def test_windows_is_registered_compares_the_command() -> None:
    registry = FakeRegistry()
    ours = WindowsMagnetRegistrar(registry, [r"C:\Earmark\earmark.exe"])
    moved = WindowsMagnetRegistrar(registry, [r"D:\Apps\Earmark\earmark.exe"])
    assert not ours.is_registered()
    ours.register()
    assert ours.is_registered()
    assert not moved.is_registered()  # an older install elsewhere: offer to re-register
    registry.set_value(COMMAND_KEY, "", r'"C:\qBittorrent\qbittorrent.exe" "%1"')
    assert not ours.is_registered()


def test_windows_unregister_removes_only_our_key() -> None:
    registry = FakeRegistry()
    registry.set_value(r"Software\Classes\.torrent", "", "qBittorrent.File.Torrent")
    registrar = WindowsMagnetRegistrar(registry, [r"C:\Earmark\earmark.exe"])
    registrar.register()
    registrar.unregister()
    assert not registrar.is_registered()
    assert all(not path.startswith(KEY.lower()) for path, _ in registry.values)
    assert registry.get_value(r"Software\Classes\.torrent", "") == "qBittorrent.File.Torrent"


def test_windows_unregister_leaves_another_programs_handler() -> None:
    registry = FakeRegistry()
    theirs = r'"C:\qBittorrent\qbittorrent.exe" "%1"'
    registry.set_value(KEY, "URL Protocol", "")
    registry.set_value(COMMAND_KEY, "", theirs)
    WindowsMagnetRegistrar(registry, [r"C:\Earmark\earmark.exe"]).unregister()
    assert registry.get_value(COMMAND_KEY, "") == theirs


def test_windows_changes_notify_the_shell_and_errors_are_explained() -> None:
    registry = FakeRegistry()
    notified: list[str] = []
    registrar = WindowsMagnetRegistrar(
        registry, [r"C:\Earmark\earmark.exe"], on_changed=lambda: notified.append("x")
    )
    registrar.register()
    registrar.unregister()
    assert notified == ["x", "x"]
    registry.fail = PermissionError("access denied")
    with pytest.raises(RegistrationError, match="HKCU"):
        registrar.register()
    assert "HKEY_CURRENT_USER\\Software\\Classes\\magnet" in registrar.describe()


def test_winreg_writer_exists_only_on_windows() -> None:
    if sys.platform == "win32":
        WinRegWriter()
    else:
        with pytest.raises(OSError):
            WinRegWriter()


# -- Linux ------------------------------------------------------------------------------------


class FakeXdg:
    """Runs commands as xdg-mime and update-desktop-database would, and records them."""

    def __init__(self, *, update_db_installed: bool = True, xdg_mime_status: int = 0) -> None:
        self.commands: list[list[str]] = []
        self.default: str | None = None
        self.update_db_installed = update_db_installed
        self.xdg_mime_status = xdg_mime_status

    def __call__(self, argv: list[str]) -> RunResult:
        self.commands.append(argv)
        if argv[0] == "update-desktop-database":
            return RunResult(0 if self.update_db_installed else 127, "")
        if argv[:2] == ["xdg-mime", "default"]:
            if self.xdg_mime_status == 0:
                self.default = argv[2]
            return RunResult(self.xdg_mime_status, "")
        if argv[:3] == ["xdg-mime", "query", "default"]:
            return RunResult(0, f"{self.default}\n" if self.default else "")
        raise AssertionError(f"unexpected command {argv}")


def unescape_desktop_string(value: str) -> str:
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    out, i = "", 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            out += escapes[value[i + 1]]
            i += 2
        else:
            out += value[i]
            i += 1
    return out


def read_exec(value: str) -> list[str]:
    """The argv an Exec value stands for (field codes kept), read by the spec's rules."""
    text = unescape_desktop_string(value)
    argv: list[str] = []
    current: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            current = current or ""
            i += 1
            while text[i] != '"':
                if text[i] == "\\" and text[i + 1] in '"`$\\':
                    current += text[i + 1]
                    i += 2
                else:
                    assert text[i] not in '`$\\"', f"unescaped {text[i]!r} in quotes"
                    current += text[i]
                    i += 1
            i += 1
        elif char == " ":
            if current is not None:
                argv.append(current)
            current = None
            i += 1
        else:
            assert char not in "\"'\\><~|&;$*?#()`\t\n", f"reserved {char!r} outside quotes"
            current = (current or "") + char
            i += 1
    if current is not None:
        argv.append(current)
    return [arg if arg == "%u" else arg.replace("%%", "%") for arg in argv]


def desktop_keys(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


NASTY_COMMAND = [
    '/home/jo doe/My "Apps"/$HOME/`x`/back\\slash/100%/venv/bin/python3',
    "-m",
    "gui",
]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["/usr/bin/earmark"], "/usr/bin/earmark %u"),
        (["/opt/My Apps/earmark"], '"/opt/My Apps/earmark" %u'),
        (["/opt/a$b/earmark"], '"/opt/a\\\\$b/earmark" %u'),
        (["/opt/a\\b/earmark"], '"/opt/a\\\\\\\\b/earmark" %u'),
        (["/opt/50%/earmark"], "/opt/50%%/earmark %u"),
        (["/usr/bin/python3", "-m", "gui"], "/usr/bin/python3 -m gui %u"),
    ],
)
def test_desktop_exec_follows_the_spec(command: list[str], expected: str) -> None:
    assert desktop_exec(command) == expected
    assert read_exec(expected) == [*command, "%u"]


def test_register_writes_the_desktop_entry_and_sets_the_default(tmp_path: Path) -> None:
    apps = tmp_path / "data" / "applications"
    xdg = FakeXdg()
    registrar = LinuxMagnetRegistrar(
        apps, xdg, NASTY_COMMAND, mimeapps_list=tmp_path / "mimeapps.list"
    )
    assert not registrar.is_registered()
    registrar.register()

    keys = desktop_keys(apps / DESKTOP_FILE)
    assert keys["Type"] == "Application"
    assert keys["Name"] == "Earmark"
    assert keys["MimeType"] == "x-scheme-handler/magnet;application/x-bittorrent;"
    assert keys["NoDisplay"] == "true"
    assert keys["Terminal"] == "false"
    assert read_exec(keys["Exec"]) == [*NASTY_COMMAND, "%u"]
    assert xdg.commands[-2:] == [
        ["update-desktop-database", str(apps)],
        ["xdg-mime", "default", DESKTOP_FILE, "x-scheme-handler/magnet"],
    ]
    assert registrar.is_registered()
    assert xdg.commands[-1] == ["xdg-mime", "query", "default", "x-scheme-handler/magnet"]


def test_missing_update_desktop_database_is_fine(tmp_path: Path) -> None:
    xdg = FakeXdg(update_db_installed=False)
    registrar = LinuxMagnetRegistrar(tmp_path, xdg, ["/usr/bin/earmark"])
    registrar.register()
    assert registrar.is_registered()


def test_is_registered_false_when_another_handler_is_default(tmp_path: Path) -> None:
    xdg = FakeXdg()
    registrar = LinuxMagnetRegistrar(tmp_path, xdg, ["/usr/bin/earmark"])
    registrar.register()
    xdg.default = "org.qbittorrent.qBittorrent.desktop"
    assert not registrar.is_registered()


def test_is_registered_false_when_the_entry_runs_another_install(tmp_path: Path) -> None:
    xdg = FakeXdg()
    LinuxMagnetRegistrar(tmp_path, xdg, ["/old/venv/bin/python", "-m", "gui"]).register()
    current = LinuxMagnetRegistrar(tmp_path, xdg, ["/new/venv/bin/python", "-m", "gui"])
    assert not current.is_registered()
    current.register()
    assert current.is_registered()


@pytest.mark.parametrize(("status", "message"), [(127, "xdg-utils"), (4, "status 4")])
def test_xdg_mime_failure_is_explained(tmp_path: Path, status: int, message: str) -> None:
    registrar = LinuxMagnetRegistrar(
        tmp_path, FakeXdg(xdg_mime_status=status), ["/usr/bin/earmark"]
    )
    with pytest.raises(RegistrationError, match=message):
        registrar.register()
    assert (tmp_path / DESKTOP_FILE).exists()
    assert not registrar.is_registered()


def test_unregister_removes_the_entry_and_our_associations_only(tmp_path: Path) -> None:
    apps = tmp_path / "applications"
    mimeapps = tmp_path / "mimeapps.list"
    xdg = FakeXdg()
    registrar = LinuxMagnetRegistrar(apps, xdg, ["/usr/bin/earmark"], mimeapps_list=mimeapps)
    registrar.register()
    mimeapps.write_text(
        "[Default Applications]\n"
        "text/html=firefox.desktop\n"
        "# x-scheme-handler/magnet=earmark-magnet.desktop\n"
        "x-scheme-handler/magnet=earmark-magnet.desktop\n"
        "application/x-bittorrent=qbittorrent.desktop;earmark-magnet.desktop;\n"
        "\n"
        "[Added Associations]\n"
        "x-scheme-handler/magnet=earmark-magnet.desktop;\n"
        "\n"
        "[Removed Associations]\n"
        "text/plain=earmark-magnet.desktop;\n",
        encoding="utf-8",
    )
    registrar.unregister()
    xdg.default = None  # what xdg-mime answers once mimeapps.list no longer names us

    assert not (apps / DESKTOP_FILE).exists()
    assert not registrar.is_registered()
    assert mimeapps.read_text(encoding="utf-8") == (
        "[Default Applications]\n"
        "text/html=firefox.desktop\n"
        "# x-scheme-handler/magnet=earmark-magnet.desktop\n"
        "application/x-bittorrent=qbittorrent.desktop;\n"
        "\n"
        "[Added Associations]\n"
        "\n"
        "[Removed Associations]\n"
        "text/plain=earmark-magnet.desktop;\n"
    )
    assert xdg.commands[-1] == ["update-desktop-database", str(apps)]


def test_unregister_when_nothing_is_registered(tmp_path: Path) -> None:
    registrar = LinuxMagnetRegistrar(
        tmp_path / "none", FakeXdg(), ["/usr/bin/earmark"], mimeapps_list=tmp_path / "m.list"
    )
    registrar.unregister()
    assert not registrar.is_registered()
    assert not (tmp_path / "m.list").exists()


def test_applications_dir_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path.home() reads HOME on POSIX and USERPROFILE on Windows
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert mh.xdg_applications_dir() == tmp_path / "data" / "applications"
    assert mh.xdg_mimeapps_list() == tmp_path / "config" / "mimeapps.list"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/invalid")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert mh.xdg_applications_dir() == tmp_path / "home" / ".local/share/applications"
    assert mh.xdg_mimeapps_list() == tmp_path / "home" / ".config/mimeapps.list"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="freedesktop registrar")
def test_registrar_for_platform_on_linux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    registrar = registrar_for_platform()
    assert isinstance(registrar, LinuxMagnetRegistrar)
    assert registrar.desktop_path == tmp_path / "applications" / DESKTOP_FILE
    assert read_exec(desktop_exec(command_for_current_process()))[:-1] == [
        sys.executable,
        "-m",
        "gui",
    ]


def test_command_for_current_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An interpreter of our own, so the answer does not depend on the one running the tests
    # (on Windows that is python.exe with a pythonw.exe beside it).
    python = tmp_path / "python.exe"
    python.touch()
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sys, "platform", "linux")
    (tmp_path / "pythonw.exe").touch()
    assert command_for_current_process() == [str(python), "-m", "gui"]
    monkeypatch.setattr(sys, "platform", "win32")
    # Windows: the windowless pythonw.exe beside it, so no console flashes up per click ...
    assert command_for_current_process() == [str(tmp_path / "pythonw.exe"), "-m", "gui"]
    (tmp_path / "pythonw.exe").unlink()
    # ... and python.exe when there is none (an embeddable or trimmed install).
    assert command_for_current_process() == [str(python), "-m", "gui"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert command_for_current_process() == [str(python)]


def test_run_command_reports_status_and_output_and_missing_programs() -> None:
    assert run_command([sys.executable, "-c", "print('hi'); raise SystemExit(3)"]) == RunResult(
        3, "hi\n"
    )
    assert run_command(["earmark-no-such-program-xyz"]).returncode == 127
