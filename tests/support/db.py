"""Reading a store's rows in tests: through a connection of the test's own, never the store's.

``rows`` and ``scalar`` open the store's file read-only (WAL: they see every committed
transaction of the store under test and never disturb it), so an assertion reads what was
committed, as another process would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from bot.store import Store


def _connect(store: Store) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row ``sql`` returns from the store's file."""
    conn = _connect(store)
    try:
        return conn.execute(sql, tuple(params)).fetchall()
    finally:
        conn.close()


def scalar(store: Store, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row ``sql`` returns (None when there is no row)."""
    found = rows(store, sql, params)
    return found[0][0] if found else None


def execute(store: Store, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Write with a connection of the test's own (to set up or tamper with rows), committed
    at once; returns what the statement returns (``RETURNING``)."""
    conn = sqlite3.connect(store.path, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            return conn.execute(sql, tuple(params)).fetchall()
    finally:
        conn.close()


def executemany(store: Store, sql: str, params: Sequence[Sequence[Any]]) -> None:
    """``execute`` for many parameter rows, in one transaction."""
    conn = sqlite3.connect(store.path, timeout=5)
    try:
        with conn:
            conn.executemany(sql, [tuple(p) for p in params])
    finally:
        conn.close()
