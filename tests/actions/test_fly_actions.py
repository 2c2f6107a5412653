"""The Fly actions against the Machines API stand-in: leases, waits, refusals, scaling, rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from actions.base import Action, Risk
from actions.fly_restart_machine import FlyRestartMachine, FlyRestartMachineSpec
from actions.fly_rollback import FlyRollback, FlyRollbackSpec
from actions.fly_scale_count import FlyScaleCount, FlyScaleCountSpec
from actions.fly_scale_vm import FlyScaleVm, FlyScaleVmSpec
from actions.fly_start_machine import FlyStartMachine, FlyStartMachineSpec
from actions.fly_stop_machine import FlyStopMachine, FlyStopMachineSpec
from checks.fly import FlyCheck, FlySpec
from tests.support.action_context import RealActionContext
from tests.support.check_context import commit, make_context
from tests.support.fly_standin import APP, TOKEN, WEB, WORKER, FlyStandin, fly_api


@pytest.fixture
async def fly(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FlyStandin]:
    async with fly_api(monkeypatch) as standin:
        yield standin


def keys(fly: FlyStandin, **more: Any) -> dict[str, Any]:
    return {"name": "fly-act", "app": APP, "base_url": fly.url, "wait_timeout": 2, **more}


def lease_calls(fly: FlyStandin, machine_id: str) -> list[str]:
    path = f"/v1/apps/{APP}/machines/{machine_id}/lease"
    return [r.method for r in fly.requests if r.path == path]


async def test_start_takes_the_lease_sends_its_nonce_waits_and_releases(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    fly.crash(WORKER)
    action = FlyStartMachine(FlyStartMachineSpec(kind="fly_start_machine", **keys(fly)))
    result = await action.execute(ctx.for_subject(f"{WORKER} (ams)"), dry_run=False)
    assert result.ok, result.summary
    assert result.summary == f"started Fly machine {WORKER} of {APP} (was stopped, now started)"
    assert fly.state_of(WORKER) == "started"
    assert lease_calls(fly, WORKER) == ["POST", "DELETE"] and not fly.leases
    [start] = [r for r in fly.requests if r.path.endswith(f"{WORKER}/start")]
    assert start.nonce  # the mutation carried the lease nonce
    waits = [r for r in fly.requests if r.path.endswith(f"{WORKER}/wait")]
    assert waits and waits[-1].query["state"] == "started"


async def test_stop_and_restart_reach_their_states(fly: FlyStandin, ctx: RealActionContext) -> None:
    stop = FlyStopMachine(FlyStopMachineSpec(kind="fly_stop_machine", **keys(fly, machine=WEB)))
    assert (await stop.execute(ctx, dry_run=False)).ok
    assert fly.state_of(WEB) == "stopped"
    [wait] = [r for r in fly.requests if r.path.endswith(f"{WEB}/wait")]
    assert wait.query["state"] == "stopped" and wait.query["instance_id"]
    restart = FlyRestartMachine(FlyRestartMachineSpec(kind="fly_restart_machine", **keys(fly)))
    result = await restart.execute(ctx.for_subject(f"{WEB} (ams)"), dry_run=False)
    assert result.ok and fly.state_of(WEB) == "started"


async def test_a_held_lease_is_a_refusal_with_one_attempt(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    fly.hold_lease(WEB)
    action = FlyRestartMachine(FlyRestartMachineSpec(kind="fly_restart_machine", **keys(fly)))
    result = await action.execute(ctx.for_subject(f"{WEB} (ams)"), dry_run=False)
    assert not result.ok
    assert result.summary.startswith("refused: the machine's lease is held by someone else")
    assert result.summary.endswith("nothing was changed")
    assert lease_calls(fly, WEB) == ["POST"]
    assert not [r for r in fly.requests if r.path.endswith("/restart")]


async def test_a_wait_that_times_out_says_so(fly: FlyStandin, ctx: RealActionContext) -> None:
    fly.never_ready(WEB)
    action = FlyRestartMachine(
        FlyRestartMachineSpec(kind="fly_restart_machine", **keys(fly, wait_timeout=2))
    )
    result = await action.execute(ctx.for_subject(f"{WEB} (ams)"), dry_run=False)
    assert not result.ok
    assert result.summary == "the machine did not reach its state within 2s"
    asked = len([r for r in fly.requests if r.path.endswith("/wait")])
    assert 1 <= asked <= 4  # asked again after each 408, with a pause: no storm


async def test_a_refused_token_and_a_missing_machine_are_clear(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    action = FlyStopMachine(FlyStopMachineSpec(kind="fly_stop_machine", **keys(fly)))
    result = await action.execute(ctx, dry_run=False)  # the app's incident: no machine named
    assert not result.ok and result.summary.startswith("no machine to stop")
    action = FlyRestartMachine(FlyRestartMachineSpec(kind="fly_restart_machine", **keys(fly)))
    fly.refuse_token()
    result = await action.execute(ctx.for_subject(f"{WEB} (ams)"), dry_run=False)
    assert result.summary == f"Fly rejected FLY_API_TOKEN for app {APP} (HTTP 401)"
    assert TOKEN not in result.summary


async def test_on_the_apps_own_incident_a_restart_takes_every_idle_machine(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    fly.crash(WORKER)
    action = FlyRestartMachine(FlyRestartMachineSpec(kind="fly_restart_machine", **keys(fly)))
    result = await action.execute(ctx.for_subject(""), dry_run=False)
    assert result.summary == f"started Fly machine {WORKER} of {APP} (was stopped, now started)"
    assert not [r for r in fly.requests if r.path.endswith(f"{WEB}/restart")]


async def test_dry_run_changes_nothing(fly: FlyStandin, ctx: RealActionContext) -> None:
    action = FlyStopMachine(FlyStopMachineSpec(kind="fly_stop_machine", **keys(fly)))
    result = await action.execute(ctx.for_subject(f"{WEB} (ams)"), dry_run=True)
    assert result.summary == f"would stop Fly machine {WEB} of {APP}"
    assert fly.requests == [] and fly.state_of(WEB) == "started"


async def test_scale_vm_writes_the_full_config_with_a_new_guest(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    before = dict(fly.machines[WORKER]["config"])
    spec = FlyScaleVmSpec(
        kind="fly_scale_vm", **keys(fly, process_group="worker"), memory_mb=1024, cpus=2
    )
    result = await FlyScaleVm(spec).execute(ctx, dry_run=False)
    assert result.ok, result.summary
    assert result.summary == f"scaled {WORKER} 512 MB/1 CPU to 1024 MB, 2 CPU"
    after = fly.machines[WORKER]["config"]
    assert after["guest"] == {"cpu_kind": "shared", "cpus": 2, "memory_mb": 1024}
    assert {k: v for k, v in after.items() if k != "guest"} == {
        k: v for k, v in before.items() if k != "guest"
    }
    assert fly.machines[WEB]["config"]["guest"]["memory_mb"] == 256  # not its group
    again = await FlyScaleVm(spec).execute(ctx, dry_run=False)
    assert again.summary == f"every machine of {APP} is already 1024 MB, 2 CPU"


async def test_scale_count_clones_and_destroys_within_bounds(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    up = FlyScaleCount(
        FlyScaleCountSpec(kind="fly_scale_count", **keys(fly, process_group="web"), max=2)
    )
    result = await up.execute(ctx, dry_run=False)
    assert result.ok, result.summary
    assert len(fly.machines) == 3
    at_bound = await up.execute(ctx, dry_run=False)
    assert not at_bound.ok and "the bound (1..2)" in at_bound.summary
    down = FlyScaleCount(
        FlyScaleCountSpec(kind="fly_scale_count", **keys(fly, process_group="web"), step=-1, max=2)
    )
    assert (await down.execute(ctx, dry_run=False)).ok
    assert set(fly.machines) == {WORKER, WEB}  # the clone, the newest, went


async def test_scale_count_refuses_to_clone_a_machine_with_a_volume(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    up = FlyScaleCount(
        FlyScaleCountSpec(kind="fly_scale_count", **keys(fly, process_group="worker"), max=3)
    )
    result = await up.execute(ctx, dry_run=False)
    assert not result.ok and "volumes" in result.summary and len(fly.machines) == 2


async def test_rollback_restores_the_previous_release_from_the_check_history(
    fly: FlyStandin, ctx: RealActionContext, http: Any
) -> None:
    check = FlyCheck(FlySpec(kind="fly", name="fly-app", app=APP, base_url=fly.url))
    state: dict[str, Any] = {}
    for version in (None, 18):
        if version:
            fly.deploy(version)
        run = make_context(http, committed=state, name="fly-app")
        await check.run(run)
        state = commit(run.state)
    ctx.states["fly-app"] = state
    action: Action = FlyRollback(FlyRollbackSpec(kind="fly_rollback", check="fly-app", **keys(fly)))
    assert action.spec.risk is Risk.HIGH and action.undoes_deploys_of() == APP
    result = await action.execute(ctx, dry_run=False)
    assert result.ok, result.summary
    assert result.summary == f"rolled back {WORKER}, {WEB} of {APP} to v17"
    labels = {m["image_ref"]["labels"]["fly.version"] for m in fly.machines.values()}
    assert labels == {"v17"}


async def test_scale_vm_refuses_a_machine_fly_sent_without_its_full_config(
    fly: FlyStandin, ctx: RealActionContext
) -> None:
    fly.unreachable(WEB)
    worker_before = dict(fly.machines[WORKER]["config"])
    spec = FlyScaleVmSpec(kind="fly_scale_vm", **keys(fly), memory_mb=1024)
    result = await FlyScaleVm(spec).execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == (
        f"Fly sent no full config for machine {WEB} (host unreachable), and a machine's config "
        "is only written back whole; nothing was changed"
    )
    assert fly.machines[WORKER]["config"] == worker_before
    assert not [r for r in fly.requests if r.method == "POST"]  # no lease, no update


async def test_after_a_rollback_no_rollback_goes_forward_to_the_release_left(
    fly: FlyStandin, ctx: RealActionContext, http: Any
) -> None:
    check = FlyCheck(FlySpec(kind="fly", name="fly-app", app=APP, base_url=fly.url))
    state: dict[str, Any] = {}
    deploys = []
    for version in (None, 18, 17):  # v17 runs, v18 is deployed, then v17 is put back
        if version:
            fly.deploy(version)
        run = make_context(http, committed=state, name="fly-app")
        deploys.append(next(o.deploy for o in await check.run(run) if o.subject == ""))
        state = commit(run.state)
    back = deploys[-1]
    assert back is not None and (back.version, back.previous) == ("v17", "v18")
    assert back.checks == ()  # announced, but no incident is worded with it
    ctx.states["fly-app"] = state
    action = FlyRollback(FlyRollbackSpec(kind="fly_rollback", check="fly-app", **keys(fly)))
    result = await action.execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == (
        f"check fly-app has recorded no earlier release of {APP}; nothing was changed"
    )
    labels = {m["image_ref"]["labels"]["fly.version"] for m in fly.machines.values()}
    assert labels == {"v17"}
