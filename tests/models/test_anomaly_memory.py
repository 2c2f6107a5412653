"""The streaming stage's compact windows: only the features that cannot be recomputed are
kept (float32, growing with the metric), the others are recomputed exactly as they were
streamed, and a state saved before this layout (format 2) is read, not dropped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from models.anomaly import AnomalyDetector, fit_group_models, score_interval
from models.anomaly.groups import GroupRows
from models.anomaly.ring import Ring
from models.anomaly.windows import _Windows
from tests.models.test_anomaly import two_metric_group
from tests.models.test_anomaly_features import KEY, feed, sensor

DATA = Path(__file__).parent / "data"


def streamed_rows(detector: AnomalyDetector, values: list[float]) -> list[tuple[float, ...]]:
    """Feed ``values`` and return every row the windows took part in, as it was streamed."""
    rows: list[tuple[float, ...]] = []
    add = _Windows.add

    def spy(self: _Windows, row: tuple[float, ...], whole: bool, checked: bool = False) -> None:
        if whole:
            rows.append(row)
        add(self, row, whole, checked)

    _Windows.add = spy  # type: ignore[method-assign]
    try:
        feed(detector, values)
    finally:
        _Windows.add = add  # type: ignore[method-assign]
    return rows


@pytest.mark.parametrize(
    "params",
    [
        {},  # the shipped parameters, windows not yet full
        {"window": 300, "spread_span": 0, "drift_span": 24},  # full and wrapped; level > spread
        {"window": 300, "level_span": 1, "spread_span": 24},
    ],
)
def test_recomputed_features_equal_the_streamed_ones(params: dict) -> None:
    detector = AnomalyDetector(warmup=50, **params)
    rows = streamed_rows(detector, [v * 1e6 for v in sensor(1000, seed=5)])
    windows = detector.series_[KEY].windows
    n = min(len(rows), windows.ring.size)
    expected = np.array(rows[-n:]).T
    recomputed = windows.ring.features(n)
    scale = np.abs(expected).max(axis=1, keepdims=True) + 1.0
    assert np.all(np.abs(recomputed - expected) <= 1e-6 * scale)


def test_a_metric_keeps_float32_rings_no_longer_than_it_has_lived() -> None:
    detector = AnomalyDetector(warmup=50, drift_span=0)
    feed(detector, sensor(200))
    ring = detector.series_[KEY].windows.ring
    assert ring.values.typecode == ring.seasonal.typecode == "f"
    assert len(ring.values) == 200 - 50 + 50  # every learned sample, warm-up included
    assert ring.drift is None  # the slow level is off: nothing kept for it
    feed(detector, sensor(3000), start=200)
    assert len(ring.values) == ring.size + ring.lead == 2000 + 11


def test_a_value_far_from_zero_keeps_its_small_changes() -> None:
    detector = AnomalyDetector(warmup=50)
    big = [4e9 + v for v in sensor(1500, seed=2)]  # bytes near 4 GB, noise of about 1 byte
    results = feed(detector, big)
    assert sum(r is not None and r.detected for r in results) < 5
    ring = detector.series_[KEY].windows.ring
    assert abs(ring.offset - 4e9 - 20.0) < 5.0  # the window's median, not the first value
    assert float(np.abs(ring.chronological(ring.values)).max()) < 100.0


def test_a_state_saved_in_format_2_is_read_and_keeps_detecting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The file was written by selfreg at a2f1940 (state format 2: every feature of every
    row, float64), with the scores that detector gave the samples after it was saved."""
    with np.load(DATA / "anomaly_format2.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads((DATA / "anomaly_format2.json").read_text())
    assert meta["format"] == 2
    detector = AnomalyDetector(warmup=50)
    with caplog.at_level(logging.INFO, logger="models.anomaly"):
        detector.load_state_dict(arrays, meta)
    assert "format 2 read and converted to format 3 (1 series kept)" in caplog.text
    windows = detector.series_[KEY].windows
    assert len(windows.ring.values) == arrays["s0.windows"].shape[1]
    values, expected = arrays["expected.values"], arrays["expected.scores"]
    results = feed(detector, values.tolist(), start=250)
    scores = np.array([r.score for r in results])
    assert [i for i, r in enumerate(results) if r.detected] == list(np.flatnonzero(expected >= 0.5))
    # the converted windows hold ``lead`` (11) rows fewer: in these young windows (under 300
    # rows) that moves the scores a little, never across the threshold
    assert np.median(np.abs(scores - expected)) < 0.01 and np.abs(scores - expected).max() < 0.1


def test_group_rows_keep_the_last_rows_in_order_through_a_restart() -> None:
    rows = GroupRows(100, 4)
    for i in range(250):
        rows.append([i, -i, 0.5 * i, 1.0])
    kept = rows.array()
    assert len(rows) == 100 and rows.count == 250 and rows.data.dtype == np.float32
    assert kept[:, 0].tolist() == list(range(150, 250))
    restored = GroupRows.restore(100, kept, rows.count)
    for r in (rows, restored):
        r.append([250, -250, 125.0, 1.0])
    assert np.array_equal(restored.array(), rows.array()) and restored.count == 251
    young = GroupRows(100, 4)
    young.append([1, 2, 3, 4])
    young.append([1, 2, 3, 5])
    assert young.data is not None and len(young.data) == 64  # grows with the group, up to 100


def test_a_group_whose_rows_do_not_change_keeps_one_row() -> None:
    rows = GroupRows(100, 3)
    for _ in range(250):
        rows.append([0.0, 0.5, -0.5])
    assert rows.data is None and len(rows) == 100 and rows.count == 250
    assert rows.array().tolist() == [[0.0, 0.5, -0.5]] * 100
    restored = GroupRows.restore(100, rows.array(), rows.count)
    assert restored.data is None and restored.count == 250
    for r in (rows, restored):
        r.append([1.0, 0.5, -0.5])  # the first row that differs: the rows are stored again
    assert rows.data is not None and np.array_equal(rows.array(), restored.array())
    assert rows.array()[-1].tolist() == [1.0, 0.5, -0.5] and len(rows.array()) == 100


def test_a_group_fires_again_after_its_refractory_once_its_history_is_full() -> None:
    """The refractory hold counts rows recorded in all, not rows kept: with a full history
    (``group_rows``) a group's first detection must not silence it for good."""
    detector = AnomalyDetector(warmup=50, min_group_rows=100, group_rows=120, refractory=5)
    at = two_metric_group(detector, 150)
    detector.install(fit_group_models(detector.snapshot(at), detector.template))
    odd = [("h|cpu|a", 7.0), ("h|cpu|b", 3.0)]
    first = score_interval(detector, at + 60.0, odd)
    at = two_metric_group(detector, 10, seed=2)  # normal rows: the refractory passes
    again = score_interval(detector, at + 60.0, odd)
    assert [r.detected for r in first + again if r.metric == "h|cpu"] == [True, True]


def test_forgetting_a_metric_drops_its_series_and_the_rows_of_a_group_left_alone() -> None:
    detector = AnomalyDetector(warmup=50, min_group_rows=100)
    at = two_metric_group(detector, 150)
    detector.install(fit_group_models(detector.snapshot(at), detector.template))
    assert detector.forget(lambda key: not key.endswith("|b")) == ["h|cpu|b"]
    assert set(detector.series_) == {"h|cpu|a"} and detector.members_ == {"h|cpu": ["h|cpu|a"]}
    assert detector.group_history_ == {} and detector.group_models_ == {}
    results = score_interval(detector, at + 60.0, [("h|cpu|a", 5.0)])
    assert [r.metric for r in results] == ["h|cpu|a"]


def test_a_metric_that_does_not_move_keeps_no_rings_and_scores_as_if_it_did() -> None:
    """A flat metric keeps its one sample instead of two float32 rings; a change fills the
    rings. Scores and detections are those of rings kept all along."""
    values = [7.0] * 600 + sensor(2500, seed=3) + [21.0] * 500 + [35.0] + [21.0] * 50
    compact = AnomalyDetector(warmup=50)
    sizes = []
    for start, stop in ((0, 600), (600, len(values))):
        feed(compact, values[start:stop], start=start)
        ring = compact.series_[KEY].windows.ring
        sizes.append((ring.flat is not None, len(ring.values)))
    assert sizes == [(True, 0), (False, 2000 + 11)]

    store, squash = Ring.store, Ring.compact

    def store_in_rings(self: Ring, value: float, seasonal: float, drift: float) -> None:
        store(self, value, seasonal, drift)
        if self.flat is not None:
            self._unflatten()

    Ring.store, Ring.compact = store_in_rings, lambda self: None  # type: ignore[method-assign]
    try:
        kept = feed(AnomalyDetector(warmup=50), values)
    finally:
        Ring.store, Ring.compact = store, squash  # type: ignore[method-assign]
    again = feed(AnomalyDetector(warmup=50), values)
    got = np.array([r.score if r else -1.0 for r in again])
    want = np.array([r.score if r else -1.0 for r in kept])
    assert np.abs(got - want).max() < 1e-9
    assert [i for i, r in enumerate(again) if r and r.detected] == [
        i for i, r in enumerate(kept) if r and r.detected
    ]
    assert again[-51].detected  # the spike after the flat stretch


def test_a_flat_metric_is_saved_whole_and_restored_flat() -> None:
    detector = AnomalyDetector(warmup=50)
    feed(detector, [3.0] * 400)
    arrays, meta = detector.state_dict()
    restored = AnomalyDetector(warmup=50)
    restored.load_state_dict(arrays, meta)
    ring = restored.series_[KEY].windows.ring
    assert ring.flat is not None and len(ring.values) == 0
    assert arrays["s0.kept"].shape == (2, 400)  # the file's layout is unchanged
    assert feed(restored, [3.0, 9.0], start=400)[-1].detected


def test_rings_whose_samples_are_all_the_same_again_are_emptied() -> None:
    ring = Ring(100, 6, 12, drift=False)
    for i in range(50):
        ring.store(float(i % 7), 0.5 * (i % 3), 0.0)
    for _ in range(200):
        ring.store(5.0, 0.0, 0.0)
    ring.rebase(5.0)  # as a refresh does: the median of a flat window is its value
    before = ring.features(100)
    ring.compact()
    assert ring.flat == (5.0, 0.0, 0.0) and len(ring.values) == len(ring.seasonal) == 0
    assert np.array_equal(ring.features(100), before)
    ring.store(6.0, 0.0, 0.0)
    assert ring.flat is None and len(ring.values) == 111 and ring.column(0)[-2:].tolist() == [0, 1]
