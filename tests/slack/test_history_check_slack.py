"""``/selfreg history CHECK [range]``: a check's trend per day from the rollups, beside the
``history [N]`` list of incidents."""

from __future__ import annotations

from bot.slack.commands import parse
from bot.store.retention import roll_up
from tests.support.slack_inprocess import Selfreg
from tests.support.slack_selfreg import ALICE


async def test_history_of_a_check_shows_its_days_availability_and_incidents(
    selfreg: Selfreg,
) -> None:
    for _ in range(3):
        await selfreg.run_checks()
        selfreg.clock.advance(30)
    selfreg.clock.advance(120)
    roll_up(selfreg.store, selfreg.clock.now())
    reply = await selfreg.commands.run(parse("history db 24h"), ALICE)
    text = reply.text
    assert text.startswith("```") and "db: the last 24h, per UTC day" in text
    assert "availability" in text and "min" in text and "mean" in text and "max" in text
    assert "incidents: 1" in text, "db fails in this setup: its incident is listed"
    cache = (await selfreg.commands.run(parse("history cache 7d"), ALICE)).text
    assert "cache: the last 7d" in cache and "100.00%" in cache and "incidents: 0" in cache


async def test_history_with_a_number_still_lists_the_last_incidents(selfreg: Selfreg) -> None:
    await selfreg.run_checks()
    await selfreg.run_checks()
    reply = await selfreg.commands.run(parse("history 5"), ALICE)
    assert reply.text == "Last 1 incidents"
