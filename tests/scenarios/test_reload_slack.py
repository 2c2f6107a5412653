"""``/selfreg reload`` through the Slack stand-in: admins reload, others get a refusal; the
reload's notice is a plain message in the alert channel, and a removed check's incident
message is resolved with a note in its thread."""

from __future__ import annotations

from tests.support.servers import free_port
from tests.support.slack_selfreg import (
    BOB,
    CHANNEL,
    MALLORY,
    block_text,
    notices,
    running_selfreg,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

HEAD = """
[slack]
admins = ["U0BOB"]

[reload]
watch = false
"""

OLD_API = """
[[checks]]
kind = "tcp"
name = "old-api"
port = {closed}
interval = "1s"
"""

KEEP = """
[[checks]]
kind = "tcp"
name = "keep"
host = "127.0.0.1"
port = {closed}
interval = "1h"
enabled = false
"""


def notices_like(emu: SlackEmulator, text: str) -> list:
    return [m for m in notices(emu) if m.text.startswith(text) and not m.blocks]


def test_an_admin_reloads_from_slack_and_others_are_refused(emu, tmp_path) -> None:
    closed = free_port()
    config = tmp_path / "selfreg.toml"
    config.write_text((HEAD + OLD_API + KEEP).format(closed=closed))
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        emu.wait_for(
            lambda: notices_like(emu, "selfreg started: 2 checks, 0 components"), timeout=10
        )
        incident = emu.wait_for(
            lambda: [m for m in top_level(emu) if "old-api" in block_text(m)], timeout=15
        )[0]

        ack = emu.slash("/selfreg", "reload", user=MALLORY, channel=CHANNEL)
        assert "Only admins may run `reload`" in str(ack.payload)

        config.write_text((HEAD + KEEP).format(closed=closed))
        ack = emu.slash("/selfreg", "reload", user=BOB, channel=CHANNEL)
        assert ack.latency_ms < 3000
        assert "config reloaded: − check old-api" in str(ack.payload)
        emu.wait_for(lambda: notices_like(emu, "config reloaded: − check old-api"), timeout=10)
        emu.wait_for(
            lambda: "RESOLVED" in block_text(emu.message(CHANNEL, incident.ts)), timeout=10
        )
        emu.wait_for(
            lambda: any(
                "Resolved: check old-api was removed from the config." in r.text
                for r in emu.thread(CHANNEL, incident.ts)
            ),
            timeout=10,
        )
        ack = emu.slash("/selfreg", "help", user=MALLORY, channel=CHANNEL)
        assert "/selfreg reload" in str(ack.payload)

        config.write_text((HEAD + KEEP).format(closed=closed).replace('"1h"', "'oops'"))
        ack = emu.slash("/selfreg", "reload", user=BOB, channel=CHANNEL)
        assert "config reload refused (1 problem)" in str(ack.payload)
        assert 'checks[0] "keep".interval' in str(ack.payload)
    assert notices_like(emu, "selfreg stopped after"), [m.text for m in notices(emu)]
