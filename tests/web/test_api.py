"""/api/v1 against a real selfreg built in this process: no token, no access (loopback too);
read-only tokens cannot change anything; the reading routes answer from the running engine
and the store; every error is ``{"error": {"code", "message"}}`` with its HTTP status; tokens
never reach the log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import aiohttp
import pytest

from bot.engine.transitions import fingerprint
from bot.records import IncidentKind, Severity, Transition
from bot.runtime import Runtime
from bot.store import audit
from bot.store import incidents as rows
from checks.base import Status
from tests.web.conftest import TOKENS, Answer, ApiClient, start_api_selfreg


def is_error(answer: Answer, status: int, code: str) -> bool:
    """The answer is the API's error shape with this status and code, and a sentence."""
    error = answer.body.get("error", {})
    return (
        answer.status == status
        and set(answer.body) == {"error"}
        and set(error) == {"code", "message"}
        and error["code"] == code
        and len(error["message"]) > 10
    )


def open_incident(runtime: Runtime, subject: str = "eu") -> int:
    """An incident on a subject whose check state is not stored (so it may be resolved)."""
    incident = runtime.parts.alerting.handle(
        Transition(
            fingerprint=fingerprint("api", subject, IncidentKind.RULE, ""),
            check="api",
            subject=subject,
            previous=Status.OK,
            current=Status.CRITICAL,
            severity=Severity.CRITICAL,
            summary=f"api {subject} is down",
            at=time.time(),
        )
    )
    assert incident is not None
    return incident.id


async def test_no_token_no_access_even_on_loopback(running: Runtime, api: ApiClient) -> None:
    assert is_error(await api.call("GET", "/checks"), 401, "unauthorized")
    assert is_error(await api.call("GET", "/openapi.json"), 401, "unauthorized")
    assert is_error(await api.call("GET", "/nope"), 401, "unauthorized")
    wrong = await api.call("GET", "/checks", header=f"Bearer {TOKENS['reader']}x")
    assert is_error(wrong, 401, "unauthorized")
    assert is_error(await api.call("GET", "/checks", header="Bearer "), 401, "unauthorized")
    basic = await api.call("GET", "/checks", header=f"Basic {TOKENS['reader']}")
    assert is_error(basic, 401, "unauthorized")
    async with aiohttp.ClientSession() as http, http.get(f"{running.web_url}/status") as status:
        assert status.status == 200, "/status stays open on loopback; the API does not"


async def test_the_reading_routes_answer_from_the_running_engine(
    running: Runtime, api: ApiClient
) -> None:
    await running.runner.run_interval(3600.0)  # api fails (nothing listens), selfreg is ok
    [incident] = rows.open_incidents(running.store)

    checks = (await api.call("GET", "/checks", as_="reader")).body["checks"]
    assert [(c["name"], c["kind"], c["status"]) for c in checks] == [
        ("api", "tcp", "critical"),
        ("selfreg", "selfreg", "ok"),
    ]
    one = await api.call("GET", "/checks/api", as_="reader")
    [series] = one.body["check"]["values"]
    assert series["metric"] == "up" and [v for _, v in series["points"]] == [0.0]

    listed = (await api.call("GET", "/incidents", as_="reader")).body["incidents"]
    assert [(i["id"], i["check"], i["state"]) for i in listed] == [(incident.id, "api", "open")]
    story = (await api.call("GET", f"/incidents/{incident.id}", as_="reader")).body
    assert story["timeline"][0]["kind"] == "opened"
    assert [p["action"] for p in story["proposals"]] == ["fix-api"]
    waiting = (await api.call("GET", "/proposals", as_="reader")).body["proposals"]
    assert [(p["action"], p["state"]) for p in waiting] == [("fix-api", "proposed")]
    components = (await api.call("GET", "/components", as_="reader")).body["components"]
    assert [c["name"] for c in components] == ["sleeper"]

    health = (await api.call("GET", "/health", as_="reader")).body
    assert health["overall"] == "critical" and "peers" not in health
    assert [s["check"] for s in health["external_services"]] == ["api"]
    assert [s["check"] for s in health["system"]["checks"]] == ["selfreg"]
    assert {"cpu_percent", "memory_percent", "disk_percent"} <= set(health["system"]["host"])
    assert [i["id"] for i in health["alerts"]["open_incidents"]] == [incident.id]
    assert health["alerts"]["proposals_waiting"] == 1
    assert health["components"][0]["name"] == "sleeper"


async def test_a_read_only_token_cannot_change_anything(running: Runtime, api: ApiClient) -> None:
    incident = open_incident(running)
    attempts = [
        ("POST", f"/incidents/{incident}/ack", None),
        ("POST", f"/incidents/{incident}/resolve", None),
        ("POST", f"/incidents/{incident}/silence", {"duration": "1h"}),
        ("POST", "/silences", {"matcher": "check=api", "duration": "1h"}),
        ("DELETE", "/silences/1", None),
        ("POST", "/proposals/1/approve", None),
        ("POST", "/proposals/1/deny", None),
        ("POST", "/components/sleeper/restart", None),
        ("POST", "/checks/api/run", None),
    ]
    before = len(list(audit.rows(running.store)))
    for method, path, body in attempts:
        answer = await api.call(method, path, as_="reader", json=body)
        assert is_error(answer, 403, "forbidden"), (path, answer)
    found = rows.get_incident(running.store, incident)
    assert found is not None and found.acked_by is None and found.is_open
    assert rows.current_silences(running.store, time.time()) == []
    assert len(list(audit.rows(running.store))) == before


async def test_every_error_is_json_with_a_stable_code_and_its_status(
    running: Runtime, api: ApiClient
) -> None:
    await running.runner.run_interval(3600.0)
    [failing] = rows.open_incidents(running.store)
    answers = {
        "no incident": (await api.call("GET", "/incidents/999", as_="reader"), 404, "not_found"),
        "no check": (await api.call("GET", "/checks/nope", as_="reader"), 404, "not_found"),
        "no route": (await api.call("GET", "/nope", as_="reader"), 404, "not_found"),
        "no method": (await api.call("PUT", "/checks", as_="reader"), 405, "method_not_allowed"),
        "bad limit": (await api.call("GET", "/audit?limit=abc", as_="reader"), 400, "bad_request"),
        "big limit": (await api.call("GET", "/audit?limit=5000", as_="reader"), 400, "bad_request"),
        "bad state": (
            await api.call("GET", "/incidents?state=shut", as_="reader"), 400, "bad_request"
        ),
        "bad words": (
            await api.call("POST", "/silences", as_="alice-bot", json={"matcher": "check=api",
                           "duration": "soon"}), 400, "bad_request",
        ),
        "no silence": (await api.call("DELETE", "/silences/77", as_="alice-bot"), 404, "not_found"),
        "still failing": (
            await api.call("POST", f"/incidents/{failing.id}/resolve", as_="alice-bot"), 409,
            "still_failing",
        ),
        "not permitted": (
            await api.call("POST", "/components/sleeper/stop", as_="alice-bot"), 403,
            "not_permitted",
        ),
    }  # fmt: skip
    for name, (answer, status, code) in answers.items():
        assert is_error(answer, status, code), (name, answer)
    closed = open_incident(running)
    assert (await api.call("POST", f"/incidents/{closed}/resolve", as_="alice-bot")).status == 200
    again = await api.call("POST", f"/incidents/{closed}/ack", as_="alice-bot")
    assert is_error(again, 409, "incident_closed")


async def test_a_web_token_neither_opens_nor_closes_the_api(tmp_path: Path) -> None:
    runtime = await start_api_selfreg(tmp_path, SELFREG_WEB_TOKEN="web-token-0123456789")
    try:
        async with aiohttp.ClientSession() as http:
            api = ApiClient(http, runtime.web_url)
            web_only = await api.call("GET", "/checks", header="Bearer web-token-0123456789")
            assert is_error(web_only, 401, "unauthorized")
            assert (await api.call("GET", "/checks", as_="reader")).status == 200
            async with http.get(f"{runtime.web_url}/status") as status:
                assert status.status == 401, "the web token still guards /status"
    finally:
        await runtime.stop()


async def test_an_identity_without_its_variable_is_named_at_start(
    running: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    started = [r.getMessage() for r in caplog.get_records("setup")]
    assert (
        "[[api.tokens]] 'unset': TEST_API_NEVER_SET is not set, so this identity cannot sign in"
        in started
    )


async def test_tokens_never_reach_the_log(
    running: Runtime, api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await api.call("GET", "/checks", as_="reader")
    await api.call("POST", "/checks/api/run", as_="reader")
    await api.call("GET", "/checks", header=f"Bearer {TOKENS['carol']}-guess")
    await api.call("POST", "/proposals/5/approve", as_="carol")
    written = caplog.text + running.out.getvalue()  # type: ignore[attr-defined]
    for token in TOKENS.values():
        assert token not in written
