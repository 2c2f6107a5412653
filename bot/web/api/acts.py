"""The API's changing routes: run a check; ack, silence, resolve an incident; approve or deny
a proposal; restart, stop, start a component; add and end silences.

Each calls ``bot.engine.requests.Requests`` (the same calls as the terminal's door and a
Slack click) as the approver the token's identity maps to, through the door ``api``: the
policy gate, ``[slack] permissions`` and the audit trail are the same for every door. A
decision the gate refuses answers 422 with the gate's reason, or 409 when the proposal was
decided already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot import messages
from bot.engine.requests import COMPONENT_VERBS, Requests
from bot.errors import IncidentNotFound, UnknownCheck
from bot.records import Decision, ProposalState
from bot.store import proposals as proposal_rows
from bot.web.api.answers import reply
from bot.web.api.auth import caller, door
from bot.web.api.context import ApiContext, body, path_id
from bot.web.api.errors import ApiError
from common.units import parse_duration

Handler = Callable[[web.Request], Any]


def act_handlers(api: ApiContext) -> dict[str, Handler]:
    """Every changing route's handler, by operation (``openapi.ROUTES``)."""

    async def run_check(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            observations = await api.run_checks([name])
        except UnknownCheck:
            raise ApiError("not_found", messages.api_no_check(name)) from None
        return reply({"observations": observations})

    handlers: dict[str, Handler] = {
        "run_check": run_check,
        **_incident_handlers(api.requests),
        **_silence_handlers(api.requests),
        "approve_proposal": _decide(api, "approve"),
        "deny_proposal": _decide(api, "deny"),
        "run_action": _run_action(api),
    }
    for verb in COMPONENT_VERBS:
        handlers[f"{verb}_component"] = _component(api, verb)
    return handlers


def _incident_handlers(requests: Requests) -> dict[str, Handler]:
    """``/incidents/{id}/...``: acknowledge, silence (for a duration or until resolved),
    resolve."""

    async def ack_incident(request: web.Request) -> web.Response:
        incident = await requests.acknowledge(path_id(request), caller().actor, door())
        return reply({"incident": incident})

    async def silence_incident(request: web.Request) -> web.Response:
        terms = await body(request)
        duration = _duration(terms.get("duration"))
        reason = str(terms.get("reason") or "")
        silence = await requests.silence_incident(
            path_id(request), duration, reason, caller().actor, door()
        )
        return reply({"silence": silence}, status=201)

    async def resolve_incident(request: web.Request) -> web.Response:
        incident = await requests.resolve(path_id(request), caller().actor, door())
        return reply({"incident": incident})

    return {
        "ack_incident": ack_incident,
        "silence_incident": silence_incident,
        "resolve_incident": resolve_incident,
    }


def _silence_handlers(requests: Requests) -> dict[str, Handler]:
    """``/silences``: add one by matcher, end one by id."""

    async def create_silence(request: web.Request) -> web.Response:
        terms = await body(request)
        silence = await requests.silence(terms, caller().actor, door())
        return reply({"silence": silence}, status=201)

    async def delete_silence(request: web.Request) -> web.Response:
        silence_id = path_id(request)
        await requests.unsilence(silence_id, caller().actor, door())
        return reply({"ended": silence_id})

    return {"create_silence": create_silence, "delete_silence": delete_silence}


def _duration(value: object) -> float | None:
    """An incident silence's ``duration`` (``"2h"``); absent: until the incident resolves."""
    if value is None or value == "":
        return None
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ApiError("bad_request", str(exc)) from None


def _decide(api: ApiContext, verb: str) -> Handler:
    async def decide(request: web.Request) -> web.Response:
        terms = await body(request) if verb == "deny" else {}
        proposal_id = path_id(request)
        decision = await api.requests.decide(
            verb, proposal_id, caller().actor, str(terms.get("reason") or ""), door()
        )
        proposal = await api.reader.run(lambda r: proposal_rows.get(r.store(), proposal_id))
        if not decision.allowed:
            _refused(proposal_id, proposal.state if proposal else None, decision)
        return reply({"decision": decision, "proposal": proposal})

    return decide


def _run_action(api: ApiContext) -> Handler:
    async def run_action(request: web.Request) -> web.Response:
        """``selfreg run ACTION [INCIDENT]`` through the API: the same engine request."""
        incident = _incident((await body(request)).get("incident"), api)
        proposal, decision = await api.requests.run(
            request.match_info["name"], caller().actor, incident, door()
        )
        found = await api.reader.run(lambda r: proposal_rows.get(r.store(), proposal.id))
        return reply({"decision": decision, "proposal": found or proposal})

    return run_action


def _incident(value: object, api: ApiContext) -> int | None:
    """The ``incident`` a run is for: None, or the id of an incident that exists."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError("bad_request", messages.api_bad_incident(value))
    if api.requests.alerting.incident(value) is None:
        raise IncidentNotFound(value)
    return value


def _refused(proposal_id: int, state: ProposalState | None, decision: Decision) -> None:
    """409 when the proposal is decided already (or gone), else 422 with the gate's reason."""
    if state is not ProposalState.PROPOSED:
        shown = state.value if state is not None else "gone"
        raise ApiError("already_decided", messages.api_proposal_decided(proposal_id, shown))
    raise ApiError("refused_by_policy", decision.reason)


def _component(api: ApiContext, verb: str) -> Handler:
    async def control(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        outcome = await api.requests.control_component(name, verb, caller().actor, door())
        return reply({"component": name, "verb": verb, "outcome": outcome})

    return control
