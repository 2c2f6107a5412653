"""``selfreg approve``, ``deny`` and ``reload``: decisions the running instance carries out."""

from __future__ import annotations

import getpass
import sys

import click

from bot import messages
from bot.cli.running import ask_running
from bot.cli.shell import EXIT_FAILING, EXIT_OK, EXIT_WARNING, config_option, load


def _decide(config_file: str | None, proposal: int, verb: str, reason: str = "") -> None:
    config = load(config_file)
    answer = ask_running(
        config,
        "POST",
        f"/proposals/{proposal}/{verb}",
        body={"actor": getpass.getuser(), "reason": reason},
        not_running=messages.proposals_need_running(),
    )
    assert answer is not None
    click.echo(answer["reason"])
    sys.exit(EXIT_OK if answer["allowed"] else EXIT_WARNING)


@click.command()
@config_option
def reload(config_file: str | None) -> None:
    """Reload the running instance's config now (what SIGHUP and `/selfreg reload` do).

    Exit 0 when the new config applies (or nothing changed), 2 when it is refused (the
    running instance keeps the old one) or nothing runs with this data folder.
    """
    config = load(config_file)
    answer = ask_running(
        config,
        "POST",
        "/reload",
        body={"actor": getpass.getuser()},
        not_running=messages.reload_not_running(str(config.data_dir)),
    )
    assert answer is not None
    click.echo(answer["text"])
    sys.exit(EXIT_OK if answer["ok"] else EXIT_FAILING)


@click.command()
@config_option
@click.argument("proposal", type=int)
def approve(config_file: str | None, proposal: int) -> None:
    """Approve PROPOSAL through the running instance, under the same policy as a Slack click.

    Recorded with your local user name; the control socket's file permissions decide who may.
    """
    _decide(config_file, proposal, "approve")


@click.command()
@config_option
@click.argument("proposal", type=int)
@click.option("--reason", default="", help="Why it is denied (recorded and shown in the thread).")
def deny(config_file: str | None, proposal: int, reason: str) -> None:
    """Deny PROPOSAL through the running instance; recorded with your local user name."""
    _decide(config_file, proposal, "deny", reason)
