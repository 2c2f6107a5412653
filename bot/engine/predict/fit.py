"""Model fits in a short-lived worker process, so the monitor never imports scikit-learn.

Scoring needs only numpy (the forests are compiled to flat arrays); fitting needs
scikit-learn, and importing it (with the SciPy it pulls in) adds about 90 MB of RSS that a
process never gives back. A worker thread would import it into selfreg itself, so each
retrain starts one ``spawn`` process (``FitPool``: a ``ProcessPoolExecutor`` with one
worker), runs its fits there, and shuts it down, which returns that memory to the OS. ``spawn``,
not ``fork``: a forked child would share the event loop's sockets, threads and locks.

Inputs and outputs cross the process boundary pickled, so they are plain values: a
``TrainingSnapshot`` of arrays, the store's path, parameters as dicts in; fitted state as
``state_dict``-style (arrays, dict) pairs out, never a scikit-learn object (a fit that raised
comes back as text, raised here as ``FitFailed``). Each call also
returns the worker's pid, so a test (and a log line) can tell the fit ran elsewhere. The
event loop only awaits: it never blocks on a fit or on the worker's start and stop.
``refit_anomaly`` and ``refit_risks`` are the loop's half: send a fit, rebuild its result.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from bot import messages
from bot.config import ModelsSettings
from bot.engine.predict.history import fit_risk_models
from bot.errors import FitFailed
from models.anomaly import AnomalyDetector, GroupStates, fit_group_states, group_models_from_states
from models.base import TrainingSnapshot
from models.failure import FailureRisk

log = logging.getLogger(__name__)

T = TypeVar("T")
PARENT_CHECK_EVERY = 1.0
"""How often a worker looks whether selfreg is still its parent (one wake a second)."""
RiskStates = dict[str, tuple[dict[str, np.ndarray], dict[str, Any]]]
"""Fitted failure-risk models as ``FailureRisk.state_dict`` output, by check."""


def _exit_with(parent: int) -> None:
    """Worker initializer: end the worker once selfreg is gone. A ``kill -9`` of selfreg never
    shuts the pool down, and the worker would wait on its call queue for ever (it holds that
    queue's write end itself, so it never reads end-of-file)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_EVERY)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _with_pid(fit: Callable[..., T], *args: Any) -> tuple[int, T | None, str | None]:
    """Run ``fit`` in the worker: (the worker's pid, the result, None), or (pid, None, the
    error and its traceback as text) when it raised."""
    try:
        return os.getpid(), fit(*args), None
    except Exception:  # sent back as text: unpickling a scikit-learn error would import it
        return os.getpid(), None, traceback.format_exc()


def anomaly_states(snapshot: TrainingSnapshot, params: Mapping[str, Any]) -> GroupStates:
    """One forest per group of ``snapshot`` (``GroupForest(**params)``), as plain state."""
    return fit_group_states(snapshot, params)


def risk_states(
    db_path: Path, checks: Iterable[str], horizon: float, threshold: float
) -> RiskStates:
    """One failure-risk model per check, fitted on the store's history, as plain state."""
    fitted = fit_risk_models(db_path, checks, horizon, threshold)
    return {check: model.state_dict() for check, model in fitted.items()}


class FitPool:
    """One spawned worker process for the fits of one retrain; ``async with`` starts nothing
    until the first ``run`` and shuts the worker down on exit (without blocking the loop)."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with,
            initargs=(os.getpid(),),
        )
        self.pids: list[int] = []

    async def run(self, fit: Callable[..., T], *args: Any) -> T:
        """``fit(*args)`` in the worker process; ``FitFailed`` if it raised there."""
        loop = asyncio.get_running_loop()
        pid, result, error = await loop.run_in_executor(self._pool, _with_pid, fit, *args)
        self.pids.append(pid)
        if error is not None:
            raise FitFailed(fit.__name__, pid, error)
        return result  # type: ignore[return-value]

    async def __aenter__(self) -> FitPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None:  # cancelled (selfreg stopping) or failed: do not wait for a fit
            # ProcessPoolExecutor has no public way to stop a running call before 3.14
            processes = getattr(self._pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)


async def refit_anomaly(pool: FitPool, detector: AnomalyDetector, now: float) -> None:
    """Refit the detector's group forests in the worker and install them; when the fit fails
    the old forests stay (logged; the detector's next ``fit_due`` tries again)."""
    snapshot = detector.snapshot(now)
    params = detector.template.get_params(deep=False)
    try:
        states = await pool.run(anomaly_states, snapshot, params)
        detector.install(group_models_from_states(states))
    except Exception:  # keep the old forests; the next fit_due tries again
        log.exception(messages.retrain_failed("anomaly"))


async def refit_risks(
    pool: FitPool, db_path: Path, checks: Iterable[str], settings: ModelsSettings
) -> dict[str, FailureRisk] | None:
    """Fit one failure-risk model per check in the worker, rebuilt here from their state;
    None (logged) when the fit failed: the previous models stay."""
    try:
        states = await pool.run(
            risk_states, db_path, list(checks), settings.horizon, settings.risk_threshold
        )
        risks = {}
        for check, (arrays, meta) in states.items():
            model = FailureRisk(horizon=settings.horizon, threshold=settings.risk_threshold)
            model.load_state_dict(arrays, meta)
            risks[check] = model
    except Exception:
        log.exception(messages.retrain_failed("failure-risk"))
        return None
    return risks
