"""The ``[regulate]`` section: adaptive scaling rules, resource detectors, quiet windows.

Regulation never has its own way to act: a scale rule names configured ``[[actions]]``
(``scale_component`` or ``fly_scale_count``), and every move passes the one policy gate as
any proposal does. A module of its own like ``alerts``; ``schema`` assembles it and checks the
references (``regulate_references``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, field_validator, model_validator

from actions.base import ActionSpec, Risk
from bot import messages
from bot.config.base import Section
from checks.base import CheckSpec
from common.units import Duration

SCALE_KINDS = ("scale_component", "fly_scale_count")
BUDGET = r"^\d+/\d+(ms|s|m|h|d)$"
RETIRED = {"samples": "up_for", "down_samples": "down_for"}
"""Hysteresis keys that counted samples, and the durations that replaced them."""


class ScaleRule(Section):
    """``[[regulate.scale]]``: keep one signal inside a band through two scale actions.

    Each move is one run of the ``up`` or ``down`` action, so its ``step`` and bounds apply
    too; ``min`` and ``max`` here keep the rule from even asking past them."""

    name: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique name."
    )
    check: str = Field(description="The check whose metric is the signal.")
    subject: str = Field(default="", description="The check's subject ('' for most kinds).")
    metric: str = Field(description="The metric, e.g. 'latency' of an http check.")
    low: float = Field(description="Below this for `down_for`: scale down.")
    high: float = Field(description="Above this for `up_for`: scale up.")
    up: str = Field(
        description="The scale_component / fly_scale_count action that adds (step > 0)."
    )
    down: str | None = Field(
        default=None, description="The action that removes (step < 0); none: never scales down."
    )
    min: int = Field(default=1, ge=0, description="Never scale down below this many instances.")
    max: int = Field(ge=1, description="Never scale up beyond this many instances.")
    up_for: Duration = Field(
        default=60.0,
        ge=0,
        description="Hysteresis, like Prometheus's `for:`: how long the signal stays above the "
        "band (or its forecast crossing stays due) before a scale-up; one sample back inside "
        "starts the clock again.",
    )
    down_for: Duration = Field(
        default=300.0,
        ge=0,
        description="How long the signal stays below the band before a scale-down (longer than "
        "`up_for`: scale up fast, down slowly).",
    )
    proportional: bool = Field(
        default=False,
        description="true when the signal is a load per instance (a utilisation, a queue per "
        "worker): a sample also counts as below the band when one instance fewer would keep "
        "the signal at or under the band's middle, so the pool shrinks as soon as it safely can.",
    )
    cooldown: Duration = Field(
        default=300.0, ge=0, description="No move within this long of the previous one."
    )
    forecast: Duration | None = Field(
        default=None,
        gt=0,
        description="Also scale up when the signal's trend reaches `high` within this "
        '(e.g. "12m"); none: only on what was measured.',
    )
    mode: Literal["propose", "auto"] = Field(
        default="propose",
        description="propose: a proposal a person approves; auto: selfreg moves by itself "
        "(through the gate, within the budgets; its actions must be low risk).",
    )
    budget: str = Field(
        default="4/1h",
        pattern=BUDGET,
        description="At most N automatic moves of this rule per window.",
    )

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data: object) -> object:
        """``samples`` / ``down_samples`` (counts) became ``up_for`` / ``down_for``
        (durations): an old key is refused by name, saying what to write instead."""
        if isinstance(data, dict):
            for old, new in RETIRED.items():
                if old in data:
                    raise ValueError(messages.regulate_retired_key(old, data[old], new))
        return data

    @model_validator(mode="after")
    def _band_and_bounds(self) -> ScaleRule:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be at least min ({self.min})")
        return self


class Detector(Section):
    """What every detector has: the mode the operator chose, and a budget for ``auto``."""

    mode: Literal["off", "propose", "auto"] = Field(
        default="propose",
        description='off: never look; propose: a finding proposes its fix to people (now, or "at '
        'the next quiet window"); auto: selfreg runs the fix by itself through the gate (now when '
        "urgent, else at the quiet window), within the budgets, and says so (a fix whose "
        "action is not low risk is proposed instead).",
    )
    budget: str = Field(
        default="2/1d", pattern=BUDGET, description="At most N automatic fixes per window."
    )

    @model_validator(mode="before")
    @classmethod
    def _retired_enabled(cls, data: object) -> object:
        if isinstance(data, dict) and "enabled" in data:
            raise ValueError(messages.regulate_retired_enabled(data["enabled"]))
        return data

    @property
    def on(self) -> bool:
        return self.mode != "off"


class LeakDetector(Detector):
    """``[regulate.leak]``: a ``process`` check's memory (``rss``) growing steadily."""

    window: Duration = Field(default=6 * 3600.0, gt=0, description="History fitted.")
    min_span: Duration = Field(
        default=2 * 3600.0, gt=0, description="At least this much history before any finding."
    )
    min_r2: float = Field(
        default=0.8, ge=0, le=1, description="How straight the growth must be (R² of the line)."
    )
    min_growth: float = Field(
        default=0.2,
        gt=0,
        description="Growth over the window, as a share of where it started (0.2: +20 %).",
    )


class DiskDetector(Detector):
    """``[regulate.disk]``: a ``system`` check's mount filling up."""

    window: Duration = Field(default=24 * 3600.0, gt=0, description="History fitted.")
    min_span: Duration = Field(
        default=3600.0, gt=0, description="At least this much history before any finding."
    )
    min_r2: float = Field(default=0.6, ge=0, le=1, description="How straight the growth must be.")
    horizon: Duration = Field(
        default=7 * 86400.0, gt=0, description="Propose a cleanup when full within this."
    )
    urgent: Duration = Field(
        default=86400.0, gt=0, description="Full within this: the proposal is urgent (now)."
    )


class CpuDetector(Detector):
    """``[regulate.cpu]``: a ``process`` check's CPU far above its usual."""

    window: Duration = Field(default=600.0, gt=0, description="Recent stretch compared.")
    usual: Duration = Field(default=86400.0, gt=0, description="History its usual comes from.")
    factor: float = Field(default=3.0, gt=1, description="Recent average at least this × usual.")
    min_percent: float = Field(default=80.0, gt=0, description="And at least this (% of one core).")


class GrowthDetector(Detector):
    """``[regulate.growth]``: log files or data folders growing without rotation."""

    paths: list[str] = Field(
        default_factory=list,
        description="Absolute files or folders whose size is measured at every detector run.",
    )
    window: Duration = Field(default=6 * 3600.0, gt=0, description="History fitted.")
    min_span: Duration = Field(
        default=2 * 3600.0, gt=0, description="At least this much history before any finding."
    )
    min_r2: float = Field(default=0.9, ge=0, le=1, description="How steady the growth must be.")
    min_per_hour: float = Field(
        default=10e6, gt=0, description="Growth (bytes an hour) worth a finding."
    )

    @field_validator("paths")
    @classmethod
    def _absolute(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"'{path}' must be an absolute path")
        return value


class RegulateSettings(Section):
    """``[regulate]``: scaling rules and resource detectors, under the one policy gate.

    Every automatic move is an audit row with the signal that caused it; the actions kill
    switch and the regulation pause stop them all."""

    budget: str = Field(
        default="10/1h",
        pattern=BUDGET,
        description="At most N automatic moves of all rules together per window.",
    )
    scale: list[ScaleRule] = Field(default_factory=list, description="Adaptive scaling rules.")
    detect_every: Duration = Field(
        default=600.0, gt=0, description="How often the resource detectors look at the history."
    )
    leak: LeakDetector = Field(default_factory=LeakDetector)
    disk: DiskDetector = Field(default_factory=DiskDetector)
    cpu: CpuDetector = Field(default_factory=CpuDetector)
    growth: GrowthDetector = Field(default_factory=GrowthDetector)
    quiet_default: int = Field(
        default=3,
        ge=0,
        le=23,
        description="The quiet hour (UTC) of a component whose history does not tell yet.",
    )


def regulate_references(
    settings: RegulateSettings, checks: Sequence[CheckSpec], entries: Sequence[ActionSpec]
) -> list[str]:
    """Each rule names a configured check and scale actions of the right direction; an auto
    rule's actions are low risk (selfreg is one approver, never the second)."""
    problems: list[str] = []
    check_names = {c.name for c in checks}
    by_name = {a.name: a for a in entries}
    seen: set[str] = set()
    for rule in settings.scale:
        if rule.name in seen:
            problems.append(messages.name_used_twice("regulate.scale", rule.name))
        seen.add(rule.name)
        if rule.check not in check_names:
            problems.append(messages.regulate_check_unknown(rule.name, rule.check))
        for key, wanted, sign in (("up", rule.up, 1), ("down", rule.down, -1)):
            if wanted is None:
                continue
            entry = by_name.get(wanted)
            step = getattr(entry, "step", 0)
            if entry is None or entry.kind not in SCALE_KINDS or step * sign <= 0:
                problems.append(messages.regulate_action_wrong(rule.name, key, wanted))
            elif rule.mode == "auto" and entry.risk is not Risk.LOW:
                problems.append(messages.regulate_auto_needs_low_risk(rule.name, wanted))
    return problems
