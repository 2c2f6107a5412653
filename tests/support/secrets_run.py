"""A full selfreg run with distinctive secret values, and a scan of everything it wrote.

Every secret selfreg takes from the environment gets a value found nowhere else: the Slack
bot and app tokens and signing secret, the web token, the audit key, the SMTP password, the
webhook secret, the heartbeat URL (its path is the secret, as at healthchecks.io) and the Fly
token. The run: a real ``selfreg run`` in Slack's HTTP mode with email, a webhook, a
heartbeat and a Fly check all pointed at loopback ports where nothing answers (so their
failures are logged), one round of the click attacks (incident, proposals, refusals, runs),
``/status``, ``/metrics`` and a refused request without the token, ``selfreg status --json``,
``audit export``, a backup (its manifest read back), and config errors
about the secret variables. The scan looks for each value in selfreg's console output,
every file in the data folder (logs, store, anchors, backups unpacked), the arguments of
every Slack call and response-URL post the stand-in received, and every answer above.
"""

from __future__ import annotations

import json
import tarfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.click_attacks import Rig, Tally, attack_round
from tests.support.selfreg_process import run_cli
from tests.support.servers import free_port
from tests.support.slack_selfreg import new_emulator

TAG = "Zq7Kp"  # in every secret: a value seen anywhere else is a leak

SLACK = {
    "bot_token": f"xoxb-{TAG}bot-1111",
    "app_token": f"xapp-1-A0SELF-{TAG}app",
    "signing_secret": f"{TAG}signing0secret",
}


def secrets(heartbeat_port: int) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": SLACK["bot_token"],
        "SLACK_APP_TOKEN": SLACK["app_token"],
        "SLACK_SIGNING_SECRET": SLACK["signing_secret"],
        "SELFREG_WEB_TOKEN": f"{TAG}webtoken",
        "SELFREG_AUDIT_KEY": f"{TAG}auditkey",
        "SELFREG_SMTP_PASSWORD": f"{TAG}smtppass",
        "SELFREG_WEBHOOK_SECRET": "whsec_WnE3S3BXZWJob29rU2VjcmV0MDE=",  # base64 of "Zq7KpWebhookSecret01"
        "SELFREG_HEARTBEAT_URL": f"http://127.0.0.1:{heartbeat_port}/ping/{TAG}-heartbeat-uuid",
        "FLY_API_TOKEN": f"fm2_{TAG}flytoken",
    }


EXTRA_CONFIG = """
[alerts.email]
host = "127.0.0.1"
port = {smtp}
tls = "none"
username = "selfreg"
sender = "selfreg@example.org"
to = ["ops@example.org"]
min_severity = "info"

[alerts.webhook]
url = "http://127.0.0.1:{hook}/hook"
min_severity = "info"

[[checks]]
kind = "fly"
name = "fly-app"
app = "demo"
base_url = "http://127.0.0.1:{fly}"
interval = "2s"
"""


@dataclass
class Scan:
    """Where each secret was found (must stay empty) and how much was scanned."""

    places: int = 0
    scanned_bytes: int = 0
    found: dict[str, list[str]] = field(default_factory=dict)

    def look(self, place: str, data: bytes | str, values: dict[str, str]) -> None:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        self.places += 1
        self.scanned_bytes += len(raw)
        for name, value in values.items():
            for form in _forms(value):
                if form.encode() in raw:
                    self.found.setdefault(name, []).append(place)
                    break


def _forms(value: str) -> list[str]:
    """The value, and the part of it that is secret on its own (the heartbeat URL's path)."""
    forms = [value]
    if "/ping/" in value:
        forms.append(value.rsplit("/", 1)[1])
    if value.startswith("whsec_"):
        forms += [value.removeprefix("whsec_"), "WebhookSecret01"]
    return forms


def run_and_scan(tmp: Path) -> tuple[Scan, Tally, tuple[int, int]]:
    """The whole run, then the scan; returns what was found, the attacks' tally and the
    runs (``action_runs`` rows, side effects)."""
    values = secrets(free_port())
    emu = new_emulator(**SLACK)
    extra = EXTRA_CONFIG.format(smtp=free_port(), hook=free_port(), fly=free_port())
    answers: dict[str, str] = {}
    tally = Tally()
    # HTTP mode so the clicks reach the listeners; the app token is set all the same
    rig = Rig(emu, tmp, extra, SELFREG_SLACK_MODE="http", **values)
    try:
        attack_round(rig, tally, set())
        time.sleep(1.0)  # a run a refused click had started would have written by now
        runs = rig.runs()
        answers.update(_web(rig.base, values["SELFREG_WEB_TOKEN"]))
        answers.update(_cli(rig))
    finally:
        rig.close()
        emu_calls = [json.dumps(c.args, default=str) for c in emu.calls()]
        emu_hooks = [json.dumps(h.body, default=str) for h in emu.hooks()]
        emu.stop()
    answers.update(_config_errors(rig))
    values = {**values, "a bad value given for a secret": TAG}
    scan = Scan()
    scan.look("console", "".join(rig.selfreg.output), values)
    for i, text in enumerate(emu_calls):
        scan.look(f"slack call {i}", text, values)
    for i, text in enumerate(emu_hooks):
        scan.look(f"response-url post {i}", text, values)
    for name, text in answers.items():
        scan.look(name, text, values)
    _files(scan, tmp / "data", values)
    return scan, tally, runs


def _web(base: str, token: str) -> dict[str, str]:
    out = {}
    for route in ("/status", "/metrics", "/health"):
        request = urllib.request.Request(base + route, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            out[f"GET {route}"] = response.read().decode()
    try:
        urllib.request.urlopen(base + "/status", timeout=10)
    except urllib.error.HTTPError as exc:
        out["GET /status without the token"] = f"{exc.code} {exc.read().decode()}"
    return out


def _cli(rig: Rig) -> dict[str, str]:
    out = {}
    backups = rig.tmp / "backups"
    for args in (
        ("status", "--json"),
        ("audit", "export"),
        ("backup", "--to", str(backups)),
    ):
        done = run_cli(*args, "--config", str(rig.config), env=rig.env)
        out["selfreg " + " ".join(args[:2])] = done.stdout + done.stderr
    for archive in backups.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            tar.extractall(rig.tmp / "data" / "unpacked", filter="data")
    return out


def _config_errors(rig: Rig) -> dict[str, str]:
    """Secret variables given bad values: the refusal names the variable, never the value."""
    env = dict(rig.env)
    env["SELFREG_HEARTBEAT_URL"] = f"ftp://{TAG}-heartbeat-uuid"
    env["SELFREG_WEBHOOK_SECRET"] = f"{TAG}notwhsec"
    env["SELFREG_SLACK_MODE"] = "socket"
    env.pop("SLACK_SIGNING_SECRET")
    done = run_cli("config", "check", str(rig.config), env=env)
    started = run_cli("run", "--config", str(rig.config), env=env, timeout=60)
    return {
        "selfreg config check (bad secrets)": done.stdout + done.stderr,
        "selfreg run (bad secrets)": started.stdout + started.stderr,
    }


def _files(scan: Scan, folder: Path, values: dict[str, str]) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_socket():
            scan.look(str(path.relative_to(folder)), path.read_bytes(), values)
