"""Deploy tracking in the engine: a reported deploy is one event and one notice; which
incidents it concerns, and for how long."""

from __future__ import annotations

import json

from bot.engine.deploys import Deploys, deploy_before
from bot.engine.notices import Announcer
from bot.records import Severity
from bot.store import Store
from checks.base import Deploy, Observation, Status
from tests.support.clock import FakeClock
from tests.support.db import rows

DEPLOY = Deploy(
    app="gpt-cursor-runner",
    version="v18",
    previous="v17",
    regions=("sea",),
    machines=2,
    window=600.0,
    checks=("runner-fly", "runner-health"),
)


def seen(store: Store, clock: FakeClock) -> None:
    announcer = Announcer(store, clock, {"slack": Severity.INFO, "console": Severity.INFO})
    observation = Observation(
        check="runner-fly", status=Status.OK, summary="", at=clock.now(), deploy=DEPLOY
    )
    Deploys(store, announcer).seen(observation)


def test_a_deploy_is_one_event_and_one_notice_per_channel(store: Store, clock: FakeClock) -> None:
    seen(store, clock)
    [event] = rows(store, "SELECT subject, detail FROM events WHERE kind = 'release.deployed'")
    assert event["subject"] == "gpt-cursor-runner"
    assert json.loads(event["detail"])["previous"] == "v17"
    texts = {json.loads(r["payload"])["text"] for r in rows(store, "SELECT payload FROM outbox")}
    assert texts == {"gpt-cursor-runner v18 deployed to sea, 2 machines (was v17)"}
    assert len(rows(store, "SELECT id FROM outbox")) == 2


def test_only_the_named_checks_within_the_window_hear_of_it(store: Store, clock: FakeClock) -> None:
    seen(store, clock)
    at = clock.now()
    found = deploy_before(store, "runner-health", at + 180)
    assert found is not None and found.note(at + 180) == "Started 3 m after v18 was deployed."
    assert deploy_before(store, "disk", at + 180) is None
    assert deploy_before(store, "runner-fly", at + 601) is None
    assert deploy_before(store, "runner-fly", at - 1) is None
