"""The shape of ``selfreg.toml``: every section, and ``Settings``, the whole file.

The larger sections live beside this module (``alerts``, ``components``, ``backup``,
``lifecycle``); this one holds the small ones and assembles them, checking what spans
sections (unique names, references from checks to actions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field, model_validator

import actions
import checks
from actions.base import ActionSpec, Mode, Risk
from bot import messages
from bot.config.alertmanager import AlertmanagerSettings
from bot.config.alerts import AlertsSettings, SlackSettings
from bot.config.api import ApiSettings
from bot.config.backup import BackupSettings
from bot.config.base import Section
from bot.config.cli import CliSettings
from bot.config.components import ComponentSettings
from bot.config.lifecycle import HeartbeatSettings, ReloadSettings
from bot.config.plugins import PluginEntries
from bot.config.regulate import RegulateSettings, regulate_references
from checks.base import CheckSpec
from common.units import Duration


class WebSettings(Section):
    """``[web]``: the HTTP server for /health, /status, /metrics."""

    host: str = Field(
        default="127.0.0.1",
        description="Bind address; beyond loopback "
        "every route but /health needs SELFREG_WEB_TOKEN.",
    )
    port: int = Field(default=8787, ge=0, le=65535, description="Port; 0 picks a free one.")


class StoreSettings(Section):
    """``[store]``: the SQLite file and how long it keeps things."""

    path: str = Field(
        default="selfreg.db", description="Database file, relative to the data folder."
    )
    metrics_retention: Duration = Field(
        default=86400.0, gt=0, description="How long raw metric samples are kept."
    )
    rollup_retention: Duration = Field(
        default=30 * 86400.0, gt=0, description="How long one-minute rollups are kept."
    )
    events_retention: Duration = Field(
        default=30 * 86400.0, gt=0, description="How long event rows are kept."
    )


class ModelsSettings(Section):
    """``[models]``: the predictors. A prediction opens its own warning incident and never
    changes a rule's; with no trained model (or one that fails) the rules alone decide."""

    anomaly: bool = Field(default=True, description="Score every metric for anomalies.")
    failure_risk: bool = Field(
        default=True,
        description="Predict per check whether its rule will fail within `horizon` "
        "(once enough history is stored).",
    )
    forecast: bool = Field(
        default=True,
        description="Forecast when a metric with a warn/critical threshold will cross it.",
    )
    threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Anomaly score (0..1) at or above which an anomaly incident opens; a "
        "check may override it with `anomaly_threshold`.",
    )
    risk_threshold: float = Field(
        default=0.8, gt=0, lt=1, description="Failure-risk score that opens a risk incident."
    )
    horizon: Duration = Field(
        default=900.0,
        gt=0,
        description="Failure risk: how far ahead a rule incident counts as the failure predicted.",
    )
    forecast_horizon: Duration = Field(
        default=6 * 3600.0,
        gt=0,
        description="Forecast: an expected crossing within this opens a forecast incident.",
    )
    retrain_every: Duration = Field(
        default=3600.0,
        gt=0,
        description="How often the failure-risk forests are refitted, in a worker process "
        "(the anomaly group forests refit at most hourly, once a group has 300 rows).",
    )
    clear_after: Duration = Field(
        default=300.0,
        gt=0,
        description="A prediction incident resolves once its condition has been clear this long.",
    )
    warmup: int = Field(
        default=300,
        ge=10,
        description="Samples a metric needs before it gets anomaly scores (changing it "
        "starts the anomaly model cold).",
    )
    false_alarms: int = Field(
        default=3,
        ge=1,
        description="False-alarm clicks on one metric that raise its own threshold.",
    )


class RemediationSettings(Section):
    """``[remediation]``: switches over every action at once."""

    dry_run: bool = Field(
        default=False,
        description="Every run only says what it would do; nothing changes anywhere.",
    )


CheckEntry = Annotated[CheckSpec, PluginEntries(checks.REGISTRY)]
ActionEntry = Annotated[ActionSpec, PluginEntries(actions.REGISTRY)]
PeerEntry = Annotated[CheckSpec, PluginEntries(checks.REGISTRY, kind="peer")]
SyncEntry = Annotated[CheckSpec, PluginEntries(checks.REGISTRY, kind="sync")]


class Settings(Section):
    """The whole of ``selfreg.toml``."""

    slack: SlackSettings = Field(default_factory=SlackSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    remediation: RemediationSettings = Field(default_factory=RemediationSettings)
    checks: list[CheckEntry] = Field(default_factory=list)
    components: list[ComponentSettings] = Field(default_factory=list)
    actions: list[ActionEntry] = Field(default_factory=list)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    reload: ReloadSettings = Field(default_factory=ReloadSettings)
    heartbeat: HeartbeatSettings = Field(default_factory=HeartbeatSettings)
    cli: CliSettings = Field(default_factory=CliSettings)
    peers: list[PeerEntry] = Field(default_factory=list)
    sync: list[SyncEntry] = Field(default_factory=list)
    alertmanager: AlertmanagerSettings | None = Field(
        default=None,
        description="Accept Alertmanager's webhook at POST /hooks/alertmanager (see README).",
    )
    api: ApiSettings = Field(default_factory=ApiSettings)
    regulate: RegulateSettings = Field(default_factory=RegulateSettings)

    @model_validator(mode="after")
    def _names_are_unique_and_references_resolve(self) -> Settings:
        # [[peers]] and [[sync]] are checks of kind peer / sync written in a table of their own
        self.checks = [
            *self.checks,
            *(e for e in (*self.peers, *self.sync) if e not in self.checks),
        ]
        problems: list[str] = []
        for section in ("checks", "components", "actions"):
            seen: set[str] = set()
            for entry in getattr(self, section):
                if entry.name in seen:
                    problems.append(messages.name_used_twice(section, entry.name))
                seen.add(entry.name)
        for action in self.actions:
            if action.kind not in actions.REGISTRY:
                known = sorted(actions.REGISTRY)
                problems.append(messages.unknown_action_kind(action.name, action.kind, known))
            if action.mode is Mode.AUTO and action.risk is not Risk.LOW:
                problems.append(messages.auto_needs_low_risk(action.name))
        action_names = {a.name for a in self.actions}
        for check in self.checks:
            for wanted in check.remediate:
                if wanted not in action_names:
                    problems.append(messages.remediate_unknown(check.name, wanted))
        component_names = {c.name for c in self.components}
        for check in self.checks:
            component = getattr(check, "component", None)  # the tunnel kinds name their agent's
            if component is not None and component not in component_names:
                problems.append(messages.component_unknown(check.name, component))
        problems.extend(fly_references(self.checks, self.actions))
        problems.extend(alertmanager_in(self, action_names))
        problems.extend(regulate_references(self.regulate, self.checks, self.actions))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def fly_references(checks: Sequence[CheckSpec], entries: Sequence[ActionSpec]) -> list[str]:
    """A fly check's ``deploy_affects`` names checks; a ``fly_rollback``'s ``check`` names a
    fly check (whose release history it reads)."""
    kinds = {c.name: c.kind for c in checks}
    problems = [
        messages.deploy_affects_unknown(check.name, name)
        for check in checks
        for name in getattr(check, "deploy_affects", [])
        if name not in kinds
    ]
    problems.extend(
        messages.rollback_check_unknown(entry.name, str(getattr(entry, "check", "")))
        for entry in entries
        if entry.kind == "fly_rollback" and kinds.get(getattr(entry, "check", "")) != "fly"
    )
    return problems


def alertmanager_in(settings: Settings, action_names: set[str]) -> list[str]:
    """``[alertmanager]`` routes name configured actions; its check is added to the checks
    (once: a settings object validated again keeps the one it has)."""
    section = settings.alertmanager
    if section is None:
        return []
    problems = [
        messages.alertmanager_route_unknown(index, name)
        for index, route in enumerate(section.routes)
        for name in route.actions
        if name not in action_names
    ]
    same = [c for c in settings.checks if c.name == section.check]
    if any(c.kind != "alertmanager" for c in same):
        problems.append(messages.alertmanager_check_clash(section.check))
    elif not same:
        settings.checks.append(section.spec())
    return problems
