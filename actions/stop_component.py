"""``stop_component``: stop every instance of one supervised component (until started again).

Declarations only: ``actions.component.ComponentAction`` runs it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.component import ComponentAction, ComponentSpec


class StopComponentSpec(ComponentSpec):
    """An ``[[actions]]`` entry of kind ``stop_component``."""

    kind: Literal["stop_component"] = Field(description='Always "stop_component".')
    component: str = Field(min_length=1, description="The [[components]] entry to stop.")


class StopComponent(ComponentAction):
    """Ask the supervisor to stop a configured component and keep it stopped."""

    Spec = StopComponentSpec
    verb = "stop"
