"""Anchors: the audit trail's head, written down outside the database.

A chain alone proves its rows follow each other; it cannot prove none were cut off the end,
or that the whole chain was not written again. So the head (newest row id and digest) is
also written where an intruder in the database does not reach: ``audit-anchors.jsonl``
beside the store (a line at start, at stop, whenever the head moved since the last line
(checked every minute) and once a day), and each backup's manifest. ``verify`` then checks
every anchor against the rows it names.

A restore puts an older store back on purpose: ``restore`` writes a line saying so, and the
anchors written between that archive's creation and the restore (the history the operator
chose to drop) are no longer held against the trail.
"""

from __future__ import annotations

import contextlib
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store.archive import MANIFEST, archives
from bot.store.db import Store

ANCHORS_FILE = "audit-anchors.jsonl"
DAY = 86_400.0

_newest: dict[Path, Anchor] = {}  # per anchors file: the last anchor this process wrote or read


@dataclass(frozen=True, kw_only=True, slots=True)
class Anchor:
    """Row ``id`` had digest ``digest`` when it was written down at ``at`` in ``where``."""

    id: int
    digest: str
    at: float
    where: str


def anchors_path(db_path: Path) -> Path:
    return db_path.parent / ANCHORS_FILE


def head(store: Store) -> tuple[int, str] | None:
    row = store._conn.execute("SELECT id, digest FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


def anchor(store: Store, at: float, why: str, *, only_if_moved: bool = False) -> Anchor | None:
    """Append the head to the anchors file (fsync-ed); None when there is nothing to anchor.

    ``only_if_moved`` skips the line when the last one names the same head and is less than
    a day old (the minute check); start and stop always write one.
    """
    found = head(store)
    if found is None or str(store.path) == ":memory:":
        return None
    path = anchors_path(store.path)
    if only_if_moved:
        last = _last(path)
        if last is not None and last.id == found[0] and at - last.at < DAY:
            return None
    _append(path, {"at": at, "id": found[0], "digest": found[1], "why": why})
    written = Anchor(id=found[0], digest=found[1], at=at, where=path.name)
    _newest[path] = written
    return written


def _append(path: Path, data: dict[str, object]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (json.dumps(data) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def mark_restored(db_path: Path, at: float, archive_created_at: float) -> None:
    """Note that the store was put back as it was at ``archive_created_at``."""
    _append(anchors_path(db_path), {"at": at, "restored_from": archive_created_at})


def gather(db_path: Path, backup_folder: Path) -> list[Anchor]:
    """Every anchor of the store at ``db_path`` that still holds after the restores noted."""
    found = from_file(anchors_path(db_path)) + from_backups(backup_folder)
    dropped = _restores(anchors_path(db_path))
    return [a for a in found if not any(old < a.at <= at for old, at in dropped)]


def _lines(path: Path) -> list[dict[str, Any]]:
    """Every readable line of an anchors file (a torn last line is skipped)."""
    try:
        text = path.read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict):
                found.append(data)
    return found


def _restores(path: Path) -> list[tuple[float, float]]:
    """(archive created at, restored at) for each restore noted in the anchors file."""
    found = []
    for data in _lines(path):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            found.append((float(data["restored_from"]), float(data["at"])))
    return found


def from_file(path: Path) -> list[Anchor]:
    """Every anchor line of an anchors file."""
    found = []
    for data in _lines(path):
        with contextlib.suppress(ValueError, KeyError, TypeError):
            found.append(
                Anchor(
                    id=int(data["id"]),
                    digest=str(data["digest"]),
                    at=float(data["at"]),
                    where=path.name,
                )
            )
    return found


def _last(path: Path) -> Anchor | None:
    """The newest anchor of ``path``: read from the file once, then kept as it is written
    (the minute check must not parse a file that grows for the life of the store)."""
    if path not in _newest:
        found = from_file(path)
        if not found:
            return None
        _newest[path] = found[-1]
    return _newest[path]


def from_backups(folder: Path) -> list[Anchor]:
    """The head each backup in ``folder`` recorded in its manifest (unreadable ones skipped)."""
    found = []
    for archive in archives(folder):
        with contextlib.suppress(OSError, tarfile.TarError, KeyError, ValueError, TypeError):
            with tarfile.open(archive, "r:gz") as tar:
                handle = tar.extractfile(MANIFEST)
                manifest = json.loads(handle.read()) if handle else {}
            head_of = manifest.get("audit_head")
            if head_of:
                found.append(
                    Anchor(
                        id=int(head_of["id"]),
                        digest=str(head_of["digest"]),
                        at=float(manifest["created_at"]),
                        where=archive.name,
                    )
                )
    return found
