"""selfreg with the real Prometheus and Alertmanager (Debian's packages) on loopback.

Prometheus scrapes selfreg's own /metrics and a test target; selfreg's ``prometheus`` check
reads a real query; a real rule fires through a real Alertmanager into /hooks/alertmanager
and the incident opens in the Slack stand-in, with the action its route names offered behind
the approval buttons, then resolves when the rule clears. selfreg's
own incident reaches Alertmanager's API through the [alerts.alertmanager] channel. Skipped,
with the reason, where the programs are not installed (``./scripts/test`` installs them).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import prometheus_engines as engines
from tests.support.selfreg_process import SelfregProcess
from tests.support.servers import free_port
from tests.support.slack_selfreg import (
    CHANNEL,
    block_text,
    button,
    running_selfreg,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

pytestmark = pytest.mark.skipif(
    engines.missing_reason() is not None, reason=engines.missing_reason() or ""
)

TOKEN = "alertmanager-to-selfreg"
WAIT = 60.0  # the longest any step may take (scrapes, rules and groups run every second)

SELFREG = """
[models]
anomaly = false
failure_risk = false
forecast = false

[alerts]
update_every = "1s"

[alerts.alertmanager]
url = "http://127.0.0.1:@AM@"

[alertmanager]

[[alertmanager.routes]]
alertname = "DemoQueueStuck"
labels = { severity = "critical" }
actions = ["flush-queue"]

[[actions]]
kind = "run_command"
name = "flush-queue"
command = ["/bin/true"]
approvers = ["*"]

[[checks]]
kind = "prometheus"
name = "scrapes"
url = "http://127.0.0.1:@PROM@"
query = "up"
below = true
threshold = { critical = 0 }
interval = "1s"

[[checks]]
kind = "tcp"
name = "db"
port = @CLOSED@
interval = "1s"
"""

PROMETHEUS = """
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
alerting:
  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:@AM@"]}]}]
scrape_configs:
  - job_name: selfreg
    static_configs: [{targets: ["127.0.0.1:@WEB@"]}]
  - job_name: demo
    static_configs: [{targets: ["@TARGET@"]}]
"""

RULES = """
groups:
  - name: demo
    rules:
      - alert: DemoQueueStuck
        expr: demo_queue_ok == 0
        labels: {severity: critical}
        annotations:
          summary: the demo queue is stuck
          description: "demo_queue_ok is 0 on {{ $labels.instance }}"
"""

ALERTMANAGER = """
global: {resolve_timeout: 10s}
route:
  receiver: nowhere
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: selfreg
      matchers: ['source!="selfreg"']
receivers:
  - name: nowhere
  - name: selfreg
    webhook_configs:
      - url: http://127.0.0.1:@WEB@/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization: {type: Bearer, credentials: "@TOKEN@"}
"""


def filled(text: str, **values: object) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    return text


class World:
    """The running engines, the target and selfreg."""

    def __init__(self, prom: engines.Engine, am: engines.Engine, target: engines.Target,
                 selfreg: SelfregProcess) -> None:  # fmt: skip
        self.prom, self.am, self.target, self.selfreg = prom, am, target, selfreg

    def status(self) -> dict:
        return engines.get_json(self.selfreg.url + "/status")


@pytest.fixture
def world(tmp_path: Path, emu: SlackEmulator) -> Iterator[World]:
    ports = {"AM": free_port(), "PROM": free_port(), "WEB": free_port(), "CLOSED": free_port()}
    with engines.Target(demo_queue_ok=1) as target:
        values = {**ports, "TARGET": target.address, "TOKEN": TOKEN}
        config = tmp_path / "selfreg.toml"
        config.write_text(filled(SELFREG, **values))
        env = slack_env(
            emu,
            tmp_path / "data",
            SELFREG_WEB_PORT=str(ports["WEB"]),
            SELFREG_ALERTMANAGER_TOKEN=TOKEN,
        )
        am = engines.alertmanager(tmp_path / "am", filled(ALERTMANAGER, **values), ports["AM"])
        with engines.running(am), running_selfreg(config, env) as selfreg:
            (tmp_path / "prom").mkdir()
            (tmp_path / "prom" / "rules.yml").write_text(RULES)
            prom = engines.prometheus(
                tmp_path / "prom", filled(PROMETHEUS, **values), ports["PROM"]
            )
            with engines.running(prom):
                yield World(prom, am, target, selfreg)


def test_prometheus_and_alertmanager_both_ways(world: World, emu: SlackEmulator) -> None:
    # Prometheus scrapes selfreg's own /metrics and the test target
    build = engines.wait_until(
        lambda: engines.query(world.prom.url, "selfreg_build_info"), WAIT, "selfreg scraped"
    )
    assert build[0]["metric"]["job"] == "selfreg"

    # selfreg's prometheus check reads the real query: one ok subject per scraped target
    def scrapes() -> dict[str, dict]:
        checks = world.status()["checks"]
        found = {c["subject"]: c for c in checks if c["check"] == "scrapes" and c["subject"]}
        return found if len(found) == 2 else {}

    subjects = engines.wait_until(scrapes, WAIT, "the scrapes check's two series")
    assert set(subjects) == {
        f"instance=127.0.0.1:{world.selfreg.url.rsplit(':', 1)[1]},job=selfreg",
        f"instance={world.target.address},job=demo",
    }
    assert {s["status"] for s in subjects.values()} == {"ok"}

    # a real rule fires through Alertmanager into /hooks/alertmanager: an incident in Slack
    world.target.gauges["demo_queue_ok"] = 0

    def alert_message():
        return next((m for m in top_level(emu) if "DemoQueueStuck" in block_text(m)), None)

    message = emu.wait_for(alert_message, timeout=WAIT)
    text = block_text(message)
    assert (
        "the demo queue is stuck" in text
        and f"demo_queue_ok is 0 on {world.target.address}" in text
    )
    assert "severity=critical" in text

    # the route's action is offered on the message, behind the approval buttons
    def offered():
        for revision in reversed(emu.history(CHANNEL, message.ts)):
            if "run ['/bin/true']" in block_text(revision):
                return button(revision, "proposal.approve.")
        return None

    assert emu.wait_for(offered, timeout=WAIT)

    # selfreg's own incident (the closed port) reaches Alertmanager's API as an alert
    selfreg_alerts = urllib.parse.quote('source="selfreg"')
    alerts = engines.wait_until(
        lambda: [
            a
            for a in engines.get_json(f"{world.am.url}/api/v2/alerts?filter={selfreg_alerts}")
            if a["labels"].get("alertname") == "db" and a["status"]["state"] == "active"
        ],
        WAIT,
        "selfreg's db incident in Alertmanager",
    )
    assert alerts[0]["labels"]["severity"] == "critical"

    # the rule clears: Alertmanager sends the resolution and the message turns resolved
    world.target.gauges["demo_queue_ok"] = 1
    emu.wait_for(
        lambda: "RESOLVED" in block_text(emu.history(CHANNEL, message.ts)[-1]), timeout=WAIT
    )
    incidents = [i for i in world.status().get("incidents", []) if i.get("check") == "alertmanager"]
    assert all(i.get("state") != "open" for i in incidents), json.dumps(incidents)[:500]
