"""The prometheus check against the Prometheus API stand-in (recorded query answers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from checks.base import Observation, Status
from checks.prometheus import PrometheusCheck, PrometheusSpec
from tests.support.check_context import commit, make_context
from tests.support.prometheus_standin import PrometheusStandin, prometheus_standin

QUERY = "cloudflared_tunnel_ha_connections"


@pytest.fixture
async def prom() -> AsyncIterator[tuple[PrometheusStandin, str]]:
    async with prometheus_standin() as started:
        yield started


def make_check(base: str, **fields: Any) -> PrometheusCheck:
    spec = {"url": base, "query": QUERY} | fields
    return PrometheusCheck(PrometheusSpec(kind="prometheus", name="prom", **spec))


async def run(http: aiohttp.ClientSession, check: PrometheusCheck) -> list[Observation]:
    """The series' observations (the query's own, on subject "", is left out)."""
    return [o for o in await check.run(make_context(http)) if o.subject]


async def query_line(http: aiohttp.ClientSession, check: PrometheusCheck) -> Observation:
    """The observation of the query itself (subject "")."""
    return next(o for o in await check.run(make_context(http)) if o.subject == "")


async def test_each_series_is_an_observation_with_its_labels_as_subject(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector.json"
    check = make_check(base, threshold={"warn": 1, "critical": 0}, below=True)
    home, office = sorted(await run(http, check), key=lambda o: o.subject)
    assert home.subject == "fleet=home-lab,instance=127.0.0.1:20241,job=cloudflared"
    assert home.status is Status.OK and home.values == {"value": 4.0}
    assert office.subject == "fleet=office,instance=10.0.3.7:20241,job=cloudflared"
    assert office.status is Status.CRITICAL and office.values == {"value": 0.0}
    assert office.summary == "value 0 (critical: at or below 0)"
    assert standin.seen[0]["query"] == QUERY and standin.seen[0]["timeout"] == "4000ms"


async def test_subject_labels_and_metric_name_are_configurable(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector.json"
    check = make_check(base, subject_labels=["instance"], metric="ha_connections")
    subjects = {o.subject: o.values for o in await run(http, check)}
    assert subjects == {
        "instance=127.0.0.1:20241": {"ha_connections": 4.0},
        "instance=10.0.3.7:20241": {"ha_connections": 0.0},
    }


async def test_a_value_past_warn_is_a_warning(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector_up.json"
    observations = await run(http, make_check(base, threshold={"warn": 1}))
    statuses = {o.subject: o.status for o in observations}
    assert statuses == {
        "instance=localhost:9090,job=prometheus": Status.WARNING,
        "instance=localhost:9100,job=node": Status.OK,
    }


async def test_a_scalar_is_one_observation_on_the_empty_subject(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_scalar.json"
    seen = await query_line(http, make_check(base, threshold={"critical": 3}))
    assert seen.status is Status.CRITICAL and seen.values == {"value": 4.0}


async def test_an_empty_vector_is_ok_by_default_and_configurable(http, prom) -> None:
    _, base = prom
    seen = await query_line(http, make_check(base))
    assert seen.status is Status.OK and seen.summary == "no series"
    seen = await query_line(http, make_check(base, empty="critical"))
    assert seen.status is Status.CRITICAL


@pytest.mark.parametrize(
    ("sample", "words"),
    [
        ("error_400_bad_data.json", 'bad_data (HTTP 400): invalid parameter "query": 1:34: parse'),
        ("error_422_execution.json", "execution (HTTP 422): found duplicate series"),
        ("error_503_timeout.json", "timeout (HTTP 503): query timed out in expression evaluation"),
    ],
)
async def test_query_errors_are_unknown_with_prometheus_own_text(http, prom, sample, words) -> None:
    standin, base = prom
    standin.answers[QUERY] = sample
    [seen] = await make_check(base).run(make_context(http))
    assert seen.status is Status.UNKNOWN and seen.subject == ""
    assert seen.summary.startswith(f"Prometheus query failed: {words}")


async def test_a_partial_answer_with_warnings_is_unknown(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector.json"
    standin.warnings = ["remote read of store eu-1 failed: connection refused"]
    [seen] = await make_check(base).run(make_context(http))
    assert seen.status is Status.UNKNOWN
    assert seen.summary == (
        "Prometheus query failed: partial answer: remote read of store eu-1 failed: "
        "connection refused"
    )


async def test_infos_are_notes_on_a_good_answer(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_with_infos.json"
    [seen] = await run(http, make_check(base))
    assert seen.status is Status.OK and seen.values == {"value": 0.0043}
    assert "(Prometheus notes: PromQL info: metric might not be a counter" in seen.summary


async def test_the_bearer_token_comes_from_the_named_variable(http, prom, monkeypatch) -> None:
    standin, base = prom
    standin.token = "s3cret"
    standin.answers[QUERY] = "query_vector_up.json"
    check = make_check(base, token_env="PROM_TOKEN")
    [seen] = await check.run(make_context(http))
    assert seen.status is Status.UNKNOWN and seen.summary == "PROM_TOKEN is not set"
    monkeypatch.setenv("PROM_TOKEN", "wrong")
    [seen] = await check.run(make_context(http))
    assert seen.summary == "Prometheus query failed: HTTP 401: Unauthorized"
    monkeypatch.setenv("PROM_TOKEN", "s3cret")
    observations = await run(http, make_check(base, token_env="PROM_TOKEN"))
    assert {o.status for o in observations} == {Status.OK} and len(observations) == 2


async def test_an_unreachable_prometheus_is_unknown(http) -> None:
    [seen] = await make_check("http://127.0.0.1:9").run(make_context(http))
    assert seen.status is Status.UNKNOWN
    assert seen.summary.startswith("Prometheus query failed: cannot connect:")


async def test_the_query_itself_is_the_empty_subject_with_its_series_count(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector.json"
    seen = await query_line(http, make_check(base))
    assert seen.status is Status.OK and seen.summary == "2 series"
    assert seen.values == {"series": 2.0}


async def test_a_series_that_is_no_longer_returned_is_reported_ok_once(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector.json"
    check = make_check(base, threshold={"critical": 0}, below=True)
    first = make_context(http)
    await check.run(first)
    standin.answers[QUERY] = "query_vector_empty.json"
    second = make_context(http, committed=commit(first.state))
    gone = [o for o in await check.run(second) if o.subject]
    assert {o.subject for o in gone} == {
        "fleet=home-lab,instance=127.0.0.1:20241,job=cloudflared",
        "fleet=office,instance=10.0.3.7:20241,job=cloudflared",
    }
    assert {(o.status, o.summary) for o in gone} == {(Status.OK, "no longer returned by the query")}
    third = make_context(http, committed=commit(second.state))
    assert [o.subject for o in await check.run(third)] == [""]


async def test_a_large_answer_is_read_whole(http, prom) -> None:
    standin, base = prom
    standin.answers[QUERY] = "query_vector_up.json"
    series = [
        {
            "metric": {"instance": f"10.0.{i // 250}.{i % 250}:9100", "job": "node"},
            "value": [1, "1"],
        }
        for i in range(5000)
    ]
    standin.override = {"status": "success", "data": {"resultType": "vector", "result": series}}
    observations = await run(http, make_check(base))
    assert len(observations) == 5000 and {o.status for o in observations} == {Status.OK}
