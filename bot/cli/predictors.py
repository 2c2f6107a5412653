"""``selfreg models status`` and ``models train``: the predictors, live or from the store."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from bot import messages
from bot.cli.running import ask_running
from bot.cli.shell import config_option, echo_json, json_option, load, setup_logging
from bot.config import LoadedConfig
from bot.store import open_store


@click.group("models")
def models_group() -> None:
    """The predictors: what they have learned, and fitting them now."""


def _offline_predictor(config: LoadedConfig, store: Any) -> Any:
    """A predictor over the store and saved state, for when no instance is running."""
    from bot.clock import SystemClock
    from bot.engine.alerting import Alerting
    from bot.runtime.factories import make_predictor

    specs = {spec.name: spec for spec in config.settings.checks}
    clock = SystemClock()
    alerting = Alerting(store, clock, config.settings.alerts, specs, {})
    return make_predictor(config, store, clock, alerting)


def _models(config_file: str | None, route: str, as_json: bool) -> None:
    config = load(config_file)
    setup_logging("WARNING")
    method = "GET" if route == "/models" else "POST"
    answer = ask_running(config, method, route, timeout=600)
    if answer is not None:
        where = messages.fitted_where(running=True)
        rows = answer["models"]
    elif not config.db_path.exists():
        if as_json:
            echo_json({"models": []})
        else:
            click.echo(messages.never_ran(str(config.data_dir)))
        return
    else:
        where = messages.fitted_where(running=False)
        store = open_store(config.db_path, readonly=route == "/models")
        try:
            predictor = _offline_predictor(config, store)
            if route != "/models":
                predictor.warm_from_store()
                asyncio.run(predictor.retrain(force=True))
            rows = predictor.model_rows()
        finally:
            store.close()
    if as_json:
        echo_json({"models": rows})
    elif route == "/models":
        click.echo(messages.models_status(rows))
    else:
        click.echo(messages.models_trained(rows, where))


@models_group.command("status")
@config_option
@json_option
def models_status(config_file: str | None, as_json: bool) -> None:
    """Per model: on, trained, samples, last fit, precision and feedback counts."""
    _models(config_file, "/models", as_json)


@models_group.command("train")
@config_option
@json_option
def models_train(config_file: str | None, as_json: bool) -> None:
    """Fit the models now from the store's history (through the running instance if any)."""
    _models(config_file, "/models/train", as_json)
