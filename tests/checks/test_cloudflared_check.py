"""The cloudflared check against the cloudflared stand-in (metrics server and edge)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from checks.base import Observation, Status
from checks.cloudflared import CloudflaredCheck, CloudflaredSpec
from tests.support.check_context import make_context
from tests.support.cloudflared_standin import CloudflaredStandin, cloudflared_standin
from tests.support.servers import free_port, http_server

HOST = "runner.example.com"


@pytest.fixture
async def connector() -> AsyncIterator[tuple[CloudflaredStandin, str]]:
    async with cloudflared_standin(HOST) as started, http_server() as origin:
        started[0].origin = origin
        yield started


def make_check(base: str, **fields: Any) -> CloudflaredCheck:
    spec = {"metrics_url": base, "hostname": HOST, "probe": {"path": "/ok", "probe_origin": base}}
    return CloudflaredCheck(CloudflaredSpec(kind="cloudflared", name="cf", **(spec | fields)))


async def once(http: aiohttp.ClientSession, check: CloudflaredCheck) -> Observation:
    [observation] = await check.run(make_context(http))
    return observation


async def test_a_connected_tunnel_is_ok_with_its_figures_and_public_fetch(http, connector) -> None:
    seen = await once(http, make_check(connector[1]))
    assert seen.status is Status.OK and seen.subject == HOST
    assert seen.summary.startswith("4 of 4 HA connections, ready; HTTP 200 from https://")
    assert seen.summary.endswith("; 1289 requests")
    assert seen.values["ha_connections"] == 4 and seen.values["ready_connections"] == 4
    assert seen.values["request_errors"] == 3 and seen.values["probe_status"] == 200


async def test_a_disconnected_tunnel_is_critical(http, connector) -> None:
    connector[0].disconnect()
    seen = await once(http, make_check(connector[1]))
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith("no connection to Cloudflare's edge (/ready 503)")
    assert "(0 of 4 HA connections)" in seen.summary
    assert "probe_up" not in seen.values  # no public fetch through a tunnel known to be down


async def test_fewer_connections_than_expected_is_a_warning(http, connector) -> None:
    connector[0].ha_connections = 2
    seen = await once(http, make_check(connector[1]))
    assert seen.status is Status.WARNING
    assert "degraded: fewer edge connections than expected (2 of 4" in seen.summary


async def test_new_request_errors_since_the_last_run_are_a_warning(http, connector) -> None:
    check = make_check(connector[1], probe={"enabled": False})
    assert (await once(http, check)).status is Status.OK  # the first run has nothing to compare
    connector[0].request_errors += 2
    seen = await once(http, check)
    assert seen.status is Status.WARNING
    assert seen.summary.startswith("2 requests failed to reach the origin since the last run")
    assert (await once(http, check)).status is Status.OK  # no new ones


async def test_an_origin_that_refuses_fails_the_public_fetch(http, connector) -> None:
    connector[0].origin = f"http://127.0.0.1:{free_port()}"
    seen = await once(http, make_check(connector[1], request_errors={}))
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith(f"HTTP 502 from https://{HOST}/ok")


async def test_a_quick_tunnel_hostname_is_fetched_when_none_is_configured(http, connector) -> None:
    connector[0].quick_hostname = "quiet-fox.trycloudflare.com"
    check = make_check(connector[1], hostname=None)
    seen = await once(http, check)
    assert seen.status is Status.OK and seen.subject == ""
    assert "HTTP 200 from https://quiet-fox.trycloudflare.com/ok" in seen.summary


async def test_a_dead_metrics_server_is_critical_and_names_the_component(http) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    seen = await once(http, make_check(base, component="cloudflared"))
    assert seen.status is Status.CRITICAL
    assert seen.summary == (
        f"cloudflared metrics server {base}/ready: Connection refused"
        " [component cloudflared: selfreg restarts it when it exits]"
    )
