"""``POST /api/v1/actions/{name}/run`` is ``selfreg run ACTION [INCIDENT]`` through the API: the
same engine request (a person's own proposal, approved by them if the policy gate allows), the
role ``approve``, the audit trail with the door ``api``; against a real selfreg in this process."""

from __future__ import annotations

import json
from typing import Any

from bot.runtime import Runtime
from bot.store import audit
from bot.store import proposals as store_proposals
from tests.support.local_user import selfreg
from tests.web.conftest import ApiClient
from tests.web.test_api import is_error, open_incident


def manual_runs(runtime: Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit rows a person's own run writes: its proposal, then its approval."""
    return [
        (row["kind"], row["actor"], json.loads(row["detail"]))
        for row in audit.rows(runtime.store)
        if row["kind"] in ("proposal.created", "decision.approve") and row["actor"] != "selfreg"
    ]


async def test_running_an_action_is_the_cli_request_through_the_gate_and_the_audit(
    running: Runtime, api: ApiClient
) -> None:
    incident = open_incident(running)
    cli = await selfreg(running, "alice", "run", "fix-api", str(incident))
    assert "is waiting: You asked for proposal" in cli.output, cli.output
    ran = await api.call(
        "POST", "/actions/fix-api/run", as_="alice-bot", json={"incident": incident}
    )
    assert ran.status == 200, ran.body
    decision, proposal = ran.body["decision"], ran.body["proposal"]
    assert decision["allowed"] is False and decision["runs"] is False
    assert "needs two other people" in decision["reason"], "high risk: the gate's own words"
    assert (proposal["action"], proposal["incident_id"]) == ("fix-api", incident)
    assert (proposal["requested_by"], proposal["state"]) == ("U0ALICE", "proposed")

    bob = await selfreg(running, "bob", "approve", str(proposal["id"]))
    assert bob.exit_code == 0, bob.output
    carol = await api.call("POST", f"/proposals/{proposal['id']}/approve", as_="carol")
    assert carol.body["decision"]["runs"] is True
    await running.remediation.wait_idle(10)  # type: ignore[union-attr]
    done = store_proposals.get(running.store, proposal["id"])
    assert done is not None and done.approvals == ("U0BOB", "U0CAROL")

    doors = [(kind, actor, d.get("door"), d.get("identity") or d.get("local_user"))
             for kind, actor, d in manual_runs(running)]  # fmt: skip
    assert doors == [
        ("proposal.created", "U0ALICE", "cli", "alice"),
        ("decision.approve", "U0ALICE", "cli", "alice"),
        ("proposal.created", "U0ALICE", "api", "alice-bot"),
        ("decision.approve", "U0ALICE", "api", "alice-bot"),
        ("decision.approve", "U0BOB", "cli", "bob"),
        ("decision.approve", "U0CAROL", "api", "carol"),
    ], "the API and `selfreg run` make the same engine request, door apart"


async def test_running_an_action_needs_the_approve_role_a_known_action_and_incident(
    running: Runtime, api: ApiClient
) -> None:
    reader = await api.call("POST", "/actions/fix-api/run", as_="reader")
    assert is_error(reader, 403, "forbidden")
    unknown = await api.call("POST", "/actions/nope/run", as_="carol")
    assert is_error(unknown, 404, "not_found")
    bad = await api.call("POST", "/actions/fix-api/run", as_="carol", json={"incident": "3"})
    assert is_error(bad, 400, "bad_request")
    missing = await api.call("POST", "/actions/fix-api/run", as_="carol", json={"incident": 999})
    assert is_error(missing, 404, "not_found")
    assert store_proposals.open_proposals(running.store) == []
