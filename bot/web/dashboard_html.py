"""The dashboard's HTML: the page frame, tables, and the overview and sign-in pages.

Every value goes through ``esc`` (html.escape) on its way in; states are words in the page
(``ok``, ``critical``) with a colour class, so the page says everything with JavaScript and
CSS off.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from bot import messages
from bot.records import Incident, LatestState, Proposal
from bot.web.dashboard_data import Facts, Overview, Service
from bot.web.svg import sparkline
from common.units import format_duration


def esc(value: object) -> str:
    """Any value as escaped HTML text."""
    return escape(str(value), quote=True)


def when(at: float | None) -> str:
    """UTC time of day with the date: ``2026-12-07 02:41:05``."""
    return "-" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


def ago(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(max(0.0, seconds))


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}"


def state(word: str) -> str:
    """A state as a word with its colour class."""
    return f'<span class="state s-{esc(word)}">{esc(word)}</span>'


def table(heads: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table from already-escaped cells; ``messages.DASH_NONE`` when there are no rows."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="none">{esc(messages.DASH_NONE)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def page(title: str, body: str, overall: str = "", live: str = "") -> str:
    """The frame: head, navigation, the overall state, ``body``; ``live`` is the event URL."""
    nav = "".join(f'<a href="{esc(url)}">{esc(name)}</a>' for name, url in messages.DASH_NAV)
    live_attr = f' data-live="{esc(live)}"' if live else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)} · {esc(messages.DASH_TITLE)}</title>"
        '<link rel="stylesheet" href="/dashboard/static/dashboard.css">'
        '<link rel="icon" href="data:,">'
        f"</head><body{live_attr}><header><strong>{esc(messages.DASH_TITLE)}</strong>"
        f'<nav>{nav}</nav><span id="overall">{overall}</span></header>'
        f'<main id="main"><h1>{esc(title)}</h1>{body}</main>'
        f"<noscript><p>{esc(messages.DASH_LIVE_OFF)}</p></noscript>"
        '<script src="/dashboard/static/dashboard.js" defer></script></body></html>'
    )


def section(title: str, content: str, ident: str) -> str:
    return f'<section id="{esc(ident)}"><h2>{esc(title)}</h2>{content}</section>'


def incident_link(incident: Incident) -> str:
    return f'<a href="/dashboard/incident/{incident.id}">{incident.id}</a>'


def check_link(check: str) -> str:
    return f'<a href="/dashboard/check/{esc(quote(check, safe=""))}">{esc(check)}</a>'


def overview_page(view: Overview, facts: Facts) -> str:
    """The overview: overall state, components, checks, services, incidents, approvals,
    scheduled runs, regulation (when configured or it decided something), predictions."""
    overall = state(view.overall.value)
    line = messages.dash_overall(
        view.overall.value, len(view.checks), len(view.components), len(view.incidents)
    )
    body = f'<p class="overall s-{esc(view.overall.value)}" id="summary">{esc(line)}</p>'
    body += section(messages.DASH_COMPONENTS, _components(view), "components")
    body += section(messages.DASH_CHECKS, _checks(view), "checks")
    peers = {n: s for n, s in facts.services.items() if s.peer}
    others = {n: s for n, s in facts.services.items() if not s.peer}
    if peers:
        body += section(messages.DASH_PEERS, _services(view, peers), "peers")
    if others:
        body += section(messages.DASH_SERVICES, _services(view, others), "services")
    body += section(messages.DASH_INCIDENTS, _incidents(view), "incidents")
    body += section(messages.DASH_APPROVALS, _approvals(view, facts), "approvals")
    body += section(messages.DASH_SCHEDULED, _scheduled(view), "scheduled")
    if facts.regulated or view.decisions or view.regulation_paused:
        body += section(messages.DASH_REGULATION, _regulation(view), "regulation")
    body += section(messages.DASH_PREDICTIONS, _predictions(view), "predictions")
    return page("Overview", body, overall, live="/dashboard/events")


def _components(view: Overview) -> str:
    rows = []
    for c in view.components:
        uptime = view.now - c["started_at"] if c.get("started_at") and c.get("pid") else None
        exit_ = "-"
        if c.get("last_exit_at") is not None:
            exit_ = f"{c.get('last_exit_code')} ({ago(view.now - c['last_exit_at'])} ago)"
        rows.append(
            [
                esc(c["name"]),
                state(c["status"]),
                esc(c.get("pid") or "-"),
                esc(ago(uptime)),
                esc(c.get("restarts", 0)),
                esc(exit_),
            ]
        )
    return table(messages.COLS_COMPONENTS, rows, "components")


def _checks(view: Overview) -> str:
    rows = []
    for check in view.checks:
        values = [
            f"{(s.subject + ' ') if s.subject else ''}{k}={number(v)}"
            for s in check.states
            for k, v in list(s.values.items())[:4]
        ][:6]
        first = check.series[0] if check.series else None
        spark = sparkline(view.sparks.get(first.id, [])) if first else ""
        label = f"{first.subject} {first.metric}".strip() if first else ""
        rows.append(
            [
                check_link(check.name),
                state(check.status.value),
                esc(", ".join(values) or check.states[0].summary),
                f'{spark}<span class="small">{esc(label)}</span>',
            ]
        )
    return table(messages.COLS_CHECKS, rows, "checks")


def _services(view: Overview, services: Mapping[str, Service]) -> str:
    """Configured peers or external services: where each points, its state and its line
    (a peer's line folds the other side's checks and incidents)."""
    rows_by_name = {row.name: row for row in view.checks}
    rows = []
    for name, service in sorted(services.items()):
        row = rows_by_name.get(name)
        if row is None:
            status, line, checked = "unknown", messages.DASH_NOT_RUN, "-"
        else:
            status, line = row.status.value, _line(row.states)
            checked = f"{ago(view.now - max(s.at for s in row.states))} ago"
        rows.append(
            [check_link(name), esc(service.kind), esc(service.where), state(status),
             esc(line), esc(checked)]
        )  # fmt: skip
    return table(messages.COLS_SERVICES, rows, "services")


def _line(states: Sequence[LatestState]) -> str:
    """A check's one line: its whole-check subject's summary, else its worst subject's."""
    for s in states:
        if not s.subject:
            return s.summary
    return max(states, key=lambda s: s.status.rank).summary


def incident_row(incident: Incident, now: float) -> list[str]:
    return [
        incident_link(incident),
        esc(_what(incident)),
        state(incident.severity.value),
        state(incident.state.value),
        esc(ago(now - incident.opened_at)),
        esc(incident.acked_by or "-"),
    ]


def _what(incident: Incident) -> str:
    """The incident's summary, led by its check and subject unless it already names them."""
    label = messages.subject_label(incident.check, incident.subject)
    return (
        incident.summary if incident.summary.startswith(label) else f"{label}: {incident.summary}"
    )


def _incidents(view: Overview) -> str:
    rows = [incident_row(i, view.now) for i in view.incidents]
    return table(messages.COLS_INCIDENTS, rows, "incidents")


def _approvals(view: Overview, facts: Facts) -> str:
    by_id = {i.id: i for i in view.incidents}
    return table(
        messages.COLS_APPROVALS,
        [_approval(p, by_id.get(p.incident_id or 0), facts, view.now) for p in view.proposals],
        "approvals",
    )


def _approval(p: Proposal, incident: Incident | None, facts: Facts, now: float) -> list[str]:
    kind = facts.action_kinds.get(p.action, p.action)
    target = (incident.check, incident.subject) if incident else ("", "")
    who = messages.dash_approvers(
        facts.approvers.get(p.action, ()), 2 if p.risk.value == "high" else 1
    )
    return [
        esc(p.id),
        esc(p.action),
        esc(messages.dash_action(kind, p.action, *target)),
        esc(p.risk.value),
        incident_link(incident) if incident else "-",
        esc(ago(p.expires_at - now)),
        esc(who) + (f" · {esc(', '.join(p.approvals))}" if p.approvals else ""),
    ]


def _scheduled(view: Overview) -> str:
    """Proposals approved for a quiet window: when each runs, and who scheduled it."""
    by_id = {i.id: i for i in view.incidents}
    rows = [
        [esc(w.run.id), esc(w.run.proposal_id), esc(w.action),
         _incident_cell(w.incident_id, by_id),
         esc(f"{when(w.run.run_at)} (in {ago(w.run.run_at - view.now)})"),
         esc(w.run.scheduled_by)]
        for w in view.scheduled
    ]  # fmt: skip
    return table(messages.COLS_SCHEDULED, rows, "scheduled")


def _incident_cell(incident_id: int | None, by_id: Mapping[int, Incident]) -> str:
    """An incident's link with its summary when it is open, its bare link when not."""
    if incident_id is None:
        return "-"
    link = f'<a href="/dashboard/incident/{incident_id}">{incident_id}</a>'
    found = by_id.get(incident_id)
    return link + (f" {esc(_what(found))}" if found else "")


def _regulation(view: Overview) -> str:
    """The regulation switch (paused or active) and its latest decisions."""
    word = "paused" if view.regulation_paused else "active"
    line = messages.dash_regulation(view.regulation_paused)
    rows = [
        [esc(when(d.at)), esc(d.rule), esc(messages.dash_move(d.action, d.direction)),
         esc(messages.dash_signal(d.signal)), esc(d.outcome)]
        for d in view.decisions
    ]  # fmt: skip
    return f'<p id="regulation-state">{state(word)} — {esc(line)}</p>' + table(
        messages.COLS_DECISIONS, rows, "decisions"
    )


def _predictions(view: Overview) -> str:
    rows = []
    for p in view.predictions:
        eta: Any = p.detail.get("eta")
        rows.append(
            [
                esc(when(p.at)),
                esc(messages.subject_label(p.check, p.subject)),
                esc(p.kind + (f" {p.detail['metric']}" if p.detail.get("metric") else "")),
                esc(number(p.score)),
                esc(ago(float(eta)) if isinstance(eta, int | float) else "-"),
            ]
        )
    return table(messages.COLS_PREDICTIONS, rows, "predictions")


def signin_page(wrong: bool) -> str:
    """The sign-in form (POSTs the token; it never appears in a URL)."""
    error = f'<p class="error" role="alert">{esc(messages.SIGNIN_WRONG)}</p>' if wrong else ""
    form = (
        f"<p>{esc(messages.SIGNIN_PROMPT)}</p>{error}"
        '<form method="post" action="/dashboard/signin" class="signin">'
        f'<label for="token">{esc(messages.SIGNIN_LABEL)}</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required>'
        f'<button type="submit">{esc(messages.SIGNIN_BUTTON)}</button></form>'
    )
    return page(messages.SIGNIN_TITLE, form)
