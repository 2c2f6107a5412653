"""The ngrok check against the ngrok stand-in (agent API and edge) and a loopback upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from checks.base import Observation, Status
from checks.ngrok import NgrokCheck, NgrokSpec
from tests.support.check_context import make_context
from tests.support.ngrok_standin import NgrokStandin, ngrok_standin
from tests.support.servers import free_port, http_server, silent_listener

PUBLIC = "https://3f2a-203-0-113-7.ngrok-free.app"


@pytest.fixture
async def agent() -> AsyncIterator[tuple[NgrokStandin, str, str]]:
    async with ngrok_standin() as started, http_server() as upstream:
        started[0].point("dashboard", upstream)
        yield started


async def observe(
    http: aiohttp.ClientSession, agent: tuple[NgrokStandin, str, str], **fields: Any
) -> dict[str, Observation]:
    _, api, edge = agent
    spec = {"api_url": api, "probe": {"path": "/ok", "probe_origin": edge}, **fields}
    check = NgrokCheck(NgrokSpec(kind="ngrok", name="tunnels", **spec))
    return {o.subject: o for o in await check.run(make_context(http))}


async def test_each_tunnel_is_one_observation_fetched_end_to_end(http, agent) -> None:
    seen = await observe(http, agent)
    assert set(seen) == {"", "dashboard", "ssh"}
    assert seen[""].status is Status.OK and seen[""].summary.endswith("online with 2 tunnels")
    dashboard = seen["dashboard"]
    assert dashboard.status is Status.OK
    assert dashboard.summary.startswith(f"{PUBLIC} -> http://127.0.0.1:")
    assert f"HTTP 200 from {PUBLIC}/ok in" in dashboard.summary
    assert "42 connections, 57 requests" in dashboard.summary
    assert dashboard.values["connections"] == 42 and dashboard.values["probe_status"] == 200
    assert seen["ssh"].status is Status.OK
    assert "connected to tcp://4.tcp.eu.ngrok.io:15342" in seen["ssh"].summary
    assert agent[0].edge_hits == 1  # the https tunnel went through the edge; tcp only connected


async def test_a_refusing_upstream_surfaces_err_ngrok_8012_as_the_summary(http, agent) -> None:
    agent[0].point("dashboard", f"http://127.0.0.1:{free_port()}")
    seen = await observe(http, agent, tunnels=["dashboard"])
    assert seen["dashboard"].status is Status.CRITICAL
    assert seen["dashboard"].summary.startswith(
        "ERR_NGROK_8012: the agent is up but its upstream refused the connection "
        f"(HTTP 502 from {PUBLIC}/ok)"
    )
    assert seen["dashboard"].values["probe_up"] == 0


async def test_an_unknown_ngrok_error_code_is_still_the_summary(http, agent) -> None:
    agent[0].edge_errors["dashboard"] = (503, "ERR_NGROK_9999")
    seen = await observe(http, agent, tunnels=["dashboard"])
    assert seen["dashboard"].summary.startswith("ERR_NGROK_9999: ngrok reported an error")


async def test_the_free_plan_interstitial_is_not_a_failure(http, agent) -> None:
    agent[0].edge_errors["dashboard"] = (200, "ERR_NGROK_6024")
    seen = await observe(http, agent, tunnels=["dashboard"])
    assert seen["dashboard"].status is Status.OK


async def test_a_tunnel_that_is_gone_is_critical_for_its_name(http, agent) -> None:
    agent[0].remove("dashboard")
    seen = await observe(http, agent, tunnels=["dashboard", "ssh"])
    assert seen["dashboard"].status is Status.CRITICAL
    assert seen["dashboard"].summary.startswith("tunnel dashboard is not running on the ngrok")
    assert seen["ssh"].status is Status.OK


async def test_no_tunnels_at_all_is_critical(http, agent) -> None:
    agent[0].remove("dashboard")
    agent[0].remove("ssh")
    [only] = (await observe(http, agent)).values()
    assert only.subject == "" and only.status is Status.CRITICAL
    assert "reports no tunnels" in only.summary


async def test_a_session_that_is_not_online_is_one_critical_for_the_agent(http, agent) -> None:
    agent[0].status = "reconnecting"
    [only] = (await observe(http, agent)).values()
    assert only.subject == "" and only.status is Status.CRITICAL
    assert "is 'reconnecting', not online" in only.summary


async def test_an_agent_that_is_down_is_one_critical_naming_its_component(http) -> None:
    api = f"http://127.0.0.1:{free_port()}/api"
    check = NgrokCheck(NgrokSpec(kind="ngrok", name="tunnels", api_url=api, component="ngrok"))
    [only] = await check.run(make_context(http))
    assert only.subject == "" and only.status is Status.CRITICAL
    assert only.summary == (
        f"ngrok agent API {api}/status: Connection refused"
        " [component ngrok: selfreg restarts it when it exits]"
    )


async def test_an_api_error_is_reported_with_the_agents_message(http, agent) -> None:
    agent[0].api_status = 500
    [only] = (await observe(http, agent)).values()
    assert only.status is Status.CRITICAL
    assert only.summary.endswith("answered HTTP 500: agent error")


async def test_an_agent_serving_only_endpoints_is_read_there(http, agent) -> None:
    agent[0].endpoints_only = True
    seen = await observe(http, agent, tunnels=["dashboard"])
    assert seen["dashboard"].status is Status.OK
    assert "connections" not in seen["dashboard"].summary  # /api/endpoints has no counts


async def test_an_unexpected_status_fails_the_probe_and_expect_status_accepts_it(
    http, agent
) -> None:
    _, api, edge = agent
    probe = {"path": "/error", "probe_origin": edge}
    spec = NgrokSpec(kind="ngrok", name="t", api_url=api, tunnels=["dashboard"], probe=probe)
    _, failing = await NgrokCheck(spec).run(make_context(http))
    assert failing.status is Status.CRITICAL
    assert failing.summary.startswith(f"HTTP 500 from {PUBLIC}/error; tunnel dashboard")
    accepting = spec.model_copy(
        update={"probe": spec.probe.model_copy(update={"expect_status": [500]})}
    )
    _, passing = await NgrokCheck(accepting).run(make_context(http))
    assert passing.status is Status.OK


async def test_a_silent_public_url_is_critical_within_the_runs_timeout(http, agent) -> None:
    _, api, _ = agent
    with silent_listener() as sock:
        edge = f"http://127.0.0.1:{sock.getsockname()[1]}"
        probe = {"path": "/ok", "probe_origin": edge}
        spec = NgrokSpec(
            kind="ngrok", name="t", api_url=api, tunnels=["dashboard"], probe=probe, timeout="1s"
        )
        # as the engine runs it: under the check's timeout, which would make it unknown
        _, silent = await asyncio.wait_for(NgrokCheck(spec).run(make_context(http)), 1.0)
    assert silent.status is Status.CRITICAL
    assert silent.summary.startswith(f"no answer from {PUBLIC}/ok within")
