"""``Section``: the base of every table in ``selfreg.toml``. An unknown key is an error,
never silently ignored (a typo would otherwise leave a default in force)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A table of settings; keys it does not declare are refused."""

    model_config = ConfigDict(extra="forbid")
