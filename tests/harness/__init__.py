"""Test harness for real-server tests: throw-away loopback-only services and media.

- ``wait``: ``wait_until`` / ``async_wait_until`` (deadlines, never bare sleeps), ``free_port``
- ``qbt``: ``start_qbittorrent``, ``QbtInstance``, ``QbtFactory``, ``QbtAdmin`` (sync API client)
- ``swarm``: ``make_swarm`` -- a seeder and a leecher for real loopback transfers
- ``audiobook``: ``make_audiobook`` (ffmpeg), ``build_torrent``, ``info_hash``
- ``tls``: ``make_self_signed``; ``nginx``: ``start_nginx``; ``forwarder``: ``PortForwarder``
- ``servers``: ``NotQbittorrentServer``; ``net``: sockets a process has bound; ``tools``
"""
