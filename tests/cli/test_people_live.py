"""The terminal as a door, against a real selfreg built in this process (store, engine,
policy gate and control socket; no Slack): ``ack``, ``silence``, ``unsilence``, ``run``,
``approve``, ``deny`` and ``component`` act as the approver ``[cli] users`` maps the local
user to, under ``[slack] permissions`` and the two-person rule, audited with the door ``cli``.

The commands run in a worker thread (they call ``asyncio.run`` themselves) while the test's
loop serves the control socket.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine.supervisor.restarts import crash_loop_transition
from bot.engine.transitions import fingerprint
from bot.records import IncidentKind, Severity, Transition
from bot.runtime import Runtime
from bot.store import audit
from bot.store import incidents as rows
from bot.store import proposals as store_proposals
from checks.base import Status
from tests.support.local_user import selfreg
from tests.support.servers import free_port

CONFIG = """
[models]
anomaly = false
failure_risk = false
forecast = false

[cli]
users = {{ alice = "U0ALICE", bob = "U0BOB" }}

[slack]
permissions = {{ component = ["U0BOB"] }}

[[checks]]
kind = "tcp"
name = "api"
port = {port}
interval = "1h"
remediate = ["fix-api"]

[[components]]
name = "sleeper"
command = ["sleep", "60"]

[[actions]]
name = "fix-api"
kind = "run_command"
command = ["true"]
mode = "approve"
risk = "high"
approvers = ["U0ALICE", "U0BOB"]
verify_after = "0s"

[[actions]]
name = "note"
kind = "run_command"
command = ["true"]
mode = "approve"
risk = "low"
approvers = ["U0ALICE"]
verify_after = "0s"
"""


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "selfreg.toml").write_text(CONFIG.format(port=free_port()))
    env = {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"}
    running = Runtime(load_settings(str(tmp_path / "selfreg.toml"), env), out=io.StringIO())
    await running.start_services()
    try:
        yield running
    finally:
        await running.stop()


def open_incident(runtime: Runtime) -> int:
    incident = runtime.parts.alerting.handle(
        Transition(
            fingerprint=fingerprint("api", "", IncidentKind.RULE, ""),
            check="api",
            subject="",
            previous=Status.OK,
            current=Status.CRITICAL,
            severity=Severity.CRITICAL,
            summary="api is down",
            at=time.time(),
        )
    )
    assert incident is not None
    return incident.id


def trail(runtime: Runtime) -> list[tuple[str, str, dict]]:
    return [
        (row["kind"], row["actor"], json.loads(row["detail"]))
        for row in audit.rows(runtime.parts.store)
    ]


async def test_an_unmapped_local_user_is_refused_and_nothing_changes(runtime: Runtime) -> None:
    incident = open_incident(runtime)
    result = await selfreg(runtime, "mallory", "ack", str(incident))
    assert result.exit_code == 1
    assert "local user 'mallory' is not in the config's [cli] users" in result.stderr
    assert rows.get_incident(runtime.parts.store, incident).acked_by is None  # type: ignore[union-attr]


async def test_ack_silence_and_unsilence_act_as_the_mapped_approver_through_the_cli_door(
    runtime: Runtime,
) -> None:
    incident = open_incident(runtime)
    acked = await selfreg(runtime, "alice", "ack", str(incident))
    assert (acked.exit_code, acked.stdout) == (
        0,
        f"Incident #{incident} acknowledged; escalation stopped.\n",
    )
    assert rows.get_incident(runtime.parts.store, incident).acked_by == "U0ALICE"  # type: ignore[union-attr]

    silenced = await selfreg(
        runtime, "bob", "silence", "check=api*", "2h", "--reason", "deploy", "--json"
    )
    assert silenced.exit_code == 0
    answer = json.loads(silenced.stdout)
    assert answer["text"].startswith(f"Silence #{answer['id']} added for check=api* until ")
    [active] = rows.active_silences(runtime.parts.store, time.time())
    assert (active.author, active.reason) == ("U0BOB", "deploy")

    ended = await selfreg(runtime, "bob", "unsilence", str(answer["id"]))
    assert ended.exit_code == 0
    assert rows.active_silences(runtime.parts.store, time.time()) == []
    assert trail(runtime)[-3:] == [
        ("incident.acknowledged", "U0ALICE", {"door": "cli", "local_user": "alice"}),
        (
            "silence.added",
            "U0BOB",
            {
                "door": "cli",
                "local_user": "bob",
                "matcher": {"check": "api*"},
                "ends_at": active.ends_at,
            },
        ),
        ("silence.removed", "U0BOB", {"door": "cli", "local_user": "bob"}),
    ]


async def test_a_bad_silence_is_a_usage_error_64(runtime: Runtime) -> None:
    result = await selfreg(runtime, "alice", "silence", "check=api", "soon")
    assert result.exit_code == 64
    assert "expected a duration" in result.stderr


async def test_high_risk_needs_two_people_across_the_cli_as_in_slack(runtime: Runtime) -> None:
    incident = open_incident(runtime)
    [proposal] = store_proposals.for_incident(runtime.parts.store, incident)
    first = await selfreg(runtime, "alice", "approve", str(proposal.id))
    assert first.exit_code == 0 and "first approval" in first.stdout.lower()
    again = await selfreg(runtime, "alice", "approve", str(proposal.id))
    assert again.exit_code == 1, "the same person may not give the second approval"
    second = await selfreg(runtime, "bob", "approve", str(proposal.id))
    assert second.exit_code == 0, second.output
    await runtime.parts.remediation.wait_idle(10)  # type: ignore[union-attr]
    done = store_proposals.get(runtime.parts.store, proposal.id)
    assert (
        done is not None and done.decided_by == "U0BOB" and done.approvals == ("U0ALICE", "U0BOB")
    )
    decisions = [
        (a, d["allowed"], d["door"], d["local_user"])
        for k, a, d in trail(runtime)
        if k == "decision.approve"
    ]
    assert decisions == [
        ("U0ALICE", True, "cli", "alice"),
        ("U0ALICE", False, "cli", "alice"),
        ("U0BOB", True, "cli", "bob"),
    ]


async def test_run_proposes_and_runs_at_once_for_an_approver_and_waits_for_others(
    runtime: Runtime,
) -> None:
    ran = await selfreg(runtime, "alice", "run", "note", "--json")
    assert ran.exit_code == 0, ran.output
    answer = json.loads(ran.stdout)
    assert answer["runs"] is True
    refused = await selfreg(runtime, "bob", "run", "note")
    assert refused.exit_code == 1, "bob is not on note's approver list"
    assert "waiting" in refused.stdout
    await runtime.parts.remediation.wait_idle(10)  # type: ignore[union-attr]
    created = [d for k, _, d in trail(runtime) if k == "proposal.created"]
    assert created[0] == {"action": "note", "manual": True, "door": "cli", "local_user": "alice"}


async def test_component_control_follows_slack_permissions_and_names_unknown_components(
    runtime: Runtime,
) -> None:
    refused = await selfreg(runtime, "alice", "component", "restart", "sleeper")
    assert refused.exit_code == 1
    assert "U0ALICE may not run `component`" in refused.stderr
    unknown = await selfreg(runtime, "bob", "component", "restart", "nope")
    assert unknown.exit_code == 64, "a name the config lacks is a usage error, as for check run"
    assert 'no component is named "nope" (configured: sleeper)' in unknown.stderr


async def test_component_restart_restarts_it_as_a_permitted_approver(runtime: Runtime) -> None:
    await runtime.supervisor.start()
    [before] = [c["pid"] for c in runtime.supervisor.snapshot() if c["name"] == "sleeper"]
    done = await selfreg(runtime, "bob", "component", "restart", "sleeper")
    assert done.exit_code == 0, done.output
    [after] = [c["pid"] for c in runtime.supervisor.snapshot() if c["name"] == "sleeper"]
    assert after != before and done.stdout.startswith("component sleeper restarted: ")
    [row] = [(a, d) for k, a, d in trail(runtime) if k == "component.restart"]
    assert row[0] == "U0BOB" and (row[1]["door"], row[1]["local_user"]) == ("cli", "bob")


async def test_starting_a_crash_looped_component_answers_its_incident(runtime: Runtime) -> None:
    """`selfreg component start` after a crash loop is Slack's *Restart anyway*: the
    component runs and the crash-loop incident closes, naming who started it."""
    await runtime.supervisor.start()
    await selfreg(runtime, "bob", "component", "stop", "sleeper")
    looped = runtime.parts.alerting.handle(crash_loop_transition("sleeper", 5, 60.0, time.time()))
    assert looped is not None and looped.is_open
    done = await selfreg(runtime, "bob", "component", "start", "sleeper")
    assert done.exit_code == 0, done.output
    closed = rows.get_incident(runtime.parts.store, looped.id)
    assert closed is not None and not closed.is_open
    assert [s["status"] for s in runtime.supervisor.snapshot() if s["name"] == "sleeper"] == [
        "running"
    ]
