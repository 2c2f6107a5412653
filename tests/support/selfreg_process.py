"""Run the unmodified ``selfreg`` command as a child process, configured only by file and env."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

READY = re.compile(r"selfreg is running: .* status at (http://\S+)/status")


def selfreg_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no proxies, no Slack, the data folder and a free web port."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SELFREG_", "SLACK_"))
        and key.lower() not in ("http_proxy", "https_proxy")
    }
    env.update(SELFREG_DATA_DIR=str(data_dir), SELFREG_WEB_PORT="0", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one ``selfreg`` CLI command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


class SelfregProcess:
    """``selfreg run`` in a child process, with its output lines collected as they come."""

    def __init__(self, config: Path, env: dict[str, str], cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = ""

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """The first new output line matching ``pattern``; fails after ``timeout`` seconds."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            if match := compiled.search(line):
                return match
        raise AssertionError(f"no line matched {pattern!r}; output so far:\n{''.join(self.output)}")

    def wait_ready(self, timeout: float = 30.0) -> str:
        """Wait for the start-up line; returns the web server's base URL."""
        self.url = self.wait_for(READY.pattern, timeout).group(1)
        return self.url

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; SIGKILL if it will not go."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        """``kill -9``: no chance to clean up."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
