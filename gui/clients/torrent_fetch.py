"""Download what an http(s) torrent link points at, before qBittorrent sees it.

Earmark fetches the link itself rather than handing the URL to qBittorrent because it
needs the info-hash to follow the torrent (qBittorrent 4.x answers a URL add with a bare
"Ok."), and because an indexer link (a Prowlarr download URL) may answer with a redirect
to a `magnet:` URI, which only the fetcher sees.
"""

from __future__ import annotations

from yarl import URL

from gui.clients.errors import HttpStatusError, ProtocolError
from gui.clients.http import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    TRANSPORT_ERRORS,
    HttpOptions,
    decode_text,
    display_url,
    make_session,
    read_capped,
    redirect_refusal,
    transport_error,
)
from gui.core.redact import REDACTOR
from gui.core.torrents import (
    MAX_TORRENT_BYTES,
    Magnet,
    TorrentFile,
    TorrentInputError,
    parse_magnet,
    parse_torrent,
)

SERVICE = "torrent download"
#: An error page is shown only by its start; more is not read.
MAX_ERROR_BYTES = 64 * 1024


async def fetch_torrent(url: str, *, max_bytes: int = MAX_TORRENT_BYTES) -> Magnet | TorrentFile:
    """Follow redirects by hand (aiohttp refuses a redirect to `magnet:`) and parse the result.

    Each redirect is checked by `redirect_refusal` (http(s) only; not into loopback or
    link-local addresses other than the link's own host).
    """
    http = make_session(HttpOptions())
    try:
        # a stored or printed link has {api-key} in it
        origin = current = URL(REDACTOR.reveal(url))
        for _ in range(MAX_REDIRECTS + 1):
            shown = display_url(current)
            try:
                async with http.get(current, allow_redirects=False) as response:
                    if response.status in REDIRECT_STATUSES:
                        location = response.headers.get("Location", "").strip()
                        if location.lower().startswith("magnet:"):
                            return parse_magnet(location)
                        if not location:
                            raise ProtocolError(
                                "redirect without a Location", service=SERVICE, url=shown
                            )
                        try:
                            target = current.join(URL(location))
                        except ValueError:
                            raise ProtocolError(
                                "redirects to an invalid URL", service=SERVICE, url=shown
                            ) from None
                        refusal = await redirect_refusal(origin, target)
                        if refusal:
                            raise ProtocolError(refusal, service=SERVICE, url=shown)
                        current = target
                        continue
                    if response.status != 200:
                        page = await read_capped(response, MAX_ERROR_BYTES)
                        raise HttpStatusError(
                            "the link did not serve a torrent",
                            service=SERVICE,
                            url=shown,
                            endpoint="GET",
                            status=response.status,
                            answer=decode_text(page or b"", response.charset)[:200],
                        )
                    data = await read_capped(response, max_bytes)
                    if data is None:
                        raise TorrentInputError(
                            f"{shown} serves more than {max_bytes // (1024 * 1024)} MB: "
                            "not a torrent"
                        )
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, service=SERVICE, url=shown) from exc
            try:
                return parse_torrent(data, max_bytes=max_bytes)
            except TorrentInputError as exc:
                raise TorrentInputError(f"{shown} did not serve a torrent: {exc}") from exc
        raise ProtocolError(
            f"more than {MAX_REDIRECTS} redirects", service=SERVICE, url=display_url(url)
        )
    finally:
        await http.close()
