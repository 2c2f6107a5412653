"""Availability per check over a window, from confirmed transitions (no extra samples kept)."""

from __future__ import annotations

from bot.store.db import Store


def availability(store: Store, check: str, now: float, window: float) -> float | None:
    """Fraction of ``window`` in which every subject of ``check`` was ok; None if never seen.

    A subject counts as down from a transition to a failing status until the next transition
    back to ok, as the transitions table recorded them.
    """
    start = now - window
    subjects = [
        r[0] for r in store._conn.execute('SELECT subject FROM state WHERE "check" = ?', (check,))
    ]
    if not subjects:
        return None
    down: list[tuple[float, float]] = []
    for subject in subjects:
        before = store._conn.execute(
            'SELECT current FROM transitions WHERE "check" = ? AND subject = ? AND at < ? '
            "ORDER BY at DESC LIMIT 1",
            (check, subject, start),
        ).fetchone()
        failing_since = start if before is not None and before[0] != "ok" else None
        for at, current in store._conn.execute(
            'SELECT at, current FROM transitions WHERE "check" = ? AND subject = ? AND at >= ? ORDER BY at',
            (check, subject, start),
        ):
            if current != "ok" and failing_since is None:
                failing_since = at
            elif current == "ok" and failing_since is not None:
                down.append((failing_since, at))
                failing_since = None
        if failing_since is not None:
            down.append((failing_since, now))
    return 1.0 - _covered(down) / window


def _covered(spans: list[tuple[float, float]]) -> float:
    """Total length of the union of spans."""
    total, end = 0.0, float("-inf")
    for left, right in sorted(spans):
        left = max(left, end)
        if right > left:
            total += right - left
            end = right
    return total
