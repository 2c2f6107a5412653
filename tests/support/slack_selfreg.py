"""A Slack stand-in plus the unmodified ``selfreg run`` pointed at it, for end-to-end tests."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.selfreg_process import SelfregProcess, selfreg_env
from tests.support.slack_standin import SlackEmulator

CHANNEL = "C0ALERTS"
ALICE, BOB, MALLORY = "U0ALICE", "U0BOB", "U0MALLORY"


def new_emulator(**config: Any) -> SlackEmulator:
    """A started stand-in with the alert channel, three people and an on-call group;
    ``config`` goes to ``SlackEmulator`` (tokens, say)."""
    emu = SlackEmulator(**config).start()
    emu.add_user(ALICE, "alice")
    emu.add_user(BOB, "bob")
    emu.add_user(MALLORY, "mallory")
    emu.add_channel(CHANNEL, name="alerts", members=["U0BOT", ALICE, BOB, MALLORY])
    emu.add_channel("C0INCIDENTS", name="incidents", members=["U0BOT", ALICE])
    emu.add_usergroup("S0ONCALL", [ALICE])
    return emu


def slack_env(
    emu: SlackEmulator, data_dir: Path, mode: str = "socket", **extra: str
) -> dict[str, str]:
    env = selfreg_env(
        data_dir,
        SLACK_API_URL=emu.base_url,
        SLACK_BOT_TOKEN=emu.config.bot_token,
        SLACK_CHANNEL=CHANNEL,
    )
    if mode == "socket":
        env["SLACK_APP_TOKEN"] = emu.config.app_token
    elif mode == "http":
        env["SLACK_SIGNING_SECRET"] = emu.config.signing_secret
    env.update(extra)
    return env


@contextlib.contextmanager
def running_selfreg(config: Path, env: dict[str, str]) -> Iterator[SelfregProcess]:
    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        yield selfreg
    finally:
        selfreg.stop()


# selfreg's plain notices (bot/engine/notices.py): lifecycle and config reloads, not incidents
NOTICE = re.compile(r"^(selfreg (started|stopped|recovered)|config reload)")


def is_notice(text: str) -> bool:
    return NOTICE.match(text) is not None


def top_level(emu: SlackEmulator, channel: str = CHANNEL) -> list:
    """Messages in the channel itself (not thread replies) posted by the bot, but notices."""
    return [
        m
        for m in emu.messages(channel)
        if m.thread_ts in (None, m.ts) and m.user == "U0BOT" and not is_notice(m.text)
    ]


def notices(emu: SlackEmulator, channel: str = CHANNEL) -> list:
    """selfreg's plain notices in the channel ("selfreg started: ...", "config reloaded: ...")."""
    return [
        m
        for m in emu.messages(channel)
        if m.thread_ts in (None, m.ts) and m.user == "U0BOT" and is_notice(m.text)
    ]


def block_text(message) -> str:
    """Every text in a message's blocks, joined: what a person reads."""
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(parts)


def button(message, prefix: str) -> str:
    """The action id of the message's first button whose id starts with ``prefix``
    (``proposal.approve.`` is the Approve button of its first proposal)."""
    return next(
        element["action_id"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith(prefix)
    )
