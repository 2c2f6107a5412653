"""``selfreg plan``: what is scheduled for quiet windows, the capacity horizon, and whether
automatic regulation is paused; ``plan schedule|cancel|pause|resume`` act through the running
instance as the approver ``[cli] users`` maps the local user to (door ``cli`` in the audit, as
``approve``)."""

from __future__ import annotations

import json

import click

from bot import messages
from bot.cli.operate import act
from bot.cli.running import ask_running
from bot.cli.shell import config_option, json_option, load
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


@plan_group.command("schedule")
@config_option
@json_option
@click.argument("proposal", type=int)
def plan_schedule(config_file: str | None, as_json: bool, proposal: int) -> None:
    """Approve PROPOSAL for its check's next quiet window (cancellable until it runs)."""
    act(config_file, "plan schedule", f"/plan/schedule/{proposal}", as_json)


@plan_group.command("cancel")
@config_option
@json_option
@click.argument("run", type=int)
def plan_cancel(config_file: str | None, as_json: bool, run: int) -> None:
    """Cancel scheduled RUN before it starts."""
    act(config_file, "plan cancel", f"/plan/cancel/{run}", as_json)


@plan_group.command("pause")
@config_option
@json_option
def plan_pause(config_file: str | None, as_json: bool) -> None:
    """Pause automatic regulation: moves are proposed to people instead."""
    act(config_file, "plan pause", "/plan/pause", as_json)


@plan_group.command("resume")
@config_option
@json_option
def plan_resume(config_file: str | None, as_json: bool) -> None:
    """Resume automatic regulation (after a pause or the circuit breaker; admins)."""
    act(config_file, "plan resume", "/plan/resume", as_json)
