"""Opening the store: one SQLite file in WAL mode, migrations applied, one writer connection."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import messages
from bot.errors import StoreError
from bot.store.migration_names import pending_in

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5000
STORAGE_ERRORS = frozenset(  # the disk or another process, not the statement
    (
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
    )
)
SYNCHRONOUS = "FULL"  # fsync the WAL at each commit: see Store's docstring
PROBE_TIMEOUT_MS = 100  # /health asks on the loop: it must not wait out busy_timeout (5 s)
# The writer's page cache, KiB (SQLite's default is 2,048): it appends samples at the end of
# one table, files them every five minutes (``samples.file_recent``) and reads little, and
# the kernel's page cache holds the rest. A 2 MiB cache filled within minutes and stayed,
# 1 MB of a quiet selfreg's 80 (docs/benchmarks.md).
CACHE_KIB = 512


@dataclass(frozen=True, slots=True)
class WriteFault:
    """The store stopped taking writes (``error`` set) or takes them again (``error`` None:
    ``lasted`` seconds, ``refused`` write transactions failed in between)."""

    path: str
    error: str | None
    lasted: float = 0.0
    refused: int = 0


WriteFaultListener = Callable[[WriteFault], None]


def storage_refused(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying the storage refused (full, read-only, locked, I/O),
    not the statement."""
    code = getattr(exc, "sqlite_errorcode", 0) or 0
    return isinstance(exc, sqlite3.OperationalError) and (code & 0xFF) in STORAGE_ERRORS


class Store:
    """The selfreg database: a connection in autocommit mode plus explicit transactions.

    WAL with ``synchronous=FULL``: each COMMIT fsyncs the WAL before it returns, so a
    committed transaction survives a crash of selfreg (``kill -9``), a power loss and a file
    system that turns read-only on an error (ext4 ``errors=remount-ro`` drops what it had not
    written). NORMAL syncs only at checkpoints and lost the last seconds of commits there
    (docs/reliability.md); selfreg commits about once per interval and per status change, and
    FULL's fsync per commit costs well under a millisecond at the median (bench/commit_cost.py).
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._series: dict[tuple[str, str, str], int] = {}
        """Series ids already known, by (check, subject, metric): ``samples.series_id``'s."""
        self._busy_ms = BUSY_TIMEOUT_MS  # as open_store set it
        self.write_error: str | None = None
        """Why the last write transaction failed (disk full, read-only, locked), or None."""
        self._fault: tuple[float, int] = (0.0, 0)  # while write_error: (since, writes refused)
        self._fault_listeners: list[WriteFaultListener] = []
        self._refused_last: BaseException | None = None  # counted once, however often seen
        self.audit_key: bytes | None = None
        """The audit trail's key, found or made at the first ``audit.append`` (``audit_key``)."""

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction; roll back if it raises."""
        if self._conn.in_transaction:  # nested: part of the enclosing transaction
            yield self._conn
            return
        # while the store refuses writes, each attempt waits briefly, not the busy timeout:
        # the loop this runs on must keep checking and answering /health
        self._busy_timeout(PROBE_TIMEOUT_MS if self.write_error else BUSY_TIMEOUT_MS)
        changes = self._conn.total_changes
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:  # full, read-only, locked: said once, not per run
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self.write_refused(exc, lost=True)
            raise
        if self._conn.total_changes != changes:  # a commit that wrote nothing proves nothing
            self._write_ok()

    def write_refused(self, exc: sqlite3.OperationalError, *, lost: bool = False) -> bool:
        """Whether ``exc`` is the storage refusing a write (full, read-only, locked, I/O),
        not the statement; if so the fault is kept and told as ``transaction()`` does. For
        writes made outside it too (the outbox's claims), so that they reach /health and
        the console; ``lost``: the write's data is gone (a transaction's samples and
        events), counted in the "writes refused" of the recovery notice, not a row that
        waits in the store to be tried again. The next write transaction that goes through
        ends the fault."""
        if not storage_refused(exc):
            return False
        if exc is not self._refused_last:  # the same error passed up through two callers
            self._refused_last = exc
            code = exc.sqlite_errorcode & 0xFF
            self._write_failed(self._reason(code, str(exc)), lost=lost)
        return True

    def _reason(self, code: int, error: str) -> str:
        """SQLite's words, and for an I/O error whether the file system refuses writes: a
        write(2) refused with EROFS (ext4 ``errors=remount-ro`` after an error) reaches
        SQLite as SQLITE_IOERR_WRITE, "disk I/O error", and its errno is not passed on; a
        nameless file made and dropped in the folder asks the kernel (once per fault)."""
        if code != sqlite3.SQLITE_IOERR:
            return error
        if self.write_error is not None and self.write_error.startswith(error):
            return self.write_error
        try:
            with tempfile.TemporaryFile(dir=self.path.parent):
                return error
        except OSError as exc:
            if exc.errno == errno.EROFS:
                return messages.store_error_read_only_fs(error)
            return error

    def _busy_timeout(self, ms: int) -> None:
        if ms != self._busy_ms:
            self._conn.execute(f"PRAGMA busy_timeout = {ms}")
            self._busy_ms = ms

    def on_write_fault(self, listener: WriteFaultListener) -> None:
        """Call ``listener`` (on the writer's thread, so it must not block) when writes start
        failing and when they work again: the way to tell someone without writing to the
        store, as the Slack notice of ``bot.slack.store_faults`` does."""
        self._fault_listeners.append(listener)

    def _write_failed(self, error: str, lost: bool) -> None:
        since, refused = self._fault
        if self.write_error is None:
            log.error(messages.store_write_failed(str(self.path), error))
            since, refused = time.monotonic(), 0
            self._tell(WriteFault(str(self.path), error))
        self.write_error = error
        self._fault = (since, refused + int(lost))

    def _write_ok(self) -> None:
        self._refused_last = None  # and its traceback's frames
        if self.write_error is not None:
            since, refused = self._fault
            over = WriteFault(str(self.path), None, time.monotonic() - since, refused)
            log.warning(messages.store_writable_again(over.path, over.lasted, over.refused))
            self.write_error = None
            self._tell(over)

    def _tell(self, fault: WriteFault) -> None:
        for listener in self._fault_listeners:
            try:
                listener(fault)
            except Exception:  # a listener's bug must not turn a write into a failure
                log.exception("a store fault listener failed")

    def record_event(self, kind: str, subject: str, at: float, **detail: Any) -> None:
        """Append one event row (every state change and internal event gets one)."""
        self._conn.execute(
            "INSERT INTO events (at, kind, subject, detail) VALUES (?, ?, ?, ?)",
            (at, kind, subject, json.dumps(detail, default=str)),
        )

    def trace(self, callback: Callable[[str], object] | None) -> None:
        """Hand every statement the writer connection runs to ``callback`` (None: stop);
        for tests and diagnostics, e.g. counting the transactions of one interval."""
        self._conn.set_trace_callback(callback)

    def is_writable(self) -> bool:
        """True when the last write went through and a write lock can be taken now (for
        ``/health``; the probe waits at most PROBE_TIMEOUT_MS, never the busy timeout).
        A full disk shows only when a COMMIT fails, so the last write's outcome counts."""
        if self.write_error is not None or self._conn.in_transaction:
            return self.write_error is None
        self._busy_timeout(PROBE_TIMEOUT_MS)
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            return False
        finally:
            self._busy_timeout(BUSY_TIMEOUT_MS)
        return True

    def close(self) -> None:
        self._conn.close()


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations. sqlite_utils is imported only when one is pending: the CLI's
    read-only opens never migrate and start faster without it, and the long-running selfreg
    opens its store after a child process migrated it (``bot/store/migration_names.py``)."""
    if not pending_in(conn):
        return
    from sqlite_utils import Database

    from bot.store.migrations import MIGRATIONS

    MIGRATIONS.apply(Database(conn))


def open_store(path: Path, *, readonly: bool = False) -> Store:
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    ``readonly`` opens an existing file for the CLI's reads without migrating or writing.
    """
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 5000")
            return Store(path, conn)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        _migrate(conn)
        conn.commit()
        conn.isolation_level = None  # autocommit; Store.transaction() groups writes
        conn.row_factory = sqlite3.Row
    except sqlite3.Error as exc:
        raise StoreError(path, str(exc)) from exc
    return Store(path, conn)
