"""Sentences about Alertmanager: the webhook's refusals, its config problems, and the alerts
selfreg sends to it. The alerts' own summaries are written by ``checks.alertmanager``."""

from __future__ import annotations


def alertmanager_base_url() -> str:
    """``[alerts.alertmanager] url`` is the base URL; selfreg adds /api/v2/alerts."""
    return (
        "url is Alertmanager's base URL (e.g. http://127.0.0.1:9093); selfreg adds /api/v2/alerts"
    )


def alertmanager_route_unknown(index: int, action: str) -> str:
    """A route names an action that is not configured."""
    return f'alertmanager.routes[{index}]: action "{action}" is not an [[actions]] entry'


def alertmanager_check_clash(name: str) -> str:
    """``[alertmanager] check`` names a check written in ``[[checks]]``."""
    return (
        f'alertmanager.check "{name}" is also the name of a [[checks]] entry; '
        "give the alerts' check another name"
    )


def alertmanager_token_unset(variable: str) -> str:
    """The hook's answer while its token variable is empty (every POST refused)."""
    return f"selfreg refuses Alertmanager's webhook: {variable} is not set"


def alertmanager_token_refused() -> str:
    """The hook's answer to a missing or wrong bearer token."""
    return "this route needs Authorization: Bearer <the [alertmanager] token>"


def alertmanager_bad_payload(why: str) -> str:
    """The hook's answer to a body that is not an Alertmanager webhook (version 4)."""
    return f"not an Alertmanager webhook payload (version 4): {why}"


def alertmanager_received(alerts: int, recorded: int) -> str:
    """The hook's 200 answer: how many alerts came and how many were news."""
    return f"{alerts} alert(s) received, {recorded} recorded ({alerts - recorded} stale)"


def alertmanager_unreachable(where: str, why: str) -> str:
    """Sending to Alertmanager failed before it answered."""
    return f"cannot reach Alertmanager at {where}: {why}"


def alertmanager_answered(where: str, status: int, detail: str) -> str:
    """Alertmanager answered a POST of alerts with an error."""
    return f"Alertmanager at {where} answered {status}" + (f": {detail}" if detail else "")
