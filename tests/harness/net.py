"""Which addresses a process has bound: proof that a server stays on loopback.

Reads /proc (Linux), so the "127.0.0.1 only" rule is checked on the real sockets
rather than trusted from the configuration.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from pathlib import Path

# TCP state 0A is LISTEN; UDP sockets have no listen state, any bound one counts.
_TCP_LISTEN = "0A"


def _decode(address: str, family: int) -> tuple[str, int]:
    """An address of /proc/net/{tcp,udp}[6] ("0100007F:1F90") as (ip, port)."""
    hex_ip, hex_port = address.split(":")
    raw = bytes.fromhex(hex_ip)
    if family == socket.AF_INET:
        ip = socket.inet_ntop(family, struct.pack("<I", struct.unpack(">I", raw)[0]))
    else:  # four little-endian 32-bit words
        words = struct.unpack(">4I", raw)
        ip = socket.inet_ntop(family, struct.pack("<4I", *words))
    return ip, int(hex_port, 16)


def bound_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, ip, port) of every listening TCP / bound UDP socket of ``pid``."""
    inodes: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found: list[tuple[str, str, int]] = []
    for proto, family in (
        ("tcp", socket.AF_INET),
        ("tcp6", socket.AF_INET6),
        ("udp", socket.AF_INET),
        ("udp6", socket.AF_INET6),
    ):
        table = Path(f"/proc/{pid}/net/{proto}")
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if inode not in inodes:
                continue
            if proto.startswith("tcp") and state != _TCP_LISTEN:
                continue
            ip, port = _decode(local, family)
            found.append((proto, ip, port))
    return found


def non_loopback(sockets: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The sockets bound to anything but a loopback address (wildcards included)."""
    return [s for s in sockets if not ipaddress.ip_address(s[1]).is_loopback]
