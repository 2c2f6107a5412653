"""The control socket's routes for ``selfreg plan``: GET /plan (what is scheduled for quiet
windows, the capacity horizon, the regulation switch) and POST /plan/schedule|cancel/{id},
/plan/pause and /plan/resume.

Acting on the plan is a person's request like the people routes' (``bot.control.people``):
the local user is mapped through ``[cli] users`` to the approver they act as (unmapped:
refused, 403), ``[slack] permissions`` for ``plan`` apply, resuming automatic regulation is
for admins (as ``/selfreg plan resume``), and the door (``cli`` and the local user) goes in
the audit trail. A scheduled proposal is approved at its window through the one policy gate
as that approver.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from aiohttp import web

from bot.control.bodies import path_id
from bot.control.people import Handler, People, asker
from bot.errors import NotPermitted

if TYPE_CHECKING:
    from bot.engine.regulate.make import Regulation

Admins = Callable[[], Collection[str]]
"""The running config's ``[slack] admins`` (read when asked: a reload may change them)."""


def add_plan_routes(
    app: web.Application, regulation: Regulation, people: People | None, admins: Admins
) -> None:
    """GET /plan for anyone on the socket; the POST routes only with ``people`` (who asks)."""

    async def get_plan(_: web.Request) -> web.Response:
        return web.json_response(regulation.planner.document())

    app.router.add_get("/plan", get_plan)
    if people is not None:
        act = _act(regulation, people, admins)
        app.router.add_post(r"/plan/{verb:schedule|cancel}/{id:\d+}", act)
        app.router.add_post("/plan/{verb:pause|resume}", act)


def _act(regulation: Regulation, people: People, admins: Admins) -> Handler:
    async def act(request: web.Request) -> web.Response:
        verb = request.match_info["verb"]
        who = await asker(request, people, "plan")
        await people.requests.permit("plan", who.actor)
        if verb == "resume" and who.actor not in admins():
            raise NotPermitted("plan resume", actor=who.actor)
        number = str(path_id(request)) if "id" in request.match_info else ""
        text = regulation.command(verb, number, who.actor, who.door)
        return web.json_response({"ok": True, "text": text})

    return act
