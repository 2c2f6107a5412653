"""The ``selfreg`` click group: every command, gathered from its topic module.

A command's module is imported only when that command is looked up (``COMMANDS`` names
where each lives), so ``selfreg status`` does not pay for the Slack app, the web server
and the models that ``selfreg run`` needs: docs/reliability.md, "Load and growth".
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path

import click
from dotenv import load_dotenv

from bot import __version__
from bot.cli.shell import SelfregGroup, global_options

COMMANDS: dict[str, str] = {
    "run": "lifecycle:run",
    "start": "lifecycle:start",
    "stop": "lifecycle:stop",
    "restart": "lifecycle:restart",
    "health": "observe:health",
    "status": "observe:status",
    "check": "observe:check_group",
    "config": "configure:config_group",
    "reload": "decide:reload",
    "approve": "decide:approve",
    "deny": "decide:deny",
    "audit": "archive:audit_group",
    "backup": "archive:backup_group",
    "restore": "archive:restore",
    "models": "predictors:models_group",
    "alerts": "operate:alerts",
    "history": "operate:history",
    "ack": "operate:ack",
    "silence": "operate:silence",
    "unsilence": "operate:unsilence",
    "component": "operate:component_group",
    "logs": "logs:logs",
    "plan": "plan:plan_group",
}


class LazyGroup(SelfregGroup):
    """The group whose commands are imported from ``COMMANDS`` when first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(f"bot.cli.{module}"), attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, with "Did you mean" drawn from every command, loaded or not."""
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchCommand as exc:
            names = self.list_commands(ctx)
            exc.possibilities = difflib.get_close_matches(exc.command_name, names) or None
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="selfreg")
@global_options
def cli() -> None:
    """selfreg: a Slack-first, self-regulating monitor.

    Exit codes: 0 ok, 1 refused or warning, 2 failed or critical, 3 unknown, 64 usage error.
    Shell completion: eval "$(_SELFREG_COMPLETE=bash_source selfreg)" (zsh_source, fish_source).
    """


def main() -> None:
    """Entry point: load ./.env (never overriding the real environment), then run the CLI.
    Named ``selfreg`` however it was started (``python -m bot`` too), so usage lines, hints
    and shell completion (``_SELFREG_COMPLETE``) are the same."""
    load_dotenv(Path.cwd() / ".env", override=False)
    cli(prog_name="selfreg")
