"""The ``state`` table: each check's latest state per subject (see ``store.observations``)."""

from __future__ import annotations

from collections.abc import Collection

from bot.store.db import Store


def forget_checks(store: Store, checks: Collection[str]) -> None:
    """Delete the latest-state rows of ``checks`` (removed from the config by a reload)."""
    if not checks:
        return
    marks = ", ".join("?" for _ in checks)
    with store.transaction() as conn:
        conn.execute(f'DELETE FROM state WHERE "check" IN ({marks})', list(checks))
