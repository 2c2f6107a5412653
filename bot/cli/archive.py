"""``selfreg audit``, ``backup`` and ``restore``: the store's trail and its archives."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from bot import messages
from bot.cli import tables
from bot.cli.shell import (
    EXIT_FAILING,
    config_option,
    duration,
    echo_json,
    fail,
    json_option,
    load,
)
from bot.errors import UserError
from bot.store import audit, audit_anchors, backup, open_store


@click.group("audit")
def audit_group() -> None:
    """Check and export the hash-chained audit trail."""


@audit_group.command("verify")
@config_option
@json_option
def audit_verify(config_file: str | None, as_json: bool) -> None:
    """Check the keyed chain and its anchors; name the first thing wrong; exit 2 if any."""
    config = load(config_file)
    if not config.db_path.exists():
        if as_json:
            echo_json({"rows": 0, "anchors": 0, "unkeyed": 0, "tampered": None})
        else:
            click.echo(messages.nothing_to_verify())
        return
    anchors = audit_anchors.gather(config.db_path, config.backup_place.folder)
    store = open_store(config.db_path, readonly=True)
    try:
        found = audit.verify(store, anchors)
    finally:
        store.close()
    if as_json:
        echo_json(found)
        sys.exit(EXIT_FAILING if found.tampered is not None else 0)
    if found.tampered is not None:
        click.echo(messages.audit_tampered(found.tampered.id, found.tampered.reason), err=True)
        sys.exit(EXIT_FAILING)
    click.echo(messages.audit_verified(found.rows, found.anchors, found.unkeyed))


@audit_group.command("export")
@config_option
@click.option("--since", default="30d", help="How far back, as a duration (default 30d).")
@click.option("--json", "as_json", is_flag=True, help="JSON (one array of rows) instead of CSV.")
def audit_export(config_file: str | None, since: str, as_json: bool) -> None:
    """Write the audit trail since --since as CSV (or JSON) on standard output."""
    config = load(config_file)
    window = duration("--since", since)
    if not config.db_path.exists():
        if as_json:
            echo_json([])
        return
    store = open_store(config.db_path, readonly=True)
    try:
        if as_json:
            echo_json([dict(row) for row in audit.rows(store, time.time() - window)])
        else:
            audit.export_csv(store, sys.stdout, since=time.time() - window)
    finally:
        store.close()


@click.group("backup", invoke_without_command=True)
@config_option
@json_option
@click.option(
    "--to",
    "to",
    metavar="DIR",
    help="Write the archive into DIR instead of [backup] folder (nothing is pruned there).",
)
@click.pass_context
def backup_group(
    ctx: click.Context, config_file: str | None, as_json: bool, to: str | None
) -> None:
    """Back up the store (online, safe while selfreg runs) and the config files.

    Alone, writes one checked archive and prints its path, size, rows and integrity.
    """
    ctx.obj = config_file
    if ctx.invoked_subcommand is not None:
        return
    config = load(config_file)
    try:
        made = backup.create_backup(config.backup_place, Path(to) if to else None)
    except UserError as exc:
        fail(str(exc))
    if as_json:
        echo_json(made)
        return
    click.echo(
        messages.backup_created(
            str(made.path),
            made.size,
            made.total_rows,
            len(made.rows),
            made.integrity,
            made.config_files,
            str(made.copied_to) if made.copied_to else None,
            made.seconds,
        )
    )


@backup_group.command("list")
@config_option
@json_option
@click.pass_obj
def backup_list(parent_config: str | None, config_file: str | None, as_json: bool) -> None:
    """List the archives in the backup folder, newest first: name, time (UTC), size."""
    config = load(config_file or parent_config)
    found = backup.list_backups(config.backup_place)
    if as_json:
        echo_json([{"name": b.name, "created_at": b.created_at, "size": b.size} for b in found])
        return
    click.echo(
        tables.backups_table(
            str(config.backup_place.folder),
            [(b.name, b.created_at, b.size) for b in found],
        )
    )


@click.command()
@config_option
@json_option
@click.argument("archive")
def restore(config_file: str | None, as_json: bool, archive: str) -> None:
    """Put the store from ARCHIVE (a path, or a name from `backup list`) back in place.

    Refused while selfreg runs with this data folder. The replaced store is kept beside it as
    <store>.replaced-<time>; the archived config files are written to
    <data>/restored-config-<time>/ and your config files are never changed.
    """
    config = load(config_file)
    try:
        done = backup.restore_backup(config.backup_place, Path(archive))
    except UserError as exc:
        fail(str(exc))
    if as_json:
        echo_json(done)
        return
    click.echo(
        messages.restored(
            str(done.archive),
            str(done.store),
            done.created_at,
            done.total_rows,
            str(done.replaced) if done.replaced else None,
            str(done.config_dir) if done.config_dir else None,
        )
    )
