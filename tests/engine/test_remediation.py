"""Remediation in process: an incident's proposal, approved, run (a real run_command on a
harmless command), verified; every step in the store, the audit log and the thread; the
offers a Slack message draws come from the stored proposals through offers_for."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import actions
from actions.base import Action
from bot.clock import SystemClock
from bot.config.alerts import AlertsSettings, EscalationStep
from bot.engine.alerting import Alerting
from bot.engine.offers import budget_windows, offers_for
from bot.engine.remediation import Remediation
from bot.engine.remediation_runs import Verification
from bot.engine.transitions import fingerprint
from bot.notify.console import ConsoleNotifier
from bot.notify.outbox import OutboxWorker
from bot.records import Incident, IncidentKind, ProposalState, Severity, Transition
from bot.store import Store, open_store
from bot.store import proposals as store_proposals
from checks.base import CheckSpec, Status
from tests.support.action_context import RealActionContext, action_context
from tests.support.db import rows, scalar

ALICE = "U0ALICE"


@pytest.fixture
def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(tmp_path / "selfreg.db")
    yield opened
    opened.close()


@pytest.fixture
async def ctx() -> AsyncIterator[RealActionContext]:
    async with action_context() as context:
        yield context


def build_actions(tmp_path: Path, **spec: object) -> dict[str, Action]:
    marker = tmp_path / "fixed"
    entry = {
        "name": "fix",
        "kind": "run_command",
        "command": [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('x'); print('done')"],
        "mode": "approve",
        "risk": "low",
        "approvers": [ALICE],
        "verify_after": "0s",
        **spec,
    }
    return {"fix": actions.REGISTRY["run_command"](actions.REGISTRY["run_command"].Spec(**entry))}


class Rig:
    """Alerting and remediation over one store, with a verifier that reads the marker file."""

    def __init__(
        self,
        store: Store,
        ctx: RealActionContext,
        tmp_path: Path,
        channels: tuple[str, ...] = ("slack",),
        alerts: AlertsSettings | None = None,
        **spec: object,
    ):
        self.store = store
        self.marker = tmp_path / "fixed"
        self.actions = build_actions(tmp_path, **spec)
        self.alerting = Alerting(
            store,
            SystemClock(),
            alerts or AlertsSettings(),
            {"api": CheckSpec(kind="http", name="api")},
            dict.fromkeys(channels, Severity.INFO),
        )
        self.remediation = Remediation(
            store=store,
            clock=SystemClock(),
            actions=self.actions,
            remediations={"api": ["fix"]},
            alerting=self.alerting,
            context=ctx,
            verify=self.verify,
            groups_of=self.groups_of,
        )
        self.alerting.on_opened = self.remediation.on_incident_opened
        self.verified: list[str] = []

    async def verify(self, check: str) -> Verification:
        self.verified.append(check)
        ok = self.marker.exists()
        return Verification(ok=ok, summary="api answers again" if ok else "api still down")

    async def groups_of(self, user: str) -> set[str]:
        await asyncio.sleep(0)  # Slack's usergroups lookup: other clicks run meanwhile
        return set()

    def open_incident(self, kind: IncidentKind = IncidentKind.RULE) -> Incident:
        incident = self.change(kind, Status.OK, Status.CRITICAL, "api is down")
        assert incident is not None
        return incident

    def change(
        self, kind: IncidentKind, previous: Status, current: Status, summary: str
    ) -> Incident | None:
        """Hand alerting one transition of the api check, in a transaction as the runner does."""
        with self.store.transaction():
            return self.alerting.handle(
                Transition(
                    fingerprint=fingerprint("api", "", kind, "latency" if kind.predicted else ""),
                    check="api",
                    subject="",
                    kind=kind,
                    previous=previous,
                    current=current,
                    severity=Severity.CRITICAL,
                    summary=summary,
                    at=SystemClock().now(),
                )
            )


async def test_proposal_approve_run_verify(store: Store, ctx, tmp_path: Path) -> None:
    rig = Rig(store, ctx, tmp_path)
    incident = rig.open_incident()
    [proposal] = store_proposals.for_incident(store, incident.id)
    assert proposal.state is ProposalState.PROPOSED and proposal.action == "fix"

    decision = await rig.remediation.approve(proposal.id, ALICE)
    assert decision.allowed and decision.runs
    await rig.remediation.wait_idle(10)

    done = store_proposals.get(store, proposal.id)
    assert done is not None and done.state is ProposalState.VERIFIED
    assert done.decided_by == ALICE and rig.verified == ["api"]
    run = rows(store, "SELECT ok, exit_code, output, verified FROM action_runs")[0]
    assert (run["ok"], run["exit_code"], run["verified"]) == (1, 0, 1)
    assert run["output"].strip() == "done"
    audit = [r["kind"] for r in rows(store, "SELECT kind FROM audit ORDER BY id")]
    assert audit == [
        "proposal.created",
        "decision.approve",
        "action.started",
        "action.finished",
        "action.verified",
    ]
    replies = [
        json.loads(r["payload"])["text"]
        for r in rows(store, "SELECT payload FROM outbox WHERE kind = 'incident.reply'")
    ]
    assert any(text.startswith("Ran ") for text in replies)
    assert replies[-1] == "Verified: api answers again"


async def test_a_fix_that_does_not_help_an_acknowledged_incident_escalates_without_saying_unacked(
    store: Store, ctx, tmp_path: Path
) -> None:
    alerts = AlertsSettings(escalation=[EscalationStep(after=3600.0, mention=["@here"])])
    rig = Rig(store, ctx, tmp_path, alerts=alerts, command=[sys.executable, "-c", "pass"])
    incident = rig.open_incident()
    rig.alerting.acknowledge(incident.id, ALICE)
    [proposal] = store_proposals.for_incident(store, incident.id)
    await rig.remediation.approve(proposal.id, ALICE)
    await rig.remediation.wait_idle(10)

    replies = [
        json.loads(r["payload"])["text"]
        for r in rows(store, "SELECT payload FROM outbox WHERE kind = 'incident.reply'")
    ]
    [escalation] = [text for text in replies if "Escalation step" in text]
    assert escalation.startswith("Remediation was not effective. Escalation step 1 of 1:")
    assert "still failing after" in escalation and "not acknowledged" not in escalation


async def test_a_second_click_is_refused_and_a_deny_closes_it(
    store: Store, ctx, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, tmp_path)
    incident = rig.open_incident()
    [proposal] = store_proposals.for_incident(store, incident.id)
    denied = await rig.remediation.deny(proposal.id, ALICE, "not now")
    assert denied.allowed
    again = await rig.remediation.approve(proposal.id, ALICE)
    assert not again.allowed
    assert store_proposals.get(store, proposal.id).state is ProposalState.DENIED  # type: ignore[union-attr]
    assert scalar(store, "SELECT count(*) FROM action_runs") == 0


async def test_a_predicted_incident_only_proposes_even_an_auto_action(
    store: Store, ctx, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, tmp_path, mode="auto")
    incident = rig.open_incident(IncidentKind.ANOMALY)
    [proposal] = store_proposals.for_incident(store, incident.id)
    await rig.remediation.wait_idle(5)
    assert proposal.mode.value == "approve" and not rig.marker.exists()


async def test_offers_come_from_the_stored_proposals(store: Store, ctx, tmp_path: Path) -> None:
    rig = Rig(store, ctx, tmp_path)
    incident = rig.open_incident()
    now = SystemClock().now()
    stored = store_proposals.for_offers(store, incident.id, budget_windows(rig.actions), now)
    [offer] = offers_for(stored, rig.actions, now)
    assert offer.buttons and not offer.confirm
    assert offer.label == rig.actions["fix"].describe()
    rig.remediation.pause(ALICE, True)
    paused = store_proposals.for_offers(store, incident.id, budget_windows(rig.actions), now)
    assert not offers_for(paused, rig.actions, now)[0].buttons, "paused: no buttons"
    assert offers_for(paused, {}, now) == [], "an action no longer configured is not offered"


def console_rig(
    store: Store, ctx: RealActionContext, tmp_path: Path
) -> tuple[Rig, io.StringIO, OutboxWorker]:
    """A rig whose only channel is the console, printing into the returned buffer."""
    out = io.StringIO()
    outbox = OutboxWorker(store, {"console": ConsoleNotifier(out, store)}, SystemClock())
    return Rig(store, ctx, tmp_path, channels=("console",)), out, outbox


async def test_the_console_shows_the_fix_with_its_command_and_who_approved_it(
    store: Store, ctx, tmp_path: Path
) -> None:
    rig, out, outbox = console_rig(store, ctx, tmp_path)
    rig.open_incident()
    await outbox.deliver_due()
    [proposal] = store_proposals.for_incident(store, 1)
    await rig.remediation.approve(proposal.id, "cli:alice", trusted=True)
    await rig.remediation.wait_idle(10)
    rig.change(IncidentKind.RULE, Status.CRITICAL, Status.OK, "api answers again")
    await outbox.deliver_due()

    lines = out.getvalue().splitlines()
    assert lines[0].endswith("CRITICAL  api  Opened: api is down")
    assert re.search(
        r"CRITICAL  api  Proposed fix #1: fix \(low risk\)\. Approve: `selfreg approve 1` "
        r"· deny: `selfreg deny 1` \(expires .*\)$",
        lines[1],
    )
    assert "Approved by cli:alice, running." in lines[2]
    assert re.search(
        r"Resolved after .*: api answers again · fixed by fix, approved by cli:alice$", lines[-1]
    )


async def test_after_a_reopening_the_console_offers_only_the_newest_proposal(
    store: Store, ctx, tmp_path: Path
) -> None:
    rig, out, outbox = console_rig(store, ctx, tmp_path)
    rig.open_incident()
    rig.change(IncidentKind.RULE, Status.CRITICAL, Status.OK, "api answers again")
    rig.change(IncidentKind.RULE, Status.OK, Status.CRITICAL, "api is down again")
    await outbox.deliver_due()

    reopened = out.getvalue().splitlines()[-2:]
    assert reopened[0].endswith("Failing again: api is down again")
    assert "Proposed fix #2: fix" in reopened[1]
    assert "Proposed fix #1" not in "\n".join(reopened)


async def test_a_proposal_of_a_resolved_incident_is_refused_and_runs_nothing(
    store: Store, ctx, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, tmp_path)
    incident = rig.open_incident()
    [proposal] = store_proposals.for_incident(store, incident.id)
    rig.change(IncidentKind.RULE, Status.CRITICAL, Status.OK, "api answers again")
    decision = await rig.remediation.approve(proposal.id, ALICE)
    assert not decision.allowed and "is resolved" in decision.reason
    assert scalar(store, "SELECT count(*) FROM action_runs") == 0


async def test_a_reopening_retires_the_earlier_episodes_unanswered_proposals(
    store: Store, ctx, tmp_path: Path
) -> None:
    rig = Rig(store, ctx, tmp_path)
    incident = rig.open_incident()
    rig.change(IncidentKind.RULE, Status.CRITICAL, Status.OK, "api answers again")
    rig.change(IncidentKind.RULE, Status.OK, Status.CRITICAL, "api is down again")
    first, fresh = store_proposals.for_incident(store, incident.id)
    assert first.state is ProposalState.EXPIRED and fresh.state is ProposalState.PROPOSED
    assert not (await rig.remediation.approve(first.id, ALICE)).allowed
    assert scalar(store, "SELECT count(*) FROM action_runs") == 0


async def test_two_people_at_once_on_a_two_person_proposal_run_it_once(
    store: Store, ctx, tmp_path: Path
) -> None:
    """Both clicks wait for the facts (Slack's user groups) before deciding: the second must
    see the first's approval, or neither runs and the proposal holds two approvals."""
    rig = Rig(store, ctx, tmp_path, risk="high", approvers=[ALICE, "U0BOB"])
    incident = rig.open_incident()
    [proposal] = store_proposals.for_incident(store, incident.id)
    both = await asyncio.gather(
        rig.remediation.approve(proposal.id, ALICE), rig.remediation.approve(proposal.id, "U0BOB")
    )
    await rig.remediation.wait_idle(10)
    assert [d.runs for d in both].count(True) == 1
    assert scalar(store, "SELECT count(*) FROM action_runs") == 1
