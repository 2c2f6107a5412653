"""The tcp check: a real listener connects, a closed port is refused."""

from __future__ import annotations

import aiohttp

from checks.base import Status
from checks.tcp import TcpCheck, TcpSpec
from tests.support.check_context import make_context
from tests.support.servers import free_port, tcp_listener


async def test_a_listening_port_connects_and_reports_the_time() -> None:
    with tcp_listener() as sock:
        port = sock.getsockname()[1]
        async with aiohttp.ClientSession() as http:
            [seen] = await TcpCheck(TcpSpec(kind="tcp", name="db", port=port)).run(
                make_context(http)
            )
    assert seen.status is Status.OK
    assert seen.summary.startswith(f"connected to 127.0.0.1:{port} in ")
    assert seen.values["up"] == 1.0 and seen.values["connect_time"] < 1


async def test_a_closed_port_is_critical() -> None:
    port = free_port()
    async with aiohttp.ClientSession() as http:
        [seen] = await TcpCheck(TcpSpec(kind="tcp", name="db", port=port)).run(make_context(http))
    assert seen.status is Status.CRITICAL
    assert seen.summary == f"cannot connect to 127.0.0.1:{port}: Connection refused"
