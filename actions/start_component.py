"""``start_component``: start a stopped supervised component.

Declarations only: ``actions.component.ComponentAction`` runs it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.component import ComponentAction, ComponentSpec


class StartComponentSpec(ComponentSpec):
    """An ``[[actions]]`` entry of kind ``start_component``."""

    kind: Literal["start_component"] = Field(description='Always "start_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to start.")


class StartComponent(ComponentAction):
    """Ask the supervisor to start a configured component that is not running."""

    Spec = StartComponentSpec
    verb = "start"
