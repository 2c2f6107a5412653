"""``cleanup_files`` on real files in tmp_path, aged with os.utime."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from actions.cleanup_files import CleanupFiles, CleanupFilesSpec
from tests.support.action_context import RealActionContext

DAY = 86400.0


def write(path: Path, *, days_old: float, size: int = 10) -> Path:
    """A real file of ``size`` bytes last modified ``days_old`` days ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    then = time.time() - days_old * DAY
    os.utime(path, (then, then))
    return path


def cleanup(folder: Path | str, **fields: Any) -> CleanupFiles:
    fields = {"older_than": "7d", **fields}
    spec = CleanupFilesSpec(name="old-logs", kind="cleanup_files", folder=str(folder), **fields)
    return CleanupFiles(spec)


def names(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


async def test_it_deletes_only_files_older_than_the_age(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    write(tmp_path / "old.log", days_old=8, size=1500)
    write(tmp_path / "new.log", days_old=6)
    result = await cleanup(tmp_path).execute(ctx, dry_run=False)
    assert result.ok
    assert result.summary == f"deleted 1 files (1.5kB) older than 7d in {tmp_path}"
    assert result.output == "old.log"
    assert names(tmp_path) == ["new.log"]


async def test_the_pattern_limits_the_files_by_name(ctx: RealActionContext, tmp_path: Path) -> None:
    write(tmp_path / "app.log.gz", days_old=30)
    write(tmp_path / "app.db", days_old=30)
    await cleanup(tmp_path, pattern="*.gz").execute(ctx, dry_run=False)
    assert names(tmp_path) == ["app.db"]


async def test_it_stays_in_the_folder_unless_recursive(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    write(tmp_path / "a.log", days_old=30)
    write(tmp_path / "sub" / "deeper" / "b.log", days_old=30)
    await cleanup(tmp_path).execute(ctx, dry_run=False)
    assert names(tmp_path) == ["sub", "sub/deeper", "sub/deeper/b.log"]
    result = await cleanup(tmp_path, recursive=True).execute(ctx, dry_run=False)
    assert result.output == "sub/deeper/b.log"
    assert names(tmp_path) == ["sub", "sub/deeper"], "folders are never deleted"


async def test_it_never_follows_a_symlink_out_of_the_folder(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    outside, inside = tmp_path / "outside", tmp_path / "inside"
    precious = write(outside / "precious.db", days_old=30)
    write(inside / "old.log", days_old=30)
    (inside / "linked-dir").symlink_to(outside, target_is_directory=True)
    (inside / "linked-file").symlink_to(precious)
    for link in (inside / "linked-dir", inside / "linked-file"):
        os.utime(link, (0, 0), follow_symlinks=False)
    result = await cleanup(inside, recursive=True).execute(ctx, dry_run=False)
    assert result.output == "old.log"
    assert precious.exists()
    assert names(inside) == ["linked-dir", "linked-file"]


async def test_max_files_caps_one_run(ctx: RealActionContext, tmp_path: Path) -> None:
    for n in range(5):
        write(tmp_path / f"{n}.log", days_old=30)
    result = await cleanup(tmp_path, max_files=3).execute(ctx, dry_run=False)
    assert result.summary.endswith("; stopped at max_files 3, more remain")
    assert names(tmp_path) == ["3.log", "4.log"]


async def test_a_dry_run_lists_count_size_and_the_first_20_names_and_deletes_nothing(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    for n in range(25):
        write(tmp_path / f"{n:02}.log", days_old=30, size=100)
    result = await cleanup(tmp_path).execute(ctx, dry_run=True)
    assert result.ok
    assert result.summary == f"would delete 25 files (2.5kB) older than 7d in {tmp_path}"
    assert result.output.splitlines() == [f"{n:02}.log" for n in range(20)] + ["… and 5 more"]
    assert len(names(tmp_path)) == 25


async def test_nothing_to_delete_is_said_plainly(ctx: RealActionContext, tmp_path: Path) -> None:
    write(tmp_path / "new.log", days_old=1)
    result = await cleanup(tmp_path).execute(ctx, dry_run=False)
    assert result.ok and result.summary == f"no files matching * older than 7d in {tmp_path}"


async def test_a_missing_folder_is_a_failure(ctx: RealActionContext, tmp_path: Path) -> None:
    result = await cleanup(tmp_path / "gone").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == f"cannot clean {tmp_path / 'gone'}: No such file or directory"


async def test_a_folder_that_resolves_to_a_system_folder_is_refused_when_run(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    (tmp_path / "etc-link").symlink_to("/etc", target_is_directory=True)
    result = await cleanup(tmp_path / "etc-link").execute(ctx, dry_run=True)
    assert not result.ok and result.summary == f"refusing: {tmp_path / 'etc-link'} resolves to /etc"


@pytest.mark.parametrize(
    "folder", ["/", "/etc", "/etc/", "//usr", "/var/.", "/usr/../boot", "/proc", "var/log"]
)
def test_config_refuses_root_top_level_system_folders_and_relative_paths(folder: str) -> None:
    with pytest.raises(ValidationError):
        cleanup(folder)


@pytest.mark.parametrize(
    "fields", [{"pattern": "../*"}, {"pattern": ""}, {"older_than": "0s"}, {"max_files": 0}]
)
def test_config_refuses_a_pattern_with_a_path_and_empty_limits(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        cleanup("/var/log/app", **fields)


def test_a_folder_under_a_system_folder_is_fine() -> None:
    assert cleanup("/var/log/app/").spec.folder == "/var/log/app"
