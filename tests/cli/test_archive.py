"""bot.cli.archive in-process: ``audit verify|export``, ``backup``, ``backup list`` and
``restore`` through click's runner, on a real store file and real archives."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

from bot.config import LoadedConfig, load_settings
from bot.store import audit, audit_anchors, open_store
from tests.support.control_standin import TCP_CHECK, invoke, write_config
from tests.support.db import execute


def setup(tmp_path: Path, data_dir: Path) -> tuple[Path, LoadedConfig]:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=1))
    return config, load_settings(str(config), {"SELFREG_DATA_DIR": str(data_dir)})


def audited(loaded: LoadedConfig, count: int) -> None:
    """``count`` chained audit rows, the newest now, the first one 40 days ago."""
    store = open_store(loaded.db_path)
    now = time.time()
    with store.transaction():
        for i in range(count):
            at = now - 40 * 86400 if i == 0 else now - (count - i)
            audit.append(store, at, "proposal.approved", f"U{i}", "restart-api", {"n": i})
    store.close()


def test_audit_verify_without_a_store_has_nothing_to_verify(tmp_path: Path, data_dir: Path) -> None:
    config, _ = setup(tmp_path, data_dir)
    result = invoke(data_dir, "audit", "verify", "--config", str(config))
    assert (result.exit_code, result.stdout.strip()) == (0, "No store yet: nothing to verify.")


def test_audit_verify_counts_an_intact_trail_and_names_a_changed_row(
    tmp_path: Path, data_dir: Path
) -> None:
    config, loaded = setup(tmp_path, data_dir)
    audited(loaded, 3)
    result = invoke(data_dir, "audit", "verify", "--config", str(config))
    assert (result.exit_code, result.stdout.strip()) == (
        0,
        "audit trail intact: 3 rows verified, 0 anchors outside the store agree.",
    )
    store = open_store(loaded.db_path)
    execute(store, "UPDATE audit SET actor = 'U9' WHERE id = 2")
    store.close()
    result = invoke(data_dir, "audit", "verify", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("audit row 2 is tampered: its content does not match")


def test_audit_verify_checks_the_anchors_of_the_backups_and_the_anchors_file(
    tmp_path: Path, data_dir: Path
) -> None:
    """A backup's manifest and the anchors file name the head: a cut-off tail is found."""
    config, loaded = setup(tmp_path, data_dir)
    audited(loaded, 4)
    assert invoke(data_dir, "backup", "--config", str(config)).exit_code == 0
    store = open_store(loaded.db_path)
    audit_anchors.anchor(store, time.time(), "minute")
    store.close()
    result = invoke(data_dir, "audit", "verify", "--config", str(config))
    assert (
        result.stdout.strip()
        == "audit trail intact: 4 rows verified, 2 anchors outside the store agree."
    )
    store = open_store(loaded.db_path)
    execute(store, "DELETE FROM audit WHERE id = 4")
    store.close()
    result = invoke(data_dir, "audit", "verify", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("audit row 4 is tampered: the anchor written ")
    assert "(the trail ends at row 3): the newest rows were removed" in result.stderr
    archive = next((data_dir / "backups").glob("*.tar.gz"))
    assert invoke(data_dir, "restore", str(archive), "--config", str(config)).exit_code == 0
    result = invoke(data_dir, "audit", "verify", "--config", str(config))  # put back on purpose:
    assert (
        result.stdout.strip()
        == "audit trail intact: 4 rows verified, 1 anchor outside the store agrees."
    )


def test_audit_export_writes_the_rows_since_the_window_as_csv(
    tmp_path: Path, data_dir: Path
) -> None:
    config, loaded = setup(tmp_path, data_dir)
    assert invoke(data_dir, "audit", "export", "--config", str(config)).stdout == ""
    audited(loaded, 3)
    result = invoke(data_dir, "audit", "export", "--config", str(config))
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["id", "at", "kind", "actor", "subject", "detail", "digest"]
    assert [r[3] for r in table[1:]] == ["U1", "U2"], "the 40-day-old row is outside 30d"
    everything = invoke(data_dir, "audit", "export", "--since", "60d", "--config", str(config))
    assert len(list(csv.reader(io.StringIO(everything.stdout)))) == 4


def test_audit_export_with_an_unreadable_window_is_a_usage_error_64(
    tmp_path: Path, data_dir: Path
) -> None:
    config, _ = setup(tmp_path, data_dir)
    result = invoke(data_dir, "audit", "export", "--since", "soon", "--config", str(config))
    assert result.exit_code == 64
    assert result.stderr.startswith("selfreg: --since = 'soon': ")


def test_backup_without_a_store_exits_2(tmp_path: Path, data_dir: Path) -> None:
    config, _ = setup(tmp_path, data_dir)
    result = invoke(data_dir, "backup", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("selfreg: ")
    listed = invoke(data_dir, "backup", "list", "--config", str(config))
    assert "`selfreg backup` makes one" in listed.stdout


def test_backup_writes_a_checked_archive_that_backup_list_and_restore_find(
    tmp_path: Path, data_dir: Path
) -> None:
    config, loaded = setup(tmp_path, data_dir)
    audited(loaded, 2)
    made = invoke(data_dir, "backup", "--config", str(config))
    assert made.exit_code == 0, made.output
    written = re.match(r"Backup written: (\S+) \(", made.stdout)
    assert written, made.stdout
    archive = Path(written[1])
    assert archive.is_file() and archive.parent == data_dir / "backups"
    assert re.search(r"^  store: \d+ rows in \d+ tables, integrity_check ok$", made.stdout, re.M)
    assert f"  config: {config}\n" in made.stdout

    listed = invoke(data_dir, "backup", "list", "--config", str(config))
    lines = listed.stdout.splitlines()
    assert lines[0] == f"1 backups in {data_dir / 'backups'}, newest first:"
    assert lines[2].startswith(archive.name)

    restored = invoke(data_dir, "restore", archive.name, "--config", str(config))
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.startswith(f"Restored {loaded.db_path} from {archive}")
    assert "The store it replaced is kept as" in restored.stdout
    check = invoke(data_dir, "audit", "verify", "--config", str(config))
    assert (
        check.stdout.strip()
        == "audit trail intact: 2 rows verified, 1 anchor outside the store agrees."
    )


def test_backup_to_another_folder_leaves_the_backup_folder_empty(
    tmp_path: Path, data_dir: Path
) -> None:
    config, loaded = setup(tmp_path, data_dir)
    audited(loaded, 1)
    elsewhere = tmp_path / "elsewhere"
    made = invoke(data_dir, "backup", "--to", str(elsewhere), "--config", str(config))
    assert made.exit_code == 0, made.output
    assert [p.parent for p in elsewhere.iterdir()] == [elsewhere]
    assert f"Backup written: {elsewhere}/" in made.stdout
    listed = invoke(data_dir, "backup", "list", "--config", str(config))
    assert "`selfreg backup` makes one" in listed.stdout


def test_restore_of_a_missing_archive_exits_2(tmp_path: Path, data_dir: Path) -> None:
    config, loaded = setup(tmp_path, data_dir)
    audited(loaded, 1)
    result = invoke(data_dir, "restore", "no-such.tar.gz", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("selfreg: ")
