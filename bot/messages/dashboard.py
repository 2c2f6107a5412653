"""What the web dashboard and ``history`` say: headings, column names, sentences.

Plain text; the dashboard escapes every string before it goes into HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DASH_TITLE = "selfreg"
DASH_NAV = (("Overview", "/dashboard"), ("History", "/dashboard/history"))
DASH_COMPONENTS = "Components"
DASH_CHECKS = "Checks"
DASH_INCIDENTS = "Open incidents"
DASH_APPROVALS = "Waiting for approval"
DASH_PREDICTIONS = "Predictions (24 h)"
DASH_PEERS = "Peers"
DASH_SERVICES = "External services"
DASH_NOT_RUN = "not checked yet"
DASH_TIMELINE = "Timeline"
DASH_AVAILABILITY = "Availability per day"
DASH_TRENDS = "Trend per day (from the one-minute rollups; p95 of the minute means)"
DASH_AUDIT = "Audit trail"
DASH_HISTORY_INCIDENTS = "Incidents"
DASH_NONE = "none"
DASH_FILTER = "Filter"
DASH_SCHEDULED = "Scheduled for a quiet window"
DASH_REGULATION = "Regulation"
DASH_LIVE_OFF = "Live updates need JavaScript; reload the page to see changes."

COLS_COMPONENTS = ("component", "state", "pid", "uptime", "restarts", "last exit")
COLS_CHECKS = ("check", "state", "last values", "24 h")
COLS_INCIDENTS = ("#", "what", "severity", "state", "age", "acked by")
COLS_APPROVALS = ("#", "action", "what it would do", "risk", "for", "expires in", "who may approve")
COLS_PREDICTIONS = ("when", "check", "kind", "score", "ETA")
COLS_SERVICES = ("check", "kind", "where", "state", "summary", "checked")
COLS_HISTORY = ("#", "opened", "what", "kind", "severity", "state", "lasted")
COLS_AUDIT = ("when", "kind", "actor", "subject", "detail")
COLS_TREND = ("day", "min", "mean", "p95", "max")
COLS_STEPS = ("when", "step", "who", "detail")
COLS_SCHEDULED = ("run", "proposal", "action", "for", "runs at", "scheduled by")
COLS_DECISIONS = ("when", "rule", "move", "signal", "outcome")

SIGNIN_TITLE = "Sign in to the selfreg dashboard"
SIGNIN_PROMPT = (
    "This dashboard is reachable beyond this machine: enter the web token (SELFREG_WEB_TOKEN)."
)
SIGNIN_LABEL = "Web token"
SIGNIN_BUTTON = "Sign in"
SIGNIN_WRONG = "That token is not right."


def dash_overall(status: str, checks: int, components: int, incidents: int) -> str:
    """The overview's first line: ``ok: 12 checks, 2 components, 1 open incident``."""
    return (
        f"{status}: {checks} check{'s' * (checks != 1)}, {components} "
        f"component{'s' * (components != 1)}, {incidents} open incident{'s' * (incidents != 1)}"
    )


def dash_action(kind: str, action: str, check: str, subject: str) -> str:
    """What a pending approval would do: ``restart (restart-api) on api``."""
    target = f"{check} {subject}".strip()
    return f"{kind} ({action}) for {target}" if target else f"{kind} ({action})"


def dash_approvers(approvers: tuple[str, ...], needed: int) -> str:
    """Who may approve: ``U1, U2 (two people)`` or ``nobody is configured``."""
    if not approvers:
        return "nobody is configured"
    names = ", ".join(approvers)
    return f"{names} (two different people)" if needed > 1 else names


def dash_slack_link() -> str:
    return "Open in Slack"


def dash_unknown_incident(incident_id: str) -> str:
    return f"There is no incident {incident_id}."


def dash_no_data(metric: str) -> str:
    return f"No data for {metric} in this range."


def dash_regulation(paused: tuple[str, str] | None) -> str:
    """After the regulation state word: what it means, and who paused it and why."""
    if paused is None:
        return "automatic moves run within their budgets"
    reason, by = paused
    why = "" if reason == "on" else f" ({reason})"
    return f"by {by}{why}: every move is proposed to a person instead"


def dash_move(action: str, direction: int) -> str:
    """A decision's move: ``scale-up ↑``, ``cleanup`` or ``-`` (a finding with no action)."""
    return f"{action} {'↑' if direction > 0 else '↓'}" if action and direction else action or "-"


def dash_signal(signal: Mapping[str, Any]) -> str:
    """The value that caused a decision: ``latency 812 (band 100..500)`` for a scale rule,
    the level or recent value a detector fitted."""
    if isinstance(signal.get("value"), int | float):
        band = f" (band {signal['low']:.4g}..{signal['high']:.4g})" if "low" in signal else ""
        return f"{signal.get('metric', 'value')} {signal['value']:.4g}{band}"
    for key in ("level", "recent"):
        if isinstance(signal.get(key), int | float):
            return f"{key} {signal[key]:.4g}"
    return "-"


def dash_alertmanager_in() -> str:
    """Where an ``alertmanager`` check points: it is pushed to, it asks nobody."""
    return "Alertmanager's webhook into /hooks/alertmanager"
