"""PyInstaller runtime hook (runs in the frozen app before gui is imported; Windows only).

1. The explicit AppUserModelID ties the process's taskbar button and tray toasts to the
   Start-menu shortcut the installer creates with the same ID (packaging/earmark.iss), so
   Windows groups them and names them "Earmark" rather than "Python" or the exe path. It must
   be set before the first window exists, and only in the frozen app: a source run is
   python.exe, which must not claim the ID.
2. The windowed Earmark.exe has no console, so sys.stdout/sys.stderr are None and a CLI
   command started through it (`Earmark.exe doctor --json`) would crash on its first write.
   When started from a console, attach to it so the output shows there (as Picard's
   win-startup-hook does); otherwise write to the null device. earmark-cli.exe, a console exe,
   has real streams and is left alone.
"""

import contextlib
import os
import sys

APP_USER_MODEL_ID = "Earmark.Earmark"

if sys.platform == "win32":
    import ctypes

    # AttributeError/OSError: a restricted shell; grouping then falls back to the exe path.
    with contextlib.suppress(AttributeError, OSError):
        ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(APP_USER_MODEL_ID)

    if sys.stdout is None or sys.stderr is None:
        attached = False
        try:
            attached = bool(ctypes.windll.kernel32.AttachConsole(-1))  # ATTACH_PARENT_PROCESS
        except (AttributeError, OSError):
            attached = False
        target = "CONOUT$" if attached else os.devnull
        try:
            stream = open(target, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError:
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        if sys.stdout is None:
            sys.stdout = stream
        if sys.stderr is None:
            sys.stderr = stream
