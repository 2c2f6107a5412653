"""The fly check against the Machines API stand-in: machines, errors, deploys, the token."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from checks.base import Observation, Status
from checks.fly import FlyCheck, FlySpec
from checks.fly_api import authorization
from tests.support.check_context import commit, make_context
from tests.support.clock import FakeClock
from tests.support.fly_standin import APP, TOKEN, WEB, WORKER, FlyStandin, fly_api
from tests.support.servers import http_server
from tests.support.streaming import streaming_server


@pytest.fixture
async def fly(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FlyStandin]:
    async with fly_api(monkeypatch) as standin:
        yield standin


def check(fly: FlyStandin, **keys: Any) -> FlyCheck:
    return FlyCheck(FlySpec(kind="fly", name="fly-app", app=APP, base_url=fly.url, **keys))


async def run(
    fly_check: FlyCheck, http: aiohttp.ClientSession, committed: dict[str, Any] | None = None
) -> tuple[dict[str, Observation], dict[str, Any]]:
    ctx = make_context(http, committed=committed, clock=FakeClock(), name="fly-app")
    seen = await fly_check.run(ctx)
    return {o.subject: o for o in seen}, commit(ctx.state)


async def test_each_machine_is_one_observation_and_the_app_another(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    seen, _ = await run(check(fly), http)
    assert set(seen) == {"", f"{WORKER} (ams)", f"{WEB} (ams)"}
    assert all(o.status is Status.OK for o in seen.values())
    app = seen[""]
    assert app.summary == (
        "selfreg-bot: 2 of 2 machines started; 2 started; regions ams (2); release v17"
    )
    assert app.values["started"] == 2 and app.values["release"] == 17
    worker = seen[f"{WORKER} (ams)"]
    assert worker.summary == "started in ams, v17; 1 checks passing"
    assert worker.values["memory_mb"] == 512 and worker.values["up"] == 1


async def test_a_stopped_oom_killed_machine_is_critical_with_its_exit(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.crash(WORKER)
    seen, _ = await run(check(fly), http)
    worker = seen[f"{WORKER} (ams)"]
    assert worker.status is Status.CRITICAL
    assert worker.summary == (
        "stopped in ams, v17; exited with code 137 (OOM killed) at 2025-05-14 12:40 UTC; "
        "10 restarts"
    )
    assert worker.values["exit_code"] == 137 and worker.values["oom_kills"] == 1
    assert seen[""].summary.startswith("selfreg-bot: 1 of 2 machines started; 1 started, 1 stopped")


async def test_a_failing_fly_health_check_carries_its_output(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.fail_check(WEB)
    seen, _ = await run(check(fly), http)
    web = seen[f"{WEB} (ams)"]
    assert web.status is Status.CRITICAL
    assert "check servicecheck-00-http-8080 critical: connect: connection refused" in web.summary


async def test_process_group_and_region_filters(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    seen, _ = await run(check(fly, process_group="web"), http)
    assert set(seen) == {"", f"{WEB} (ams)"}
    seen, _ = await run(check(fly, regions=["sea"], min_started=0), http)
    assert set(seen) == {""}


async def test_a_machine_stuck_in_replacing_is_critical(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.stick(WEB, since=FakeClock().now() - 600)
    seen, _ = await run(check(fly, stuck_after=300), http)
    web = seen[f"{WEB} (ams)"]
    assert web.status is Status.CRITICAL
    assert web.summary == "replacing in ams, v17; stuck replacing for 10m"


async def test_a_refused_token_is_a_clear_unknown(
    fly: FlyStandin, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    fly.refuse_token()
    with caplog.at_level(logging.DEBUG):
        seen, _ = await run(check(fly), http)
    assert seen[""].status is Status.UNKNOWN
    assert seen[""].summary == "Fly rejected FLY_API_TOKEN for app selfreg-bot (HTTP 401)"
    assert TOKEN not in caplog.text and TOKEN not in repr(seen)


async def test_an_unknown_app_is_critical(fly: FlyStandin, http: aiohttp.ClientSession) -> None:
    fly_check = FlyCheck(FlySpec(kind="fly", name="fly-app", app="nope", base_url=fly.url))
    seen, _ = await run(fly_check, http)
    assert seen[""].status is Status.CRITICAL
    assert seen[""].summary == "Fly has no app nope (HTTP 404: app not found)"


async def test_a_missing_token_says_which_variable(
    fly: FlyStandin, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLY_API_TOKEN")
    seen, _ = await run(check(fly), http)
    assert seen[""].summary == "FLY_API_TOKEN is not set"


async def test_429_is_retried_after_retry_after(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.rate_limit(1, retry_after=1)
    seen, _ = await run(check(fly, interval=10), http)
    assert seen[""].status is Status.OK
    assert [r.path for r in fly.requests].count(f"/v1/apps/{APP}/machines") == 2


async def test_429_beyond_the_timeout_is_unknown_without_waiting(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.rate_limit(5, retry_after=120)
    seen, _ = await run(check(fly, interval=10), http)
    assert seen[""].status is Status.UNKNOWN
    assert seen[""].summary == "Fly API: Fly rate-limited the request; retry after 120s"
    assert len(fly.requests) == 1


async def test_a_deploy_is_reported_once_and_the_first_sighting_is_not_one(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly_check = check(fly, deploy_affects=["site"])
    seen, state = await run(fly_check, http)
    assert seen[""].deploy is None
    fly.deploy(18)
    seen, state = await run(fly_check, http, state)
    deploy = seen[""].deploy
    assert deploy is not None
    assert (deploy.version, deploy.previous, deploy.regions, deploy.machines) == (
        "v18",
        "v17",
        ("ams",),
        2,
    )
    assert deploy.checks == ("fly-app", "site")
    assert [h["version"] for h in state["releases"]] == ["v17", "v18"]
    seen, state = await run(check(fly), http, state)  # a new instance: a restarted selfreg
    assert seen[""].deploy is None


async def test_health_url_gives_the_response_time_and_the_apps_own_numbers(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    health = fly.url.removesuffix("/v1") + "/app/health"
    fields = {"memory_mb": "memory.rss_mb", "cpu_percent": "cpu", "absent": "no.such"}
    seen, _ = await run(check(fly, health_url=health, health_fields=fields), http)
    app = seen[""]
    assert app.values["response_ms"] >= 0 and "health HTTP 200 in " in app.summary
    assert (app.values["memory_mb"], app.values["cpu_percent"]) == (181.5, 12)
    assert "absent" not in app.values
    async with http_server() as base:
        seen, _ = await run(check(fly, health_url=f"{base}/error"), http)
    assert seen[""].status is Status.CRITICAL


async def test_an_api_slower_than_the_timeout_is_unknown(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.delay = 1.5
    seen, _ = await run(check(fly, interval=1), http)
    assert seen[""].status is Status.UNKNOWN
    assert seen[""].summary == "Fly API did not answer within 900ms"


def test_token_forms_become_the_right_scheme() -> None:
    assert authorization("abc") == "Bearer abc"
    assert authorization("Bearer abc") == "Bearer abc"
    assert authorization("FlyV1 fm2_lJPE,fm2_xyz") == "FlyV1 fm2_lJPE,fm2_xyz"
    assert authorization("fm2_lJPE") == "FlyV1 fm2_lJPE"


async def test_a_large_health_answer_arriving_in_pieces_is_read_whole(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    document = {"padding": "x" * 300_000, "memory": {"rss_mb": 181.5}}
    async with streaming_server(json.dumps(document).encode()) as base:
        fields = {"memory_mb": "memory.rss_mb"}
        seen, _ = await run(check(fly, health_url=f"{base}/", health_fields=fields), http)
    assert seen[""].values["memory_mb"] == 181.5


async def test_health_url_gets_what_the_api_call_left_of_the_runs_timeout(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.delay = 1.0  # of the run's 1.8 s, the list call takes 1 s
    async with http_server() as base:
        fly_check = check(fly, interval=2, health_url=f"{base}/slow?seconds=1.2")
        seen, _ = await run(fly_check, http)
    assert seen[""].status is Status.CRITICAL
    assert "health: no answer within " in seen[""].summary


async def test_a_machine_whose_host_is_unreachable_is_a_warning_still_in_its_group(
    fly: FlyStandin, http: aiohttp.ClientSession
) -> None:
    fly.unreachable(WEB)
    seen, _ = await run(check(fly, process_group="web"), http)
    web = seen[f"{WEB} (ams)"]
    assert web.status is Status.WARNING
    assert web.summary.endswith("host unreachable: Fly cannot reach it, the state may be stale")
