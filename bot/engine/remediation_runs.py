"""Steps 7 to 9: run an approved action, record what it did, verify it worked.

A run is written before it starts and after it ends (one transaction each, with audit rows),
so a crash mid-run still leaves the run on record. The action runs under its own timeout; an
action that raises is a failed run, never a crash of selfreg. A run that succeeded (and was
not a dry run) is verified by re-running the incident's check after the action's settle time:
verified resolves the incident through the normal flow, not effective escalates it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from actions.base import Action, ActionContext, Mode
from bot import messages
from bot.clock import Clock
from bot.engine.alerting import Alerting
from bot.records import Proposal, ProposalState
from bot.store import audit
from bot.store import proposals as store_proposals
from bot.store.db import Store
from checks.base import Observation, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    ok: bool
    summary: str


class RunContext(ActionContext, Protocol):
    """An action context that can be narrowed to the incident one run answers."""

    def for_subject(self, subject: str) -> ActionContext:
        """The same parts, with ``subject`` as the run's incident subject."""
        ...


Verifier = Callable[[str], Awaitable[Verification]]
Tell = Callable[[Proposal, str], None]
"""Say something in the thread of a proposal's incident (``Remediation._tell``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What one execution of an action came to."""

    ok: bool
    summary: str
    output: str = ""
    exit_code: int | None = None


def verification_from(observations: list[Observation], check: str) -> Verification:
    """A check's fresh observations as a verification: ok only when every subject is ok."""
    failing = [o for o in observations if o.status is not Status.OK]
    first = (failing or observations or [None])[0]
    summary = first.summary if first is not None else messages.verify_returned_nothing(check)
    return Verification(ok=not failing and bool(observations), summary=summary)


async def execute(action: Action, context: ActionContext, dry: bool) -> Outcome:
    """Run the action under its timeout; a timeout or an exception is a failed outcome."""
    running = action.execute
    try:
        result = await asyncio.wait_for(running(context, dry_run=dry), action.spec.timeout)
    except TimeoutError:
        return Outcome(ok=False, summary=messages.action_timed_out(action.spec.timeout))
    except Exception as exc:  # an action bug is a failed run, never a crash of selfreg
        log.exception(messages.action_raised(action.spec.name))
        return Outcome(ok=False, summary=f"{type(exc).__name__}: {exc}")
    return Outcome(
        ok=result.ok, summary=result.summary, output=result.output, exit_code=result.exit_code
    )


class ActionRuns:
    """Runs approved proposals and verifies them; every step is audited."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        alerting: Alerting,
        context: RunContext,
        verify: Verifier,
        tell: Tell,
    ) -> None:
        self.store = store
        self.clock = clock
        self.alerting = alerting
        self.context = context
        self.verify = verify
        self._tell = tell

    async def run(self, proposal: Proposal, action: Action, actor: str, dry: bool) -> None:
        """Record the start, execute, record the end, then verify a real success."""
        run_id = self._started(proposal, actor, dry)
        clock_start = time.monotonic()
        incident = self.alerting.incident(proposal.incident_id or 0)
        context = self.context.for_subject(incident.subject if incident else "")
        outcome = await execute(action, context, dry)
        self._finished(proposal, action, actor, run_id, outcome, dry, clock_start)
        if outcome.ok and not dry and proposal.incident_id is not None:
            await asyncio.sleep(action.spec.verify_after)
            await self._verify(proposal, run_id)

    def _started(self, proposal: Proposal, actor: str, dry: bool) -> int:
        started = self.clock.now()
        with self.store.transaction():
            run_id = store_proposals.start_run(
                self.store, proposal.id, proposal.action, started, dry
            )
            if actor != "selfreg":
                self._shadow_confirmed(proposal, actor, started)
            store_proposals.save(
                self.store, replace(proposal, state=ProposalState.RUNNING, run_id=run_id)
            )
            audit.append(
                self.store,
                started,
                "action.started",
                actor,
                f"proposal:{proposal.id}",
                {"action": proposal.action, "run": run_id, "dry_run": dry},
            )
        return run_id

    def _finished(
        self,
        proposal: Proposal,
        action: Action,
        actor: str,
        run_id: int,
        outcome: Outcome,
        dry: bool,
        clock_start: float,
    ) -> None:
        finished = self.clock.now()
        state = ProposalState.SUCCEEDED if outcome.ok else ProposalState.FAILED
        with self.store.transaction():
            digest = store_proposals.finish_run(
                self.store,
                run_id,
                finished,
                outcome.ok,
                outcome.summary,
                outcome.output,
                outcome.exit_code,
            )
            current = store_proposals.get(self.store, proposal.id) or proposal
            store_proposals.save(self.store, replace(current, state=state))
            audit.append(
                self.store,
                finished,
                "action.finished",
                actor,
                f"proposal:{proposal.id}",
                {
                    "run": run_id,
                    "ok": outcome.ok,
                    "exit_code": outcome.exit_code,
                    "seconds": round(time.monotonic() - clock_start, 3),
                    "output_sha256": digest,
                    "summary": outcome.summary,
                },
            )
            self._tell(
                current,
                messages.action_result(
                    action.describe(), outcome.ok, outcome.summary, outcome.output, dry
                ),
            )

    async def _verify(self, proposal: Proposal, run_id: int) -> None:
        incident = self.alerting.incident(proposal.incident_id or 0)
        if incident is None:
            return
        verification = await self.verify(incident.check)
        now = self.clock.now()
        state = ProposalState.VERIFIED if verification.ok else ProposalState.NOT_EFFECTIVE
        with self.store.transaction():
            store_proposals.set_verified(self.store, run_id, verification.ok, verification.summary)
            current = store_proposals.get(self.store, proposal.id) or proposal
            store_proposals.save(self.store, replace(current, state=state))
            audit.append(
                self.store,
                now,
                "action.verified" if verification.ok else "action.not_effective",
                "selfreg",
                f"proposal:{proposal.id}",
                {"run": run_id, "summary": verification.summary},
            )
            if verification.ok:
                self._tell(current, messages.verified(verification.summary))
            else:
                self._tell(current, messages.not_effective(verification.summary))
                self.alerting.escalate_now(incident.id)

    def _shadow_confirmed(self, proposal: Proposal, actor: str, now: float) -> None:
        """A person ran what a shadow proposal said selfreg would have run: record the hit."""
        if proposal.incident_id is None:
            return
        for shadow in store_proposals.for_incident(self.store, proposal.incident_id):
            if (
                shadow.mode is Mode.SHADOW
                and shadow.action == proposal.action
                and shadow.state is ProposalState.PROPOSED
            ):
                confirmed = replace(
                    shadow,
                    state=ProposalState.APPROVED,
                    decided_by=actor,
                    decided_at=now,
                    reason=messages.shadow_run_later(),
                )
                store_proposals.save(self.store, confirmed)
                detail = {"run_by_proposal": proposal.id}
                audit.append(
                    self.store, now, "shadow.confirmed", actor, f"proposal:{shadow.id}", detail
                )
