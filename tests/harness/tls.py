"""Self-signed certificates for https WebUI tests (openssl CLI, like a user would)."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
from pathlib import Path

from tests.harness.tools import require_tool


def make_self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path, str]:
    """Write cert.pem/key.pem for ``host`` (SAN IP:127.0.0.1, DNS:localhost) in ``directory``.

    Returns (cert_path, key_path, fingerprint): the SHA-256 of the DER certificate as
    lowercase hex without colons, the form a pinned-certificate setting would store.
    """
    openssl = require_tool("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    if host not in ("127.0.0.1", "localhost"):
        san += f",IP:{host}" if host.replace(".", "").isdigit() else f",DNS:{host}"
    command = [
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-days", "2", "-subj", f"/CN={host}", "-addext", san,
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl req failed: {result.stderr.strip()}")
    return cert, key, cert_fingerprint(cert)


def cert_fingerprint(cert: Path) -> str:
    """SHA-256 of the PEM certificate's DER bytes, lowercase hex without colons."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return hashlib.sha256(der).hexdigest()
