"""Adaptive scaling in process: a scale rule fed samples (fake clock) moves a component of real
child processes through the one gate, and refuses when hysteresis, the cool-down, the budgets,
the kill switch, the regulation pause or the circuit breaker say so. Every decision is a row
with the signal; every automatic move an audit row with door "regulate"."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actions.scale_component import ScaleComponent, ScaleComponentSpec
from bot.config.alerts import AlertsSettings
from bot.config.regulate import RegulateSettings, ScaleRule
from bot.engine.alerting import Alerting
from bot.engine.regulate import band
from bot.engine.regulate.moves import Mover
from bot.engine.regulate.scaling import Scaler
from bot.engine.remediation import Remediation
from bot.engine.remediation_runs import Verification
from bot.records import IncidentState, ProposalState, Severity
from bot.store import Store
from bot.store import incidents as incident_rows
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from checks.base import CheckSpec
from tests.support.action_context import RealActionContext, action_context
from tests.support.clock import FakeClock
from tests.support.db import rows

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
async def ctx() -> AsyncIterator[RealActionContext]:
    async with action_context({"workers": SLEEPER}) as context:
        await context.components.scale("workers", 1)
        yield context


def scale_action(name: str, step: int, **spec: Any) -> ScaleComponent:
    fields = {"component": "workers", "min": 1, "max": 3, "risk": "low", "verify_after": "0s"}
    fields["approvers"] = ["*"]
    fields["cooldown"] = "0s"
    return ScaleComponent(
        ScaleComponentSpec(name=name, kind="scale_component", step=step, **{**fields, **spec})
    )


class Rig:
    """A scale rule over a store, alerting, remediation and real children."""

    def __init__(
        self,
        store: Store,
        ctx: RealActionContext,
        up: dict[str, Any] | None = None,
        actions: dict[str, Any] | None = None,
        **rule: Any,
    ) -> None:
        self.store, self.ctx, self.clock = store, ctx, FakeClock()
        self.alerting = Alerting(
            store, self.clock, AlertsSettings(), {"queue": CheckSpec(kind="http", name="queue")},
            {"slack": Severity.INFO},
        )  # fmt: skip
        actions = actions or {
            "up": scale_action("up", 1, **(up or {})),
            "down": scale_action("down", -1),
        }
        self.remediation = Remediation(
            store=store, clock=self.clock, actions=actions, remediations={},
            alerting=self.alerting, context=ctx, verify=self.verify, groups_of=self.groups,
        )  # fmt: skip
        self.alerting.on_opened = self.remediation.on_incident_opened
        fields = {"name": "workers", "check": "queue", "metric": "latency", "low": 0.1}
        fields |= {"high": 0.5, "up": "up", "down": "down", "max": 3, "cooldown": "60s"}
        fields |= {"up_for": "10s", "down_for": "10s"}  # three samples 5 s apart
        self.settings = RegulateSettings(scale=[ScaleRule(**{**fields, **rule})])
        self.mover = Mover(
            store=store, clock=self.clock, alerting=self.alerting,
            remediation=self.remediation, settings=self.settings,
        )  # fmt: skip
        self.scaler = Scaler(
            clock=self.clock, settings=self.settings, mover=self.mover,
            instances=lambda name: ctx.components.instances(name) if name else None,
        )  # fmt: skip
        self.verified_ok = True

    async def verify(self, check: str) -> Verification:
        return Verification(ok=self.verified_ok, summary="queue answers")

    async def groups(self, user: str) -> set[str]:
        return set()

    async def feed(self, *values: float, every: float = 5.0) -> None:
        """Samples of the signal, ``every`` seconds apart, then wait for runs in flight."""
        rule = self.settings.scale[0]
        for value in values:
            self.clock.advance(every)
            self.scaler.sample(rule, value, self.clock.now())
            await self.mover.wait_idle()

    def decisions(self) -> list[store_regulation.DecisionRow]:
        return list(reversed(store_regulation.decisions(self.store)))


async def test_auto_scales_up_after_the_hysteresis_and_audits_the_signal(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto")
    await rig.feed(0.8, 0.9)
    assert ctx.components.instances("workers") == 1 and rig.decisions() == []
    await rig.feed(0.95)
    assert ctx.components.instances("workers") == 2
    [decision] = rig.decisions()
    assert (decision.outcome, decision.direction, decision.action) == ("moved", 1, "up")
    assert decision.signal["recent"] == [0.8, 0.9, 0.95] and decision.signal["instances"] == 1
    audit = rows(store, "SELECT kind, actor, detail FROM audit WHERE kind LIKE 'regulate.%'")
    assert [(a["kind"], a["actor"]) for a in audit] == [("regulate.moved", "selfreg")]
    detail = json.loads(audit[0]["detail"])
    assert detail["door"] == "regulate" and detail["signal"]["value"] == 0.95
    proposal = store_proposals.get(store, decision.proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.VERIFIED
    assert proposal.decided_by == "selfreg"


async def test_a_signal_that_dips_back_into_the_band_resets_the_count(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto")
    await rig.feed(0.8, 0.9, 0.3, 0.8, 0.9, 0.05, 0.07, 0.3, 0.9, 0.05)
    assert rig.decisions() == [] and ctx.components.instances("workers") == 1


async def test_no_move_within_the_cooldown_so_no_reversal(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto", cooldown="60s")
    await rig.feed(0.8, 0.8, 0.8)  # up at t=15
    await rig.feed(0.01, 0.01, 0.01, 0.01, 0.01, 0.01, every=5.0)  # until t=45: cooling down
    assert [d.direction for d in rig.decisions()] == [1]
    await rig.feed(0.01, 0.01, 0.01, every=10.0)  # t=75: past the cool-down, 3 samples below
    assert [d.direction for d in rig.decisions()] == [1, -1]
    assert ctx.components.instances("workers") == 1
    first, second = rig.decisions()
    assert second.at - first.at >= 60


async def test_propose_mode_waits_for_a_person_and_stacks_nothing(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx)
    await rig.feed(0.8, 0.8, 0.8)
    await rig.feed(*[0.9] * 20, every=10.0)
    [decision] = rig.decisions()
    assert decision.outcome == "proposed" and ctx.components.instances("workers") == 1
    proposal = store_proposals.get(store, decision.proposal_id or 0)
    assert proposal is not None and proposal.state is ProposalState.PROPOSED
    incident = incident_rows.get_incident(store, decision.incident_id or 0)
    assert incident is not None and incident.kind.value == "regulation"
    await rig.remediation.approve(proposal.id, "U0ALICE")
    await rig.remediation.wait_idle()
    assert ctx.components.instances("workers") == 2


async def test_the_kill_switch_and_the_pause_turn_moves_into_proposals(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto")
    rig.remediation.pause("U0BOB", True)
    await rig.feed(0.8, 0.8, 0.8)
    rig.remediation.pause("U0BOB", False)
    rig.mover.pause("U0CAROL", True)
    proposal = rig.decisions()[0].proposal_id or 0
    await rig.remediation.deny(proposal, "U0CAROL")
    await rig.feed(0.8, 0.8, 0.8, every=30.0)
    first, second = rig.decisions()
    assert (first.outcome, second.outcome) == ("proposed", "proposed")
    assert "actions are paused" in first.reason and "regulation is paused" in second.reason
    assert ctx.components.instances("workers") == 1


async def test_the_rule_budget_stops_automatic_moves(store: Store, ctx: RealActionContext) -> None:
    rig = Rig(store, ctx, mode="auto", budget="1/1h", cooldown="10s")
    await rig.feed(0.8, 0.8, 0.8)
    await rig.feed(0.8, 0.8, 0.8, every=10.0)
    assert [d.outcome for d in rig.decisions()] == ["moved", "proposed"]
    assert "budget of 1 automatic moves" in rig.decisions()[1].reason
    assert ctx.components.instances("workers") == 2


async def test_the_gate_refusal_is_recorded(store: Store, ctx: RealActionContext) -> None:
    rig = Rig(store, ctx, mode="auto", up={"budget": "0/1h"})
    await rig.feed(0.8, 0.8, 0.8)
    [decision] = rig.decisions()
    assert decision.outcome == "refused" and "budget" in decision.reason
    assert ctx.components.instances("workers") == 1


async def test_a_failed_move_trips_the_breaker_and_asks_a_person(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto", cooldown="10s")
    rig.verified_ok = False
    await rig.feed(0.8, 0.8, 0.8)
    assert ctx.components.instances("workers") == 2
    await rig.feed(0.8)
    paused = store_regulation.paused(store)
    assert paused is not None and paused[0].startswith("circuit breaker") and paused[1] == "selfreg"
    assert rows(store, "SELECT kind FROM audit WHERE kind = 'regulate.breaker'")
    await rig.feed(0.8, 0.8, 0.8, every=10.0)
    outcomes = [d.outcome for d in rig.decisions()]
    assert outcomes == ["failed", "proposed"] and ctx.components.instances("workers") == 2


async def test_a_forecast_crossing_scales_up_before_the_band_is_left(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto", forecast="2m", up_for="5s")
    await rig.feed(*[0.1 + 0.02 * i for i in range(12)])  # 0.1 .. 0.32, rising 0.02 / 5 s
    [decision] = rig.decisions()
    assert decision.signal["why"] == "forecast" and decision.signal["value"] < 0.5
    assert decision.signal["forecast_eta"] <= 120


async def test_back_in_the_band_resolves_the_regulation_incident(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto")
    await rig.feed(0.8, 0.8, 0.8, 0.3, 0.3, 0.3)
    incident = incident_rows.get_incident(store, rig.decisions()[0].incident_id or 0)
    assert incident is not None and incident.state is IncidentState.RESOLVED


def test_config_refuses_a_rule_naming_a_down_action_as_up(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.errors import ConfigError

    path = tmp_path / "selfreg.toml"
    path.write_text(
        '[[checks]]\nname = "queue"\nkind = "http"\nurl = "http://127.0.0.1:1/"\n'
        '[[actions]]\nname = "down"\nkind = "scale_component"\ncomponent = "w"\nstep = -1\n'
        "max = 3\n"
        '[[regulate.scale]]\nname = "w"\ncheck = "queue"\nmetric = "latency"\nlow = 0.1\n'
        'high = 0.5\nup = "down"\nmax = 3\n'
    )
    with pytest.raises(ConfigError, match="positive step"):
        load_settings(path)


async def test_the_regulation_message_offers_pause_regulation(
    store: Store, ctx: RealActionContext
) -> None:
    from bot.slack import render

    rig = Rig(store, ctx, mode="auto")
    await rig.feed(0.8, 0.8, 0.8)
    incident = incident_rows.get_incident(store, rig.decisions()[0].incident_id or 0)
    assert incident is not None
    blocks = json.dumps(render.render_incident(incident, rig.clock.now()).blocks, default=str)
    assert render.PAUSE_REGULATION in blocks and "REGULATION" in blocks
    rig.mover.pause("U0DAN", True, incident.id)
    assert store_regulation.paused(store) == ("on", "U0DAN")


async def test_no_second_scale_up_while_the_signal_is_already_easing(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto", cooldown="10s")
    await rig.feed(0.8, 0.8, 0.8)  # up at t=15
    await rig.feed(0.9, 0.8, 0.7, 0.6)  # above for 15 s, but each sample lower: the move works
    assert [d.direction for d in rig.decisions()] == [1]
    await rig.feed(0.65)  # no longer easing
    assert [d.direction for d in rig.decisions()] == [1, 1]


async def test_down_for_makes_scale_down_slower_than_up(
    store: Store, ctx: RealActionContext
) -> None:
    await ctx.components.scale("workers", 2)
    rig = Rig(store, ctx, mode="auto", down_for="20s")
    await rig.feed(0.01, 0.01, 0.01, 0.01)  # below for 15 s
    assert rig.decisions() == [] and ctx.components.instances("workers") == 2
    await rig.feed(0.01)  # 20 s
    [decision] = rig.decisions()
    assert decision.direction == -1 and decision.signal["lasted"] == 20
    assert ctx.components.instances("workers") == 1


async def test_hysteresis_is_a_duration_whatever_the_sampling(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto", up_for="30s")
    await rig.feed(*[0.8] * 30, every=1.0)  # above for 29 s
    await rig.feed(0.3, every=1.0)  # one sample back inside: the clock starts again
    await rig.feed(*[0.8] * 30, every=1.0)
    assert rig.decisions() == []
    await rig.feed(0.8, every=1.0)  # above for 30 s
    [decision] = rig.decisions()
    assert decision.signal["lasted"] == 30 and ctx.components.instances("workers") == 2
    await rig.feed(0.3, 0.3, every=15.0)  # back inside, then past cool-down: a second rule...
    slow = Rig(store, ctx, mode="auto", up_for="30s", name="slow")
    await slow.feed(0.8, 0.8, 0.8, every=15.0)  # ...sampled every 15 s moves after 30 s too
    assert [d.signal["lasted"] for d in slow.decisions() if d.rule == "slow"] == [30]


def test_a_proportional_rule_scales_down_once_one_instance_fewer_fits() -> None:
    rule = ScaleRule(
        name="w", check="queue", metric="busy", low=0.35, high=0.85, up="up", down="down",
        max=4, down_for="10s", cooldown="0s", proportional=True,
    )  # fmt: skip
    plain = rule.model_copy(update={"proportional": False})
    for value, instances, wanted in ((0.38, 3, -1), (0.45, 3, None), (0.38, 2, None)):
        state, want = band.BandState(), None
        for at in (0.0, 5.0, 10.0):  # inside the band, 10 s
            state, want = band.step(rule, state, value, at, instances=instances)
            assert band.step(plain, state, value, at, instances=instances)[1] is None
        # 0.38 × 3/2 = 0.57 fits under the middle 0.6; 0.45 × 3/2 and 0.38 × 2/1 do not
        assert (want.direction, want.why) == (wanted, "fits") if wanted else want is None


def test_config_refuses_the_retired_sample_counts_by_file_key_and_value(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.errors import ConfigError

    path = tmp_path / "selfreg.toml"
    path.write_text(
        '[[checks]]\nname = "queue"\nkind = "http"\nurl = "http://127.0.0.1:1/"\n'
        '[[actions]]\nname = "up"\nkind = "scale_component"\ncomponent = "w"\nstep = 1\n'
        'max = 3\n[[regulate.scale]]\nname = "w"\ncheck = "queue"\nmetric = "latency"\n'
        'low = 0.1\nhigh = 0.5\nup = "up"\nmax = 3\nsamples = 3\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(str(path))
    text = str(raised.value)
    assert str(path) in text and 'regulate.scale[0] "w"' in text
    assert "samples = 3 is no longer read" in text and "up_for" in text


async def test_a_proposed_move_offers_approve_at_quiet_time(
    store: Store, ctx: RealActionContext
) -> None:
    from bot.engine.offers import budget_windows, offers_for
    from bot.slack import render

    rig = Rig(store, ctx)
    await rig.feed(0.8, 0.8, 0.8)
    incident = incident_rows.get_incident(store, rig.decisions()[0].incident_id or 0)
    assert incident is not None
    actions = rig.remediation.actions
    stored = store_proposals.for_offers(store, incident.id, budget_windows(actions), 0.0)
    offers = offers_for(stored, actions, rig.clock.now())
    blocks = json.dumps(render.render_incident(incident, rig.clock.now(), offers=offers).blocks)
    assert render.QUIET_PREFIX in blocks and render.APPROVE_PREFIX in blocks


async def test_a_fly_app_scales_through_its_fly_scale_count_action(
    store: Store, ctx: RealActionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.fly_scale_count import FlyScaleCount, FlyScaleCountSpec
    from tests.support.fly_standin import APP, fly_api

    async with fly_api(monkeypatch) as fly:
        spec = FlyScaleCountSpec(
            name="up", kind="fly_scale_count", app=APP, base_url=fly.url, wait_timeout=2,
            process_group="web", max=2, risk="low", approvers=["*"], verify_after="0s",
        )  # fmt: skip
        rig = Rig(store, ctx, mode="auto", actions={"up": FlyScaleCount(spec)}, down=None)
        await rig.feed(0.8, 0.8, 0.8)
        assert len(fly.machines) == 3
    [decision] = rig.decisions()
    assert decision.outcome == "moved" and decision.signal["instances"] is None  # Fly counts


async def test_the_forecast_follows_the_recent_trend_after_a_long_flat_stretch(
    store: Store, ctx: RealActionContext
) -> None:
    rig = Rig(store, ctx, mode="auto", forecast="10s", up_for="0s")
    await rig.feed(*[0.2] * 600, every=1.0)  # ten flat minutes
    await rig.feed(*[0.2 + 0.02 * i for i in range(1, 15)], every=1.0)  # then 0.02 a second
    [decision] = rig.decisions()  # the trend of the last 20 s, not of the flat 15 min before
    assert decision.signal["why"] == "forecast" and decision.signal["value"] < 0.5
