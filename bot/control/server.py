"""The control socket's server side: its routes for ``status``, ``health``, ``check run``,
models and reload (the people's and the plan's live in ``people`` and ``plan``), served on the
Unix socket with mode 0600. Only the running selfreg imports this (aiohttp's server, the
engine's requests); the CLI's side, ``bot.control.ask``, needs none of it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot import messages
from bot.control import observation_dict, socket_in_use
from bot.control.bodies import json_object
from bot.control.people import People, add_people_routes, answer_errors
from bot.control.plan import Admins, add_plan_routes
from bot.errors import UnknownCheck
from checks.base import Observation

if TYPE_CHECKING:
    from bot.engine.predict import Predictor  # scikit-learn: only when [models] is on
    from bot.engine.regulate.make import Regulation
    from bot.engine.reload import ReloadOutcome

RunChecks = Callable[[Sequence[str] | None], Awaitable[list[Observation]]]


Reload = Callable[[str], Awaitable["ReloadOutcome"]]
"""Reload the config on behalf of a trigger (``cli:<user>``); never raises."""


def build_control_app(
    status: Callable[[], dict[str, Any]],
    run_checks: RunChecks,
    people: People | None = None,
    predictor: Predictor | None = None,
    reload: Reload | None = None,
    regulation: Regulation | None = None,
    admins: Admins = tuple,
) -> web.Application:
    """Routes: GET /status, POST /health (every check once), POST /checks/{name}/run,
    GET /models, POST /models/train and POST /reload for local users (the socket's 0600
    mode is the check), the people routes (``bot.control.people``) and, with regulation,
    the plan routes (``bot.control.plan``: ``admins`` may resume it)."""
    app = web.Application(middlewares=[answer_errors])
    _add_check_routes(app, status, run_checks)
    if people is not None:
        add_people_routes(app, people)
    _add_model_routes(app, predictor)
    _add_reload_route(app, reload)
    if regulation is not None:
        add_plan_routes(app, regulation, people, admins)
    return app


def _add_check_routes(
    app: web.Application, status: Callable[[], dict[str, Any]], run_checks: RunChecks
) -> None:
    async def get_status(_: web.Request) -> web.Response:
        return web.json_response(status())

    async def post_health(_: web.Request) -> web.Response:
        observations = await run_checks(None)
        return web.json_response({"observations": [observation_dict(o) for o in observations]})

    async def post_check(request: web.Request) -> web.Response:
        try:
            observations = await run_checks([request.match_info["name"]])
        except UnknownCheck as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response({"observations": [observation_dict(o) for o in observations]})

    app.router.add_get("/status", get_status)
    app.router.add_post("/health", post_health)
    app.router.add_post("/checks/{name}/run", post_check)


def _add_model_routes(app: web.Application, predictor: Predictor | None) -> None:
    async def get_models(_: web.Request) -> web.Response:
        if predictor is None:
            return web.json_response({"error": messages.control_models_off()}, status=404)
        return web.json_response({"models": predictor.model_rows()})

    async def post_train(_: web.Request) -> web.Response:
        if predictor is None:
            return web.json_response({"error": messages.control_models_off()}, status=404)
        await predictor.retrain(force=True)
        return web.json_response({"models": predictor.model_rows()})

    app.router.add_get("/models", get_models)
    app.router.add_post("/models/train", post_train)


def _add_reload_route(app: web.Application, reload: Reload | None) -> None:
    async def post_reload(request: web.Request) -> web.Response:
        if reload is None:
            return web.json_response({"error": messages.control_no_reload()}, status=404)
        body = await json_object(request)
        outcome = await reload(f"cli:{body.get('user') or 'unknown'}")
        return web.json_response(
            {"applied": outcome.applied, "ok": outcome.ok, "text": outcome.text}
        )

    app.router.add_post("/reload", post_reload)


async def serve(app: web.Application, path: Path) -> web.AppRunner:
    """Listen on ``path`` (removing a stale socket left by a crash) with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not socket_in_use(path):
        path.unlink()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    old_umask = os.umask(0o177)
    try:
        await web.UnixSite(runner, str(path)).start()
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    return runner
