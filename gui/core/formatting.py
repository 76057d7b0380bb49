"""Numbers as a qBittorrent user reads them: binary sizes, speeds, ETAs, ratios, dates.

Every view that shows torrents formats through here so the same byte count never reads
"1.5 GB" in one place and "1.4 GiB" in another. The rules follow qBittorrent's own
`Utils::Misc::friendlyUnit` and `userFriendlyDuration`, which users already know.
"""

from __future__ import annotations

import math
from datetime import datetime

#: qBittorrent's "no ETA" value (100 days); anything at or above it reads as infinity.
MAX_ETA = 8_640_000
#: Ratios above this (and qBittorrent's -1) read as infinity, as in qBittorrent.
MAX_RATIO = 9999.0
INFINITY = "∞"

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
# Bigger units get more decimals: "1.5 KiB" is enough, "1.46 GiB" is not "1.5 GiB".
_PRECISION = (0, 1, 1, 2, 3, 3, 3)


def human_size(size: int | float | None) -> str:
    """Bytes in binary units; negative means qBittorrent does not know (magnet, no metadata)."""
    if size is None or size < 0:
        return "Unknown"
    value = float(size)
    unit = 0
    while value >= 1024.0 and unit < len(_UNITS) - 1:
        value /= 1024.0
        unit += 1
    if unit == 0:
        return f"{int(value)} B"
    text = f"{value:.{_PRECISION[unit]}f}"
    # 1023.99 KiB would print as "1024.0 KiB": move up a unit rather than show that.
    if float(text) >= 1024.0 and unit < len(_UNITS) - 1:
        value /= 1024.0
        unit += 1
        text = f"{value:.{_PRECISION[unit]}f}"
    return f"{text} {_UNITS[unit]}"


def human_speed(bytes_per_second: int | float | None) -> str:
    return f"{human_size(bytes_per_second or 0)}/s"


def human_eta(seconds: int | float | None) -> str:
    """Seconds as qBittorrent writes a duration: "< 1m", "5m", "1h 5m", "2d 3h", "∞"."""
    if seconds is None or seconds < 0 or seconds >= MAX_ETA or math.isnan(seconds):
        return INFINITY
    seconds = int(seconds)
    if seconds == 0:
        return "0"
    if seconds < 60:
        return "< 1m"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    if days < 365:
        return f"{days}d {hours}h"
    years, days = divmod(days, 365)
    return f"{years}y {days}d"


def human_time(timestamp: int | float | None) -> str:
    """A Unix time in this computer's time zone; qBittorrent sends 0 or -1 for "never"."""
    if timestamp is None or timestamp <= 0:
        return ""
    try:
        return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


def human_ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    if ratio < 0 or ratio > MAX_RATIO or math.isinf(ratio):
        return INFINITY
    return f"{ratio:.2f}"


def human_percent(progress: float | None) -> str:
    """Progress 0..1 as qBittorrent prints it: one decimal, but a plain "100%" when done."""
    value = max(0.0, min(1.0, float(progress or 0.0))) * 100.0
    if value >= 100.0:
        return "100%"
    # Never round 99.96% up to "100.0%": a torrent that shows 100% must be complete.
    return f"{math.floor(value * 10) / 10:.1f}%"


def counted(number: int, word: str, plural: str | None = None) -> str:
    """ "1 result", "2 results": never "1 results" in a sentence a user reads."""
    return f"{number} {word if number == 1 else (plural or word + 's')}"
