"""The SQLite store: schema and migrations, writes of each interval, outbox, retention."""

from bot.store.db import Store, open_store

__all__ = ["Store", "open_store"]
