"""``[alertmanager]`` (Alertmanager in: its webhook) and ``[alerts.alertmanager]`` (out: selfreg's
incidents sent to Alertmanager's API as alerts).

With ``[alertmanager]`` present, ``Settings`` adds the ``alertmanager`` check
(``checks.alertmanager``) that the webhook's alerts are recorded as.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot import messages
from bot.config.base import Section
from checks.alertmanager import AlertmanagerSpec, SeverityName
from common.units import Duration


class AlertmanagerRoute(Section):
    """Alerts this route matches are offered these actions (through the same policy gate)."""

    alertname: str | None = Field(default=None, description="Only alerts of this alertname.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Only alerts carrying every one of these label values."
    )
    actions: list[str] = Field(min_length=1, description="Names of [[actions]] to propose.")

    def matches(self, labels: dict[str, str]) -> bool:
        """True when an alert with ``labels`` is one of this route's."""
        if self.alertname is not None and labels.get("alertname") != self.alertname:
            return False
        return all(labels.get(name) == value for name, value in self.labels.items())


class AlertmanagerSettings(Section):
    """``[alertmanager]``: accept Alertmanager's webhook (version 4) at POST /hooks/alertmanager."""

    token_env: str = Field(
        default="SELFREG_ALERTMANAGER_TOKEN",
        description="Environment variable holding the bearer token Alertmanager sends "
        "(http_config.authorization); required, on loopback too: unset, every POST is refused.",
    )
    check: str = Field(
        default="alertmanager",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Name of the check the alerts are recorded as (subjects alertname/fingerprint).",
    )
    interval: Duration = Field(
        default=60.0,
        gt=0,
        description="How often that check re-reads the alerts still firing (counts, verification).",
    )
    severity_label: str = Field(
        default="severity", description="The alert label that gives the incident's severity."
    )
    severities: dict[str, SeverityName] = Field(
        default_factory=dict,
        description="Label value -> severity, beyond the built-in critical, error, warning, info "
        '(e.g. {page = "critical"}).',
    )
    default_severity: SeverityName = Field(
        default="warning", description="Severity of an alert whose label is missing or unmapped."
    )
    routes: list[AlertmanagerRoute] = Field(
        default_factory=list, description="Label matchers -> actions offered, first match wins."
    )

    def spec(self) -> AlertmanagerSpec:
        """The check the alerts are recorded as (opens at the first firing delivery)."""
        return AlertmanagerSpec(
            kind="alertmanager",
            name=self.check,
            interval=self.interval,
            severity_label=self.severity_label,
            severities={k.lower(): v for k, v in self.severities.items()},
            default_severity=self.default_severity,
        )

    def actions_for(self, labels: dict[str, str]) -> list[str]:
        """The actions of the first route matching an alert's labels."""
        for route in self.routes:
            if route.matches(labels):
                return list(route.actions)
        return []


class AlertmanagerChannel(Section):
    """Send selfreg's own incidents to Alertmanager's API (POST /api/v2/alerts) as alerts."""

    url: str = Field(
        pattern=r"^https?://\S+$",
        description="Alertmanager's base URL, e.g. http://127.0.0.1:9093.",
    )
    min_severity: SeverityName = Field(
        default="warning", description="Quieter incidents are not sent."
    )
    token_env: str | None = Field(
        default=None,
        description="Environment variable holding a bearer token, if a proxy needs one.",
    )
    hold: Duration = Field(
        default=86400.0,
        gt=0,
        description="A firing alert's endsAt is this far ahead (selfreg resends it on every "
        "change and sends endsAt = now when the incident resolves).",
    )

    @field_validator("url")
    @classmethod
    def _not_a_path(cls, value: str) -> str:
        if "/api/" in value:
            raise ValueError(messages.alertmanager_base_url())
        return value
