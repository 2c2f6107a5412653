"""Restore: put a backed-up store back in place; never while selfreg runs, never blindly.

- The whole archive is checked first (its store's sha256 from the manifest, then
  ``PRAGMA integrity_check``); a bad archive changes nothing.
- The store it replaces is kept beside it as ``<store>.replaced-<stamp>`` (with a ``-wal`` a
  crash may have left), never deleted.
- Config files are never overwritten: the archived ones are written to
  ``<data>/restored-config-<stamp>/`` for the operator to compare and copy by hand, because
  the config may have moved on on purpose since the backup (and may live in git).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import BackupError, RestoreRefused
from bot.records import BackupPlace
from bot.socket_probe import socket_in_use
from bot.store.archive import (
    CONFIG_FOLDER,
    FORMAT,
    MANIFEST,
    STORE_MEMBER,
    durable_replace,
    integrity_check,
    sha256,
    stamp,
)
from bot.store.audit_anchors import mark_restored

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class Restored:
    """What a restore did: the store it put back, and where the old one and the config went."""

    archive: Path
    store: Path
    created_at: float
    rows: Mapping[str, int]
    replaced: Path | None
    config_dir: Path | None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def resolve_archive(place: BackupPlace, archive: Path) -> Path:
    """An archive path as given, or a bare name looked up in the backup folder."""
    if archive.exists() or archive.parent != Path("."):
        return archive
    in_folder = place.folder / archive.name
    return in_folder if in_folder.exists() else archive


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        if handle is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(handle.read())
    except KeyError:
        raise BackupError(archive, f"not a selfreg backup: no {MANIFEST} inside") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(archive, f"{MANIFEST} is not valid JSON: {exc}") from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise BackupError(archive, f"unknown backup format {found!r} (this selfreg reads {FORMAT})")
    return manifest


def _extract_member(tar: tarfile.TarFile, name: str, target: Path, archive: Path) -> None:
    """Write one regular-file member to ``target`` (never ``extractall``: no path tricks)."""
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(archive, f"{name} is missing from the archive") from None
    handle = tar.extractfile(member) if member.isfile() else None
    if handle is None:
        raise BackupError(archive, f"{name} in the archive is not a regular file")
    with target.open("wb") as out:
        shutil.copyfileobj(handle, out)


def _unpack(archive: Path, work: Path) -> tuple[dict[str, Any], Path, list[tuple[str, bytes]]]:
    """Read and check an archive: manifest, the store (sha256 and integrity), the config files."""
    if not archive.is_file():
        raise BackupError(archive, "no such backup archive")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            manifest = _read_manifest(tar, archive)
            store = work / STORE_MEMBER
            _extract_member(tar, manifest["store"]["member"], store, archive)
            configs = []
            for entry in manifest.get("config", []):
                name = entry["member"]
                if not name.startswith(f"{CONFIG_FOLDER}/") or ".." in Path(name).parts:
                    raise BackupError(archive, f"unexpected config member {name!r}")
                handle = tar.extractfile(tar.getmember(name))
                if handle is None:
                    raise BackupError(archive, f"{name} in the archive is not a regular file")
                configs.append((Path(name).name, handle.read()))
    except (tarfile.TarError, EOFError, zlib.error, OSError, KeyError, TypeError) as exc:
        raise BackupError(archive, f"not a readable backup archive: {exc}") from None
    expected = manifest["store"].get("sha256")
    if sha256(store) != expected:
        raise BackupError(archive, "the store in the archive does not match its sha256")
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            integrity = integrity_check(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(
            archive, f"the store in the archive fails integrity_check: {exc}"
        ) from None
    if integrity != "ok":
        raise BackupError(archive, f"the store in the archive fails integrity_check: {integrity}")
    return manifest, store, configs


def _checkpoint(path: Path) -> None:
    """Fold the old store's ``-wal`` into it (best effort: a corrupt store is kept as it is)."""
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        log.warning("could not checkpoint %s before setting it aside: %s", path, exc)


def _set_aside(store: Path, label: str) -> Path | None:
    """Move the current store (and a ``-wal`` a crash left) aside; drop the stale ``-shm``.

    A ``-wal`` or ``-shm`` left beside the restored file would be read as part of it and
    corrupt it, so none may stay under the store's name.
    """
    replaced = None
    if store.exists():
        _checkpoint(store)
        replaced = store.with_name(f"{store.name}.replaced-{label}")
        os.replace(store, replaced)
        wal = store.with_name(f"{store.name}-wal")
        if wal.exists():
            os.replace(wal, replaced.with_name(f"{replaced.name}-wal"))
    for stale in (f"{store.name}-wal", f"{store.name}-shm"):
        with contextlib.suppress(FileNotFoundError):
            store.with_name(stale).unlink()
    return replaced


def restore_backup(place: BackupPlace, archive: Path, *, now: float | None = None) -> Restored:
    """Put the store from ``archive`` in place of the current one; never while selfreg runs.

    The archive is checked in full first (its store's sha256 and integrity_check); only then is
    the current store (with any ``-wal`` left by a crash) moved aside to
    ``<store>.replaced-<stamp>`` and the stale ``-shm`` removed. The archived config files go
    to ``<data>/restored-config-<stamp>/``; the live config files are never written.
    Raises ``RestoreRefused`` or ``BackupError``; either way nothing was changed.
    """
    if socket_in_use(place.control_socket):
        raise RestoreRefused(place.control_socket)
    archive = resolve_archive(place, archive)
    at = time.time() if now is None else now
    label = stamp(at)
    store = place.db_path
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".restore-", dir=store.parent))
    except OSError as exc:
        raise BackupError(store.parent, f"cannot write there: {exc.strerror or exc}") from None
    try:
        manifest, extracted, configs = _unpack(archive, work)
        replaced = _set_aside(store, label)
        durable_replace(extracted, store)
        mark_restored(store, at, float(manifest.get("created_at", 0.0)))
        config_dir = None
        if configs:
            config_dir = place.data_dir / f"restored-config-{label}"
            config_dir.mkdir(parents=True, exist_ok=True)
            for name, data in configs:
                (config_dir / name).write_bytes(data)
    except OSError as exc:
        raise BackupError(store, f"the restore failed: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Restored(
        archive=archive,
        store=store,
        created_at=float(manifest.get("created_at", 0.0)),
        rows=dict(manifest["store"].get("rows", {})),
        replaced=replaced,
        config_dir=config_dir,
    )
