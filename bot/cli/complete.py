"""Shell completion of the names in the config: checks, components and actions.

click's own completion (``_SELFREG_COMPLETE=bash_source selfreg``, also ``zsh_source`` and
``fish_source``) asks these for an argument's candidates. The config is the one the command
line names (``-c``, before or after the subcommand) or the default one; a config that does
not load completes nothing rather than printing an error into the shell.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from click.shell_completion import CompletionItem

from bot.cli.shell import load_quietly
from bot.errors import SelfregError

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def names_of(section: str) -> Completer:
    """Complete an argument with the names of ``section`` (checks, components or actions)."""

    def complete(ctx: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            config = load_quietly(ctx.params.get("config_file"), ctx)
        except (SelfregError, OSError):
            return []
        names = sorted(entry.name for entry in getattr(config.settings, section))
        return [CompletionItem(name) for name in names if name.startswith(incomplete)]

    return complete
