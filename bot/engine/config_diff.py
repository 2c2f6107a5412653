"""What changed between two configs, and which changes a running selfreg can take live.

A pure function of two loaded configs: named entries (checks, components, actions) are
added (+), removed (−) or changed (~, with the keys that changed); every other key is either
live (applied by the reload) or one the running process cannot change (``needs a restart``:
the web server's address, the store file, the notification channels, the environment).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from bot.config import LoadedConfig

NAMED = (("checks", "check"), ("components", "component"), ("actions", "action"))

# keys of the file read once at start; a change waits for the next start
RESTART_KEYS = frozenset(
    {
        "web.host",
        "web.port",
        "store.path",
        "models.anomaly",
        "models.failure_risk",
        "alerts.console",
        "alerts.log",
        "alerts.email",
        "alerts.webhook",
        "alerts.alertmanager",
        "slack.channel",
        "alertmanager",  # the section added or removed: the hook route is made at start
        "alertmanager.token_env",
        "alertmanager.check",
        "regulate.detect_every",  # the detectors' job interval, set at start
    }
)
# what comes from the environment (SELFREG_DATA_DIR, the Slack tokens and mode, ...)
ENVIRONMENT_FIELDS = (
    ("data_dir", "data folder (SELFREG_DATA_DIR)"),
    ("web_token", "SELFREG_WEB_TOKEN"),
    ("slack", "Slack mode or tokens (SLACK_*)"),
    ("smtp_password", "SELFREG_SMTP_PASSWORD"),
    ("webhook_secret", "SELFREG_WEBHOOK_SECRET"),
    ("heartbeat_url", "SELFREG_HEARTBEAT_URL"),
    ("log_level", "SELFREG_LOG_LEVEL"),
    ("log_format", "SELFREG_LOG_FORMAT"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class EntryChange:
    """One named entry added, removed or changed."""

    section: str  # "checks", "components", "actions"
    name: str
    sign: str  # "+", "−", "~"
    keys: tuple[str, ...] = ()

    def __str__(self) -> str:
        noun = dict(NAMED)[self.section]
        detail = f" ({', '.join(self.keys)})" if self.keys else ""
        return f"{self.sign} {noun} {self.name}{detail}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfigDiff:
    """Everything that differs; ``live`` and ``restart`` hold dotted keys like ``alerts.cooldown``."""

    entries: tuple[EntryChange, ...] = ()
    live: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()

    @property
    def applies_anything(self) -> bool:
        return bool(self.entries or self.live)

    def of(self, section: str, sign: str) -> list[str]:
        """Names of ``section``'s entries with ``sign`` (e.g. every removed check)."""
        return [e.name for e in self.entries if e.section == section and e.sign == sign]


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Top-level keys whose values differ, in the order they are declared."""
    keys = [*old, *(k for k in new if k not in old)]
    return [k for k in keys if old.get(k) != new.get(k)]


def entry_changes(section: str, old: Sequence[Any], new: Sequence[Any]) -> list[EntryChange]:
    """Added, removed and changed entries of one named list, in the new file's order."""
    before = {e.name: _dump(e) for e in old}
    after = {e.name: _dump(e) for e in new}
    changes = [EntryChange(section=section, name=n, sign="+") for n in after if n not in before]
    changes += [EntryChange(section=section, name=n, sign="−") for n in before if n not in after]
    for name, entry in after.items():
        if name in before and before[name] != entry:
            keys = tuple(changed_keys(before[name], entry))
            changes.append(EntryChange(section=section, name=name, sign="~", keys=keys))
    return changes


def section_keys(old: BaseModel, new: BaseModel) -> list[str]:
    """Dotted keys (``alerts.cooldown``) that differ outside the named lists."""
    named = {section for section, _ in NAMED}
    found = []
    before, after = _dump(old), _dump(new)
    for section in changed_keys(before, after):
        if section in named:
            continue
        inner_old, inner_new = before.get(section), after.get(section)
        if isinstance(inner_old, dict) and isinstance(inner_new, dict):
            found += [f"{section}.{key}" for key in changed_keys(inner_old, inner_new)]
        else:
            found.append(section)
    return found


def diff(
    current: LoadedConfig, new: LoadedConfig, booted: LoadedConfig, *, actions_live: bool = True
) -> ConfigDiff:
    """What a reload from ``current`` to ``new`` would change, for a process started on ``booted``.

    ``actions_live`` is False when selfreg started without ``[[actions]]``: remediation was
    never built, so adding actions needs a restart.
    """
    entries: list[EntryChange] = []
    for section, _ in NAMED:
        if section == "actions" and not actions_live:
            continue
        entries += entry_changes(
            section, getattr(current.settings, section), getattr(new.settings, section)
        )
    live = [k for k in section_keys(current.settings, new.settings) if k not in RESTART_KEYS]
    restart = [k for k in section_keys(booted.settings, new.settings) if k in RESTART_KEYS]
    if not actions_live and new.settings.actions:
        restart.append("actions (none were configured at start)")
    restart += [label for name, label in ENVIRONMENT_FIELDS if _differs(booted, new, name)]
    return ConfigDiff(entries=tuple(entries), live=tuple(live), restart=tuple(restart))


def _differs(booted: LoadedConfig, new: LoadedConfig, name: str) -> bool:
    if name == "slack":  # its channel is [slack] channel's business (listed under that key)
        return bool(replace(booted.slack, channel=None) != replace(new.slack, channel=None))
    return bool(getattr(booted, name) != getattr(new, name))


def names(entries: Iterable[EntryChange]) -> list[str]:
    return [str(e) for e in entries]
