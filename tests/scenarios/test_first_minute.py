"""The bundled example shows the product in its first minute: a real ``selfreg run`` on
``examples/selfreg.toml`` whose demo fails its health check, an incident that proposes a
restart with the command that approves it, an escalation step, the approval (the printed
command, or a click in Slack), the restart verified and the incident resolved naming the
approver.

The example and its demo are copied as they ship, with three changes for a test: the demo's
port is a free one, the escalation comes after 4 s instead of 45 s, and ``DEMO_HEALTHY_FOR``
makes the demo fail 12 s after its start instead of 20 s (still longer than a restart plus
the action's ``verify_after`` of 5 s, so the restarted demo passes its verification).
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port
from tests.support.slack_selfreg import (
    ALICE,
    CHANNEL,
    block_text,
    button,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUICK = {"DEMO_HEALTHY_FOR": "12"}


def copy_example(folder: Path) -> Path:
    """The example config and demo in ``folder``, on a free port, escalating after 4 s."""
    text = (EXAMPLES / "selfreg.toml").read_text()
    assert text.count("8788") == 4 and 'after = "45s"' in text, "the example changed shape"
    text = text.replace("8788", str(free_port())).replace('after = "45s"', 'after = "4s"')
    (folder / "selfreg.toml").write_text(text)
    (folder / "demo_app.py").write_text((EXAMPLES / "demo_app.py").read_text())
    return folder / "selfreg.toml"


@contextlib.contextmanager
def running_example(folder: Path, env: dict[str, str]) -> Iterator[SelfregProcess]:
    """``selfreg run`` in ``folder`` (where the example's relative log path points)."""
    selfreg = SelfregProcess(copy_example(folder), env, cwd=folder)
    try:
        selfreg.wait_ready()
        yield selfreg
    finally:
        selfreg.stop()


def test_the_console_shows_the_proposal_the_escalation_and_the_approved_fix(tmp_path) -> None:
    env = selfreg_env(tmp_path / "var", **QUICK)
    with running_example(tmp_path, env) as selfreg:
        selfreg.wait_for(r"CRITICAL  demo-health  Opened: HTTP 500", timeout=30)
        hint = selfreg.wait_for(
            r"demo-health  Proposed fix #(\d+): restart-demo \(medium risk\)\. "
            r"Approve: `(selfreg approve \d+)` · deny: `selfreg deny \d+`",
            timeout=10,
        )
        selfreg.wait_for(r"demo-health  Escalation step 1 of 1: still open", timeout=20)

        command = shlex.split(hint.group(2))
        assert command[:2] == ["selfreg", "approve"]
        done = run_cli(*command[1:], env=env, cwd=tmp_path)  # exactly what was printed

        assert done.returncode == 0, done.stdout + done.stderr
        approver = re.match(r"Approved by (\S+), running\.", done.stdout)
        assert approver, done.stdout  # the approver [cli] users maps the local user to
        selfreg.wait_for(r"demo-health  Ran restart demo: ", timeout=20)
        selfreg.wait_for(
            r"demo-health  Resolved after .* · fixed by restart-demo, approved by "
            + re.escape(approver.group(1)),
            timeout=20,
        )
        selfreg.wait_for(r"demo-health  Verified: HTTP 200", timeout=10)


def demo_message(emu: SlackEmulator):
    """The demo-health incident's message once it offers Approve."""
    for message in top_level(emu):
        text = block_text(message)
        if "demo-health" in text and "Approve: restart demo" in text:
            return message
    return None


def final_text(emu: SlackEmulator, ts: str) -> str:
    """What the incident's message reads now (it is updated in place)."""
    return block_text(emu.message(CHANNEL, ts))


def thread_text(emu: SlackEmulator, ts: str) -> str:
    return "\n".join(reply.text for reply in emu.thread(CHANNEL, ts))


def test_slack_shows_one_message_with_buttons_and_the_story_in_its_thread(
    emu: SlackEmulator, tmp_path
) -> None:
    env = slack_env(emu, tmp_path / "var", **QUICK)
    with running_example(tmp_path, env):
        emu.wait_connected(timeout=10)
        message = emu.wait_for(lambda: demo_message(emu), timeout=30)
        emu.wait_for(lambda: "Escalation step 1 of 1" in thread_text(emu, message.ts), timeout=20)
        approve = button(message, "proposal.approve.")

        emu.click(CHANNEL, message.ts, approve, user=ALICE)

        emu.wait_for(lambda: "Verified:" in thread_text(emu, message.ts), timeout=30)
        emu.wait_for(
            lambda: "approved by <@U0ALICE>, verified" in final_text(emu, message.ts), timeout=10
        )
        thread = thread_text(emu, message.ts)
        assert "<!here>" in thread
        assert "Approved by <@U0ALICE>, running." in thread and "Ran restart demo" in thread
        about_demo = [m for m in top_level(emu) if "demo-health" in block_text(m)]
        assert [m.ts for m in about_demo] == [message.ts], "one message for the incident"
        assert re.search(r"✅ RESOLVED after .*demo-health", final_text(emu, message.ts))
