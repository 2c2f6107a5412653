"""The ``[backup]`` section: where backups go, how many are kept, and an optional schedule.

A module of its own like ``alerts``; ``schema`` assembles it into the whole file.
"""

from __future__ import annotations

from pydantic import Field

from bot.config.base import Section
from common.units import Duration


class BackupSettings(Section):
    """``[backup]``: one archive per backup (the store, copied online, plus the config files)."""

    folder: str = Field(
        default="backups",
        description="Where archives are written, relative to the data folder (or absolute).",
    )
    keep: int = Field(
        default=10,
        ge=1,
        description="Archives kept in the folder (and in copy_to); older ones are deleted "
        "after each new backup.",
    )
    every: Duration | None = Field(
        default=None,
        gt=0,
        description='The running instance makes a backup this often, e.g. "6h"; none: only '
        "on demand and at start.",
    )
    on_start: bool = Field(
        default=True,
        description="Back up the store before every start (skipped while there is none).",
    )
    copy_to: str | None = Field(
        default=None,
        description="Also copy each new archive into this folder (a mounted share, another "
        "disk); use a folder of its own: keep prunes it too.",
    )
