"""The "Show chart" button and ``/selfreg chart ID``: a PNG of the incident's metric posted in
its thread through Slack's upload flow (the stand-in checks every step); a chart that cannot
be drawn says why in the thread."""

from __future__ import annotations

from dataclasses import replace

from bot.slack.charts import ChartPoster
from bot.slack.commands import parse
from bot.slack.render import SHOW_CHART
from bot.store.incidents import save_incident
from bot.store.samples import add_samples
from checks.base import Observation, Status
from common.png_chart import read_png
from tests.support.slack_inprocess import Selfreg
from tests.support.slack_selfreg import ALICE, CHANNEL

LIMITS = {"up": [("critical", 0.5, "down")]}


def poster(selfreg: Selfreg) -> ChartPoster:
    charts = ChartPoster(selfreg.client, selfreg.store, selfreg.clock, lambda _: LIMITS)
    selfreg.commands.charts = charts
    selfreg.slack.charts = charts
    return charts


def record_up_and_down(selfreg: Selfreg) -> None:
    """Half an hour of db's ``up`` before the test's first run: up, then down."""
    now = selfreg.clock.now()
    with selfreg.store.transaction():
        add_samples(
            selfreg.store,
            [
                Observation(check="db", status=Status.OK, summary="", at=now - 1800 + i * 30,
                            values={"up": 1.0 if i < 50 else 0.0})
                for i in range(60)
            ],
        )  # fmt: skip


async def test_show_chart_posts_the_png_in_the_incident_thread(selfreg: Selfreg) -> None:
    charts = poster(selfreg)
    record_up_and_down(selfreg)
    await selfreg.run_checks()
    message = selfreg.message("db")
    await selfreg.click(message, SHOW_CHART, user=ALICE)
    await charts.settle()
    [reply] = [m for m in selfreg.emu.thread(CHANNEL, message.ts) if m.files]
    assert "up around incident" in reply.text and "critical 0.5 (red dashes)" in reply.text
    picture = read_png(selfreg.emu.uploaded(reply.files[0]["id"]) or b"")
    assert (picture.width, picture.height) == (800, 300)


async def test_chart_command_says_why_when_there_is_nothing_to_draw(selfreg: Selfreg) -> None:
    charts = poster(selfreg)
    await selfreg.run_checks()
    db = selfreg.incident("db")
    with selfreg.store.transaction():  # an incident of a check that never stored a sample
        gone = save_incident(
            selfreg.store, replace(db, id=0, check="gone", fingerprint="gone||rule")
        )
    reply = await selfreg.commands.run(parse(f"chart {gone.id}"), ALICE)
    assert reply.text == f"The chart of incident {gone.id} is in its thread."
    await charts.settle()
    said = [m.text for m in selfreg.emu.thread(CHANNEL, db.slack_ts or "") if "No chart" in m.text]
    assert said == [f"No chart for incident {gone.id}: it records no metric to draw."]
