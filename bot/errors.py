"""Every error selfreg raises on purpose, under one root.

    SelfregError
    ├── UserError                    text fit to show an operator (CLI, Slack)
    │   ├── ConfigError              a config file or environment value is wrong
    │   ├── UnknownCheck             ``selfreg check run NAME`` with no such check
    │   ├── WebTokenMissing          web bound beyond loopback without SELFREG_WEB_TOKEN
    │   └── BackupError              a backup or restore failed: names the file and why
    │       └── RestoreRefused       restore while selfreg runs with this data folder
    ├── StoreError                   the SQLite file cannot be opened or migrated
    ├── FitFailed                    a model fit raised in its worker process
    └── DeliveryError                a notifier could not deliver an outbox row
        └── PermanentDeliveryError   ... and retrying will not help

Each class builds its own message from typed fields. Only ``UserError`` text is shown to
people in Slack; the rest goes to the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SelfregError(Exception):
    """The root of selfreg's own errors."""


class UserError(SelfregError):
    """An error whose message is written for the operator who caused it."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One bad value: where it is (file and key path), what it is, and what is wrong."""

    file: str
    key: str
    value: object
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        if self.value is _MISSING:
            return f"{where}: {self.message}"
        return f"{where} = {_show(self.value)}: {self.message}"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: object = _MISSING
"""The ``value`` of a problem about a key that is absent."""


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(UserError):
    """The configuration is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        count = len(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the configuration has {count} {noun}:\n{lines}")


class UnknownCheck(UserError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        choices = ", ".join(known) or "none"
        super().__init__(f'no check is named "{name}"; configured checks: {choices}')


class WebTokenMissing(UserError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"the web server would listen on {host}, beyond this machine, so every route but "
            "/health needs a token: set SELFREG_WEB_TOKEN, or bind 127.0.0.1"
        )


class StoreError(SelfregError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot open the store {path}: {reason}")


class DeliveryError(SelfregError):
    """A transient delivery failure: the outbox retries it later."""

    def __init__(self, channel: str, reason: str, retry_after: float | None = None) -> None:
        self.channel = channel
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{channel}: {reason}")


class PermanentDeliveryError(DeliveryError):
    """A delivery failure that retrying cannot fix (bad token, unknown channel)."""


class BackupError(UserError):
    """A backup or a restore could not be made; names the file and why, nothing was changed."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class RestoreRefused(BackupError):
    """A restore asked for while selfreg runs on the same data folder."""

    def __init__(self, socket_path: Path) -> None:
        super().__init__(
            socket_path,
            "selfreg is running with this data folder; stop it before restoring "
            "(nothing was changed)",
        )


class FitFailed(SelfregError, RuntimeError):
    """A model fit raised in its worker process (``bot.engine.predict.fit``).

    Built in selfreg from the worker's text: the original exception may be a scikit-learn
    class, and unpickling it would import scikit-learn into selfreg.
    """

    def __init__(self, fit: str, pid: int, error: str) -> None:
        self.fit, self.pid, self.error = fit, pid, error
        super().__init__(f"{fit} failed in worker process {pid}: {error}")
