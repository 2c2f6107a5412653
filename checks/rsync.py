"""Running rsync for the ``sync`` check: the argv, the run, and reading its ``--stats``.

rsync runs as an argv list through asyncio's subprocess API (never a shell), in a session of
its own so a cancelled or overrunning run takes its ssh child with it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from checks.exec import kill_group

REMOTE = re.compile(r"^(?:[^/@:]+@)?[^/:]+:")
"""``host:path`` or ``user@host:path``: rsync's remote-shell form (``/a:b`` is a local path)."""

STATS = {
    "files": re.compile(r"^Number of regular files transferred: ([\d,]+)", re.M),
    "bytes": re.compile(r"^Total transferred file size: ([\d,]+)", re.M),
    "deleted": re.compile(r"^Number of deleted files: ([\d,]+)", re.M),
}
OUTPUT_KEPT = 64_000


def is_remote(place: str) -> bool:
    """True for ``host:path`` (over ssh), False for a local path."""
    return REMOTE.match(place) is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class RsyncRun:
    """One finished rsync: its exit code (None: killed at the limit), stdout and stderr."""

    code: int | None
    out: str
    err: str


class SyncPlan(Protocol):
    """What a sync says about itself (``checks.sync.SyncSpec``)."""

    rsync: str
    source: str
    destination: str
    exclude: list[str]
    delete: bool
    ssh: str


def sync_argv(plan: SyncPlan, io_timeout: int) -> list[str]:
    """rsync's argv: archive mode, stats, the excludes, ``--delete`` only when asked."""
    argv = [plan.rsync, "--archive", "--stats", f"--timeout={io_timeout}"]
    if is_remote(plan.source) or is_remote(plan.destination):
        argv.append(f"--rsh={plan.ssh}")
    if plan.delete:
        argv.append("--delete")
    argv += [f"--exclude={pattern}" for pattern in plan.exclude]
    argv += ["--", plan.source.rstrip("/") + "/", plan.destination]
    return argv


def list_argv(rsync: str, place: str, rsh: str, io_timeout: int) -> list[str]:
    """rsync's argv listing the top of ``place`` (what a remote source holds)."""
    argv = [rsync, "--list-only", f"--timeout={io_timeout}"]
    if is_remote(place):
        argv.append(f"--rsh={rsh}")
    return [*argv, "--", place.rstrip("/") + "/"]


async def run_rsync(argv: Sequence[str], limit: float) -> RsyncRun:
    """Run rsync to its end or ``limit`` seconds, whichever comes first."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(limit):
            out, err = await proc.communicate()
    except TimeoutError:
        return RsyncRun(code=None, out="", err="")
    finally:
        if proc.returncode is None:  # overran, or the run was cancelled
            await kill_group(proc)
    decode = lambda data: data[-OUTPUT_KEPT:].decode("utf-8", "replace")  # noqa: E731
    return RsyncRun(code=proc.returncode, out=decode(out), err=decode(err))


def parse_stats(out: str) -> dict[str, float]:
    """Files transferred, bytes transferred and files deleted, from ``--stats``."""
    found = {}
    for name, pattern in STATS.items():
        match = pattern.search(out)
        if match:
            found[name] = float(match.group(1).replace(",", ""))
    return found


def listed_entries(out: str) -> int:
    """Entries of a ``--list-only`` listing, the folder itself (``.``) left out."""
    lines = [line for line in out.splitlines() if line.strip()]
    return sum(1 for line in lines if line.split()[-1] != ".")


def error_line(err: str) -> str:
    """The line of rsync's stderr worth showing: its first complaint."""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    for line in lines:
        if not line.startswith("rsync error:"):
            return line
    return lines[0] if lines else "no error text"
