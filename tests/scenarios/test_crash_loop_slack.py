"""A crash loop stops the restarts and asks in Slack: restart anyway, or keep stopped."""

from __future__ import annotations

from tests.support.slack_selfreg import (
    BOB,
    CHANNEL,
    MALLORY,
    block_text,
    running_selfreg,
    slack_env,
    top_level,
)

CONFIG = """
[slack]
admins = ["U0BOB"]

[[components]]
name = "api"
command = ["python", "-c", "raise SystemExit(3)"]
restart = "always"
restart_delay = "50ms"
crash_loop = { exits = 3, window = "1m" }
"""


def test_a_crash_loop_asks_an_admin_who_can_keep_it_stopped(emu, tmp_path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        message = emu.wait_for(
            lambda: [m for m in top_level(emu) if "exited 3 times" in block_text(m)], timeout=20
        )[0]
        assert "Restart anyway" in block_text(message) and "Keep stopped" in block_text(message)
        emu.click(CHANNEL, message.ts, "component.restart_anyway", user=MALLORY)
        emu.wait_for(
            lambda: [h for h in emu.hooks() if "Only admins may run" in str(h)], timeout=10
        )
        emu.click(CHANNEL, message.ts, "component.keep_stopped", user=BOB)
        emu.wait_for(lambda: "RESOLVED" in block_text(emu.message(CHANNEL, message.ts)), timeout=10)
        emu.wait_for(
            lambda: (
                "Kept stopped by <@U0BOB>."
                in " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
            ),
            timeout=10,
        )
