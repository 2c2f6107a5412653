"""Rendering always fits Slack's limits: 50 blocks, 3,000 characters a section, "and N more"."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from bot.records import Incident, IncidentState, Severity
from bot.slack import render, views
from checks.base import Status

NOW = 1_800_000_000.0


def incident(number: int, **fields: object) -> Incident:
    base = {
        "id": number,
        "fingerprint": f"svc{number}||rule",
        "check": f"service-{number:04d}-with-a-long-name",
        "subject": "",
        "severity": Severity.CRITICAL,
        "status": Status.CRITICAL,
        "summary": "x" * 500,
        "opened_at": NOW - 600,
        "last_seen_at": NOW,
    }
    base.update(fields)
    return Incident(**base)


def assert_fits(rendered: render.Rendered) -> None:
    assert len(rendered.blocks) <= 50
    for block in rendered.blocks:
        Block.parse(block).validate_json()  # slack_sdk's own limit checks
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    assert len(rendered.text) <= 40000
    assert len(json.dumps(rendered.blocks)) < 40000


def test_an_incident_with_a_huge_summary_fits() -> None:
    rendered = render.render_incident(
        incident(1, summary="y" * 10_000, check="c" * 400), NOW, [1.0] * 20
    )
    assert_fits(rendered)
    assert rendered.blocks[1]["text"]["text"].endswith("…")


def test_a_status_with_hundreds_of_checks_ends_with_and_n_more() -> None:
    checks = [
        {
            "check": f"check-{i:04d}",
            "subject": "",
            "status": "ok",
            "summary": "fine " * 20,
            "confirmed": "ok",
        }
        for i in range(800)
    ]
    document = {"checks": checks, "components": [], "failing": []}
    incidents = [incident(i) for i in range(200)]
    rendered = views.status_view(document, {}, incidents, [], 3600, NOW)
    assert_fits(rendered)
    text = json.dumps(rendered.blocks)
    assert "more" in text and "check-0799" not in text


def test_a_digest_of_many_incidents_fits() -> None:
    rendered = render.render_digest([incident(i) for i in range(300)], NOW)
    assert_fits(rendered)
    assert "…and" in rendered.blocks[1]["text"]["text"]


def test_a_resolved_incident_has_no_buttons_but_its_runbook() -> None:
    resolved = incident(
        7, state=IncidentState.RESOLVED, resolved_at=NOW, runbook_url="https://wiki/x"
    )
    rendered = render.render_incident(resolved, NOW)
    actions = [b for b in rendered.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["incident.runbook"]
    assert rendered.blocks[0]["text"]["text"].startswith("✅ RESOLVED after 10 m")


def test_post_mode_shows_no_buttons_nobody_could_answer() -> None:
    rendered = render.render_incident(
        incident(3, runbook_url="https://wiki/x"), NOW, interactive=False
    )
    actions = [b for b in rendered.blocks if b["type"] == "actions"]
    assert [e["action_id"] for a in actions for e in a["elements"]] == ["incident.runbook"]
