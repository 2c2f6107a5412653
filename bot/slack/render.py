"""Records in, Block Kit out: pure functions, no clock and no I/O (``now`` is passed in).

Built with ``slack_sdk.models.blocks`` so Slack's limits are checked before anything is sent,
and trimmed here so they are never hit: a header fits 150 characters, a section 3,000, a
message 50 blocks; long lists end with "and N more".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import messages
from bot.records import Incident, IncidentKind, IncidentState, Offer, Severity

HEADER_MAX = 150
SECTION_MAX = 3000
BLOCKS_MAX = 50
SPARK = "▁▂▃▄▅▆▇█"

ICON = {"info": "🔵", "warning": "🟠", "error": "🔴", "critical": "🔴"}

ACK = "incident.ack"
SILENCE_HOUR = "incident.silence_1h"
SILENCE_RESOLVED = "incident.silence_resolved"
UNSILENCE = "incident.unsilence"
RUNBOOK = "incident.runbook"
SHOW_CHART = "incident.chart"
RESTART_ANYWAY = "component.restart_anyway"
KEEP_STOPPED = "component.keep_stopped"
USEFUL = "prediction.useful"
FALSE_ALARM = "prediction.false_alarm"
PAUSE_REGULATION = "regulation.pause"


APPROVE_PREFIX = "proposal.approve."
DENY_PREFIX = "proposal.deny."
QUIET_PREFIX = "proposal.quiet."  # approve at the next quiet window (bot/engine/regulate)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rendered:
    """A message: blocks plus the plain text Slack shows in notifications and falls back to."""

    blocks: list[dict]
    text: str


def trim(text: str, limit: int) -> str:
    """Cut text to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_time(at: float, fallback: str) -> str:
    """A timestamp every reader sees in their own time zone."""
    return f"<!date^{int(at)}^{{time}}|{fallback}>"


def sparkline(values: Sequence[float]) -> str:
    """``▁▂▃█`` for a series; empty when there is nothing to draw."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low or 1.0
    return "".join(
        SPARK[min(int((v - low) / span * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)] for v in values
    )


def incident_title(incident: Incident, now: float) -> str:
    what = messages.subject_label(incident.check, incident.subject)
    if incident.state is IncidentState.RESOLVED:
        return messages.title_resolved((incident.resolved_at or now) - incident.opened_at, what)
    if incident.state is IncidentState.SILENCED:
        return messages.title_silenced(what)
    if incident.state is IncidentState.FLAPPING:
        return messages.title_flapping(what)
    icon = ICON.get(incident.severity.value, "🔴")
    if incident.kind.predicted:
        return messages.title_predicted(messages.prediction_title(incident.kind), what)
    if incident.kind is IncidentKind.REGULATION:
        return messages.title_regulation(what)
    return messages.title_failing(icon, incident.severity.value, what)


def incident_text(incident: Incident, now: float) -> str:
    """The notification text: the title and the latest detail."""
    return trim(f"{incident_title(incident, now)}: {incident.summary}", 3000)


def _facts(incident: Incident) -> str:
    first = slack_time(incident.opened_at, messages.clock_time(incident.opened_at))
    last = slack_time(incident.last_seen_at, messages.clock_time(incident.last_seen_at))
    failed = messages.runs_failed(incident.count)
    if incident.kind.predicted:
        failed = messages.times_predicted(incident.count)
    if incident.state is IncidentState.ACKNOWLEDGED and incident.acked_by:
        owner = messages.owner_acknowledged(incident.acked_by)
    elif incident.state is IncidentState.RESOLVED:
        owner = messages.OWNER_RESOLVED
    else:
        owner = messages.OWNER_NOBODY
    return messages.incident_facts(first, last, failed, owner, incident.id)


BUTTONS = messages.IncidentButtons


def _buttons(incident: Incident) -> list[ButtonElement]:
    value = str(incident.id)
    if incident.kind is IncidentKind.CRASH_LOOP:
        return [
            ButtonElement(
                text=BUTTONS.restart_anyway, action_id=RESTART_ANYWAY, value=value, style="primary"
            ),
            ButtonElement(text=BUTTONS.keep_stopped, action_id=KEEP_STOPPED, value=value),
        ]
    buttons = []
    if incident.state in (IncidentState.OPEN, IncidentState.FLAPPING):
        buttons.append(
            ButtonElement(text=BUTTONS.acknowledge, action_id=ACK, value=value, style="primary")
        )
    if incident.state is IncidentState.SILENCED:
        buttons.append(ButtonElement(text=BUTTONS.unsilence, action_id=UNSILENCE, value=value))
    else:
        buttons.append(
            ButtonElement(text=BUTTONS.silence_hour, action_id=SILENCE_HOUR, value=value)
        )
        buttons.append(
            ButtonElement(text=BUTTONS.silence_resolved, action_id=SILENCE_RESOLVED, value=value)
        )
    if incident.kind.predicted:
        buttons.append(ButtonElement(text=BUTTONS.useful, action_id=USEFUL, value=value))
        buttons.append(ButtonElement(text=BUTTONS.false_alarm, action_id=FALSE_ALARM, value=value))
    if incident.kind is IncidentKind.REGULATION and incident.is_open:
        buttons.append(
            ButtonElement(
                text=messages.PAUSE_REGULATION_BUTTON, action_id=PAUSE_REGULATION, value=value
            )
        )
    buttons.append(ButtonElement(text=BUTTONS.show_chart, action_id=SHOW_CHART, value=value))
    if incident.runbook_url:
        buttons.append(
            ButtonElement(text=BUTTONS.runbook, action_id=RUNBOOK, url=incident.runbook_url[:3000])
        )
    return buttons


def not_urgent(incident: Incident) -> bool:
    """Whether a fix may wait for the quiet window: regulation, predictions, warnings."""
    return (
        incident.kind is IncidentKind.REGULATION
        or incident.kind.predicted
        or incident.severity in (Severity.INFO, Severity.WARNING)
    )


def _offer_buttons(offer: Offer, incident: Incident) -> list[ButtonElement]:
    confirm = None
    if offer.confirm:
        confirm = ConfirmObject(
            title=messages.CONFIRM_TITLE,
            text=trim(messages.confirm_second_person(offer.label), 300),
            confirm=messages.CONFIRM_YES,
            deny=messages.CONFIRM_NO,
        )
    approve = ButtonElement(
        text=trim(messages.approve_button(offer.label), 75),
        action_id=f"{APPROVE_PREFIX}{offer.proposal_id}",
        value=str(offer.proposal_id),
        style="primary",
        confirm=confirm,
    )
    later = ButtonElement(
        text=messages.APPROVE_AT_QUIET_BUTTON,
        action_id=f"{QUIET_PREFIX}{offer.proposal_id}",
        value=str(offer.proposal_id),
    )
    deny = ButtonElement(
        text=messages.DENY_BUTTON,
        action_id=f"{DENY_PREFIX}{offer.proposal_id}",
        value=str(offer.proposal_id),
        style="danger",
    )
    return [approve, later, deny] if not_urgent(incident) else [approve, deny]


def render_incident(
    incident: Incident,
    now: float,
    spark: Sequence[float] = (),
    offers: Sequence[Offer] = (),
    *,
    interactive: bool = True,
    note: str = "",
) -> Rendered:
    """The one message of an incident, as it stands at ``now``, with its proposed fixes.

    ``interactive`` False (Slack post mode: nobody would receive a click) leaves out every
    button but the runbook link. ``note`` is a line under the summary (the deploy the
    incident followed).
    """
    notes = [o.closing_note for o in offers if o.closing_note]
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=trim(incident_title(incident, now), HEADER_MAX), emoji=True)
        ),
        SectionBlock(text=MarkdownTextObject(text=trim(incident.summary or " ", SECTION_MAX))),
        ContextBlock(elements=[MarkdownTextObject(text=_facts(incident))]),
    ]
    if note:
        blocks.insert(2, ContextBlock(elements=[MarkdownTextObject(text=trim(note, 3000))]))
    if line := sparkline(spark):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=messages.last_hour(line))]))
    if incident.state is IncidentState.RESOLVED and notes:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=trim(" · ".join(notes), 3000))])
        )
    if offers and incident.state is not IncidentState.RESOLVED:
        lines = "\n".join(o.line for o in offers[:10])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=trim(lines, SECTION_MAX))))
    if actions := _actions_block(incident, offers, interactive):
        blocks.append(actions)
    return Rendered(blocks=[b.to_dict() for b in blocks], text=incident_text(incident, now))


def _actions_block(
    incident: Incident, offers: Sequence[Offer], interactive: bool
) -> ActionsBlock | None:
    """The buttons under an open incident; a resolved one keeps only its runbook link."""
    if incident.state is not IncidentState.RESOLVED and interactive:
        # the proposals a person can still decide, not the first five ever made: a reopened
        # incident's earlier episodes would otherwise hide its fresh proposals' buttons
        offered = [
            b for o in [o for o in offers if o.buttons][:5] for b in _offer_buttons(o, incident)
        ]
        elements = offered + _buttons(incident)
        return ActionsBlock(block_id=f"incident:{incident.id}", elements=elements[:25])
    if incident.runbook_url:
        runbook = ButtonElement(text="Runbook", action_id=RUNBOOK, url=incident.runbook_url[:3000])
        return ActionsBlock(block_id=f"incident:{incident.id}", elements=[runbook])
    return None


def render_digest(incidents: Sequence[Incident], now: float) -> Rendered:
    """The storm digest: one line per incident, newest last, the rest counted."""
    open_count = sum(1 for i in incidents if i.is_open)
    title = messages.storm_title(len(incidents), open_count)
    lines = [
        messages.digest_line(
            "✅" if not i.is_open else ICON.get(i.severity.value, "🔴"),
            i.id,
            messages.subject_label(i.check, i.subject),
            trim(i.summary, 120),
        )
        for i in incidents
    ]
    body = bullet_list(lines, SECTION_MAX)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=trim(title, HEADER_MAX), emoji=True)),
        SectionBlock(text=MarkdownTextObject(text=body or " ")),
        ContextBlock(elements=[MarkdownTextObject(text=messages.storm_note())]),
    ]
    return Rendered(blocks=[b.to_dict() for b in blocks], text=trim(title, 3000))


def bullet_list(lines: Sequence[str], limit: int) -> str:
    """Lines joined until ``limit`` characters; the rest summed up as "and N more"."""
    shown: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index
        tail = "\n" + messages.and_more(rest)
        if used + len(line) + 1 + len(tail) > limit:
            shown.append(messages.and_more(rest))
            break
        shown.append(line)
        used += len(line) + 1
    return "\n".join(shown)


def reply_text(text: str, mentions: Sequence[str]) -> str:
    """A thread reply, with its mentions first."""
    prefix = " ".join(messages.mention(m) for m in mentions)
    return trim(f"{prefix} {text}".strip(), 3000)
