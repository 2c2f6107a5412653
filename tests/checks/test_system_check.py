"""The ``system`` check against this host's real counters, mounts and interfaces."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest
from pydantic import ValidationError

from checks.base import Observation, Status
from checks.host_reading import TURN
from checks.system import SystemCheck, SystemSpec, default_mounts, human_bytes
from tests.support.check_context import make_context
from tests.support.clock import FakeClock


def check_of(**fields: Any) -> SystemCheck:
    return SystemCheck(SystemSpec(kind="system", name="host", **fields))


def by_subject(observations: list[Observation]) -> dict[str, Observation]:
    return {o.subject: o for o in observations}


def used_percent(mount: str) -> float:
    st = os.statvfs(mount)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    return 100 * used / (used + st.f_bavail * st.f_frsize)


def loopback_traffic(blocks: int) -> None:
    """Send ``blocks`` times 64 KiB over a real loopback TCP connection (5 s timeouts)."""
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname(), timeout=5) as client,
    ):
        peer, _ = server.accept()
        with peer:
            peer.settimeout(5)
            for _ in range(blocks):  # one block at a time: never fills the buffers
                client.sendall(b"x" * 65536)
                received = 0
                while received < 65536:
                    chunk = peer.recv(65536)
                    assert chunk, "connection closed early"
                    received += len(chunk)


async def test_its_first_run_reports_levels_but_no_rates(http: aiohttp.ClientSession) -> None:
    check = check_of(interfaces=["lo"])

    host = by_subject(await check.run(make_context(http, clock=FakeClock())))[""]

    assert {"memory_percent", "load1", "load5", "load15", "load_per_core"} <= set(host.values)
    assert "cpu_percent" not in host.values
    assert "disk_read_bytes_per_s" not in host.values
    assert re.match(r"memory \d+%, load \d+\.\d/core", host.summary)


async def test_its_second_run_reports_cpu_and_rates_since_the_first(
    http: aiohttp.ClientSession,
) -> None:
    check, clock = check_of(interfaces=["lo"]), FakeClock()
    await check.run(make_context(http, clock=clock))
    loopback_traffic(32)
    await asyncio.sleep(0.2)
    clock.advance(2.0)

    observations = by_subject(await check.run(make_context(http, clock=clock)))

    host, lo = observations[""], observations["lo"]
    assert 0 <= host.values["cpu_percent"] <= 100
    assert re.match(r"cpu \d+%, memory \d+%, load \d+\.\d/core", host.summary)
    if psutil.disk_io_counters() is not None:
        assert host.values["disk_read_bytes_per_s"] >= 0
    assert lo.values["bytes_recv_per_s"] >= 1_000_000  # 2.1 MB over a 2 s interval
    assert lo.values["packets_recv_per_s"] > 0
    assert lo.values["errin"] == 0 and lo.values["dropout"] == 0
    assert re.fullmatch(r"lo: up, [\d.]+ MB/s in, [\d.]+ MB/s out", lo.summary)


async def test_it_watches_every_real_local_mount_by_default(http: aiohttp.ClientSession) -> None:
    mounts = default_mounts()

    observations = by_subject(await check_of().run(make_context(http)))

    assert mounts and set(mounts) <= set(observations)
    assert not any(m.startswith("/snap/") for m in mounts)
    for mount in mounts:
        observation = observations[mount]
        assert 0 <= observation.values["disk_percent"] <= 100
        assert observation.values["disk_free_bytes"] >= 0
        assert re.fullmatch(
            rf"{re.escape(mount)}: \d+% used \([\d.]+ [kMGT]?B free\)", observation.summary
        )


async def test_it_watches_every_interface_but_loopback_by_default(
    http: aiohttp.ClientSession,
) -> None:
    observations = by_subject(await check_of().run(make_context(http)))

    expected = set(psutil.net_io_counters(pernic=True)) - {"lo"}
    assert expected <= set(observations)
    assert "lo" not in observations


async def test_it_warns_when_a_mount_passes_its_warning_limit(
    http: aiohttp.ClientSession,
) -> None:
    used = used_percent("/")
    if used < 1 or used > 98:
        pytest.skip(f"/ is {used:.0f}% used: no room for limits on either side")
    check = check_of(mounts=["/"], disk={"warn": f"{used - 1}%", "critical": f"{used + 1}%"})

    root = by_subject(await check.run(make_context(http)))["/"]

    assert root.status is Status.WARNING
    assert root.values["disk_percent"] == pytest.approx(used, abs=0.5)


async def test_it_is_critical_about_a_watched_mount_that_is_not_mounted(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    observations = by_subject(await check_of(mounts=[str(tmp_path)]).run(make_context(http)))

    assert observations[str(tmp_path)].status is Status.CRITICAL
    assert observations[str(tmp_path)].summary == f"{tmp_path}: not mounted"


async def test_it_is_critical_about_a_watched_interface_that_is_missing(
    http: aiohttp.ClientSession,
) -> None:
    observations = by_subject(await check_of(interfaces=["nosuch9"]).run(make_context(http)))

    assert observations["nosuch9"].status is Status.CRITICAL
    assert observations["nosuch9"].summary == "nosuch9: no such interface"


async def test_it_names_the_figure_past_its_limit(http: aiohttp.ClientSession) -> None:
    check = check_of(interfaces=["lo"], memory={"critical": "0%"}, load={"warn": 0})

    host = by_subject(await check.run(make_context(http)))[""]

    assert host.status is Status.CRITICAL
    assert re.search(r"; memory \d+% \(critical ≥ 0%\)", host.summary)
    assert re.search(r"; load \d+\.\d/core \(warning ≥ 0\)", host.summary)


def test_its_spec_rejects_a_percentage_over_100() -> None:
    with pytest.raises(ValidationError, match="between 0% and 100%"):
        SystemSpec(kind="system", name="host", disk={"warn": "120%"})


def test_its_spec_has_documented_defaults() -> None:
    spec = SystemSpec(kind="system", name="host")

    assert (spec.disk.warn, spec.disk.critical) == (85, 95)
    assert (spec.memory.warn, spec.memory.critical) == (90, 97)
    assert (spec.inodes.warn, spec.inodes.critical) == (90, 97)
    assert all(field.description for field in SystemSpec.model_fields.values())


def test_it_writes_sizes_the_way_operators_read_them() -> None:
    assert human_bytes(29_300_000_000) == "29 GB"
    assert human_bytes(1_250) == "1.2 kB"
    assert human_bytes(512) == "512 B"


async def test_the_system_checks_of_one_instant_share_one_reading_of_the_host(
    http: aiohttp.ClientSession,
) -> None:
    checks = [check_of(interfaces=["lo"], mounts=["/"]) for _ in range(5)]
    await asyncio.sleep(0)  # a fresh turn of the loop: nothing read in it yet
    made = TURN.made

    runs = await asyncio.gather(*(c.run(make_context(http)) for c in checks))

    assert TURN.made - made == 2  # one reading of the host, one statvfs call for "/"
    hosts = [by_subject(observations)[""] for observations in runs]
    assert all(h.values == hosts[0].values for h in hosts)
    assert all(by_subject(observations)["/"].summary.startswith("/: ") for observations in runs)


async def test_a_run_cancelled_by_its_timeout_leaves_the_shared_statvfs_to_the_others(
    http: aiohttp.ClientSession,
) -> None:
    first, second = check_of(mounts=["/"]), check_of(mounts=["/"])
    cancelled = asyncio.ensure_future(first.run(make_context(http)))
    kept = asyncio.ensure_future(second.run(make_context(http)))
    await asyncio.sleep(0)  # both started and wait for the one statvfs call
    cancelled.cancel()

    observations = by_subject(await kept)

    assert cancelled.cancelled()
    assert 0 <= observations["/"].values["disk_percent"] <= 100


async def test_two_runs_of_a_check_in_different_turns_read_the_host_anew(
    http: aiohttp.ClientSession,
) -> None:
    check = check_of(interfaces=["lo"], mounts=["/"])
    await check.run(make_context(http))
    made = TURN.made

    await check.run(make_context(http))

    assert TURN.made - made == 2  # its own reading again: rates span its own interval
