"""``selfreg alerts``, ``history``, ``ack``, ``silence``, ``unsilence``, ``run`` and
``component restart|stop|start``: what a person does about incidents without Slack.

Reading (alerts, history) opens the store read-only, running or not. Acting goes through the
running instance's control socket (``bot.control.people``) as the approver ``[cli] users``
maps the local user to, under the same permissions, policy gate and audit as a Slack click.
Exit 0 done, 1 refused (unmapped user, permission, policy), 2 failed or not running, 64 usage.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

import click

from bot import messages
from bot.cli.complete import names_of
from bot.cli.running import ask_running, local_user
from bot.cli.shell import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Ref,
    config_option,
    echo_json,
    fail,
    json_option,
    load,
)
from bot.cli.trend import show_trend
from bot.engine.alert_messages import incident_snapshot
from bot.engine.trend import RANGES
from bot.errors import UnknownAction, UnknownComponent
from bot.records import Incident
from bot.store import incidents as rows
from bot.store import open_store


def _incidents(config_file: str | None, read: Callable[[Any], list[Incident]]) -> list[dict]:
    config = load(config_file)
    if not config.db_path.exists():
        return []
    store = open_store(config.db_path, readonly=True)
    try:
        return [incident_snapshot(i) for i in read(store)]
    finally:
        store.close()


@click.command()
@config_option
@json_option
def alerts(config_file: str | None, as_json: bool) -> None:
    """The open incidents (read from the store, whether or not selfreg runs)."""
    incidents = _incidents(config_file, rows.open_incidents)
    if as_json:
        echo_json({"incidents": incidents})
        return
    now = time.time()
    click.echo(messages.open_incidents_heading(len(incidents)))
    for incident in incidents:
        click.echo(messages.status_incident_line(incident, now))


@click.command()
@config_option
@json_option
@click.option(
    "--range",
    "span",
    type=click.Choice(list(RANGES)),
    default="24h",
    show_default=True,
    help="How far back a CHECK's trend goes.",
)
@click.argument("what", metavar="[N|CHECK]", required=False)
def history(config_file: str | None, as_json: bool, span: str, what: str | None) -> None:
    """The last N incidents (default 10), newest first, open and resolved; or, given a
    CHECK, its trend per day from the rollups (min / mean / max, availability, incidents)."""
    if what is not None and not what.isdigit():
        show_trend(config_file, what, span, as_json)
        return
    count = max(int(what), 1) if what is not None else 10
    incidents = _incidents(config_file, lambda store: rows.recent_incidents(store, count))
    if as_json:
        echo_json({"incidents": incidents})
        return
    if not incidents:
        click.echo(messages.no_incidents_yet())
        return
    now = time.time()
    click.echo(messages.cli_history_heading(len(incidents)))
    for incident in incidents:
        click.echo(messages.cli_history_line(incident, now))


def act(
    config_file: str | None,
    command: str,
    route: str,
    as_json: bool,
    named: tuple[str, str] | None = None,
    **body: Any,
) -> NoReturn:
    """Ask the running instance to act as this local user; print its answer; exit by it.
    ``named`` (section, name): a name the config does not list is a usage error (64), as
    for ``check run``, before anything is asked."""
    config = load(config_file)
    if named is not None:
        _require_name(config.settings, *named)
    answer = ask_running(
        config,
        "POST",
        route,
        body={"user": local_user(), **body},
        timeout=600,
        not_running=messages.needs_running(command, str(config.data_dir)),
    )
    assert answer is not None
    if as_json:
        echo_json(answer)
    else:
        click.echo(messages.plain_text(answer["text"]))
    sys.exit(EXIT_OK if answer["ok"] else EXIT_REFUSED)


def _require_name(settings: Any, section: str, name: str) -> None:
    """Exit 64 naming the configured ones when ``name`` is not among ``section``'s."""
    known = sorted(entry.name for entry in getattr(settings, section))
    if name not in known:
        error = (
            UnknownComponent(name, known) if section == "components" else UnknownAction(name, known)
        )
        fail(str(error), EXIT_USAGE)


@click.command()
@config_option
@json_option
@click.argument("incident", type=Ref())
def ack(config_file: str | None, as_json: bool, incident: int) -> None:
    """Acknowledge INCIDENT: its escalation stops (as the Acknowledge button)."""
    act(config_file, "ack", f"/incidents/{incident}/ack", as_json)


@click.command()
@config_option
@json_option
@click.argument("matcher")
@click.argument("duration")
@click.option("--reason", default="", help="Why (shown with the silence).")
@click.option("--from", "starts", metavar="TIME", help="Start later: 2026-12-01T02:00Z (UTC).")
def silence(
    config_file: str | None,
    as_json: bool,
    matcher: str,
    duration: str,
    reason: str,
    starts: str | None,
) -> None:
    """Silence incidents matching MATCHER for DURATION, e.g. `silence 'check=api*' 2h`.

    MATCHER is a check glob, or check=, subject=, severity= and fingerprint= joined by
    commas. With --from it is a maintenance window starting then.
    """
    act(
        config_file, "silence", "/silences", as_json,
        matcher=matcher, duration=duration, reason=reason, **{"from": starts},
    )  # fmt: skip


@click.command()
@config_option
@json_option
@click.argument("silence_id", metavar="ID", type=Ref())
def unsilence(config_file: str | None, as_json: bool, silence_id: int) -> None:
    """End the silence ID."""
    act(config_file, "unsilence", f"/silences/{silence_id}/end", as_json)


def run_action(
    config_file: str | None, action: str, incident: int | None, as_json: bool
) -> NoReturn:
    """``selfreg run ACTION [INCIDENT]``: propose the action as this person, approved by them
    at once when the gate allows (as ``/selfreg run``); else it waits for approvers."""
    route = f"/actions/{action}/run"
    act(config_file, "run", route, as_json, named=("actions", action), incident=incident)


@click.group("component")
def component_group() -> None:
    """Restart, stop or start a supervised component through the running instance."""


def _component_command(verb: str, doc: str) -> click.Command:
    @config_option
    @json_option
    @click.argument("name", shell_complete=names_of("components"))
    def command(config_file: str | None, as_json: bool, name: str) -> None:
        route = f"/components/{name}/{verb}"
        act(config_file, "component", route, as_json, named=("components", name))

    command.__doc__ = doc
    return component_group.command(verb)(command)


_component_command("restart", "Restart every instance of the component NAME; wait until ready.")
_component_command("stop", "Stop the component NAME and keep it stopped until started.")
_component_command("start", "Start the component NAME (also after a crash loop); wait until ready.")
