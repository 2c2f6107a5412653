"""The OpenAPI document and the router agree: every route aiohttp serves under /api/v1 is in
``/api/v1/openapi.json`` with its method, and every operation the document names is served;
the document is valid OpenAPI 3.1 (checked by openapi-spec-validator where installed)."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot import __version__
from bot.runtime import Runtime
from bot.web.api import PREFIX, ApiContext, add_api_routes
from bot.web.api.openapi import document
from bot.web.dashboard_data import Reader, facts_from
from tests.web.conftest import ApiClient


def routed(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route of ``app`` under /api/v1, paths as OpenAPI writes them."""
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith(PREFIX)
    }


def documented(spec: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item}


async def test_every_routed_operation_is_documented_and_every_documented_one_routed(
    running: Runtime, api: ApiClient
) -> None:
    reader = Reader(running.booted.db_path, lambda: facts_from(running.config.settings), never)
    app = web.Application()
    add_api_routes(
        app,
        ApiContext(
            requests=running.requests,
            reader=reader,
            identities=lambda: ((), {}),
            status=running.status,
            run_checks=running.run_checks,
            check_kinds=dict,
            data_dir=running.booted.data_dir,
            version=__version__,
        ),
    )
    served = await api.call("GET", "/openapi.json", as_="reader")
    assert served.status == 200 and served.body == document(__version__)
    assert routed(app) == documented(served.body)
    assert ("post", f"{PREFIX}/proposals/{{id}}/approve") in routed(app)
    reader.close()


def never() -> float:
    return 0.0


def test_the_document_is_valid_openapi_3_1() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document(__version__))
