"""The http check against real loopback servers: 200, 500, slow, silent, refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from checks.base import Status
from checks.http import HttpCheck, HttpSpec
from tests.support.check_context import make_context
from tests.support.servers import free_port, http_server, silent_listener


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async with http_server() as url:
        yield url


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def observe(session: aiohttp.ClientSession, **fields: object) -> tuple[Status, str, dict]:
    check = HttpCheck(HttpSpec(kind="http", name="api", **fields))
    [observation] = await check.run(make_context(session))
    return observation.status, observation.summary, dict(observation.values)


async def test_a_200_is_ok_with_its_latency(session, base_url) -> None:
    status, summary, values = await observe(session, url=f"{base_url}/ok")
    assert status is Status.OK
    assert summary.startswith("HTTP 200 in ")
    assert values["status_code"] == 200 and 0 < values["latency"] < 1


async def test_a_500_is_critical(session, base_url) -> None:
    status, summary, _ = await observe(session, url=f"{base_url}/error")
    assert status is Status.CRITICAL
    assert summary.startswith("HTTP 500 from ")


async def test_an_expected_status_set_overrides_the_default(session, base_url) -> None:
    status, _, _ = await observe(session, url=f"{base_url}/error", expect_status=[500])
    assert status is Status.OK


async def test_a_slow_answer_trips_the_latency_limits(session, base_url) -> None:
    status, summary, _ = await observe(
        session, url=f"{base_url}/slow?seconds=0.3", latency={"warn": "100ms", "critical": "2s"}
    )
    assert status is Status.WARNING
    assert "latency" in summary and "warning > 100 ms" in summary


async def test_a_server_that_never_answers_is_critical_before_the_timeout(session) -> None:
    with silent_listener() as sock:
        port = sock.getsockname()[1]
        status, summary, values = await observe(
            session, url=f"http://127.0.0.1:{port}/", timeout="0.5s"
        )
    assert status is Status.CRITICAL
    assert summary.startswith(f"no answer from http://127.0.0.1:{port}/ within")
    assert values == {"up": 0.0}


async def test_a_refused_connection_is_critical_and_says_so(session) -> None:
    port = free_port()
    status, summary, _ = await observe(session, url=f"http://127.0.0.1:{port}/health")
    assert status is Status.CRITICAL
    assert summary == f"cannot connect to http://127.0.0.1:{port}/health: Connection refused"


async def test_body_regex_and_json_field_are_checked(session, base_url) -> None:
    status, summary, _ = await observe(session, url=f"{base_url}/ok", body_regex="healthy")
    assert status is Status.CRITICAL and "does not match /healthy/" in summary
    status, _, _ = await observe(
        session, url=f"{base_url}/ok", json_field={"path": "status", "equals": "ok"}
    )
    assert status is Status.OK
    status, summary, _ = await observe(
        session, url=f"{base_url}/ok", json_field={"path": "status", "equals": "up"}
    )
    assert status is Status.CRITICAL and "JSON field status is 'ok', expected 'up'" in summary


async def test_redirects_are_followed_unless_told_not_to(session, base_url) -> None:
    status, summary, _ = await observe(session, url=f"{base_url}/redirect")
    assert status is Status.OK and summary.startswith("HTTP 200")
    status, summary, _ = await observe(
        session, url=f"{base_url}/redirect", follow_redirects=False, expect_status=[200]
    )
    assert status is Status.CRITICAL and summary.startswith("HTTP 302")
