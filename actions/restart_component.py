"""``restart_component``: restart every instance of one supervised component.

Declarations only: ``actions.component.ComponentAction`` runs it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.component import ComponentAction, ComponentSpec


class RestartComponentSpec(ComponentSpec):
    """An ``[[actions]]`` entry of kind ``restart_component``."""

    kind: Literal["restart_component"] = Field(description='Always "restart_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to restart.")


class RestartComponent(ComponentAction):
    """Ask the supervisor to restart a configured component (stop, then start again)."""

    Spec = RestartComponentSpec
    verb = "restart"
