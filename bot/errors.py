"""Every error selfreg raises on purpose, under one root.

    SelfregError
    ├── UserError                    text fit to show an operator (CLI, Slack)
    │   ├── ConfigError              a config file or environment value is wrong
    │   ├── UnknownCheck             ``selfreg check run NAME`` with no such check
    │   ├── WebTokenMissing          web bound beyond loopback without SELFREG_WEB_TOKEN
    │   ├── BackupError              a backup or restore failed: names the file and why
    │   │   └── RestoreRefused       restore while selfreg runs with this data folder
    │   ├── PrerequisiteFailed       a start-up prerequisite (Python, a program) does not hold
    │   ├── StepFailed               a start-up step failed; the start stops there
    │   ├── AlreadyStarted           a live selfreg holds this data folder's pid file
    │   ├── AlreadyRunning           a live selfreg answers on this data folder's socket
    │   ├── SlackRejectedToken       Slack refused SLACK_BOT_TOKEN at start
    │   ├── BadCommand               a slash command that cannot be read; answered with help
    │   ├── UnknownComponent         a control named a component that is not configured
    │   ├── BadInstanceCount         ``scale`` outside 1..most instances
    │   ├── UnknownAction            ``/selfreg run`` named an action that is not configured
    │   ├── UnknownProposal          a decision on a proposal that does not exist
    │   ├── IncidentNotFound         ``ack`` (or a button) named no incident
    │   ├── IncidentClosed           ``ack`` of an incident already resolved
    │   ├── IncidentStillFailing     resolve by hand while its check still fails
    │   ├── SilenceNotFound          ``unsilence`` named no active silence
    │   ├── NotAPrediction           prediction feedback on a rule incident
    │   ├── ChartUnavailable         an incident's chart cannot be drawn: says why
    │   ├── NotPermitted             a CLI user unmapped in ``[cli] users``, or not permitted
    │   └── AlertPayloadInvalid      a POST to /hooks/alertmanager that is not a v4 webhook
    ├── StoreError                   the SQLite file cannot be opened or migrated
    ├── FitFailed                    a model fit raised in its worker process
    └── DeliveryError                a notifier could not deliver an outbox row
        └── PermanentDeliveryError   ... and retrying will not help

Each class builds its own message from typed fields, with its sentence from
``bot.messages.errors``. Only ``UserError`` text is shown to people in Slack; the rest goes to
the log. ``tests/test_errors_tree.py`` keeps this tree complete.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bot import messages


class SelfregError(Exception):
    """The root of selfreg's own errors."""


class UserError(SelfregError):
    """An error whose message is written for the operator who caused it."""


# ---- configuration ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One bad value: where it is (file and key path), what it is, and what is wrong."""

    file: str
    key: str
    value: object
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        shown = None if self.value is _MISSING else _show(self.value)
        return messages.config_problem(where, shown, self.message)


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
        super().__init__(messages.config_has_problems([str(p) for p in problems]))


class UnknownCheck(UserError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(messages.unknown_check(name, known))


class WebTokenMissing(UserError):
    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(messages.web_token_missing(host))


# ---- backup and restore -------------------------------------------------------------------
class BackupError(UserError):
    """A backup or a restore could not be made; names the file and why, nothing was changed."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(messages.file_failed(str(path), reason))


class RestoreRefused(BackupError):
    """A restore asked for while selfreg runs on the same data folder."""

    def __init__(self, socket_path: Path) -> None:
        super().__init__(socket_path, messages.restore_while_running())


# ---- start-up -----------------------------------------------------------------------------
class PrerequisiteFailed(UserError):
    """A start-up prerequisite does not hold; the message says which and why."""


class StepFailed(UserError):
    """A start-up step failed; the sequence stops there."""

    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        self.reason = reason
        super().__init__(messages.start_failed(step, reason))


class AlreadyStarted(UserError):
    """Another live selfreg holds the pid file of this data folder."""

    def __init__(self, path: Path, pid: int, since: float | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(messages.already_running(pid, since, str(path)))


class AlreadyRunning(UserError):
    """Another live selfreg answers on the control socket of this data folder."""

    def __init__(self, socket_path: str) -> None:
        super().__init__(messages.already_running_socket(socket_path))


class SlackRejectedToken(UserError):
    """``auth.test`` refused the bot token: selfreg does not start."""

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__(messages.slack_rejected_token(error))


# ---- commands and controls ------------------------------------------------------------------
class BadCommand(UserError):
    """Input that is not a command we understand; answered with the help text."""


class UnknownComponent(UserError, KeyError):
    """A control named a component that is not configured."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(messages.unknown_component(name, known))

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class BadInstanceCount(UserError, ValueError):
    """``scale`` asked for a number of instances outside 1..``most``."""

    def __init__(self, name: str, wanted: int, most: int) -> None:
        self.name = name
        self.wanted = wanted
        super().__init__(messages.bad_instance_count(name, wanted, most))


class UnknownAction(UserError):
    """A run asked for an action that is not configured."""

    def __init__(self, name: str, known: Collection[str]) -> None:
        super().__init__(messages.unknown_action(name, known))


class UnknownProposal(UserError):
    """A decision on a proposal id that does not exist."""

    def __init__(self, proposal_id: int) -> None:
        super().__init__(messages.refusal_unknown_proposal(f"#{proposal_id}"))


class IncidentNotFound(UserError):
    def __init__(self, incident_id: int) -> None:
        self.incident_id = incident_id
        super().__init__(messages.incident_not_found(incident_id))


class IncidentClosed(UserError):
    def __init__(self, incident_id: int) -> None:
        self.incident_id = incident_id
        super().__init__(messages.incident_closed(incident_id))


class IncidentStillFailing(UserError):
    """A rule incident resolved by hand while its check still fails (ack or silence it)."""

    def __init__(self, incident_id: int) -> None:
        self.incident_id = incident_id
        super().__init__(messages.incident_still_failing(incident_id))


class SilenceNotFound(UserError):
    def __init__(self, silence_id: int) -> None:
        self.silence_id = silence_id
        super().__init__(messages.silence_not_found(silence_id))


class NotAPrediction(UserError):
    """Prediction feedback (useful / false alarm) on an incident that is not a prediction."""

    def __init__(self, incident_id: int) -> None:
        self.incident_id = incident_id
        super().__init__(messages.not_a_prediction(incident_id))


class NotPermitted(UserError):
    """A person may not do this: a local user ``[cli] users`` does not map (``local_user``),
    or an approver ``[slack] permissions`` does not allow ``command``."""

    def __init__(self, command: str, *, local_user: str = "", actor: str = "") -> None:
        self.command = command
        self.local_user = local_user
        self.actor = actor
        if actor:
            super().__init__(messages.cli_not_permitted(command, actor))
        else:
            super().__init__(messages.cli_user_unmapped(command, local_user))


class ChartUnavailable(UserError):
    """An incident's chart cannot be drawn (no metric, no samples, the drawing failed)."""

    def __init__(self, incident_id: int, reason: str) -> None:
        self.incident_id, self.reason = incident_id, reason
        super().__init__(messages.chart_unavailable(incident_id, reason))


# ---- not for operators: the log -----------------------------------------------------------
class AlertPayloadInvalid(UserError, ValueError):
    """A body posted to /hooks/alertmanager that is not Alertmanager's webhook (version 4)."""

    def __init__(self, why: str) -> None:
        super().__init__(messages.alertmanager_bad_payload(why))


class StoreError(SelfregError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(messages.store_unopenable(str(path), reason))


class DeliveryError(SelfregError):
    """A transient delivery failure: the outbox retries it later."""

    def __init__(self, channel: str, reason: str, retry_after: float | None = None) -> None:
        self.channel = channel
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(messages.delivery_failed(channel, reason))


class PermanentDeliveryError(DeliveryError):
    """A delivery failure that retrying cannot fix (bad token, unknown channel)."""


class FitFailed(SelfregError, RuntimeError):
    """A model fit raised in its worker process (``bot.engine.predict.fit``).

    Built in selfreg from the worker's text: the original exception may be a scikit-learn
    class, and unpickling it would import scikit-learn into selfreg.
    """

    def __init__(self, fit: str, pid: int, error: str) -> None:
        self.fit, self.pid, self.error = fit, pid, error
        super().__init__(messages.fit_failed(fit, pid, error))
