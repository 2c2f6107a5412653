"""What the web server, the control socket, Slack's commands and the selfreg check ask of the
running whole: the health and status documents, the engine's own figures, a run of checks now.

Functions of the parts, read-only: nothing here changes a part.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot import control
from bot.engine.alerting import incident_snapshot
from bot.engine.regulate.planning import scheduled_rows
from bot.engine.status import build_status, peer_names
from bot.errors import UnknownCheck
from bot.pidfile import process_facts
from bot.store import Store
from bot.store.incidents import open_incidents
from bot.store.outbox import failed_deliveries
from checks.base import Observation

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.engine.heartbeat import Heartbeat
    from bot.engine.runner import CheckRunner
    from bot.notify.outbox import OutboxWorker
    from bot.runtime.lag import LagProbe
    from bot.runtime.parts import Parts

FAILURES_FOR = 86400.0  # /status lists deliveries that failed for good in the last day


def engine_stats(runner: CheckRunner, outbox: OutboxWorker, lag: LagProbe) -> dict[str, float]:
    """The engine's own figures for the selfreg check: lag, checks in flight, the outbox."""
    durations = list(runner.last_durations.values())
    return {
        "loop_lag": lag.latest,
        "loop_lag_max": lag.take_worst(),
        "checks_in_flight": float(len(runner.in_flight)),
        "checks_skipped": float(runner.skipped),
        "check_time_max": max(durations, default=0.0),
        "outbox_pending": float(outbox.pending_count()),
    }


UNHEALTHY = {"scheduler": "the scheduler is not running", "store": "the store is not writable"}


def vitals(scheduler: AsyncIOScheduler, store: Store) -> dict[str, bool]:
    """What selfreg's own health rests on: its scheduler runs, its store takes writes."""
    return {"scheduler": scheduler.running, "store": store.is_writable()}


def health_reasons(scheduler: AsyncIOScheduler, store: Store) -> list[str]:
    """Why selfreg is unhealthy (empty: healthy); the heartbeat pings ``/fail`` while any."""
    return _reasons(vitals(scheduler, store))


def _reasons(found: Mapping[str, bool]) -> list[str]:
    return [UNHEALTHY[name] for name, ok in found.items() if not ok]


def health(parts: Parts) -> tuple[bool, dict[str, Any]]:
    """(alive, body) for ``/health`` and the first health check of the start."""
    found = vitals(parts.scheduler, parts.store)
    reasons = _reasons(found)
    counts = Counter(s.status.value for s in parts.runner.latest.values())
    body = {
        "status": "ok" if not reasons else "failing",
        "reasons": reasons,
        "store_error": parts.store.write_error,
        **found,
        "loop_lag": parts.lag.latest,
        "checks": dict(counts),
        "slack": slack_health(parts),
        "heartbeat": heartbeat_health(parts.heartbeat),
    }
    return not reasons, body


def slack_health(parts: Parts) -> dict[str, Any]:
    """Slack's state for /health and /status: it never makes /health fail."""
    slack = parts.config.slack
    if not slack.enabled:
        return {"mode": "off"}
    found = parts.slack.health() if parts.slack is not None else {"mode": slack.mode}
    notifier = parts.slack_notifier
    found["last_error"] = notifier.last_error if notifier is not None else None
    return found


def heartbeat_health(beat: Heartbeat | None) -> dict[str, Any]:
    """The heartbeat for /status and /health: pings sent and failed, the last error (never
    the URL, a secret). ``{"enabled": False}`` without SELFREG_HEARTBEAT_URL, or before the
    heartbeat starts (with the "selfreg is running" line)."""
    if beat is None or not beat.running:
        return {"enabled": False}
    return {
        "enabled": True,
        "sent": beat.sent,
        "failed": beat.failed,
        "last_error": beat.last_error,
    }


def status(parts: Parts) -> dict[str, Any]:
    """The status document (``selfreg status``, ``/status``, ``/selfreg status``)."""
    now = parts.clock.now()
    peers = peer_names(check.spec for check in parts.runner.checks.values())
    document = build_status(
        parts.runner.latest, parts.supervisor.snapshot(), running=True, now=now, peers=peers
    )
    document["slack"] = slack_health(parts)
    document["delivery_failures"] = failed_deliveries(parts.store, now - FAILURES_FOR)
    document["selfreg"] = process_facts()
    document["heartbeat"] = heartbeat_health(parts.heartbeat)
    document["incidents"] = [incident_snapshot(i) for i in open_incidents(parts.store)]
    document["scheduled"] = scheduled_rows(parts.store)  # maintenance for quiet windows
    return document


async def run_checks(runner: CheckRunner, names: Sequence[str] | None) -> list[Observation]:
    """Run checks once now without recording anything (health and ``check run``)."""
    if names is not None:
        missing = [n for n in names if n not in runner.checks]
        if missing:
            raise UnknownCheck(missing[0], sorted(runner.checks))
    results = await runner.run_now(names)
    return [o for r in results for o in r.observations]


async def observation_dicts(
    runner: CheckRunner, names: Sequence[str] | None
) -> list[dict[str, Any]]:
    """``run_checks`` as plain JSON (Slack's ``/selfreg health`` and ``check``)."""
    return [control.observation_dict(o) for o in await run_checks(runner, names)]
