"""``selfreg history CHECK [--range 7d] [--json]``: a check's trend per UTC day from the
rollups (min / mean / max per metric, availability, incidents), read from the store
read-only, running or not. ``history N`` (a number) stays the list of incidents."""

from __future__ import annotations

import time

import click

from bot import messages
from bot.cli.shell import EXIT_USAGE, echo_json, fail, load
from bot.engine.trend import trend, trend_document
from bot.store import open_store
from bot.store.history import all_series


def show_trend(config_file: str | None, check: str, word: str, as_json: bool) -> None:
    """Print the trend of ``check`` over ``word`` (1h, 24h, 7d, 30d); exit 64 for a check
    with no stored history."""
    config = load(config_file)
    if not config.db_path.exists():
        fail(messages.trend_unknown_check(check, []), EXIT_USAGE)
    store = open_store(config.db_path, readonly=True)
    try:
        known = sorted({s.check for s in all_series(store)})
        if check not in known:
            fail(messages.trend_unknown_check(check, known), EXIT_USAGE)
        now = time.time()
        found = trend(store, check, word, now)
    finally:
        store.close()
    if as_json:
        echo_json(trend_document(found))
        return
    click.echo("\n".join(messages.trend_lines(found, now)))
