"""What an incident's message offers: its stored proposals as lines and buttons (pure).

Slack delivery reads the proposals with ``bot.store.proposals.for_offers`` and calls
``offers_for``; nothing calls back into ``Remediation`` to draw a message. The gate
(``policy.show_buttons``) decides whether a proposal gets buttons, from the same facts it
uses to decide a click.
"""

from __future__ import annotations

from collections.abc import Mapping

from actions.base import Action, Mode, Risk
from bot import messages
from bot.engine.policy import Facts, budget_left, show_buttons
from bot.records import Offer
from bot.store.proposals import IncidentProposals


def budget_windows(actions: Mapping[str, Action]) -> dict[str, float]:
    """Each action's budget window in seconds: what ``for_offers`` counts runs over."""
    return {name: action.spec.budget_window for name, action in actions.items()}


def offers_for(
    stored: IncidentProposals,
    actions: Mapping[str, Action],
    now: float,
    labels: Mapping[str, str] | None = None,
) -> list[Offer]:
    """The proposals as the message shows them: shadow ones and those of actions no longer
    configured are left out; buttons only where the gate would accept a click now.
    ``labels`` words an action for this incident ("roll back to v17") instead of its own
    ``describe()``."""
    shown = []
    for proposal in stored.proposals:
        action = actions.get(proposal.action)
        if action is None or proposal.mode is Mode.SHADOW:
            continue
        spec = action.spec
        what = (labels or {}).get(proposal.action) or action.describe()
        use = stored.use[proposal.action]
        facts = Facts(
            now=now,
            runs_in_window=use.runs_in_window,
            last_run_at=use.last_run_at,
            paused_by=stored.paused_by,
        )
        shown.append(
            Offer(
                proposal_id=proposal.id,
                label=what,
                line=messages.offer_line(
                    proposal,
                    what,
                    spec.risk.value,
                    budget_left(spec, use.runs_in_window),
                    spec.budget,
                ),
                buttons=show_buttons(proposal, spec, facts),
                confirm=proposal.risk is Risk.HIGH,
                closing_note=messages.offer_closing(proposal, what),
            )
        )
    return shown


def overview_rows(
    actions: Mapping[str, Action],
    runs: Mapping[str, int],
    shadow: Mapping[str, tuple[int, int]],
) -> list[dict[str, object]]:
    """Every action with its policy and what is left of its budget (``/selfreg actions``):
    ``runs`` in each one's budget window, ``shadow`` its (shadow proposals, later run)."""
    return [
        {
            "name": name,
            "what": action.describe(),
            "mode": action.spec.mode.value,
            "risk": action.spec.risk.value,
            "approvers": list(action.spec.approvers),
            "budget": action.spec.budget,
            "left": budget_left(action.spec, runs.get(name, 0)),
            "shadow": shadow.get(name),
        }
        for name, action in sorted(actions.items())
    ]
