"""The ``selfreg`` click group: every command, gathered from its topic module."""

from __future__ import annotations

from pathlib import Path

import click
from dotenv import load_dotenv

from bot import __version__
from bot.cli import archive, configure, decide, lifecycle, logs, observe, operate, predictors
from bot.cli.plan import plan_group
from bot.cli.shell import SelfregGroup, global_options


@click.group(cls=SelfregGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="selfreg")
@global_options
def cli() -> None:
    """selfreg: a Slack-first, self-regulating monitor.

    Exit codes: 0 ok, 1 refused or warning, 2 failed or critical, 3 unknown, 64 usage error.
    Shell completion: eval "$(_SELFREG_COMPLETE=bash_source selfreg)" (zsh_source, fish_source).
    """


for command in (
    lifecycle.run,
    lifecycle.start,
    lifecycle.stop,
    lifecycle.restart,
    observe.health,
    observe.status,
    observe.check_group,
    configure.config_group,
    decide.reload,
    decide.approve,
    decide.deny,
    archive.audit_group,
    archive.backup_group,
    archive.restore,
    predictors.models_group,
    operate.alerts,
    operate.history,
    operate.ack,
    operate.silence,
    operate.unsilence,
    operate.component_group,
    logs.logs,
    plan_group,
):
    cli.add_command(command)


def main() -> None:
    """Entry point: load ./.env (never overriding the real environment), then run the CLI.
    Named ``selfreg`` however it was started (``python -m bot`` too), so usage lines, hints
    and shell completion (``_SELFREG_COMPLETE``) are the same."""
    load_dotenv(Path.cwd() / ".env", override=False)
    cli(prog_name="selfreg")
