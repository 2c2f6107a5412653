"""The API's reading routes: checks, incidents, proposals, components, silences, audit.

Stored rows are read through the dashboard's read-only connection on its worker thread
(``Reader.run``), so a large answer never holds up the checks' event loop or the writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot import messages
from bot.store import audit, history, timeline
from bot.store import incidents as incident_rows
from bot.store import proposals as proposal_rows
from bot.web.api.answers import reply
from bot.web.api.context import ApiContext, number, path_id, whole
from bot.web.api.errors import ApiError
from bot.web.api.summary import health_summary
from bot.web.dashboard_data import Reader
from checks.base import Status

Handler = Callable[[web.Request], Any]

RECENT = 3600.0  # a check's values from this long ago by default
POINTS = 500  # at most this many values per metric by default (the newest)


def read_handlers(api: ApiContext) -> dict[str, Handler]:
    """Every reading route's handler, by operation (``openapi.ROUTES``)."""
    return {**_check_handlers(api), **_incident_handlers(api), **_other_handlers(api)}


def _check_handlers(api: ApiContext) -> dict[str, Handler]:
    async def list_checks(_: web.Request) -> web.Response:
        return reply({"checks": _checks(api)})

    async def get_check(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        found = [c for c in _checks(api) if c["name"] == name]
        if not found:
            raise ApiError("not_found", messages.api_no_check(name))
        since = number(request, "since", api.now() - RECENT)
        limit = whole(request, "limit", POINTS, 10_000)
        values = await api.reader.run(lambda r: _values(r, name, since, api.now(), limit))
        return reply({"check": {**found[0], "values": values}})

    return {"list_checks": list_checks, "get_check": get_check}


def _incident_handlers(api: ApiContext) -> dict[str, Handler]:
    async def list_incidents(request: web.Request) -> web.Response:
        state = request.query.get("state", "open")
        if state not in ("open", "all"):
            raise ApiError("bad_request", messages.api_bad_state(state))
        since, limit = number(request, "since", 0.0), whole(request, "limit", 200, 1000)
        if state == "open":
            found = await api.reader.run(lambda r: incident_rows.open_incidents(r.store()))
        else:
            found = await api.reader.run(
                lambda r: timeline.incidents_between(r.store(), since, limit=limit)
            )
        return reply({"incidents": found[:limit]})

    async def get_incident(request: web.Request) -> web.Response:
        incident_id = path_id(request)
        return reply(await api.reader.run(lambda r: incident_story(r, incident_id)))

    async def list_proposals(request: web.Request) -> web.Response:
        if "incident" in request.query:
            incident = whole(request, "incident", 1, 2**62)
            found = await api.reader.run(lambda r: proposal_rows.for_incident(r.store(), incident))
        else:
            found = await api.reader.run(lambda r: proposal_rows.open_proposals(r.store()))
        return reply({"proposals": found})

    return {
        "list_incidents": list_incidents,
        "get_incident": get_incident,
        "list_proposals": list_proposals,
    }


def _other_handlers(api: ApiContext) -> dict[str, Handler]:
    async def list_components(_: web.Request) -> web.Response:
        return reply({"components": api.status()["components"]})

    async def list_silences(_: web.Request) -> web.Response:
        now = api.now()
        found = await api.reader.run(lambda r: incident_rows.current_silences(r.store(), now))
        return reply({"silences": found})

    async def read_audit(request: web.Request) -> web.Response:
        since, limit = number(request, "since", 0.0), whole(request, "limit", 100, 1000)
        found = await api.reader.run(lambda r: list(audit.rows(r.store(), since, limit=limit)))
        return reply({"audit": [{**row, "detail": json.loads(row["detail"])} for row in found]})

    async def health(_: web.Request) -> web.Response:
        return reply(await health_summary(api))

    return {
        "list_components": list_components,
        "list_silences": list_silences,
        "read_audit": read_audit,
        "health": health,
    }


def _checks(api: ApiContext) -> list[dict[str, Any]]:
    """Each configured check: its kind, worst status and its subjects' latest states."""
    states = api.status()["checks"]
    found = []
    for name, kind in api.check_kinds().items():
        mine = [s for s in states if s["check"] == name]
        worst = _worst([s["status"] for s in mine]) if mine else None
        found.append({"name": name, "kind": kind, "status": worst, "subjects": mine})
    return found


def _worst(statuses: list[str]) -> str:
    return Status.worst([Status(s) for s in statuses]).value


def _values(
    reader: Reader, check: str, since: float, now: float, limit: int
) -> list[dict[str, Any]]:
    """The check's stored values per (subject, metric) since ``since``: the newest ``limit``."""
    store = reader.store()
    return [
        {
            "subject": series.subject,
            "metric": series.metric,
            "points": history.raw_points(store, series.id, since, now)[-limit:],
        }
        for series in history.all_series(store, check)
    ]


def incident_story(reader: Reader, incident_id: int) -> dict[str, Any]:
    """An incident with its timeline (``bot.store.timeline``) and its proposals."""
    store = reader.store()
    found = incident_rows.get_incident(store, incident_id)
    if found is None:
        raise ApiError("not_found", messages.incident_not_found(incident_id))
    return {
        "incident": found,
        "timeline": timeline.incident_steps(store, found),
        "proposals": proposal_rows.for_incident(store, incident_id),
    }
