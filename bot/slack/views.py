"""Block Kit for command replies: status, health, alerts, history, silences, help (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import messages
from bot.records import Incident, Silence
from bot.slack.render import ICON, SECTION_MAX, Rendered, bullet_list, slack_time, trim

STATUS_ICON = {"ok": "🟢", "warning": "🟠", "critical": "🔴", "unknown": "⚪"}


def _rendered(title: str, sections: Sequence[str], note: str = "") -> Rendered:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=trim(title, 150), emoji=True))]
    for text in sections:
        if text:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=trim(text, SECTION_MAX))))
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=trim(note, 3000))]))
    return Rendered(blocks=[b.to_dict() for b in blocks[:50]], text=title)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def status_view(
    document: Mapping[str, Any],
    availability: Mapping[str, tuple[float | None, float | None]],
    incidents: Sequence[Incident],
    silences: Sequence[Silence],
    uptime: float,
    now: float,
) -> Rendered:
    """``/selfreg status``: checks by status with availability, incidents, components, silences."""
    checks = document["checks"]
    counts: dict[str, int] = {}
    for c in checks:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    overall = " · ".join(
        f"{STATUS_ICON.get(s, '')} {counts[s]} {s}"
        for s in ("critical", "unknown", "warning", "ok")
        if counts.get(s)
    )
    lines = []
    for c in sorted(
        checks,
        key=lambda c: (
            {"critical": 0, "unknown": 1, "warning": 2}.get(c["status"], 3),
            c["check"],
            c["subject"],
        ),
    ):
        day, week = availability.get(c["check"], (None, None))
        what = messages.subject_label(c["check"], c["subject"])
        lines.append(
            f"{STATUS_ICON.get(c['status'], '')} *{what}* {trim(c['summary'], 100)} · 24 h {percent(day)} · 7 d {percent(week)}"
        )
    incident_lines = [_incident_line(i) for i in incidents]
    component_lines = [
        f"{'🟢' if c['status'] == 'running' else '🔴'} *{c['name']}* {c['status']} · pid {c.get('pid') or '—'} · up {messages.human_duration(now - c['started_at']) if c.get('started_at') and c['status'] == 'running' else '—'} · {c.get('restarts', 0)} restarts"
        for c in document.get("components", [])
    ]
    silence_lines = [_silence_line(s) for s in silences]
    sections = [
        f"*Checks* ({len(checks)}): {overall or 'none yet'}\n"
        + bullet_list(lines, SECTION_MAX - 100),
        f"*Open incidents* ({len(incidents)})\n"
        + (bullet_list(incident_lines, SECTION_MAX - 100) or "None."),
    ]
    if component_lines:
        sections.append(
            f"*Components* ({len(component_lines)})\n"
            + bullet_list(component_lines, SECTION_MAX - 100)
        )
    if silence_lines:
        sections.append(
            f"*Silences* ({len(silence_lines)})\n" + bullet_list(silence_lines, SECTION_MAX - 100)
        )
    return _rendered("selfreg status", sections, f"selfreg up {messages.human_duration(uptime)}")


def _incident_line(incident: Incident) -> str:
    icon = ICON.get(incident.severity.value, "🔴")
    what = messages.subject_label(incident.check, incident.subject)
    since = slack_time(incident.opened_at, messages.clock_time(incident.opened_at))
    owner = f" · acked by {messages.mention_user(incident.acked_by)}" if incident.acked_by else ""
    return f"{icon} #{incident.id} *{what}* {incident.state.value} since {since}{owner}: {trim(incident.summary, 120)}"


def _silence_line(silence: Silence) -> str:
    matcher = ", ".join(f"{k}={v}" for k, v in silence.matcher.items())
    until = (
        slack_time(silence.ends_at, messages.clock_time(silence.ends_at))
        if silence.ends_at
        else "resolved"
    )
    reason = f" · {silence.reason}" if silence.reason else ""
    return f"🔕 #{silence.id} {matcher} until {until} by {messages.mention_user(silence.author)}{reason}"


def alerts_view(incidents: Sequence[Incident]) -> Rendered:
    lines = [_incident_line(i) for i in incidents]
    return _rendered(
        f"{len(incidents)} open incident{'s' if len(incidents) != 1 else ''}",
        [bullet_list(lines, SECTION_MAX) or "Nothing is open. 🎉"],
    )


def history_view(incidents: Sequence[Incident], now: float) -> Rendered:
    lines = []
    for i in incidents:
        what = messages.subject_label(i.check, i.subject)
        if i.resolved_at is not None:
            how = f"resolved after {messages.human_duration(i.resolved_at - i.opened_at)}"
        else:
            how = f"{i.state.value} for {messages.human_duration(now - i.opened_at)}"
        lines.append(
            f"#{i.id} {slack_time(i.opened_at, messages.clock_time(i.opened_at))} *{what}* {i.severity.value}, {how}: {trim(i.summary, 100)}"
        )
    return _rendered(
        f"Last {len(incidents)} incidents", [bullet_list(lines, SECTION_MAX) or "No incidents yet."]
    )


def health_view(observations: Sequence[Mapping[str, Any]]) -> Rendered:
    lines = [
        f"{STATUS_ICON.get(o['status'], '')} *{messages.subject_label(o['check'], o['subject'])}* {trim(o['summary'], 150)}"
        for o in observations
    ]
    counts = messages.health_verdict(
        {
            s: sum(1 for o in observations if o["status"] == s)
            for s in ("ok", "warning", "critical", "unknown")
        }
    )
    return _rendered(
        "selfreg health: every check, run now", [bullet_list(lines, SECTION_MAX)], counts
    )


def help_view(problem: str = "") -> Rendered:
    return _rendered("selfreg commands", [messages.command_help()], problem)


def text_view(text: str) -> Rendered:
    return Rendered(
        blocks=[SectionBlock(text=MarkdownTextObject(text=trim(text, SECTION_MAX))).to_dict()],
        text=trim(text, 3000),
    )


def actions_view(actions: Sequence[Mapping[str, Any]], paused_by: str | None) -> Rendered:
    """``/selfreg actions``: each action's mode, risk, approvers and budget left."""
    lines = [
        f"*{a['name']}* {a['what']} · {a['mode']} · {a['risk']} risk · "
        f"{a['left']} of {a['budget']} left · approvers: "
        + (", ".join(messages.mention(x) for x in a["approvers"]) or "nobody")
        + (
            f" · shadow: {a['shadow'][1]} of {a['shadow'][0]} later run by a person"
            if a.get("shadow")
            else ""
        )
        for a in actions
    ]
    note = (
        f"⛔ Paused by {messages.mention_user(paused_by)}" if paused_by else "Actions are enabled."
    )
    return _rendered(
        f"{len(actions)} actions",
        [bullet_list(lines, SECTION_MAX) or "No actions configured."],
        note,
    )


def audit_view(trail: Sequence[Mapping[str, Any]]) -> Rendered:
    lines = [
        f"{slack_time(r['at'], messages.clock_time(r['at']))} {r['kind']} {r['subject']} by {messages.mention_user(r['actor'])}"
        for r in trail
    ]
    return _rendered("Audit trail", [bullet_list(lines, SECTION_MAX) or "Nothing recorded yet."])
