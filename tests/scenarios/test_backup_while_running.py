"""Backups of a store that a real ``selfreg run`` is writing; restore refused while it runs."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tarfile
import time
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port

CHECK = """
[[checks]]
kind = "tcp"
name = "db{n}"
port = {port}
interval = "200ms"
"""

BACKUP = """
[backup]
keep = 50
every = "1s"
"""


def busy_config(tmp_path: Path, checks: int = 8) -> Path:
    """Several failing checks every 200 ms: the store is written several times a second."""
    config = tmp_path / "selfreg.toml"
    config.write_text("".join(CHECK.format(n=n, port=free_port()) for n in range(checks)) + BACKUP)
    return config


def store_of(archive: Path, into: Path) -> Path:
    """The store inside an archive, written to ``into``."""
    with tarfile.open(archive, "r:gz") as tar:
        data = tar.extractfile("selfreg.db").read()  # type: ignore[union-attr]
    into.write_bytes(data)
    return into


def checked(db: Path) -> tuple[str, int]:
    """(integrity_check, samples) of a store file."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        samples = conn.execute("SELECT count(*) FROM all_samples").fetchone()[0]
    return result, samples


def test_backups_taken_while_selfreg_writes_pass_integrity_check(tmp_path: Path) -> None:
    config = busy_config(tmp_path)
    env = selfreg_env(tmp_path / "data")
    selfreg = SelfregProcess(config, env)
    archives: list[Path] = []
    try:
        selfreg.wait_ready()
        selfreg.wait_for(r"CRITICAL\s+db0\s+Opened")
        for _ in range(3):
            done = run_cli("backup", "--config", str(config), env=env)
            assert done.returncode == 0, done.stderr
            assert "integrity_check ok" in done.stdout
            archives.append(Path(re.search(r"Backup written: (\S+)", done.stdout).group(1)))  # type: ignore[union-attr]
            time.sleep(0.5)
        scheduled = selfreg.wait_for(r"backup written: (\S+\.tar\.gz)", timeout=15)
        archives.append(Path(scheduled.group(1)))
        assert selfreg.proc.poll() is None, "selfreg kept running through every backup"
    finally:
        assert selfreg.stop() == 0

    samples = []
    for number, archive in enumerate(archives):
        result, count = checked(store_of(archive, tmp_path / f"copy{number}.db"))
        assert result == "ok", archive
        samples.append(count)
    assert samples[0] > 0
    assert samples[:3] == sorted(samples[:3]) and samples[2] > samples[0], (
        "each backup caught the writes made since the one before",
        samples,
    )


def test_restore_while_selfreg_runs_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    config = busy_config(tmp_path, checks=1)
    env = selfreg_env(tmp_path / "data")
    data = tmp_path / "data"
    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        done = run_cli("backup", "--config", str(config), env=env)
        assert done.returncode == 0, done.stderr
        archive = Path(re.search(r"Backup written: (\S+)", done.stdout).group(1))  # type: ignore[union-attr]
        before = (data / "selfreg.db").stat().st_ino
        archive_sha = hashlib.sha256(archive.read_bytes()).hexdigest()

        refused = run_cli("restore", str(archive), "--config", str(config), env=env)
        assert refused.returncode == 2
        assert (
            f"selfreg: {data / 'selfreg.sock'}: selfreg is running with this data folder; "
            "stop it before restoring (nothing was changed)"
        ) in refused.stderr
        assert (data / "selfreg.db").stat().st_ino == before, "the store was not replaced"
        assert not list(data.glob("selfreg.db.replaced-*"))
        assert not list(data.glob("restored-config-*"))
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == archive_sha
        assert selfreg.proc.poll() is None
    finally:
        assert selfreg.stop() == 0

    done = run_cli("restore", str(archive), "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert "The store it replaced is kept as" in done.stdout
