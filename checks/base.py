"""The check contract: what a check is handed, what it returns, and how it is configured.

A check is one class per module in this package, registered in ``checks/__init__.py`` by its
``kind``. The engine builds one instance per ``[[checks]]`` entry (so an instance may keep
in-memory deltas between runs) and calls ``run(ctx)`` once per interval. Everything a check
needs from the outside world arrives through ``ctx`` (a ``CheckContext``): this package never
imports ``bot``.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from common.units import Duration

if TYPE_CHECKING:
    import aiohttp  # the session type only: a process whose kinds need no HTTP never loads it


class Status(StrEnum):
    """What a check saw. ``unknown`` means it could not tell (an error or a timeout)."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Order for "worst of": ok < warning < unknown < critical."""
        return _RANK[self]

    @classmethod
    def worst(cls, statuses: Sequence[Status]) -> Status:
        """The most serious status of several; ok when there are none."""
        return max(statuses, key=lambda s: s.rank, default=cls.OK)


_RANK = {Status.OK: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.CRITICAL: 3}


@dataclass(frozen=True, kw_only=True, slots=True)
class Deploy:
    """A new release a check saw running (the ``fly`` check reports it on its app subject).

    The engine announces it once, stores it as an event, and names it on incidents of
    ``checks`` that open within ``window`` seconds of the observation. A check reports a deploy only
    when the version it had recorded before changes: the first sighting is not a deploy.
    """

    app: str
    version: str
    previous: str
    regions: tuple[str, ...]
    machines: int
    window: float
    checks: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Observation:
    """One thing a check saw about one subject at one moment.

    ``subject`` names the part of the check's target ("/" for a mount, "eth0" for an
    interface); the empty string is the target as a whole. ``values`` are the numeric samples
    (they go to the metrics table); ``summary`` is the one line an operator reads.
    """

    check: str
    subject: str = ""
    status: Status
    summary: str
    values: Mapping[str, float] = field(default_factory=dict)
    at: float
    error: str | None = None
    deploy: Deploy | None = None
    """Set on the one observation of a run that saw a new release (deploy tracking)."""
    severity: Literal["info", "warning", "error", "critical"] | None = None
    """The incident severity this observation asks for, over the spec's (an external alert
    carries its own: ``checks.alertmanager``)."""


def _compiles(value: str) -> str:
    """A pattern in a spec must compile: refused when the config loads, not at the first run."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_compiles)]
"""A spec field holding a regular expression (every check that takes one uses this type)."""


class Threshold(BaseModel):
    """Warn / critical limits for one number; either may be left out.

    ``below = true`` flips the comparison for numbers that are bad when low (free space,
    running count, days to certificate expiry).
    """

    model_config = ConfigDict(extra="forbid")

    warn: float | None = Field(default=None, description="At or past this value: warning.")
    critical: float | None = Field(default=None, description="At or past this value: critical.")

    def status(self, value: float, *, below: bool = False) -> Status:
        """The status of ``value`` against these limits."""

        def past(limit: float | None) -> bool:
            if limit is None:
                return False
            return value <= limit if below else value >= limit

        if past(self.critical):
            return Status.CRITICAL
        if past(self.warn):
            return Status.WARNING
        return Status.OK


@dataclass(frozen=True, kw_only=True, slots=True)
class ProcessEntry:
    """One process in the interval's process table: cheap facts only. ``key`` (pid and start
    time) names the process across pid reuse; it is made once per entry, so the checks that
    remember a decision per process share it instead of keeping a copy each."""

    pid: int
    name: str
    cmdline: tuple[str, ...]
    create_time: float
    key: tuple[int, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.pid, self.create_time))


@dataclass(frozen=True, kw_only=True, slots=True)
class ProcessStats:
    """The costlier facts about one process, read only for processes a check matched."""

    pid: int
    cpu_percent: float
    rss: float
    open_files: int
    threads: int
    uptime: float


class ProcessTable(Protocol):
    """One shared view of the process table for the current interval."""

    def processes(self) -> Sequence[ProcessEntry]:
        """Every process alive when the view was taken."""
        ...

    def listening_pids(self, port: int) -> set[int]:
        """Pids with a socket listening on ``port`` (TCP, any address)."""
        ...

    def stats(self, pid: int) -> ProcessStats | None:
        """CPU, memory, files, threads and uptime of ``pid``; None when it has gone."""
        ...


class StateStore(Protocol):
    """A small key-value store private to one check (log offsets, last pids).

    Values are JSON-serialisable. Writes become durable together with the observation of
    the run that made them, so a restart neither repeats nor skips work.
    """

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value of ``key``, or ``default``."""
        ...

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        ...

    def keys(self) -> list[str]:
        """Every key this check has stored."""
        ...


class CheckContext(Protocol):
    """What the engine hands a check for one run."""

    @property
    def http(self) -> aiohttp.ClientSession:
        """The process-wide HTTP session (one connection pool for every check)."""
        ...

    @property
    def processes(self) -> ProcessTable:
        """This interval's process table view."""
        ...

    @property
    def state(self) -> StateStore:
        """This check's own key-value state."""
        ...

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the check."""
        ...

    def now(self) -> float:
        """The current time in epoch seconds, from the injected clock."""
        ...

    def engine_stats(self) -> Mapping[str, float]:
        """The engine's own figures (loop lag, check run times, backlog) for ``selfreg``."""
        ...


class CheckSpec(BaseModel):
    """The keys every ``[[checks]]`` entry has, whatever its kind."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="Which check module runs this entry.")
    name: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Unique name; letters, digits, '.', '_' and '-'.",
    )
    interval: Duration = Field(default=5.0, gt=0, description="How often the check runs.")
    timeout: Duration | None = Field(
        default=None,
        gt=0,
        description="How long one run may take before it counts as unknown; "
        "default: the interval, at most 30s.",
    )
    severity: Literal["info", "warning", "error", "critical"] | None = Field(
        default=None,
        description="Incident severity when failing; default follows the status "
        "(warning -> warning, critical -> critical, unknown -> error).",
    )
    open_after: int = Field(
        default=2, ge=1, description="Consecutive failing runs before an incident opens."
    )
    confirm_after: Duration | None = Field(
        default=1.0,
        gt=0,
        description="After a first failure, run again this soon to confirm it instead of "
        "waiting a whole interval; omit to wait for the next interval.",
    )
    recover_after: int = Field(
        default=1, ge=1, description="Consecutive ok runs before an incident resolves."
    )
    remediate: list[str] = Field(
        default_factory=list, description="Names of [[actions]] proposed when this check fails."
    )
    runbook_url: str | None = Field(default=None, description="Link shown on the incident.")
    enabled: bool = Field(default=True, description="false keeps the entry but never runs it.")
    anomaly_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="This check's anomaly score threshold; default [models] threshold.",
    )

    @property
    def run_timeout(self) -> float:
        """The effective timeout of one run."""
        return self.timeout if self.timeout is not None else min(self.interval, 30.0)


class Check(ABC):
    """Base class of every check kind.

    Subclasses set ``Spec`` to their pydantic model (a ``CheckSpec`` subclass whose ``kind``
    is a ``Literal``) and implement ``run``.
    """

    Spec: ClassVar[type[CheckSpec]]

    def __init__(self, spec: CheckSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def server(self) -> str | None:
        """The server the next run opens a new connection to (``host:port``), or None when
        it opens none. The engine spreads the starts of the checks that would reach the
        same server at the same moment (a burst of new connections overflows a small
        server's listen queue) and starts the others at once (each spread start is a
        wake-up of the loop, which costs CPU). Kinds that only read local state, or reuse a
        kept-alive connection, say None; the default, ``""``, is a server not named, shared
        by every kind that does not say."""
        return ""

    @abstractmethod
    async def run(self, ctx: CheckContext) -> list[Observation]:
        """Look once and return at least one observation.

        May raise any exception or hang: the engine turns either into an ``unknown``
        observation carrying the error text, under the check's timeout.
        """

    def observe(
        self,
        ctx: CheckContext,
        status: Status,
        summary: str,
        values: Mapping[str, float] | None = None,
        subject: str = "",
    ) -> Observation:
        """Build an observation of this check, stamped with the context's clock."""
        return Observation(
            check=self.name,
            subject=subject,
            status=status,
            summary=summary,
            values=dict(values or {}),
            at=ctx.now(),
        )
