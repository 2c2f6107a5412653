"""What a config entry that runs a program is made of: its argv, working folder and extra
environment, each a pydantic ``Annotated`` type that refuses a bad value when the config loads.

Shared by every part that starts a program from config (the ``exec`` check, the
``run_command`` action), so the same entry is judged the same way everywhere.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import AfterValidator


def _argv(value: list[str]) -> list[str]:
    if not value or not value[0].strip():
        raise ValueError("the program (the first item) is empty")
    if any("\0" in part for part in value):
        raise ValueError("an argument holds a NUL character")
    return value


def _absolute(value: str) -> str:
    if not os.path.isabs(value):
        raise ValueError("must be an absolute path")
    return value


def _names(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not name or "=" in name or "\0" in name:
            raise ValueError(f"'{name}' is not an environment variable name")
    return value


Argv = Annotated[list[str], AfterValidator(_argv)]
"""A program and its arguments as a list, handed to exec as is (never to a shell)."""
AbsolutePath = Annotated[str, AfterValidator(_absolute)]
"""A path that does not depend on the folder selfreg was started in."""
EnvTable = Annotated[dict[str, str], AfterValidator(_names)]
"""Extra environment variables: names without '=' or NUL."""
