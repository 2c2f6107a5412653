"""A folder that turns read-only and back under its writers: a FUSE passthrough with a switch.

A storage volume or an NFS export that the other side makes read-only for a while answers
EROFS to every write-type call from files opened before, and takes writes again once it is
writable: a local file system cannot be made to do that under a running selfreg (the kernel
refuses ``mount -o remount,ro`` while a file is open for writing: ``readonly_disk.py``).
This FUSE file system passes every call to a real folder, except while ``switch`` (a file
outside the mount) exists: then write, create, truncate, unlink, rename, mknod, mkdir, rmdir,
chmod, chown, utimens, link, symlink, fallocate, opening for writing and fsync of a handle
opened for writing fail with EROFS; reads keep working. The kernel's page cache stays on
(no ``direct_io``) so that SQLite's ``-shm`` maps shared (``MAP_SHARED``) as on any disk;
POSIX locks are the kernel's own (no ``lock`` operation), which serve processes on this host.

Run in its own process (``python tests/support/readonly_fuse.py BACKING MOUNT SWITCH``;
``ReadOnlySwitch`` starts and stops it): a FUSE server in the process it serves would
deadlock on its own calls.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
STAT_KEYS = (
    "st_mode",
    "st_nlink",
    "st_uid",
    "st_gid",
    "st_size",
    "st_atime",
    "st_mtime",
    "st_ctime",
)


def fuse_missing() -> str | None:
    """Why a FUSE mount cannot be made here, or None: /dev/fuse, root, libfuse and mfusepy."""
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse"
    if os.geteuid() != 0:
        return "mounting FUSE needs root here"
    try:
        import mfusepy  # noqa: F401  (loads libfuse: OSError without it)
    except (ImportError, OSError) as exc:
        return f"mfusepy or libfuse missing: {exc}"
    return None


def _operations(backing: str, switch: str) -> Any:
    """The passthrough, built here so that importing this module needs no libfuse."""
    import mfusepy

    def refuse_if_read_only() -> None:
        if os.path.exists(switch):
            raise mfusepy.FuseOSError(errno.EROFS)

    class Passthrough(mfusepy.Operations):
        use_ns = True

        def __init__(self) -> None:
            self.writers: set[int] = set()  # handles opened for writing: their fsync refuses

        def _real(self, path: str) -> str:
            return os.path.join(backing, path.lstrip("/"))

        def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
            st = os.fstat(fh) if fh is not None else os.lstat(self._real(path))
            found = {key: getattr(st, key) for key in STAT_KEYS}
            found.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns)
            found.update(st_ctime=st.st_ctime_ns, st_blocks=st.st_blocks)
            return found

        def readdir(self, path: str, fh: int) -> list[str]:
            return [".", "..", *os.listdir(self._real(path))]

        def statfs(self, path: str) -> dict[str, int]:
            sv = os.statvfs(self._real(path))
            keys = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files")
            return {key: getattr(sv, key) for key in (*keys, "f_ffree", "f_namemax")}

        def access(self, path: str, amode: int) -> int:
            if amode & os.W_OK:
                refuse_if_read_only()
            if not os.access(self._real(path), amode):
                raise mfusepy.FuseOSError(errno.EACCES)
            return 0

        def open(self, path: str, flags: int) -> int:
            if flags & WRITE_FLAGS:
                refuse_if_read_only()
            fh = os.open(self._real(path), flags)
            if flags & WRITE_FLAGS:
                self.writers.add(fh)
            return fh

        def create(self, path: str, mode: int, fi: Any = None) -> int:
            refuse_if_read_only()
            fh = os.open(self._real(path), os.O_CREAT | os.O_RDWR, mode)
            self.writers.add(fh)
            return fh

        def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
            return os.pread(fh, size, offset)

        def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
            refuse_if_read_only()
            return os.pwrite(fh, data, offset)

        def truncate(self, path: str, length: int, fh: int | None = None) -> int:
            refuse_if_read_only()
            os.truncate(self._real(path), length)
            return 0

        def fallocate(self, path: str, mode: int, offset: int, size: int, fh: int) -> int:
            refuse_if_read_only()
            os.posix_fallocate(fh, offset, size)
            return 0

        def fsync(self, path: str, datasync: int, fh: int) -> int:
            if fh in self.writers:
                refuse_if_read_only()
            (os.fdatasync if datasync else os.fsync)(fh)
            return 0

        def flush(self, path: str, fh: int) -> int:
            return 0

        def release(self, path: str, fh: int) -> int:
            self.writers.discard(fh)
            os.close(fh)
            return 0

        def unlink(self, path: str) -> int:
            refuse_if_read_only()
            os.unlink(self._real(path))
            return 0

        def rename(self, old: str, new: str) -> int:
            refuse_if_read_only()
            os.rename(self._real(old), self._real(new))
            return 0

        def mknod(self, path: str, mode: int, dev: int) -> int:  # the control socket's node
            refuse_if_read_only()
            os.mknod(self._real(path), mode, dev)
            return 0

        def mkdir(self, path: str, mode: int) -> int:
            refuse_if_read_only()
            os.mkdir(self._real(path), mode)
            return 0

        def rmdir(self, path: str) -> int:
            refuse_if_read_only()
            os.rmdir(self._real(path))
            return 0

        def chmod(self, path: str, mode: int) -> int:
            refuse_if_read_only()
            os.chmod(self._real(path), mode)
            return 0

        def chown(self, path: str, uid: int, gid: int) -> int:
            refuse_if_read_only()
            os.chown(self._real(path), uid, gid)
            return 0

        def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
            refuse_if_read_only()
            if times is None:
                os.utime(self._real(path))  # now
            else:
                os.utime(self._real(path), ns=times)
            return 0

        def link(self, target: str, source: str) -> int:
            refuse_if_read_only()
            os.link(self._real(source), self._real(target))
            return 0

        def symlink(self, target: str, source: str) -> int:
            refuse_if_read_only()
            os.symlink(source, self._real(target))
            return 0

        def readlink(self, path: str) -> str:
            return os.readlink(self._real(path))

    return Passthrough()


class ReadOnlySwitch:
    """The passthrough mounted over ``mount`` (backed by ``backing``) in a child process;
    ``read_only()`` and ``writable()`` flip it; ``close()`` unmounts."""

    def __init__(self, backing: Path, mount: Path, switch: Path, timeout: float = 10.0) -> None:
        backing.mkdir(parents=True, exist_ok=True)
        mount.mkdir(parents=True, exist_ok=True)
        switch.unlink(missing_ok=True)
        self.mount, self.switch = mount, switch
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(backing), str(mount), str(switch)],
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while not os.path.ismount(mount):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                said = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"the FUSE passthrough did not mount: {said.strip()}")
            time.sleep(0.05)

    def read_only(self) -> None:
        self.switch.touch()

    def writable(self) -> None:
        self.switch.unlink(missing_ok=True)

    def close(self) -> None:
        """Unmount (lazily: a process still holding a file there keeps its handle) and end
        the server."""
        self.writable()
        subprocess.run(["umount", "-l", str(self.mount)], capture_output=True)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def main(backing: str, mount: str, switch: str) -> None:
    import mfusepy

    operations = _operations(os.path.abspath(backing), os.path.abspath(switch))
    mfusepy.FUSE(operations, mount, foreground=True, fsname="selfreg-read-only-switch")


if __name__ == "__main__":
    main(*sys.argv[1:4])
