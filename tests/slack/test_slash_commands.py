"""bot/slack/commands.py in process: parse, permissions and one engine call per command.

Mirrors the command flows of tests/scenarios/test_slack_incidents.py and
tests/scenarios/test_reload_slack.py, calling ``Commands`` the way the Bolt listener does
(``parse``, then ``allowed``, then ``run``) on the real parts; user groups are resolved
through the stand-in's ``usergroups.users.list``.
"""

from __future__ import annotations

import json

import pytest

from bot.records import IncidentState
from bot.slack.commands import BadCommand, ParsedCommand, parse
from bot.slack.render import Rendered
from bot.store import incidents as rows
from tests.support.slack_inprocess import Selfreg
from tests.support.slack_selfreg import ALICE, BOB, MALLORY

USAGE_LINE = "/selfreg silence MATCHER DURATION"


def said(reply: Rendered) -> str:
    """Everything a person reads in a reply: the fallback text and every block."""
    return reply.text + "\n" + json.dumps(reply.blocks, ensure_ascii=False)


async def run(selfreg: Selfreg, text: str, user: str = ALICE) -> str:
    """One command as the listener runs it once parsing and permissions let it through."""
    command = parse(text)
    assert await selfreg.commands.allowed(command, user), f"{user} may run {command.name}"
    return said(await selfreg.commands.run(command, user))


def test_parse_reads_words_and_quotes_and_refuses_what_it_does_not_know() -> None:
    assert parse("") == ParsedCommand(name="help")
    assert parse('Silence check=db 2h "db migration"') == ParsedCommand(
        name="silence", args=("check=db", "2h", "db migration")
    )
    with pytest.raises(BadCommand, match="I don't know `frobnicate`"):
        parse("frobnicate now")
    with pytest.raises(BadCommand, match="cannot read that"):
        parse('ack "unclosed')


async def test_status_lists_the_checks_and_the_open_incident(selfreg: Selfreg) -> None:
    await selfreg.run_checks()
    reply = await run(selfreg, "status")
    assert "selfreg status" in reply
    assert "*db*" in reply and "*cache*" in reply
    assert "Open incidents* (1)" in reply


async def test_health_runs_every_check_now_without_recording_it(selfreg: Selfreg) -> None:
    reply = await run(selfreg, "health")
    assert "selfreg health: every check, run now" in reply
    assert "*db*" in reply and "*cache*" in reply
    assert rows.recent_incidents(selfreg.store, 5) == [], "a health run opens nothing"


async def test_ack_acknowledges_the_incident_and_a_bad_id_says_why(selfreg: Selfreg) -> None:
    await selfreg.run_checks()
    incident = selfreg.incident()
    reply = await run(selfreg, f"ack {incident.id}")
    assert f"Incident #{incident.id} acknowledged; escalation stopped." in reply
    acked = selfreg.incident()
    assert acked.state is IncidentState.ACKNOWLEDGED and acked.acked_by == ALICE
    assert "there is no incident #99" in await run(selfreg, "ack 99")
    reply = await run(selfreg, "ack twelve")
    assert "ID must be a number" in reply and "/selfreg ack ID" in reply


async def test_silence_adds_a_silence_for_the_on_call_group_only(selfreg: Selfreg) -> None:
    assert not await selfreg.commands.allowed(parse("silence check=db 1h"), MALLORY)
    assert await selfreg.commands.allowed(parse("silence check=db 1h"), BOB), "an admin"
    reply = await run(selfreg, "silence check=db 1h deploy", user=ALICE)  # in S0ONCALL
    assert "Silence #1 added for check=db" in reply
    [silence] = rows.active_silences(selfreg.store, selfreg.clock.now())
    assert silence.author == ALICE and silence.reason == "deploy"
    assert silence.ends_at == selfreg.clock.now() + 3600
    reply = await run(selfreg, "silence check=db soon")
    assert USAGE_LINE in reply, "a bad duration gets the usage"
    assert len(rows.active_silences(selfreg.store, selfreg.clock.now())) == 1


async def test_help_and_empty_input_show_every_command(selfreg: Selfreg) -> None:
    for text in ("help", ""):
        reply = await run(selfreg, text)
        assert "selfreg commands" in reply and USAGE_LINE in reply
        assert "/selfreg status" in reply and "/selfreg ack ID" in reply


async def test_an_unknown_subcommand_or_bad_arguments_get_the_help_text(
    selfreg: Selfreg,
) -> None:
    with pytest.raises(BadCommand) as refused:
        parse("nonsense")
    assert "I don't know `nonsense`" in str(refused.value)
    reply = await run(selfreg, "ack lots")
    assert "selfreg commands" in reply and "ID must be a number" in reply
    reply = await run(selfreg, "history lots")  # a word is a check name: none has history
    assert "selfreg commands" in reply and "No check named 'lots' has history" in reply


async def test_admin_only_commands_are_refused_to_everyone_else(selfreg: Selfreg) -> None:
    for user in (ALICE, MALLORY):
        reply = await run(selfreg, "reload", user=user)
        assert "Only admins may run `reload`" in reply
    assert selfreg.reloads == [], "nothing was reloaded"
    assert "config reloaded" in await run(selfreg, "reload", user=BOB)
    assert selfreg.reloads == [BOB]
