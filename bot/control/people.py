"""The control socket's routes for people: what a local user does to incidents, silences,
actions and components through ``selfreg ack|silence|unsilence|run|component|approve|deny``.

Each request carries the local user name; ``identify`` (the running config's ``[cli] users``)
turns it into the approver it acts as, and from there everything is as for a Slack click: the
same engine call, ``[slack] permissions`` (``allows``) for commands, the one policy gate
(approver list, two-person rule, budget, ...) for decisions, and the door (``cli`` and the
local user) in the audit trail. An unmapped user is refused (403) and nothing changes.

Answers: 200 ``{"ok", "text"}``; 403 refused, 404 not found, 400 bad input, each
``{"error": text}`` (the CLI exits 1, 2 and 64 on them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot import messages
from bot.engine.alerting import Alerting
from bot.engine.silences import silence_terms
from bot.errors import BadCommand, NotPermitted, UserError
from bot.records import Door
from bot.store import audit

if TYPE_CHECKING:
    from bot.engine.remediation import Remediation
    from bot.engine.supervisor import Supervisor

Identify = Callable[[str], str | None]
"""A local user name -> the approver id ``[cli] users`` maps it to, or None."""

Allows = Callable[[str, str], Awaitable[bool]]
"""(command, approver id) -> may they run it (``[slack] permissions``, admins)."""


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class People:
    """What the people routes act on, and who is asking."""

    alerting: Alerting
    supervisor: Supervisor
    remediation: Remediation | None
    identify: Identify
    allows: Allows


@dataclass(frozen=True, kw_only=True, slots=True)
class Asker:
    """One request's person: the approver id they act as, the door, and the body."""

    actor: str
    door: Door
    body: dict[str, Any]


async def asker(
    request: web.Request, people: People, command: str, *, permissions: bool = True
) -> Asker:
    """Who asks, mapped and (with ``permissions``) permitted for ``command``; raises
    ``NotPermitted`` otherwise. Decisions skip ``permissions``: the gate's approver list
    decides those."""
    body = await request.json()
    local_user = str(body.get("user") or "")
    actor = people.identify(local_user)
    if actor is None:
        raise NotPermitted(command, local_user=local_user)
    if permissions and not await people.allows(command, actor):
        raise NotPermitted(command, actor=actor)
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


def _on_id(people: People, command: str, act: Callable[[int, Asker], str]) -> Handler:
    """A route acting on the id in its path (an incident, a silence) as the asker."""

    async def handler(request: web.Request) -> web.Response:
        who = await asker(request, people, command)
        return _ok(act(int(request.match_info["id"]), who))

    return handler


def _ack(people: People) -> Handler:
    def ack(incident_id: int, who: Asker) -> str:
        people.alerting.acknowledge(incident_id, who.actor, who.door)
        return messages.acknowledged_reply(incident_id)

    return _on_id(people, "ack", ack)


def _silence(people: People) -> Handler:
    async def silence(request: web.Request) -> web.Response:
        who = await asker(request, people, "silence")
        body = who.body
        try:
            matcher, duration, starts_at = silence_terms(
                str(body.get("matcher", "")), str(body.get("duration", "")), body.get("from")
            )
        except ValueError as exc:
            raise BadCommand(str(exc)) from None
        added = people.alerting.add_silence(
            matcher, duration, str(body.get("reason") or ""), who.actor, starts_at, who.door
        )
        now = people.alerting.clock.now()
        return _ok(messages.silence_answer(added, now), id=added.id)

    return silence


def _unsilence(people: People) -> Handler:
    def unsilence(silence_id: int, who: Asker) -> str:
        people.alerting.remove_silence(silence_id, who.actor, who.door)
        return messages.silence_removed(silence_id)

    return _on_id(people, "unsilence", unsilence)


def _remediation(people: People) -> Remediation:
    if people.remediation is None:
        raise UserError(messages.control_no_actions())
    return people.remediation


def _run(people: People) -> Handler:
    async def run(request: web.Request) -> web.Response:
        who = await asker(request, people, "run")
        name, incident = request.match_info["name"], who.body.get("incident")
        proposal, decision = await _remediation(people).request(
            name, who.actor, None if incident is None else int(incident), door=who.door
        )
        text = messages.manual_run(proposal.id, name, decision.reason, decision.allowed)
        return web.json_response(
            {"ok": decision.allowed, "text": text, "proposal": proposal.id, "runs": decision.runs}
        )

    return run


def _decide(people: People) -> Handler:
    async def decide(request: web.Request) -> web.Response:
        verb = request.match_info["verb"]
        who = await asker(request, people, verb, permissions=False)
        remediation, proposal_id = _remediation(people), int(request.match_info["id"])
        if verb == "approve":
            decision = await remediation.approve(proposal_id, who.actor, door=who.door)
        else:
            reason = str(who.body.get("reason") or "")
            decision = await remediation.deny(proposal_id, who.actor, reason, door=who.door)
        return web.json_response({"ok": decision.allowed, "text": decision.reason})

    return decide


def _component(people: People) -> Handler:
    async def component(request: web.Request) -> web.Response:
        who = await asker(request, people, "component")
        name, verb = request.match_info["name"], request.match_info["verb"]
        supervisor = people.supervisor
        control = {
            "restart": supervisor.restart,
            "stop": supervisor.stop_component,
            "start": supervisor.start_component,
        }[verb]
        outcome = await control(name)
        store = people.alerting.store
        with store.transaction():
            audit.append(
                store, people.alerting.clock.now(), f"component.{verb}", who.actor,
                f"component:{name}", {"outcome": outcome, **who.door.detail()},
            )  # fmt: skip
        return _ok(messages.component_controlled(name, verb, outcome))

    return component
