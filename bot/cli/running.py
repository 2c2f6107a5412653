"""The control-socket client: what the CLI asks the running instance of its data folder."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Sequence
from typing import Any

from bot import control
from bot.cli.shell import EXIT_REFUSED, EXIT_USAGE, fail
from bot.config import LoadedConfig
from bot.control import observation_dict
from bot.errors import UserError


def ask_running(
    config: LoadedConfig,
    method: str,
    route: str,
    *,
    body: dict[str, Any] | None = None,
    timeout: float = 60.0,
    not_running: str | None = None,
) -> dict[str, Any] | None:
    """The running instance's answer through its control socket. A refusal exits 1 (an
    unmapped user, a permission), bad input 64, any other error answer 2; none running
    exits 2 with ``not_running`` when given, else is None."""
    try:
        answer = asyncio.run(
            control.ask(config.control_socket, method, route, timeout=timeout, body=body)
        )
    except PermissionError as exc:
        fail(str(exc), EXIT_REFUSED)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except LookupError as exc:
        fail(str(exc))
    if answer is None and not_running is not None:
        fail(not_running)
    return answer


def local_user() -> str:
    """Who runs this command: the local user name (``[cli] users`` maps it to an approver)."""
    return getpass.getuser()


def run_checks(config: LoadedConfig, names: Sequence[str] | None) -> list[dict[str, Any]]:
    """Ask the running instance to run checks now; run them here when none runs."""
    route = "/health" if names is None else f"/checks/{names[0]}/run"
    try:
        answer = asyncio.run(control.ask(config.control_socket, "POST", route))
    except LookupError as exc:
        raise UserError(str(exc)) from None
    if answer is not None:
        return list(answer["observations"])
    from bot.runtime import run_checks_alone  # the whole product: only when none runs

    observations = asyncio.run(run_checks_alone(config, names))
    return [observation_dict(o) for o in observations]
