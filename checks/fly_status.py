"""How the ``fly`` check judges one machine, and the numbers it records (pure).

A started machine is as good as its worst Fly health check; a stopped or suspended one counts
as the check's ``stopped`` setting says (critical by default; 'ok' for apps that autostop); a
failed one is critical; one in a passing state (starting, replacing ...) is fine until it has
stayed there ``stuck_after`` (Fly's own "wedged" rule is 5 to 10 minutes), then critical. A
host Fly cannot reach is a warning: the state shown may be stale.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from checks.base import Status, Threshold
from checks.fly_machines import FAILED, STOPPED, TRANSIENT, Machine
from common.units import format_duration

_CHECK_STATUS = {"passing": Status.OK, "warning": Status.WARNING, "critical": Status.CRITICAL}
_OOM_RECENT = 3600.0  # an OOM kill this recent makes a started machine a warning


class MachineRules(Protocol):
    """The keys of the check's spec the judgement reads."""

    stopped: str
    stuck_after: float
    restarts: Threshold


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def exit_text(machine: Machine) -> str:
    """The newest exit in words: "exited with code 137 (OOM killed) at 2025-05-14 12:40 UTC"."""
    last = machine.last_exit
    if last is None:
        return ""
    code = f"code {last.code}" if last.code is not None else "no exit code"
    why = " (OOM killed)" if last.oom_killed else " (stop requested)" if last.requested else ""
    return f"exited with {code}{why} at {_utc(last.at)}"


def _health_checks(machine: Machine) -> tuple[Status, list[str]]:
    """The worst Fly health check and the words for the failing ones (with their output)."""
    statuses, words = [], []
    for check in machine.checks:
        status = _CHECK_STATUS.get(check.status, Status.UNKNOWN)
        statuses.append(status)
        if status is not Status.OK:
            output = f": {check.output.strip()[:200]}" if check.output.strip() else ""
            words.append(f"check {check.name} {check.status}{output}")
    return Status.worst(statuses), words


def _started(machine: Machine, rules: MachineRules, now: float) -> tuple[Status, list[str]]:
    status, words = _health_checks(machine)
    if machine.checks and status is Status.OK:
        words.append(f"{len(machine.checks)} checks passing")
    last = machine.last_exit
    if last is not None and last.oom_killed and now - last.at < _OOM_RECENT:
        status = Status.worst([status, Status.WARNING])
        words.append(exit_text(machine))
    return status, words


def judge_machine(machine: Machine, rules: MachineRules, now: float) -> tuple[Status, str]:
    """(status, summary) of one machine."""
    head = f"{machine.state} in {machine.region}" + (
        f", {machine.version}" if machine.version else ""
    )
    words: list[str] = []
    if machine.state == "started":
        status, words = _started(machine, rules, now)
    elif machine.state in STOPPED or machine.state == "created":
        status = Status(rules.stopped)
        words = [exit_text(machine)] if machine.last_exit else []
    elif machine.state in FAILED:
        status = Status.CRITICAL
        words = [exit_text(machine)] if machine.last_exit else []
    elif machine.state in TRANSIENT:
        since = now - machine.updated_at if machine.updated_at else 0.0
        stuck = since >= rules.stuck_after
        status = Status.CRITICAL if stuck else Status.OK
        words = [f"{'stuck ' if stuck else ''}{machine.state} for {format_duration(since)}"]
    else:
        status, words = Status.WARNING, [f"state {machine.state!r} is not one selfreg knows"]
    restarts = machine.last_exit.restart_count if machine.last_exit else 0
    if restarts:
        status = Status.worst([status, rules.restarts.status(restarts)])
        words.append(f"{restarts} restarts")
    if machine.host_status != "ok":
        status = Status.worst([status, Status.WARNING])
        words.append(f"host {machine.host_status}: Fly cannot reach it, the state may be stale")
    return status, "; ".join([head, *(w for w in words if w)])


def machine_values(machine: Machine) -> dict[str, float]:
    """The numbers recorded per machine: guest size (configured, not used), restarts, checks."""
    values: dict[str, float] = {
        "up": 1.0 if machine.state == "started" else 0.0,
        "memory_mb": float(machine.memory_mb),
        "cpus": float(machine.cpus),
        "restarts": float(machine.last_exit.restart_count if machine.last_exit else 0),
        "oom_kills": float(machine.oom_kills),
        "checks_failing": float(sum(1 for c in machine.checks if c.status != "passing")),
    }
    if machine.release:
        values["release"] = float(machine.release)
    if machine.last_exit is not None and machine.last_exit.code is not None:
        values["exit_code"] = float(machine.last_exit.code)
    return values
