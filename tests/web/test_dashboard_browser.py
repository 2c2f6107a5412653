"""The dashboard in a real browser (Debian's Chromium through playwright): what an operator
sees on the overview, that a chart draws the stored values, that a resolved incident turns
green on an open page without a reload, the sign-in off loopback, and no console errors.

One browser and one seeded store for the module; each test opens its own page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.records import IncidentState
from bot.store import Store, open_store
from bot.store.history import raw_points
from bot.store.incidents import get_incident, save_incident
from tests.support.browser import chromium_path, launch
from tests.support.dashboard_seed import NOW, Seeded, seed
from tests.support.dashboard_server import DashboardServer

sync_api = pytest.importorskip("playwright.sync_api")
if chromium_path() is None:
    pytest.skip(
        "Debian's chromium is not installed (scripts/test installs it)", allow_module_level=True
    )

TOKEN = "test-web-token-5f1c"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Seeded]]:
    path = tmp_path_factory.mktemp("dash") / "selfreg.db"
    store = open_store(path)
    found = seed(store)
    yield store, found
    store.close()


@pytest.fixture(scope="module")
def server(seeded: tuple[Store, Seeded]) -> Iterator[str]:
    running = DashboardServer(seeded[0].path, lambda: NOW)
    yield running.start()
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        opened = launch(playwright)
        yield opened
        opened.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def test_overview_shows_seeded_components_checks_incidents_approvals_and_peers(
    page: Any, server: str
) -> None:
    page.goto(f"{server}/dashboard")
    components = page.locator("#components").inner_text()
    assert "api" in components and "4250" in components and "crash-loop" in components
    checks = page.locator("#checks").inner_text()
    assert "api-health" in checks and "critical" in checks and "host" in checks
    assert page.locator("#checks svg.spark polyline").count() >= 2
    incidents = page.locator("#incidents").inner_text()
    assert "500 Internal Server Error" in incidents and "U0ALICE" in incidents
    approvals = page.locator("#approvals").inner_text()
    assert "restart-api" in approvals and "U0ALICE, U0BOB (two different people)" in approvals
    assert "disk_percent" in page.locator("#predictions").inner_text()
    peers = page.locator("#peers").inner_text()
    assert "mobile" in peers and "https://mobile.example:8787" in peers and "warning" in peers
    services = page.locator("#services").inner_text()
    assert "web-fly: 2 of 2 machines started" in services and "cloudflared" in services
    assert page.locator("#summary").inner_text().startswith("critical:")


def test_overview_shows_the_scheduled_run_and_regulation(page: Any, server: str) -> None:
    page.goto(f"{server}/dashboard")
    scheduled = page.locator("#scheduled").inner_text()
    assert "scale-api-down" in scheduled and "U0BOB" in scheduled and "(in 3h)" in scheduled
    regulation = page.locator("#regulation").inner_text()
    assert "active" in regulation and "api-latency" in regulation and "latency 812" in regulation


def test_chart_draws_the_stored_values(
    page: Any, server: str, seeded: tuple[Store, Seeded]
) -> None:
    store, found = seeded
    page.goto(f"{server}/dashboard/check/api-health?range=1h")
    chart = page.locator(f'svg.chart[data-series="{found.latency_series}"]')
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    scale = {
        k: float(chart.get_attribute(f"data-{k}") or "nan")
        for k in ("t0", "t1", "v0", "v1", "left", "top", "w", "h")
    }
    drawn = chart.locator("polyline.value").get_attribute("points") or ""
    points = [tuple(map(float, p.split(","))) for p in drawn.split()]
    stored = raw_points(store, found.latency_series, NOW - 3600, NOW)
    assert len(points) == len(stored) > 30
    for (x, y), (at, value) in zip(points, stored, strict=True):
        t = scale["t0"] + (x - scale["left"]) / scale["w"] * (scale["t1"] - scale["t0"])
        v = scale["v1"] - (y - scale["top"]) / scale["h"] * (scale["v1"] - scale["v0"])
        assert t == pytest.approx(at, abs=(scale["t1"] - scale["t0"]) / 1000)
        assert v == pytest.approx(value, abs=(scale["v1"] - scale["v0"]) / 1000)
    critical = chart.locator("line.limit.critical")
    assert float(critical.get_attribute("data-value") or 0) == 80.0


def test_incident_resolved_in_the_store_turns_green_without_a_reload(
    page: Any, server: str, seeded: tuple[Store, Seeded]
) -> None:
    store, found = seeded
    page.goto(f"{server}/dashboard/incident/{found.open_incident}")
    assert "acknowledged" in page.locator("#incident-state").inner_text()
    page.wait_for_selector("body[data-connected]", state="attached")
    page.evaluate("() => { window.notReloaded = true; }")
    incident = get_incident(store, found.open_incident)
    assert incident is not None
    with store.transaction():
        save_incident(store, replace(incident, state=IncidentState.RESOLVED, resolved_at=NOW))
    page.wait_for_selector("#incident-state.s-ok")
    assert "resolved" in page.locator("#incident-state").inner_text()
    assert page.evaluate("() => window.notReloaded") is True


def test_sign_in_is_required_off_loopback_and_a_wrong_token_is_refused(
    browser: Any, seeded: tuple[Store, Seeded]
) -> None:
    gated = DashboardServer(seeded[0].path, lambda: NOW, token=TOKEN)
    url = gated.start()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}/dashboard")
        assert page.url.endswith("/dashboard/signin")
        page.fill("#token", "not-the-token")
        page.click("button[type=submit]")
        assert "That token is not right." in page.locator("main").inner_text()
        assert "api-health" not in page.content()
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        assert page.url.endswith("/dashboard")
        assert "api-health" in page.locator("#checks").inner_text()
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert TOKEN not in cookie["value"] and TOKEN not in page.url
    finally:
        context.close()
        gated.stop()


def test_no_console_errors_on_any_page(
    page: Any, server: str, seeded: tuple[Store, Seeded]
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    found = seeded[1]
    for path in (
        "/dashboard",
        "/dashboard/check/api-health?range=1h",
        "/dashboard/check/host?range=30d",
        f"/dashboard/incident/{found.resolved_incident}",
        "/dashboard/history?range=30d",
        "/dashboard/history?check=api-health&severity=critical",
        "/dashboard/signin",
    ):
        page.goto(f"{server}{path}")
        page.wait_for_load_state("load")
        assert page.locator("main h1").count() == 1, path
    assert errors == []


def test_with_javascript_off_every_state_is_still_text(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server}/dashboard")
        assert page.locator("#summary").inner_text().startswith("critical:")
        assert "crash-loop" in page.locator("#components").inner_text()
        checks = page.locator("#checks").inner_text()
        assert "api-health\tcritical" in checks and "host\tok" in checks
        assert "warning" in page.locator("#peers").inner_text()
        assert "Live updates need JavaScript" in page.locator("noscript").inner_text()
    finally:
        context.close()


def test_on_a_phone_wide_screen_the_page_does_not_scroll_sideways(
    browser: Any, server: str, seeded: tuple[Store, Seeded]
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        for path in (
            "/dashboard",
            "/dashboard/check/api-health?range=24h",
            f"/dashboard/incident/{seeded[1].open_incident}",
            "/dashboard/history",
        ):
            page.goto(f"{server}{path}")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 375, path  # wide tables scroll inside their own box
    finally:
        context.close()


def test_light_and_dark_follow_the_system(browser: Any, server: str) -> None:
    backgrounds = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(f"{server}/dashboard")
            backgrounds[scheme] = page.evaluate(
                "() => getComputedStyle(document.body).backgroundColor"
            )
        finally:
            context.close()
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}
