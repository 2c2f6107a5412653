"""The scheduled retrain hands the heap's free pages back as soon as it is done: a save builds
the models' arrays and the fitted forests arrive as a pickle, a few MB that would otherwise
stay resident until the next minute's trim (issue 15)."""

from __future__ import annotations

import pytest

from bot.runtime import jobs


class Predictor:
    def __init__(self, done: list[str]) -> None:
        self.done = done

    async def retrain(self, *, force: bool = False) -> None:
        self.done.append("retrain")


async def test_the_retrain_job_trims_the_heap_right_after_the_retrain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done: list[str] = []
    monkeypatch.setattr(jobs, "trim_heap", lambda: done.append("trim"))
    await jobs.retrain_job(Predictor(done))()  # type: ignore[arg-type]
    assert done == ["retrain", "trim"]
