"""The one line format of everything selfreg writes as it runs, defined here and nowhere else.

Logging records, the start-up steps and the console channel's incident notices are all lines
of ``time  LEVEL  logger  message``::

    2026-12-07 10:18:21  INFO      startup  ok    web port  127.0.0.1:8787 is free  (0 ms)
    2026-12-07 10:18:25  CRITICAL  api-health  Opened: HTTP 500 from http://127.0.0.1:5051/health
    2026-12-07 10:18:26  WARNING   bot.engine.runner  check db is still running; skipping this turn

The time is local and to the second (a terminal's reader); the level is padded to the widest
one so messages line up. ``SELFREG_LOG_FORMAT=json`` turns every line into one JSON object
(``time`` in UTC ISO 8601 with milliseconds, ``level`` in lower case, ``logger``,
``message``, then the line's structured fields: a step's name and outcome, an incident's
id, check and severity, an exception's traceback as ``exc``) for Fly, Loki or Docker.

Secrets never reach a line: the values of the secret environment variables present when
logging was set up, and anything shaped like a Slack token, are replaced by ``***``.
This module imports nothing of the project, so every part may use it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

FORMATS = ("text", "json")
SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SELFREG_WEB_TOKEN",
    "SELFREG_SMTP_PASSWORD",
    "SELFREG_WEBHOOK_SECRET",
    "SELFREG_HEARTBEAT_URL",
    "SELFREG_ALERTMANAGER_TOKEN",
    "SELFREG_AUDIT_KEY",
    "FLY_API_TOKEN",
)
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_PASSWORD", "_KEY")
"""Any other variable named like a secret is masked too: the ``token_env`` a peer, an API
identity, a Prometheus or a Fly entry names is the operator's choice of name."""
SLACK_TOKEN = re.compile(r"\bx(?:ox[abposre]|app)-[0-9A-Za-z-]{6,}")
MASK = "***"
LEVEL_WIDTH = 8  # CRITICAL

# Fields every LogRecord has: the rest were passed with ``extra=`` and go into JSON lines.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class _Settings:
    """How lines are written now; set once by ``configure`` (logging is process-wide)."""

    format: str = "text"
    secrets: tuple[str, ...] = ()


_settings = _Settings()


def configure(level: str, fmt: str = "text", env: Mapping[str, str] | None = None) -> None:
    """Send logging records to standard error in the line format, at ``level``; remember the
    format for steps and notices, and the secrets to mask (from ``env``)."""
    env = os.environ if env is None else env
    _settings.format = fmt if fmt in FORMATS else "text"
    values = {
        value
        for name, value in env.items()
        if name in SECRET_VARIABLES or name.endswith(SECRET_SUFFIXES)
    }
    # longest first, so a secret that contains another is masked whole
    _settings.secrets = tuple(sorted((v for v in values if len(v) >= 8), key=len, reverse=True))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, LineFormatter)]:
        root.removeHandler(old)
    if not root.handlers:  # as logging.basicConfig: a host's own handlers (pytest's) stay alone
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(LineFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # Python's warnings as records too: no line in another shape
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def is_json() -> bool:
    return _settings.format == "json"


def mask(text: str) -> str:
    """``text`` with every known secret and Slack-token-shaped word replaced by ``***``."""
    for secret in _settings.secrets:
        text = text.replace(secret, MASK)
    return SLACK_TOKEN.sub(MASK, text)


def render(
    level: str,
    logger: str,
    message: str,
    *,
    at: float | None = None,
    fields: Mapping[str, Any] | None = None,
) -> str:
    """One line (no newline) in the configured format."""
    at = time.time() if at is None else at
    level = level.upper()
    if _settings.format == "json":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
        document = {"time": stamp, "level": level.lower(), "logger": logger, "message": message}
        document.update({k: v for k, v in (fields or {}).items() if k not in document})
        return mask(json.dumps(document, default=str, ensure_ascii=False))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
    return mask(f"{stamp}  {level:<{LEVEL_WIDTH}}  {logger}  {message}")


def write(
    stream: TextIO,
    level: str,
    logger: str,
    message: str,
    *,
    at: float | None = None,
    **fields: Any,
) -> None:
    """Write one line to ``stream`` and flush it (lines are read as they come)."""
    stream.write(render(level, logger, message, at=at, fields=fields) + "\n")
    stream.flush()


class LineFormatter(logging.Formatter):
    """Logging records in the line format; ``extra=`` values become JSON fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        fields = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
        trace = self.formatException(record.exc_info) if record.exc_info else record.exc_text
        if record.stack_info:
            trace = "\n".join(part for part in (trace, record.stack_info) if part)
        if trace and _settings.format == "json":
            fields["exc"] = trace
        elif trace:
            message = f"{message}\n{trace}"
        return render(record.levelname, record.name, message, at=record.created, fields=fields)
