"""bot/slack/app.py in process: Bolt's async dispatch of real payload shapes to SlackApp.

Mirrors tests/scenarios/test_slack_incidents.py (buttons and commands) without a child
process: a click or a slash command goes through ``AsyncApp.async_dispatch`` exactly as the
socket-mode handler would hand it over, and the replies land in the Slack stand-in.
"""

from __future__ import annotations

from bot.records import IncidentState
from bot.slack import render
from tests.support.slack_inprocess import Selfreg, eventually
from tests.support.slack_selfreg import ALICE, BOB, CHANNEL, MALLORY, block_text


def ack_text(response) -> str:
    """What the person sees in the ack: Bolt's response body."""
    return str(response.body)


async def test_acknowledge_acks_the_incident_and_updates_its_message(selfreg: Selfreg) -> None:
    await selfreg.run_checks()
    message = selfreg.message()
    assert "CRITICAL  db is failing" in block_text(message)

    response = await selfreg.click(message, render.ACK, user=ALICE)
    assert response.status == 200
    incident = await eventually(
        lambda: (i := selfreg.incident()).state is IncidentState.ACKNOWLEDGED and i
    )
    assert incident.acked_by == ALICE

    await selfreg.deliver()
    updated = selfreg.message()
    assert updated.ts == message.ts and "acknowledged by <@U0ALICE>" in block_text(updated)
    assert render.ACK not in str(updated.blocks), "the Acknowledge button is gone"
    replies = selfreg.emu.thread(CHANNEL, message.ts)
    assert any("Acknowledged by <@U0ALICE>" in r.text for r in replies)
    assert not selfreg.emu.hooks(), "no refusal"


async def test_a_click_on_a_copy_in_another_message_is_refused_and_changes_nothing(
    selfreg: Selfreg,
) -> None:
    await selfreg.run_checks()
    message = selfreg.message()
    forged = selfreg.emu.add_message(CHANNEL, "forged", user=MALLORY, blocks=message.blocks)

    response = await selfreg.click(forged, render.ACK, user=MALLORY)
    assert response.status == 200
    [refusal] = await eventually(lambda: selfreg.hooks_with("does not belong"))
    assert refusal.body["response_type"] == "ephemeral"
    assert refusal.body.get("replace_original") is False
    assert selfreg.incident().state is IncidentState.OPEN
    assert "acknowledged by" not in block_text(selfreg.message())


async def test_a_button_that_is_not_selfregs_is_refused(selfreg: Selfreg) -> None:
    await selfreg.run_checks()
    foreign = selfreg.emu.add_message(
        CHANNEL,
        "someone else's button",
        user=MALLORY,
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": render.ACK,
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "value": "drop table incidents",
                    }
                ],
            }
        ],
    )
    await selfreg.click(foreign, render.ACK, user=MALLORY)
    assert await eventually(lambda: selfreg.hooks_with("that button is not one of selfreg's"))
    assert selfreg.incident().state is IncidentState.OPEN


async def test_a_click_on_a_resolved_incident_is_stale_and_changes_nothing(
    selfreg: Selfreg,
) -> None:
    await selfreg.run_checks()
    message = selfreg.message()
    selfreg.alerting.close(selfreg.incident().id, "fixed by hand")
    resolved = selfreg.incident()
    assert resolved.state is IncidentState.RESOLVED

    await selfreg.click(message, render.ACK, user=ALICE)
    assert await eventually(lambda: selfreg.hooks_with("is already resolved"))
    assert selfreg.incident() == resolved


async def test_a_malformed_or_unknown_command_gets_the_help_text(selfreg: Selfreg) -> None:
    response = await selfreg.slash("frobnicate now", user=ALICE)
    assert response.status == 200
    assert "I don't know `frobnicate`" in ack_text(response)
    assert "/selfreg silence MATCHER DURATION" in ack_text(response)
    response = await selfreg.slash('ack "unclosed', user=ALICE)
    assert "cannot read that" in ack_text(response) and "/selfreg ack ID" in ack_text(response)
    response = await selfreg.slash("ack twelve", user=ALICE)
    assert "ID must be a number" in ack_text(response)


async def test_status_answers_in_the_ack_with_the_failing_check(selfreg: Selfreg) -> None:
    await selfreg.run_checks()
    response = await selfreg.slash("status", user=ALICE)
    assert response.status == 200
    body = ack_text(response)
    assert "selfreg status" in body and "db" in body and "cache" in body
    assert '"response_type": "ephemeral"' in response.body


async def test_health_acks_at_once_and_follows_up_through_the_response_url(
    selfreg: Selfreg,
) -> None:
    await selfreg.run_checks()
    response = await selfreg.slash("health", user=ALICE)
    assert "Running 2 checks now" in ack_text(response)
    [hook] = await eventually(lambda: selfreg.hooks_with("every check, run now"))
    assert hook.body["response_type"] == "ephemeral"


async def test_a_command_someone_may_not_run_is_refused_in_the_ack(selfreg: Selfreg) -> None:
    response = await selfreg.slash("silence check=db 1h", user=MALLORY)
    assert "You may not run `silence`" in ack_text(response)
    response = await selfreg.slash("reload", user=MALLORY)
    assert "Only admins may run `reload`" in ack_text(response)
    response = await selfreg.slash("reload", user=BOB)
    assert "config reloaded" in ack_text(response) and selfreg.reloads == [BOB]
