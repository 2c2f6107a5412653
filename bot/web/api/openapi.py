"""The management API's routes as data, and the OpenAPI 3.1 document drawn from them.

``ROUTES`` is the one source of truth: ``bot.web.api.add_api_routes`` registers exactly these
(method, path, handler by ``operation``, required role), and ``document()`` describes exactly
these; ``tests/web/test_api_openapi.py`` compares the document with aiohttp's router.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config.api import Role
from bot.web.api.errors import CODES

PREFIX = "/api/v1"


@dataclass(frozen=True, kw_only=True, slots=True)
class Param:
    """A query parameter."""

    name: str
    type: str  # a JSON Schema type: "integer", "number", "string"
    description: str
    enum: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """One operation: ``path`` is OpenAPI's (``{id}`` is an integer, other names strings)."""

    method: str
    path: str
    operation: str
    role: Role
    summary: str
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()


SINCE = Param(name="since", type="number", description="Unix time; rows at or after it.")
LIMIT = Param(name="limit", type="integer", description="At most this many rows (newest).")
_SILENCE_WORDS = {
    "matcher": {"type": "string", "description": "`check=api*`, `severity=warning`, ..."},
    "duration": {"type": "string", "description": "How long: `30m`, `2h`."},
    "from": {"type": "string", "description": "A later start (`HH:MM` or ISO time)."},
    "reason": {"type": "string"},
}
READ, OPERATE, APPROVE = Role.READ, Role.OPERATE, Role.APPROVE

ROUTES: tuple[Route, ...] = (
    Route(
        method="GET", path="/openapi.json", operation="openapi", role=READ, summary="This document."
    ),
    Route(
        method="GET",
        path="/health",
        operation="health",
        role=READ,
        summary="The performance summary: system, components, external services, peers, alerts.",
    ),
    Route(
        method="GET",
        path="/checks",
        operation="list_checks",
        role=READ,
        summary="Every configured check with its subjects' latest states.",
    ),
    Route(
        method="GET",
        path="/checks/{name}",
        operation="get_check",
        role=READ,
        summary="One check: latest states and its recent values per metric.",
        query=(
            Param(name="since", type="number", description="Unix time (default: an hour ago)."),
            LIMIT,
        ),
        errors=(400, 404),
    ),
    Route(
        method="POST",
        path="/checks/{name}/run",
        operation="run_check",
        role=OPERATE,
        summary="Run the check now, recording nothing (like `selfreg check run`).",
        errors=(404,),
    ),
    Route(
        method="GET",
        path="/incidents",
        operation="list_incidents",
        role=READ,
        summary="Open incidents, or all since a time.",
        query=(
            Param(
                name="state",
                type="string",
                description="open (default) or all.",
                enum=("open", "all"),
            ),
            SINCE,
            LIMIT,
        ),
        errors=(400,),
    ),
    Route(
        method="GET",
        path="/incidents/{id}",
        operation="get_incident",
        role=READ,
        summary="One incident, its timeline and its proposals.",
        errors=(404,),
    ),
    Route(
        method="POST",
        path="/incidents/{id}/ack",
        operation="ack_incident",
        role=OPERATE,
        summary="Acknowledge: escalation stops.",
        errors=(404, 409),
    ),
    Route(
        method="POST",
        path="/incidents/{id}/silence",
        operation="silence_incident",
        role=OPERATE,
        summary="Silence one incident for a while, or until it resolves.",
        body={"duration": _SILENCE_WORDS["duration"], "reason": {"type": "string"}},
        status=201,
        errors=(400, 404, 409),
    ),
    Route(
        method="POST",
        path="/incidents/{id}/resolve",
        operation="resolve_incident",
        role=OPERATE,
        summary="Resolve by hand (refused while a rule incident's check fails).",
        errors=(404, 409),
    ),
    Route(
        method="GET",
        path="/proposals",
        operation="list_proposals",
        role=READ,
        summary="Proposals waiting for a decision, or one incident's proposals.",
        query=(Param(name="incident", type="integer", description="An incident id."),),
        errors=(400,),
    ),
    Route(
        method="POST",
        path="/proposals/{id}/approve",
        operation="approve_proposal",
        role=APPROVE,
        summary="Approve through the policy gate.",
        errors=(404, 409, 422),
    ),
    Route(
        method="POST",
        path="/proposals/{id}/deny",
        operation="deny_proposal",
        role=APPROVE,
        summary="Deny through the policy gate.",
        body={"reason": {"type": "string"}},
        errors=(400, 404, 409, 422),
    ),
    Route(
        method="GET",
        path="/components",
        operation="list_components",
        role=READ,
        summary="Supervised components and their instances.",
    ),
    *(
        Route(
            method="POST",
            path=f"/components/{{name}}/{verb}",
            operation=f"{verb}_component",
            role=OPERATE,
            summary=f"{verb.capitalize()} the component.",
            errors=(404,),
        )
        for verb in ("restart", "stop", "start")
    ),
    Route(
        method="GET",
        path="/silences",
        operation="list_silences",
        role=READ,
        summary="Active and scheduled silences.",
    ),
    Route(
        method="POST",
        path="/silences",
        operation="create_silence",
        role=OPERATE,
        summary="Add a silence (the words `/selfreg silence` takes).",
        body=_SILENCE_WORDS,
        status=201,
        errors=(400,),
    ),
    Route(
        method="DELETE",
        path="/silences/{id}",
        operation="delete_silence",
        role=OPERATE,
        summary="End a silence.",
        errors=(404,),
    ),
    Route(
        method="POST",
        path="/actions/{name}/run",
        operation="run_action",
        role=APPROVE,
        summary="Run a configured action as the caller (like `selfreg run ACTION`): a proposal "
        "the caller approves at once if the policy gate allows, else it waits for approvers.",
        body={"incident": {"type": "integer", "description": "The incident it is run for."}},
        errors=(400, 404),
    ),
    Route(
        method="GET",
        path="/audit",
        operation="read_audit",
        role=READ,
        summary="The audit trail, oldest first: the newest `limit` rows since `since`.",
        query=(SINCE, Param(name="limit", type="integer", description="1-1000, default 100.")),
        errors=(400,),
    ),
)


def _parameters(route: Route) -> list[dict[str, Any]]:
    found = []
    for name in ("id", "name"):
        if f"{{{name}}}" in route.path:
            kind = "integer" if name == "id" else "string"
            found.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    for param in route.query:
        schema: dict[str, Any] = {"type": param.type}
        if param.enum:
            schema["enum"] = list(param.enum)
        found.append(
            {
                "name": param.name,
                "in": "query",
                "required": False,
                "description": param.description,
                "schema": schema,
            }
        )
    return found


def _operation(route: Route) -> dict[str, Any]:
    ok = {
        "description": "Success.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    errors = {
        str(status): {"$ref": f"#/components/responses/E{status}"}
        for status in sorted({401, 403, *route.errors})
    }
    found: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "tags": [route.path.split("/")[1].removesuffix(".json")],
        "x-selfreg-role": route.role.value,
        "parameters": _parameters(route),
        "responses": {str(route.status): ok, **errors},
    }
    if route.body is not None:
        schema = {"type": "object", "properties": route.body, "additionalProperties": False}
        if route.operation == "create_silence":
            schema["required"] = ["matcher", "duration"]
        found["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": schema}},
        }
    return found


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": sorted(CODES)},
                "message": {"type": "string"},
            },
        }
    },
}


def document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``ROUTES`` (selfreg's ``version``)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = _operation(route)
    statuses = sorted(set(CODES.values()))
    return {
        "openapi": "3.1.0",
        "info": {"title": "selfreg management API", "version": version},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR_SCHEMA},
            "responses": {
                f"E{status}": {
                    "description": ", ".join(c for c, s in CODES.items() if s == status),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for status in statuses
            },
        },
    }
