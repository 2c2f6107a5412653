"""``selfreg`` commands typed by a named local user against a selfreg running in the test's
own process: the command runs in a worker thread (it calls ``asyncio.run`` itself) while the
test's loop serves the control socket."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from bot.cli import cli
from bot.runtime import Runtime


async def selfreg(runtime: Runtime, user: str, *args: str) -> Result:
    """``selfreg ARGS`` typed by the local user ``user``, against the running instance."""
    env = {
        "LOGNAME": user,
        "SELFREG_DATA_DIR": str(runtime.booted.data_dir),
        "SELFREG_CONFIG": str(runtime.booted.files[0]),
    }
    runner = CliRunner(env=env)
    return await asyncio.to_thread(runner.invoke, cli, list(args), catch_exceptions=False)
