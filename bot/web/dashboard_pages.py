"""The dashboard's other pages: one check, one incident, and the history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from bot import messages
from bot.engine.charts import Chart
from bot.engine.trend import RANGES
from bot.records import Incident
from bot.store.timeline import Step
from bot.web.dashboard_html import (
    ago,
    check_link,
    esc,
    incident_row,
    number,
    page,
    section,
    state,
    table,
    when,
)
from bot.web.svg import chart_svg


def _ranges(base: str, current: str, extra: Mapping[str, str] | None = None) -> str:
    links = []
    for word in RANGES:
        query = urlencode({**(extra or {}), "range": word})
        cls = ' class="current" aria-current="page"' if word == current else ""
        links.append(f'<a href="{esc(base)}?{esc(query)}"{cls}>{esc(word)}</a>')
    return f'<nav class="ranges">{"".join(links)}</nav>'


def _charts(charts: list[Chart], label: str, shade: tuple[float, float] | None = None) -> str:
    parts = []
    for chart in charts:
        s = chart.series
        title = f"{s.subject} {s.metric}".strip()
        drawn = chart.points or chart.bands
        body = (
            chart_svg(chart, label, shade)
            if drawn
            else f'<p class="none">{esc(messages.dash_no_data(s.metric))}</p>'
        )
        limits = ", ".join(f"{n} {number(v)}" for n, v, _ in chart.limits)
        parts.append(
            f'<figure class="metric" id="metric-{s.id}"><figcaption>{esc(title)}'
            f'<span class="small">{esc(limits)}</span></figcaption>{body}</figure>'
        )
    return "".join(parts) or f'<p class="none">{esc(messages.DASH_NONE)}</p>'


def check_page(
    name: str, word: str, charts: list[Chart], incidents: list[Incident], now: float
) -> str:
    """A check: each metric over the chosen range, then the check's incidents."""
    body = _ranges(f"/dashboard/check/{quote(name, safe='')}", word)
    body += _charts(charts, word)
    rows = [incident_row(i, now) for i in incidents]
    body += section(
        messages.DASH_HISTORY_INCIDENTS, table(messages.COLS_INCIDENTS, rows), "incidents"
    )
    return page(name, body)


def incident_page(
    incident: Incident, steps: list[Step], charts: list[Chart], slack: str | None, now: float
) -> str:
    """An incident: its state, link to Slack, its metric around it, and every step."""
    word = incident.state.value
    head = (
        f'<p class="overall s-{esc("ok" if word == "resolved" else incident.severity.value)}" '
        f'id="incident-state">{state(word)} {esc(incident.severity.value)} · '
        f"{check_link(incident.check)} {esc(incident.subject)} · {esc(incident.summary)}</p>"
    )
    if slack:
        head += (
            f'<p><a href="{esc(slack)}" rel="noopener">{esc(messages.dash_slack_link())}</a></p>'
        )
    lasted = (incident.resolved_at or now) - incident.opened_at
    head += f'<p class="small">{esc(when(incident.opened_at))} · {esc(ago(lasted))}</p>'
    rows = [[esc(when(s.at)), esc(s.kind), esc(s.actor or "-"), esc(s.text)] for s in steps]
    body = (
        head
        + _charts(charts, "", (incident.opened_at, incident.resolved_at or now))
        + section(messages.DASH_TIMELINE, table(messages.COLS_STEPS, rows, "steps"), "timeline")
    )
    live = f"/dashboard/events?incident={incident.id}" if incident.is_open else ""
    return page(f"Incident {incident.id}", body, state(word), live=live)


def _select(name: str, choices: list[str], current: str) -> str:
    options = [f'<option value="">{esc(name)}: all</option>'] + [
        f'<option value="{esc(c)}"{" selected" if c == current else ""}>{esc(c)}</option>'
        for c in choices
    ]
    return f'<select name="{esc(name)}" aria-label="{esc(name)}">{"".join(options)}</select>'


def _filters(found: Mapping[str, Any], filters: Mapping[str, str], word: str) -> str:
    choices = found["choices"]
    audit_kinds = ["proposal", "run", "switch", "shadow"]
    return (
        '<form method="get" action="/dashboard/history" class="filters">'
        + _select("check", choices["checks"], filters.get("check", ""))
        + _select("severity", choices["severity"], filters.get("severity", ""))
        + _select("kind", choices["kind"], filters.get("kind", ""))
        + _select("audit", audit_kinds, filters.get("audit", ""))
        + _select("range", list(RANGES), word)
        + f'<button type="submit">{esc(messages.DASH_FILTER)}</button></form>'
    )


def history_page(
    found: Mapping[str, Any], filters: Mapping[str, str], word: str, now: float
) -> str:
    """History: filtered incidents and audit rows, availability per day, daily trends."""
    incidents = [
        [
            f'<a href="/dashboard/incident/{i.id}">{i.id}</a>',
            esc(when(i.opened_at)),
            check_link(i.check) + esc(_rest(i)),
            esc(i.kind.value),
            state(i.severity.value),
            state(i.state.value),
            esc(ago((i.resolved_at or now) - i.opened_at)),
        ]
        for i in found["incidents"]
    ]
    audit = [
        [esc(when(r["at"])), esc(r["kind"]), esc(r["actor"]), esc(r["subject"]), esc(r["detail"])]
        for r in found["audit"]
    ]
    body = _filters(found, filters, word)
    body += section(
        messages.DASH_HISTORY_INCIDENTS, table(messages.COLS_HISTORY, incidents), "incidents"
    )
    body += section(messages.DASH_AUDIT, table(messages.COLS_AUDIT, audit), "audit")
    body += section(messages.DASH_AVAILABILITY, _availability(found), "availability")
    body += section(messages.DASH_TRENDS, _trends(found), "trends")
    return page("History", body)


def _rest(incident: Incident) -> str:
    """What follows the check's link: its subject and summary, the summary's own leading
    check name left out."""
    label = messages.subject_label(incident.check, incident.subject)
    summary = incident.summary.removeprefix(label).lstrip(": ")
    return f"{' ' + incident.subject if incident.subject else ''}: {summary}"


def _availability(found: Mapping[str, Any]) -> str:
    days = [when(d)[:10] for d in found["days"]]
    rows = [
        [check_link(check)] + [esc("-" if a is None else f"{a * 100:.2f}%") for a in values]
        for check, values in found["availability"].items()
    ]
    return table(["check", *days], rows, "availability")


def _trends(found: Mapping[str, Any]) -> str:
    parts = []
    for series, days in found["trends"].items():
        rows = [
            [esc(when(d.day)[:10]), *(esc(number(v)) for v in (d.low, d.mean, d.p95, d.high))]
            for d in days
        ]
        if rows:
            title = f"{series.check} {series.subject} {series.metric}".replace("  ", " ")
            parts.append(f"<h3>{esc(title)}</h3>" + table(messages.COLS_TREND, rows, "trend"))
    return "".join(parts) or f'<p class="none">{esc(messages.DASH_NONE)}</p>'
