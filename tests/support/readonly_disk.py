"""A disk that turns read-only under a running selfreg: ext4's ``errors=remount-ro``.

``mount -o remount,ro`` cannot do it: the kernel makes a mounted file system (or one mount
of it, ``remount,bind,ro``) read-only only while no file on it is open for writing
(``sb_prepare_remount_readonly`` and ``mnt_make_readonly`` answer EBUSY while a mount has
writers), and the running store always holds its database, ``-wal`` and ``-shm`` open for
writing. ``blockdev --setro`` under a mounted file system only warns ("Trying to write to
read-only block-device"): the writes go through. What does turn a mounted file system
read-only with writers open is the file system itself, on an error: ext4 mounted with
``errors=remount-ro`` (the default Debian and Ubuntu give ``/``) aborts its journal and
marks itself read-only at the first error it detects (a bad block, a failed journal write).

Here: an ext4 image on a loop device, mounted ``errors=remount-ro`` as the data folder, and
the error made by ext4's own hook (``/sys/fs/ext4/<device>/trigger_fs_error``, the path
``ext4_error`` takes). ext4 then refuses ``remount,rw`` (its journal is aborted: it must be
unmounted and checked), so the cause goes away only through: selfreg stopped, umount,
``e2fsck``, mount, selfreg started. Observed: /health, the console and Slack during the
fault, check runs during it, the refused ``remount,rw``, what a start on the read-only disk
says, the rows committed before the error that are still there after ``e2fsck``, and the
restarted selfreg's /health.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.support.disk_faults import DiskRig, FaultFigures
from tests.support.readonly_fuse import ReadOnlySwitch
from tests.support.selfreg_process import SelfregProcess
from tests.support.slack_selfreg import CHANNEL
from tests.support.slack_standin import SlackEmulator

SETTLE = 12.0  # seconds selfreg runs first: beyond ext4's 5 s journal commit interval


def can_make_ext4() -> bool:
    """Loop devices, ext4 and its error hook are there (root, a kernel with ext4)."""
    found = subprocess.run(["losetup", "-f"], capture_output=True)
    return found.returncode == 0 and Path("/sys/fs/ext4").is_dir()


@contextlib.contextmanager
def ext4_image(image: Path, where: Path, size: str = "32M") -> Iterator[Path]:
    """An ext4 file system in ``image``, on a loop device, mounted ``errors=remount-ro``."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    _mount(image, where)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)  # loop freed with it


def _mount(image: Path, where: Path) -> None:
    options = "loop,errors=remount-ro"
    subprocess.run(["mount", "-o", options, str(image), str(where)], check=True)
    mounted = subprocess.run(
        ["findmnt", "-no", "OPTIONS,SOURCE", str(where)], capture_output=True, text=True
    ).stdout.split()
    if not mounted or not mounted[0].startswith("rw"):  # a loop device left read-only
        subprocess.run(["umount", str(where)], check=False)
        raise RuntimeError(f"{image} mounted read-only from the start ({' '.join(mounted)})")


def break_disk(where: Path) -> None:
    """ext4's own error path: the journal aborts, the file system turns read-only."""
    device = subprocess.run(
        ["findmnt", "-no", "SOURCE", str(where)], capture_output=True, text=True, check=True
    ).stdout.strip()
    hook = Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"
    hook.write_text("selfreg disk fault bench\n")


def read_only_fault(tmp: Path, hold: float, slack: SlackEmulator | None) -> FaultFigures:
    """selfreg on an ext4 data folder that turns read-only; see the module's docstring."""
    image, data = tmp / "disk.img", tmp / "ext4-data"
    figures = FaultFigures("read-only (ext4 error)")
    with ext4_image(image, data):
        rig = DiskRig(tmp, data, slack)
        try:
            time.sleep(SETTLE)
            before, runs, told = rig.committed(), rig.check_runs(), rig.slack_notices()
            seen = len(rig.selfreg.output)
            break_disk(data)
            time.sleep(hold)
            code, body = rig.health()
            reasons = "; ".join(body.get("reasons", []))
            figures.health_during = (
                f"{code} {body.get('status')}: {reasons} ({body.get('store_error')})"
            )
            figures.checks_ran_during = int(rig.check_runs() - runs)
            figures.slack_told = rig.told_since(told, wait=5.0)
            output = "".join(rig.selfreg.output[seen:]).lower()
            figures.console_said = "store" in output and "cannot be written" in output
            figures.notes.append(_remount_rw(data))
        finally:
            rig.stop()
        figures.notes.append(_start_on(rig))
        figures.lost_rows, figures.recovered_after = _repair_and_restart(rig, image, data, before)
    return figures


def _remount_rw(where: Path) -> str:
    done = subprocess.run(["mount", "-o", "remount,rw", str(where)], capture_output=True)
    said = done.stderr.decode().strip().splitlines()
    return f"mount -o remount,rw: exit {done.returncode} ({said[0] if said else 'done'})"


def _start_on(rig: DiskRig) -> str:
    """What ``selfreg run`` says when started on the read-only disk (selfreg stopped)."""
    started = SelfregProcess(rig.config, rig.env)
    try:
        code = started.proc.wait(60)
    except subprocess.TimeoutExpired:
        code = started.stop()
    time.sleep(0.2)  # the output pump's last lines
    said = [line.split("  ", 1)[-1].strip() for line in started.output if "FAIL" in line]
    return f"selfreg run on the read-only disk: exit {code}: {said[0][:200] if said else ''}"


def _repair_and_restart(
    rig: DiskRig, image: Path, data: Path, before: dict[str, tuple[int, int]]
) -> tuple[int, float | None]:
    """umount, e2fsck, mount, then selfreg again: (committed rows lost, seconds from its
    start to /health ok)."""
    subprocess.run(["umount", str(data)], check=True)
    subprocess.run(["e2fsck", "-fy", str(image)], capture_output=True, check=False)
    _mount(image, data)
    lost = rig.lost_since(before)
    started = time.monotonic()
    rig.selfreg = SelfregProcess(rig.config, rig.env)
    try:
        rig.url = rig.selfreg.wait_ready(timeout=60)
        code, _ = rig.health()
        return lost, time.monotonic() - started if code == 200 else None
    finally:
        rig.stop()


def read_only_volume_fault(tmp: Path, hold: float, slack: SlackEmulator | None) -> FaultFigures:
    """selfreg on a FUSE passthrough (``readonly_fuse.py``) that refuses every write with
    EROFS for ``hold`` seconds, then takes writes again: a volume made read-only and back."""
    volume = ReadOnlySwitch(tmp / "volume-backing", tmp / "volume", tmp / "volume-read-only")
    try:
        rig = DiskRig(tmp, volume.mount, slack)
        try:
            time.sleep(2.0)

            def start() -> Callable[[], None]:
                volume.read_only()
                return volume.writable

            figures = rig.fault("read-only (volume)", start, hold)
            figures.alert_after = _resolution_reaches_slack(rig)
            return figures
        finally:
            rig.stop()
    finally:
        volume.close()


def _resolution_reaches_slack(rig: DiskRig, wait: float = 30.0) -> float | None:
    """Seconds from the ``db`` check's port opening (after the fault) to its incident's
    resolution in Slack: the outbox delivers again. None without Slack or within ``wait``."""
    if rig.slack is None:
        return None
    with socket.create_server(("127.0.0.1", rig.port)):
        opened = time.monotonic()
        while time.monotonic() - opened < wait:
            if any("resolved" in m.text.lower() for m in rig.slack.messages(CHANNEL)):
                return time.monotonic() - opened
            time.sleep(0.1)
    return None
