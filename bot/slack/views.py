"""Block Kit for command replies (status, health, alerts, history, actions, audit, help) and the
Deny modal; pure. The words come from ``bot.messages``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import messages
from bot.records import Incident, Silence
from bot.slack.render import ICON, SECTION_MAX, Rendered, bullet_list, slack_time, trim

DENY_VIEW = "proposal.deny_reason"  # the callback id of the Deny modal
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


def _check_order(check: Mapping[str, Any]) -> tuple[int, str, str]:
    rank = {"critical": 0, "unknown": 1, "warning": 2}.get(check["status"], 3)
    return rank, check["check"], check["subject"]


def _checks_section(
    checks: Sequence[Mapping[str, Any]],
    availability: Mapping[str, tuple[float | None, float | None]],
) -> str:
    """Counts by status with their icons, then one line per check with its availability."""
    counts: dict[str, int] = {}
    for c in checks:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    overall = " · ".join(
        f"{STATUS_ICON.get(s, '')} {counts[s]} {s}"
        for s in ("critical", "unknown", "warning", "ok")
        if counts.get(s)
    )
    lines = []
    for c in sorted(checks, key=_check_order):
        day, week = availability.get(c["check"], (None, None))
        what = messages.subject_label(c["check"], c["subject"])
        icon = STATUS_ICON.get(c["status"], "")
        summary = trim(c["summary"], 100)
        lines.append(messages.check_status_line(icon, what, summary, percent(day), percent(week)))
    heading = messages.checks_section(len(checks), overall)
    return heading + "\n" + bullet_list(lines, SECTION_MAX - 100)


def status_view(
    document: Mapping[str, Any],
    availability: Mapping[str, tuple[float | None, float | None]],
    incidents: Sequence[Incident],
    silences: Sequence[Silence],
    uptime: float,
    now: float,
) -> Rendered:
    """``/selfreg status``: checks by status with availability, incidents, components, silences."""
    incident_lines = [_incident_line(i) for i in incidents]
    component_lines = [
        messages.component_status_line(c, now) for c in document.get("components", [])
    ]
    silence_lines = [_silence_line(s) for s in silences]
    peer_lines = [
        f"{STATUS_ICON.get(p['status'], '')} {trim(p['summary'], 150)}"
        for p in document.get("peers", [])
    ]
    sections = [
        *(
            [messages.peers_section(len(peer_lines)) + "\n" + bullet_list(peer_lines, SECTION_MAX)]
            if peer_lines
            else []
        ),
        _checks_section(document["checks"], availability),
        messages.open_incidents_section(len(incidents))
        + "\n"
        + (bullet_list(incident_lines, SECTION_MAX - 100) or messages.none_open()),
    ]
    if component_lines:
        sections.append(
            messages.components_section(len(component_lines))
            + "\n"
            + bullet_list(component_lines, SECTION_MAX - 100)
        )
    if silence_lines:
        sections.append(
            messages.silences_section(len(silence_lines))
            + "\n"
            + bullet_list(silence_lines, SECTION_MAX - 100)
        )
    if scheduled := document.get("scheduled"):
        lines = [messages.scheduled_line(run) for run in scheduled]
        sections.append(messages.scheduled_heading(len(lines)) + "\n" + bullet_list(lines, 2000))
    return _rendered(messages.status_title(), sections, messages.status_note(uptime))


def _incident_line(incident: Incident) -> str:
    icon = ICON.get(incident.severity.value, "🔴")
    what = messages.subject_label(incident.check, incident.subject)
    since = slack_time(incident.opened_at, messages.clock_time(incident.opened_at))
    return messages.incident_line(icon, incident, what, since, trim(incident.summary, 120))


def _silence_line(silence: Silence) -> str:
    matcher = ", ".join(f"{k}={v}" for k, v in silence.matcher.items())
    until = (
        slack_time(silence.ends_at, messages.clock_time(silence.ends_at))
        if silence.ends_at
        else messages.silence_until_resolved()
    )
    return messages.silence_line(silence, matcher, until)


def alerts_view(incidents: Sequence[Incident]) -> Rendered:
    lines = [_incident_line(i) for i in incidents]
    return _rendered(
        messages.alerts_title(len(incidents)),
        [bullet_list(lines, SECTION_MAX) or messages.nothing_open()],
    )


def history_view(incidents: Sequence[Incident], now: float) -> Rendered:
    lines = []
    for i in incidents:
        what = messages.subject_label(i.check, i.subject)
        opened = slack_time(i.opened_at, messages.clock_time(i.opened_at))
        lines.append(messages.history_line(i, what, opened, now, trim(i.summary, 100)))
    return _rendered(
        messages.history_title(len(incidents)),
        [bullet_list(lines, SECTION_MAX) or messages.no_incidents_yet()],
    )


def health_view(observations: Sequence[Mapping[str, Any]]) -> Rendered:
    lines = [
        messages.health_line(
            STATUS_ICON.get(o["status"], ""),
            messages.subject_label(o["check"], o["subject"]),
            trim(o["summary"], 150),
        )
        for o in observations
    ]
    counts = messages.health_verdict(
        {
            s: sum(1 for o in observations if o["status"] == s)
            for s in ("ok", "warning", "critical", "unknown")
        }
    )
    return _rendered(messages.health_title(), [bullet_list(lines, SECTION_MAX)], counts)


def help_view(problem: str = "") -> Rendered:
    return _rendered(messages.commands_title(), [messages.command_help()], problem)


def text_view(text: str) -> Rendered:
    return Rendered(
        blocks=[SectionBlock(text=MarkdownTextObject(text=trim(text, SECTION_MAX))).to_dict()],
        text=trim(text, 3000),
    )


def actions_view(actions: Sequence[Mapping[str, Any]], paused_by: str | None) -> Rendered:
    """``/selfreg actions``: each action's mode, risk, approvers and budget left."""
    lines = [messages.action_line(a) for a in actions]
    return _rendered(
        messages.actions_title(len(actions)),
        [bullet_list(lines, SECTION_MAX) or messages.no_actions_short()],
        messages.actions_note(paused_by),
    )


def audit_view(trail: Sequence[Mapping[str, Any]]) -> Rendered:
    lines = [
        messages.audit_line(slack_time(r["at"], messages.clock_time(r["at"])), r) for r in trail
    ]
    return _rendered(
        messages.audit_title(), [bullet_list(lines, SECTION_MAX) or messages.nothing_recorded()]
    )


def deny_view(proposal_id: int) -> dict[str, Any]:
    """The modal that asks why (optional) before a proposal is denied."""
    view = View(
        type="modal",
        callback_id=DENY_VIEW,
        private_metadata=str(proposal_id),
        title=PlainTextObject(text=messages.DENY_TITLE),
        submit=PlainTextObject(text=messages.DENY_SUBMIT),
        close=PlainTextObject(text=messages.DENY_CLOSE),
        blocks=[
            InputBlock(
                block_id="reason",
                optional=True,
                label=PlainTextObject(text=messages.deny_question(proposal_id)),
                element=PlainTextInputElement(action_id="text", max_length=500),
            )
        ],
    )
    return view.to_dict()
