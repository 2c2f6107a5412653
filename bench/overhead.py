"""What does a quiet selfreg cost? CPU % of one core and peak RSS, against a baseline.

The budget in the design is Monit's footprint: a selfreg watching 20 processes and 50 HTTP
endpoints every 5 s should cost under 0.5 % of one core and under 90 MB of resident memory
(the reference, Monit, costs 0.27 % and 9 MB). This script builds that setup on loopback
and measures the real ``selfreg run`` from the outside:

- a loopback HTTP server in its own process (aiohttp, 127.0.0.1, a free port, ``/e0`` ..
  ``/e49`` answering 200);
- 20 sleeper processes, each carrying a ``marker-N`` argument;
- a generated ``selfreg.toml``: 20 ``process`` checks (``cmdline = 'marker-N\\b'``) and 50
  ``http`` checks, all every ``5s``, models off, web port 0, data in a temporary folder.

selfreg is started as ``python -m bot run --config FILE`` (``SELFREG_DATA_DIR`` in a temporary
folder, ``SELFREG_WEB_PORT=0``). Once it prints that it runs, a warm-up of 12.5 s is skipped:
about 10 s for start-up (imports, migrations, the first full process-table scan, opening the
keep-alive connections) plus half an interval, so the window opens halfway between two check
rounds and a window that is a multiple of 5 s holds exactly that many rounds. Then selfreg's
CPU time (user + system) is read with psutil at the start and at the end of the measurement
window (default 60 s, ``--seconds N``) and its RSS is sampled every 0.5 s for the peak.

In the same run and the same way, a baseline is measured: selfreg with the same setup but
zero checks, the runtime idling (web server, scheduler housekeeping, lag probe, outbox
worker). The script prints both, the increment the checks add, the ratio, the reference
figures and whether the target is met. Nothing leaves 127.0.0.1; every child process is
killed on the way out.

A third run uses the same 70 checks with the shipped ``[models]`` defaults (anomaly,
forecast and failure risk on): its target is under 1 % of a core and 150 MB. Its warm-up is
longer (``--models-warmup``, default 160 s) so that every forecast has its 30 points and
fits on each new sample inside the window; the retrain job runs at start (failure risk, from
a store with too little history to fit a forest) and then hourly, outside the window.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from loopback import (
    HOST,
    START_TIMEOUT,
    STOP_TIMEOUT,
    start_server,
)

PROCESSES = 20
ENDPOINTS = 50
INTERVAL = "5s"
INTERVAL_SECONDS = 5.0
# About 10 s of start-up skipped, then half an interval more: selfreg runs a round at start
# and every 5 s after, so the window opens halfway between two rounds and a window that is a
# multiple of 5 s holds exactly that many rounds, never one more or one less.
WARMUP_SECONDS = 10.0 + INTERVAL_SECONDS / 2
CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK")  # resolution of the kernel's CPU time counters
SAMPLE_EVERY = 0.5

MONIT_CPU_PERCENT = 0.27
MONIT_RSS_MB = 9.0
TARGET_CPU_PERCENT = 0.5
TARGET_RSS_MB = 90.0
MODELS_TARGET_CPU_PERCENT = 1.0
MODELS_TARGET_RSS_MB = 150.0
MODELS_WARMUP_SECONDS = 160.0

SLEEPER_CODE = "import time; time.sleep(10**6)"


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one selfreg cost over the measurement window."""

    label: str
    checks: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def cpu_percent(self) -> float:
        """CPU time over wall time, in % of one core."""
        return 100.0 * self.cpu_seconds / self.seconds


# ---- the loopback HTTP server (its own process) ------------------------------------------
def start_sleepers(count: int, into: list[subprocess.Popen[bytes]]) -> None:
    """``count`` idle processes, the N-th with ``marker-N`` on its command line.

    Each is appended to ``into`` as soon as it exists, so a failure half-way leaves nothing
    that the caller's clean-up does not know about.
    """
    for n in range(count):
        into.append(subprocess.Popen([sys.executable, "-c", SLEEPER_CODE, f"marker-{n}"]))


# ---- the config selfreg runs on -----------------------------------------------------------
def config_text(port: int, processes: int, endpoints: int, models: bool = False) -> str:
    """A selfreg.toml: ``processes`` process checks and ``endpoints`` http checks; the
    models off, or (``models``) left to the shipped defaults, which turn them on."""
    lines = ["[web]", f'host = "{HOST}"', "port = 0", ""]
    if not models:
        lines += ["[models]", "anomaly = false", "failure_risk = false", "forecast = false", ""]
    for n in range(processes):
        lines += [
            "[[checks]]",
            'kind = "process"',
            f'name = "proc-{n}"',
            f"cmdline = 'marker-{n}\\b'",
            f'interval = "{INTERVAL}"',
            "",
        ]
    for n in range(endpoints):
        lines += [
            "[[checks]]",
            'kind = "http"',
            f'name = "http-{n}"',
            f'url = "http://{HOST}:{port}/e{n}"',
            f'interval = "{INTERVAL}"',
            "",
        ]
    return "\n".join(lines)


# ---- one selfreg, started, measured, stopped ----------------------------------------------
def selfreg_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SELFREG_DATA_DIR=str(data_dir), SELFREG_WEB_PORT="0", SELFREG_WEB_HOST=HOST)
    env.pop("SELFREG_ENV", None)
    env.pop("SELFREG_CONFIG", None)
    return env


@contextlib.contextmanager
def running_selfreg(config: Path, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m bot run --config FILE``, its output in the data folder; killed on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "selfreg.out"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env=selfreg_env(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
        )
        try:
            wait_until_started(process, log_path)
            yield process
        finally:
            stop_process(process)


def wait_until_started(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait for selfreg's "selfreg is running" line; raise with its output if it never comes."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if "selfreg is running" in text:
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    output = log_path.read_text(errors="replace")
    raise RuntimeError(f"selfreg did not start (exit code {process.poll()}):\n{output}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def measure(pid: int, seconds: float) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS bytes) of ``pid`` over a window of ``seconds``."""
    proc = psutil.Process(pid)
    start_wall, start_cpu = time.monotonic(), cpu_seconds(proc)
    peak = proc.memory_info().rss
    end = start_wall + seconds
    while (now := time.monotonic()) < end:
        time.sleep(min(SAMPLE_EVERY, end - now))
        peak = max(peak, proc.memory_info().rss)
    return time.monotonic() - start_wall, cpu_seconds(proc) - start_cpu, float(peak)


def status_counts(data_dir: Path, config: Path) -> dict[str, int]:
    """Ask the running selfreg (control socket) how many checks are in each status."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "status", "--json", "--config", str(config)],
        env=selfreg_env(data_dir),
        capture_output=True,
        timeout=30,
        check=False,
    )
    try:
        body = json.loads(result.stdout)
    except ValueError:
        return {"(status unreadable)": 1}
    counts: dict[str, int] = {}
    for entry in body.get("checks", []):
        status = str(entry.get("status", "?"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def run_one(
    label: str,
    config: Path,
    data_dir: Path,
    checks: int,
    seconds: float,
    warmup: float = WARMUP_SECONDS,
) -> tuple[Footprint, dict[str, int]]:
    """Start selfreg, let it warm up, measure it for ``seconds``, stop it."""
    print(f"{label}: starting selfreg with {checks} checks ...", flush=True)
    with running_selfreg(config, data_dir) as process:
        time.sleep(warmup)
        print(f"{label}: warm-up done, measuring for {seconds:g} s ...", flush=True)
        wall, cpu, peak = measure(process.pid, seconds)
        counts = status_counts(data_dir, config) if checks else {}
    footprint = Footprint(
        label=label, checks=checks, seconds=wall, cpu_seconds=cpu, peak_rss_mb=peak / 1e6
    )
    return footprint, counts


# ---- report ---------------------------------------------------------------------------------
def report(loaded: Footprint, baseline: Footprint, counts: dict[str, int]) -> None:
    cpu_delta = loaded.cpu_percent - baseline.cpu_percent
    rss_delta = loaded.peak_rss_mb - baseline.peak_rss_mb
    cpu_met = loaded.cpu_percent < TARGET_CPU_PERCENT
    rss_met = loaded.peak_rss_mb < TARGET_RSS_MB
    print()
    print(f"selfreg overhead, {PROCESSES} processes + {ENDPOINTS} HTTP endpoints every {INTERVAL}")
    print(
        f"window {loaded.seconds:.1f} s after a {WARMUP_SECONDS:g} s warm-up, "
        f"{psutil.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"
    )
    print(f"{'':28}{'CPU % of one core':>20}{'peak RSS MB':>14}")
    for row in (baseline, loaded):
        name = f"{row.label} ({row.checks} checks)"
        print(f"{name:28}{row.cpu_percent:>20.3f}{row.peak_rss_mb:>14.1f}")
    print(f"{'increment (checks)':28}{cpu_delta:>20.3f}{rss_delta:>14.1f}")
    cpu_ratio = (
        f"{loaded.cpu_percent / baseline.cpu_percent:.2f}x" if baseline.cpu_seconds else "n/a"
    )
    rss_ratio = f"{loaded.peak_rss_mb / baseline.peak_rss_mb:.2f}x"
    print(f"{'ratio loaded / baseline':28}{cpu_ratio:>20}{rss_ratio:>14}")
    print(f"{'reference: Monit':28}{MONIT_CPU_PERCENT:>20.3f}{MONIT_RSS_MB:>14.1f}")
    print(f"{'target (loaded, under)':28}{TARGET_CPU_PERCENT:>20.3f}{TARGET_RSS_MB:>14.1f}")
    print(
        f"target met: CPU {'yes' if cpu_met else 'NO'}, RSS {'yes' if rss_met else 'NO'}"
        f" -> {'MET' if cpu_met and rss_met else 'MISSED'}"
    )
    tick = 100.0 * CLOCK_TICK / loaded.seconds
    print(
        f"CPU resolution: one {CLOCK_TICK * 1000:g} ms clock tick = {tick:.3f} % over this window"
    )
    if not baseline.cpu_seconds:
        print("(the idle baseline used less than one clock tick, so its ratio is n/a)")
    print(f"check statuses at the end of the window: {counts or 'none reported'}")


def report_models(models: Footprint, loaded: Footprint, warmup: float) -> None:
    """The run with the shipped [models] defaults, against its own target."""
    cpu_met = models.cpu_percent < MODELS_TARGET_CPU_PERCENT
    rss_met = models.peak_rss_mb < MODELS_TARGET_RSS_MB
    print()
    print("with the shipped [models] defaults (anomaly, forecast, failure risk on), window")
    print(f"{models.seconds:.1f} s after a {warmup:g} s warm-up (every forecast past 30 points)")
    print(f"{'':28}{'CPU % of one core':>20}{'peak RSS MB':>14}")
    for row in (loaded, models):
        print(f"{row.label:28}{row.cpu_percent:>20.3f}{row.peak_rss_mb:>14.1f}")
    print(
        f"{'increment (models)':28}{models.cpu_percent - loaded.cpu_percent:>20.3f}"
        f"{models.peak_rss_mb - loaded.peak_rss_mb:>14.1f}"
    )
    print(
        f"{'target (models, under)':28}{MODELS_TARGET_CPU_PERCENT:>20.3f}"
        f"{MODELS_TARGET_RSS_MB:>14.1f}"
    )
    print(
        f"target met: CPU {'yes' if cpu_met else 'NO'}, RSS {'yes' if rss_met else 'NO'}"
        f" -> {'MET' if cpu_met and rss_met else 'MISSED'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="measurement window per run, after a 12.5 s warm-up (default 60)",
    )
    parser.add_argument(
        "--models-warmup",
        type=float,
        default=MODELS_WARMUP_SECONDS,
        help="warm-up of the run with the models on (default 160)",
    )
    parser.add_argument(
        "--skip-models", action="store_true", help="leave out the run with the models on"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    server: multiprocessing.Process | None = None
    sleepers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="selfreg-bench-") as tmp:
        root = Path(tmp)
        try:
            server, port = start_server(ENDPOINTS)
            start_sleepers(PROCESSES, sleepers)
            loaded_config = root / "loaded.toml"
            loaded_config.write_text(config_text(port, PROCESSES, ENDPOINTS))
            idle_config = root / "idle.toml"
            idle_config.write_text(config_text(port, 0, 0))
            baseline, _ = run_one("baseline", idle_config, root / "idle", 0, args.seconds)
            loaded, counts = run_one(
                "loaded", loaded_config, root / "loaded", PROCESSES + ENDPOINTS, args.seconds
            )
            report(loaded, baseline, counts)
            if not args.skip_models:
                models_config = root / "models.toml"
                models_config.write_text(config_text(port, PROCESSES, ENDPOINTS, models=True))
                models, _ = run_one(
                    "loaded, models on",
                    models_config,
                    root / "models",
                    PROCESSES + ENDPOINTS,
                    args.seconds,
                    warmup=args.models_warmup,
                )
                report_models(models, loaded, args.models_warmup)
        finally:
            cleanup(server, sleepers)


def cleanup(
    server: multiprocessing.Process | None, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    """Kill the sleepers and the server, and reap them."""
    for sleeper in sleepers:
        if sleeper.poll() is None:
            sleeper.kill()
    for sleeper in sleepers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            sleeper.wait(timeout=STOP_TIMEOUT)
    if server is not None and server.is_alive():
        server.kill()
        server.join(timeout=STOP_TIMEOUT)


if __name__ == "__main__":
    main()
