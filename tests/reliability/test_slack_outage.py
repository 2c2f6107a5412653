"""Slack down for minutes of the fake clock while incidents open and resolve, then back with
429 bursts (``bench/slack_outage.py`` runs 200 incidents over 10 minutes)."""

from __future__ import annotations

from pathlib import Path

from tests.support.outage_run import run_outage


async def test_after_an_outage_every_incident_is_posted_once_resolved_and_in_order(
    tmp_path: Path,
) -> None:
    figures = await run_outage(tmp_path, incidents=40, outage=180.0)
    assert figures.backlog_rows > 40, "the backlog waited in the store"
    assert figures.posted_once == 40 and figures.posted_twice == 0 and figures.missing == []
    assert figures.not_resolved == [] and figures.out_of_order == []
    assert figures.throttled > 0, "the 429 bursts were met and waited out"
    assert figures.digests >= 1, "a storm digest, as the design says"
