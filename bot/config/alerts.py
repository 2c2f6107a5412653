"""The ``[alerts]`` and ``[slack]`` sections: how incidents reach people, and who may do what.

A module of its own because this is the part of the config that grows with every channel and
policy; ``schema`` assembles the whole file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bot import messages
from bot.config.alertmanager import AlertmanagerChannel
from bot.config.base import Section
from common.units import Duration

SeverityName = Literal["info", "warning", "error", "critical"]

COMMANDS = (
    "status",
    "health",
    "alerts",
    "ack",
    "silence",
    "unsilence",
    "history",
    "help",
    "run",
    "actions",
    "audit",
    "reload",
    "predict",
    "plan",
    "chart",
)

PERMISSION_NAMES = (*COMMANDS, "component")
"""What ``[slack] permissions`` may restrict: the slash commands, and ``component`` (the
terminal's ``selfreg component restart|stop|start``)."""


class EscalationStep(Section):
    """One step of the escalation policy: after a delay, mention people, maybe elsewhere."""

    after: Duration = Field(gt=0, description="Time since the incident opened.")
    mention: list[str] = Field(
        default_factory=list,
        description="User ids (U…), user-group ids (S…), '@here' or '@channel'.",
    )
    channel: str | None = Field(
        default=None, description="Also cross-post to this channel, linking the original."
    )
    severity: SeverityName | None = Field(
        default=None, description="Raise the incident to at least this severity."
    )


class FlappingSettings(Section):
    """When an incident changes state this often, it is flapping: one message, not many."""

    changes: int = Field(default=5, ge=2, description="State changes within the window.")
    window: Duration = Field(default=600.0, gt=0, description="The window.")


class StormSettings(Section):
    """When many incidents open at once, one digest message stands for them all."""

    incidents: int = Field(default=5, ge=2, description="Incidents opened within the window.")
    window: Duration = Field(default=120.0, gt=0, description="The window.")


class LogChannel(Section):
    """A JSON-lines file: one line per incident event."""

    path: str = Field(description="File to append to, relative to the data folder.")
    min_severity: SeverityName = Field(default="info", description="Quieter events are left out.")


class EmailChannel(Section):
    """Email over SMTP; the password comes from SELFREG_SMTP_PASSWORD."""

    host: str = Field(description="SMTP server.")
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description='SMTP port; default 465 with tls = "implicit", else 587.',
    )
    tls: Literal["starttls", "implicit", "none"] = Field(
        default="starttls",
        description=(
            "starttls: upgrade a plain connection (port 587; refused if not offered); implicit:"
            " TLS from the first byte (port 465, 'SMTPS'); none: clear text (local relays only)."
        ),
    )
    username: str | None = Field(default=None, description="Login name, if the server needs one.")
    sender: str = Field(description="From address.")
    to: list[str] = Field(min_length=1, description="Recipients.")
    min_severity: SeverityName = Field(default="error", description="Quieter events are left out.")

    @property
    def smtp_port(self) -> int:
        """The port to connect to: the one set, else the usual one for ``tls``."""
        return self.port or (465 if self.tls == "implicit" else 587)


class WebhookChannel(Section):
    """A JSON POST per incident event, signed with SELFREG_WEBHOOK_SECRET (Standard Webhooks)."""

    url: str = Field(pattern=r"^https?://", description="Where to POST.")
    min_severity: SeverityName = Field(
        default="warning", description="Quieter events are left out."
    )


class MaintenanceWindow(Section):
    """A scheduled silence: a fixed start and end, or a cron spec and a duration."""

    name: str = Field(description="Shown in status and on silenced incidents.")
    check: str | None = Field(default=None, description="Only this check (glob); default all.")
    subject: str | None = Field(default=None, description="Only this subject (glob).")
    start: str | None = Field(default=None, description="ISO 8601 start, e.g. 2026-12-01T02:00Z.")
    end: str | None = Field(default=None, description="ISO 8601 end.")
    cron: str | None = Field(
        default=None, description="Crontab spec of each start, e.g. '0 2 * * sun' (UTC)."
    )
    duration: Duration | None = Field(default=None, gt=0, description="Length of each cron window.")

    @model_validator(mode="after")
    def _one_form(self) -> MaintenanceWindow:
        fixed = self.start is not None and self.end is not None
        recurring = self.cron is not None and self.duration is not None
        if fixed == recurring:
            raise ValueError(messages.maintenance_one_form())
        return self


class AlertsSettings(Section):
    """``[alerts]``: incidents, escalation, silences and the channels besides Slack."""

    console: bool = Field(default=True, description="Print one line per incident event.")
    cooldown: Duration = Field(
        default=600.0, ge=0, description="A re-open within this time reuses the same message."
    )
    renotify_every: Duration | None = Field(
        default=None, gt=0, description="Remind in the thread while an incident stays open."
    )
    ack_timeout: Duration = Field(
        default=3600.0,
        gt=0,
        description="Remind when an acknowledged incident stays open this long.",
    )
    update_every: Duration = Field(
        default=3.0, ge=0, description="At most one message update per incident this often."
    )
    flapping: FlappingSettings = Field(default_factory=FlappingSettings)
    storm: StormSettings = Field(default_factory=StormSettings)
    escalation: list[EscalationStep] = Field(
        default_factory=list, description="Escalation steps, in order of `after`."
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="Scheduled silences."
    )
    log: LogChannel | None = Field(default=None, description="JSON-lines channel.")
    email: EmailChannel | None = Field(default=None, description="Email channel.")
    webhook: WebhookChannel | None = Field(default=None, description="Webhook channel.")
    alertmanager: AlertmanagerChannel | None = Field(
        default=None, description="Alertmanager channel: incidents sent as alerts."
    )

    @model_validator(mode="after")
    def _steps_in_order(self) -> AlertsSettings:
        afters = [step.after for step in self.escalation]
        if afters != sorted(afters):
            raise ValueError(messages.escalation_out_of_order())
        return self


class SlackSettings(Section):
    """``[slack]``: where alerts go and who may do what. Tokens come only from the environment."""

    channel: str | None = Field(
        default=None, description="Alert channel id or '#name'; SLACK_CHANNEL overrides."
    )
    admins: list[str] = Field(
        default_factory=list, description="User ids allowed every command and every action."
    )
    permissions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Command -> allowed user / user-group ids; '*' is everyone. "
        "Commands left out are open to everyone. Holds for the terminal too (as the approver "
        "[cli] users maps the local user to), where `component` restricts `selfreg component`.",
    )

    @model_validator(mode="after")
    def _known_commands(self) -> SlackSettings:
        unknown = sorted(set(self.permissions) - set(PERMISSION_NAMES))
        if unknown:
            raise ValueError(messages.unknown_permission_commands(unknown))
        return self
