"""Steps 6 to 9: propose, decide, act, verify, close.

A rule incident whose check names remediations gets one proposal per action. ``auto`` runs
at once (low risk only), ``approve`` waits for the buttons, ``suggest`` is shown as advice,
``shadow`` only records what it would have done. Every decision passes ``policy.decide``;
every proposal, decision, run and verification is an audit row. A run is verified by
re-running the triggering check after the action's settle time: verified resolves the
incident through the normal flow; not effective counts against the budget and escalates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from actions.base import Action, ActionContext, ActionSpec, Mode, Risk
from bot import messages
from bot.clock import Clock
from bot.engine.alerting import PREDICTED, Alerting
from bot.engine.policy import Facts, budget_left, decide, may_deny, show_buttons
from bot.errors import UserError
from bot.records import Decision, Incident, Offer, Proposal, ProposalState
from bot.store import audit
from bot.store import proposals as store_proposals
from bot.store.db import Store
from checks.base import Status

log = logging.getLogger(__name__)

KILL_SWITCH = "actions_paused"


class UnknownAction(UserError):
    def __init__(self, name: str, known: Collection[str]) -> None:
        super().__init__(
            f'no action is named "{name}"; configured actions: {", ".join(sorted(known)) or "none"}'
        )


class UnknownProposal(UserError):
    def __init__(self, proposal_id: int) -> None:
        super().__init__(messages.refusal_unknown_proposal(f"#{proposal_id}"))


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    ok: bool
    summary: str


Verifier = Callable[[str], Awaitable[Verification]]
GroupsOf = Callable[[str], Awaitable[Collection[str]]]


class Remediation:
    """Owns proposals from creation to verification."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        actions: Mapping[str, Action],
        remediations: Mapping[str, list[str]],
        alerting: Alerting,
        context: ActionContext,
        verify: Verifier,
        groups_of: GroupsOf,
        dry_run: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.actions = dict(actions)
        self.remediations = dict(remediations)
        self.alerting = alerting
        self.context = context
        self.verify = verify
        self.groups_of = groups_of
        self.dry_run = dry_run
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- from alerting, inside its transaction -------------------------------------------
    def on_incident_opened(self, incident: Incident) -> None:
        """Propose every remediation the incident's check names.

        A predicted incident (anomaly, risk, forecast) only proposes: an ``auto`` action
        waits for a person like an ``approve`` one, whatever its mode."""
        now = self.clock.now()
        predicted = incident.kind in PREDICTED
        for name in self.remediations.get(incident.check, []):
            action = self.actions.get(name)
            if action is None:
                continue
            spec = action.spec
            mode = Mode.APPROVE if predicted and spec.mode is Mode.AUTO else spec.mode
            proposal = store_proposals.save(
                self.store,
                Proposal(
                    incident_id=incident.id,
                    action=name,
                    mode=mode,
                    risk=spec.risk,
                    requested_by="selfreg",
                    created_at=now,
                    expires_at=now + spec.expires_after,
                ),
            )
            audit.append(
                self.store,
                now,
                "proposal.created",
                "selfreg",
                f"proposal:{proposal.id}",
                {"action": name, "incident": incident.id, "mode": mode.value},
            )
            if mode is Mode.SHADOW:
                self.alerting.reply(incident.id, messages.shadow_would_run(action.describe()))
            elif mode is Mode.SUGGEST:
                self.alerting.reply(incident.id, messages.suggested(action.describe(), name))
            elif mode is Mode.AUTO and not predicted:
                self._later(self.approve(proposal.id, "selfreg", trusted=True))

    # ---- people (Slack, CLI) and selfreg itself -------------------------------------------
    async def facts(self, proposal: Proposal, actor: str, trusted: bool) -> Facts:
        spec = self._action(proposal.action).spec
        now = self.clock.now()
        paused = store_proposals.switch(self.store, KILL_SWITCH)
        return Facts(
            now=now,
            runs_in_window=store_proposals.runs_since(
                self.store, proposal.action, now - spec.budget_window
            ),
            last_run_at=store_proposals.last_run_at(self.store, proposal.action),
            paused_by=paused[1] if paused and paused[0] == "on" else None,
            actor_groups=frozenset() if trusted else await self.groups_of(actor),
            trusted=trusted,
        )

    async def approve(self, proposal_id: int, actor: str, *, trusted: bool = False) -> Decision:
        """One approval; runs the action when the gate says so. First valid click wins."""
        proposal = self._proposal(proposal_id)
        spec = self._action(proposal.action).spec
        decision = decide(proposal, spec, actor, await self.facts(proposal, actor, trusted))
        now = self.clock.now()
        with self.store.transaction():
            audit.append(
                self.store,
                now,
                "decision.approve",
                actor,
                f"proposal:{proposal.id}",
                {"allowed": decision.allowed, "reason": decision.reason},
            )
            if not decision.allowed:
                return decision
            current = store_proposals.get(self.store, proposal.id)
            if current is None or current.state is not ProposalState.PROPOSED:
                return Decision(
                    allowed=False,
                    reason=messages.refusal_used(
                        proposal.id, current.state.value if current else "gone", ""
                    ),
                )
            if not decision.runs:
                store_proposals.save(
                    self.store, replace(current, approvals=(*current.approvals, actor))
                )
                self._tell(current, decision.reason)
                return decision
            claimed = store_proposals.claim(
                self.store,
                current,
                ProposalState.RUNNING,
                approvals=(*current.approvals, actor),
                decided_by=actor,
                decided_at=now,
            )
            if claimed is None:
                return Decision(
                    allowed=False, reason=messages.refusal_used(proposal.id, "taken", "")
                )
            self._tell(claimed, decision.reason)
        self._later(self._run(claimed, actor))
        return decision

    async def deny(
        self, proposal_id: int, actor: str, reason: str = "", *, trusted: bool = False
    ) -> Decision:
        proposal = self._proposal(proposal_id)
        spec = self._action(proposal.action).spec
        decision = may_deny(proposal, spec, actor, await self.facts(proposal, actor, trusted))
        now = self.clock.now()
        with self.store.transaction():
            audit.append(
                self.store,
                now,
                "decision.deny",
                actor,
                f"proposal:{proposal.id}",
                {"allowed": decision.allowed, "reason": reason or decision.reason},
            )
            if not decision.allowed:
                return decision
            claimed = store_proposals.claim(
                self.store,
                proposal,
                ProposalState.DENIED,
                decided_by=actor,
                decided_at=now,
                reason=reason,
            )
            if claimed is None:
                return Decision(
                    allowed=False, reason=messages.refusal_used(proposal.id, "taken", "")
                )
            self._tell(claimed, messages.denied_with_reason(actor, reason))
        return decision

    async def request(
        self, action_name: str, actor: str, incident_id: int | None = None, *, trusted: bool = False
    ) -> tuple[Proposal, Decision]:
        """``/selfreg run ACTION``: a person's own proposal, approved by them if the gate allows."""
        action = self._action(action_name)
        now = self.clock.now()
        with self.store.transaction():
            proposal = store_proposals.save(
                self.store,
                Proposal(
                    incident_id=incident_id,
                    action=action_name,
                    mode=Mode.APPROVE,  # a person's own request: shadow only stops selfreg
                    risk=action.spec.risk,
                    requested_by=actor,
                    created_at=now,
                    expires_at=now + action.spec.expires_after,
                ),
            )
            audit.append(
                self.store,
                now,
                "proposal.created",
                actor,
                f"proposal:{proposal.id}",
                {"action": action_name, "manual": True},
            )
        decision = await self.approve(proposal.id, actor, trusted=trusted)
        return proposal, decision

    def pause(self, actor: str, paused: bool) -> None:
        now = self.clock.now()
        with self.store.transaction():
            store_proposals.set_switch(
                self.store, KILL_SWITCH, "on" if paused else "off", actor, now
            )
            audit.append(self.store, now, "switch.actions", actor, KILL_SWITCH, {"paused": paused})

    def paused_by(self) -> str | None:
        value = store_proposals.switch(self.store, KILL_SWITCH)
        return value[1] if value and value[0] == "on" else None

    def sweep(self) -> None:
        """Expire proposals nobody answered in time."""
        now = self.clock.now()
        with self.store.transaction():
            for proposal in store_proposals.open_proposals(self.store):
                if now >= proposal.expires_at:
                    expired = store_proposals.claim(
                        self.store, proposal, ProposalState.EXPIRED, decided_at=now
                    )
                    if expired is not None:
                        audit.append(
                            self.store,
                            now,
                            "proposal.expired",
                            "selfreg",
                            f"proposal:{proposal.id}",
                            {},
                        )
                        self._tell(expired, messages.proposal_expired(proposal.id))

    def overview(self) -> list[dict[str, object]]:
        """Every action with its policy and what is left of its budget (``/selfreg actions``)."""
        now = self.clock.now()
        rows = []
        shadow = self.shadow_record()
        for name, action in sorted(self.actions.items()):
            spec = action.spec
            runs = store_proposals.runs_since(self.store, name, now - spec.budget_window)
            rows.append(
                {
                    "name": name,
                    "what": action.describe(),
                    "mode": spec.mode.value,
                    "risk": spec.risk.value,
                    "approvers": list(spec.approvers),
                    "budget": spec.budget,
                    "left": budget_left(spec, runs),
                    "shadow": shadow.get(name),
                }
            )
        return rows

    def offers(self, incident: Incident) -> list[Offer]:
        """The incident's proposals as the message shows them (asks the gate, dry run)."""
        now = self.clock.now()
        paused = self.paused_by()
        shown = []
        for proposal in store_proposals.for_incident(self.store, incident.id):
            action = self.actions.get(proposal.action)
            if action is None or proposal.mode is Mode.SHADOW:
                continue
            spec = action.spec
            runs = store_proposals.runs_since(self.store, proposal.action, now - spec.budget_window)
            facts = Facts(
                now=now,
                runs_in_window=runs,
                last_run_at=store_proposals.last_run_at(self.store, proposal.action),
                paused_by=paused,
            )
            buttons = show_buttons(proposal, spec, facts)
            shown.append(
                Offer(
                    proposal_id=proposal.id,
                    label=action.describe(),
                    line=messages.offer_line(
                        proposal,
                        action.describe(),
                        spec.risk.value,
                        budget_left(spec, runs),
                        spec.budget,
                    ),
                    buttons=buttons,
                    confirm=proposal.risk is Risk.HIGH,
                    closing_note=messages.offer_closing(proposal, action.describe()),
                )
            )
        return shown

    # ---- running and verifying ------------------------------------------------------------
    async def _run(self, proposal: Proposal, actor: str) -> None:
        action = self._action(proposal.action)
        dry = self.dry_run
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
        clock_start = time.monotonic()
        try:
            result = await asyncio.wait_for(
                action.execute(self.context, dry_run=dry), action.spec.timeout
            )
            ok, summary, output, code = result.ok, result.summary, result.output, result.exit_code
        except TimeoutError:
            ok, summary, output, code = (
                False,
                messages.action_timed_out(action.spec.timeout),
                "",
                None,
            )
        except Exception as exc:  # an action bug is a failed run, never a crash of selfreg
            log.exception("action %s raised", proposal.action)
            ok, summary, output, code = False, f"{type(exc).__name__}: {exc}", "", None
        finished = self.clock.now()
        state = ProposalState.SUCCEEDED if ok else ProposalState.FAILED
        with self.store.transaction():
            digest = store_proposals.finish_run(
                self.store, run_id, finished, ok, summary, output, code
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
                    "ok": ok,
                    "exit_code": code,
                    "seconds": round(time.monotonic() - clock_start, 3),
                    "output_sha256": digest,
                    "summary": summary,
                },
            )
            self._tell(current, messages.action_result(action.describe(), ok, summary, output, dry))
        if ok and not dry and proposal.incident_id is not None:
            await asyncio.sleep(action.spec.verify_after)
            await self._verify(proposal, run_id)

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
                    reason="a person ran it later",
                )
                store_proposals.save(self.store, confirmed)
                detail = {"run_by_proposal": proposal.id}
                audit.append(
                    self.store, now, "shadow.confirmed", actor, f"proposal:{shadow.id}", detail
                )

    def shadow_record(self) -> dict[str, tuple[int, int]]:
        """Per action: (shadow proposals, how many a person later ran): how often automation
        would have been right."""
        counts: dict[str, tuple[int, int]] = {}
        for row in self.store.conn.execute(
            "SELECT action, count(*), sum(state = 'approved') FROM proposals "
            "WHERE mode = 'shadow' GROUP BY action"
        ):
            counts[row[0]] = (int(row[1]), int(row[2] or 0))
        return counts

    # ---- helpers ------------------------------------------------------------------------------
    def _tell(self, proposal: Proposal, text: str) -> None:
        if proposal.incident_id is not None:
            self.alerting.reply(proposal.incident_id, text)

    def _later(self, work: Awaitable[object]) -> None:
        async def runner() -> None:
            try:
                await work
            except Exception:  # logged: a background remediation step must not vanish silently
                log.exception("remediation step failed")

        task = asyncio.get_running_loop().create_task(runner())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _proposal(self, proposal_id: int) -> Proposal:
        proposal = store_proposals.get(self.store, proposal_id)
        if proposal is None:
            raise UnknownProposal(proposal_id)
        return proposal

    def _action(self, name: str) -> Action:
        if name not in self.actions:
            raise UnknownAction(name, self.actions)
        return self.actions[name]

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for background runs and verifications (tests and graceful stop)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def reconfigure(
        self,
        specs: Sequence[ActionSpec],
        *,
        rebuild: Collection[str],
        make: Callable[[ActionSpec], Action],
        remediations: Mapping[str, list[str]],
        dry_run: bool,
    ) -> None:
        """A live reload's actions: the ``rebuild`` ones (added or changed) are made afresh,
        every other one keeps its instance; which checks they remediate, and dry-run."""
        before = self.actions
        self.actions = {
            spec.name: before[spec.name]
            if spec.name in before and spec.name not in rebuild
            else make(spec)
            for spec in specs
        }
        self.remediations = dict(remediations)
        self.dry_run = dry_run


def verification_from(observations: list, check: str) -> Verification:
    """A check's fresh observations as a verification: ok only when every subject is ok."""
    failing = [o for o in observations if o.status is not Status.OK]
    first = (failing or observations or [None])[0]
    summary = first.summary if first is not None else f"{check} returned nothing"
    return Verification(ok=not failing and bool(observations), summary=summary)
