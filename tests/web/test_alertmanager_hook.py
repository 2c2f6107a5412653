"""``POST /hooks/alertmanager`` through a built selfreg: recorded webhook payloads (version 4)
open, update and resolve one incident per alert fingerprint, out-of-order and repeated
deliveries included, with the alert's severity, labels and annotations, and the routed actions
proposed."""

from __future__ import annotations

import copy
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config import load_settings
from bot.records import IncidentState, Severity
from bot.runtime import Parts, build
from bot.runtime.factories import web_hooks
from bot.store import incidents as rows
from bot.store import proposals
from bot.web.alertmanager import alertmanager_hook
from bot.web.app import build_app
from bot.web.metrics import metrics_registry
from checks.base import Status
from tests.support.clock import FakeClock
from tests.support.servers import serve_app

SAMPLES = Path(__file__).resolve().parents[1] / "support" / "samples" / "alertmanager"
TOKEN = "am-token"
CONFIG = """
[models]
anomaly = false
failure_risk = false
forecast = false

[alerts]
console = false

[alertmanager]
severities = { page = "critical" }

[[alertmanager.routes]]
alertname = "CloudflaredTunnelDown"
actions = ["restart-tunnel"]

[[actions]]
kind = "run_command"
name = "restart-tunnel"
command = ["/bin/true"]
"""
TUNNEL = "fingerprint", "a3f0c2b7d1e49856"


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return document


class Hook:
    """The built selfreg, its web app serving the hook, and a way to post to it."""

    def __init__(self, parts: Parts, url: str, http: aiohttp.ClientSession) -> None:
        self.parts, self.url, self.http = parts, url, http

    async def post(self, payload: Any, token: str | None = TOKEN) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        async with self.http.post(self.url, data=data, headers=headers) as response:
            return response.status, await response.json()

    def incident(self, subject: str):
        return rows.latest_for(self.parts.store, f"alertmanager|{subject}|rule")


@pytest.fixture
async def hook(tmp_path: Path, http: aiohttp.ClientSession, monkeypatch) -> AsyncIterator[Hook]:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    monkeypatch.setenv("SELFREG_ALERTMANAGER_TOKEN", TOKEN)
    env = {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"}
    config = load_settings(str(tmp_path / "selfreg.toml"), env)
    parts = build(config, clock=FakeClock(time.time()), out=io.StringIO())
    registry = metrics_registry(lambda: parts.runner.latest, parts.runner.tally, lambda: 0)
    app = build_app(
        _Backend(), registry, "web-token", hooks=web_hooks(config, parts.external_alerts)
    )
    try:
        async with serve_app(app) as base:
            yield Hook(parts, base + "/hooks/alertmanager", http)
    finally:
        await parts.http.close()
        parts.store.close()


class _Backend:
    def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {}

    def status(self) -> dict[str, Any]:
        return {}


SUBJECT = "CloudflaredTunnelDown/a3f0c2b7d1e49856"


async def test_a_firing_alert_opens_one_incident_with_its_labels_and_annotations(hook) -> None:
    status, body = await hook.post(sample("webhook_v4_firing.json"))
    assert status == 200 and body == {"alerts": 1, "recorded": 1}
    incident = hook.incident(SUBJECT)
    assert incident is not None and incident.state is IncidentState.OPEN
    assert incident.severity is Severity.CRITICAL and incident.status is Status.CRITICAL
    assert incident.summary.startswith(
        "CloudflaredTunnelDown: cloudflared on 10.0.3.7:20241 has no edge connections · labels "
        "fleet=office, instance=10.0.3.7:20241, job=cloudflared, severity=critical"
    )
    assert "runbook: restart_tunnel" in incident.summary
    [offered] = proposals.for_incident(hook.parts.store, incident.id)
    assert offered.action == "restart-tunnel"


async def test_a_repeat_only_updates_and_the_resolution_resolves(hook) -> None:
    await hook.post(sample("webhook_v4_firing.json"))
    await hook.post(sample("webhook_v4_firing.json"))
    incident = hook.incident(SUBJECT)
    assert incident.count == 2 and incident.is_open
    assert len(proposals.for_incident(hook.parts.store, incident.id)) == 1
    resolved = sample("webhook_v4_firing.json")
    resolved["alerts"][0] |= {"status": "resolved", "endsAt": "2025-05-14T13:05:00.5Z"}
    status, body = await hook.post(resolved)
    assert (status, body["recorded"]) == (200, 1)
    assert hook.incident(SUBJECT).state is IncidentState.RESOLVED
    assert len(rows.recent_incidents(hook.parts.store, 10)) == 1


async def test_a_resolved_before_its_firing_and_a_late_firing_open_nothing(hook) -> None:
    firing = sample("webhook_v4_firing.json")
    resolved = copy.deepcopy(firing)
    resolved["alerts"][0] |= {"status": "resolved", "endsAt": "2025-05-14T13:05:00Z"}
    assert (await hook.post(resolved))[1]["recorded"] == 1
    assert hook.incident(SUBJECT) is None
    assert (await hook.post(firing))[1] == {"alerts": 1, "recorded": 0}  # stale: began before
    assert hook.incident(SUBJECT) is None
    again = copy.deepcopy(firing)
    again["alerts"][0]["startsAt"] = "2025-05-14T14:00:00.123456789Z"  # a new episode
    await hook.post(again)
    assert hook.incident(SUBJECT).is_open


async def test_an_old_firing_after_its_resolution_does_not_reopen(hook) -> None:
    firing = sample("webhook_v4_firing.json")
    await hook.post(firing)
    resolved = copy.deepcopy(firing)
    resolved["alerts"][0] |= {"status": "resolved", "endsAt": "2025-05-14T13:05:00Z"}
    await hook.post(resolved)
    assert (await hook.post(firing))[1]["recorded"] == 0
    assert hook.incident(SUBJECT).state is IncidentState.RESOLVED


async def test_a_mixed_group_opens_the_firing_one_and_maps_severity(hook) -> None:
    group = sample("webhook_v4_mixed_group.json")
    group["alerts"][0]["labels"]["severity"] = "page"  # mapped by [alertmanager] severities
    await hook.post(group)
    firing = hook.incident("FlyMachineUnhealthy/0c8e1f77a2b3d4e5")
    assert firing.is_open and firing.severity is Severity.CRITICAL
    assert hook.incident("FlyMachineUnhealthy/5b6a79c0d1e2f304") is None
    assert proposals.for_incident(hook.parts.store, firing.id) == []  # no route matches


async def test_an_older_payload_without_newer_fields_is_read(hook) -> None:
    payload = sample("webhook_v4_firing_pre_0_32.json")
    status, body = await hook.post(payload)
    assert status == 200 and body["recorded"] == len(payload["alerts"]) >= 1


async def test_a_wrong_or_missing_token_is_refused_even_on_loopback(hook) -> None:
    for token in (None, "web-token", "wrong"):
        status, body = await hook.post(sample("webhook_v4_firing.json"), token=token)
        assert status == 401 and "Authorization: Bearer" in body["error"]
    assert hook.incident(SUBJECT) is None


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"{not json", "not JSON"),
        ({"version": "3", "alerts": []}, "version is '3', expected \"4\""),
        ({"version": "4", "alerts": "x"}, "alerts is not a list of objects"),
    ],
)
async def test_a_body_that_is_not_a_v4_webhook_is_a_400(hook, payload, why) -> None:
    status, body = await hook.post(payload)
    assert status == 400 and why in body["error"]


async def test_without_the_token_variable_every_post_is_refused(tmp_path, http, monkeypatch):
    monkeypatch.delenv("SELFREG_ALERTMANAGER_TOKEN", raising=False)

    app = web.Application()
    app.router.add_post("/h", alertmanager_hook(None, None, "SELFREG_ALERTMANAGER_TOKEN"))  # type: ignore[arg-type]
    async with serve_app(app) as base, http.post(base + "/h", json={}) as response:
        assert response.status == 401
        assert "SELFREG_ALERTMANAGER_TOKEN is not set" in (await response.json())["error"]
