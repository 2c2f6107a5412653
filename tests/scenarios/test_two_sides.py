"""Two selfreg processes on one machine, as two sides: A reads B's status under B's name (in
/status, `selfreg status` and `/selfreg status` through the Slack stand-in), opens an incident
of its own when B stops answering (posted in Slack; B's own incident never is, by A), and
pushes a shared folder into B's."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.store import open_store, sync_runs
from tests.scenarios.test_run_end_to_end import get
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port
from tests.support.slack_selfreg import ALICE, CHANNEL, slack_env, top_level
from tests.support.slack_standin import SlackEmulator

pytestmark = pytest.mark.skipif(
    shutil.which("rsync") is None,
    reason="rsync is not installed (scripts/test installs Debian's rsync)",
)

MODELS_OFF = "[models]\nanomaly = false\nfailure_risk = false\nforecast = false\n"
SIDE_B = (
    MODELS_OFF
    + """
[[checks]]
kind = "selfreg"
name = "selfreg"
interval = "1s"

[[checks]]
kind = "tcp"
name = "api-health"
port = {closed_port}
interval = "1s"
open_after = 1
"""
)
SIDE_A = (
    MODELS_OFF
    + """
[[peers]]
name = "mobile"
url = "http://127.0.0.1:{port_b}"
token_env = "SELFREG_PEER_MOBILE_TOKEN"
interval = "1s"
timeout = "1s"

[[sync]]
name = "shared"
source = "{shared_a}"
destination = "{shared_b}"
interval = "1s"
"""
)
TOKEN_B = "side-b-web-token"


def until(found: Callable[[], Any], what: str, seconds: float = 30.0) -> Any:
    """Poll ``found`` every 0.25 s until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := found():
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def status(url: str) -> dict[str, Any]:
    code, body = get(f"{url}/status")
    assert code == 200
    return dict(json.loads(body))


def two_sides(
    tmp_path: Path, emu: SlackEmulator
) -> tuple[Path, Path, dict[str, str], dict[str, str]]:
    """Both sides' folders, configs and environments: A peers B and pushes into B's folder;
    A talks to the Slack stand-in (B's Slack would be an app of its own: left out here)."""
    side_a, side_b = tmp_path / "a", tmp_path / "b"
    (side_a / "shared").mkdir(parents=True)
    (side_b / "shared").mkdir(parents=True)
    (side_a / "shared" / "backup-1.txt").write_text("from A\n")
    port_b = free_port()
    (side_b / "selfreg.toml").write_text(SIDE_B.format(closed_port=free_port()))
    (side_a / "selfreg.toml").write_text(
        SIDE_A.format(port_b=port_b, shared_a=side_a / "shared", shared_b=side_b / "shared")
    )
    env_b = selfreg_env(side_b / "data", SELFREG_WEB_PORT=str(port_b), SELFREG_WEB_TOKEN=TOKEN_B)
    env_a = slack_env(emu, side_a / "data", SELFREG_PEER_MOBILE_TOKEN=TOKEN_B)
    return side_a, side_b, env_a, env_b


def slack_status(emu: SlackEmulator) -> str:
    """What `/selfreg status` answers in the stand-in's channel."""
    emu.wait_connected(timeout=10)
    ack = emu.slash("/selfreg", "status", user=ALICE, channel=CHANNEL)
    return json.dumps(ack.payload, ensure_ascii=False)


def test_a_sees_b_under_its_name_syncs_into_it_and_opens_an_incident_when_b_stops(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    side_a, side_b, env_a, env_b = two_sides(tmp_path, emu)
    b = SelfregProcess(side_b / "selfreg.toml", env_b)
    a: SelfregProcess | None = None
    try:
        b.wait_ready()
        a = SelfregProcess(side_a / "selfreg.toml", env_a)
        url_a = a.wait_ready()

        def peer_line() -> str | None:
            peers = status(url_a)["peers"]
            line = peers[0]["summary"] if peers else ""
            return line if "api-health failing for" in line else None

        line = until(peer_line, "A to show B's failing check under B's name")
        assert line.startswith("mobile: 1 ok, 1 critical — api-health failing for "), line
        cli = run_cli("status", "--config", str(side_a / "selfreg.toml"), env=env_a)
        assert "Peers (1):" in cli.stdout and "mobile: 1 ok, 1 critical" in cli.stdout
        assert "mobile: 1 ok, 1 critical — api-health failing for" in slack_status(emu)

        copied = side_b / "shared" / "backup-1.txt"
        until(copied.exists, "the sync to push A's file into B's folder")
        assert copied.read_text() == "from A\n"
        b.stop()

        def peer_incident() -> list[dict[str, Any]]:
            return [i for i in status(url_a)["incidents"] if i["check"] == "mobile"]

        [incident] = until(peer_incident, "A to open an incident for the silent peer")
        assert incident["summary"].startswith("mobile: cannot reach http://127.0.0.1:")
        assert not [i for i in status(url_a)["incidents"] if i["check"] == "api-health"], (
            "B's own incidents stay B's"
        )
        posted = until(lambda: [m.text for m in top_level(emu)], "A's incident in Slack")
        assert "mobile" in posted[0] and not [t for t in posted if "api-health" in t]
    finally:
        if a is not None:
            a.stop()
        b.stop()
    assert TOKEN_B not in "".join(a.output if a else []), "the peer's token never reaches logs"
    store = open_store(side_a / "data" / "selfreg.db", readonly=True)
    try:
        runs = sync_runs.recent(store, "shared")
    finally:
        store.close()
    assert runs and any(run.files == 1 and run.exit_status == 0 for run in runs)
