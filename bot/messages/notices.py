"""Notices about selfreg itself: started, stopping, recovered from a crash, config reloads.

Posted to every channel like incident events, but about selfreg rather than a check.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages.common import human_duration, plural, utc_time


def slack_post_mode() -> str:
    return (
        "Slack post mode: alerts are delivered to Slack, but commands and buttons are off "
        "(set SLACK_APP_TOKEN for socket mode, or SLACK_SIGNING_SECRET for HTTP mode)"
    )


def selfreg_started(checks: int, components: int) -> str:
    return f"selfreg started: {plural(checks, 'check')}, {plural(components, 'component')}"


def selfreg_stopping(uptime: float) -> str:
    return f"selfreg stopped after {human_duration(uptime)}; its components stop with it."


def recovered_from_crash(
    previous_start: float,
    adopted: Sequence[tuple[str, int]],
    incidents: Sequence[tuple[int, str]],
    approvals: Sequence[tuple[int, str]],
) -> str:
    """What selfreg found after a run that ended without stopping (kill -9, OOM, power)."""
    parts = [
        f"selfreg recovered from a crash: the run started {utc_time(previous_start)} never stopped"
    ]
    if adopted:
        parts.append(
            "re-adopted " + ", ".join(f"component {name} (pid {pid})" for name, pid in adopted)
        )
    else:
        parts.append("no running component to re-adopt")
    if incidents:
        listed = ", ".join(f"#{i} {check}" for i, check in incidents)
        parts.append(f"resumed {plural(len(incidents), 'open incident')} ({listed})")
    if approvals:
        listed = ", ".join(f"#{i} {action}" for i, action in approvals)
        parts.append(f"{plural(len(approvals), 'pending approval')} ({listed})")
    return "; ".join(parts) + "."


def config_changes(changes: Sequence[str], settings: Sequence[str], restart: Sequence[str]) -> str:
    """``config reloaded: + check disk, − check old-api, ~ component api (command)``."""
    parts = list(changes)
    if settings:
        parts.append("~ " + ", ".join(settings))
    text = "config reloaded: " + (", ".join(parts) if parts else "no change applied")
    if restart:
        text += f"; needs a restart: {', '.join(restart)}"
    return text


def config_unchanged() -> str:
    return "config reloaded: no change."


def config_refused(problems: Sequence[str]) -> str:
    """The same lines ``selfreg config check`` prints, and what selfreg does about them."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = "\n".join(problems)
    return (
        f"config reload refused ({len(problems)} {noun}); selfreg keeps running on the "
        f"previous config:\n{lines}"
    )


def config_reload_failed(error: str) -> str:
    return f"config reload failed part-way ({error}); see selfreg's log."
