"""The three lists of slash commands agree: the README's Slack table, the manifest's usage
hint and ``/selfreg help`` name exactly the commands ``/selfreg`` understands (``COMMANDS``),
with the same arguments, and the help names every button an incident message can carry."""

from __future__ import annotations

import re
from pathlib import Path

from bot import messages
from bot.config.alerts import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def usage(line: str) -> str:
    """``ack ID`` from ``/selfreg ack ID``: the command and its arguments, spaces squeezed."""
    return " ".join(line.replace("\\|", "|").split())


def from_readme() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [usage(u) for u in re.findall(r"^\| `/selfreg ([^`]+)` \|", text, flags=re.M)]


def from_manifest() -> list[str]:
    hint = re.search(r'usage_hint: "([^"]+)"', (ROOT / "manifest.yml").read_text())
    assert hint is not None
    return [usage(part) for part in re.split(r" \| (?=[a-z])", hint.group(1))]


def from_help() -> list[str]:
    return [usage(u) for u in re.findall(r"^`/selfreg ([^`]+)`", messages.command_help(), re.M)]


def test_readme_manifest_and_help_list_the_same_commands_as_the_parser() -> None:
    for where, listed in (
        ("README", from_readme()),
        ("manifest", from_manifest()),
        ("help", from_help()),
    ):
        names = sorted(entry.split()[0] for entry in listed)
        assert names == sorted(COMMANDS), f"{where}: {names}"
    assert sorted(from_readme()) == sorted(from_help()), "README and help differ in arguments"
    assert sorted(from_manifest()) == sorted(from_help()), "manifest and help differ in arguments"


def test_the_help_names_every_button_an_incident_message_can_carry() -> None:
    text = messages.command_help()
    buttons = messages.IncidentButtons
    labels = [
        buttons.acknowledge,
        buttons.silence_hour,
        buttons.silence_resolved,
        buttons.unsilence,
        buttons.runbook,
        buttons.useful,
        buttons.false_alarm,
        buttons.restart_anyway,
        buttons.keep_stopped,
        messages.DENY_BUTTON,
        messages.approve_button(""),
    ]
    missing = [label for label in labels if f"*{label.strip()}" not in text]
    assert missing == []
