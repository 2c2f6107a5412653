"""What ``selfreg backup``, ``backup list``, ``restore`` and the start-up backup step say."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages.common import file_size, utc_time


def backup_created(
    path: str,
    size: int,
    rows: int,
    tables: int,
    integrity: str,
    config_files: Sequence[str],
    copied_to: str | None,
    seconds: float,
) -> str:
    """What ``selfreg backup`` prints once the archive is written and checked."""
    lines = [
        f"Backup written: {path} ({file_size(size)}, {seconds:.2f} s)",
        f"  store: {rows} rows in {tables} tables, integrity_check {integrity}",
        f"  config: {', '.join(config_files) or 'none'}",
    ]
    if copied_to:
        lines.append(f"  copied to {copied_to}")
    return "\n".join(lines)


def restored(
    archive: str,
    store: str,
    created_at: float,
    rows: int,
    replaced: str | None,
    config_dir: str | None,
) -> str:
    """What ``selfreg restore`` prints: what it put back, and where the old store went."""
    lines = [
        f"Restored {store} from {archive} (made {utc_time(created_at)}, {rows} rows, "
        "integrity_check ok)."
    ]
    if replaced:
        lines.append(f"The store it replaced is kept as {replaced}.")
    else:
        lines.append("There was no store before: nothing was replaced.")
    if config_dir:
        lines.append(
            f"The archived config files are in {config_dir}; your config files were not "
            "changed: compare them and copy what you need."
        )
    return "\n".join(lines)


def backup_skipped_no_store(store: str) -> str:
    """The start-up backup step when selfreg has never run with this data folder."""
    return f"No store yet at {store}: nothing to back up before this first start."


def backup_step_off() -> str:
    """The start-up backup step when ``[backup] on_start`` is false."""
    return "Turned off ([backup] on_start = false)."


def backup_made_at_start(path: str, size: int, seconds: float) -> str:
    """The start-up backup step's line."""
    return f"Backed up the store to {path} ({file_size(size)}, {seconds:.2f} s)."


BACKUP_COLUMNS = ("NAME", "TIME", "SIZE")


def no_backups(folder: str) -> str:
    return f"No backups in {folder} yet: `selfreg backup` makes one."


def backups_heading(count: int, folder: str) -> str:
    """The line above ``selfreg backup list``'s table."""
    return f"{count} backups in {folder}, newest first:"


# ---- why a backup failed (``BackupError``'s reason; ``errors.file_failed`` names the file) ----
def store_unopened(error: str) -> str:
    return f"cannot open the store: {error}"


def online_backup_failed(error: str) -> str:
    return f"the online backup failed: {error}"


def copy_not_intact(integrity: str) -> str:
    return f"the copy fails PRAGMA integrity_check: {integrity}"


def config_file_unreadable(error: str) -> str:
    return f"cannot read the config file: {error}"


def no_store_yet() -> str:
    return "there is no store to back up yet (selfreg has not run here)"


def folder_unwritable(error: str) -> str:
    return f"cannot write there: {error}"


def archive_unwritten(error: str) -> str:
    return f"cannot write the archive: {error}"


def copy_elsewhere_failed(archive: str, error: str) -> str:
    return f"the backup {archive} could not be copied here: {error}"
