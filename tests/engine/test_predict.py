"""The predictors wired into the engine: real store files, the real runner's write path, a fake
clock. A spike opens its own anomaly incident, a failing model leaves the rules alone,
retraining runs in a worker process, and saved state is signed and checked at load."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from bot.config import ModelsSettings
from bot.config.alerts import AlertsSettings
from bot.engine.alerting import Alerting
from bot.engine.predict import Predictor
from bot.engine.predict.history import check_samples
from bot.engine.runner import CheckRunner, RunResult
from bot.errors import NotAPrediction
from bot.records import IncidentState, Severity, Transition
from bot.store import Store, predictions, samples
from bot.store import incidents as rows
from checks.base import Observation, Status
from checks.http import HttpCheck, HttpSpec
from models.anomaly import AnomalyDetector, GroupForest
from models.failure import LOOKBACK, RiskState
from tests.support import db
from tests.support.clock import FakeClock

CHANNELS = {"slack": Severity.INFO}


class Rig:
    """A runner whose writes feed a predictor, the way the runtime wires them."""

    def __init__(
        self, store: Store, tmp_path: Path, *, spec: dict | None = None, **models: object
    ) -> None:
        self.clock = FakeClock()
        self.check = HttpCheck(
            HttpSpec(
                kind="http",
                name="api",
                url="http://127.0.0.1:9/health",
                latency={"warn": 0.3, "critical": 2.0},
                confirm_after=None,
                **(spec or {}),
            )
        )
        specs = {"api": self.check.spec}
        self.store = store
        self.alerting = Alerting(store, self.clock, AlertsSettings(), specs, CHANNELS)
        self.settings = ModelsSettings.model_validate({"warmup": 100, **models})
        self.predictor = Predictor(
            settings=self.settings,
            specs=specs,
            store=store,
            clock=self.clock,
            alerting=self.alerting,
            model_dir=tmp_path / "models",
        )
        self.predictor.load()
        self.runner = CheckRunner(
            checks=[self.check], store=store, clock=self.clock, http=None, alerting=self.alerting
        )  # type: ignore[arg-type]
        self.runner.on_recorded = self.predictor.observe

    def run(self, latency: float, status: Status = Status.OK, **extra: float) -> None:
        self.clock.advance(5.0)
        observation = Observation(
            check="api",
            status=status,
            summary=f"latency {latency * 1000:.0f} ms",
            values={"latency": latency, **extra},
            at=self.clock.now(),
        )
        self.runner.record(
            [RunResult(check=self.check, observations=[observation], state_writes={}, duration=0)]
        )


def noisy(rig: Rig, count: int, seed: int = 1, **extra: float) -> None:
    rnd = random.Random(seed)
    for _ in range(count):
        rig.run(0.05 + rnd.uniform(-0.005, 0.005), **extra)


def anomaly_incidents(store: Store) -> list:
    return [i for i in rows.open_incidents(store) if i.kind == "anomaly"]


def test_a_spike_opens_an_anomaly_incident_naming_the_metric_and_score(store, tmp_path) -> None:
    rig = Rig(store, tmp_path)
    noisy(rig, 100)
    assert anomaly_incidents(store) == []
    rig.run(0.25)  # under the rule's warn (300 ms): only the model sees it
    [incident] = anomaly_incidents(store)
    assert incident.severity is Severity.WARNING
    assert incident.fingerprint == "api||anomaly:latency"
    assert "latency is unusual: 0.25 (usual" in incident.summary
    assert "score" in incident.summary and "why: " in incident.summary
    assert [i for i in rows.open_incidents(store) if i.kind == "rule"] == []
    [stored] = predictions.recent(store, 0.0)
    assert stored.kind == "anomaly" and stored.detail["metric"] == "latency"


def test_an_anomaly_whose_metric_stops_reporting_resolves_instead_of_staying_open(
    store, tmp_path
) -> None:
    rig = Rig(store, tmp_path, clear_after="30s")
    noisy(rig, 100)
    rig.run(0.25)
    [incident] = anomaly_incidents(store)
    rig.clock.advance(25.0)  # silence shorter than clear_after (30 s; 3 rounds = 15 s): open
    rig.predictor.observe([])
    assert anomaly_incidents(store) != []
    rig.clock.advance(10.0)  # now 35 s without the metric: nothing left to judge
    rig.predictor.observe([])
    assert anomaly_incidents(store) == []
    resolved = rows.get_incident(store, incident.id)
    assert resolved is not None and resolved.state is IncidentState.RESOLVED
    assert "has not been reported for 35 s" in resolved.summary


def test_an_anomaly_resolves_once_clear_for_a_while_and_never_touches_the_rule(
    store, tmp_path
) -> None:
    rig = Rig(store, tmp_path, clear_after="30s")
    noisy(rig, 100)
    rig.run(3.0, Status.CRITICAL)
    rig.run(3.0, Status.CRITICAL)  # open_after = 2: the rule's own incident
    kinds = sorted(i.kind for i in rows.open_incidents(store))
    assert kinds == ["anomaly", "rule"]
    rule = rows.latest_for(store, "api||rule")
    assert rule is not None and rule.severity is Severity.CRITICAL and rule.count == 1
    noisy(rig, 5, seed=2)  # 25 s clear: not yet "a while"
    assert rows.latest_for(store, "api||anomaly:latency").state is IncidentState.OPEN
    noisy(rig, 7, seed=3)
    anomaly = rows.latest_for(store, "api||anomaly:latency")
    assert anomaly is not None and anomaly.state is IncidentState.RESOLVED
    assert "has been clear for 3" in anomaly.summary
    assert rows.latest_for(store, "api||rule").severity is Severity.CRITICAL


class BrokenDetector(AnomalyDetector):
    """A detector that fails the way a bug would: every score raises."""

    def score(self, key, at, value, threshold=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("model bug")


def test_a_failing_model_is_switched_off_and_the_rules_still_alert(store, tmp_path, caplog) -> None:
    rig = Rig(store, tmp_path)
    rig.predictor.detector = BrokenDetector(warmup=50)
    with caplog.at_level(logging.ERROR):
        rig.run(3.0, Status.CRITICAL)
        rig.run(3.0, Status.CRITICAL)
    assert rig.predictor.failed == {"anomaly"}
    assert "the anomaly model failed" in caplog.text
    [incident] = rows.open_incidents(store)
    assert incident.kind == "rule" and incident.severity is Severity.CRITICAL


def test_with_every_model_off_the_rules_alone_decide(store, tmp_path) -> None:
    rig = Rig(store, tmp_path, anomaly=False, forecast=False, failure_risk=False)
    assert rig.predictor.detector is None and rig.predictor.forecaster is None
    noisy(rig, 30)
    rig.run(3.0, Status.CRITICAL)
    rig.run(3.0, Status.CRITICAL)
    assert [i.kind for i in rows.open_incidents(store)] == ["rule"]


async def test_retraining_runs_in_a_worker_process_and_installs_the_forests(
    store, tmp_path
) -> None:
    rig = Rig(store, tmp_path)
    assert rig.predictor.detector is not None
    rig.predictor.detector.min_group_rows = 40
    noisy(rig, 100, errors=0.0)  # two metrics: one group forest
    await rig.predictor.retrain(force=True)
    [worker] = set(rig.predictor.fit_pids)  # both fits, in one process: not this one
    assert len(rig.predictor.fit_pids) == 2 and worker != os.getpid()
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == "zombie"
    assert list(rig.predictor.detector.group_models_) == ["api|"]
    assert set(rig.predictor.risks) == {"api"}  # fitted too, still learning on so little
    assert (tmp_path / "models" / "anomaly.state").exists()


def fitting_workers() -> int:
    """This process's live fit workers (a zombie or a child gone
    between the listing and the look does not count)."""
    count = 0
    for child in psutil.Process().children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "bot.engine.fit_worker" in " ".join(
                child.cmdline()
            ):
                count += 1
        except psutil.Error:
            continue
    return count


async def test_two_retrains_at_once_run_one_after_the_other(store, tmp_path) -> None:
    rig = Rig(store, tmp_path)
    assert rig.predictor.detector is not None
    rig.predictor.detector.min_group_rows = 40
    noisy(rig, 100, errors=0.0)
    both = asyncio.gather(rig.predictor.retrain(force=True), rig.predictor.retrain(force=True))
    most, deadline = 0, asyncio.get_running_loop().time() + 120
    while not both.done() and asyncio.get_running_loop().time() < deadline:
        most = max(most, fitting_workers())
        await asyncio.sleep(0.01)
    await both
    first, second = rig.predictor.fit_pids[:2], rig.predictor.fit_pids[2:]
    assert len(set(first)) == 1 and len(set(second)) == 1 and first != second
    assert most == 1, "never two fitting workers side by side"


async def test_a_fit_that_fails_in_the_worker_is_logged_and_the_old_forests_stay(
    store, tmp_path, caplog
) -> None:
    rig = Rig(store, tmp_path)
    detector = rig.predictor.detector
    assert detector is not None
    detector.min_group_rows = 40
    noisy(rig, 100, errors=0.0)
    await rig.predictor.retrain(force=True)
    before = detector.group_models_["api|"]
    detector.group_model = GroupForest(n_estimators=0)  # scikit-learn refuses it, over there
    with caplog.at_level(logging.ERROR):
        await rig.predictor.retrain(force=True)
    assert detector.group_models_["api|"] is before
    assert "anomaly retrain failed" in caplog.text and "n_estimators" in caplog.text
    assert rig.predictor.failed == set() and set(rig.predictor.risks) == {"api"}


def test_saved_state_is_restored_and_a_tampered_file_is_refused(store, tmp_path, caplog) -> None:
    rig = Rig(store, tmp_path)
    noisy(rig, 30)
    rig.predictor.save()
    again = Rig(store, tmp_path)
    assert again.predictor.detector is not None
    assert again.predictor.detector.series_["api||latency"].n == 30
    assert again.predictor.files.refused == []
    path = tmp_path / "models" / "anomaly.state"
    blob = bytearray(path.read_bytes())
    blob[40] ^= 0xFF
    path.write_bytes(bytes(blob))
    with caplog.at_level(logging.WARNING):
        cold = Rig(store, tmp_path)
    assert cold.predictor.detector is not None and cold.predictor.detector.series_ == {}
    assert cold.predictor.files.refused == ["anomaly"]
    assert "refused" in caplog.text and "signature" in caplog.text


def thread_replies(store: Store, incident_id: int) -> list[str]:
    return [
        json.loads(r[0])["text"]
        for r in db.rows(
            store,
            "SELECT payload FROM outbox WHERE kind = 'incident.reply' AND ref = ? ORDER BY id",
            (incident_id,),
        )
    ]


def test_repeated_false_alarms_raise_the_metric_threshold_and_say_so(store, tmp_path) -> None:
    rig = Rig(store, tmp_path, clear_after="20s")
    noisy(rig, 100)
    ids = []
    for episode in range(3):
        rig.run(0.5)
        [incident] = anomaly_incidents(store)
        ids.append(incident.id)
        verdict = predictions.USEFUL if episode == 0 else predictions.FALSE_ALARM
        rig.predictor.feedback(incident.id, "U0ALICE", verdict)
        rig.predictor.feedback(incident.id, "U0BOB", predictions.FALSE_ALARM)
        noisy(rig, 35, seed=10 + episode)  # clears, and past the detector's refractory
        assert anomaly_incidents(store) == []
    assert len(set(ids)) == 3  # each episode its own incident
    assert "<@U0ALICE> marked this prediction useful." in thread_replies(store, ids[0])[0]
    last = thread_replies(store, ids[2])
    assert any("anomaly precision so far: 0% (0 useful of 3)" in line for line in last)
    assert "3 false alarms on api latency: its anomaly threshold rises from 0.50 to 0.75." in last
    raised = predictions.raised_thresholds(store)[("anomaly", "api||latency")]
    assert raised.level == 1 and raised.value == 0.75
    events = db.scalar(store, "SELECT count(*) FROM events WHERE kind = 'prediction.feedback'")
    assert events == 6
    reloaded = Rig(store, tmp_path)  # the raise is stored: a restart keeps it
    assert reloaded.predictor.thresholds.anomaly_for(["api||latency"]) == {"api||latency": 0.75}
    rig.run(0.5)  # the next episode is judged against the raised threshold
    [incident] = anomaly_incidents(store)
    assert "(threshold 0.75)" in incident.summary
    assert "on this metric so far: 3 false alarms of 3 judged" in incident.summary


def test_feedback_on_a_rule_incident_is_refused(store, tmp_path) -> None:
    rig = Rig(store, tmp_path)
    rig.run(3.0, Status.CRITICAL)
    rig.run(3.0, Status.CRITICAL)
    [incident] = rows.open_incidents(store)
    with pytest.raises(NotAPrediction, match="is not a prediction"):
        rig.predictor.feedback(incident.id, "U0ALICE", predictions.USEFUL)


def test_with_every_model_off_scikit_learn_is_never_imported() -> None:
    code = (
        "import sys, bot.runtime, bot.cli, bot.control, bot.slack.app\n"
        "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def record_history(rig: Rig, hours: float, seed: int = 5) -> None:
    """``hours`` of stored latency samples before the rig's clock, every 30 s: a 20-minute
    climb ends in a rule incident every 2 hours (down 5 minutes), flat noise otherwise."""
    rnd = random.Random(seed)
    store, start = rig.store, rig.clock.now() - hours * 3600
    series = samples.series_id(store, "api", "", "latency")
    rows_, failures = [], []
    t = start
    while t < rig.clock.now() - 600:
        phase = (t - start) % 7200
        if phase < 5400:
            value = 0.05 + rnd.uniform(-0.005, 0.005)
        elif phase < 6600:
            value = 0.05 + 0.2 * (phase - 5400) / 1200 + rnd.uniform(-0.005, 0.005)
        else:
            if phase - 6600 < 30:
                failures.append(t)
            t += 30
            continue
        rows_.append((series, t, value))
        t += 30
    with store.transaction() as conn:
        conn.executemany("INSERT INTO samples (series, at, value) VALUES (?, ?, ?)", rows_)
        for at in failures:
            for current, previous in ((Status.CRITICAL, Status.OK), (Status.OK, Status.CRITICAL)):
                rig.alerting.handle(
                    Transition(
                        fingerprint="api||rule",
                        check="api",
                        subject="",
                        previous=previous,
                        current=current,
                        severity=Severity.CRITICAL,
                        summary="api is down",
                        at=at if current is Status.CRITICAL else at + 600,
                    )
                )


async def test_a_high_failure_risk_opens_a_risk_incident_with_its_top_features(
    store, tmp_path
) -> None:
    rig = Rig(store, tmp_path, anomaly=False, forecast=False)
    report = rig.predictor.report("api")
    assert report["risks"][0]["state"] == "learning"
    record_history(rig, 20)
    await rig.predictor.retrain(force=True)
    status = rig.predictor.risks["api"].status()
    assert status.state.value == "ready", status
    assert status.n_failures >= 3
    noisy(rig, 60)
    assert [i for i in rows.open_incidents(store) if i.kind == "risk"] == []
    for step in range(1, 121):  # the same climb as before each past failure
        rig.run(0.05 + 0.2 * step / 240)
        if [i for i in rows.open_incidents(store) if i.kind == "risk"]:
            break
    [incident] = [i for i in rows.open_incidents(store) if i.kind == "risk"]
    assert incident.fingerprint == "api||risk" and incident.severity is Severity.WARNING
    assert incident.summary.startswith("api is likely to fail within 15 m: risk ")
    assert "contributing: latency:" in incident.summary
    assert [i.kind for i in rows.open_incidents(store)] == ["risk"]  # the rule is quiet
    [stored] = predictions.recent(store, 0.0, check="api")
    assert stored.kind == "risk" and stored.detail["top"]


async def test_recent_rows_are_kept_only_for_a_check_whose_risk_model_is_ready(
    store, tmp_path
) -> None:
    rig = Rig(store, tmp_path, anomaly=False, forecast=False)
    record_history(rig, 20)
    noisy(rig, 70)  # 350 s: more than one window
    assert rig.predictor.history == {}  # learning: nothing predicts from rows, none are kept

    await rig.predictor.retrain(force=True)

    assert rig.predictor.risks["api"].status().state is RiskState.READY
    now = rig.clock.now()
    kept = list(rig.predictor.history["api"])
    stored = [r for r in check_samples(store, "api", now - LOOKBACK) if r[0] > now - LOOKBACK]
    assert kept == stored  # a whole window at once, from the store
    assert len(kept) == LOOKBACK / 5 and kept[-1][0] == now
    rig.run(0.05)
    assert rig.predictor.history["api"][-1] == (rig.clock.now(), {"latency": 0.05})
    assert len(rig.predictor.history["api"]) == LOOKBACK / 5  # the oldest row left


def test_a_check_may_set_its_own_anomaly_threshold(store, tmp_path) -> None:
    rig = Rig(store, tmp_path, spec={"anomaly_threshold": 0.9})
    noisy(rig, 100)
    rig.run(3.0)
    [incident] = anomaly_incidents(store)
    assert "(threshold 0.90)" in incident.summary


def test_a_state_saved_with_other_parameters_is_refused_as_a_mismatch(
    store, tmp_path, caplog
) -> None:
    rig = Rig(store, tmp_path)
    noisy(rig, 20)
    rig.predictor.save()
    with caplog.at_level(logging.WARNING):
        other = Rig(store, tmp_path, warmup=60)
    assert other.predictor.files.refused == ["anomaly"]
    assert other.predictor.detector is not None and other.predictor.detector.series_ == {}
    assert "saved model state has params" in caplog.text
    assert other.predictor.forecaster is not None and other.predictor.forecaster.series_
