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
    #: From maindata's server_state (None: this qBittorrent did not say).
    free_space: int | None = None
    download_total: int = 0  # this session's bytes
    upload_total: int = 0
    download_limit: int = 0  # bytes/s, 0 for none (the alternative one while those are on)
    upload_limit: int = 0
    alternative_limits: bool = False
