"""``cleanup_files``: delete regular files older than an age under one configured folder.

Hard to aim wrong: the folder must be absolute and is refused when it is ``/`` or a top-level
system folder, at config time and again after resolving symlinks at run time. ``os.fwalk``
never descends into a symlink, and each unlink is relative to the descriptor of the folder
just listed, so a directory swapped for a symlink mid-run cannot redirect a deletion.
Symlinks and directories are never deleted. A dry run walks the same way and only lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import Field, field_validator

from actions.base import Action, ActionContext, ActionResult, ActionSpec
from common.units import Duration, format_duration, format_size

SHOWN = 20
FORBIDDEN = frozenset(
    {"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/proc", "/root", "/sbin"}
    | {"/sys", "/usr", "/var"}
)


def normal(path: str) -> str:
    """``"//etc/."`` -> ``"/etc"``: the form the forbidden list is written in."""
    return "/" + os.path.normpath(path).lstrip("/")


class CleanupFilesSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``cleanup_files``."""

    kind: Literal["cleanup_files"] = Field(description='Always "cleanup_files".')
    folder: str = Field(description="Absolute folder to clean; never / or a top-level system one.")
    older_than: Duration = Field(gt=0, description="Delete files last modified longer ago.")
    pattern: str = Field(default="*", description="Glob on the file name, e.g. '*.log.gz'.")
    recursive: bool = Field(default=False, description="Also clean the folders inside it.")
    max_files: int = Field(default=1000, ge=1, description="Delete at most this many per run.")

    @field_validator("folder")
    @classmethod
    def _safe_folder(cls, value: str) -> str:
        if not os.path.isabs(value) or (folder := normal(value)) in FORBIDDEN:
            raise ValueError("must be an absolute path, not / or a top-level system folder")
        return folder

    @field_validator("pattern")
    @classmethod
    def _name_glob(cls, value: str) -> str:
        if not value or "/" in value or "\0" in value:
            raise ValueError("must be a glob on file names, without '/'")
        return value


@dataclass
class Sweep:
    """What one walk found (and, unless a dry run, deleted); ``capped``: max_files reached."""

    names: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    size: int = 0
    capped: bool = False


def sweep(spec: CleanupFilesSpec, root: str, cutoff: float, *, delete: bool) -> Sweep:
    """Walk ``root`` and take each matching regular file modified before ``cutoff``."""
    found = Sweep()
    with contextlib.closing(os.fwalk(root, follow_symlinks=False)) as walk:
        for folder, subfolders, files, dirfd in walk:
            subfolders[:] = sorted(subfolders) if spec.recursive else []
            for name in sorted(n for n in files if fnmatchcase(n, spec.pattern)):
                try:
                    info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # gone since the folder was listed
                if not stat.S_ISREG(info.st_mode) or info.st_mtime >= cutoff:
                    continue
                if len(found.names) >= spec.max_files:
                    found.capped = True
                    return found
                shown = os.path.relpath(os.path.join(folder, name), root)
                if delete:
                    try:
                        os.unlink(name, dir_fd=dirfd)
                    except OSError as exc:
                        found.failed.append(f"{shown}: {exc.strerror or exc}")
                        continue
                found.names.append(shown)
                found.size += info.st_size
    return found


class CleanupFiles(Action):
    """Delete (or in a dry run, list) old files under the configured folder."""

    Spec = CleanupFilesSpec

    def __init__(self, spec: CleanupFilesSpec) -> None:
        super().__init__(spec)
        self.spec: CleanupFilesSpec = spec

    def describe(self) -> str:
        age = format_duration(self.spec.older_than)
        return f"delete {self.spec.pattern} older than {age} in {self.spec.folder}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        spec = self.spec
        root = normal(await asyncio.to_thread(os.path.realpath, spec.folder))
        if root in FORBIDDEN:
            return ActionResult(ok=False, summary=f"refusing: {spec.folder} resolves to {root}")
        try:
            found = await asyncio.to_thread(
                sweep, spec, root, ctx.now() - spec.older_than, delete=not dry_run
            )
        except OSError as exc:
            return ActionResult(ok=False, summary=f"cannot clean {spec.folder}: {exc.strerror}")
        ctx.logger.info("cleanup_files %s: %d files", spec.name, len(found.names))
        return _report(spec, found, dry_run=dry_run)


def _report(spec: CleanupFilesSpec, found: Sweep, *, dry_run: bool) -> ActionResult:
    """Count, total size and the first ``SHOWN`` names; failures make the run not ok."""
    age = format_duration(spec.older_than)
    count = len(found.names)
    verb = "would delete" if dry_run else "deleted"
    summary = f"{verb} {count} files ({format_size(found.size)}) older than {age} in {spec.folder}"
    if not count and not found.failed:
        summary = f"no files matching {spec.pattern} older than {age} in {spec.folder}"
    if found.capped:
        summary += f"; stopped at max_files {spec.max_files}, more remain"
    lines = found.names[:SHOWN]
    if count > SHOWN:
        lines.append(f"… and {count - SHOWN} more")
    if found.failed:
        summary += f"; {len(found.failed)} could not be deleted"
        lines += ["could not delete:", *found.failed[:SHOWN]]
    return ActionResult(ok=not found.failed, summary=summary, output="\n".join(lines))
