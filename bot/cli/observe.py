"""``selfreg health``, ``status`` and ``check run``: what the checks say now."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Sequence

import click

from bot import control, messages, status_facts
from bot.cli import tables
from bot.cli.complete import names_of
from bot.cli.running import run_checks
from bot.cli.shell import (
    EXIT_FAILING,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    EXIT_WARNING,
    config_option,
    echo_json,
    fail,
    json_option,
    load,
    setup_logging,
)
from bot.cli.terminal import wants_colour
from bot.engine.status import status_from_store
from bot.errors import UnknownCheck, UserError
from bot.store import open_store


def _exit_code(statuses: Sequence[str]) -> int:
    """The Nagios plugin convention, worst first: 2 critical, 3 unknown, 1 warning, 0 ok."""
    for status, code in (
        ("critical", EXIT_FAILING),
        ("unknown", EXIT_UNKNOWN),
        ("warning", EXIT_WARNING),
    ):
        if status in statuses:
            return code
    return EXIT_OK


@click.command()
@config_option
@json_option
def health(config_file: str | None, as_json: bool) -> None:
    """Run every check once now and print the result.

    Exit as Nagios plugins do: 0 ok, 1 warning, 2 critical, 3 unknown (a check could not
    tell, or the config does not load); 64 for a usage error.

    Asks the running instance when there is one. Either way nothing is recorded: no log
    offset advances and no transition is made.
    """
    config = load(config_file, EXIT_UNKNOWN)
    setup_logging("WARNING")
    try:
        observations = run_checks(config, None)
    except UserError as exc:
        fail(str(exc), EXIT_UNKNOWN)
    statuses = [o["status"] for o in observations]
    if as_json:
        echo_json({"observations": observations})
    else:
        click.echo(tables.observations_table(observations))
        click.echo(messages.health_verdict(Counter(statuses)))
    sys.exit(_exit_code(statuses))


@click.command()
@config_option
@json_option
def status(config_file: str | None, as_json: bool) -> None:
    """Show selfreg, its components, checks by state, open incidents and pending approvals.

    Asks the running instance; when none runs, reads what the store last recorded.
    """
    config = load(config_file)
    document = asyncio.run(control.ask(config.control_socket, "GET", "/status"))
    if document is None:
        if not config.db_path.exists():
            click.echo(messages.never_ran(str(config.data_dir)))
            sys.exit(EXIT_OK)
        store = open_store(config.db_path, readonly=True)
        try:
            document = status_from_store(store, time.time())
        finally:
            store.close()
    document = status_facts.add_facts(document, config)
    if as_json:
        echo_json(document)
    else:
        click.echo(tables.status_screen(document, time.time(), wants_colour(sys.stdout)))


@click.group("check")
def check_group() -> None:
    """Work with single checks."""


@check_group.command("run")
@config_option
@click.argument("name", shell_complete=names_of("checks"))
@json_option
def check_run(config_file: str | None, name: str, as_json: bool) -> None:
    """Run the check NAME once now and print its observations (records nothing).

    Exit 0 ok, 1 warning, 2 critical, 3 unknown (as a Nagios plugin); 64 when NAME is not a
    configured check.
    """
    config = load(config_file, EXIT_UNKNOWN)
    setup_logging("WARNING")
    known = sorted(spec.name for spec in config.settings.checks)
    if name not in known:
        fail(str(UnknownCheck(name, known)), EXIT_USAGE)
    try:
        observations = run_checks(config, [name])
    except UserError as exc:
        fail(str(exc), EXIT_UNKNOWN)
    if as_json:
        echo_json({"observations": observations})
    else:
        click.echo(tables.observations_table(observations))
        for observation in observations:
            what = messages.subject_label(observation["check"], observation["subject"])
            for metric, value in sorted(observation["values"].items()):
                click.echo(messages.metric_line(what, metric, value))
    sys.exit(_exit_code([o["status"] for o in observations]))
