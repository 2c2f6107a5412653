"""The control socket's routes for people: what a local user does to incidents, silences,
actions and components through ``selfreg ack|silence|unsilence|run|component|approve|deny``.

Each request carries the local user name; ``identify`` (the running config's ``[cli] users``)
turns it into the approver it acts as, and from there ``bot.engine.requests`` does what the
management API does too: the same engine call as a Slack click, ``[slack] permissions`` for
commands, the one policy gate (approver list, two-person rule, budget, ...) for decisions,
and the door (``cli`` and the local user) in the audit trail. An unmapped user is refused
(403) and nothing changes.

Answers: 200 ``{"ok", "text"}``; 403 refused, 404 not found, 400 bad input, each
``{"error": text}`` (the CLI exits 1, 2 and 64 on them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import messages
from bot.control.bodies import body_incident, json_object, path_id
from bot.engine.requests import Requests
from bot.errors import BadCommand, NotPermitted, UserError
from bot.records import Door

Identify = Callable[[str], str | None]
"""A local user name -> the approver id ``[cli] users`` maps it to, or None."""


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class People:
    """What the people routes act on (``requests``), and who is asking (``identify``)."""

    requests: Requests
    identify: Identify


@dataclass(frozen=True, kw_only=True, slots=True)
class Asker:
    """One request's person: the approver id they act as, the door, and the body."""

    actor: str
    door: Door
    body: dict[str, Any]


async def asker(request: web.Request, people: People, command: str) -> Asker:
    """Who asks, mapped through ``[cli] users``; raises ``NotPermitted`` for an unmapped
    local user (``[slack] permissions`` are the shared requests' to check)."""
    body = await json_object(request)
    local_user = str(body.get("user") or "")
    actor = people.identify(local_user)
    if actor is None:
        raise NotPermitted(command, local_user=local_user)
    return Asker(actor=actor, door=Door("cli", local_user), body=body)


@web.middleware
async def answer_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refusals and operator errors as JSON: 403 refused, 400 bad input, 404 the rest."""
    try:
        return await handler(request)
    except NotPermitted as exc:
        return web.json_response({"error": str(exc)}, status=403)
    except BadCommand as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except UserError as exc:
        return web.json_response({"error": str(exc)}, status=404)


def _ok(text: str, **more: Any) -> web.Response:
    return web.json_response({"ok": True, "text": text, **more})


def add_people_routes(app: web.Application, people: People) -> None:
    """POST /incidents/{id}/ack, /silences, /silences/{id}/end, /actions/{name}/run,
    /components/{name}/restart|stop|start and /proposals/{id}/approve|deny."""
    app.router.add_post(r"/incidents/{id:\d+}/ack", _ack(people))
    app.router.add_post("/silences", _silence(people))
    app.router.add_post(r"/silences/{id:\d+}/end", _unsilence(people))
    app.router.add_post("/actions/{name}/run", _run(people))
    app.router.add_post("/components/{name}/{verb:restart|stop|start}", _component(people))
    app.router.add_post(r"/proposals/{id:\d+}/{verb:approve|deny}", _decide(people))


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _ack(people: People) -> Handler:
    async def ack(request: web.Request) -> web.Response:
        who = await asker(request, people, "ack")
        incident_id = path_id(request)
        await people.requests.acknowledge(incident_id, who.actor, who.door)
        return _ok(messages.acknowledged_reply(incident_id))

    return ack


def _silence(people: People) -> Handler:
    async def silence(request: web.Request) -> web.Response:
        who = await asker(request, people, "silence")
        added = await people.requests.silence(who.body, who.actor, who.door)
        now = people.requests.alerting.clock.now()
        return _ok(messages.silence_answer(added, now), id=added.id)

    return silence


def _unsilence(people: People) -> Handler:
    async def unsilence(request: web.Request) -> web.Response:
        who = await asker(request, people, "unsilence")
        silence_id = path_id(request)
        await people.requests.unsilence(silence_id, who.actor, who.door)
        return _ok(messages.silence_removed(silence_id))

    return unsilence


def _run(people: People) -> Handler:
    async def run(request: web.Request) -> web.Response:
        who = await asker(request, people, "run")
        name, incident = request.match_info["name"], body_incident(who.body)
        proposal, decision = await people.requests.run(name, who.actor, incident, who.door)
        text = messages.manual_run(proposal.id, name, decision.reason, decision.allowed)
        return web.json_response(
            {"ok": decision.allowed, "text": text, "proposal": proposal.id, "runs": decision.runs}
        )

    return run


def _decide(people: People) -> Handler:
    async def decide(request: web.Request) -> web.Response:
        verb = request.match_info["verb"]
        who = await asker(request, people, verb)
        reason = str(who.body.get("reason") or "")
        decision = await people.requests.decide(verb, path_id(request), who.actor, reason, who.door)
        return web.json_response({"ok": decision.allowed, "text": decision.reason})

    return decide


def _component(people: People) -> Handler:
    async def component(request: web.Request) -> web.Response:
        who = await asker(request, people, "component")
        name, verb = request.match_info["name"], request.match_info["verb"]
        outcome = await people.requests.control_component(name, verb, who.actor, who.door)
        return _ok(messages.component_controlled(name, verb, outcome))

    return component
