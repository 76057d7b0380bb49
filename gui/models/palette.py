"""The status colours every model and view uses, so "good" is the same green everywhere.

Text colours are dark enough to read on a light row; each has a pale background for a
row or a label that carries dark text, and the three bands a light tint for bar fills.
"""

from __future__ import annotations

#: Done, connected, acceptable, added.
GOOD = "#2e7d32"
#: Failed, refused, rejected, removed.
BAD = "#c62828"
#: Waits for the user, partly complete, changed.
WARN = "#a15c00"
#: A question for the user (a metadata review): blue, apart from the amber of a problem.
INFO = "#1f5fa8"

#: Faint row (or label) backgrounds under dark text.
GOOD_BACKGROUND = "#eaf6ea"
BAD_BACKGROUND = "#fdecec"
WARN_BACKGROUND = "#fff3e0"
INFO_BACKGROUND = "#e8f1fb"

#: Light fills (a progress bar's chunk) that carry dark text.
GOOD_TINT = "#a5d6a7"
BAD_TINT = "#ef9a9a"
WARN_TINT = "#ffcc80"

__all__ = [
    "BAD",
    "BAD_BACKGROUND",
    "BAD_TINT",
    "GOOD",
    "GOOD_BACKGROUND",
    "GOOD_TINT",
    "INFO",
    "INFO_BACKGROUND",
    "WARN",
    "WARN_BACKGROUND",
    "WARN_TINT",
]
