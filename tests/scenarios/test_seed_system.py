"""examples/seed-system.toml, end to end: the example as shipped (copied with its stand-in
programs), with an overlay that only moves its ports onto free ones and points the Fly parts at
the Fly stand-in. Every check passes against the stand-ins; a deploy is announced; then a Fly
machine stops, its incident names the deploy and proposes a restart (and the rollback), an
approval through the Slack stand-in restarts it, and the message turns green."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fly_standin import WEB, FlyStandin
from tests.support.seed_programs import ROOT, approve_id, marker
from tests.support.selfreg_process import run_cli
from tests.support.servers import LoopThread, free_port
from tests.support.slack_selfreg import (
    ALICE,
    CHANNEL,
    block_text,
    running_selfreg,
    slack_env,
    top_level,
)

__all__ = ["marker"]  # a fixture

APP = "gpt-cursor-runner"
MACAROON = "fm2_lJPECAAAAAAAAXt8xBBseGZzZWxmcmVndGVzdG1hY2Fyb29u"  # a FlyV1 token, pasted whole
DEPLOYED = "gpt-cursor-runner v18 deployed to sea, 2 machines (was v17)"

# Only what a test must change: ports (the example's fixed ones may be taken), intervals,
# the Fly API's address, and the marker word that lets the test find its processes.
OVERLAY = """
[[components]]
name = "runner"
command = ["python", "seed/service.py", "runner", "{runner}", "{marker}"]
health = {{ http = "http://127.0.0.1:{runner}/health" }}

[[components]]
name = "node"
command = ["python", "seed/service.py", "node", "{node}", "{marker}"]
health = {{ http = "http://127.0.0.1:{node}/health" }}

[[components]]
name = "ngrok"
command = ["python", "seed/fake_ngrok.py", "--api-port", "{ngrok}", "--edge-port", "{ngrok_edge}",
           "--name", "runner", "--upstream", "http://127.0.0.1:{runner}", "{marker}"]
health = {{ tcp = "127.0.0.1:{ngrok}" }}

[[components]]
name = "cloudflared"
command = ["python", "seed/fake_cloudflared.py", "--metrics-port", "{cf}",
           "--edge-port", "{cf_edge}", "--upstream", "http://127.0.0.1:{node}", "{marker}"]
health = {{ tcp = "127.0.0.1:{cf}" }}

[[checks]]
name = "runner-port"
port = {runner}
interval = "1s"

[[checks]]
name = "node-port"
port = {node}
interval = "1s"

[[checks]]
name = "ngrok-runner"
api_url = "http://127.0.0.1:{ngrok}/api"
probe = {{ probe_origin = "http://127.0.0.1:{ngrok_edge}" }}
interval = "1s"

[[checks]]
name = "cloudflared-node"
metrics_url = "http://127.0.0.1:{cf}"
probe = {{ probe_origin = "http://127.0.0.1:{cf_edge}" }}
interval = "1s"

[[checks]]
name = "runner-fly"
base_url = "{fly}"
interval = "1s"
open_after = 1

[[checks]]
name = "runner-fly-health"
url = "http://127.0.0.1:{runner}/health"
interval = "1s"

[[actions]]
name = "runner-fly-restart"
base_url = "{fly}"
verify_after = "1s"
wait_timeout = "5s"
"""


@pytest.fixture
def fly() -> Iterator[tuple[LoopThread, FlyStandin]]:
    """The Fly stand-in for the app gpt-cursor-runner, its machines in sea, on its own loop."""
    loop = LoopThread()
    standin = FlyStandin(app=APP, token=MACAROON)
    for machine in standin.machines.values():
        machine["region"] = "sea"
    loop.run(standin.start())
    try:
        yield loop, standin
    finally:
        loop.run(standin.stop())
        loop.close()


def copy_example(tmp_path: Path, fly_url: str, marker: str) -> Path:
    """The shipped example and its stand-in programs in tmp_path, plus the test's overlay."""
    folder = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "seed", folder / "seed")
    config = folder / "seed-system.toml"
    shutil.copy(ROOT / "examples" / "seed-system.toml", config)
    names = ("runner", "node", "ngrok", "ngrok_edge", "cf", "cf_edge")
    ports = {name: free_port() for name in names}
    overlay = OVERLAY.format(fly=fly_url, marker=marker, **ports)
    (folder / "seed-system.e2e.toml").write_text(overlay)
    return config


def status(url: str) -> dict[str, str]:
    """Each check's confirmed status (the worst of its subjects) from the running instance."""
    with urllib.request.urlopen(f"{url}/status", timeout=10) as response:
        document = json.loads(response.read())
    worst: dict[str, str] = {}
    for entry in document["checks"]:
        if worst.get(entry["check"], "ok") == "ok":
            worst[entry["check"]] = entry["confirmed"]
    return worst


def test_the_example_config_is_valid_as_shipped() -> None:
    done = run_cli("config", "check", str(ROOT / "examples" / "seed-system.toml"), env={})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid (6 checks, 4 components, 8 actions)" in done.stdout


def test_a_machine_stopped_after_a_deploy_is_restarted_on_approval_and_turns_green(
    emu, tmp_path: Path, marker: str, fly
) -> None:
    loop, standin = fly
    config = copy_example(tmp_path, standin.url, marker)
    env = slack_env(emu, tmp_path / "data", SELFREG_ENV="e2e", FLY_API_TOKEN=f"FlyV1 {MACAROON}")
    with running_selfreg(config, env) as selfreg:
        emu.wait_connected(timeout=10)
        expected = {
            "runner-port",
            "node-port",
            "ngrok-runner",
            "cloudflared-node",
            "runner-fly",
            "runner-fly-health",
        }
        emu.wait_for(
            lambda: (
                set(status(selfreg.url)) == expected and set(status(selfreg.url).values()) == {"ok"}
            ),
            timeout=20,
        )
        loop.call(lambda: standin.deploy(18))
        emu.wait_for(lambda: deploy_notice(emu), timeout=20)
        loop.call(lambda: standin.crash(WEB))
        message = emu.wait_for(
            lambda: next((m for m in incidents(emu) if "Approve" in block_text(m)), None),
            timeout=20,
        )
        text = block_text(message)
        assert "runner-fly" in text and WEB in text and "restart" in text
        assert "after v18 was deployed" in text and "roll back to v17" in text
        emu.click(CHANNEL, message.ts, approve_id(message, "restart"), user=ALICE)
        emu.wait_for(
            lambda: "✅ RESOLVED" in block_text(emu.message(CHANNEL, message.ts)), timeout=30
        )
        assert loop.call(lambda: standin.state_of(WEB)) == "started"
        # a restart of a stopped machine starts it: once, under the machine's lease
        verbs = (f"{WEB}/restart", f"{WEB}/start")
        acted = [r for r in standin.requests if r.method == "POST" and r.path.endswith(verbs)]
        assert len(acted) == 1 and acted[0].nonce
        assert [m.ts for m in incidents(emu)] == [message.ts]  # the only incident
        assert set(status(selfreg.url).values()) == {"ok"}
        status_body = urllib.request.urlopen(f"{selfreg.url}/status", timeout=10).read()
    assert {r.scheme for r in standin.requests} == {"FlyV1"}  # a macaroon goes as FlyV1
    assert_token_nowhere(tmp_path / "data", selfreg.output, status_body, emu)


def assert_token_nowhere(data: Path, output: list[str], status_body: bytes, emu) -> None:
    """The Fly token is in none of what the run left: its log and output, its data folder
    (database with the audit, its own log files), /status, and the Slack messages."""
    secret = MACAROON.encode()
    assert secret not in "".join(output).encode()
    assert secret not in status_body
    stored = [p for p in data.rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if secret in p.read_bytes()]
    posted = [json.dumps([m.text, m.blocks]) for m in emu.messages(CHANNEL)]
    assert posted and not [m for m in posted if MACAROON in m]


def deploy_notice(emu) -> bool:
    return any(DEPLOYED in m.text for m in top_level(emu))


def incidents(emu) -> list:
    """The bot's incident messages: top-level messages but the deploy notice."""
    return [m for m in top_level(emu) if DEPLOYED not in m.text]
