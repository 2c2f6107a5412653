"""``selfreg plan``: what is scheduled for quiet windows, the capacity horizon, and whether
automatic regulation is paused; ``plan schedule|cancel|pause|resume`` act through the running
instance (recorded as ``cli:<user>``, as ``approve`` is)."""

from __future__ import annotations

import getpass
import json

import click

from bot import messages
from bot.cli.running import ask_running
from bot.cli.shell import config_option, load
from bot.clock import SystemClock
from bot.engine.regulate.planning import plan_document
from bot.store import open_store


@click.group("plan", invoke_without_command=True)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_context
def plan_group(ctx: click.Context, config_file: str | None, as_json: bool) -> None:
    """Scheduled maintenance and the capacity horizon ("/data full in 23 d at this rate")."""
    if ctx.invoked_subcommand is not None:
        return
    config = load(config_file)
    document = ask_running(config, "GET", "/plan")
    if document is None:  # not running: the same plan, read from the store
        if not config.db_path.exists():
            click.echo(messages.never_ran(str(config.data_dir)))
            return
        store = open_store(config.db_path, readonly=True)
        try:
            specs = {c.name: c for c in config.settings.checks}
            document = plan_document(store, specs, SystemClock().now())
        finally:
            store.close()
    click.echo(json.dumps(document, indent=2) if as_json else messages.plan_text(document))


def _act(config_file: str | None, verb: str, number: int | None = None) -> None:
    config = load(config_file)
    route = f"/plan/{verb}" + (f"/{number}" if number is not None else "")
    answer = ask_running(
        config,
        "POST",
        route,
        body={"actor": getpass.getuser()},
        not_running=messages.plan_not_running(),
    )
    assert answer is not None
    click.echo(answer["text"])


@plan_group.command("schedule")
@config_option
@click.argument("proposal", type=int)
def plan_schedule(config_file: str | None, proposal: int) -> None:
    """Approve PROPOSAL for its check's next quiet window (cancellable until it runs)."""
    _act(config_file, "schedule", proposal)


@plan_group.command("cancel")
@config_option
@click.argument("run", type=int)
def plan_cancel(config_file: str | None, run: int) -> None:
    """Cancel scheduled RUN before it starts."""
    _act(config_file, "cancel", run)


@plan_group.command("pause")
@config_option
def plan_pause(config_file: str | None) -> None:
    """Pause automatic regulation: moves are proposed to people instead."""
    _act(config_file, "pause")


@plan_group.command("resume")
@config_option
def plan_resume(config_file: str | None) -> None:
    """Resume automatic regulation (after a pause or the circuit breaker)."""
    _act(config_file, "resume")
