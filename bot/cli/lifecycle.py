"""``selfreg run``, ``start``, ``stop`` and ``restart``: selfreg's own life cycle."""

from __future__ import annotations

import asyncio
import sys

import click

from bot import daemon, interpreter, messages
from bot.cli import shell
from bot.cli.complete import names_of
from bot.cli.operate import run_action
from bot.cli.shell import EXIT_OK, Ref, config_option, duration, fail, load, setup_logging
from bot.cli.terminal import wants_colour
from bot.errors import UserError
from bot.startup import run_foreground

start_timeout_option = click.option(
    "--timeout",
    "start_timeout",
    default="120s",
    show_default=True,
    help="Give up (and stop it again) if it is not running after this long.",
)
stop_timeout_option = click.option(
    "--timeout",
    "stop_timeout",
    default="30s",
    show_default=True,
    help="Wait this long for a graceful stop, then SIGKILL.",
)


@click.command()
@config_option
@click.option("--detached", is_flag=True, hidden=True, help="Started by `selfreg start`.")
@click.option("--json", "as_json", is_flag=True, help="With ACTION: print the answer as JSON.")
@click.argument("action", required=False, shell_complete=names_of("actions"))
@click.argument("incident", required=False, type=Ref())
def run(
    config_file: str | None,
    detached: bool,
    as_json: bool,
    action: str | None,
    incident: int | None,
) -> None:
    """Run selfreg in the foreground until Ctrl-C or SIGTERM (what the Procfile starts).

    Prints each start-up step with its outcome; a failed step stops everything it had
    started and exits 2.

    With ACTION: ask the running selfreg to run that configured action (for INCIDENT, if
    given) as you, through the same policy gate as `/selfreg run` in Slack: it runs at once
    when you may approve it, else it waits for the approvers. Exit 0 when it runs, 1 when
    it waits (for approvers, a cooldown) or is refused.
    """
    if action is not None:
        run_action(config_file, action, incident, as_json)
    interpreter.reexec_optimized()
    config = load(config_file)
    setup_logging(config.log_level, config.log_format)
    try:
        code = asyncio.run(run_foreground(config, detached=detached))
    except UserError as exc:
        fail(str(exc))
    sys.exit(code)


def _start(config_file: str | None, timeout: str) -> int:
    config = load(config_file)
    return daemon.start(
        config,
        shell.config_file(config_file),
        echo=click.echo,
        echo_err=lambda text: click.echo(messages.cli_error(text), err=True),
        timeout=duration("--timeout", timeout),
        interactive=wants_colour(sys.stdout),
    )


def _stop(config_file: str | None, timeout: str) -> int:
    config = load(config_file)
    return daemon.stop(config, echo=click.echo, timeout=duration("--timeout", timeout))


@click.command()
@config_option
@start_timeout_option
def start(config_file: str | None, start_timeout: str) -> None:
    """Start selfreg in the background; show its start-up steps; exit 0 once it runs, else 2.

    Output goes to <data>/selfreg.log, the pid to <data>/selfreg.pid. Refused (exit 2) when
    a selfreg already runs with this data folder; a stale pid file is replaced.
    """
    sys.exit(_start(config_file, start_timeout))


@click.command()
@config_option
@stop_timeout_option
def stop(config_file: str | None, stop_timeout: str) -> None:
    """Stop the selfreg of this data folder: SIGTERM, then SIGKILL after --timeout.

    Exit 0 when it is stopped, and also when none was running (like systemctl stop).
    """
    sys.exit(_stop(config_file, stop_timeout))


@click.command()
@config_option
@stop_timeout_option
@click.option(
    "--start-timeout",
    "start_timeout",
    default="120s",
    show_default=True,
    help="Give up (and stop it again) if it is not running after this long.",
)
def restart(config_file: str | None, stop_timeout: str, start_timeout: str) -> None:
    """Stop selfreg (if it runs), then start it in the background (as stop, then start)."""
    code = _stop(config_file, stop_timeout)
    if code != EXIT_OK:
        sys.exit(code)
    sys.exit(_start(config_file, start_timeout))
