"""bot.store.proposals: first claim wins, runs count against the budget, the kill switch,
shadow counts, and what an incident's offers are drawn from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from actions.base import Mode, Risk
from bot.records import Proposal, ProposalState
from bot.store import open_store
from bot.store import proposals as rows

T0 = 1_700_000_000.0


def proposal(action: str = "restart", mode: Mode = Mode.APPROVE, incident: int = 1) -> Proposal:
    return Proposal(
        incident_id=incident,
        action=action,
        mode=mode,
        risk=Risk.LOW,
        requested_by="selfreg",
        created_at=T0,
        expires_at=T0 + 3600,
    )


def test_first_claim_wins_and_runs_count_against_the_budget(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        saved = rows.save(store, proposal())
        assert rows.claim(store, saved, ProposalState.RUNNING, decided_by="U1") is not None
        assert rows.claim(store, saved, ProposalState.DENIED) is None
        run = rows.start_run(store, saved.id, "restart", T0 + 1, dry_run=False)
        rows.start_run(store, saved.id, "restart", T0 + 2, dry_run=True)
        digest = rows.finish_run(store, run, T0 + 3, True, "done", "output", 0)
        rows.set_verified(store, run, True, "ok again")
    assert rows.get(store, saved.id).state is ProposalState.RUNNING  # type: ignore[union-attr]
    assert rows.runs_since(store, "restart", T0) == 1, "a dry run is not counted"
    assert rows.last_run_at(store, "restart") == T0 + 1
    assert len(digest) == 64
    assert rows.open_proposals(store) == []
    store.close()


def test_switch_pending_rows_shadow_counts_and_offers(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        waiting = rows.save(store, proposal())
        shadow = rows.save(store, proposal("clean", Mode.SHADOW))
        rows.save(store, replace(shadow, id=0, state=ProposalState.APPROVED))
        rows.save(store, proposal("other", incident=2))
        rows.start_run(store, None, "restart", T0 - 10, dry_run=False)
    assert rows.paused_by(store) is None
    with store.transaction():
        rows.set_switch(store, rows.KILL_SWITCH, "on", "U0ADMIN", T0)
    assert rows.paused_by(store) == "U0ADMIN"
    assert [r["id"] for r in rows.pending_rows(store, ("id", "action", "nope"))] == [
        waiting.id,
        shadow.id,
        4,
    ]
    assert rows.shadow_counts(store) == {"clean": (2, 1)}
    offers = rows.for_offers(store, 1, {"restart": 60.0, "clean": 60.0}, T0)
    assert [p.action for p in offers.proposals] == ["restart", "clean", "clean"]
    assert offers.use["restart"] == rows.ActionUse(runs_in_window=1, last_run_at=T0 - 10)
    assert offers.paused_by == "U0ADMIN"
    store.close()
