"""Adaptive scaling end to end through ``selfreg run``: an http check's latency above a scale
rule's band makes selfreg (mode auto) run the configured scale_component action by itself
through the gate, once (max 2, cool-down), and the move is in the audit with its signal; the
plan is served on the control socket."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store import regulation as store_regulation
from tests.support.db import rows
from tests.support.regulation_rig import scale_rule
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env

CONFIG = """
[[components]]
name = "workers"
command = ["python", "-c", "import time; time.sleep(600)"]
instances = 1

[[checks]]
name = "queue"
kind = "http"
url = "http://127.0.0.1:{port}/"
interval = "1s"
timeout = "3s"

[[actions]]
name = "workers-up"
kind = "scale_component"
component = "workers"
max = 2
risk = "low"
approvers = ["*"]
verify_after = "1s"

{rule}
"""


class Slow(BaseHTTPRequestHandler):
    """Answers every request after 0.2 s: a queue that stays above the band."""

    def do_GET(self) -> None:
        time.sleep(0.2)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def slow_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def instances(url: str) -> int:
    with urllib.request.urlopen(f"{url}/status", timeout=10) as response:
        found = {c["name"]: c for c in json.loads(response.read())["components"]}
    return len(found["workers"]["instances"])


def test_a_latency_above_the_band_scales_the_workers_up_once(
    tmp_path: Path, slow_port: int
) -> None:
    config = tmp_path / "selfreg.toml"
    rule = scale_rule(max=2, up_for='"1s"', cooldown='"1h"', mode='"auto"')
    config.write_text(CONFIG.format(port=slow_port, rule=rule))
    env = selfreg_env(tmp_path / "data")
    selfreg = SelfregProcess(config, env)
    try:
        url = selfreg.wait_ready()
        deadline = time.monotonic() + 30
        while instances(url) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert instances(url) == 2
        time.sleep(3)  # more samples above the band: the cool-down and max hold
        assert instances(url) == 2
        plan = run_cli("plan", "--json", "--config", str(config), env=env)
        assert json.loads(plan.stdout)["scheduled"] == []
    finally:
        selfreg.stop()
    store = open_store(tmp_path / "data" / "selfreg.db", readonly=True)
    try:
        moved = [d for d in store_regulation.decisions(store) if d.outcome == "moved"]
        assert len(moved) == 1 and moved[0].signal["value"] > 0.1
        audit = rows(store, "SELECT actor, detail FROM audit WHERE kind = 'regulate.moved'")
        assert audit[0]["actor"] == "selfreg"
        assert json.loads(audit[0]["detail"])["door"] == "regulate"
    finally:
        store.close()
