"""A proposal someone asks for, rather than one an incident's check names: a person's own
``/selfreg run`` (and the terminal's and the API's) and a regulation move. Always of mode
approve (shadow only stops selfreg's own fixes), saved with its ``proposal.created`` audit
row inside the caller's transaction; ``Remediation.request`` and ``propose_move`` use it."""

from __future__ import annotations

from collections.abc import Mapping

from actions.base import ActionSpec, Mode
from bot.records import Proposal
from bot.store import audit
from bot.store import proposals as store_proposals
from bot.store.db import Store


def save_requested(
    store: Store,
    spec: ActionSpec,
    incident_id: int | None,
    actor: str,
    detail: Mapping[str, object],
    now: float,
) -> Proposal:
    """Save a mode-approve proposal of ``spec``'s action requested by ``actor``, and its audit
    row (``detail``: the door, ``manual``, a move's signal ...)."""
    proposal = store_proposals.save(
        store,
        Proposal(
            incident_id=incident_id,
            action=spec.name,
            mode=Mode.APPROVE,
            risk=spec.risk,
            requested_by=actor,
            created_at=now,
            expires_at=now + spec.expires_after,
        ),
    )
    incident = {"incident": incident_id} if incident_id else {}
    audit.append(
        store, now, "proposal.created", actor, f"proposal:{proposal.id}",
        {"action": spec.name, **incident, **detail},
    )  # fmt: skip
    return proposal
