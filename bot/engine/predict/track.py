"""Failure-risk's track record on the store's own history: recall and lead time.

Precision comes from the feedback buttons (was a warning worth it?); recall and lead time
come from what happened: of the check's rule incidents (the failures), how many had a
predicted-failure incident open in the ``horizon`` before them, and how long before the
failure that warning opened. Counted from the risk model's first fit (``since``): failures
before it could not have been predicted by it. Pure: the store's rows in, numbers out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

Span = tuple[float, float | None]  # (opened, resolved or None while open)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackRecord:
    """``failures`` counted, ``predicted`` of them warned in time, the lead of each."""

    failures: int
    predicted: int
    leads: tuple[float, ...]

    @property
    def recall(self) -> float | None:
        return self.predicted / self.failures if self.failures else None

    @property
    def median_lead(self) -> float | None:
        return statistics.median(self.leads) if self.leads else None


def track_record(
    failures: Sequence[Span], warnings: Sequence[Span], horizon: float, since: float | None
) -> TrackRecord:
    """A failure opened at ``t`` (at or after ``since``) was predicted when a warning opened
    before ``t`` was still open at ``t - horizon`` or later; its lead is ``t`` minus the
    earliest such warning's opening."""
    counted, leads = 0, []
    for opened, _ in failures:
        if since is None or opened < since:
            continue
        counted += 1
        starts = [
            w_open
            for w_open, w_closed in warnings
            if w_open < opened and (w_closed is None or w_closed >= opened - horizon)
        ]
        if starts:
            leads.append(opened - min(starts))
    return TrackRecord(failures=counted, predicted=len(leads), leads=tuple(leads))
