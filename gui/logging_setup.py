"""Logs to a rotating file in the per-user log folder, with secrets masked.

Secrets are kept out of log calls by design (configs hide passwords from repr, errors
never carry request bodies); the redacting filter is the second line of defence for
anything that slips through, e.g. a password echoed inside a server's error text.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import platformdirs

from gui.core.redact import REDACTOR

__all__ = [
    "FILE_ONLY",
    "LOG_FILE",
    "LOG_FILTER",
    "REDACTOR",
    "cli_logging",
    "log_dir",
    "setup_logging",
]

#: ``extra=`` of a record meant for the log file only (its one-line form is printed already).
FILE_ONLY = {"earmark_file_only": True}

LOG_FILE = "earmark.log"


class SecretRedactor(logging.Filter):
    """Passes every record's message and traceback through the one redactor."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        text = REDACTOR.text(message)
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = REDACTOR.text(formatted)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = REDACTOR.text(record.exc_text)
        if record.stack_info:
            record.stack_info = REDACTOR.text(record.stack_info)
        if text != message:
            record.msg, record.args = text, None
        return True


LOG_FILTER = SecretRedactor()


def log_dir() -> Path:
    override = os.environ.get("EARMARK_CONFIG_DIR")
    if override:
        return Path(override) / "logs"
    return Path(platformdirs.user_log_dir("Earmark", appauthor=False))


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """A log that cannot be written (the profile's disk full, a read-only folder) must not
    print logging's own "--- Logging error ---" traceback over the user's terminal."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


class _OneLine(logging.Formatter):
    """stderr gets the message's first line; the details (traceback) go to the log file."""

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines()
        return f"earmark: {lines[0] if lines else record.levelname.lower()}"

    def formatException(self, ei: Any) -> str:
        return ""


def file_handler(level: int = logging.INFO) -> logging.Handler:
    """The rotating, redacted log file in the log folder (opened on the first record)."""
    directory = log_dir()
    with contextlib.suppress(OSError):  # no folder: records are dropped, not fatal
        directory.mkdir(parents=True, exist_ok=True)
    handler = _QuietFileHandler(
        directory / LOG_FILE, maxBytes=2_000_000, backupCount=3, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    handler.addFilter(LOG_FILTER)
    return handler


def stderr_handler(stream: TextIO) -> logging.Handler:
    """Warnings for a terminal: one redacted line each, never a traceback."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine())
    handler.addFilter(LOG_FILTER)
    handler.addFilter(lambda record: not getattr(record, "earmark_file_only", False))
    return handler


def setup_logging(level: int = logging.INFO) -> Path:
    handler = file_handler(level)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    return log_dir() / LOG_FILE


@contextlib.contextmanager
def cli_logging(stderr: TextIO, level: int = logging.INFO) -> Iterator[None]:
    """Logging for one CLI command: details to the log file, one line to stderr; the
    handlers are removed afterwards (tests run many commands in one process)."""
    root = logging.getLogger()
    handlers = [file_handler(level), stderr_handler(stderr)]
    previous = root.level
    root.setLevel(level)
    for handler in handlers:
        root.addHandler(handler)
    logging.captureWarnings(True)  # Python's warnings too: one line here, details logged
    try:
        yield
    finally:
        logging.captureWarnings(False)
        for handler in handlers:
            root.removeHandler(handler)
            with contextlib.suppress(OSError):
                handler.close()
        root.setLevel(previous)
