"""Planned maintenance in process (fake clock): a check's quiet hour comes from its stored load
by hour of day; a leak's restart approved "at the next quiet window" is stored, announced in
its thread before it runs, then run through the gate (a real component restarts); a cancelled
one never runs; the plan names the capacity horizon."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import messages
from bot.cli.tables import status_screen
from bot.control.people import People
from bot.control.server import build_control_app
from bot.engine.regulate.make import Regulation
from bot.engine.regulate.moves import Mover
from bot.engine.regulate.planning import ANNOUNCE, plan_document, quiet_hour_of, scheduled_rows
from bot.engine.regulate.scaling import Scaler
from bot.engine.regulate.trends import next_at_hour
from bot.engine.requests import Requests
from bot.errors import UserError
from bot.records import Door, ProposalState
from bot.slack import views
from bot.slack.plan import plan_answer
from bot.store import Store, audit
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from bot.store.retention import roll_up
from bot.store.samples import add_samples
from checks.base import Observation, Status
from tests.support.action_context import RealActionContext
from tests.support.db import rows
from tests.support.regulation_rig import Rig


def feed(
    rig: Rig, check: str, subject: str, metric: str, values: list[float], every: float
) -> None:
    """Stored samples of one series, ``every`` fake seconds apart, rolled up."""
    for value in values:
        rig.clock.advance(every)
        observation = Observation(
            check=check, subject=subject, status=Status.OK, summary="", values={metric: value},
            at=rig.clock.now(),
        )  # fmt: skip
        with rig.store.transaction():
            add_samples(rig.store, [observation])
    roll_up(rig.store, rig.clock.now() + 60)


async def leak_proposal(rig: Rig) -> int:
    await rig.measure(30, 600.0, signal.SIGUSR1)
    await rig.detectors.run()
    [leak] = [d for d in store_regulation.decisions(rig.store) if d.rule.startswith("leak")]
    return leak.proposal_id or 0


def outbox_text(store: Store) -> str:
    return "\n".join(r["payload"] for r in rows(store, "SELECT payload FROM outbox"))


async def test_the_quiet_hour_is_the_least_loaded_hour_of_the_day(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    rig.clock.advance(86400 - rig.clock.now() % 86400)  # midnight UTC
    values = [5.0 if (i // 30) % 24 == 4 else 60.0 for i in range(2 * 24 * 30)]  # 2 days, 2 min
    feed(rig, "api-proc", "", "cpu_percent", values, 120.0)
    spec = rig.specs["api-proc"]
    assert quiet_hour_of(store, spec, "", rig.clock.now(), default=3) == (4, True)
    assert quiet_hour_of(store, rig.specs["host"], "", rig.clock.now(), default=3) == (3, False)


async def test_a_restart_approved_for_the_quiet_window_is_announced_then_runs(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    proposal_id = await leak_proposal(rig)
    run = rig.planner.schedule(proposal_id, "U0ALICE")
    assert run.run_at == next_at_hour(rig.clock.now(), 3)  # no history per hour yet: the default
    proposal = store_proposals.get(store, proposal_id)
    assert proposal is not None and proposal.expires_at > run.run_at
    with pytest.raises(UserError, match="already scheduled"):
        rig.planner.schedule(proposal_id, "U0BOB")
    assert [r.id for r in store_regulation.scheduled_runs(store)] == [run.id]
    before = grower_ctx.components.pids("api")
    rig.clock.advance(run.run_at - rig.clock.now() - ANNOUNCE - 60)
    await rig.planner.tick()
    assert "starts at" not in outbox_text(store) and grower_ctx.components.pids("api") == before
    rig.clock.advance(120)
    await rig.planner.tick()
    assert "starts at" in outbox_text(store) and grower_ctx.components.pids("api") == before
    rig.clock.advance(ANNOUNCE)
    await rig.planner.tick()
    await rig.remediation.wait_idle()
    assert grower_ctx.components.pids("api") != before
    done = store_proposals.get(store, proposal_id)
    assert (
        done is not None and done.state is ProposalState.VERIFIED and done.decided_by == "U0ALICE"
    )
    assert store_regulation.scheduled_run(store, run.id).state == "ran"  # type: ignore[union-attr]
    kinds = [r["kind"] for r in rows(store, "SELECT kind FROM audit WHERE kind LIKE 'regulate.%'")]
    assert "regulate.scheduled" in kinds
    [approval] = [r for r in audit.rows(store) if r["kind"] == "decision.approve"]
    assert approval["actor"] == "U0ALICE"  # who scheduled it approves; the scheduler is the door
    assert json.loads(approval["detail"]) | {"reason": ""} == {
        "allowed": True, "reason": "", "door": "schedule", "via": "slack",
    }  # fmt: skip


async def test_a_run_scheduled_at_the_terminal_names_the_terminal_user_in_its_audit(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    run = rig.planner.schedule(await leak_proposal(rig), "U0ANN", Door("cli", local_user="ann"))
    assert store_regulation.scheduled_run(store, run.id).door == {  # type: ignore[union-attr]
        "door": "cli", "local_user": "ann",
    }  # fmt: skip
    rig.clock.advance(run.run_at - rig.clock.now() + 1)
    await rig.planner.tick()
    await rig.remediation.wait_idle()
    [approval] = [r for r in audit.rows(store) if r["kind"] == "decision.approve"]
    detail = json.loads(approval["detail"])
    assert approval["actor"] == "U0ANN" and detail["door"] == "schedule"
    assert (detail["via"], detail["local_user"]) == ("cli", "ann")


async def test_a_cancelled_run_never_runs(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    run = rig.planner.schedule(await leak_proposal(rig), "U0ALICE")
    rig.planner.cancel(run.id, "U0BOB")
    with pytest.raises(UserError, match="no scheduled run"):
        rig.planner.cancel(run.id, "U0BOB")
    before = grower_ctx.components.pids("api")
    rig.clock.advance(run.run_at - rig.clock.now() + 1)
    await rig.planner.tick()
    await rig.remediation.wait_idle()
    assert grower_ctx.components.pids("api") == before
    assert "cancelled by <@U0BOB>" in outbox_text(store)


async def test_the_plan_names_what_is_scheduled_and_the_capacity_horizon(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    feed(rig, "host", "/data", "disk_percent", [50 + 0.25 * i for i in range(120)], 600.0)
    run = rig.planner.schedule(await leak_proposal(rig), "U0ALICE")
    document = plan_document(store, rig.specs, rig.clock.now())
    assert [s["id"] for s in document["scheduled"]] == [run.id]
    [disk] = [h for h in document["horizon"] if h["metric"] == "disk_percent"]
    assert disk["level"] == "full" and 12 * 3600 < disk["eta"] < 15 * 3600  # 79.75 %, +1.5 an hour
    text = messages.plan_text(document)
    assert "/data full in" in text and "restart-api" in text


def regulation_of(rig: Rig) -> Regulation:
    """The rig's parts as the runtime assembles them."""
    parts = {"store": rig.store, "clock": rig.clock, "alerting": rig.alerting}
    mover = Mover(remediation=rig.remediation, settings=rig.settings, **parts)
    scaler = Scaler(clock=rig.clock, settings=rig.settings, mover=mover, instances=lambda _: None)
    return Regulation(scaler=scaler, mover=mover, detectors=rig.detectors, planner=rig.planner)


async def test_the_control_socket_and_slack_schedule_cancel_pause_and_show_the_plan(
    store: Store, grower_ctx: RealActionContext, pidfile: Path, tmp_path: Path
) -> None:
    rig = Rig(store, grower_ctx, pidfile, tmp_path)
    regulation = regulation_of(rig)
    proposal_id = await leak_proposal(rig)

    async def allows(command: str, actor: str) -> bool:
        return actor != "U0EVE"  # [slack] permissions: eve may not use plan

    requests = Requests(
        alerting=rig.alerting,
        supervisor=None,
        remediation=rig.remediation,
        allows=allows,  # type: ignore[arg-type]
    )
    users = {"ann": "U0ANN", "eve": "U0EVE"}  # [cli] users
    people = People(requests=requests, identify=users.get)
    app = build_control_app(
        lambda: {},
        lambda names: None,
        people,
        regulation=regulation,
        admins=lambda: ["U0ADMIN"],  # type: ignore[arg-type]
    )
    async with TestClient(TestServer(app)) as client:
        answer = await client.post(f"/plan/schedule/{proposal_id}", json={"user": "ann"})
        assert "scheduled run 1" in (await answer.json())["text"]
        plan = await (await client.get("/plan")).json()
        assert plan["scheduled"][0]["by"] == "U0ANN"
        answer = await client.post("/plan/pause", json={"user": "ann"})
        assert "paused by" in (await answer.json())["text"]
        assert (await client.post("/plan/cancel/7", json={"user": "ann"})).status == 404
        assert (await client.post("/plan/pause", json={"user": "mallory"})).status == 403
        assert (await client.post("/plan/pause", json={"user": "eve"})).status == 403
        assert (await client.post("/plan/resume", json={"user": "ann"})).status == 403
        assert (await client.post(f"/plan/cancel/{2**70}", json={"user": "ann"})).status == 404
        assert (await client.post("/plan/pause", data=b"[1]")).status == 400
    assert store_regulation.paused(store) == ("on", "U0ANN")
    doors = [
        json.loads(r["detail"]) for r in audit.rows(store) if r["kind"] == "regulate.scheduled"
    ]
    assert doors and doors[0]["door"] == "cli" and doors[0]["local_user"] == "ann"
    shown = {"checks": [], "scheduled": scheduled_rows(store)}
    slack = json.dumps(views.status_view(shown, {}, [], [], 0.0, rig.clock.now()).blocks)
    terminal = status_screen({**shown, "selfreg": {}}, rig.clock.now())
    assert "Scheduled for quiet windows (1)" in slack and "restart-api at" in terminal
    assert "Scheduled:" in plan_answer(regulation, [], "U0BOB", admins=())
    with pytest.raises(UserError, match="admins"):
        plan_answer(regulation, ["resume"], "U0BOB", admins=())
    assert "resumed" in plan_answer(regulation, ["resume"], "U0ADMIN", admins=("U0ADMIN",))
    assert "cancelled" in plan_answer(regulation, ["cancel", "1"], "U0BOB", admins=())
    assert store_regulation.scheduled_runs(store) == []
