"""Logs to a rotating file in the per-user log folder, with secrets masked.

Secrets are kept out of log calls by design (configs hide passwords from repr, errors
never carry request bodies); the redacting filter is the second line of defence for
anything that slips through, e.g. a password echoed inside a server's error text.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

LOG_FILE = "earmark.log"
MASK = "••••••"


class SecretRedactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 3:
            self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        text = message
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            for secret in self._secrets:
                formatted = formatted.replace(secret, MASK)
            record.exc_text = formatted
            record.exc_info = None
        if text != message:
            record.msg, record.args = text, None
        return True


REDACTOR = SecretRedactor()


def log_dir() -> Path:
    override = os.environ.get("EARMARK_CONFIG_DIR")
    if override:
        return Path(override) / "logs"
    return Path(platformdirs.user_log_dir("Earmark", appauthor=False))


def setup_logging(level: int = logging.INFO) -> Path:
    directory = log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    return path
