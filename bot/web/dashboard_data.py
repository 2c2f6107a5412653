"""What each dashboard page shows, gathered from the store (read-only) and the config.

The dashboard reads through its own read-only connection on one worker thread, so a page
never blocks the event loop the checks run on, and never takes the writer's lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from yarl import URL

from bot import messages
from bot.config.schema import Settings
from bot.engine.charts import Chart, chart_of, incident_series, incident_window
from bot.engine.predict.predictor import metric_limits
from bot.engine.trend import daily_availability, day_starts
from bot.records import Incident, LatestState, Proposal
from bot.store import components, history, predictions, proposals, timeline
from bot.store import regulation as store_regulation
from bot.store.db import Store, open_store
from bot.store.incidents import get_incident, open_incidents
from bot.store.slack_posts import digest_place
from bot.store.state import load_latest
from checks.base import CheckSpec, Status

T = TypeVar("T")

Limits = Mapping[str, Mapping[str, list[tuple[str, float, str]]]]
"""Per check, per metric: its (name, limit, direction) thresholds (``metric_limits``)."""

SPARK_BUCKETS = 48
DECISIONS = 5
"""Regulation decisions the overview lists."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    """What the config tells the dashboard: thresholds, and each action's kind and approvers."""

    limits: Limits = field(default_factory=dict)
    action_kinds: Mapping[str, str] = field(default_factory=dict)
    approvers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    """Peers and external services by check name (``services_of``): the overview lists them."""
    regulated: bool = False
    """Scale rules are configured: the overview shows the regulation line even before any
    decision."""


PEER_KINDS = frozenset({"peer", "sync"})
"""Checks about the other selfreg: its /status folded into one line, and shared folders."""
SERVICE_KINDS = frozenset({"fly", "ngrok", "cloudflared", "prometheus", "alertmanager"})
"""Checks about services selfreg does not run: the platform, tunnels, Prometheus, Alertmanager."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Service:
    """A configured peer or external service: its check's kind and where it points."""

    kind: str
    where: str

    @property
    def peer(self) -> bool:
        return self.kind in PEER_KINDS


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckRow:
    """One check on the overview: worst status, its subjects' states, its series."""

    name: str
    status: Status
    states: list[LatestState]
    series: list[history.Series]


@dataclass(frozen=True, kw_only=True, slots=True)
class Overview:
    """Everything the overview page shows."""

    now: float
    overall: Status
    checks: list[CheckRow]
    sparks: dict[int, list[float]]
    components: list[dict[str, Any]]
    incidents: list[Incident]
    proposals: list[Proposal]
    predictions: list[predictions.PredictionRow]
    scheduled: list[store_regulation.Waiting] = field(default_factory=list)
    """Proposals approved for a quiet window, waiting for it (issue 17)."""
    regulation_paused: tuple[str, str] | None = None
    decisions: list[store_regulation.DecisionRow] = field(default_factory=list)
    """The latest regulation decisions, newest first."""


class Reader:
    """The dashboard's read-only store, used from one worker thread."""

    def __init__(self, path: Path, facts: Callable[[], Facts], now: Callable[[], float]) -> None:
        self.path = path
        self.facts = facts
        self.now = now
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard")
        self._store: Store | None = None

    def store(self) -> Store:
        """The read-only connection, opened on first use (on the worker thread)."""
        if self._store is None:
            self._store = open_store(self.path, readonly=True)
        return self._store

    async def run(self, read: Callable[[Reader], T]) -> T:
        """Run ``read(self)`` on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, read, self)

    def close(self) -> None:
        """Close the connection (on the worker thread) and stop the thread."""
        if self._store is not None:
            self._pool.submit(self._store.close).result()
            self._store = None
        self._pool.shutdown(wait=False)

    # ---- the pages ---------------------------------------------------------------------------
    def overview(self) -> Overview:
        store, now = self.store(), self.now()
        latest = load_latest(store)
        series = history.all_series(store)
        width = 86400.0 / SPARK_BUCKETS
        start = now - 86400.0
        rows = _check_rows(latest, series)
        shown = [row.series[0].id for row in rows if row.series]
        return Overview(
            now=now,
            overall=Status.worst([s.status for s in latest.values()]),
            checks=rows,
            sparks=history.sparklines(store, shown, start, width, SPARK_BUCKETS),
            components=components.summaries(store),
            incidents=open_incidents(store),
            proposals=proposals.open_proposals(store),
            predictions=predictions.recent(store, now - 86400.0, limit=20),
            scheduled=store_regulation.waiting(store),
            regulation_paused=store_regulation.paused(store),
            decisions=store_regulation.decisions(store, limit=DECISIONS),
        )

    def check(self, name: str, span: float) -> tuple[list[Chart], list[Incident]]:
        """A check's charts over ``span`` seconds up to now, and its incidents."""
        store, now = self.store(), self.now()
        charts = [self.chart(s, now - span, now) for s in history.all_series(store, name)]
        return charts, timeline.incidents_of(store, name, now - span)

    def chart(self, series: history.Series, start: float, end: float) -> Chart:
        """One series between ``start`` and ``end`` with its thresholds and marks."""
        limits = self.facts().limits.get(series.check, {}).get(series.metric, [])
        return chart_of(self.store(), series, start, end, limits)

    def incident(
        self, incident_id: int
    ) -> tuple[Incident, list[timeline.Step], list[Chart], str | None]:
        """An incident, its steps, its metrics' charts from a while before it to after, and
        the ts of the storm digest whose thread its Slack message is in (None: top level)."""
        store = self.store()
        found = get_incident(store, incident_id)
        if found is None:
            raise KeyError(incident_id)
        start, end = incident_window(found, self.now())
        charts = [self.chart(s, start, end) for s in incident_series(store, found)]
        digest = digest_place(store, found.digest_id) if found.digest_id is not None else None
        thread = digest[1] if digest is not None else None
        return found, timeline.incident_steps(store, found), charts, thread

    def history(self, filters: Mapping[str, str], span: float) -> dict[str, Any]:
        """The history page: filtered incidents and audit rows, availability, trends."""
        store, now = self.store(), self.now()
        start = now - span
        checks = sorted({s.check for s in history.all_series(store)} | set(_state_checks(store)))
        wanted = [filters["check"]] if filters.get("check") else checks
        return {
            "incidents": timeline.incidents_between(
                store,
                start,
                check=filters.get("check"),
                severity=filters.get("severity"),
                kind=filters.get("kind"),
            ),
            "audit": timeline.audit_between(store, start, kind=filters.get("audit")),
            "choices": {**timeline.incident_kinds(store), "checks": checks},
            "days": day_starts(now, span),
            "availability": {c: daily_availability(store, c, now, span) for c in wanted},
            "trends": {
                s: history.day_trends(store, s.id, start, now)
                for s in history.all_series(store)
                if s.check in wanted
            },
        }

    def version(self) -> int:
        """Changes whenever selfreg commits anything (the live loop's cheap poll)."""
        return timeline.data_version(self.store())


def _check_rows(
    latest: Mapping[tuple[str, str], LatestState], series: list[history.Series]
) -> list[CheckRow]:
    by_check: dict[str, list[LatestState]] = {}
    for (check, _), state in latest.items():
        by_check.setdefault(check, []).append(state)
    return [
        CheckRow(
            name=name,
            status=Status.worst([s.status for s in states]),
            states=states,
            series=[s for s in series if s.check == name],
        )
        for name, states in sorted(by_check.items())
    ]


def _state_checks(store: Store) -> list[str]:
    return sorted({check for check, _ in load_latest(store)})


def wall_clock() -> float:
    """The dashboard's default clock."""
    return time.time()


def facts_from(settings: Settings) -> Facts:
    """The dashboard's facts from a config: each check's thresholds, each action's kind and
    who may approve it."""
    return Facts(
        limits={spec.name: metric_limits(spec) for spec in settings.checks},
        action_kinds={a.name: a.kind for a in settings.actions},
        approvers={a.name: tuple(a.approvers) for a in settings.actions},
        services=services_of(settings.checks),
        regulated=bool(settings.regulate.scale),
    )


def services_of(specs: Iterable[CheckSpec]) -> dict[str, Service]:
    """The peers and external services among the configured checks, with where each points
    (a URL without any user or password, an app, a folder pair)."""
    return {
        spec.name: Service(kind=spec.kind, where=_where(spec))
        for spec in specs
        if spec.kind in PEER_KINDS | SERVICE_KINDS
    }


def _where(spec: CheckSpec) -> str:
    """Where a peer or service check points, read from its kind's own keys."""
    if spec.kind == "alertmanager":
        return messages.dash_alertmanager_in()
    if spec.kind == "sync":
        return f"{getattr(spec, 'source', '')} → {getattr(spec, 'destination', '')}"
    if spec.kind == "fly":
        group = getattr(spec, "process_group", None)
        return str(getattr(spec, "app", "")) + (f" ({group})" if group else "")
    for key in ("url", "hostname", "api_url", "metrics_url"):
        value = getattr(spec, key, None)
        if value:
            return str(URL(str(value)).with_user(None)) if "://" in str(value) else str(value)
    return ""
