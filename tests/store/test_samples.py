"""bot.store.samples: one sample per value, and the sparkline's bucket averages."""

from __future__ import annotations

from pathlib import Path

from bot.store import open_store, samples
from checks.base import Observation, Status

T0 = 1_700_000_000.0


def test_each_value_is_a_sample_and_buckets_average_them(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    observations = [
        Observation(
            check="api",
            status=Status.OK,
            summary="ok",
            values={"latency": value, "code": 200},
            at=T0 + offset,
        )
        for offset, value in ((0, 1.0), (10, 3.0), (70, 5.0))
    ]
    with store.transaction():
        samples.add_samples(store, observations)
    assert samples.count_samples(store) == 6
    assert samples.find_series(store, "api", "", "latency") is not None
    assert samples.find_series(store, "api", "", "missing") is None
    assert samples.bucket_averages(store, "api", "", "latency", T0, 60) == [2.0, 5.0]
    assert samples.bucket_averages(store, "nope", "", "latency", T0, 60) == []
    store.close()
