"""Where Slack messages live: each incident's and digest's (channel, ts), and posts in flight.

A ``slack_posts`` row is written just before a top-level message is posted and removed in
the transaction that stores the message's ts: finding one after a restart means a post may
have reached Slack without its ts being recorded (see ``SlackNotifier._post_once``).
"""

from __future__ import annotations

from bot.store.db import Store


def pending_post(store: Store, key: str) -> tuple[str, float] | None:
    """(channel, started_at) of a post begun under ``key`` and never recorded."""
    row = store._conn.execute(
        "SELECT channel, started_at FROM slack_posts WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None else (str(row["channel"]), float(row["started_at"]))


def begin_post(store: Store, key: str, channel: str, started_at: float) -> None:
    """Record that a post under ``key`` is about to be made."""
    store._conn.execute(
        "INSERT OR REPLACE INTO slack_posts (key, channel, started_at) VALUES (?, ?, ?)",
        (key, channel, started_at),
    )


def incident_posted(
    store: Store, incident_id: int, key: str, channel: str, ts: str, now: float
) -> None:
    """Store an incident message's place and end its post in flight, in one transaction."""
    with store.transaction():
        store._conn.execute(
            "UPDATE incidents SET slack_channel = ?, slack_ts = ?, synced_at = ? WHERE id = ?",
            (channel, ts, now, incident_id),
        )
        store._conn.execute("DELETE FROM slack_posts WHERE key = ?", (key,))


def incident_synced(store: Store, incident_id: int, now: float) -> None:
    """The incident's message shows it as of ``now``."""
    store._conn.execute("UPDATE incidents SET synced_at = ? WHERE id = ?", (now, incident_id))


def digest_posted(store: Store, digest_id: int, key: str, channel: str, ts: str) -> None:
    """Store a digest message's place and end its post in flight, in one transaction."""
    with store.transaction():
        store._conn.execute(
            "UPDATE digests SET slack_channel = ?, slack_ts = ? WHERE id = ?",
            (channel, ts, digest_id),
        )
        store._conn.execute("DELETE FROM slack_posts WHERE key = ?", (key,))


def digest_place(store: Store, digest_id: int) -> tuple[str | None, str | None] | None:
    """(channel, ts) of a digest's message (both None before it is posted); None if no such
    digest exists."""
    row = store._conn.execute(
        "SELECT slack_channel, slack_ts FROM digests WHERE id = ?", (digest_id,)
    ).fetchone()
    return None if row is None else (row["slack_channel"], row["slack_ts"])
