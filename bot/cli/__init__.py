"""The ``selfreg`` command: a thin click shell over the runtime and the control socket.

    commands    the click group and ``main`` (the console-script entry, ``python -m bot``)
    shell       what every command shares: config loading, logging, exit codes, ``fail``
    running     the control-socket client: asking the running instance
    lifecycle   run, start, stop, restart
    observe     health, status, check run
    configure   config check, config docs, config schema
    decide      approve, deny, reload
    operate     alerts, history, ack, silence, unsilence, run ACTION, component restart|stop|start
    logs        logs NAME [-f]: a component's output
    complete    shell completion of check, component and action names
    archive     audit verify / export, backup, backup list, restore
    predictors  models status, models train
    tables      terminal layout: aligned tables, colours, the status screen
    terminal    colours and the spinner, only where a person watches a terminal

This file imports nothing itself: ``bot.startup`` and ``bot.daemon`` use ``tables`` and
``terminal``, and the commands import them, so loading the commands here would make a
circle. ``main`` and ``cli`` load the commands when first used.
"""

from __future__ import annotations

from typing import Any


def main() -> None:
    """The ``selfreg`` console script (pyproject ``[project.scripts]``)."""
    from bot.ca_store import import_aiohttp

    import_aiohttp()  # before any command imports aiohttp: see bot.ca_store
    from bot.cli.commands import main as run_cli

    run_cli()


def __getattr__(name: str) -> Any:
    """``from bot.cli import cli``: the click group, loaded on first use."""
    if name == "cli":
        from bot.cli.commands import cli

        return cli
    raise AttributeError(f"module 'bot.cli' has no attribute {name!r}")
