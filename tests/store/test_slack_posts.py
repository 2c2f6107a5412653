"""bot.store.slack_posts: a post in flight until its ts is stored with the incident or digest."""

from __future__ import annotations

from pathlib import Path

from bot.records import Incident, Severity
from bot.store import incidents, open_store, slack_posts
from checks.base import Status

T0 = 1_700_000_000.0


def test_posts_in_flight_end_when_the_ts_is_stored(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        incident = incidents.save_incident(
            store,
            Incident(
                fingerprint="api||rule",
                check="api",
                subject="",
                severity=Severity.CRITICAL,
                status=Status.CRITICAL,
                summary="down",
                opened_at=T0,
                last_seen_at=T0,
            ),
        )
        digest = incidents.create_digest(store, T0)
    slack_posts.begin_post(store, "incident:1", "C1", T0)
    assert slack_posts.pending_post(store, "incident:1") == ("C1", T0)
    slack_posts.incident_posted(store, incident.id, "incident:1", "C1", "111.1", T0 + 1)
    assert slack_posts.pending_post(store, "incident:1") is None
    stored = incidents.get_incident(store, incident.id)
    assert stored is not None and (stored.slack_channel, stored.slack_ts) == ("C1", "111.1")
    slack_posts.incident_synced(store, incident.id, T0 + 9)
    assert incidents.get_incident(store, incident.id).synced_at == T0 + 9  # type: ignore[union-attr]

    assert slack_posts.digest_place(store, digest) == (None, None)
    assert slack_posts.digest_place(store, digest + 1) is None
    slack_posts.begin_post(store, f"digest:{digest}", "C1", T0)
    slack_posts.digest_posted(store, digest, f"digest:{digest}", "C1", "222.2")
    assert slack_posts.digest_place(store, digest) == ("C1", "222.2")
    assert slack_posts.pending_post(store, f"digest:{digest}") is None
    store.close()
