"""How the qBittorrent connection is doing, in a module light enough for the first paint."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Link(StrEnum):
    NOT_CONFIGURED = "not_configured"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"  # retried on its own, with back-off
    REFUSED = "refused"  # needs the user: credentials, ban, Host/CSRF, cookie


@dataclass(frozen=True)
class Status:
    link: Link
    message: str = ""
    version: str | None = None
    download_speed: int = 0
    upload_speed: int = 0
