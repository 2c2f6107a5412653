"""The action contract: what a remediation is handed, what it returns, how it is configured.

An action is one class per module in this package, registered in ``actions/__init__.py`` by
its ``kind``. Everything it needs from the running selfreg arrives through ``ctx`` (an
``ActionContext``); this package never imports ``bot``. Parameters come only from config:
nothing that arrives from Slack is ever put into a shell or an argv. A target named in a
request is only ever a key looked up among the configured ones.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.units import Duration

if TYPE_CHECKING:
    import aiohttp  # the session type only: a process whose kinds need no HTTP never loads it

EVERYONE = "*"
"""In ``approvers``: everyone who can click in the alert channel may approve."""


class Mode(StrEnum):
    """How a proposed run happens: by itself, after approval, as advice only, or pretend."""

    AUTO = "auto"
    APPROVE = "approve"
    SUGGEST = "suggest"
    SHADOW = "shadow"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionResult:
    """What one execution did. ``ok`` False means it ran and failed, or could not run."""

    ok: bool
    summary: str
    output: str = ""
    exit_code: int | None = None


class ComponentControls(Protocol):
    """The supervisor's controls over configured components (by configured name only)."""

    async def restart(self, name: str) -> str:
        """Restart every instance; returns what happened, e.g. ``"pid 41 -> 57"``."""
        ...

    async def stop(self, name: str) -> str: ...

    async def start(self, name: str) -> str: ...

    async def scale(self, name: str, instances: int) -> str: ...

    def instances(self, name: str) -> int:
        """How many instances run now."""
        ...


class ActionContext(Protocol):
    """What the engine hands an action for one execution."""

    @property
    def components(self) -> ComponentControls: ...

    @property
    def http(self) -> aiohttp.ClientSession: ...

    @property
    def logger(self) -> logging.Logger: ...

    def now(self) -> float: ...

    def matched_pids(self, check: str) -> Sequence[int]:
        """The pids the named ``process`` check matched on its latest run."""
        ...

    @property
    def subject(self) -> str:
        """The subject of the incident this run answers ("" when it names none): a Fly
        machine action acts on the machine the incident's subject names."""
        ...

    def check_state(self, check: str) -> Mapping[str, Any]:
        """The named check's committed key-value state (the fly check's release history)."""
        ...


class ActionSpec(BaseModel):
    """The keys every ``[[actions]]`` entry has, whatever its kind."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique name."
    )
    kind: str = Field(description="Which action module runs this entry.")
    mode: Mode = Field(
        default=Mode.APPROVE,
        description="auto: runs by itself (low risk only); approve: a button; "
        "suggest: shown, run by hand; shadow: records what it would have done.",
    )
    risk: Risk = Field(
        default=Risk.MEDIUM, description="high needs two different people to approve."
    )
    approvers: list[str] = Field(
        default_factory=list,
        description="Slack user ids and user-group ids who may approve; empty means nobody; "
        "'*' means everyone who can click in the alert channel (a demo, a one-person team).",
    )
    budget: str = Field(
        default="3/1h",
        pattern=r"^\d+/\d+(ms|s|m|h|d)$",
        description="At most N runs per window per target, then the circuit breaker opens.",
    )
    cooldown: Duration = Field(default=60.0, ge=0, description="Quiet time after a run.")
    expires_after: Duration = Field(
        default=3600.0, gt=0, description="A proposal nobody answered expires after this."
    )
    verify_after: Duration = Field(
        default=20.0, ge=0, description="Re-run the triggering check this long after the run."
    )
    timeout: Duration = Field(default=60.0, gt=0, description="How long one run may take.")

    @field_validator("approvers")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry == EVERYONE:
                continue
            if not (entry[:1] in ("U", "W", "S") and entry.isalnum()):
                raise ValueError(f"'{entry}' is not a Slack user (U…) or user-group (S…) id")
        return value

    @property
    def budget_runs(self) -> int:
        return int(self.budget.split("/")[0])

    @property
    def budget_window(self) -> float:
        from common.units import parse_duration

        return parse_duration(self.budget.split("/")[1])


class Action(ABC):
    """Base class of every action kind: ``Spec`` is its pydantic model, ``execute`` runs it."""

    Spec: ClassVar[type[ActionSpec]]
    needs_target: ClassVar[Literal["none", "check"]] = "none"

    def __init__(self, spec: ActionSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    def undoes_deploys_of(self) -> str | None:
        """The app whose deploys this action undoes (a rollback), else None. The engine
        proposes such an action on an incident that opens soon after a deploy of that app."""
        return None

    @abstractmethod
    def describe(self) -> str:
        """What a run does, in a few words for the button and the thread: "restart api"."""

    @abstractmethod
    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        """Run once (or, with ``dry_run``, say exactly what would be done and change nothing).

        Returns an ``ActionResult``; raises only on a bug: the engine records any exception as
        a failed run with its text.
        """
