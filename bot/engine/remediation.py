"""Steps 6 and 7: propose, and decide.

A rule incident whose check names remediations gets one proposal per action. ``auto`` runs
at once (low risk only), ``approve`` waits for the buttons, ``suggest`` is shown as advice,
``shadow`` only records what it would have done. Every decision passes ``policy.decide``;
every proposal and decision is an audit row. A proposal the gate lets run is handed to
``remediation_runs.ActionRuns``, which runs the action, verifies it and closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace

from actions.base import Action, ActionSpec, Mode
from bot import messages
from bot.clock import Clock
from bot.engine.alerting import Alerting
from bot.engine.deploys import deploy_before, rollbacks_for
from bot.engine.offers import overview_rows
from bot.engine.policy import Facts, decide, may_deny
from bot.engine.proposing import save_requested
from bot.engine.remediation_runs import ActionRuns, RunContext, Verifier, execute
from bot.engine.reuse import reuse_or_make
from bot.errors import UnknownAction, UnknownProposal
from bot.records import (
    REGULATE_DOOR,
    SELFREG_DOOR,
    SLACK_DOOR,
    Decision,
    Door,
    Incident,
    IncidentKind,
    Proposal,
    ProposalState,
)
from bot.store import audit, incidents
from bot.store import proposals as store_proposals
from bot.store.db import Store
from bot.store.proposals import KILL_SWITCH

log = logging.getLogger(__name__)


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
        context: RunContext,
        verify: Verifier,
        groups_of: GroupsOf,
        dry_run: bool = False,
        routed: Callable[[Incident], list[str]] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.actions = dict(actions)
        self.remediations = dict(remediations)
        self.alerting = alerting
        self.groups_of = groups_of
        self.dry_run = dry_run
        self.routed = routed
        """The actions an incident's own labels ask for (Alertmanager's routes), if any."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._runs = ActionRuns(
            store=store,
            clock=clock,
            alerting=alerting,
            context=context,
            verify=verify,
            tell=self._tell,
        )

    # ---- from alerting, inside its transaction -------------------------------------------
    def on_incident_opened(self, incident: Incident) -> None:
        """Propose every remediation the incident's check names.

        A predicted incident (anomaly, risk, forecast) only proposes: an ``auto`` action
        waits for a person like an ``approve`` one, whatever its mode."""
        now = self.clock.now()
        predicted = incident.kind.predicted
        if incident.kind is IncidentKind.REGULATION:
            return  # regulation proposes its own move (propose_move)
        self._retire_earlier(incident, now)
        for name in self._names_for(incident):
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
                self._later(self.approve(proposal.id, "selfreg", trusted=True, door=SELFREG_DOOR))

    def _retire_earlier(self, incident: Incident, now: float) -> None:
        """A reopened incident's unanswered proposals from its earlier episode expire: the
        fresh ones replace them, so no old button can still run a fix for the new episode."""
        for earlier in store_proposals.for_incident(self.store, incident.id):
            if earlier.state is not ProposalState.PROPOSED:
                continue
            if store_proposals.claim(self.store, earlier, ProposalState.EXPIRED, decided_at=now):
                audit.append(
                    self.store,
                    now,
                    "proposal.expired",
                    "selfreg",
                    f"proposal:{earlier.id}",
                    {"replaced": True},
                )

    def _names_for(self, incident: Incident) -> list[str]:
        """The actions an opened incident proposes: its check's ``remediate`` list, where a
        rollback stands only within a deploy's window, plus, within one, every action that
        undoes deploys of the deployed app (configured or not in ``remediate``)."""
        deploy = None
        if incident.kind is IncidentKind.RULE:
            deploy = deploy_before(self.store, incident.check, incident.last_seen_at)
        rollbacks = rollbacks_for(deploy, self.actions) if deploy is not None else []
        named = self.remediations.get(incident.check, [])
        if self.routed is not None:
            named = [*named, *(n for n in self.routed(incident) if n not in named)]
        listed = [
            name
            for name in named
            if name in rollbacks
            or name not in self.actions
            or self.actions[name].undoes_deploys_of() is None
        ]
        return [*listed, *(name for name in rollbacks if name not in listed)]

    # ---- people (Slack, CLI) and selfreg itself -------------------------------------------
    async def facts(self, proposal: Proposal, spec: ActionSpec, actor: str, trusted: bool) -> Facts:
        """What the gate weighs about a proposal's action (``spec``) and the one asking."""
        now = self.clock.now()
        return Facts(
            now=now,
            runs_in_window=store_proposals.runs_since(
                self.store, proposal.action, now - spec.budget_window
            ),
            last_run_at=store_proposals.last_run_at(self.store, proposal.action),
            paused_by=store_proposals.paused_by(self.store),
            actor_groups=frozenset() if trusted else await self.groups_of(actor),
            trusted=trusted,
            incident_resolved=self._resolved(proposal.incident_id),
        )

    def _resolved(self, incident_id: int | None) -> bool:
        incident = None if incident_id is None else incidents.get_incident(self.store, incident_id)
        return incident is not None and not incident.is_open

    async def approve(
        self, proposal_id: int, actor: str, *, trusted: bool = False, door: Door = SLACK_DOOR
    ) -> Decision:
        """One approval; runs the action when the gate says so. First valid click wins.
        ``door`` (Slack, the CLI, selfreg) goes in the audit row with the decision."""
        proposal = self._proposal(proposal_id)
        action = self._action(proposal.action)
        facts = await self.facts(proposal, action.spec, actor, trusted)
        now = self.clock.now()
        with self.store.transaction():
            # decided on the proposal as it is now: a click that arrived meanwhile (the facts
            # wait for Slack) may have added the first of two approvals or taken it
            proposal = store_proposals.get(self.store, proposal.id) or proposal
            decision = decide(proposal, action.spec, actor, facts)
            audit.append(
                self.store,
                now,
                "decision.approve",
                actor,
                f"proposal:{proposal.id}",
                {"allowed": decision.allowed, "reason": decision.reason, **door.detail()},
            )
            if not decision.allowed:
                return decision
            if not decision.runs:
                store_proposals.save(
                    self.store, replace(proposal, approvals=(*proposal.approvals, actor))
                )
                self._tell(proposal, decision.reason)
                return decision
            claimed = store_proposals.claim(
                self.store,
                proposal,
                ProposalState.RUNNING,
                approvals=(*proposal.approvals, actor),
                decided_by=actor,
                decided_at=now,
            )
            if claimed is None:
                return Decision(allowed=False, reason=messages.refusal_used(proposal.id, "taken"))
            self._tell(claimed, decision.reason)
        self._later(self._runs.run(claimed, action, actor, self.dry_run))
        return decision

    async def deny(
        self,
        proposal_id: int,
        actor: str,
        reason: str = "",
        *,
        trusted: bool = False,
        door: Door = SLACK_DOOR,
    ) -> Decision:
        proposal = self._proposal(proposal_id)
        spec = self._action(proposal.action).spec
        decision = may_deny(proposal, spec, actor, await self.facts(proposal, spec, actor, trusted))
        now = self.clock.now()
        with self.store.transaction():
            audit.append(
                self.store,
                now,
                "decision.deny",
                actor,
                f"proposal:{proposal.id}",
                {"allowed": decision.allowed, "reason": reason or decision.reason, **door.detail()},
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
                return Decision(allowed=False, reason=messages.refusal_used(proposal.id, "taken"))
            self._tell(claimed, messages.denied_with_reason(actor, reason))
        return decision

    async def request(
        self,
        action_name: str,
        actor: str,
        incident_id: int | None = None,
        *,
        trusted: bool = False,
        door: Door = SLACK_DOOR,
    ) -> tuple[Proposal, Decision]:
        """``/selfreg run ACTION``: a person's own proposal, approved by them if the gate allows."""
        with self.store.transaction():
            # a person's own request is mode approve: shadow only stops selfreg
            detail = {"manual": True, **door.detail()}
            proposal = self._save_proposal(incident_id, action_name, actor, detail)
        decision = await self.approve(proposal.id, actor, trusted=trusted, door=door)
        return proposal, decision

    def propose_move(
        self, incident_id: int, action_name: str, detail: Mapping[str, object]
    ) -> Proposal:
        """A regulation move as a proposal on its incident, requested by selfreg through the
        door ``regulate`` (mode approve: a person's click, or regulation's own trusted approval
        in auto mode); call inside the transaction that recorded the decision. ``detail`` (the
        signal) goes in the audit."""
        detail = {**REGULATE_DOOR.detail(), **detail}
        return self._save_proposal(incident_id, action_name, "selfreg", detail)

    async def preview(self, action_name: str) -> str:
        """What the action would do now, from its dry run (what a cleanup would free)."""
        return (await execute(self._action(action_name), self._runs.context, True)).summary

    def _save_proposal(
        self, incident_id: int | None, action_name: str, actor: str, detail: Mapping[str, object]
    ) -> Proposal:
        spec = self._action(action_name).spec
        return save_requested(self.store, spec, incident_id, actor, detail, self.clock.now())

    def pause(self, actor: str, paused: bool) -> None:
        now = self.clock.now()
        with self.store.transaction():
            store_proposals.set_switch(
                self.store, KILL_SWITCH, "on" if paused else "off", actor, now
            )
            audit.append(self.store, now, "switch.actions", actor, KILL_SWITCH, {"paused": paused})

    def paused_by(self) -> str | None:
        return store_proposals.paused_by(self.store)

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
        runs = {
            name: store_proposals.runs_since(self.store, name, now - action.spec.budget_window)
            for name, action in self.actions.items()
        }
        return overview_rows(self.actions, runs, store_proposals.shadow_counts(self.store))

    # ---- helpers ------------------------------------------------------------------------------
    def _tell(self, proposal: Proposal, text: str) -> None:
        if proposal.incident_id is not None:
            self.alerting.reply(proposal.incident_id, text)

    def later(self, work: Awaitable[object]) -> None:
        """Run ``work`` in the background, logged if it fails; ``wait_idle`` waits for it."""
        self._later(work)

    def _later(self, work: Awaitable[object]) -> None:
        async def runner() -> None:
            try:
                await work
            except Exception:  # logged: a background remediation step must not vanish silently
                log.exception(messages.remediation_step_failed())

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
        self.actions = reuse_or_make(self.actions, specs, rebuild=rebuild, make=make)
        self.remediations = dict(remediations)
        self.dry_run = dry_run
