"""What does a quiet selfreg cost? CPU % of one core and RSS of its process tree, against an
idle baseline measured in the same run.

The case (issue 15): selfreg watching 20 processes and 50 HTTP endpoints every 5 s at its
shipped defaults (the models on) with Slack on in HTTP mode, against both kinds of endpoint:

- ``keepalive``: an aiohttp server speaking HTTP/1.1 (selfreg keeps its connections open);
- ``close``: Python's ``ThreadingHTTPServer`` speaking HTTP/1.0 (listen backlog 5), so every
  check opens and closes a TCP connection, as many small health endpoints do.

The targets are **at most 0.40 % of one core** and **at most 80 MB** for the whole process
tree (selfreg and every child it keeps, the multiprocessing resource tracker included). The
reference, Monit 5.33 measured next to it, costs 0.30 % and 9 MB.

Setup, all on 127.0.0.1 and all made here: one server of each kind in its own process
(``/e0`` .. ``/e49`` answer 200), 20 sleeper processes carrying ``marker-N``, the Slack
stand-in (``tests/support/slack_standin``, answering as Slack does) and a generated
``selfreg.toml``: 20 ``process`` checks and 50 ``http`` checks every ``5s``. selfreg runs as
``python -m bot run --config FILE`` with its data in a temporary folder.

How: once selfreg prints that it runs, a warm-up is skipped (12.5 s idle; 160 s loaded with
the models on, so every forecast has its 30 points and fits inside the window; it also ends
halfway between two check rounds). Then ``--windows`` windows of ``--seconds`` each: CPU
(user + system, from psutil) of selfreg, and of the tree (selfreg, its live children and the
children it reaped meanwhile), read at each window's start and end; RSS of selfreg and of the
tree sampled every 0.5 s for the peak. The median window is reported (the machine's other
load moves single windows), every window is printed too.

Baselines in the same run: the same selfreg (same models, same Slack) with zero checks, and
for each kind the floor: a bare aiohttp client GETting the same 50 endpoints every interval
and doing nothing else (``bench/floor_poller.py``), measured the same way; selfreg's own work
is what it costs above that floor.

    python bench/overhead.py                        # idle + both kinds, 3 x 60 s: ~20 min
    python bench/overhead.py --kinds close --windows 1 --seconds 30   # a quick look
    python bench/overhead.py --tree ../before       # the same bench against another checkout
    python bench/overhead.py --aged 3               # models ready, windows grown (bench/aged.py)

``--aged HOURS`` measures the steady state a long-running selfreg reaches: each selfreg starts
on a store holding that many hours of history with its models trained on it (``aged.py``), so
the anomaly windows are grown, the group forests fitted and the forecasts ready (without it,
the models are still warming up when the windows are measured).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import floor_poller
import psutil
from loopback import HOST, START_TIMEOUT, STOP_TIMEOUT, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aged  # noqa: E402  (imports bot: after the checkout is on the path)

from tests.support.slack_selfreg import new_emulator, slack_env  # noqa: E402

PROCESSES = 20
ENDPOINTS = 50
INTERVAL = "5s"
IDLE_WARMUP = 12.5  # ~10 s of start-up, then half an interval: the window opens mid-way
FLOOR_WARMUP = 7.5  # the bare poller: one and a half intervals
MODELS_WARMUP = 160.0  # every forecast past its 30 points (at 5 s), then mid-interval
CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK")
SECONDS_PER_ROUND = float(INTERVAL.removesuffix("s"))
SAMPLE_EVERY = 0.5
KINDS = ("keepalive", "close")

MONIT = (0.30, 9.0)
TARGET_CPU_PERCENT = 0.40
TARGET_RSS_MB = 80.0
SLEEPER_CODE = "import time; time.sleep(10**6)"


@dataclass(frozen=True, slots=True)
class Window:
    """One measurement window of one selfreg."""

    seconds: float
    cpu: float  # selfreg's own CPU seconds
    tree_cpu: float  # selfreg plus its children, live and reaped
    peak_rss: float  # bytes, selfreg alone
    peak_tree_rss: float  # bytes, the whole tree at one instant


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one selfreg cost: its windows, and what it looked like at the end."""

    label: str
    checks: int
    windows: list[Window]
    threads: int
    children: list[str]
    statuses: dict[str, int]

    def median(self, field: str) -> float:
        """Median over the windows of a per-second CPU figure, in % of a core."""
        return statistics.median(100.0 * getattr(w, field) / w.seconds for w in self.windows)

    @property
    def peak_rss_mb(self) -> float:
        return max(w.peak_rss for w in self.windows) / 1e6

    @property
    def peak_tree_mb(self) -> float:
        return max(w.peak_tree_rss for w in self.windows) / 1e6


def start_sleepers(count: int, into: list[subprocess.Popen[bytes]]) -> None:
    """``count`` idle processes, the N-th with ``marker-N`` on its command line."""
    for n in range(count):
        into.append(subprocess.Popen([sys.executable, "-c", SLEEPER_CODE, f"marker-{n}"]))


def config_text(port: int, checks: bool, models: bool) -> str:
    """A selfreg.toml: 20 process and 50 http checks (or none); models at the shipped
    defaults (on) or off; console alerts off (the bench reads selfreg's output)."""
    lines = ["[web]", f'host = "{HOST}"', "port = 0", "", "[alerts]", "console = false", ""]
    if not models:
        lines += ["[models]", "anomaly = false", "failure_risk = false", "forecast = false", ""]
    for n in range(PROCESSES if checks else 0):
        lines += ["[[checks]]", 'kind = "process"', f'name = "proc-{n}"']
        lines += [f"cmdline = 'marker-{n}\\b'", f'interval = "{INTERVAL}"', ""]
    for n in range(ENDPOINTS if checks else 0):
        lines += ["[[checks]]", 'kind = "http"', f'name = "http-{n}"']
        lines += [f'url = "http://{HOST}:{port}/e{n}"', f'interval = "{INTERVAL}"', ""]
    return "\n".join(lines)


def launch_selfreg(config: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    """``python -m bot run --config FILE`` in its data folder; (the process, its output file)."""
    data_dir = Path(env["SELFREG_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "selfreg.out"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
        )
    return process, log_path


@contextlib.contextmanager
def running_selfreg(config: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``launch_selfreg`` once it says it runs; stopped on exit."""
    process, log_path = launch_selfreg(config, env)
    try:
        wait_until_started(process, log_path)
        yield process
    finally:
        stop_process(process)


def wait_until_started(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait for selfreg's "selfreg is running" line; raise with its output if it never comes."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if "selfreg is running" in log_path.read_text(errors="replace"):
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


def cpu_of(proc: psutil.Process) -> tuple[float, float]:
    """(own CPU seconds, tree CPU seconds: own + reaped children + live descendants)."""
    times = proc.cpu_times()
    own = times.user + times.system
    tree = own + times.children_user + times.children_system
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child_times = child.cpu_times()
            tree += child_times.user + child_times.system
    return own, tree


def rss_of(proc: psutil.Process) -> tuple[float, float]:
    """(selfreg's RSS, the tree's RSS), in bytes."""
    own = float(proc.memory_info().rss)
    tree = own
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            tree += child.memory_info().rss
    return own, tree


def measure(proc: psutil.Process, seconds: float) -> Window:
    """One window of ``seconds``: CPU read at both ends, RSS sampled for the peak."""
    start_wall = time.monotonic()
    start_own, start_tree = cpu_of(proc)
    peak, peak_tree = rss_of(proc)
    end = start_wall + seconds
    while (now := time.monotonic()) < end:
        time.sleep(min(SAMPLE_EVERY, end - now))
        own, tree = rss_of(proc)
        peak, peak_tree = max(peak, own), max(peak_tree, tree)
    own_cpu, tree_cpu = cpu_of(proc)
    return Window(
        seconds=time.monotonic() - start_wall,
        cpu=own_cpu - start_own,
        tree_cpu=tree_cpu - start_tree,
        peak_rss=peak,
        peak_tree_rss=peak_tree,
    )


def status_counts(config: Path, env: dict[str, str]) -> dict[str, int]:
    """Ask the running selfreg (control socket) how many checks are in each status, and how
    many incidents are open (a quiet bench opens none: one that does measures its alerts)."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "status", "--json", "--config", str(config)],
        env=env,
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
    counts["open incidents"] = len(body.get("incidents") or [])
    return counts


def run_one(label: str, config: Path, env: dict[str, str], checks: int, args) -> Footprint:
    """Start selfreg, let it warm up, measure its windows, stop it."""
    warmup = IDLE_WARMUP if not checks or args.models == "off" else args.models_warmup
    print(f"{label}: starting selfreg ({checks} checks), warm-up {warmup:g} s ...", flush=True)
    with running_selfreg(config, env) as process:
        time.sleep(warmup)
        proc = psutil.Process(process.pid)
        windows = []
        for n in range(args.windows):
            windows.append(measure(proc, args.seconds))
            w = windows[-1]
            print(
                f"  window {n + 1}: {100 * w.cpu / w.seconds:.3f} % "
                f"(tree {100 * w.tree_cpu / w.seconds:.3f} %), "
                f"tree RSS {w.peak_tree_rss / 1e6:.1f} MB",
                flush=True,
            )
        children = [" ".join(c.cmdline()[-2:]) for c in proc.children(recursive=True)]
        threads = proc.num_threads()
        statuses = status_counts(config, env) if checks else {}
    return Footprint(label, checks, windows, threads, children, statuses)


def run_floor(kind: str, port: int, args) -> Footprint:
    """The bare aiohttp poller against the same server, measured like selfreg."""
    print(f"bare aiohttp GETs, {kind}: warm-up {FLOOR_WARMUP:g} s ...", flush=True)
    poller = floor_poller.start(port, ENDPOINTS, SECONDS_PER_ROUND)
    try:
        time.sleep(FLOOR_WARMUP)
        windows = [measure(psutil.Process(poller.pid), args.seconds) for _ in range(args.windows)]
        threads = psutil.Process(poller.pid).num_threads()
    finally:
        stop_process(poller)
    return Footprint(f"bare aiohttp GETs, {kind}", ENDPOINTS, windows, threads, [], {})


def report(rows: list[Footprint], args, floors: dict[str, Footprint]) -> None:
    baseline = None if args.no_idle else rows[0]
    tick = 100.0 * CLOCK_TICK / args.seconds
    print()
    print(
        f"selfreg overhead, {PROCESSES} processes + {ENDPOINTS} HTTP endpoints every {INTERVAL},"
        f" models {args.models}, Slack {'off' if args.no_slack else 'on (HTTP mode)'}"
    )
    print(
        f"median of {args.windows} window(s) of {args.seconds:g} s, {psutil.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; code: {args.tree or ROOT}"
    )
    head = ("CPU % selfreg", "CPU % tree", "RSS MB", "tree RSS MB", "threads")
    print(f"{'':30}" + "".join(f"{h:>14}" for h in head))
    for row in [*rows, *floors.values()]:
        print(
            f"{row.label:30}{row.median('cpu'):>14.3f}{row.median('tree_cpu'):>14.3f}"
            f"{row.peak_rss_mb:>14.1f}{row.peak_tree_mb:>14.1f}{row.threads:>14}"
        )
    print(f"{'reference: Monit 5.33':30}{MONIT[0]:>14.3f}{'':14}{MONIT[1]:>14.1f}")
    print(f"{'target (at most)':30}{TARGET_CPU_PERCENT:>28.3f}{TARGET_RSS_MB:>28.1f}")
    for row in rows[0 if baseline is None else 1 :]:
        cpu = row.median("tree_cpu")
        met = cpu <= TARGET_CPU_PERCENT and row.peak_tree_mb <= TARGET_RSS_MB
        increment = ""
        if baseline is not None:
            increment = (
                f"increment over idle {cpu - baseline.median('tree_cpu'):.3f} % CPU, "
                f"{row.peak_tree_mb - baseline.peak_tree_mb:.1f} MB; "
            )
        floor = floors.get(row.label.rpartition(" ")[2])
        above = f"above the bare floor {cpu - floor.median('cpu'):.3f} % CPU; " if floor else ""
        print(
            f"{row.label}: {increment}{above}target {'MET' if met else 'MISSED'}; "
            f"statuses {row.statuses or 'none reported'}"
        )
    for row in rows:
        print(f"{row.label}: children at the end: {row.children or 'none'}")
    print(f"CPU resolution: one {CLOCK_TICK * 1000:g} ms clock tick = {tick:.3f} % per window")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="window length (60)")
    parser.add_argument("--windows", type=int, default=3, help="windows per selfreg (3)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--models", choices=("on", "off"), default="on", help="on: shipped")
    parser.add_argument("--models-warmup", type=float, default=MODELS_WARMUP)
    parser.add_argument(
        "--aged", type=float, default=0.0, help="hours of history to start with (0; see aged.py)"
    )
    parser.add_argument("--no-slack", action="store_true", help="run without Slack")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle baseline")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare aiohttp floor")
    parser.add_argument("--tree", type=Path, help="run selfreg from this checkout instead")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.windows < 1:
        parser.error("--seconds must be positive and --windows at least 1")
    return args


def environment(data_dir: Path, emu, args) -> dict[str, str]:
    """selfreg's environment: the data folder, Slack in HTTP mode at the stand-in (or no
    Slack), and the checkout under test first on the path."""
    if emu is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SELFREG_", "SLACK_"))}
        env.update(SELFREG_DATA_DIR=str(data_dir), SELFREG_WEB_PORT="0")
    else:
        env = slack_env(emu, data_dir, mode="http")
    env["SELFREG_WEB_HOST"] = HOST
    code = str((args.tree or ROOT).resolve())
    env["PYTHONPATH"] = os.pathsep.join([code, *filter(None, [env.get("PYTHONPATH")])])
    return env


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    servers, sleepers, emu = [], [], None
    with tempfile.TemporaryDirectory(prefix="selfreg-bench-") as tmp:
        root = Path(tmp)
        try:
            emu = None if args.no_slack else new_emulator()
            models = args.models == "on"
            rows, floors = [], {}
            if not args.no_idle:
                config = root / "idle.toml"
                config.write_text(config_text(0, checks=False, models=models))
                env = environment(root / "idle", emu, args)
                rows.append(run_one("idle (0 checks)", config, env, 0, args))
            start_sleepers(PROCESSES, sleepers)
            for kind in args.kinds:
                server, port = start_server(ENDPOINTS, kind=kind)
                servers.append(server)
                config = root / f"{kind}.toml"
                config.write_text(config_text(port, checks=True, models=models))
                env = environment(root / kind, emu, args)
                if args.aged:
                    aged.age(config, env, args.aged, SECONDS_PER_ROUND, running_selfreg)
                label = f"70 checks, {kind}" + (f", aged {args.aged:g} h" if args.aged else "")
                rows.append(run_one(label, config, env, PROCESSES + ENDPOINTS, args))
                if not args.no_floor:
                    floors[kind] = run_floor(kind, port, args)
            report(rows, args, floors)
        finally:
            cleanup(servers, sleepers, emu)


def cleanup(servers: list, sleepers: list[subprocess.Popen[bytes]], emu) -> None:
    """Kill the sleepers and the servers, and stop the Slack stand-in."""
    for sleeper in sleepers:
        if sleeper.poll() is None:
            sleeper.kill()
    for sleeper in sleepers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            sleeper.wait(timeout=STOP_TIMEOUT)
    for server in servers:
        stop_server(server)
    if emu is not None:
        emu.stop()


if __name__ == "__main__":
    main()
