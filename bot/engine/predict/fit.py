"""Model fits in a short-lived worker process, so the monitor never imports scikit-learn.

Scoring needs only numpy (the forests are compiled to flat arrays); fitting needs
scikit-learn, and importing it (with the SciPy it pulls in) adds about 90 MB of RSS that a
process never gives back. A worker thread would import it into selfreg itself, so each
retrain starts one process (``FitPool``: ``python -m bot.engine.fit_worker``,
started with ``asyncio.create_subprocess_exec``), runs its fits there, and closes its stdin,
which ends it and returns that memory to the OS. Not ``multiprocessing``: its first pool
starts a ``resource_tracker`` process that stays for selfreg's whole life (about 12 MB of
RSS for nothing: a fit shares no semaphore or memory segment), and its pool adds threads.
A fresh interpreter, not a fork: a forked child would share the event loop's sockets,
threads and locks.

Inputs and outputs cross the process boundary pickled, so they are plain values: a
``TrainingSnapshot`` of arrays, the store's path, parameters as dicts in; fitted state as
``state_dict``-style (arrays, dict) pairs out, never a scikit-learn object (a fit that raised
comes back as text, raised here as ``FitFailed``). Each call also returns the worker's pid,
so a test (and a log line) can tell the fit ran elsewhere. The event loop only awaits: it
never blocks on a fit or on the worker's start and stop. The worker ends at end-of-file on
its stdin, so a ``kill -9`` of selfreg ends it too. ``refit_anomaly`` and ``refit_risks``
are the loop's half: send a fit, rebuild its result.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from bot import messages
from bot.config import ModelsSettings
from bot.engine.fit_worker import HEADER, frame
from bot.engine.predict.history import fit_risk_models
from bot.errors import FitFailed
from common.python_child import python_child_env
from models.anomaly import AnomalyDetector, GroupStates, fit_group_states, group_models_from_states
from models.base import TrainingSnapshot
from models.failure import FailureRisk

log = logging.getLogger(__name__)

T = TypeVar("T")
WORKER = "bot.engine.fit_worker"
RiskStates = dict[str, tuple[dict[str, np.ndarray], dict[str, Any]]]
"""Fitted failure-risk models as ``FailureRisk.state_dict`` output, by check."""


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
    """One worker process for the fits of one retrain; ``async with`` starts nothing until
    the first ``run`` and ends the worker on exit (without blocking the loop)."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.pids: list[int] = []

    async def _worker(self) -> asyncio.subprocess.Process:
        if self._process is None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", WORKER,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env=python_child_env(),
            )  # fmt: skip
        return self._process

    async def run(self, fit: Callable[..., T], *args: Any) -> T:
        """``fit(*args)`` in the worker process; ``FitFailed`` if it raised there."""
        async with self._lock:  # one call at a time on the pipe
            process = await self._worker()
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(frame((fit, args)))
            await process.stdin.drain()
            size = int.from_bytes(await process.stdout.readexactly(HEADER), "big")
            body = await process.stdout.readexactly(size)
        pid, result, error = pickle.loads(body)  # plain arrays and dicts: quick, on the loop
        self.pids.append(pid)
        if error is not None:
            raise FitFailed(getattr(fit, "__name__", repr(fit)), pid, error)
        return result  # type: ignore[no-any-return]

    async def __aenter__(self) -> FitPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if exc is not None and process.returncode is None:  # cancelled or failed: no waiting
            process.kill()
        elif process.stdin is not None:
            process.stdin.close()  # end-of-file: the worker ends
        await process.wait()


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
