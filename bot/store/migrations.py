"""Registered, append-only schema migrations, applied at every start.

Never edit a migration that has shipped: add ``m00N_...`` below it instead, and its name to
``bot/store/migration_names.py``.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("selfreg")


@MIGRATIONS()
def m001_core(db: Database) -> None:
    """Events, latest state, metric series and rollups, check state, transitions, outbox."""
    db.executescript(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_at ON events (at);
        CREATE INDEX events_kind_at ON events (kind, at);

        CREATE TABLE state (
            "check" TEXT NOT NULL,
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            summary TEXT NOT NULL,
            "values" TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            at REAL NOT NULL,
            confirmed TEXT NOT NULL,
            confirmed_at REAL NOT NULL,
            streak INTEGER NOT NULL DEFAULT 1,
            duration REAL,
            PRIMARY KEY ("check", subject)
        );

        CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            "check" TEXT NOT NULL,
            subject TEXT NOT NULL,
            metric TEXT NOT NULL,
            UNIQUE ("check", subject, metric)
        );
        CREATE TABLE samples (
            series INTEGER NOT NULL REFERENCES series (id),
            at REAL NOT NULL,
            value REAL NOT NULL
        );
        CREATE INDEX samples_series_at ON samples (series, at);
        CREATE INDEX samples_at ON samples (at);
        CREATE TABLE rollups (
            series INTEGER NOT NULL REFERENCES series (id),
            minute INTEGER NOT NULL,
            count INTEGER NOT NULL,
            min REAL NOT NULL,
            max REAL NOT NULL,
            sum REAL NOT NULL,
            PRIMARY KEY (series, minute)
        ) WITHOUT ROWID;
        CREATE INDEX rollups_minute ON rollups (minute);

        CREATE TABLE check_state (
            "check" TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY ("check", key)
        ) WITHOUT ROWID;

        CREATE TABLE transitions (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            fingerprint TEXT NOT NULL,
            "check" TEXT NOT NULL,
            subject TEXT NOT NULL,
            kind TEXT NOT NULL,
            previous TEXT NOT NULL,
            current TEXT NOT NULL,
            severity TEXT NOT NULL,
            summary TEXT NOT NULL,
            "values" TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX transitions_fingerprint_at ON transitions (fingerprint, at);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            ref INTEGER,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            claimed_until REAL,
            delivered_at REAL,
            failed_at REAL,
            last_error TEXT
        );
        CREATE INDEX outbox_pending ON outbox (channel, next_attempt_at)
            WHERE delivered_at IS NULL AND failed_at IS NULL;

        CREATE TABLE components (
            name TEXT PRIMARY KEY,
            pid INTEGER,
            create_time REAL,
            started_at REAL,
            restarts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            last_exit_code INTEGER,
            last_exit_at REAL
        );
        """
    )


@MIGRATIONS()
def m002_incidents(db: Database) -> None:
    """Incidents (one Slack message each), silences, and storm digests."""
    db.executescript(
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            "check" TEXT NOT NULL,
            subject TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            state TEXT NOT NULL,
            status TEXT NOT NULL,
            summary TEXT NOT NULL,
            "values" TEXT NOT NULL DEFAULT '{}',
            opened_at REAL NOT NULL,
            last_seen_at REAL NOT NULL,
            resolved_at REAL,
            count INTEGER NOT NULL DEFAULT 1,
            acked_by TEXT,
            acked_at REAL,
            silence_id INTEGER,
            escalation_step INTEGER NOT NULL DEFAULT 0,
            reminded_at REAL,
            changes TEXT NOT NULL DEFAULT '[]',
            runbook_url TEXT,
            digest_id INTEGER,
            slack_channel TEXT,
            slack_ts TEXT,
            synced_at REAL
        );
        CREATE INDEX incidents_fingerprint ON incidents (fingerprint, id);
        CREATE INDEX incidents_open ON incidents (state) WHERE state != 'resolved';
        CREATE INDEX incidents_opened_at ON incidents (opened_at);

        CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            matcher TEXT NOT NULL,
            starts_at REAL NOT NULL,
            ends_at REAL,
            until_resolved INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL,
            created_at REAL NOT NULL,
            removed_at REAL,
            removed_by TEXT
        );

        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            opened_at REAL NOT NULL,
            slack_channel TEXT,
            slack_ts TEXT
        );
        """
    )


@MIGRATIONS()
def m003_remediation(db: Database) -> None:
    """Proposals, action runs, the hash-chained audit trail, and switches (the kill switch)."""
    db.executescript(
        """
        CREATE TABLE proposals (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER,
            action TEXT NOT NULL,
            state TEXT NOT NULL,
            mode TEXT NOT NULL,
            risk TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            approvals TEXT NOT NULL DEFAULT '[]',
            decided_by TEXT,
            decided_at REAL,
            reason TEXT NOT NULL DEFAULT '',
            run_id INTEGER
        );
        CREATE INDEX proposals_incident ON proposals (incident_id);
        CREATE INDEX proposals_pending ON proposals (state) WHERE state IN ('proposed', 'approved', 'running');

        CREATE TABLE action_runs (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER,
            action TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL,
            dry_run INTEGER NOT NULL DEFAULT 0,
            ok INTEGER,
            exit_code INTEGER,
            summary TEXT NOT NULL DEFAULT '',
            output TEXT NOT NULL DEFAULT '',
            output_digest TEXT,
            verified INTEGER,
            verification TEXT
        );
        CREATE INDEX action_runs_action ON action_runs (action, started_at);

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT NOT NULL,
            previous TEXT NOT NULL,
            digest TEXT NOT NULL
        );
        CREATE INDEX audit_at ON audit (at);

        CREATE TABLE switches (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            changed_at REAL NOT NULL
        );
        """
    )


@MIGRATIONS()
def m004_component_instances(db: Database) -> None:
    """One row per running copy of a component: what a restarted selfreg needs to re-adopt it.

    ``boot_id`` + ``pid`` + ``start_ticks`` identify the process beyond pid reuse, ``argv`` is
    the command it was started with; the ``components`` table keeps one summary row per
    component for ``selfreg status``.
    """
    db.executescript(
        """
        CREATE TABLE component_instances (
            name TEXT NOT NULL,
            instance INTEGER NOT NULL,
            pid INTEGER,
            start_ticks INTEGER,
            boot_id TEXT,
            create_time REAL,
            argv TEXT,
            started_at REAL,
            restarts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            last_exit_code INTEGER,
            last_exit_at REAL,
            PRIMARY KEY (name, instance)
        ) WITHOUT ROWID;
        """
    )


@MIGRATIONS()
def m005_slack_posts(db: Database) -> None:
    """Top-level Slack posts begun and not yet recorded: what makes a post survive ``kill -9``.

    A row is written before ``chat.postMessage`` and deleted once the message's ts is stored.
    A row still here at the next attempt means the previous one may have reached Slack: the
    notifier looks for the message (by its metadata) before posting again.
    """
    db.executescript(
        """
        CREATE TABLE slack_posts (
            key TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            started_at REAL NOT NULL
        ) WITHOUT ROWID;
        """
    )


@MIGRATIONS()
def m006_predictions(db: Database) -> None:
    """What the predictors said (detections, forecasts inside the horizon, risks over the
    threshold), what people answered (Useful / False alarm), and the thresholds that rose
    after repeated false alarms."""
    db.executescript(
        """
        CREATE TABLE predictions (
            id INTEGER PRIMARY KEY,
            "check" TEXT NOT NULL,
            subject TEXT NOT NULL,
            kind TEXT NOT NULL,
            score REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            at REAL NOT NULL
        );
        CREATE INDEX predictions_check_at ON predictions ("check", at);
        CREATE INDEX predictions_at ON predictions (at);

        CREATE TABLE prediction_feedback (
            incident_id INTEGER NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            verdict TEXT NOT NULL,
            at REAL NOT NULL,
            PRIMARY KEY (incident_id, actor)
        );
        CREATE INDEX prediction_feedback_target ON prediction_feedback (kind, target, at);

        CREATE TABLE prediction_thresholds (
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            level INTEGER NOT NULL,
            value REAL NOT NULL,
            raised_at REAL NOT NULL,
            PRIMARY KEY (kind, target)
        );
        """
    )


@MIGRATIONS()
def m007_audit_keyed(db: Database) -> None:
    """Which digest each audit row carries: ``sha256`` (rows written before the trail was
    keyed) or ``hmac-sha256:<key id>`` (keyed with a key kept outside the store)."""
    db.executescript("ALTER TABLE audit ADD COLUMN scheme TEXT NOT NULL DEFAULT 'sha256';")


@MIGRATIONS()
def m008_incident_reopened_at(db: Database) -> None:
    """When an incident last reopened: its escalation steps count from there, not from its
    first opening (a reopened incident used to take every step at once)."""
    db.executescript("ALTER TABLE incidents ADD COLUMN reopened_at REAL;")


@MIGRATIONS()
def m009_sync_runs(db: Database) -> None:
    """One row per run of a ``sync`` check: files and bytes moved, how long, rsync's exit."""
    db.executescript(
        """
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            at REAL NOT NULL,
            status TEXT NOT NULL,
            files INTEGER,
            bytes INTEGER,
            duration REAL,
            exit_status INTEGER,
            summary TEXT NOT NULL
        );
        CREATE INDEX sync_runs_name_at ON sync_runs (name, at);
        """
    )


@MIGRATIONS()
def m010_regulation(db: Database) -> None:
    """Regulation (issue 17): every decision of a scale rule or a detector, with the signal's
    values that caused it, and the runs scheduled for a quiet window."""
    db.executescript(
        """
        CREATE TABLE regulation_decisions (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            rule TEXT NOT NULL,
            direction INTEGER NOT NULL DEFAULT 0,
            action TEXT NOT NULL,
            mode TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            signal TEXT NOT NULL DEFAULT '{}',
            proposal_id INTEGER,
            incident_id INTEGER
        );
        CREATE INDEX regulation_decisions_rule ON regulation_decisions (rule, at);

        CREATE TABLE scheduled_runs (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL,
            run_at REAL NOT NULL,
            state TEXT NOT NULL,
            scheduled_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            announced_at REAL,
            finished_at REAL
        );
        CREATE INDEX scheduled_runs_state ON scheduled_runs (state, run_at);
        """
    )


@MIGRATIONS()
def m011_scheduled_run_door(db: Database) -> None:
    """The door a quiet-window run was scheduled through (issue 17): its run is audited with
    the scheduler's door naming it, beside who scheduled it."""
    db.execute("ALTER TABLE scheduled_runs ADD COLUMN door TEXT NOT NULL DEFAULT '{}'")


@MIGRATIONS()
def m012_recent_samples(db: Database) -> None:
    """Samples land in ``samples_recent``, which has no index, so a round's rows append at its
    end; every few minutes they are filed into ``samples`` (indexed by series and by time) in
    one transaction. ``all_samples`` is both tables: what every reader reads
    (``bot/store/samples.py``)."""
    db.executescript(
        """
        CREATE TABLE samples_recent (
            series INTEGER NOT NULL REFERENCES series (id),
            at REAL NOT NULL,
            value REAL NOT NULL
        );
        CREATE VIEW all_samples AS
            SELECT series, at, value FROM samples
            UNION ALL SELECT series, at, value FROM samples_recent;
        """
    )
