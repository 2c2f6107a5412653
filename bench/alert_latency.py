"""Time from an endpoint going down to its alert reaching Slack (the local stand-in).

For each trial the endpoint turns healthy, the bench waits until the incident (if any) has
resolved and Slack is quiet, then the endpoint starts answering 500 at t0; the figure is the
time until the first Web API call that shows the incident failing reaches the stand-in
(``tests/support/slack_standin``, answering as Slack does; selfreg runs with Slack in HTTP
mode). Alongside the endpoint that fails, ``--endpoints`` - 1 others stay healthy at the same
interval (20 endpoints in all, as in the side-by-side run of issue 15). Settings, in one run:

- fastest: a 1 s check interval, opening on the first failure (``open_after = 1``);
  targets p50 <= 0.55 s and p95 <= 1.0 s (the polling limit is 0.5 s on average);
- defaults: selfreg's shipped defaults (interval 5 s, ``open_after = 2`` with one confirming
  re-run 1 s after the first failure); target p50 < 6 s.

Baseline in the same run and the same way (``bare``): the floor of polling at 1 s, a bare
aiohttp loop in its own process that GETs the endpoint every second and, on the first 500,
POSTs ``chat.postMessage`` to the same stand-in (``chat.update`` RESOLVED on recovery).
Peers measured elsewhere at their fastest settings: Monit 0.61 / 1.01 s (p50 / p95),
Prometheus + Alertmanager 0.90 / 1.48 s, Netdata 1.07 / 1.79 s.

    python bench/alert_latency.py [--trials 20] [--only bare|fastest|defaults]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.selfreg_process import SelfregProcess  # noqa: E402
from tests.support.slack_selfreg import CHANNEL, new_emulator, slack_env  # noqa: E402

SETTINGS = {
    "bare": "",
    "fastest": 'interval = "1s"\nopen_after = 1\n',
    "defaults": "",
}
TARGETS = {"bare": (None, None), "fastest": (0.55, 1.0), "defaults": (6.0, None)}


class Endpoint(BaseHTTPRequestHandler):
    """``/`` answers 200 while ``healthy`` is set, else 500; every other path 200. HTTP/1.0
    (the stdlib default): each request its own connection, listen backlog 5."""

    healthy = threading.Event()

    def do_GET(self) -> None:
        code = 200 if self.path != "/" or self.healthy.is_set() else 500
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def failing_calls(emu, since: float) -> list[float]:
    """Times of Web API calls after ``since`` that show the incident failing."""
    return [
        c.t
        for c in emu.calls()
        if c.t >= since
        and c.method in ("chat.postMessage", "chat.update")
        and "is failing" in str(c.args.get("text", ""))
        and not c.args.get("thread_ts")
    ]


def resolved_after(emu, since: float) -> bool:
    return any(
        c.t >= since and c.method == "chat.update" and "RESOLVED" in str(c.args.get("text", ""))
        for c in emu.calls()
    )


def wait(predicate, timeout: float) -> bool:
    """Poll ``predicate`` every 50 ms (the figures come from the stand-in's own timestamps,
    so a slower poll loses nothing, and it leaves the GIL to the endpoint's server threads in
    this process: a starved accept loop would drop SYNs and charge selfreg for them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def bare_poller(url: str, api: str, token: str, channel: str, interval: float) -> None:
    """The baseline (its own process): GET ``url`` every ``interval``; on the first 500 POST
    chat.postMessage, on the first 200 after it chat.update RESOLVED. Runs until killed."""
    import asyncio

    import aiohttp

    async def slack(http: aiohttp.ClientSession, method: str, **args: str) -> dict:
        auth = {"Authorization": f"Bearer {token}"}
        async with http.post(f"{api}{method}", json=args, headers=auth) as response:
            return await response.json()

    async def poll() -> None:
        loop = asyncio.get_running_loop()
        ts, next_at = None, loop.time()
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(url) as response:
                    await response.read()
                    failing = response.status >= 500
                if failing and ts is None:
                    answer = await slack(http, "chat.postMessage", channel=channel, text=FAILING)
                    ts = answer["ts"]
                elif not failing and ts is not None:
                    await slack(http, "chat.update", channel=channel, ts=ts, text="RESOLVED")
                    ts = None
                next_at += interval
                await asyncio.sleep(max(next_at - loop.time(), 0.0))

    asyncio.run(poll())


FAILING = "api is failing"


def config_text(name: str, port: int, endpoints: int) -> str:
    """selfreg's config: the endpoint that fails and ``endpoints`` - 1 that stay healthy."""
    # each trial is a fresh incident: no cooldown reuse, no flapping from the bench's own
    # rhythm of down, up, down
    text = '[alerts]\nconsole = false\ncooldown = "0s"\nflapping = { changes = 1000 }\n\n'
    for n, path in enumerate(["/", *(f"/ok{i}" for i in range(1, endpoints))]):
        name_ = "api" if n == 0 else f"steady-{n}"
        text += f'[[checks]]\nkind = "http"\nname = "{name_}"\n'
        text += f'url = "http://127.0.0.1:{port}{path}"\n' + SETTINGS[name] + "\n"
    return text


class Subject:
    """What is measured: selfreg, or the bare poller (the baseline); started and stopped."""

    def __init__(self, name: str, emu, port: int, folder: Path, endpoints: int) -> None:
        self.selfreg = self.poller = None
        if name == "bare":
            context = multiprocessing.get_context("spawn")
            args = (f"http://127.0.0.1:{port}/", emu.base_url, emu.config.bot_token, CHANNEL, 1.0)
            self.poller = context.Process(target=bare_poller, args=args, daemon=True)
            self.poller.start()
            return
        config = folder / "selfreg.toml"
        config.write_text(config_text(name, port, endpoints))
        self.selfreg = SelfregProcess(config, slack_env(emu, folder / "data", mode="http"))
        self.selfreg.wait_ready()

    def stop(self) -> None:
        if self.selfreg is not None:
            self.selfreg.stop()
        if self.poller is not None:
            self.poller.kill()
            self.poller.join(timeout=10)


def run_setting(name: str, trials: int, endpoints: int) -> list[float]:
    emu = new_emulator()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Endpoint.healthy.set()
    latencies: list[float] = []
    rng = random.Random(20261129)
    t0 = 0.0
    with tempfile.TemporaryDirectory() as folder:
        subject = None
        try:
            subject = Subject(name, emu, server.server_address[1], Path(folder), endpoints)
            time.sleep(2)
            for trial in range(trials):
                Endpoint.healthy.set()
                if latencies and not wait(partial(resolved_after, emu, t0), 30):
                    raise SystemExit(f"{name}: trial {trial}: the incident never resolved")
                # Slack quiet again (selfreg paces one message a second), then a random phase
                # against the check schedule, as a real outage would have
                time.sleep(1.5 + rng.uniform(0.0, 5.0))
                t0 = time.time()
                Endpoint.healthy.clear()
                if not wait(partial(failing_calls, emu, t0), 30):
                    raise SystemExit(f"{name}: trial {trial}: no alert within 30 s")
                latencies.append(failing_calls(emu, t0)[0] - t0)
        finally:
            if subject is not None:
                subject.stop()
            server.shutdown()
            emu.stop()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(round(q * (len(ordered) - 1)), len(ordered) - 1)
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--endpoints", type=int, default=20, help="in all, the failing one too")
    parser.add_argument("--only", choices=sorted(SETTINGS))
    args = parser.parse_args()
    for name in [args.only] if args.only else list(SETTINGS):
        latencies = run_setting(name, args.trials, args.endpoints)
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        p50_target, p95_target = TARGETS[name]
        verdict = "floor, no target"
        if p50_target is not None:
            met = p50 <= p50_target and (p95_target is None or p95 <= p95_target)
            wanted = f"p50 <= {p50_target} s" + (f", p95 <= {p95_target} s" if p95_target else "")
            verdict = f"target {wanted}: {'MET' if met else 'MISSED'}"
        print(
            f"{name:<9} {len(latencies)} trials: p50 {p50:.3f} s, p95 {p95:.3f} s, "
            f"min {min(latencies):.3f} s, max {max(latencies):.3f} s ({verdict})",
            flush=True,
        )


if __name__ == "__main__":
    main()
