"""A stand-in of the Fly.io Machines API on 127.0.0.1, serving the recorded shapes.

The bodies come from ``tests/support/fly_samples/`` (copies of the shared api-samples), loaded
at runtime; the stand-in keeps the machines' state and changes it as the API would when asked
(start, stop, restart, update, create, destroy, leases, wait) or as a test drives it: a machine
crashes (``crash``), a health check fails (``fail_check``), a deploy happens (``deploy``), the
token is refused (``refuse_token``), the next requests are rate-limited (``rate_limit``), a
lease is held by someone else (``hold_lease``), a machine is stuck in ``replacing``
(``stick``), a wait never succeeds (``never_ready``), the API answers slowly (``delay``).
``/app/health`` stands for the app's own health endpoint (``health``: its JSON body). Every request is logged in ``requests``
(method, path, and whether a lease nonce came with it) for the tests to assert on.

The app is ``selfreg-bot`` (or ``app``) with two machines in ``ams`` (or ``region``):
``148ed193b95d89`` (worker, with a volume) and ``e784079b449483`` (web). Both ``Bearer`` and ``FlyV1`` tokens are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

SAMPLES = Path(__file__).parent / "fly_samples"
APP = "selfreg-bot"
TOKEN = "fly-test-token"
WORKER, WEB = "148ed193b95d89", "e784079b449483"


@contextlib.asynccontextmanager
async def fly_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FlyStandin]:
    """A started stand-in with ``FLY_API_TOKEN`` set to its token; stopped afterwards."""
    standin = FlyStandin()
    await standin.start()
    monkeypatch.setenv("FLY_API_TOKEN", TOKEN)
    try:
        yield standin
    finally:
        await standin.stop()


def sample(name: str) -> Any:
    """One recorded body, freshly loaded (callers may change it)."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


@dataclass
class Requested:
    method: str
    path: str
    nonce: str | None
    query: dict[str, str] = field(default_factory=dict)
    scheme: str = ""  # of the Authorization header: "Bearer" or "FlyV1"


class FlyStandin:
    """The Machines API of one app; start with ``await standin.start()``."""

    def __init__(self, app: str = APP, token: str = TOKEN, region: str = "ams") -> None:
        self.app_name = app
        self.token = token
        self.machines: dict[str, dict[str, Any]] = {m["id"]: m for m in sample("machines_list")}
        for machine in self.machines.values():  # the samples' machines, in the app and region
            machine["region"] = region
            machine["image_ref"]["repository"] = app
        self.requests: list[Requested] = []
        self.refused = False
        self.limited = 0
        self.retry_after = 1
        self.held: set[str] = set()
        self.stuck: set[str] = set()
        self.unready: set[str] = set()
        self.leases: dict[str, str] = {}
        self.delay = 0.0
        self.health: dict[str, Any] = {"status": "ok", "memory": {"rss_mb": 181.5}, "cpu": 12}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- what tests drive -----------------------------------------------------------------
    def refuse_token(self, refused: bool = True) -> None:
        self.refused = refused

    def rate_limit(self, requests: int, retry_after: int = 1) -> None:
        """Answer the next ``requests`` requests with 429 and this ``Retry-After``."""
        self.limited, self.retry_after = requests, retry_after

    def hold_lease(self, machine_id: str) -> None:
        self.held.add(machine_id)

    def stick(self, machine_id: str, since: float, state: str = "replacing") -> None:
        """The machine went into ``state`` at ``since`` (epoch seconds) and stays there
        whatever is asked."""
        self.stuck.add(machine_id)
        machine = self.machines[machine_id]
        machine["state"], machine["events"] = state, []
        machine["updated_at"] = datetime.fromtimestamp(since, UTC).isoformat()

    def unreachable(self, machine_id: str) -> None:
        """Fly cannot reach the machine's host: ``host_status`` unreachable, and its config
        only as ``incomplete_config`` (NOTES.md 1.3)."""
        machine = self.machines[machine_id]
        machine["host_status"] = "unreachable"
        machine["incomplete_config"] = machine.pop("config")

    def never_ready(self, machine_id: str) -> None:
        """Waits on this machine time out (408) whatever its state."""
        self.unready.add(machine_id)

    def crash(self, machine_id: str) -> None:
        """The machine stops after an OOM kill (the recorded exit event)."""
        machine = self.machines[machine_id]
        recorded = sample("machine_get_stopped_oom_killed")
        machine["state"] = "stopped"
        machine["events"] = [recorded["events"][0], *machine.get("events", [])]

    def fail_check(self, machine_id: str) -> None:
        """Its Fly health check turns critical (the recorded ``connection refused``)."""
        self.machines[machine_id]["checks"] = sample("machine_get_started_check_critical")["checks"]

    def deploy(self, version: int) -> None:
        """Every machine runs release ``v<version>`` (a new image, as ``fly deploy`` does)."""
        image = f"registry.fly.io/{self.app_name}:deployment-v{version}"
        for machine in self.machines.values():
            machine["config"]["image"] = image
            machine["config"]["metadata"]["fly_release_version"] = str(version)
            self._label(machine)

    def state_of(self, machine_id: str) -> str:
        return str(self.machines[machine_id]["state"])

    # ---- the server -------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(middlewares=[self._gate])
        prefix = "/v1/apps/{app}"
        app.router.add_get("/app/health", self._health)
        app.router.add_get(prefix, self._app)
        app.router.add_get(f"{prefix}/machines", self._list)
        app.router.add_post(f"{prefix}/machines", self._create)
        app.router.add_get(f"{prefix}/machines/{{id}}", self._get)
        app.router.add_post(f"{prefix}/machines/{{id}}", self._update)
        app.router.add_delete(f"{prefix}/machines/{{id}}", self._destroy)
        app.router.add_post(f"{prefix}/machines/{{id}}/{{verb}}", self._verb)
        app.router.add_get(f"{prefix}/machines/{{id}}/wait", self._wait)
        app.router.add_delete(f"{prefix}/machines/{{id}}/lease", self._release)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Log, rate-limit, check the token and the app before any handler."""
        if not request.path.startswith("/v1/"):
            return await handler(request)
        nonce = request.headers.get("fly-machine-lease-nonce")
        auth = request.headers.get("Authorization", "")
        scheme = auth.partition(" ")[0]
        self.requests.append(
            Requested(request.method, request.path, nonce, dict(request.query), scheme)
        )
        await asyncio.sleep(self.delay)
        if self.limited > 0:
            self.limited -= 1
            return web.json_response(
                {"error": "rate limit exceeded"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if self.refused or auth not in (f"Bearer {self.token}", f"FlyV1 {self.token}"):
            return web.json_response(sample("error_401_unauthorized"), status=401)
        if request.match_info.get("app") != self.app_name:
            return web.json_response(sample("error_404_app_not_found"), status=404)
        machine_id = request.match_info.get("id")
        if machine_id is not None and machine_id not in self.machines:
            return web.json_response(sample("error_404_machine_not_found"), status=404)
        return await handler(request)

    def _lease_refusal(self, machine_id: str, nonce: str | None) -> web.Response | None:
        """409 when someone else holds the lease, or ours is held and the nonce is wrong."""
        ours = self.leases.get(machine_id)
        if machine_id in self.held or (ours is not None and nonce != ours):
            body = sample("error_409_lease_held")
            body["message"] = body["message"].replace("148ed193b95d89", machine_id)
            return web.json_response(body, status=409)
        return None

    # ---- handlers ---------------------------------------------------------------------------
    async def _health(self, _: web.Request) -> web.Response:
        """The app's own health endpoint (what a check's ``health_url`` points at)."""
        return web.json_response(self.health)

    async def _app(self, _: web.Request) -> web.Response:
        body = sample("app_get")
        body["name"] = self.app_name
        return web.json_response(body)

    async def _list(self, _: web.Request) -> web.Response:
        return web.json_response(list(self.machines.values()))

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response(self.machines[request.match_info["id"]])

    async def _verb(self, request: web.Request) -> web.Response:
        machine_id, verb = request.match_info["id"], request.match_info["verb"]
        nonce = request.headers.get("fly-machine-lease-nonce")
        if verb == "lease":
            return self._lease(machine_id)
        if (refusal := self._lease_refusal(machine_id, nonce)) is not None:
            return refusal
        machine = self.machines[machine_id]
        if verb == "start":
            if machine["state"] != "stopped":
                return web.json_response(sample("error_409_start_not_stopped"), status=409)
            self._move(machine, "started", "start")
            return web.json_response(sample("machine_start_response"))
        if verb == "stop":
            if machine["state"] != "started":
                return web.json_response(sample("error_409_stop_not_started"), status=409)
            self._move(machine, "stopped", "stop")
            return web.json_response(sample("ok_true"))
        if verb == "restart":
            self._move(machine, "started", "restart")
            return web.json_response(sample("machine_restart_response"))
        raise web.HTTPNotFound()

    def _lease(self, machine_id: str) -> web.Response:
        if (refusal := self._lease_refusal(machine_id, None)) is not None:
            return refusal
        body = sample("lease_create_response")
        body["data"]["nonce"] = self.leases[machine_id] = secrets.token_hex(6)
        return web.json_response(body)

    async def _release(self, request: web.Request) -> web.Response:
        machine_id = request.match_info["id"]
        nonce = request.headers.get("fly-machine-lease-nonce")
        if self.leases.get(machine_id) != nonce:
            return web.json_response(sample("error_409_lease_held"), status=409)
        del self.leases[machine_id]
        return web.json_response(sample("lease_release_response"))

    async def _update(self, request: web.Request) -> web.Response:
        machine_id = request.match_info["id"]
        nonce = request.headers.get("fly-machine-lease-nonce")
        if (refusal := self._lease_refusal(machine_id, nonce)) is not None:
            return refusal
        machine = self.machines[machine_id]
        machine["config"] = (await request.json())["config"]
        self._label(machine)
        answer = copy.deepcopy(machine)
        answer["state"] = "replacing"
        self._move(machine, "started", "update")
        return web.json_response(answer)

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        machine = sample("machine_create_response")
        machine["id"] = f"{next(self._ids):014x}"
        machine["config"] = body["config"]
        machine["region"] = body.get("region") or machine["region"]
        machine["checks"] = []
        self._label(machine)
        self.machines[machine["id"]] = machine
        answer = copy.deepcopy(machine)
        self._move(machine, "started", "start")
        return web.json_response(answer)

    async def _destroy(self, request: web.Request) -> web.Response:
        machine_id = request.match_info["id"]
        nonce = request.headers.get("fly-machine-lease-nonce")
        if (refusal := self._lease_refusal(machine_id, nonce)) is not None:
            return refusal
        del self.machines[machine_id]
        self.leases.pop(machine_id, None)
        return web.json_response(sample("ok_true"))

    async def _wait(self, request: web.Request) -> web.Response:
        """200 when the machine is in the state asked; else 408 (the body is not documented:
        this one is inferred)."""
        machine_id = request.match_info["id"]
        wanted = request.query.get("state", "started")
        if machine_id in self.unready or self.machines[machine_id]["state"] != wanted:
            await asyncio.sleep(min(0.2, float(request.query.get("timeout", "1"))))
            return web.json_response({"error": "deadline_exceeded"}, status=408)
        return web.json_response(sample("ok_true"))

    # ---- state changes ----------------------------------------------------------------------
    def _move(self, machine: dict[str, Any], state: str, event: str) -> None:
        """A new state and event; a stuck machine keeps its state whatever is asked."""
        if machine["id"] in self.stuck:
            return
        machine["state"] = state
        machine["instance_id"] = f"01STANDIN{secrets.token_hex(8).upper()}"
        machine.setdefault("events", []).insert(
            0, {"id": secrets.token_hex(8), "type": event, "status": state, "source": "user"}
        )
        if state == "started":
            for check in machine.get("checks", []):
                check["status"], check["output"] = "passing", "Success"

    @staticmethod
    def _label(machine: dict[str, Any]) -> None:
        """The image label ``fly.version`` follows the config's image and release metadata."""
        release = machine["config"].get("metadata", {}).get("fly_release_version", "")
        image_ref = machine.setdefault("image_ref", {})
        image_ref["tag"] = str(machine["config"].get("image", "")).rpartition(":")[2]
        image_ref.setdefault("labels", {})["fly.version"] = f"v{release}"
