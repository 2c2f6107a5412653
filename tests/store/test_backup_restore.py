"""Backups and restore with real files and the real CLI: the data comes back, nothing is lost."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
import tarfile
import time
from pathlib import Path

from bot.config import load_settings
from bot.records import BackupPlace
from bot.store import open_store
from bot.store.backup import backup_before_start, create_backup, list_backups
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port

CONFIG = """
[[checks]]
kind = "tcp"
name = "db"
port = {port}
interval = "200ms"

[backup]
keep = {keep}
{extra}
"""

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC


def setup(tmp_path: Path, keep: int = 10, extra: str = "") -> tuple[Path, dict[str, str]]:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG.format(port=free_port(), keep=keep, extra=extra))
    return config, selfreg_env(tmp_path / "data")


def loaded(config: Path, env: dict[str, str]) -> BackupPlace:
    return load_settings(str(config), environ=env).backup_place


def add_event(db: Path, subject: str) -> None:
    store = open_store(db)
    with store.transaction():
        store.record_event("test.marked", subject, time.time())
    store.close()


def marks(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT subject FROM events WHERE kind = 'test.marked' ORDER BY id")
        return [r[0] for r in rows]


def integrity(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def archive_from(output: str) -> Path:
    match = re.search(r"Backup written: (\S+\.tar\.gz)", output)
    assert match, output
    return Path(match.group(1))


def test_a_restore_brings_the_backed_up_rows_back_and_keeps_the_replaced_store(
    tmp_path: Path,
) -> None:
    config, env = setup(tmp_path)
    db = tmp_path / "data" / "selfreg.db"
    add_event(db, "before")

    made = run_cli("backup", "--config", str(config), env=env)
    assert made.returncode == 0, made.stderr
    archive = archive_from(made.stdout)
    assert archive.parent == tmp_path / "data" / "backups"
    assert re.search(r"store: \d+ rows in \d+ tables, integrity_check ok", made.stdout)
    assert f"config: {config}" in made.stdout

    add_event(db, "after")
    assert marks(db) == ["before", "after"]

    done = run_cli("restore", archive.name, "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert marks(db) == ["before"], "the store is back as it was at the backup"
    replaced = re.search(r"The store it replaced is kept as (\S+)\.", done.stdout)
    assert replaced, done.stdout
    assert marks(Path(replaced.group(1))) == ["before", "after"], "nothing is lost"
    restored_config = re.search(r"The archived config files are in (\S+);", done.stdout)
    assert restored_config, done.stdout
    copy = Path(restored_config.group(1)) / "selfreg.toml"
    assert copy.read_text() == config.read_text()
    assert integrity(db) == "ok"


def test_a_restore_after_kill_9_sets_the_crashed_wal_aside_with_its_store(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    db = tmp_path / "data" / "selfreg.db"
    add_event(db, "before")
    archive = archive_from(run_cli("backup", "--config", str(config), env=env).stdout)

    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        selfreg.wait_for(r"CRITICAL\s+db\s+Opened")
    finally:
        selfreg.kill9()
    wal = db.with_name("selfreg.db-wal")
    assert wal.exists() and wal.stat().st_size > 0, "a crash leaves its WAL behind"

    done = run_cli("restore", str(archive), "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert not wal.exists() and not db.with_name("selfreg.db-shm").exists()
    assert integrity(db) == "ok"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM transitions").fetchone()[0] == 0
    replaced = next(db.parent.glob("selfreg.db.replaced-*[0-9Z]"))
    assert integrity(replaced) == "ok"
    with sqlite3.connect(f"file:{replaced}?mode=ro", uri=True) as conn:
        transitions = conn.execute("SELECT count(*) FROM transitions").fetchone()[0]
    assert transitions == 1, "the crashed run's committed rows are kept with the old store"


def _rewrite(archive: Path, target: Path, *, fix_sha: bool) -> None:
    """Copy an archive with the type byte of the store's second page broken.

    ``fix_sha``: the manifest's sha256 is updated too, so only integrity_check can tell.
    """
    with tarfile.open(archive, "r:gz") as source:
        members = {m.name: (m, source.extractfile(m).read()) for m in source.getmembers()}  # type: ignore[union-attr]
    info, db = members["selfreg.db"]
    db = db[:4096] + b"\x42" + db[4097:]
    members["selfreg.db"] = (info, db)
    if fix_sha:
        info, raw = members["manifest.json"]
        manifest = json.loads(raw)
        manifest["store"]["sha256"] = hashlib.sha256(db).hexdigest()
        members["manifest.json"] = (info, json.dumps(manifest).encode())
    with tarfile.open(target, "w:gz") as out:
        for info, data in members.values():
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def test_a_corrupt_archive_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    db = tmp_path / "data" / "selfreg.db"
    add_event(db, "live")
    archive = archive_from(run_cli("backup", "--config", str(config), env=env).stdout)
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not gzip at all")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(archive, tampered, fix_sha=False)
    corrupt = tmp_path / "corrupt.tar.gz"
    _rewrite(archive, corrupt, fix_sha=True)
    missing = tmp_path / "missing.tar.gz"
    before = sha(db)

    for bad, why in (
        (garbage, "not a readable backup archive"),
        (truncated, "not a readable backup archive"),
        (tampered, "the store in the archive does not match its sha256"),
        (corrupt, "the store in the archive fails integrity_check"),
        (missing, "no such backup archive"),
    ):
        done = run_cli("restore", str(bad), "--config", str(config), env=env)
        assert done.returncode == 2, (bad, done.stdout)
        assert f"selfreg: {bad}: {why}" in done.stderr, done.stderr
        assert sha(db) == before
        assert not list(db.parent.glob("selfreg.db.replaced-*"))
        assert not list(db.parent.glob("restored-config-*"))
        assert not list(db.parent.glob(".restore-*")), "no temporary folder is left behind"


def test_keep_n_prunes_the_oldest_and_leaves_other_files_alone(tmp_path: Path) -> None:
    config, env = setup(tmp_path, keep=3)
    add_event(tmp_path / "data" / "selfreg.db", "x")
    settings = loaded(config, env)
    folder = tmp_path / "data" / "backups"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    made = [create_backup(settings, now=T0 + 60 * n).path.name for n in range(5)]
    assert sorted(p.name for p in folder.glob("selfreg-*")) == sorted(made[2:])
    assert (folder / "notes.txt").read_text() == "mine"
    assert not list(folder.glob(".backup-*")), "no temporary folder is left behind"


def test_backup_list_shows_the_newest_first_with_time_and_size(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    add_event(tmp_path / "data" / "selfreg.db", "x")
    settings = loaded(config, env)
    for at in (T0 + 3600, T0, T0 + 7200, T0 + 7200):  # the last two in the same second
        create_backup(settings, now=at)

    done = run_cli("backup", "list", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    names = re.findall(
        r"^(selfreg-\S+\.tar\.gz)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", done.stdout, re.M
    )
    assert names == [
        ("selfreg-20270115T100000Z-2.tar.gz", "2027-01-15 10:00:00"),
        ("selfreg-20270115T100000Z.tar.gz", "2027-01-15 10:00:00"),
        ("selfreg-20270115T090000Z.tar.gz", "2027-01-15 09:00:00"),
        ("selfreg-20270115T080000Z.tar.gz", "2027-01-15 08:00:00"),
    ]
    assert "4 backups in" in done.stdout and " kB" in done.stdout
    assert [b.name for b in list_backups(settings)] == [n for n, _ in names]


def test_backup_to_a_folder_and_copy_to_a_shared_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    config, env = setup(tmp_path, keep=2, extra=f'copy_to = "{shared}"')
    add_event(tmp_path / "data" / "selfreg.db", "x")
    elsewhere = tmp_path / "elsewhere"

    done = run_cli("backup", "--to", str(elsewhere), "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert archive_from(done.stdout).parent == elsewhere
    assert not shared.exists(), "a one-off --to backup is not copied"

    settings = loaded(config, env)
    made = [create_backup(settings, now=T0 + n) for n in range(3)]
    assert made[-1].copied_to == shared / made[-1].path.name
    assert sorted(p.name for p in shared.iterdir()) == sorted(m.path.name for m in made[1:])


def test_the_start_up_backup_skips_a_first_start_and_backs_up_otherwise(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    settings = loaded(config, env)
    assert backup_before_start(settings) is None
    assert not (tmp_path / "data").exists(), "nothing is created for a first start"

    add_event(tmp_path / "data" / "selfreg.db", "x")
    made = backup_before_start(settings)
    assert made is not None and made.integrity == "ok" and made.rows["events"] == 1
    with tarfile.open(made.path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["store"]["rows"]["events"] == 1

    (tmp_path / "off").mkdir()
    off = loaded(*setup(tmp_path / "off", extra="on_start = false"))
    add_event(off.db_path, "x")
    assert backup_before_start(off) is None


def test_backup_without_a_store_names_the_missing_file(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    done = run_cli("backup", "--config", str(config), env=env)
    assert done.returncode == 2
    store = tmp_path / "data" / "selfreg.db"
    assert f"selfreg: {store}: there is no store to back up yet" in done.stderr
