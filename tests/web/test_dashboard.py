"""/dashboard served by the running selfreg, without a browser: the pages answer with their
security headers, the live stream says ``refresh`` when the store changes, every stored text
is escaped, and a token set means sign in first."""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot import messages
from bot.config import load_settings
from bot.runtime import Runtime
from bot.store import open_store
from bot.store import regulation as store_regulation
from bot.store.incidents import get_incident, save_incident
from bot.web.dashboard import slack_link
from bot.web.dashboard_data import Reader, Service, facts_from
from bot.web.dashboard_html import overview_page
from tests.support.dashboard_seed import NOW, seed
from tests.support.dashboard_server import FACTS
from tests.support.slack_selfreg import CHANNEL, slack_env
from tests.support.slack_standin import SlackEmulator
from tests.web.test_api import open_incident

CONFIG = '[[checks]]\nkind = "selfreg"\nname = "selfreg"\ninterval = "1s"\n'


async def start(tmp_path: Path, **env: str) -> Runtime:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    config = load_settings(
        str(tmp_path / "selfreg.toml"),
        {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0", **env},
    )
    runtime = Runtime(config, out=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    await runtime.start()
    return runtime


async def test_the_running_selfreg_serves_the_dashboard_and_its_live_stream(tmp_path: Path) -> None:
    runtime = await start(tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{runtime.web_url}/dashboard") as page:
                assert page.status == 200
                assert "default-src 'self'" in page.headers["Content-Security-Policy"]
                assert "<h1>Overview</h1>" in await page.text()
            async with http.get(f"{runtime.web_url}/dashboard/static/dashboard.js") as script:
                assert script.status == 200 and "EventSource" in await script.text()
            async with http.get(f"{runtime.web_url}/dashboard/events") as stream:
                assert stream.headers["Content-Type"] == "text/event-stream"
                store = runtime.parts.store
                with store.transaction():
                    store.record_event("test.changed", "", 1.0)
                line = await asyncio.wait_for(stream.content.readline(), 10)
                assert line == b"event: refresh\n"
    finally:
        await runtime.stop()


async def test_a_token_means_sign_in_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = await start(tmp_path, SELFREG_WEB_TOKEN="s3cret-token")
    try:  # an IP address's cookies are kept only by an "unsafe" jar (browsers keep them)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            url = f"{runtime.web_url}/dashboard"
            async with http.get(url, allow_redirects=False) as page:
                assert page.status == 303 and page.headers["Location"] == "/dashboard/signin"
            async with http.get(f"{url}/events") as stream:
                assert stream.status == 401
            async with http.post(f"{url}/signin", data={"token": "wrong-token-7c2e"}) as refused:
                assert refused.status == 401
            async with http.post(f"{url}/signin", data={"token": "s3cret-token"}) as signed:
                assert signed.status == 200 and "<h1>Overview</h1>" in await signed.text()
            bearer = {"Authorization": "Bearer s3cret-token"}
            async with aiohttp.ClientSession() as other, other.get(url, headers=bearer) as page:
                assert page.status == 200
    finally:
        await runtime.stop()
    assert "s3cret-token" not in caplog.text  # neither the token nor the wrong one is logged
    assert "wrong-token-7c2e" not in caplog.text
    assert "s3cret-token" not in (tmp_path / "out.txt").read_text()


def test_every_stored_text_is_escaped(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    found = seed(store)
    incident = get_incident(store, found.open_incident)
    assert incident is not None
    with store.transaction():
        save_incident(store, replace(incident, summary='<script>alert("x")</script>'))
    reader = Reader(store.path, lambda: FACTS, lambda: NOW)
    try:
        page = overview_page(reader.overview(), FACTS)
    finally:
        reader.close()
        store.close()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


SERVICES_CONFIG = """
[[peers]]
name = "mobile"
url = "https://mobile.example:8787"

[[sync]]
name = "shared-backups"
source = "/srv/selfreg/backups"
destination = "mobile:/srv/selfreg/from-main/backups"

[[checks]]
kind = "prometheus"
name = "targets-up"
url = "http://watcher:s3cret@127.0.0.1:9090"
query = "up"

[[checks]]
kind = "http"
name = "api-health"
url = "http://127.0.0.1:8000/health"
"""


def test_the_config_names_its_peers_and_external_services(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(SERVICES_CONFIG)
    config = load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_DATA_DIR": str(tmp_path)})
    services = facts_from(config.settings).services
    assert set(services) == {"mobile", "shared-backups", "targets-up"}  # http is not one
    assert services["mobile"] == Service(kind="peer", where="https://mobile.example:8787")
    assert services["shared-backups"].peer
    assert services["shared-backups"].where.endswith("mobile:/srv/selfreg/from-main/backups")
    assert not services["targets-up"].peer
    assert "s3cret" not in services["targets-up"].where  # a password in a URL is not shown
    assert services["targets-up"].where == "http://127.0.0.1:9090"


def test_the_overview_lists_peers_and_external_services_when_configured(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    seed(store)
    reader = Reader(store.path, lambda: FACTS, lambda: NOW)
    try:
        view = reader.overview()
        page = overview_page(view, FACTS)
        bare = overview_page(view, replace(FACTS, services={}))
    finally:
        reader.close()
        store.close()
    peers = _section(page, "peers")
    assert "https://mobile.example:8787" in peers and "s-warning" in peers
    assert "mobile: 11 ok, 1 warning — disk warning for 12m" in peers and "20s ago" in peers
    services = _section(page, "services")
    assert "web-fly: 2 of 2 machines started, v41" in services and "s-ok" in services
    assert "edge-tunnel" in services and messages.DASH_NOT_RUN in services  # not run yet
    assert 'id="peers"' not in bare and 'id="services"' not in bare  # none configured


def _section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}">')
    return page[start : page.index("</section>", start)]


async def test_the_incident_page_links_to_its_exact_slack_message(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    env = slack_env(emu, tmp_path / "data")
    runtime = Runtime(load_settings(str(tmp_path / "selfreg.toml"), env), out=io.StringIO())
    await runtime.start()
    try:
        incident_id = open_incident(runtime)

        def posted() -> str | None:
            found = get_incident(runtime.store, incident_id)
            return found.slack_ts if found is not None else None

        ts = await asyncio.to_thread(emu.wait_for, posted, 20)
        url = f"{runtime.web_url}/dashboard/incident/{incident_id}"
        async with aiohttp.ClientSession() as http, http.get(url) as page:
            text = await page.text()
        domain = emu.config.team_domain  # auth.test's url: the permalink's own address
        assert (
            f'href="https://{domain}.slack.com/archives/{CHANNEL}/p{ts.replace(".", "")}"' in text
        )
    finally:
        await runtime.stop()


def test_a_slack_link_names_a_digest_thread_and_falls_back_before_auth_test() -> None:
    link = slack_link("https://acme.slack.com/", "C1", "1700000000.000200", "1700000000.000100")
    assert link == (
        "https://acme.slack.com/archives/C1/p1700000000000200?thread_ts=1700000000.000100&cid=C1"
    )
    assert slack_link(None, "C1", "17.5") == "https://slack.com/archives/C1/p175"
    assert slack_link("https://acme.slack.com/", None, None) is None


def test_the_overview_shows_scheduled_runs_and_regulation(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    found = seed(store)
    reader = Reader(store.path, lambda: FACTS, lambda: NOW)
    try:
        page = overview_page(reader.overview(), FACTS)
        with store.transaction():
            store_regulation.set_paused(store, "breaker: 3 failed moves", "selfreg", NOW)
        paused = overview_page(reader.overview(), FACTS)
    finally:
        reader.close()
        store.close()
    scheduled = _section(page, "scheduled")
    assert f"<td>{found.scheduled_run}</td>" in scheduled and "scale-api-down" in scheduled
    assert f'href="/dashboard/incident/{found.open_incident}"' in scheduled
    assert "2027-01-15 11:00:00 (in 3h)" in scheduled and "U0BOB" in scheduled
    regulation = _section(page, "regulation")
    assert "s-active" in regulation and "api-latency" in regulation
    assert "scale-api-up ↑" in regulation and "latency 812 (band 100..500)" in regulation
    assert "moved" in regulation and "s-paused" not in regulation
    paused_part = _section(paused, "regulation")
    assert "s-paused" in paused_part and "by selfreg (breaker: 3 failed moves)" in paused_part


def test_the_regulation_line_shows_when_configured_even_before_a_decision(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    reader = Reader(store.path, lambda: FACTS, lambda: NOW)
    try:
        view = reader.overview()
    finally:
        reader.close()
        store.close()
    assert 'id="regulation"' not in overview_page(view, FACTS)  # no rules, nothing decided
    configured = _section(overview_page(view, replace(FACTS, regulated=True)), "regulation")
    assert "s-active" in configured and messages.DASH_NONE in configured
    assert messages.DASH_NONE in _section(overview_page(view, FACTS), "scheduled")
