"""Components start in declared order, each waiting until its health check says "ready"."""

from __future__ import annotations

import time

from aiohttp import web

from tests.engine.test_supervisor_support import (
    SLEEPER,
    Harness,
    alive,
    harness,
    tcp_server_code,
)
from tests.support.db import rows
from tests.support.servers import free_port

__all__ = ["harness"]


def started_at(harness: Harness, name: str) -> float:
    row = rows(
        harness.store,
        "SELECT at FROM events WHERE kind = 'component.started' AND subject = ? ORDER BY id",
        (name,),
    )[0]
    return row["at"]


async def test_the_second_component_starts_only_once_the_first_is_ready(harness: Harness) -> None:
    port = free_port()
    supervisor = harness.supervisor(
        harness.component(
            "db", tcp_server_code(port, delay=0.4), health={"tcp": f"127.0.0.1:{port}"}
        ),
        harness.component("api", SLEEPER),
    )
    await supervisor.start()

    kinds = [(k, d.get("instance")) for k, d in harness.events() if k != "component.stopped"]
    assert [k for k, _ in kinds] == [
        "component.started",  # db
        "component.became_ready",  # db, after its port accepted
        "component.started",  # api
    ]
    ready = next(d for k, d in harness.events("db") if k == "component.became_ready")
    assert ready["after"] >= 0.4
    assert started_at(harness, "api") - started_at(harness, "db") >= 0.4
    assert {c["name"]: c["status"] for c in supervisor.snapshot()} == {
        "db": "running",
        "api": "running",
    }


async def test_a_component_that_never_becomes_ready_does_not_hang_the_start(
    harness: Harness,
) -> None:
    port = free_port()  # nothing will ever listen here
    supervisor = harness.supervisor(
        harness.component("deaf", SLEEPER, health={"tcp": f"127.0.0.1:{port}", "timeout": "500ms"}),
        harness.component("api", SLEEPER),
    )
    began = time.monotonic()
    await supervisor.start()
    assert time.monotonic() - began < 5

    status = {c["name"]: c for c in supervisor.snapshot()}
    assert status["deaf"]["status"] == "unready" and alive(status["deaf"]["pid"])
    assert status["api"]["status"] == "running"
    assert [k for k, _ in harness.events("deaf")][-1] == "component.ready_timed_out"


async def test_an_http_health_check_decides_ready(harness: Harness) -> None:
    answers = {"code": 503}

    async def health(_: web.Request) -> web.Response:
        return web.Response(status=answers["code"])

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/health"
    try:
        supervisor = harness.supervisor(
            harness.component("web", SLEEPER, health={"http": url, "timeout": "300ms"})
        )
        await supervisor.start()
        assert supervisor.snapshot()[0]["status"] == "unready"  # 503 is not ready

        answers["code"] = 200
        await supervisor.restart("web")
        assert supervisor.snapshot()[0]["status"] == "running"
    finally:
        await runner.cleanup()
