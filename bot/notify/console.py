"""The console channel: one readable line per incident event on selfreg's standard output,
in the line format every part shares (``bot.logline``): the incident's severity as the level,
the check and subject as the logger; JSON lines add the incident's id, check, subject, state.

Without Slack the console is where a person first meets a proposed fix, so an incident's
opening (or reopening, or escalation) is followed by one line per proposal still waiting for
a person, with the exact command that approves or denies it; a resolution names the fix
that ran and who approved it. Both are read from the store when the line is printed: the
proposals are saved in the same transaction as the notice, after it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from actions.base import Mode
from bot import logline, messages
from bot.notify.base import OutboxMessage
from bot.records import IncidentKind, Proposal, ProposalState
from bot.store import proposals
from bot.store.db import Store

_ASKS_FOR_APPROVAL = ("opened", "reopened", "escalated")
"""Notices after which the waiting proposals are listed with their commands."""
_RAN = (ProposalState.RUNNING, ProposalState.SUCCEEDED, ProposalState.VERIFIED)


class ConsoleNotifier:
    """Prints incident events; the channel a newcomer sees before Slack is set up."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, store: Store | None = None) -> None:
        self._stream = stream
        self._store = store

    async def deliver(self, message: OutboxMessage) -> None:
        stream = self._stream or sys.stdout
        if message.kind == "notice.post":  # a plain notice (started, config reloaded)
            text = messages.plain_text(message.payload["text"])
            logline.write(stream, "INFO", "selfreg", text, at=message.payload["at"])
            return
        if message.kind != "incident.notice":
            return
        incident = message.payload["incident"]
        for text in self._incident_texts(message.payload):
            logline.write(
                stream,
                incident["severity"],
                messages.subject_label(incident["check"], incident["subject"]),
                messages.plain_text(text),
                at=message.payload.get("at", incident["last_seen_at"]),
                incident=incident.get("id"),
                check=incident["check"],
                subject=incident["subject"],
                state=incident.get("state"),
            )

    def _incident_texts(self, payload: Mapping[str, Any]) -> list[str]:
        """The notice's text, then (after an opening) each proposal waiting for a person."""
        incident = payload["incident"]
        notice = payload.get("notice")
        fixes = self._proposals(incident.get("id"))
        text = payload["text"]
        if notice == "resolved":
            text += "".join(
                messages.console_fixed_by(p.action, p.decided_by)
                for p in fixes
                if p.state in _RAN and p.decided_by
            )
        texts = [text]
        if notice == "opened" and incident.get("kind") == IncidentKind.CRASH_LOOP.value:
            component = str(incident["check"]).removeprefix("component:")
            texts.append(messages.console_crash_loop(component, incident.get("id") or 0))
        if notice in _ASKS_FOR_APPROVAL:
            waiting = {  # the newest per action: an older one left from before a reopening
                p.action: p
                for p in fixes
                if p.state is ProposalState.PROPOSED and p.mode is Mode.APPROVE
            }
            texts += [
                messages.console_proposal(p.id, p.action, p.risk.value, p.expires_at)
                for p in waiting.values()
            ]
        return texts

    def _proposals(self, incident_id: int | None) -> list[Proposal]:
        if self._store is None or incident_id is None:
            return []
        return proposals.for_incident(self._store, incident_id)
