"""The backup archive's format, shared by ``backup.py`` (writes) and ``restore.py`` (reads).

An archive is ``selfreg-YYYYmmddTHHMMSSZ.tar.gz`` (a ``-2``, ``-3`` ... suffix when two are made
in the same second) under ``<data>/backups`` by default. It holds::

    manifest.json        when, which selfreg, the store's sha256, rows per table, integrity
    selfreg.db           the store, copied with SQLite's online backup API
    config/<file>        every config file selfreg loaded (base file, then the overlay)

One ``.tar.gz`` rather than a folder: one file to copy elsewhere, written under a temporary
name and renamed, so a crash mid-backup never leaves a half archive that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from pathlib import Path

FORMAT = 1
MANIFEST = "manifest.json"
STORE_MEMBER = "selfreg.db"
CONFIG_FOLDER = "config"
ARCHIVE_NAME = re.compile(r"^selfreg-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar\.gz$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def stamp(at: float) -> str:
    """``20261129T101500Z``: the UTC time in archive and ``replaced-`` names."""
    return time.strftime(STAMP_FORMAT, time.gmtime(at))


def archive_key(path: Path) -> tuple[str, int] | None:
    """Sort key of an archive name (its stamp, then its same-second suffix); None if foreign."""
    match = ARCHIVE_NAME.match(path.name)
    if match is None:
        return None
    return match.group(1), int(match.group(2) or 1)


def archives(folder: Path) -> list[Path]:
    """selfreg archives in ``folder``, newest first; other files are never touched."""
    if not folder.is_dir():
        return []
    found = [(key, p) for p in folder.iterdir() if p.is_file() and (key := archive_key(p))]
    return [p for _, p in sorted(found, reverse=True)]


def integrity_check(conn: sqlite3.Connection) -> str:
    """``PRAGMA integrity_check``: "ok", or its first few complaints."""
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def durable_replace(source: Path, target: Path) -> None:
    """``os.replace`` made to last: the file's data synced first, the folder's entry after,
    so what a backup or a restore reports done is on the disk, as a committed row is
    (the store runs ``synchronous=FULL``), not in the page cache a power loss drops."""
    with source.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
