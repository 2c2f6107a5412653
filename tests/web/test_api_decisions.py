"""Decisions and changes through /api/v1 pass the one policy gate and land in the audit trail
with the door ``api`` and the token's identity, against a real selfreg in this process: the
two-person rule holds across the API and the terminal (one approver id is one person whatever
door it uses), a refusal answers 422 with the gate's reason, a decided proposal 409."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.records import ProposalState
from bot.runtime import Runtime
from bot.store import audit
from bot.store import incidents as rows
from bot.store import proposals as store_proposals
from tests.support.local_user import selfreg
from tests.web.conftest import ApiClient
from tests.web.test_api import is_error, open_incident


def trail(runtime: Runtime, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (row["actor"], json.loads(row["detail"]))
        for row in audit.rows(runtime.store)
        if row["kind"] == kind
    ]


async def test_two_people_across_the_api_and_the_cli_and_one_person_whatever_the_door(
    running: Runtime, api: ApiClient
) -> None:
    incident = open_incident(running)
    [proposal] = store_proposals.for_incident(running.store, incident)
    path = f"/proposals/{proposal.id}/approve"

    first = await api.call("POST", path, as_="alice-bot")  # acts as U0ALICE
    assert first.status == 200 and first.body["decision"]["allowed"] is True
    assert first.body["decision"]["runs"] is False, "high risk: a second person is needed"
    same_person = await selfreg(running, "alice", "approve", str(proposal.id))  # U0ALICE too
    assert same_person.exit_code == 1
    again = await api.call("POST", path, as_="alice-bot")
    assert is_error(again, 422, "refused_by_policy")
    assert again.body["error"]["message"] == trail(running, "decision.approve")[-1][1]["reason"]

    second = await selfreg(running, "bob", "approve", str(proposal.id))
    assert second.exit_code == 0, second.output
    await running.remediation.wait_idle(10)  # type: ignore[union-attr]
    late = await api.call("POST", path, as_="carol")
    assert is_error(late, 409, "already_decided")

    done = store_proposals.get(running.store, proposal.id)
    assert done is not None and done.approvals == ("U0ALICE", "U0BOB")
    decisions = [
        (actor, d["allowed"], d["door"], d.get("identity") or d.get("local_user"))
        for actor, d in trail(running, "decision.approve")
    ]
    assert decisions == [
        ("U0ALICE", True, "api", "alice-bot"),
        ("U0ALICE", False, "cli", "alice"),
        ("U0ALICE", False, "api", "alice-bot"),
        ("U0BOB", True, "cli", "bob"),
        ("U0CAROL", False, "api", "carol"),
    ]
    read_back = (await api.call("GET", "/audit?limit=3", as_="reader")).body["audit"]
    assert len(read_back) == 3
    assert ("decision.approve", "U0CAROL", "api", "carol") in [
        (r["kind"], r["actor"], r["detail"].get("door"), r["detail"].get("identity"))
        for r in read_back
    ]


async def test_a_deny_through_the_api_is_decided_and_audited(
    running: Runtime, api: ApiClient
) -> None:
    incident = open_incident(running)
    [proposal] = store_proposals.for_incident(running.store, incident)
    denied = await api.call(
        "POST", f"/proposals/{proposal.id}/deny", as_="carol", json={"reason": "not now"}
    )
    assert denied.status == 200 and denied.body["proposal"]["state"] == "denied"
    found = store_proposals.get(running.store, proposal.id)
    assert found is not None and found.state is ProposalState.DENIED
    assert trail(running, "decision.deny") == [
        ("U0CAROL", {"allowed": True, "reason": "not now", "door": "api", "identity": "carol"})
    ]


async def test_ack_silences_and_resolve_act_as_the_identity_through_the_api_door(
    running: Runtime, api: ApiClient
) -> None:
    incident = open_incident(running)
    acked = await api.call("POST", f"/incidents/{incident}/ack", as_="alice-bot")
    assert acked.status == 200 and acked.body["incident"]["acked_by"] == "U0ALICE"
    quiet = await api.call(
        "POST", f"/incidents/{incident}/silence", as_="carol", json={"duration": "2h"}
    )
    assert quiet.status == 201 and quiet.body["silence"]["author"] == "U0CAROL"
    added = await api.call(
        "POST", "/silences", as_="carol", json={"matcher": "check=db*", "duration": "30m"}
    )
    assert added.status == 201 and added.body["silence"]["matcher"] == {"check": "db*"}
    listed = (await api.call("GET", "/silences", as_="reader")).body["silences"]
    assert [s["id"] for s in listed] == [quiet.body["silence"]["id"], added.body["silence"]["id"]]
    ended = await api.call("DELETE", f"/silences/{added.body['silence']['id']}", as_="carol")
    assert ended.status == 200
    resolved = await api.call("POST", f"/incidents/{incident}/resolve", as_="carol")
    assert resolved.status == 200 and resolved.body["incident"]["state"] == "resolved"
    assert not rows.get_incident(running.store, incident).is_open  # type: ignore[union-attr]
    kinds = [
        (row["kind"], row["actor"], json.loads(row["detail"])["door"])
        for row in audit.rows(running.store)
        if row["kind"].startswith(("incident.", "silence."))
    ]
    assert kinds == [
        ("incident.acknowledged", "U0ALICE", "api"),
        ("silence.added", "U0CAROL", "api"),
        ("silence.added", "U0CAROL", "api"),
        ("silence.removed", "U0CAROL", "api"),
        ("incident.resolved", "U0CAROL", "api"),
    ]
    assert rows.current_silences(running.store, time.time())[0].id == quiet.body["silence"]["id"]


async def test_component_control_needs_the_permission_and_is_audited(
    running: Runtime, api: ApiClient
) -> None:
    await running.supervisor.start()
    [before] = [c["pid"] for c in running.supervisor.snapshot() if c["name"] == "sleeper"]
    refused = await api.call("POST", "/components/sleeper/restart", as_="alice-bot")
    assert is_error(refused, 403, "not_permitted")
    unknown = await api.call("POST", "/components/nope/restart", as_="carol")
    assert is_error(unknown, 404, "not_found")
    done = await api.call("POST", "/components/sleeper/restart", as_="carol")
    assert done.status == 200 and done.body["verb"] == "restart"
    [after] = [c["pid"] for c in running.supervisor.snapshot() if c["name"] == "sleeper"]
    assert after != before
    assert trail(running, "component.restart") == [
        ("U0CAROL", {"outcome": done.body["outcome"], "door": "api", "identity": "carol"})
    ]
