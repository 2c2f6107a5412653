"""``selfreg approve``, ``deny`` and ``reload``: decisions the running instance carries out.

Approve and deny act as the approver ``[cli] users`` maps the local user to, under the one
policy gate: the approver list, the two-person rule (the same person through Slack and the
terminal is one person), budgets; recorded in the audit with the door ``cli``.
"""

from __future__ import annotations

import sys

import click

from bot import messages
from bot.cli.operate import act
from bot.cli.running import ask_running, local_user
from bot.cli.shell import EXIT_FAILING, EXIT_OK, Ref, config_option, echo_json, json_option, load


@click.command()
@config_option
@json_option
def reload(config_file: str | None, as_json: bool) -> None:
    """Reload the running instance's config now (what SIGHUP and `/selfreg reload` do).

    Exit 0 when the new config applies (or nothing changed), 2 when it is refused (the
    running instance keeps the old one) or nothing runs with this data folder.
    """
    config = load(config_file)
    answer = ask_running(
        config,
        "POST",
        "/reload",
        body={"user": local_user()},
        not_running=messages.reload_not_running(str(config.data_dir)),
    )
    assert answer is not None
    if as_json:
        echo_json(answer)
    else:
        click.echo(messages.plain_text(answer["text"]))
    sys.exit(EXIT_OK if answer["ok"] else EXIT_FAILING)


@click.command()
@config_option
@json_option
@click.argument("proposal", type=Ref("P"))
def approve(config_file: str | None, as_json: bool, proposal: int) -> None:
    """Approve PROPOSAL through the running instance, under the same policy as a Slack click.

    You act as the approver [cli] users maps your local user name to; exit 0 approved, 1
    refused (not mapped, not an approver, two-person rule, budget ...), 2 not running.
    """
    act(config_file, "approve", f"/proposals/{proposal}/approve", as_json)


@click.command()
@config_option
@json_option
@click.argument("proposal", type=Ref("P"))
@click.option("--reason", default="", help="Why it is denied (recorded and shown in the thread).")
def deny(config_file: str | None, as_json: bool, proposal: int, reason: str) -> None:
    """Deny PROPOSAL through the running instance, as the approver [cli] users maps you to."""
    act(config_file, "deny", f"/proposals/{proposal}/deny", as_json, reason=reason)
