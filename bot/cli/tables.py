"""Terminal layout: aligned tables, state words in colour, and the screens built from them.

The words come from ``bot.messages``; this module owns only column widths, padding, colours
and the order of a screen's parts (``selfreg status``, ``health``, ``backup list`` and the
closing summary of ``selfreg run``'s start-up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot import messages
from bot.cli.terminal import paint
from common.units import format_duration


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [list(map(str, row)) for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def styled_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], paint_columns: Sequence[int] = ()
) -> str:
    """``table``, with the state words of ``paint_columns`` in colour (padding kept right)."""
    text = table(headers, rows)
    if not paint_columns:
        return text
    lines = text.split("\n")
    starts = _column_starts(lines[0], headers)
    painted = [lines[0]]
    for line in lines[1:]:
        for index in sorted(paint_columns, reverse=True):
            begin = starts[index]
            end = starts[index + 1] if index + 1 < len(starts) else len(line)
            cell = line[begin:end]
            word = cell.rstrip()
            painted_cell = paint(word, True) + cell[len(word) :]
            line = line[:begin] + painted_cell + line[end:]
        painted.append(line)
    return "\n".join(painted)


def _column_starts(header: str, headers: Sequence[str]) -> list[int]:
    starts, at = [], 0
    for name in headers:
        at = header.index(name, at)
        starts.append(at)
        at += len(name)
    return starts


def _mark(status: str) -> str:
    return messages.STATUS_MARK.get(status, status)


def observations_table(observations: Iterable[Mapping[str, Any]]) -> str:
    """The ``selfreg health`` / ``check run`` table: one row per check subject."""
    rows = [
        (_mark(o["status"]), messages.subject_label(o["check"], o["subject"]), o["summary"])
        for o in observations
    ]
    return table(messages.OBSERVATION_COLUMNS, rows)


def backups_table(folder: str, backups: Sequence[tuple[str, float, int]]) -> str:
    """``selfreg backup list``: name, time (UTC) and size, newest first."""
    if not backups:
        return messages.no_backups(folder)
    rows = [(name, messages.utc_time(at), messages.file_size(size)) for name, at, size in backups]
    heading = messages.backups_heading(len(backups), folder)
    return heading + "\n" + table(messages.BACKUP_COLUMNS, rows)


def components_table(components: Sequence[Mapping[str, Any]], now: float, colour: bool) -> str:
    """Components with their status, pids, uptime, restarts and last exit code."""
    rows = []
    for c in components:
        instances = c.get("instances") or [c]
        pids = ", ".join(str(i["pid"]) for i in instances if i.get("pid")) or "-"
        up = (
            format_duration(max(now - c["started_at"], 0))
            if c.get("started_at") and c["status"] in ("running", "unready", "starting")
            else "-"
        )
        code = c.get("last_exit_code")
        rows.append(
            (c["name"], c["status"], pids, up, c.get("restarts", 0), "-" if code is None else code)
        )
    return styled_table(messages.COMPONENT_COLUMNS, rows, paint_columns=(1,) if colour else ())


def _status_counts(checks: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for check in checks:
        counts[check["status"]] = counts.get(check["status"], 0) + 1
    return counts


def startup_summary(status: Mapping[str, Any], now: float, colour: bool = False) -> str:
    """The closing table of the start-up: components, then the checks in one line."""
    lines = []
    components = status.get("components", [])
    if components:
        lines.append(components_table(components, now, colour))
    counts = _status_counts(status.get("checks", []))
    lines.append(messages.startup_checks_line(counts, status.get("failing", [])))
    return "\n".join(lines)


def _check_order(check: Mapping[str, Any]) -> tuple[int, str, str]:
    rank = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}
    return rank.get(check["status"], 1), check["check"], check["subject"]


def checks_table(checks: Sequence[Mapping[str, Any]], now: float, colour: bool) -> str:
    """The status screen's checks: state, subject, since when, last run and detail."""
    rows = (
        (
            _mark(c["status"]),
            messages.subject_label(c["check"], c["subject"]),
            format_duration(max(now - c["confirmed_at"], 0)),
            messages.ago(format_duration(max(now - c["at"], 0))),
            c["summary"],
        )
        for c in checks
    )
    return styled_table(messages.CHECK_COLUMNS, rows, paint_columns=(0,) if colour else ())


def _checks_part(status: Mapping[str, Any], now: float, colour: bool) -> list[str]:
    checks = sorted(status.get("checks", []), key=_check_order)
    lines = [messages.checks_heading(_status_counts(checks))]
    lines.append(checks_table(checks, now, colour) if checks else messages.no_check_yet())
    return lines


def _open_part(status: Mapping[str, Any], now: float) -> list[str]:
    incidents = status.get("incidents", [])
    lines = [messages.open_incidents_heading(len(incidents))]
    lines += [messages.status_incident_line(incident, now) for incident in incidents]
    approvals = status.get("pending_approvals", [])
    lines += ["", messages.pending_approvals_heading(len(approvals))]
    lines += [messages.status_approval_line(proposal) for proposal in approvals]
    if scheduled := status.get("scheduled"):
        lines += ["", messages.scheduled_heading(len(scheduled))]
        lines += [messages.scheduled_line(run) for run in scheduled]
    return lines


def status_screen(status: Mapping[str, Any], now: float, colour: bool = False) -> str:
    """``selfreg status``: selfreg itself, components, checks by state, incidents, approvals."""
    lines = [messages.status_head(status, now)]
    peers = status.get("peers") or []
    if peers:
        lines += ["", messages.peers_heading(len(peers))]
        lines += [messages.peer_status_line(peer, now) for peer in peers]
    components = status.get("components", [])
    if components:
        lines += ["", components_table(components, now, colour)]
    lines += ["", *_checks_part(status, now, colour)]
    lines += ["", *_open_part(status, now)]
    backup = status.get("last_backup")
    if backup is not None:
        lines += ["", messages.last_backup(backup, now)]
    beat = status.get("heartbeat") or {}
    if beat.get("enabled"):
        lines += ["", messages.heartbeat_line(beat)]
    lines += ["", messages.failing_line(status.get("failing", []))]
    return "\n".join(lines)
