"""``/dashboard``: read-only pages on the web server, its sign-in, and its live updates.

Live updates are server-sent events: while a page is open its ``EventSource`` holds one
request, whose loop polls SQLite's ``data_version`` (a counter, no query) every second and
says ``refresh`` when selfreg committed something; the page then fetches itself again. No
page open, no loop: the dashboard costs nothing while nobody looks.

Sign-in: where the web server needs a token (bound beyond loopback), a page asked without one
redirects to a form that POSTs the token; the answer sets an HttpOnly, SameSite=Strict cookie
holding an HMAC of the token (never the token itself), so the token is in no URL and no log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from bot import messages
from bot.engine.trend import RANGES
from bot.web import dashboard_html, dashboard_pages
from bot.web.dashboard_data import Reader

STATIC = Path(__file__).parent / "static"
COOKIE = "selfreg_dashboard"
POLL = 1.0
"""Seconds between two looks at the store's data version while a page is open."""
KEEPALIVE = 15
"""Polls between two keep-alive comments on a quiet stream."""
OPEN_PATHS = frozenset(
    {"/dashboard/signin", "/dashboard/static/dashboard.css", "/dashboard/static/dashboard.js"}
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def session_value(token: str) -> str:
    """The cookie's value for ``token``: an HMAC, so the cookie never carries the token."""
    return hmac.new(token.encode(), b"selfreg dashboard session", hashlib.sha256).hexdigest()


def signed_in(request: web.Request, token: str) -> bool:
    """True when the request carries the dashboard cookie for ``token``."""
    given = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(given.encode(), session_value(token).encode())


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


class Dashboard:
    """The dashboard's routes over one ``Reader``."""

    def __init__(
        self,
        reader: Reader,
        token: str | None,
        workspace: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.reader = reader
        self.token = token
        self.workspace = workspace
        """The Slack workspace's address (``auth.test``), once known: exact message links."""
        self.stopping = asyncio.Event()

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/dashboard", self.overview)
        r.add_get("/dashboard/check/{name}", self.check)
        r.add_get("/dashboard/incident/{id:[0-9]+}", self.incident)
        r.add_get("/dashboard/history", self.history)
        r.add_get("/dashboard/events", self.events)
        r.add_get("/dashboard/signin", self.signin_form)
        r.add_post("/dashboard/signin", self.signin)
        r.add_get("/dashboard/static/{file:dashboard\\.(css|js)}", self.static)
        app.on_shutdown.append(self._shutdown)

    async def _shutdown(self, _: web.Application) -> None:
        self.stopping.set()
        await asyncio.get_running_loop().run_in_executor(None, self.reader.close)

    async def overview(self, _: web.Request) -> web.Response:
        view = await self.reader.run(Reader.overview)
        return _html(dashboard_html.overview_page(view, self.reader.facts()))

    async def check(self, request: web.Request) -> web.Response:
        name, word = request.match_info["name"], _range(request)
        charts, incidents = await self.reader.run(lambda r: r.check(name, RANGES[word]))
        return _html(dashboard_pages.check_page(name, word, charts, incidents, self.reader.now()))

    async def incident(self, request: web.Request) -> web.Response:
        wanted = int(request.match_info["id"])
        try:
            found, steps, charts, thread = await self.reader.run(lambda r: r.incident(wanted))
        except KeyError:
            text = dashboard_html.page(
                "404", f"<p>{dashboard_html.esc(messages.dash_unknown_incident(str(wanted)))}</p>"
            )
            return _html(text, status=404)
        slack = slack_link(self.workspace(), found.slack_channel, found.slack_ts, thread)
        return _html(dashboard_pages.incident_page(found, steps, charts, slack, self.reader.now()))

    async def history(self, request: web.Request) -> web.Response:
        word = _range(request, "7d")
        filters = {k: request.query.get(k, "") for k in ("check", "severity", "kind", "audit")}
        found = await self.reader.run(lambda r: r.history(filters, RANGES[word]))
        return _html(dashboard_pages.history_page(found, filters, word, self.reader.now()))

    async def static(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["file"]
        return web.FileResponse(STATIC / name, headers={"X-Content-Type-Options": "nosniff"})

    async def signin_form(self, _: web.Request) -> web.Response:
        return _html(dashboard_html.signin_page(wrong=False))

    async def signin(self, request: web.Request) -> web.Response:
        form = await request.post()
        given = str(form.get("token", ""))
        if not self.token or not hmac.compare_digest(given.encode(), self.token.encode()):
            return _html(dashboard_html.signin_page(wrong=True), status=401)
        response = _see_other("/dashboard")
        response.set_cookie(
            COOKIE, session_value(self.token), httponly=True, samesite="Strict", path="/"
        )
        return response

    async def events(self, request: web.Request) -> web.StreamResponse:
        """The live stream: ``refresh`` whenever the store changed; ends with the server."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        last = await self.reader.run(Reader.version)
        quiet = 0
        try:
            while not self.stopping.is_set():
                try:
                    await asyncio.wait_for(self.stopping.wait(), POLL)
                    break
                except TimeoutError:
                    pass
                version = await self.reader.run(Reader.version)
                quiet += 1
                if version != last:
                    last, quiet = version, 0
                    await response.write(b"event: refresh\ndata: {}\n\n")
                elif quiet >= KEEPALIVE:
                    quiet = 0
                    await response.write(b": keep-alive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response


def _range(request: web.Request, default: str = "24h") -> str:
    word = request.query.get("range", default)
    return word if word in RANGES else default


def slack_link(
    workspace: str | None, channel: str | None, ts: str | None, thread: str | None = None
) -> str | None:
    """A link to the incident's Slack message: its permalink, built as ``chat.getPermalink``
    shapes it from the workspace's address (a reply in a storm digest's thread names the
    thread); before ``auth.test`` answered, slack.com's archive address, which Slack redirects
    into the signed-in workspace."""
    if not channel or not ts:
        return None
    link = f"{workspace or 'https://slack.com/'}archives/{channel}/p{ts.replace('.', '')}"
    return link + (f"?{urlencode({'thread_ts': thread, 'cid': channel})}" if thread else "")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def dashboard_gate(request: web.Request, token: str) -> web.StreamResponse | None:
    """For a dashboard path: None when it may pass (open path, or signed in), else the answer:
    a redirect to the sign-in form for a page, 401 for the event stream."""
    if request.path in OPEN_PATHS or signed_in(request, token):
        return None
    if request.path == "/dashboard/events" or request.method != "GET":
        return web.Response(status=401, text="sign in at /dashboard/signin")
    return _see_other("/dashboard/signin")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **SECURITY_HEADERS})
