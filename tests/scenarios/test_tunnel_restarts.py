"""A tunnel agent that fails is restarted: by selfreg's supervisor when it runs as a component
(and its incident names the component), through a configured action approved in Slack when it
runs elsewhere. Real ``selfreg run``, the Slack stand-in, the stand-in agent programs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.seed_programs import (
    SEED,
    approve_id,
    fake_ngrok_argv,
    marker,
    pids_with,
)

__all__ = ["marker"]  # a fixture
from tests.support.servers import free_port
from tests.support.slack_selfreg import (
    ALICE,
    CHANNEL,
    block_text,
    running_selfreg,
    slack_env,
    top_level,
)

COMMON = """
[slack]
admins = ["U0BOB"]

[[components]]
name = "runner"
command = ["python", "{seed}/service.py", "runner", "{runner}", "{marker}"]
health = {{ tcp = "127.0.0.1:{runner}" }}

[[checks]]
kind = "ngrok"
name = "ngrok-runner"
api_url = "http://127.0.0.1:{api}/api"
tunnels = ["runner"]
probe = {{ path = "/health", probe_origin = "http://127.0.0.1:{edge}" }}
interval = "1s"
timeout = "1s"
open_after = 1
remediate = ["restart-ngrok"]
"""

AS_COMPONENT = """
component = "ngrok"

[[components]]
name = "ngrok"
command = ["python", "{seed}/fake_ngrok.py", "--api-port", "{api}", "--edge-port", "{edge}",
           "--upstream", "http://127.0.0.1:{runner}", "{marker}"]
health = {{ tcp = "127.0.0.1:{api}" }}
stop_timeout = "1s"

[[actions]]
name = "restart-ngrok"
kind = "restart_component"
component = "ngrok"
mode = "auto"
risk = "low"
verify_after = "2s"
"""

ELSEWHERE = """
[[actions]]
name = "restart-ngrok"
kind = "run_command"
command = {restart}
approvers = ["{alice}"]
verify_after = "2s"
"""


def ports() -> dict[str, int]:
    return {"runner": free_port(), "api": free_port(), "edge": free_port()}


def message_of(emu, text: str, timeout: float = 20):
    """The incident message of the ngrok check once it shows ``text``."""
    return emu.wait_for(
        lambda: next((m for m in top_level(emu) if text in block_text(m)), None), timeout=timeout
    )


def test_an_agent_run_as_a_component_is_restarted_by_the_supervisor(
    emu, tmp_path: Path, marker: str
) -> None:
    port = ports()
    config = tmp_path / "selfreg.toml"
    config.write_text((COMMON + AS_COMPONENT).format(seed=SEED, marker=marker, **port))
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        [agent] = pids_with(marker, str(port["api"]))
        os.kill(agent, signal.SIGKILL)  # it exits: the supervisor starts it again at once
        emu.wait_for(lambda: pids_with(marker, str(port["api"])) - {agent}, timeout=10)

        [hung] = pids_with(marker, str(port["api"]))
        os.kill(hung, signal.SIGSTOP)  # alive but silent: only its check can tell
        message = message_of(emu, "[component ngrok: selfreg restarts it when it exits]")
        assert "ngrok agent API" in block_text(message)
        emu.wait_for(lambda: "RESOLVED" in block_text(emu.message(CHANNEL, message.ts)), timeout=30)
        thread = emu.wait_for(lambda: _verified(emu, message.ts), timeout=10)
        assert "restarted component ngrok" in thread
        assert pids_with(marker, str(port["api"])) - {hung, agent}  # a third life


def test_an_agent_run_elsewhere_gets_a_restart_proposed_and_run_on_approval(
    emu, tmp_path: Path, marker: str
) -> None:
    port = ports()
    agent_argv = fake_ngrok_argv(port["api"], port["edge"], port["runner"], marker)
    # what `systemctl restart ngrok` would be on the host that runs it: start it detached
    restart = [
        sys.executable,
        "-c",
        "import subprocess, sys; subprocess.Popen(sys.argv[1:], start_new_session=True,"
        " stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
        *agent_argv,
    ]
    config = tmp_path / "selfreg.toml"
    text = (COMMON + ELSEWHERE).format(
        seed=SEED, marker=marker, alice=ALICE, restart=_toml_list(restart), **port
    )
    config.write_text(text)
    agent = subprocess.Popen(agent_argv, start_new_session=True, stdout=subprocess.DEVNULL)
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        agent.kill()
        agent.wait(5)
        message = message_of(emu, "Connection refused")
        assert "[component" not in block_text(message)
        emu.click(CHANNEL, message.ts, approve_id(message), user=ALICE)
        emu.wait_for(lambda: "RESOLVED" in block_text(emu.message(CHANNEL, message.ts)), timeout=30)
        thread = emu.wait_for(lambda: _verified(emu, message.ts), timeout=10)
        assert "Approved by <@U0ALICE>, running." in thread
        assert pids_with(marker, str(port["api"]))  # the restarted agent


def _verified(emu, ts: str) -> str | None:
    """The thread's text once it holds the verification reply."""
    thread = " ".join(r.text for r in emu.thread(CHANNEL, ts))
    return thread if "Verified:" in thread else None


def _toml_list(words: list[str]) -> str:
    return (
        "["
        + ", ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words)
        + "]"
    )
