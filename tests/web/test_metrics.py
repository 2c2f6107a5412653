"""/metrics: the standard process and python collectors, selfreg's build, per-check up,
counters of what it did and the outbox backlog, in one registry per app."""

from __future__ import annotations

import asyncio
import gc
import io
import platform
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot import __version__
from bot.config import load_settings
from bot.records import LatestState
from bot.runtime import Runtime
from bot.tally import Tally
from bot.web.metrics import metrics_registry, render
from checks.base import Status
from tests.support.servers import free_port

CONFIG = """
[models]
anomaly = false
failure_risk = false
forecast = false

[[checks]]
kind = "tcp"
name = "db"
port = {closed}
interval = "1s"
"""


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def state(check: str, subject: str, status: Status, **values: float) -> LatestState:
    return LatestState(
        check=check,
        subject=subject,
        status=status,
        confirmed=status,
        values=values,
        at=0.0,
        confirmed_at=0.0,
        duration=0.25,
        summary="",
        streak=1,
    )


def test_one_scrape_has_standard_collectors_build_info_up_counters_and_backlog() -> None:
    tally = Tally()
    tally.add("check_runs", check="disk")
    tally.add("check_runs", check="disk")
    tally.add("incidents_opened", severity="critical")
    tally.add("deliveries", channel="slack")
    tally.add("delivery_failures", channel="webhook", kind="transient")
    tally.add("action_runs", action="restart-api", outcome="ok")
    latest = {
        ("disk", "/"): state("disk", "/", Status.OK, disk_percent=40.0),
        ("disk", "/data"): state("disk", "/data", Status.CRITICAL),
        ("api", ""): state("api", "", Status.WARNING, latency=0.5),
    }
    got = samples(render(metrics_registry(lambda: latest, tally, lambda: 3)).decode())
    names = {name for name, _ in got}
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"} <= names
    assert "python_gc_objects_collected_total" in names
    assert (
        got[("selfreg_build_info", (("python_version", _python()), ("version", __version__)))] == 1
    )
    assert got[("selfreg_check_up", (("check", "disk"),))] == 0, "one subject critical"
    assert got[("selfreg_check_up", (("check", "api"),))] == 1, "a warning is still up"
    assert got[("selfreg_check_runs_total", (("check", "disk"),))] == 2
    assert got[("selfreg_incidents_opened_total", (("severity", "critical"),))] == 1
    assert got[("selfreg_deliveries_total", (("channel", "slack"),))] == 1
    failures = (("channel", "webhook"), ("kind", "transient"))
    assert got[("selfreg_delivery_failures_total", failures)] == 1
    runs = (("action", "restart-api"), ("outcome", "ok"))
    assert got[("selfreg_action_runs_total", runs)] == 1
    assert got[("selfreg_outbox_backlog_messages", ())] == 3
    assert got[("selfreg_check_duration_seconds", (("check", "api"),))] == 0.25


def test_each_app_has_its_own_registry() -> None:
    first, second = Tally(), Tally()
    first.add("check_runs", check="a")
    one = samples(render(metrics_registry(dict, first)).decode())
    two = samples(render(metrics_registry(dict, second)).decode())
    assert ("selfreg_check_runs_total", (("check", "a"),)) in one
    assert ("selfreg_check_runs_total", (("check", "a"),)) not in two


async def test_a_running_selfreg_counts_its_runs_incidents_and_deliveries(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(CONFIG.format(closed=free_port()))
    config = load_settings(
        str(tmp_path / "selfreg.toml"),
        {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"},
    )
    runtime = Runtime(config, out=io.StringIO())
    await runtime.start()
    opened = ("selfreg_incidents_opened_total", (("severity", "critical"),))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # 20 s at most: the second failing run opens the incident
                async with http.get(f"{runtime.web_url}/metrics") as response:
                    got = samples(await response.text())
                if got.get(opened) and got.get(
                    ("selfreg_deliveries_total", (("channel", "console"),))
                ):
                    break
                await asyncio.sleep(0.2)
    finally:
        await runtime.stop()
        gc.unfreeze()
    assert got[opened] == 1
    assert got[("selfreg_check_runs_total", (("check", "db"),))] >= 2
    assert got[("selfreg_check_up", (("check", "db"),))] == 0
    assert got[("selfreg_deliveries_total", (("channel", "console"),))] >= 1


def _python() -> str:
    return platform.python_version()
